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

// Run refreshes until ctx ends, then once more so that a graceful stop
// leaves nothing queued.
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
			p.Drain(ctx)
		}
	}
}

// Drain refreshes queued profiles until the queue is empty.
func (p *Profiler) Drain(ctx context.Context) int {
	batch := p.Batch
	if batch <= 0 {
		batch = 50_000
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	var total int
	for {
		start := time.Now()
		n, err := p.Store.RefreshProfiles(ctx, now(), batch, false)
		total += n
		if err != nil {
			if p.Logger != nil && ctx.Err() == nil {
				p.Logger.Error("profile refresh failed", "error", err)
			}
			return total
		}
		if n > 0 && p.Logger != nil {
			p.Logger.Debug("profiles refreshed", "authors", n, "duration", time.Since(start))
		}
		if n < batch {
			return total
		}
	}
}
