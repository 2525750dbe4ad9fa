package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/pipeline"
)

// TestProfilerFollowsIngest: what the pipeline stores reaches the author's
// profile once the profiler runs, and a deletion leaves it again.
func TestProfilerFollowsIngest(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.venue(t, "Cafe", 51.5, -0.12, 200)
	p := post("p1", 51.5, -0.12)
	p.Labels = []geopulse.Label{{Kind: geopulse.LabelInterest, Name: "coffee", Origin: geopulse.OriginText, Score: 1, Model: "m", Version: "1"}}
	if errs, err := e.pl.Ingest(ctx, []*geopulse.Post{p}); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	prof := &pipeline.Profiler{Store: e.store, Now: func() time.Time { return now }}
	terms := func() map[string]bool {
		list, err := e.store.AuthorProfile(ctx, p.Author.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, pt := range list {
			out[pt.Kind+":"+pt.Term] = true
		}
		return out
	}
	if len(terms()) != 0 {
		t.Fatal("a profile before the profiler ran")
	}
	if n := prof.Drain(ctx); n != 1 {
		t.Fatalf("drained %d profiles, want 1", n)
	}
	if got := terms(); !got["interest:coffee"] || len(got) < 3 { // interest, hour of week, home
		t.Fatalf("profile = %v", got)
	}
	if _, err := e.pl.Comply(ctx, []*geopulse.ComplianceEvent{{Kind: geopulse.ComplianceDeletePost, Source: p.Source, SourceID: p.SourceID}}); err != nil {
		t.Fatal(err)
	}
	// Run stops with a drain.
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { prof.Run(run); close(done) }()
	stop()
	<-done
	if got := terms(); len(got) != 0 {
		t.Fatalf("profile after the post was deleted = %v", got)
	}
}
