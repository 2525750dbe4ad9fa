package privacy

import (
	"context"
	"log/slog"
	"time"

	"github.com/geopulse/geopulse"
)

// Janitor periodically deletes content whose time is up.
type Janitor struct {
	Posts    geopulse.PostService
	Now      func() time.Time // default time.Now
	Interval time.Duration    // default 1 minute
	Logger   *slog.Logger     // nil: discard
}

// Run sweeps once at start, then every Interval, until ctx is done.
func (j *Janitor) Run(ctx context.Context) {
	interval := j.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		j.Sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep expires stories once and returns how many it expired. Errors are
// logged, not returned: the next sweep retries, and a janitor must not stop.
func (j *Janitor) Sweep(ctx context.Context) int {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	logger := j.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	n, err := j.Posts.ExpireStories(ctx, now().UTC())
	if err != nil {
		if ctx.Err() == nil {
			logger.Error("expire stories", "error", err)
		}
		return 0
	}
	if n > 0 {
		logger.Info("stories expired", "count", n)
	}
	return n
}
