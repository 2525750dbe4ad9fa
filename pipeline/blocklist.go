package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geopulse/geopulse"
)

// Blocklist is the gate's memory of what may not come back: suppressed
// accounts and handles, tombstoned posts, and geo scrubs in progress. It is
// loaded from the store and kept in step by Note (before an event is
// applied in this process) and by Refresh (events applied elsewhere).
type Blocklist struct {
	store geopulse.ComplianceStore

	mu         sync.RWMutex
	suppressed map[int64]string
	tombstones map[int64]struct{}
	// scrubs are geo scrubs applied by this process: an author's posts
	// taken up to a time. Their stored posts are tombstoned by the store;
	// the rule also stops posts that were in flight while it was applied.
	scrubs map[int64]time.Time
	// handles is whether any suppression may be a HandleKey, which costs a
	// lower-casing per post to check.
	handles bool
	// gen counts the changes, so that a batch checked before one is
	// checked again (Pipeline.Store).
	gen atomic.Uint64
}

// Generation changes whenever the lists do.
func (b *Blocklist) Generation() uint64 { return b.gen.Load() }

// NewBlocklist loads the suppression list and tombstones from store.
func NewBlocklist(ctx context.Context, store geopulse.ComplianceStore) (*Blocklist, error) {
	b := &Blocklist{store: store, scrubs: map[int64]time.Time{}}
	if err := b.Refresh(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Refresh reloads the lists from the store (keeping this process's scrub
// rules): other processes apply events too.
func (b *Blocklist) Refresh(ctx context.Context) error {
	bl, err := b.store.LoadBlocklist(ctx)
	if err != nil {
		return fmt.Errorf("load blocklist: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.suppressed, b.tombstones = bl.Suppressed, bl.Tombstones
	b.gen.Add(1)
	// Any key may be a handle's; there is no telling them apart.
	b.handles = len(b.suppressed) > 0
	return nil
}

// Run refreshes the lists every interval until ctx ends.
func (b *Blocklist) Run(ctx context.Context, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := b.Refresh(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("blocklist refresh failed", slog.Any(keyError, err))
			}
		}
	}
}

// Check refuses a post whose author or handle is suppressed or that was
// deleted at its source. post.ID and post.Author.ID must be set.
func (b *Blocklist) Check(post *geopulse.Post) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if _, ok := b.tombstones[post.ID]; ok {
		return geopulse.Reject(geopulse.ReasonDeletedAtSource, "The post was deleted at its source.")
	}
	if _, ok := b.suppressed[post.Author.ID]; ok {
		return geopulse.Reject(geopulse.ReasonSuppressed, "The author's account may not be collected.")
	}
	if upTo, ok := b.scrubs[post.Author.ID]; ok && !post.TakenAt.After(upTo) {
		return geopulse.Reject(geopulse.ReasonDeletedAtSource, "The author removed the location of this post at its source.")
	}
	if b.handles && post.Author.Handle != "" {
		if _, ok := b.suppressed[geopulse.HandleKey(post.Source, post.Author.Handle)]; ok {
			return geopulse.Reject(geopulse.ReasonSuppressed, "The author's handle may not be collected.")
		}
	}
	return nil
}

// Note records in memory what ev forbids, before the store applies it, so
// that no batch gated from now on stores what the event removes.
func (b *Blocklist) Note(ev *geopulse.ComplianceEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gen.Add(1)
	switch ev.Kind {
	case geopulse.ComplianceDeletePost:
		b.tombstones[geopulse.PostID(ev.Source, ev.SourceID)] = struct{}{}
	case geopulse.ComplianceDeleteAuthor:
		b.suppressed[geopulse.SuppressionKey(ev.Source, ev.AuthorSourceID)] = geopulse.SuppressDeleted
	case geopulse.ComplianceProtectAuthor:
		b.suppressed[geopulse.SuppressionKey(ev.Source, ev.AuthorSourceID)] = geopulse.SuppressProtected
	case geopulse.ComplianceUnprotectAuthor:
		key := geopulse.SuppressionKey(ev.Source, ev.AuthorSourceID)
		if b.suppressed[key] == geopulse.SuppressProtected {
			delete(b.suppressed, key) // a Refresh restores any other reason
		}
	case geopulse.ComplianceScrubGeo:
		upTo := ev.UpTo
		if upTo.IsZero() {
			upTo = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		key := geopulse.AuthorID(ev.Source, ev.AuthorSourceID)
		if upTo.After(b.scrubs[key]) {
			b.scrubs[key] = upTo
		}
	}
}

// Suppress adds key to the in-memory list (the caller stores it).
func (b *Blocklist) Suppress(key int64, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.suppressed[key] = reason
	b.handles = true
	b.gen.Add(1)
}

// IntakeCheck is what intake runs before a post enters the stream: the
// gate's rules, then the blocklist, so a sender learns at once that a post
// is refused. The pipeline runs both again on whatever reaches it.
type IntakeCheck struct {
	Gate      Gate
	Blocklist *Blocklist
}

// Check implements the intake's checker.
func (c IntakeCheck) Check(post *geopulse.Post, now time.Time) error {
	if err := c.Gate.Check(post, now); err != nil {
		return err
	}
	if c.Blocklist == nil {
		return nil
	}
	// Keys as the pipeline computes them; intake posts may come without.
	p := *post
	p.ID = geopulse.PostID(p.Source, p.SourceID)
	p.Author.ID = geopulse.AuthorID(p.Source, p.Author.SourceID)
	return c.Blocklist.Check(&p)
}
