package poll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/flickr"
)

// melbourne is the place the recorded Flickr photos were found in.
var melbourne = Target{PlaceID: 1, Name: "Oakleigh", MinLat: -37.95, MinLon: 145.0, MaxLat: -37.85, MaxLon: 145.15}

// flickrEmulator answers photos.search from the recorded photos, with
// Flickr's semantics for the parameters the poller sends (inclusive
// min_upload_date, date-posted-asc, page and per_page), so that any page
// size and any stopping point can be replayed. The photo objects are
// served verbatim.
type flickrEmulator struct {
	t      *testing.T
	mu     sync.Mutex
	photos []json.RawMessage // ordered by upload time
	upload []int64
	reqs   int
}

func newFlickrEmulator(t *testing.T) *flickrEmulator {
	t.Helper()
	e := &flickrEmulator{t: t}
	type photo struct {
		raw    json.RawMessage
		upload int64
	}
	var all []photo
	for _, name := range []string{"flickr/photos_search_page1.json", "flickr/photos_search_page63.json"} {
		var page struct {
			Photos struct {
				Photo []json.RawMessage `json:"photo"`
			} `json:"photos"`
		}
		if err := json.Unmarshal(fixture(t, name), &page); err != nil {
			t.Fatal(err)
		}
		for _, raw := range page.Photos.Photo {
			var p struct {
				DateUpload flexInt `json:"dateupload"`
			}
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			all = append(all, photo{raw, int64(p.DateUpload)})
		}
	}
	slices.SortStableFunc(all, func(a, b photo) int { return int(a.upload - b.upload) })
	for _, p := range all {
		e.photos = append(e.photos, p.raw)
		e.upload = append(e.upload, p.upload)
	}
	return e
}

func (e *flickrEmulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reqs++
	q := r.URL.Query()
	for k, v := range map[string]string{"method": "flickr.photos.search", "api_key": "flickr-key", "has_geo": "1",
		"sort": "date-posted-asc", "bbox": "145.000000,-37.950000,145.150000,-37.850000", "format": "json", "nojsoncallback": "1"} {
		if q.Get(k) != v {
			e.t.Errorf("%s=%q, want %q", k, q.Get(k), v)
		}
	}
	if !strings.Contains(q.Get("extras"), "date_upload") {
		e.t.Errorf("extras %q lack date_upload, which the cursor needs", q.Get("extras"))
	}
	minUpload, _ := strconv.ParseInt(q.Get("min_upload_date"), 10, 64)
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	page, _ := strconv.Atoi(q.Get("page"))
	var match []json.RawMessage
	for i, up := range e.upload {
		if up >= minUpload {
			match = append(match, e.photos[i])
		}
	}
	pages := (len(match) + perPage - 1) / perPage
	from, to := min((page-1)*perPage, len(match)), min(page*perPage, len(match))
	body := map[string]any{"photos": map[string]any{"page": page, "pages": pages, "perpage": perPage,
		"total": strconv.Itoa(len(match)), "photo": match[from:to]}, "stat": "ok"}
	json.NewEncoder(w).Encode(body)
}

func flickrConfig(url string, places ...Target) Config {
	return Config{Flickr: &FlickrConfig{
		Schedule: Schedule{Backfill: 15 * 365 * 24 * time.Hour, MaxPages: 20},
		BaseURL:  url, APIKey: "flickr-key", PerPage: 250, Places: places,
	}}
}

// The recorded photos: 4 distinct, one listed twice, two uploaded in the
// same second.
var flickrIDs = []string{"0000084", "3850183", "00001743956", "00007283018"}

// TestFlickrRestart stops a poller after its n-th accepted page, starts a
// new one on the same cursor directory and checks that together they
// submitted every photo exactly once, whatever the page size.
func TestFlickrRestart(t *testing.T) {
	decoders := []struct {
		name   string
		decode source.DecodeFunc
		want   []string
	}{
		{"list", fakeDecoders().Flickr, flickrIDs},
		// source/flickr refuses the photo without a location, once.
		{"flickr", flickr.Decode, []string{"0000084", "3850183", "!no_location", "00007283018"}},
	}
	for _, dec := range decoders {
		for _, perPage := range []int{1, 2, 3, 5} {
			for stopAfter := 1; stopAfter <= 3; stopAfter++ {
				t.Run(fmt.Sprintf("%s/per_page=%d/stop_after=%d", dec.name, perPage, stopAfter), func(t *testing.T) {
					e := newEnv(t)
					e.decode.Flickr = dec.decode
					srv := httptest.NewServer(newFlickrEmulator(t))
					defer srv.Close()
					cfg := flickrConfig(srv.URL, melbourne)
					cfg.Flickr.PerPage = perPage

					ctx, cancel := context.WithCancel(context.Background())
					e.sink.fail = func(n int, _ []source.Item) error {
						if n == stopAfter {
							cancel() // the process dies right after the sink took the page
						}
						return nil
					}
					e.poller(cfg).Poll(ctx)
					first := len(e.sink.ids())
					e.sink.fail = nil

					restarted := e.poller(cfg)
					if err := restarted.Poll(context.Background()); err != nil {
						t.Fatal(err)
					}
					ids := e.sink.ids()
					noRepeats(t, ids)
					sameSet(t, ids, dec.want)
					if first == 0 || perPage*stopAfter < len(flickrIDs) && first >= len(flickrIDs) {
						t.Errorf("the first run submitted %d photos; it should have stopped after %d pages of %d", first, stopAfter, perPage)
					}

					// A further round finds nothing new and submits nothing.
					calls := e.sink.calls
					if err := restarted.Poll(context.Background()); err != nil {
						t.Fatal(err)
					}
					if e.sink.calls != calls {
						t.Errorf("an idle round submitted %v", e.sink.ids()[len(ids):])
					}
					var cur flickrCursor
					json.Unmarshal([]byte(e.cursor("flickr/place/1")), &cur)
					if want := (flickrCursor{MinUpload: 1435974606, IDs: []string{"00007283018"}}); cur.MinUpload != want.MinUpload || !slices.Equal(cur.IDs, want.IDs) {
						t.Errorf("cursor %+v, want %+v", cur, want)
					}
				})
			}
		}
	}
}

func TestFlickrRetries(t *testing.T) {
	page63 := fixture(t, "flickr/photos_search_page63.json")
	tests := []struct {
		name      string
		steps     []step
		wantWaits []time.Duration
		backoffs  map[string]float64
	}{{
		name: "429 with Retry-After seconds, then 500, then the page",
		steps: []step{
			{status: 429, header: map[string]string{"Retry-After": "7"}, body: []byte("Too Many Requests")},
			{status: 500},
			{body: page63},
		},
		// 7 s as asked; then the second retry's ceiling is 4 s, and the
		// injected jitter takes half of it.
		wantWaits: []time.Duration{7 * time.Second, 2 * time.Second},
		backoffs:  map[string]float64{causeRetryAfter: 1, causeBackoff: 1},
	}, {
		name: "429 with Retry-After as a date",
		steps: []step{
			{status: 429, header: map[string]string{"Retry-After": t0.Add(90 * time.Second).Format(http.TimeFormat)}},
			{body: page63},
		},
		wantWaits: []time.Duration{90 * time.Second},
		backoffs:  map[string]float64{causeRetryAfter: 1},
	}, {
		name: "503 without Retry-After, twice",
		steps: []step{
			{status: 503},
			{status: 502},
			{body: page63},
		},
		wantWaits: []time.Duration{time.Second, 2 * time.Second},
		backoffs:  map[string]float64{causeBackoff: 2},
	}, {
		name: "Flickr's own 'service unavailable' (stat fail, code 105)",
		steps: []step{
			{body: []byte(`{"stat":"fail","code":105,"message":"Service currently unavailable"}`)},
			{body: page63},
		},
		wantWaits: []time.Duration{time.Second},
		backoffs:  map[string]float64{causeBackoff: 1},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rp := newReplay(t, tt.steps...)
			if err := e.poller(flickrConfig(rp.URL(), melbourne)).Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
			rp.done()
			if got := e.clock.waits(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("waits %v, want %v", got, tt.wantWaits)
			}
			sameSet(t, e.sink.ids(), []string{"0000084", "3850183"})
			for cause, n := range tt.backoffs {
				if got := e.counter("backoffs", "flickr", cause); got != n {
					t.Errorf("backoffs{%s} = %v, want %v", cause, got, n)
				}
			}
			for _, status := range []int{200, 429, 500} {
				var want float64
				for _, s := range tt.steps {
					if s.status == status || s.status == 0 && status == 200 {
						want++
					}
				}
				if got := e.counter("requests", "flickr", strconv.Itoa(status)); got != want {
					t.Errorf("requests{%d} = %v, want %v", status, got, want)
				}
			}
		})
	}
}

// TestFlickrSkipsTarget: a target that fails for good is skipped for the
// round with the platform's error; the next target is still polled.
func TestFlickrSkipsTarget(t *testing.T) {
	page63 := fixture(t, "flickr/photos_search_page63.json")
	other := melbourne
	other.PlaceID = 2
	tests := []struct {
		name    string
		first   []step
		reason  string
		message string
		retries int
	}{{
		name:    "invalid key (stat fail)",
		first:   []step{{body: []byte(`{"stat":"fail","code":100,"message":"Invalid API Key (Key has invalid format)"}`)}},
		reason:  reasonAPI,
		message: "Invalid API Key",
	}, {
		name:    "403",
		first:   []step{{status: 403, body: []byte(`{"stat":"fail","code":99,"message":"Insufficient permissions"}`)}},
		reason:  reasonAPI,
		message: "answered 403 (code 99): Insufficient permissions",
	}, {
		name:    "500 until the retries are used up",
		first:   []step{{status: 500}, {status: 500}, {status: 500}},
		reason:  reasonTransport,
		message: "gave up after 3 attempts",
		retries: 2,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.retries > 0 {
				e.opts = func(o *Options) { o.MaxRetries = tt.retries }
			}
			rp := newReplay(t, append(tt.first, step{body: page63})...)
			err := e.poller(flickrConfig(rp.URL(), melbourne, other)).Poll(context.Background())
			rp.done()
			if err == nil || !strings.Contains(err.Error(), tt.message) || !strings.Contains(err.Error(), "place/1") {
				t.Errorf("error %v, want one about place/1 saying %q", err, tt.message)
			}
			if reasonOf(err) != tt.reason {
				t.Errorf("reason %s, want %s", reasonOf(err), tt.reason)
			}
			if got := e.counter("errors", "flickr", tt.reason); got != 1 {
				t.Errorf("errors{%s} = %v, want 1", tt.reason, got)
			}
			sameSet(t, e.sink.ids(), []string{"0000084", "3850183"}) // place 2's
			if e.cursor("flickr/place/1") != "" {
				t.Errorf("place 1 has a cursor after failing: %s", e.cursor("flickr/place/1"))
			}
		})
	}
}

// TestFlickrMalformedPage: the items of a broken page are reported, its
// target keeps its cursor (so the page is asked for again next round),
// and the other targets go on.
func TestFlickrMalformedPage(t *testing.T) {
	for _, dec := range []struct {
		name   string
		decode source.DecodeFunc
		want   []string
	}{
		{"list", fakeDecoders().Flickr, []string{"0000084", "3850183", "!malformed_json", "00007283018", "00001743956"}},
		// source/flickr reads a page whole: a cut-off page has no items, and
		// the photo without a location is refused.
		{"flickr", flickr.Decode, []string{"0000084", "3850183", "00007283018", "!no_location"}},
	} {
		t.Run(dec.name, func(t *testing.T) { testFlickrMalformedPage(t, dec.decode, dec.want) })
	}
}

func testFlickrMalformedPage(t *testing.T, decode source.DecodeFunc, want []string) {
	e := newEnv(t)
	e.decode.Flickr = decode
	page1 := fixture(t, "flickr/photos_search_page1.json")
	page63 := fixture(t, "flickr/photos_search_page63.json")
	// page 63 of 63 claims one more page, whose answer is cut off.
	first := []byte(strings.Replace(string(page63), `"pages": 63`, `"pages": 64`, 1))
	other := melbourne
	other.PlaceID = 2
	rp := newReplay(t,
		step{want: map[string]string{"page": "1"}, body: first},
		step{want: map[string]string{"min_upload_date": "1106791534", "page": "1"}, body: page1[:700]},
		step{body: []byte(strings.Replace(string(page1), `"pages": 63`, `"pages": 1`, 1))}, // place 2
		// next round: place 1 asks again from where its last good page ended
		step{want: map[string]string{"min_upload_date": "1106791534", "page": "1"}, body: page63},
		step{want: map[string]string{"min_upload_date": "1435974606"}, body: []byte(`{"photos":{"page":1,"pages":1,"perpage":250,"total":"1","photo":[]},"stat":"ok"}`)},
	)
	p := e.poller(flickrConfig(rp.URL(), melbourne, other))
	err := p.Poll(context.Background())
	if reasonOf(err) != reasonMalformed {
		t.Errorf("error %v, want a malformed page", err)
	}
	if got := e.sink.ids(); !slices.Equal(got, want) {
		t.Errorf("submitted %v, want %v", got, want)
	}
	if err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rp.done()
	if got := e.counter("items", "flickr", "repeat"); got != 3 { // the in-page duplicate, then page 63 again
		t.Errorf("repeats %v, want 3", got)
	}
}

// TestFlickrSinkFailure: a page the sink refuses leaves the cursor where
// it was and ends the round (other targets would fail the same way).
func TestFlickrSinkFailure(t *testing.T) {
	e := newEnv(t)
	rp := newReplay(t, step{body: fixture(t, "flickr/photos_search_page63.json")})
	e.sink.fail = func(int, []source.Item) error { return errors.New("stream full") }
	other := melbourne
	other.PlaceID = 2
	err := e.poller(flickrConfig(rp.URL(), melbourne, other)).Poll(context.Background())
	rp.done() // place 2 was not asked
	if reasonOf(err) != reasonSink || !strings.Contains(err.Error(), "stream full") {
		t.Errorf("error %v, want the sink's", err)
	}
	if c := e.cursor("flickr/place/1"); c != "" {
		t.Errorf("cursor moved past a refused page: %s", c)
	}
}

// TestFlickrCircle: a venue without a box is asked for by point and radius.
func TestFlickrCircle(t *testing.T) {
	e := newEnv(t)
	rp := newReplay(t, step{
		want:   map[string]string{"lat": "-37.899166", "lon": "145.090277", "radius": "0.250", "radius_units": "km"},
		absent: []string{"bbox"},
		body:   fixture(t, "flickr/photos_search_page63.json"),
	})
	venue := Target{PlaceID: 3, Lat: -37.899166, Lon: 145.090277, RadiusM: 250}
	if err := e.poller(flickrConfig(rp.URL(), venue)).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rp.done()
}
