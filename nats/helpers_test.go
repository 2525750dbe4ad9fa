package nats_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/pipeline"
)

// now is the clock of stores and pipelines; posts are taken an hour before.
var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// Every test post lies within 1 km of the venue, so the venue's feed is the
// list of stored posts.
const venueLat, venueLon = 51.5, -0.12

// post returns a valid, unique post.
func post(id string) *geopulse.Post {
	return &geopulse.Post{
		Source: "test", SourceID: id, Kind: geopulse.KindPhoto,
		Author:  geopulse.Author{SourceID: "a-" + id, Handle: "h" + id, Followers: 100},
		TakenAt: now.Add(-time.Hour), Lat: venueLat + 0.001, Lon: venueLon, Caption: "hello #coffee",
	}
}

func posts(prefix string, n int) []*geopulse.Post {
	out := make([]*geopulse.Post, n)
	for i := range out {
		out[i] = post(fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

// storeEnv is a DuckDB store with a workspace and one venue, and the
// pipeline over it.
type storeEnv struct {
	store geopulse.Store
	pl    *pipeline.Pipeline
	ws    *geopulse.Workspace
	venue *geopulse.Place
}

func newStore(t testing.TB, withVenue bool) *storeEnv {
	t.Helper()
	ctx := context.Background()
	db, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "geopulse.duckdb"), duckdb.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &storeEnv{store: db}
	e.pl, err = pipeline.New(ctx, db, pipeline.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	e.ws = &geopulse.Workspace{Name: "acme"}
	if err := db.CreateWorkspace(ctx, e.ws); err != nil {
		t.Fatal(err)
	}
	if withVenue {
		e.addVenue(t)
	}
	return e
}

func (e *storeEnv) addVenue(t testing.TB) {
	t.Helper()
	e.venue = &geopulse.Place{WorkspaceID: e.ws.ID, Name: "Cafe", Center: &geopulse.LatLon{Lat: venueLat, Lon: venueLon}, RadiusM: 1000}
	if err := e.pl.Places().CreatePlace(context.Background(), e.venue); err != nil {
		t.Fatal(err)
	}
}

// stored returns the venue's posts by source id, failing on a duplicate.
func (e *storeEnv) stored(t testing.TB) map[string]*geopulse.Post {
	t.Helper()
	out := map[string]*geopulse.Post{}
	cursor := ""
	for {
		page, next, err := e.store.FindPosts(context.Background(), geopulse.PostFilter{WorkspaceID: e.ws.ID, Limit: 500, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			if _, dup := out[p.SourceID]; dup {
				t.Fatalf("post %s listed twice", p.SourceID)
			}
			out[p.SourceID] = p
		}
		if next == "" {
			return out
		}
		cursor = next
	}
}

// natsEnv is an embedded server with the streams set up.
type natsEnv struct {
	srv    *gpnats.Server
	stream *gpnats.Stream
	dir    string
}

func newNATS(t testing.TB, cfg gpnats.Config) *natsEnv {
	t.Helper()
	dir := t.TempDir()
	srv, err := gpnats.StartServer(gpnats.ServerOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown() })
	e := &natsEnv{srv: srv, dir: dir}
	e.stream = e.open(t, cfg)
	return e
}

// open opens another Stream on its own connection, as another process would.
func (e *natsEnv) open(t testing.TB, cfg gpnats.Config) *gpnats.Stream {
	t.Helper()
	nc, err := e.srv.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := gpnats.Open(context.Background(), nc, cfg, nil)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runWorker runs a worker until the test ends.
func runWorker(t testing.TB, s *gpnats.Stream, opts gpnats.WorkerOptions) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	w := gpnats.NewWorker(s, opts)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
}

// countingIngester counts how often each post reaches the pipeline.
type countingIngester struct {
	next geopulse.Ingester
	mu   sync.Mutex
	seen map[string]int
}

func (c *countingIngester) Ingest(ctx context.Context, posts []*geopulse.Post) ([]error, error) {
	errs, err := c.next.Ingest(ctx, posts)
	if err == nil {
		c.mu.Lock()
		if c.seen == nil {
			c.seen = map[string]int{}
		}
		for _, p := range posts {
			c.seen[p.SourceID]++
		}
		c.mu.Unlock()
	}
	return errs, err
}

// waitFor polls cond every 20 ms until it holds, failing after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func drained(t testing.TB, s *gpnats.Stream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.WaitDrained(ctx); err != nil {
		t.Fatal(err)
	}
}
