package privacy

import (
	"context"
	"log/slog"
	"time"

	"github.com/geopulse/geopulse"
)

// Retention windows, per source and kind, at system and workspace level.
//
// A sweep applies the workspace policies first, then the system policy, so
// that a post whose last match a workspace policy removed meets the
// system's Unmatched window in the same sweep. Each policy is applied on
// its own: a failing one is logged and the others still run; the next
// sweep retries it.
//
// Derived aggregates: geopulse has no rollup tables yet. When rollups
// arrive (per place × hour × kind), they are kept past the raw posts'
// window only for groups of at least k distinct authors (the floor every
// reported row has); rows below the floor go with the raw posts.
//
// Author cards and count histories are not aged out here: an author whose
// posts are all gone keeps a card until a compliance event removes it.

// Log keys of the retention sweep.
const (
	retentionKeyWorkspace = "workspace_id"
	retentionKeyDryRun    = "dry_run"
	retentionKeySource    = "source"
	retentionKeyKind      = "kind"
	retentionKeyPosts     = "posts"
	retentionKeyMatches   = "matches"
	retentionKeyMonths    = "months"
	retentionKeyOldest    = "oldest"
	retentionKeyError     = "error"
)

// DefaultRetentionInterval is how often Retention sweeps by default:
// windows are days long, and each sweep walks the old end of the tables.
const DefaultRetentionInterval = time.Hour

// Retention periodically applies retention policies.
type Retention struct {
	Store geopulse.RetentionStore
	// Policies are applied in order within a sweep, workspace policies
	// before the system one (WorkspaceID 0) whatever their order here.
	Policies []geopulse.RetentionPolicy
	// DryRun makes every sweep report what it would remove, and remove
	// nothing.
	DryRun   bool
	Now      func() time.Time // default time.Now
	Interval time.Duration    // default DefaultRetentionInterval
	Logger   *slog.Logger     // nil: discard
}

// Run sweeps once at start, then every Interval, until ctx is done.
func (r *Retention) Run(ctx context.Context) {
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultRetentionInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r.Sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep applies every policy once at the current time and returns the
// reports of those that succeeded. Errors are logged, not returned: the
// next sweep retries, and the sweeper must not stop.
func (r *Retention) Sweep(ctx context.Context) []geopulse.RetentionReport {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	logger := r.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	at := now().UTC()
	var reports []geopulse.RetentionReport
	for _, system := range []bool{false, true} {
		for _, p := range r.Policies {
			if (p.WorkspaceID == 0) != system {
				continue
			}
			if ctx.Err() != nil {
				return reports
			}
			rep, err := r.Store.ApplyRetention(ctx, p, at, r.DryRun)
			if err != nil {
				if ctx.Err() == nil {
					logger.Error("retention failed", retentionKeyWorkspace, p.WorkspaceID, retentionKeyError, err)
				}
				continue
			}
			reports = append(reports, rep)
			logReport(logger, rep)
		}
	}
	return reports
}

// logReport logs one line per (source, kind) with something removed, then
// the policy's totals. Counts only: no ids, handles or places.
func logReport(logger *slog.Logger, rep geopulse.RetentionReport) {
	if rep.Posts == 0 && rep.Matches == 0 {
		logger.Debug("retention applied", retentionKeyWorkspace, rep.WorkspaceID, retentionKeyDryRun, rep.DryRun, retentionKeyPosts, 0)
		return
	}
	for _, c := range rep.Counts {
		logger.Info("retention removed", retentionKeyWorkspace, rep.WorkspaceID, retentionKeyDryRun, rep.DryRun,
			retentionKeySource, c.Source, retentionKeyKind, string(c.Kind), retentionKeyPosts, c.Posts, retentionKeyMatches, c.Matches,
			retentionKeyOldest, c.Oldest.Format(time.RFC3339))
	}
	logger.Info("retention applied", retentionKeyWorkspace, rep.WorkspaceID, retentionKeyDryRun, rep.DryRun,
		retentionKeyPosts, rep.Posts, retentionKeyMatches, rep.Matches, retentionKeyMonths, rep.Months)
}
