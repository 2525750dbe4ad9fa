package poll

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/instagram"
)

// The recorded Graph payloads are from August 2021.
var t2021 = time.Date(2021, 8, 14, 9, 0, 0, 0, time.UTC)

// venue is the account the recorded media belong to.
var venue = InstagramVenue{Target: Target{PlaceID: 7, Name: "Harbour Hotel", Lat: -33.8568, Lon: 151.2153, RadiusM: 120}, UserID: "17841406338772941"}

func instagramConfig(url string, venues ...InstagramVenue) Config {
	return Config{Instagram: &InstagramConfig{BaseURL: url, AccessToken: "ig-token", Venues: venues,
		Schedule: Schedule{Backfill: 4 * 365 * 24 * time.Hour}}}
}

var (
	mediaP1 = []string{"17895731045244887", "17896622936197745"}
	mediaP2 = []string{"17896129349106152", "17893085207160254"}
	tagged  = []string{"17892354025952911", "17997587032316367", "17846368219941692", "17913531439230186", "17978630677077508"}
)

// TestInstagramRestart: the venue's media, stopped after page 1 and
// resumed from the paging cursor; then its tags; then a round that finds
// nothing new.
func TestInstagramRestart(t *testing.T) {
	e := newEnv(t)
	e.clock.now = t2021
	empty := []byte(`{"data":[]}`)
	rp := newReplay(t,
		step{path: "/17841406338772941/media", absent: []string{"after", "access_token"}, want: map[string]string{"limit": "50", "fields": graphMediaFields},
			body: fixture(t, "instagram-graph/users/medias_p1.json")},
		// restarted
		step{path: "/17841406338772941/media", want: map[string]string{"after": "after"}, body: fixture(t, "instagram-graph/users/medias_p2.json")},
		step{path: "/17841406338772941/tags", absent: []string{"after"}, body: fixture(t, "instagram-graph/users/tagged_medias.json")},
		// next round: the same newest pages, nothing new
		step{path: "/17841406338772941/media", absent: []string{"after"}, body: fixture(t, "instagram-graph/users/medias_p1.json")},
		step{path: "/17841406338772941/tags", body: fixture(t, "instagram-graph/users/tagged_medias.json")},
		// and one new media on top
		step{path: "/17841406338772941/media", body: []byte(`{"data":[{"id":"17900000000000001","media_type":"IMAGE","timestamp":"2021-08-14T08:00:00+0000"},` +
			`{"id":"17895731045244887","media_type":"IMAGE","timestamp":"2021-08-13T08:25:28+0000"}],"paging":{"cursors":{"after":"x"},"next":"https://graph.facebook.com/next"}}`)},
		// a page with something new has a successor; one with nothing new ends the walk
		step{path: "/17841406338772941/media", want: map[string]string{"after": "x"}, body: fixture(t, "instagram-graph/users/medias_p1.json")},
		step{path: "/17841406338772941/tags", body: empty},
	)
	cfg := instagramConfig(rp.URL(), venue)
	ctx, cancel := context.WithCancel(context.Background())
	e.sink.fail = func(n int, _ []source.Item) error {
		cancel()
		return nil
	}
	e.poller(cfg).Poll(ctx)
	e.sink.fail = nil
	var cur graphCursor
	json.Unmarshal([]byte(e.cursor("instagram/media/17841406338772941")), &cur)
	if cur.Run == nil || cur.Run.After != "after" {
		t.Fatalf("cursor after page 1: %s", e.cursor("instagram/media/17841406338772941"))
	}
	p := e.poller(cfg)
	for range 3 {
		if err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	rp.done()
	ids := e.sink.ids()
	noRepeats(t, ids)
	want := slices.Concat(mediaP1, mediaP2, tagged, []string{"17900000000000001"})
	if !slices.Equal(ids, want) {
		t.Errorf("submitted %v, want %v", ids, want)
	}
	for _, r := range rp.reqs {
		if got := r.Header.Get("Authorization"); got != "Bearer ig-token" {
			t.Errorf("Authorization %q", got)
		}
	}
	cur = graphCursor{}
	json.Unmarshal([]byte(e.cursor("instagram/tags/17841406338772941")), &cur)
	if want := time.Date(2021, 3, 16, 12, 2, 14, 0, time.UTC).Unix(); cur.Since.T != want || cur.Run != nil {
		t.Errorf("tags cursor %+v, want since %d", cur, want)
	}
}

// TestInstagramBackfill: a first round reaches back Backfill and no
// further: older media are not sent, and the walk stops there.
func TestInstagramBackfill(t *testing.T) {
	e := newEnv(t)
	e.clock.now = t2021
	rp := newReplay(t,
		step{path: "/media", body: fixture(t, "instagram-graph/users/medias_p1.json")},
		step{path: "/media", body: fixture(t, "instagram-graph/users/medias_p2.json")},
		step{path: "/tags", body: fixture(t, "instagram-graph/users/tagged_medias.json")},
	)
	cfg := instagramConfig(rp.URL(), venue)
	cfg.Instagram.Backfill = 7 * 24 * time.Hour
	if err := e.poller(cfg).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rp.done()
	if got := e.sink.ids(); !slices.Equal(got, mediaP1) {
		t.Errorf("submitted %v, want %v", got, mediaP1)
	}
}

// TestInstagramHashtag: a hashtag is looked up once (the lookup counts
// against Graph's 30 a week) and its recent media are paged through.
func TestInstagramHashtag(t *testing.T) {
	e := newEnv(t)
	e.clock.now = t2021
	empty := []byte(`{"data":[]}`)
	v := venue
	v.Hashtags = []string{"#Developers"}
	rp := newReplay(t,
		step{path: "/media", body: empty},
		step{path: "/tags", body: empty},
		step{path: "/ig_hashtag_search", want: map[string]string{"user_id": venue.UserID, "q": "developers"}, body: fixture(t, "instagram-graph/users/hashtag_search.json")},
		step{path: "/17841562426109234/recent_media", want: map[string]string{"user_id": venue.UserID, "fields": graphHashtagFields}, absent: []string{"after"},
			body: fixture(t, "instagram-graph/hashtags/hashtag_recent_medias_p1.json")},
		step{path: "/17841562426109234/recent_media", want: map[string]string{"after": "after"}, body: fixture(t, "instagram-graph/hashtags/hashtag_recent_medias_p2.json")},
		// a restart: no second lookup
		step{path: "/media", body: empty},
		step{path: "/tags", body: empty},
		step{path: "/17841562426109234/recent_media", body: empty},
	)
	cfg := instagramConfig(rp.URL(), v)
	if err := e.poller(cfg).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.poller(cfg).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rp.done()
	if got := len(e.sink.ids()); got != 10 {
		t.Errorf("submitted %d media, want 10", got)
	}
}

// TestInstagramLimits: Graph's usage headers and rate-limit error codes
// pause the poller; other errors skip the target.
func TestInstagramLimits(t *testing.T) {
	p1 := fixture(t, "instagram-graph/users/medias_p1.json")
	p2 := fixture(t, "instagram-graph/users/medias_p2.json")
	tags := fixture(t, "instagram-graph/users/tagged_medias.json")
	tests := []struct {
		name   string
		steps  []step
		waits  []time.Duration
		cause  string
		reason string
		ids    int
	}{{
		name: "X-App-Usage at 95 %",
		steps: []step{
			{header: map[string]string{"X-App-Usage": `{"call_count":95,"total_cputime":10,"total_time":12}`}, body: p1},
			{body: p2}, {body: tags},
		},
		waits: []time.Duration{5 * time.Minute, time.Second}, // MaxBackoff, as Graph named no time
		cause: causeUsage, ids: 9,
	}, {
		name: "X-Business-Use-Case-Usage with a time to regain access",
		steps: []step{
			{header: map[string]string{"X-Business-Use-Case-Usage": `{"17841406338772941":[{"type":"instagram","call_count":40,"total_cputime":91,"total_time":30,"estimated_time_to_regain_access":12}]}`}, body: p1},
			{body: p2}, {body: tags},
		},
		waits: []time.Duration{12 * time.Minute, time.Second},
		cause: causeUsage, ids: 9,
	}, {
		name: "usage below the threshold",
		steps: []step{
			{header: map[string]string{"X-App-Usage": `{"call_count":89,"total_cputime":10,"total_time":12}`}, body: p1},
			{body: p2}, {body: tags},
		},
		waits: []time.Duration{time.Second, time.Second},
		ids:   9,
	}, {
		name: "application request limit (400, code 4)",
		steps: []step{
			{status: 400, body: []byte(`{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","is_transient":true,"code":4,"fbtrace_id":"AbC"}}`)},
			{body: p1}, {body: p2}, {body: tags},
		},
		waits: []time.Duration{5 * time.Minute, time.Second, time.Second},
		cause: causeUsage, ids: 9,
	}, {
		name: "invalid token (code 190) skips the target",
		steps: []step{
			{status: 400, body: []byte(`{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"AbC"}}`)},
			{body: tags},
		},
		waits:  []time.Duration{time.Second},
		reason: reasonAPI, ids: 5,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.clock.now = t2021
			rp := newReplay(t, tt.steps...)
			err := e.poller(instagramConfig(rp.URL(), venue)).Poll(context.Background())
			rp.done()
			if reasonOf(err) != tt.reason && !(err == nil && tt.reason == "") {
				t.Errorf("error %v, want reason %q", err, tt.reason)
			}
			if got := e.clock.waits(); !slices.Equal(got, tt.waits) {
				t.Errorf("waits %v, want %v", got, tt.waits)
			}
			if tt.cause != "" && e.counter("backoffs", "instagram", tt.cause) != 1 {
				t.Errorf("no %s backoff counted", tt.cause)
			}
			if got := len(e.sink.ids()); got != tt.ids {
				t.Errorf("submitted %d, want %d", got, tt.ids)
			}
		})
	}
}

// TestInstagramStaleCursor: a paging cursor Graph no longer accepts
// restarts the run from the top (repeats, never gaps).
func TestInstagramStaleCursor(t *testing.T) {
	e := newEnv(t)
	e.clock.now = t2021
	cur, err := OpenFileCursors(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	cur.Save(context.Background(), "0/instagram/media/17841406338772941", `{"since":{"t":1},"run":{"after":"stale","newest":{"t":1628843128}}}`)
	rp := newReplay(t,
		step{path: "/media", want: map[string]string{"after": "stale"}, status: 400,
			body: []byte(`{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"fbtrace_id":"AbC"}}`)},
		step{path: "/tags", body: []byte(`{"data":[]}`)},
		step{path: "/media", absent: []string{"after"}, body: fixture(t, "instagram-graph/users/medias_p1.json")},
		step{path: "/media", want: map[string]string{"after": "after"}, body: fixture(t, "instagram-graph/users/medias_p2.json")},
		step{path: "/tags", body: []byte(`{"data":[]}`)},
	)
	p := e.poller(instagramConfig(rp.URL(), venue))
	if err := p.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "Invalid parameter") {
		t.Errorf("error %v", err)
	}
	if err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rp.done()
	if got := e.sink.ids(); !slices.Equal(got, slices.Concat(mediaP1, mediaP2)) {
		t.Errorf("submitted %v", got)
	}
}

// withUsername adds the username the poller asks for (graphMediaFields)
// and the recorded payloads were made without.
func withUsername(t *testing.T, page []byte, username string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(page, &doc); err != nil {
		t.Fatal(err)
	}
	for _, m := range doc["data"].([]any) {
		m.(map[string]any)["username"] = username
	}
	return mustJSON(t, doc)
}

// TestInstagramGraphDecoder runs source/instagram on the recorded pages:
// media are attributed to the venue they were found through.
func TestInstagramGraphDecoder(t *testing.T) {
	e := newEnv(t)
	e.clock.now = t2021
	e.decode.Instagram = func(v Target) source.DecodeFunc {
		return instagram.Graph(&instagram.Venue{Lat: v.Lat, Lon: v.Lon, RadiusM: v.RadiusM, Name: v.Name}).Decode
	}
	v := venue
	v.Hashtags = []string{"developers"}
	rp := newReplay(t,
		step{path: "/media", body: withUsername(t, fixture(t, "instagram-graph/users/medias_p1.json"), "harbourhotel")},
		step{path: "/media", body: withUsername(t, fixture(t, "instagram-graph/users/medias_p2.json"), "harbourhotel")},
		step{path: "/tags", body: fixture(t, "instagram-graph/users/tagged_medias.json")},
		step{path: "/ig_hashtag_search", body: fixture(t, "instagram-graph/users/hashtag_search.json")},
		step{path: "/recent_media", body: fixture(t, "instagram-graph/hashtags/hashtag_recent_medias_p2.json")},
	)
	if err := e.poller(instagramConfig(rp.URL(), v)).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rp.done()
	var posts int
	reasons := map[string]int{}
	for _, it := range e.sink.items {
		if it.Err != nil {
			reasons[geopulse.ErrorReason(it.Err)]++
			continue
		}
		posts++
		p := it.Post
		if p.Lat != v.Lat || p.Lon != v.Lon || p.AccuracyM != v.RadiusM || p.LocationFrom != geopulse.LocationVenue || p.PlaceName != v.Name {
			t.Errorf("post %s not attributed to the venue: %+v", p.SourceID, p)
		}
	}
	// The own media carry a username. The recorded tagged media lack it,
	// and hashtag media have no owner in the Graph API (nor, recorded, a
	// timestamp):
	// the decoder refuses them, each with its reason.
	if posts != 4 || reasons[geopulse.ReasonMissingField] != 10 {
		t.Errorf("%d posts, refusals %v; want 4 posts and 10 missing_field", posts, reasons)
	}
}
