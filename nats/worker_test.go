package nats_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/pipeline"
	"github.com/nats-io/nats.go/jetstream"
)

// TestWorkersShareWork: two workers on their own connections (as two
// processes would be) and one store: every post is stored, and each reached
// the pipeline exactly once.
func TestWorkersShareWork(t *testing.T) {
	n := newNATS(t, gpnats.Config{})
	st := newStore(t, true)
	pub := gpnats.NewPublisher(n.stream, gpnats.PublisherOptions{Gate: pipeline.Gate{}, Now: clock})
	counter := &countingIngester{next: st.pl}
	for range 2 {
		runWorker(t, n.open(t, gpnats.Config{}), gpnats.WorkerOptions{Ingester: counter, Batch: 100, Concurrency: 2})
	}
	const total = 3000
	for i := range total / 500 {
		errs, err := pub.Ingest(t.Context(), posts(fmt.Sprintf("w%d", i), 500))
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	drained(t, n.stream)
	if got := len(st.stored(t)); got != total {
		t.Fatalf("stored %d, want %d", got, total)
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	if len(counter.seen) != total {
		t.Fatalf("pipeline saw %d posts, want %d", len(counter.seen), total)
	}
	for id, k := range counter.seen {
		if k != 1 {
			t.Fatalf("post %s processed %d times", id, k)
		}
	}
}

// failingStore fails every write of a batch holding the post with sourceID
// bad, while broken is set: a disk that refuses one record.
type failingStore struct {
	geopulse.Store
	bad    string
	broken atomic.Bool
}

func (s *failingStore) UpsertPosts(ctx context.Context, posts []*geopulse.Post) ([]error, error) {
	if s.broken.Load() {
		for _, p := range posts {
			if p.SourceID == s.bad {
				return nil, errors.New("disk says no")
			}
		}
	}
	return s.Store.UpsertPosts(ctx, posts)
}

// TestDeadLetters: an undecodable message and a post whose write keeps
// failing end up in DEADLETTERS with their errors, while the good posts of
// the same batches land; redrive after the fix stores the post; delete
// removes a dead letter for good.
func TestDeadLetters(t *testing.T) {
	n := newNATS(t, gpnats.Config{})
	st := newStore(t, true)
	fs := &failingStore{Store: st.store, bad: "poison"}
	fs.broken.Store(true)
	pl, err := pipeline.New(t.Context(), fs, pipeline.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, n.stream, gpnats.WorkerOptions{Ingester: pl, MaxDeliver: 3, Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})

	js, err := jetstream.New(n.stream.Conn())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(t.Context(), "geopulse.posts.test", []byte(`{"v":1,"source":"test"`)); err != nil {
		t.Fatal(err)
	}
	pub := gpnats.NewPublisher(n.stream, gpnats.PublisherOptions{Now: clock})
	batch := append(posts("good", 20), post("poison"))
	if _, err := pub.Ingest(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	drained(t, n.stream)
	stored := st.stored(t)
	if len(stored) != 20 || stored["poison"] != nil {
		t.Fatalf("stored %d posts (poison: %v), want the 20 good ones", len(stored), stored["poison"] != nil)
	}

	dead, err := n.stream.DeadLetters(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 2 {
		t.Fatalf("%d dead letters, want 2: %+v", len(dead), dead)
	}
	byReason := map[string]*gpnats.DeadLetter{}
	for _, d := range dead {
		byReason[d.Reason] = d
	}
	tests := []struct {
		reason, errText string
		deliveries      uint64
	}{
		{gpnats.ReasonUndecodable, "malformed", 1},
		{gpnats.ReasonStoreFailed, "disk says no", 3},
	}
	for _, tt := range tests {
		d := byReason[tt.reason]
		switch {
		case d == nil:
			t.Errorf("no %s dead letter", tt.reason)
		case !strings.Contains(strings.ToLower(d.Error), tt.errText):
			t.Errorf("%s: error %q lacks %q", tt.reason, d.Error, tt.errText)
		case d.Subject != "geopulse.posts.test" || d.StreamSeq == 0 || d.ReceivedAt.IsZero():
			t.Errorf("%s: origin %s #%d at %v", tt.reason, d.Subject, d.StreamSeq, d.ReceivedAt)
		case d.Deliveries != tt.deliveries:
			t.Errorf("%s: %d deliveries, want %d", tt.reason, d.Deliveries, tt.deliveries)
		}
	}
	if page, err := n.stream.DeadLetters(t.Context(), dead[0].Seq, 10); err != nil || len(page) != 1 {
		t.Fatalf("second page: %d, %v; want 1", len(page), err)
	}

	// The disk is fixed: redrive stores the post.
	fs.broken.Store(false)
	if k, err := n.stream.Redrive(t.Context(), []uint64{byReason[gpnats.ReasonStoreFailed].Seq}); err != nil || k != 1 {
		t.Fatalf("redrive = %d, %v", k, err)
	}
	// The consumer may not count the redriven message as pending yet when
	// asked at once, so wait for the post itself (bounded).
	for deadline := time.Now().Add(20 * time.Second); st.stored(t)["poison"] == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("redriven post not stored")
		}
	}
	if _, err := n.stream.Redrive(t.Context(), []uint64{byReason[gpnats.ReasonStoreFailed].Seq}); geopulse.ErrorCode(err) != geopulse.ENOTFOUND {
		t.Fatalf("redrive of a redriven letter: %v, want ENOTFOUND", err)
	}

	// The undecodable one is deleted for good.
	if k, err := n.stream.DeleteAllDeadLetters(t.Context()); err != nil || k != 1 {
		t.Fatalf("delete all = %d, %v", k, err)
	}
	if left, err := n.stream.DeadLetters(t.Context(), 0, 10); err != nil || len(left) != 0 {
		t.Fatalf("left after delete: %d, %v", len(left), err)
	}
	if _, err := n.stream.DeleteDeadLetters(t.Context(), []uint64{byReason[gpnats.ReasonUndecodable].Seq}); geopulse.ErrorCode(err) != geopulse.ENOTFOUND {
		t.Fatalf("delete twice: %v, want ENOTFOUND", err)
	}
}

// TestReplay: posts ingested before a place existed are matched once
// replayed into a store that has it; Until bounds the replay.
func TestReplay(t *testing.T) {
	n := newNATS(t, gpnats.Config{})
	first := newStore(t, false)
	runWorker(t, n.stream, gpnats.WorkerOptions{Ingester: first.pl})
	pub := gpnats.NewPublisher(n.stream, gpnats.PublisherOptions{Now: clock})
	start := time.Now()
	if _, err := pub.Ingest(t.Context(), posts("early", 30)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // stream timestamps: early < cut ≤ late
	cut := time.Now()
	time.Sleep(5 * time.Millisecond)
	if _, err := pub.Ingest(t.Context(), posts("late", 20)); err != nil {
		t.Fatal(err)
	}
	drained(t, n.stream)

	tests := []struct {
		name  string
		until time.Time
		want  int
	}{
		{"until the cut", cut, 30},
		{"everything", time.Time{}, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fresh := newStore(t, true) // a new place: nothing matched yet
			if got := len(fresh.stored(t)); got != 0 {
				t.Fatalf("fresh store has %d posts", got)
			}
			var calls int
			pr, err := n.stream.Replay(t.Context(), gpnats.ReplayOptions{
				Since: start.Add(-time.Second), Until: tt.until, Ingester: fresh.pl, Batch: 7,
				Progress: func(gpnats.ReplayProgress) { calls++ },
			})
			if err != nil {
				t.Fatal(err)
			}
			if pr.Stored != tt.want || pr.Messages != tt.want || calls == 0 {
				t.Fatalf("replay: %+v after %d progress calls; want %d stored", pr, calls, tt.want)
			}
			if got := len(fresh.stored(t)); got != tt.want {
				t.Fatalf("replayed store has %d posts in the place, want %d", got, tt.want)
			}
		})
	}
	if pr, err := n.stream.Replay(t.Context(), gpnats.ReplayOptions{Since: time.Now().Add(time.Hour), Ingester: first.pl}); err != nil || pr.Messages != 0 {
		t.Fatalf("replay from the future: %+v, %v", pr, err)
	}
}

// TestServerRestartAndLock: the embedded server keeps the stream across a
// restart, and a second server on the same directory is refused.
func TestServerRestartAndLock(t *testing.T) {
	dir := t.TempDir()
	srv, err := gpnats.StartServer(gpnats.ServerOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gpnats.StartServer(gpnats.ServerOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "another geopulse process") {
		t.Fatalf("second server on %s: %v, want a lock error", dir, err)
	}
	open := func(srv *gpnats.Server) *gpnats.Stream {
		nc, err := srv.Connect("test")
		if err != nil {
			t.Fatal(err)
		}
		s, err := gpnats.Open(t.Context(), nc, gpnats.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open(srv)
	pub := gpnats.NewPublisher(s, gpnats.PublisherOptions{Now: clock})
	if _, err := pub.Ingest(t.Context(), posts("r", 10)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := srv.Shutdown(); err != nil {
		t.Fatal(err)
	}

	srv, err = gpnats.StartServer(gpnats.ServerOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	s = open(srv)
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	lag, err := s.Lag(ctx)
	if err != nil || lag != 10 {
		t.Fatalf("after restart: lag %d, %v; want the 10 posts waiting", lag, err)
	}
}
