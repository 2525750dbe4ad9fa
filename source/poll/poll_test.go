package poll

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

func TestNewRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("k\n"), 0o600)
	emptyFile := filepath.Join(dir, "empty")
	os.WriteFile(emptyFile, []byte("\n"), 0o600)
	tests := []struct {
		name string
		cfg  Config
		opts func(*Options)
		want string // "": valid
	}{
		{"valid", Config{Flickr: &FlickrConfig{APIKeyFile: keyFile, Places: []Target{melbourne}}}, nil, ""},
		{"nothing configured", Config{}, nil, ""},
		{"no key", Config{Flickr: &FlickrConfig{}}, nil, "flickr.api_key: missing"},
		{"key and key file", Config{Flickr: &FlickrConfig{APIKey: "k", APIKeyFile: keyFile}}, nil, "not both"},
		{"missing key file", Config{X: &XConfig{BearerTokenFile: filepath.Join(dir, "nope")}}, nil, "x.bearer_token_file"},
		{"empty key file", Config{Instagram: &InstagramConfig{AccessTokenFile: emptyFile}}, nil, "is empty"},
		{"place without shape", Config{Flickr: &FlickrConfig{APIKey: "k", Places: []Target{{PlaceID: 9}}}}, nil, "place 9 has neither"},
		{"venue without account", Config{Instagram: &InstagramConfig{AccessToken: "t", Venues: []InstagramVenue{{Target: melbourne}}}}, nil, "no user id"},
		{"no decoder", Config{X: &XConfig{BearerToken: "t"}}, func(o *Options) { o.Decoders.X = nil }, "x: no decoder"},
		{"no sink", Config{}, func(o *Options) { o.Sink = nil }, "no sink"},
		{"no cursors", Config{}, func(o *Options) { o.Cursors = nil }, "no cursor store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, _ := OpenFileCursors(t.TempDir())
			o := Options{Sink: &sink{}, Cursors: cur, Decoders: fakeDecoders()}
			if tt.opts != nil {
				tt.opts(&o)
			}
			_, err := New(tt.cfg, o)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || geopulse.ErrorCode(err) != geopulse.EINVALID {
				t.Errorf("error %v, want EINVALID with %q", err, tt.want)
			}
		})
	}
}

// TestSecretsStayOut: a credential read from a file is sent to the
// platform, and appears in no log line and no error, even when the
// platform echoes the request or the connection fails.
func TestSecretsStayOut(t *testing.T) {
	const token = "s3cr3t+T0KEN/with=chars"
	file := filepath.Join(t.TempDir(), "token")
	os.WriteFile(file, []byte(token+"\n"), 0o600)
	var seen []string
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.URL.Query().Get("api_key") + r.Header.Get("Authorization")
		seen = append(seen, got)
		quoted := strings.NewReplacer(`"`, `'`).Replace(r.URL.String() + " " + r.Header.Get("Authorization"))
		switch {
		case strings.Contains(r.URL.Path, "services/rest"):
			w.Write([]byte(`{"stat":"fail","code":100,"message":"Invalid API Key: ` + quoted + `"}`))
		case strings.Contains(r.URL.Path, "/2/tweets"):
			w.WriteHeader(401)
			w.Write([]byte(`{"title":"Unauthorized","detail":"` + quoted + `","status":401}`))
		default:
			w.WriteHeader(400)
			w.Write([]byte(`{"error":{"message":"Invalid OAuth access token: ` + quoted + `","code":190}}`))
		}
	}))
	defer echo.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	for _, base := range []string{echo.URL, closed.URL} {
		e := newEnv(t)
		e.opts = func(o *Options) { o.MaxRetries = 1 }
		cfg := Config{
			Flickr:    &FlickrConfig{BaseURL: base + "/services/rest/", APIKeyFile: file, Places: []Target{melbourne}},
			X:         &XConfig{BaseURL: base, BearerTokenFile: file, Places: []Target{melbourne}},
			Instagram: &InstagramConfig{BaseURL: base, AccessTokenFile: file, Venues: []InstagramVenue{venue}},
		}
		err := e.poller(cfg).Poll(context.Background())
		if err == nil {
			t.Fatal("no error")
		}
		for what, text := range map[string]string{"logs": e.logs.String(), "error": err.Error()} {
			for _, form := range []string{token, "s3cr3t%2BT0KEN", "s3cr3t+T0KEN"} {
				if strings.Contains(text, form) {
					t.Errorf("%s against %s hold the token:\n%s", what, base, text)
				}
			}
		}
		if base == echo.URL && !strings.Contains(err.Error(), "[redacted]") {
			t.Errorf("the echoed token was not redacted: %v", err)
		}
	}
	want := []string{token, "Bearer " + token, "Bearer " + token, "Bearer " + token}
	if len(seen) != len(want) {
		t.Fatalf("requests %d, want %d", len(seen), len(want))
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Errorf("request %d carried %q, want %q", i, seen[i], want[i])
		}
	}
}

// TestRunStops: Run returns once ctx ends, whether between rounds or in a
// long wait a server asked for.
func TestRunStops(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		wait  time.Duration // the wait Run is in when cancelled
	}{
		{"between rounds", []step{{body: fixture(t, "flickr/photos_search_page63.json")}}, 10 * time.Minute},
		{"in a Retry-After", []step{{status: 429, header: map[string]string{"Retry-After": "86400"}}}, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rp := newReplay(t, tt.steps...)
			sleeping := make(chan time.Duration)
			e.opts = func(o *Options) {
				o.Sleep = func(ctx context.Context, d time.Duration) error {
					select {
					case sleeping <- d:
					case <-ctx.Done():
						return ctx.Err()
					}
					<-ctx.Done()
					return ctx.Err()
				}
			}
			p := e.poller(flickrConfig(rp.URL(), melbourne))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- p.Run(ctx) }()
			if d := <-sleeping; d != tt.wait {
				t.Errorf("Run sleeps %v, want %v", d, tt.wait)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			rp.done()
		})
	}
}

// TestWorkspacesShareMetrics: pollers of several workspaces in one
// process register on one registry.
func TestWorkspacesShareMetrics(t *testing.T) {
	e := newEnv(t)
	rp := newReplay(t, step{body: fixture(t, "flickr/photos_search_page63.json")}, step{body: fixture(t, "flickr/photos_search_page63.json")})
	for ws := range int64(2) {
		cfg := flickrConfig(rp.URL(), melbourne)
		cfg.Workspace = ws
		if err := e.poller(cfg).Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	rp.done() // each workspace kept a cursor of its own
	if got := e.counter("requests", "flickr", "200"); got != 2 {
		t.Errorf("requests %v, want 2", got)
	}
	if got := e.counter("items", "flickr", "post"); got != 4 {
		t.Errorf("items %v, want 4", got)
	}
}

func TestFileCursors(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "cursors")
	c, err := OpenFileCursors(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(ctx, "a"); geopulse.ErrorCode(err) != geopulse.ENOTFOUND {
		t.Errorf("missing key: %v, want ENOTFOUND", err)
	}
	for _, kv := range [][2]string{{"a", "1"}, {"b", `{"x":"y"}`}, {"a", "2"}} {
		if err := c.Save(ctx, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	c2, err := OpenFileCursors(dir)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"a": "2", "b": `{"x":"y"}`} {
		if got, err := c2.Load(ctx, k); err != nil || got != want {
			t.Errorf("%s = %q, %v after reopening; want %q", k, got, err, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want only %s", len(entries), cursorsFile)
	}

	// A failed write keeps the old value (the directory vanished).
	os.RemoveAll(dir)
	if err := c2.Save(ctx, "a", "3"); err == nil {
		t.Error("save into a removed directory succeeded")
	}
	if got, _ := c2.Load(ctx, "a"); got != "2" {
		t.Errorf("a = %q after a failed save, want 2", got)
	}

	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, cursorsFile), []byte("{truncated"), 0o600)
	if _, err := OpenFileCursors(bad); err == nil {
		t.Error("opened a corrupt cursor file")
	}
}

// TestUnreadableCursor: a cursor this package cannot read starts the
// target over from the backfill window instead of stopping it.
func TestUnreadableCursor(t *testing.T) {
	e := newEnv(t)
	cur, _ := OpenFileCursors(e.dir)
	cur.Save(context.Background(), "0/flickr/place/1", "not json")
	rp := newReplay(t, step{want: map[string]string{"min_upload_date": strconvI(t0.Add(-15 * 365 * 24 * time.Hour).Unix())}, body: fixture(t, "flickr/photos_search_page63.json")})
	if err := e.poller(flickrConfig(rp.URL(), melbourne)).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rp.done()
	if !strings.Contains(e.logs.String(), "poll cursor unreadable") {
		t.Errorf("logs: %s", e.logs)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"-3", 0, false},
		{"99999999999", 24 * time.Hour, true},
		{t0.Add(45 * time.Second).Format(http.TimeFormat), 45 * time.Second, true},
		{t0.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set("Retry-After", tt.header)
		if got, ok := retryAfter(h, t0); got != tt.want || ok != tt.ok {
			t.Errorf("Retry-After %q: %v, %v; want %v, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestXReset(t *testing.T) {
	epoch := func(d time.Duration) string { return strconvI(t0.Add(d).Unix()) }
	tests := []struct {
		remaining, reset string
		want             time.Duration
		ok               bool
	}{
		{"", "", 0, false},
		{"5", epoch(time.Minute), 0, false},
		{"0", epoch(time.Minute), 61 * time.Second, true},
		{"0", epoch(-time.Minute), time.Second, true}, // a reset in the past: our clock is late
		{"0", "never", 0, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set("x-rate-limit-remaining", tt.remaining)
		h.Set("x-rate-limit-reset", tt.reset)
		if got, ok := xReset(h, t0); got != tt.want || ok != tt.ok {
			t.Errorf("remaining %q reset %q: %v, %v; want %v, %v", tt.remaining, tt.reset, got, ok, tt.want, tt.ok)
		}
	}
}

func TestGraphUsage(t *testing.T) {
	tests := []struct {
		app, buc string
		pct      float64
		regain   time.Duration
	}{
		{"", "", 0, 0},
		{`{"call_count":28,"total_time":25,"total_cputime":25}`, "", 28, 0},
		{"", `{"123":[{"type":"instagram","call_count":5,"total_cputime":97,"total_time":3,"estimated_time_to_regain_access":0}],"456":[{"type":"instagram","call_count":1,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":7}]}`, 97, 7 * time.Minute},
		{"not json", `{"1":"not a list"}`, 0, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set("X-App-Usage", tt.app)
		h.Set("X-Business-Use-Case-Usage", tt.buc)
		if pct, regain := graphUsage(h); pct != tt.pct || regain != tt.regain {
			t.Errorf("%q %q: %v %v; want %v %v", tt.app, tt.buc, pct, regain, tt.pct, tt.regain)
		}
	}
}

// TestBackoff: the ceiling doubles per attempt up to MaxBackoff, and the
// wait is the jitter's pick below it.
func TestBackoff(t *testing.T) {
	o := Options{Jitter: func(d time.Duration) time.Duration { return d }}
	o.defaults()
	c := &client{o: &o}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for attempt, w := range want {
		if got := c.backoff(attempt); got != w {
			t.Errorf("attempt %d: %v, want %v", attempt, got, w)
		}
	}
	if got := c.backoff(1 << 20); got != 5*time.Minute {
		t.Errorf("a huge attempt: %v", got)
	}
	// The default jitter stays below the ceiling.
	var d Options
	d.defaults()
	for range 100 {
		if j := d.Jitter(time.Second); j < 0 || j >= time.Second {
			t.Fatalf("jitter %v outside [0, 1s)", j)
		}
	}
}

// TestDecodeErrorLogged: a decoder that fails on a page the envelope can
// read still gets its items sent and the cursor moves.
func TestDecodeErrorLogged(t *testing.T) {
	e := newEnv(t)
	e.decode.Flickr = func(_ ioReader, fn func(source.Item) error) error {
		fn(source.Item{Index: 0, Err: geopulse.Reject(geopulse.ReasonInvalidField, "bad")})
		return errors.New("decoder gave up")
	}
	rp := newReplay(t, step{body: fixture(t, "flickr/photos_search_page63.json")})
	if err := e.poller(flickrConfig(rp.URL(), melbourne)).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.logs.String(), "decoder gave up") || e.cursor("flickr/place/1") == "" {
		t.Errorf("cursor %q, logs %s", e.cursor("flickr/place/1"), e.logs)
	}
}
