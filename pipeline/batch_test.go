package pipeline_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/pipeline"
)

// TestStoreRechecksStaleBatch shows that a batch prepared before a
// compliance event or a place change, and stored after it, is stored as
// if it had been prepared after: Prepare takes no lock, so Store redoes
// what changed in between.
func TestStoreRechecksStaleBatch(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cafe := e.venue(t, "cafe", 51.5, -0.12, 100)

	b := e.pl.Prepare([]*geopulse.Post{post("1", 51.5, -0.12), post("2", 51.5, -0.12), post("3", 48.85, 2.35)})
	if _, err := e.pl.Comply(ctx, []*geopulse.ComplianceEvent{{Kind: geopulse.ComplianceDeletePost, Source: "test", SourceID: "2"}}); err != nil {
		t.Fatal(err)
	}
	// Paris was nobody's place when the batch was matched.
	paris := e.venue(t, "paris", 48.85, 2.35, 100)
	errs, err := e.pl.Store(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	reasons := make([]string, len(errs))
	for i, err := range errs {
		reasons[i] = geopulse.ErrorReason(err)
	}
	if want := []string{"", geopulse.ReasonDeletedAtSource, ""}; !slices.Equal(reasons, want) {
		t.Fatalf("reasons = %q, want %q", reasons, want)
	}
	if got := ids(e.feed(t, cafe.ID)); !slices.Equal(got, []string{"1"}) {
		t.Fatalf("cafe feed = %v, want [1]", got)
	}
	if got := ids(e.feed(t, paris.ID)); !slices.Equal(got, []string{"3"}) {
		t.Fatalf("paris feed = %v, want [3]", got)
	}
}

// TestPrepareOverlapsStore stores a stream of batches with each one
// prepared while the one before is being stored, the way import and the
// benchmarks drive the pipeline: every post lands once, and of a post
// re-sent in every batch the last copy wins.
func TestPrepareOverlapsStore(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cafe := e.venue(t, "cafe", 51.5, -0.12, 100)
	const batches, size = 10, 40
	prepared := make(chan *pipeline.Batch, 1)
	go func() {
		defer close(prepared)
		for i := range batches {
			posts := make([]*geopulse.Post, 0, size+1)
			for j := range size {
				posts = append(posts, post(fmt.Sprintf("%d-%d", i, j), 51.5, -0.12))
			}
			again := post("again", 51.5, -0.12)
			again.Likes = int64(i)
			prepared <- e.pl.Prepare(append(posts, again))
		}
	}()
	for b := range prepared {
		errs, err := e.pl.Store(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
	feed := e.feed(t, cafe.ID)
	if len(feed) != batches*size+1 {
		t.Fatalf("%d posts stored, want %d", len(feed), batches*size+1)
	}
	for _, p := range feed {
		if p.SourceID == "again" && p.Likes != batches-1 {
			t.Fatalf("re-sent post has %d likes, want the last batch's %d", p.Likes, batches-1)
		}
	}
}
