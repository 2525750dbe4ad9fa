package nats_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	gpnats "github.com/geopulse/geopulse/nats"
)

// fakeLabeller labels by source id: "bad-*" media is refused (final),
// "flaky-*" fails twice then works, "broken-*" always fails.
type fakeLabeller struct {
	mu    sync.Mutex
	calls map[string]int
}

func (f *fakeLabeller) LabelMedia(_ context.Context, p *geopulse.Post) ([]geopulse.Label, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[p.SourceID]++
	switch id := p.SourceID; {
	case len(id) > 4 && id[:4] == "bad-":
		return nil, geopulse.Errorf(geopulse.EINVALID, "refused media")
	case len(id) > 6 && id[:6] == "flaky-" && f.calls[id] <= 2:
		return nil, errors.New("connection reset")
	case len(id) > 7 && id[:7] == "broken-":
		panic("inference exploded")
	}
	return []geopulse.Label{{Kind: geopulse.LabelObject, Name: "dog", Score: 0.9, Origin: geopulse.OriginImage, Model: "fake", Version: "1"}}, nil
}

func (f *fakeLabeller) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

// labelStore records ReplaceLabels; ids in gone are not stored.
type labelStore struct {
	mu     sync.Mutex
	labels map[int64][]geopulse.Label
	gone   map[int64]bool
}

func (s *labelStore) ReplaceLabels(_ context.Context, id int64, origin geopulse.LabelOrigin, labels []geopulse.Label, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if origin != geopulse.OriginImage {
		return errors.New("vision wrote a non-image origin")
	}
	if s.gone[id] {
		return geopulse.Errorf(geopulse.ENOTFOUND, "no post")
	}
	if s.labels == nil {
		s.labels = map[int64][]geopulse.Label{}
	}
	s.labels[id] = labels
	return nil
}

func (s *labelStore) has(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.labels[id]
	return ok
}

func withMedia(p *geopulse.Post) *geopulse.Post {
	p.MediaURLs = []string{"https://example.com/" + p.SourceID + ".jpg"}
	return p
}

func TestVisionLabelsStoredPostsInPlaces(t *testing.T) {
	ctx := context.Background()
	e := newStore(t, true)
	n := newNATS(t, gpnats.Config{})
	runWorker(t, n.stream, gpnats.WorkerOptions{Ingester: e.pl, Vision: true})

	lab, ls := &fakeLabeller{}, &labelStore{gone: map[int64]bool{}}
	good, flaky, bad, broken, gone := withMedia(post("good-1")), withMedia(post("flaky-1")), withMedia(post("bad-1")), withMedia(post("broken-1")), withMedia(post("gone-1"))
	noMedia := post("nomedia-1")
	outside := withMedia(post("outside-1"))
	outside.Lat = -33.9 // far from the venue: no place, no labelling
	expired := withMedia(post("story-1"))
	expired.Kind = geopulse.KindStory
	at := now.Add(-30 * time.Minute)
	expired.ExpiresAt = &at // stored with its counts only, never labelled
	ls.gone[geopulse.PostID("test", "gone-1")] = true

	vw := gpnats.NewVisionWorker(n.stream, gpnats.VisionOptions{Labeller: lab, Store: ls, Now: clock,
		MaxDeliver: 3, Backoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	vctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- vw.Run(vctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})

	pub := gpnats.NewPublisher(n.stream, gpnats.PublisherOptions{Now: clock})
	defer pub.Close()
	all := []*geopulse.Post{good, flaky, bad, broken, gone, noMedia, outside, expired}
	errs, err := pub.Ingest(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("post %s refused at intake: %v", all[i].SourceID, e)
		}
	}
	drained(t, n.stream)
	waitFor(t, 30*time.Second, "vision to finish", func() bool {
		st, err := n.stream.Stats(ctx)
		return err == nil && st.VisionLag == 0 && st.DeadLetters == 1
	})

	if !ls.has(geopulse.PostID("test", "good-1")) || !ls.has(geopulse.PostID("test", "flaky-1")) {
		t.Errorf("good or flaky post not labelled: %v", ls.labels)
	}
	if got := lab.count("flaky-1"); got != 3 {
		t.Errorf("flaky post labelled %d times, want 3 (two transient failures, then success)", got)
	}
	for _, p := range []*geopulse.Post{bad, broken, gone} {
		if ls.has(geopulse.PostID(p.Source, p.SourceID)) {
			t.Errorf("%s has labels", p.SourceID)
		}
	}
	if got := lab.count("bad-1"); got != 1 {
		t.Errorf("refused media tried %d times, want 1 (final)", got)
	}
	if got := lab.count("broken-1"); got != 3 {
		t.Errorf("panicking job tried %d times, want MaxDeliver=3", got)
	}
	for _, id := range []string{"nomedia-1", "outside-1", "story-1"} {
		if got := lab.count(id); got != 0 {
			t.Errorf("%s reached the labeller %d times; only stored posts with live media in a place should", id, got)
		}
	}
	dead, err := n.stream.DeadLetters(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Reason != gpnats.ReasonVisionFailed {
		t.Fatalf("dead letters %+v, want the broken job with reason %s", dead, gpnats.ReasonVisionFailed)
	}
	// A redriven vision dead letter goes back to VISION, not to the pipeline.
	if _, err := n.stream.Redrive(ctx, []uint64{dead[0].Seq}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the redriven job", func() bool { return lab.count("broken-1") > 3 })

	// Erasure reaches the jobs too.
	res, err := n.stream.Purge(ctx, gpnats.PurgeRequest{Source: "test", AuthorSourceID: good.Author.SourceID})
	if err != nil {
		t.Fatal(err)
	}
	if res.Vision != 1 || res.Posts != 1 {
		t.Fatalf("purge removed %d jobs and %d posts, want 1 and 1", res.Vision, res.Posts)
	}
}

// While the pipeline is busy, a job waits (holding its message) and runs
// once it is not: labelling never takes CPU from a lagging pipeline.
func TestVisionYieldsToABusyPipeline(t *testing.T) {
	ctx := context.Background()
	e := newStore(t, true)
	n := newNATS(t, gpnats.Config{})
	runWorker(t, n.stream, gpnats.WorkerOptions{Ingester: e.pl, Vision: true})
	lab, ls := &fakeLabeller{}, &labelStore{}
	var busy atomic.Bool
	busy.Store(true)
	vw := gpnats.NewVisionWorker(n.stream, gpnats.VisionOptions{Labeller: lab, Store: ls, Now: clock, Busy: busy.Load})
	vctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- vw.Run(vctx) }()
	t.Cleanup(func() { cancel(); <-done })

	pub := gpnats.NewPublisher(n.stream, gpnats.PublisherOptions{Now: clock})
	defer pub.Close()
	if _, err := pub.Ingest(ctx, []*geopulse.Post{withMedia(post("wait-1"))}); err != nil {
		t.Fatal(err)
	}
	drained(t, n.stream)
	time.Sleep(700 * time.Millisecond) // long enough for a job to have run, were it allowed
	if got := lab.count("wait-1"); got != 0 {
		t.Fatalf("labelled %d times while the pipeline was busy", got)
	}
	busy.Store(false)
	waitFor(t, 10*time.Second, "the job after the pipeline caught up", func() bool { return ls.has(geopulse.PostID("test", "wait-1")) })
}

// A replay with Vision queues the stored posts' pictures again, from the
// stream's own bytes.
func TestReplayQueuesVision(t *testing.T) {
	ctx := context.Background()
	e := newStore(t, true)
	n := newNATS(t, gpnats.Config{})
	runWorker(t, n.stream, gpnats.WorkerOptions{Ingester: e.pl}) // no vision yet
	pub := gpnats.NewPublisher(n.stream, gpnats.PublisherOptions{Now: clock})
	defer pub.Close()
	if _, err := pub.Ingest(ctx, []*geopulse.Post{withMedia(post("r-1")), post("r-2")}); err != nil {
		t.Fatal(err)
	}
	drained(t, n.stream)
	if st, _ := n.stream.Stats(ctx); st.VisionLag != 0 {
		t.Fatalf("vision lag %d before the replay", st.VisionLag)
	}
	pr, err := n.stream.Replay(ctx, gpnats.ReplayOptions{Since: time.Now().Add(-time.Hour), Ingester: e.pl, Vision: true})
	if err != nil {
		t.Fatal(err)
	}
	if pr.VisionQueued != 1 || pr.VisionLost != 0 {
		t.Fatalf("replay queued %d vision jobs (%d lost), want the one post with media", pr.VisionQueued, pr.VisionLost)
	}
	if st, _ := n.stream.Stats(ctx); st.VisionLag != 1 {
		t.Fatalf("vision lag %d after the replay, want 1", st.VisionLag)
	}
}
