package pipeline

import (
	"context"
	"log/slog"
	"time"

	"github.com/geopulse/geopulse"
)

// Profiler keeps author profiles fresh: every Interval it recomputes the
// profiles the pipeline queued (new posts, labels from images, deletions)
// from the authors' stored posts. Recomputing rather than incrementing
// means a deleted post or an erased author leaves nothing behind.
type Profiler struct {
	Store    geopulse.AudienceStore
	Interval time.Duration // default 5 s
	Batch    int           // authors per refresh; default 50,000
	Logger   *slog.Logger
	Now      func() time.Time
}

// Run refreshes one batch per interval until ctx ends, then drains the
// queue so that a graceful stop leaves nothing queued. One batch per tick,
// not a drain: a round holds the store's writer for part of its time
// (BenchmarkProfileRefresh: ~0.9 s for 50,000 authors at 10M posts), so
// under heavy ingest profiles lag rather than ingest stalls.
func (p *Profiler) Run(ctx context.Context) {
	every := p.Interval
	if every <= 0 {
		every = 5 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			p.Drain(context.WithoutCancel(ctx))
			return
		case <-t.C:
			p.round(ctx)
		}
	}
}

// Drain refreshes queued profiles until the queue is empty.
func (p *Profiler) Drain(ctx context.Context) int {
	var total int
	for {
		n, more := p.round(ctx)
		total += n
		if !more {
			return total
		}
	}
}

// round refreshes one batch; more reports a full batch (more may wait).
func (p *Profiler) round(ctx context.Context) (n int, more bool) {
	batch := p.Batch
	if batch <= 0 {
		batch = 50_000
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	start := time.Now()
	n, err := p.Store.RefreshProfiles(ctx, now(), batch, false)
	if err != nil {
		if p.Logger != nil && ctx.Err() == nil {
			p.Logger.Error("profile refresh failed", "error", err)
		}
		return n, false
	}
	if n > 0 && p.Logger != nil {
		p.Logger.Debug("profiles refreshed", "authors", n, "duration", time.Since(start))
	}
	return n, n == batch
}
