package poll

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/x"
)

// snowflake is the id X gives a post made at t.
func snowflake(t time.Time, seq int64) string {
	return strconv.FormatInt((t.UnixMilli()-1288834974657)<<22|seq, 10)
}

// xSearchPage builds a recent-search page as X API v2 documents it, newest
// first: one tweet with exact coordinates, the others with a place joined
// from includes.places.
func xSearchPage(t *testing.T, next string, ids ...string) []byte {
	t.Helper()
	var data []map[string]any
	for i, id := range ids {
		n, _ := strconv.ParseUint(id, 10, 64)
		tw := map[string]any{
			"id": id, "text": "Sunset from the pier #sunset @friend", "author_id": "2244994945",
			"created_at":     time.UnixMilli(int64(n>>22) + 1288834974657).UTC().Format("2006-01-02T15:04:05.000Z"),
			"lang":           "en",
			"public_metrics": map[string]int{"retweet_count": 0, "reply_count": 1, "like_count": 4, "quote_count": 0, "impression_count": 120},
			"entities": map[string]any{
				"hashtags": []map[string]any{{"start": 23, "end": 30, "tag": "sunset"}},
				"mentions": []map[string]any{{"start": 31, "end": 38, "username": "friend", "id": "783214"}},
			},
		}
		if i == 0 {
			tw["geo"] = map[string]any{"coordinates": map[string]any{"type": "Point", "coordinates": []float64{145.090277, -37.899166}}, "place_id": "0118d0d7d5ea0ab4"}
		} else {
			tw["geo"] = map[string]any{"place_id": "0118d0d7d5ea0ab4"}
		}
		data = append(data, tw)
	}
	meta := map[string]any{"result_count": len(ids)}
	if len(ids) > 0 {
		meta["newest_id"], meta["oldest_id"] = ids[0], ids[len(ids)-1]
	}
	if next != "" {
		meta["next_token"] = next
	}
	page := map[string]any{"meta": meta}
	if len(ids) > 0 {
		page["data"] = data
		page["includes"] = map[string]any{
			"users": []map[string]any{{"id": "2244994945", "username": "pierwatcher", "name": "Pier Watcher",
				"profile_image_url": "https://pbs.twimg.com/profile_images/1/a_normal.jpg", "protected": false, "verified": false,
				"public_metrics": map[string]int{"followers_count": 310, "following_count": 180, "tweet_count": 5120, "listed_count": 3}}},
			"places": []map[string]any{{"id": "0118d0d7d5ea0ab4", "full_name": "Oakleigh, Victoria", "name": "Oakleigh",
				"country_code": "AU", "place_type": "city",
				"geo": map[string]any{"type": "Feature", "bbox": []float64{145.07, -37.92, 145.11, -37.88}, "properties": map[string]any{}}}},
		}
	}
	return mustJSON(t, page)
}

func xConfig(url string, places ...Target) Config {
	return Config{X: &XConfig{BaseURL: url, BearerToken: "x-token", MaxResults: 100, Places: places,
		Schedule: Schedule{Backfill: 3 * 24 * time.Hour, MaxPages: 10}}}
}

// TestXRestart: a run of three pages, stopped after the second; the
// restarted poller continues below the oldest post taken (until_id), then
// later rounds ask only for what is newer than the run's newest post.
func TestXRestart(t *testing.T) {
	for _, dec := range []struct {
		name   string
		decode source.DecodeFunc
	}{{"list", fakeDecoders().X}, {"x", x.Decode}} {
		t.Run(dec.name, func(t *testing.T) { testXRestart(t, dec.decode) })
	}
}

func testXRestart(t *testing.T, decode source.DecodeFunc) {
	e := newEnv(t)
	e.decode.X = decode
	id := func(h int) string { return snowflake(t0.Add(-time.Duration(h)*time.Hour), 0) }
	start := t0.Add(-3 * 24 * time.Hour).Format(time.RFC3339)
	query := "bounding_box:[145.000000 -37.950000 145.150000 -37.850000] -is:retweet"
	rp := newReplay(t,
		step{path: "/2/tweets/search/recent", want: map[string]string{"query": query, "start_time": start, "max_results": "100",
			"expansions": "author_id,geo.place_id,attachments.media_keys"},
			absent: []string{"since_id", "until_id", "next_token"}, body: xSearchPage(t, "tok2", id(5), id(4))},
		step{want: map[string]string{"next_token": "tok2", "start_time": start}, absent: []string{"since_id", "until_id"}, body: xSearchPage(t, "tok3", id(3), id(2))},
		// the restart: next_token died with the process; until_id does not
		step{want: map[string]string{"until_id": id(2), "start_time": start}, absent: []string{"since_id", "next_token"}, body: xSearchPage(t, "", id(1))},
		// the next round
		step{want: map[string]string{"since_id": id(5)}, absent: []string{"start_time", "until_id", "next_token"}, body: xSearchPage(t, "")},
	)
	cfg := xConfig(rp.URL(), melbourne)
	cfg.X.Filter = "-is:retweet"

	ctx, cancel := context.WithCancel(context.Background())
	e.sink.fail = func(n int, _ []source.Item) error {
		if n == 2 {
			cancel()
		}
		return nil
	}
	e.poller(cfg).Poll(ctx)
	e.sink.fail = nil
	if got, want := e.cursor("x/place/1"), `{"run":{"newest_id":"`+id(5)+`","until_id":"`+id(2)+`","start":`+strconv.FormatInt(t0.Add(-3*24*time.Hour).Unix(), 10)+`}}`; got != want {
		t.Errorf("cursor after page 2: %s, want %s", got, want)
	}
	p := e.poller(cfg)
	for range 2 {
		if err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	rp.done()
	ids := e.sink.ids()
	noRepeats(t, ids)
	if want := []string{id(5), id(4), id(3), id(2), id(1)}; !slices.Equal(ids, want) {
		t.Errorf("submitted %v, want %v", ids, want)
	}
	if got, want := e.cursor("x/place/1"), `{"since_id":"`+id(5)+`"}`; got != want {
		t.Errorf("cursor %s, want %s", got, want)
	}
	for _, r := range rp.reqs {
		if got := r.Header.Get("Authorization"); got != "Bearer x-token" {
			t.Errorf("Authorization %q", got)
		}
	}
}

// TestXRateLimit: X's window headers hold the poller until the reset, on
// a good answer as on a 429.
func TestXRateLimit(t *testing.T) {
	e := newEnv(t)
	id := func(h int) string { return snowflake(t0.Add(-time.Duration(h)*time.Hour), 0) }
	reset := func(d time.Duration) string { return strconv.FormatInt(t0.Add(d).Unix(), 10) }
	rp := newReplay(t,
		step{header: map[string]string{"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset(120 * time.Second)},
			body: xSearchPage(t, "tok2", id(3))},
		// the clock is now t0+121 s; the next window is used up as well
		step{status: 429, header: map[string]string{"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset(181 * time.Second)},
			body: []byte(`{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`)},
		step{want: map[string]string{"next_token": "tok2"}, header: map[string]string{"x-rate-limit-remaining": "448", "x-rate-limit-reset": reset(900 * time.Second)},
			body: xSearchPage(t, "", id(2))},
	)
	if err := e.poller(xConfig(rp.URL(), melbourne)).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rp.done()
	if got, want := e.clock.waits(), []time.Duration{121 * time.Second, 61 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	if got := e.counter("backoffs", "x", causeRateLimit); got != 2 {
		t.Errorf("rate_limit backoffs %v, want 2", got)
	}
	if got := e.sink.ids(); len(got) != 2 {
		t.Errorf("submitted %v", got)
	}
}

// TestXSkipsRefusedQuery: a 400 names X's complaint and skips that query
// only.
func TestXSkipsRefusedQuery(t *testing.T) {
	e := newEnv(t)
	rp := newReplay(t,
		step{want: map[string]string{"query": "#a has:geo"}, status: 400, body: []byte(`{"errors":[{"parameters":{"query":["#a has:geo"]},"message":"There were errors processing your request: Reference to invalid operator 'has:geo'"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}`)},
		step{want: map[string]string{"query": "#b"}, body: xSearchPage(t, "", snowflake(t0.Add(-time.Hour), 0))},
	)
	cfg := xConfig(rp.URL())
	cfg.X.Queries = []string{"#a has:geo", "#b"}
	err := e.poller(cfg).Poll(context.Background())
	rp.done()
	if err == nil || !strings.Contains(err.Error(), "Invalid Request: One or more parameters") || !strings.Contains(err.Error(), "query/#a has:geo") {
		t.Errorf("error %v", err)
	}
	if len(e.sink.ids()) != 1 {
		t.Errorf("submitted %v", e.sink.ids())
	}
}

// TestXWindow: a cursor older than the 7-day search window is not sent
// (X would refuse it on every round); the gap is logged and counted.
func TestXWindow(t *testing.T) {
	tests := []struct {
		name   string
		cursor xCursor
		want   map[string]string
		absent []string
		gap    float64
	}{{
		name:   "since_id inside the window",
		cursor: xCursor{SinceID: snowflake(t0.Add(-6*24*time.Hour), 0)},
		want:   map[string]string{"since_id": snowflake(t0.Add(-6*24*time.Hour), 0)},
		absent: []string{"start_time"},
	}, {
		name:   "since_id outside",
		cursor: xCursor{SinceID: snowflake(t0.Add(-8*24*time.Hour), 0)},
		want:   map[string]string{"start_time": t0.Add(-xWindow).Format(time.RFC3339)},
		absent: []string{"since_id"},
		gap:    1,
	}, {
		name: "run whose rest has left the window",
		cursor: xCursor{SinceID: snowflake(t0.Add(-9*24*time.Hour), 0),
			Run: &xRun{NewestID: snowflake(t0.Add(-2*24*time.Hour), 0), UntilID: snowflake(t0.Add(-7*24*time.Hour-time.Minute), 0)}},
		want:   map[string]string{"since_id": snowflake(t0.Add(-2*24*time.Hour), 0)},
		absent: []string{"until_id", "start_time"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rp := newReplay(t, step{want: tt.want, absent: tt.absent, body: xSearchPage(t, "")})
			cur, err := OpenFileCursors(e.dir)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(tt.cursor)
			cur.Save(context.Background(), "0/x/place/1", string(b))
			if err := e.poller(xConfig(rp.URL(), melbourne)).Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
			rp.done()
			if got := e.counter("errors", "x", reasonGap); got != tt.gap {
				t.Errorf("gaps %v, want %v", got, tt.gap)
			}
			if c := e.cursor("x/place/1"); strings.Contains(c, tt.cursor.SinceID) && tt.gap > 0 {
				t.Errorf("cursor %s still holds the dropped since_id", c)
			}
		})
	}
}

func TestXPlaceQuery(t *testing.T) {
	tests := []struct {
		name   string
		target Target
		want   string
		err    string
	}{
		{"box", melbourne, "bounding_box:[145.000000 -37.950000 145.150000 -37.850000]", ""},
		{"circle", Target{PlaceID: 2, Lat: 51.5007, Lon: -0.1246, RadiusM: 300}, "point_radius:[-0.124600 51.500700 0.300km]", ""},
		{"box too wide", Target{PlaceID: 3, MinLat: 51, MinLon: -1, MaxLat: 51.2, MaxLon: 0}, "", "25-mile box"},
		{"circle too wide", Target{PlaceID: 4, Lat: 51, Lon: 0, RadiusM: 50_000}, "", "radius over"},
		{"no shape", Target{PlaceID: 5}, "", "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := xPlaceQuery(tt.target, "")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("query %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
