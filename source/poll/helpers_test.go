package poll

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/prometheus/client_golang/prometheus"
)

// step is one recorded answer of a replay server, and what the request
// that gets it must look like.
type step struct {
	path   string            // the request path must end with it ("": any)
	want   map[string]string // query parameters the request must carry
	absent []string          // query parameters it must not carry
	status int               // default 200
	header map[string]string
	body   []byte
}

// replay is a loopback server that answers requests with its steps, in
// order, and fails the test on a request it did not expect.
type replay struct {
	t     *testing.T
	mu    sync.Mutex
	steps []step
	n     int
	reqs  []*http.Request
	srv   *httptest.Server
}

func newReplay(t *testing.T, steps ...step) *replay {
	t.Helper()
	rp := &replay{t: t, steps: steps}
	rp.srv = httptest.NewServer(rp)
	t.Cleanup(rp.srv.Close)
	return rp
}

func (rp *replay) URL() string { return rp.srv.URL }

func (rp *replay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.reqs = append(rp.reqs, r.Clone(context.Background()))
	if rp.n >= len(rp.steps) {
		rp.t.Errorf("request %d (%s): no answer recorded for it", rp.n+1, r.URL.Path)
		http.Error(w, "unexpected", http.StatusTeapot)
		return
	}
	s := rp.steps[rp.n]
	rp.n++
	check(rp.t, rp.n, r, s)
	for k, v := range s.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	if s.status == 0 {
		s.status = http.StatusOK
	}
	w.WriteHeader(s.status)
	w.Write(s.body)
}

func check(t *testing.T, n int, r *http.Request, s step) {
	t.Helper()
	if s.path != "" && !strings.HasSuffix(r.URL.Path, s.path) {
		t.Errorf("request %d: path %s, want …%s", n, r.URL.Path, s.path)
	}
	q := r.URL.Query()
	for k, v := range s.want {
		if got := q.Get(k); got != v {
			t.Errorf("request %d: %s=%q, want %q", n, k, got, v)
		}
	}
	for _, k := range s.absent {
		if q.Has(k) {
			t.Errorf("request %d: %s=%q set, want it absent", n, k, q.Get(k))
		}
	}
}

// done fails the test unless every step was asked for.
func (rp *replay) done() {
	rp.t.Helper()
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.n != len(rp.steps) {
		rp.t.Errorf("%d of %d recorded answers were asked for", rp.n, len(rp.steps))
	}
}

// clock is the injected time: Sleep records the wait and moves the clock
// on by it, at once.
type clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	// block, when set, makes Sleep wait for ctx instead (a Run between rounds).
	block bool
}

func newClock(now time.Time) *clock { return &clock{now: now} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	if c.block {
		c.mu.Unlock()
		<-ctx.Done()
		return ctx.Err()
	}
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *clock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// sink collects what pollers submit. fail, when set, may refuse a batch
// (n counts Submit calls from 1); a refused batch is not collected.
type sink struct {
	mu    sync.Mutex
	items []source.Item
	calls int
	fail  func(n int, items []source.Item) error
}

func (s *sink) Submit(_ context.Context, items []source.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		if err := s.fail(s.calls, items); err != nil {
			return err
		}
	}
	s.items = append(s.items, items...)
	return nil
}

// ids lists the source ids of the posts collected, in order; an item
// with an error shows as "!reason".
func (s *sink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, it := range s.items {
		switch {
		case it.Err != nil:
			out = append(out, "!"+geopulse.ErrorReason(it.Err))
		case it.Post != nil:
			out = append(out, it.Post.SourceID)
		case it.Event != nil:
			out = append(out, "event:"+it.Event.SourceID)
		}
	}
	return out
}

// listDecoder stands in for a platform decoder: one post per element of
// the array at path (id → SourceID), or one malformed_json item and an
// error when the page is not JSON.
func listDecoder(src string, path ...string) source.DecodeFunc {
	return func(r io.Reader, fn func(source.Item) error) error {
		var doc any
		if err := json.NewDecoder(r).Decode(&doc); err != nil {
			e := geopulse.Reject(geopulse.ReasonMalformedJSON, "not JSON: %v", err)
			if ferr := fn(source.Item{Index: 0, Err: e}); ferr != nil {
				return ferr
			}
			return e
		}
		for _, p := range path {
			m, _ := doc.(map[string]any)
			doc = m[p]
		}
		list, _ := doc.([]any)
		for i, el := range list {
			m, _ := el.(map[string]any)
			id := fmt.Sprint(m["id"])
			if err := fn(source.Item{Index: i, Post: &geopulse.Post{Source: src, SourceID: id}}); err != nil {
				return err
			}
		}
		return nil
	}
}

func fakeDecoders() Decoders {
	return Decoders{
		Flickr:    listDecoder("flickr", "photos", "photo"),
		X:         listDecoder("x", "data"),
		Instagram: func(Target) source.DecodeFunc { return listDecoder("instagram", "data") },
	}
}

// env is one test's world: a cursor directory, a clock, a sink, logs and
// metrics. Every poller built from it shares them, as a restarted process
// shares the data directory.
type env struct {
	t       *testing.T
	dir     string
	clock   *clock
	sink    *sink
	logs    *bytes.Buffer
	reg     *prometheus.Registry
	decode  Decoders
	opts    func(*Options)
	cursors *FileCursors
}

var t0 = time.Date(2015, 7, 10, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	return &env{t: t, dir: t.TempDir(), clock: newClock(t0), sink: &sink{}, logs: &bytes.Buffer{},
		reg: prometheus.NewRegistry(), decode: fakeDecoders()}
}

// poller builds a Poller on freshly opened cursors, as a restart would.
func (e *env) poller(cfg Config) *Poller {
	e.t.Helper()
	cur, err := OpenFileCursors(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	e.cursors = cur
	o := Options{
		Sink: e.sink, Cursors: cur, Decoders: e.decode,
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: e.reg,
		Now:        e.clock.Now, Sleep: e.clock.Sleep,
		Jitter: func(d time.Duration) time.Duration { return d / 2 },
	}
	if e.opts != nil {
		e.opts(&o)
	}
	p, err := New(cfg, o)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// cursor returns the raw cursor saved under key (workspace 0).
func (e *env) cursor(key string) string {
	e.t.Helper()
	cur, err := OpenFileCursors(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	v, err := cur.Load(context.Background(), "0/"+key)
	if err != nil {
		return ""
	}
	return v
}

// counter reads one series of a poll metric: name without the
// geopulse_poll_ prefix and _total suffix, labels in order (poller, then
// status, result, cause or reason). A series never touched reads 0.
func (e *env) counter(name string, labels ...string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "geopulse_poll_"+name+"_total" {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			// Labels come sorted by name; "poller" sorts after "cause" but
			// before "reason", "result" and "status".
			got := map[string]bool{}
			for _, l := range m.GetLabel() {
				got[l.GetValue()] = true
			}
			for _, l := range labels {
				if !got[l] {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noRepeats fails the test if an id occurs twice.
func noRepeats(t *testing.T, ids []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("%s submitted twice (all: %v)", id, ids)
		}
		seen[id] = true
	}
}

func sameSet(t *testing.T, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	g, w = slices.Compact(g), slices.Compact(w)
	if !slices.Equal(g, w) {
		t.Errorf("ids %v, want %v", g, w)
	}
}

type ioReader = io.Reader

func strconvI(n int64) string { return fmt.Sprint(n) }
