package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
	"github.com/geopulse/geopulse/text"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Pipeline. Zero values are sane defaults.
type Options struct {
	Now        func() time.Time      // default time.Now
	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: metrics are kept but not exported
	MaxFuture  time.Duration         // see Gate; default 1h
	MaxCaption int                   // see Gate; default 10,000
	// Text reads language, sentiment, brands and interests from the words
	// of each post; nil leaves them unset (no `make ml-assets`).
	Text *text.Analyzer
}

// Pipeline validates, enriches, matches and stores posts. It implements
// geopulse.Ingester and is safe for concurrent use.
type Pipeline struct {
	store  geopulse.Store
	now    func() time.Time
	logger *slog.Logger
	gate   Gate
	block  *Blocklist

	text  *text.Analyzer
	index atomic.Pointer[geo.Index]
	// categories are the stored places' categories by id, for the text
	// analysis of the posts matched to them; swapped with index.
	categories atomic.Pointer[map[int64]string]
	indexMu    sync.Mutex // serialises index rebuilds
	// inflight is held shared by every Store call. A rebuild takes it
	// exclusively once after swapping the index, which waits out batches
	// matched against the old index, so a backfill that follows sees them;
	// Comply likewise after noting an event in the blocklist.
	inflight sync.RWMutex
	places   *Places

	metrics metrics
}

var (
	_ geopulse.Ingester = (*Pipeline)(nil)
	_ geopulse.Complier = (*Pipeline)(nil)
)

// New loads every place from the store into the match index.
func New(ctx context.Context, store geopulse.Store, opts Options) (*Pipeline, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{store: store, now: opts.Now, logger: logger, metrics: newMetrics(opts.Registerer), text: opts.Text,
		gate: Gate{MaxFuture: opts.MaxFuture, MaxCaption: opts.MaxCaption}}
	p.places = &Places{store: store, p: p}
	if err := p.refreshIndex(ctx); err != nil {
		return nil, err
	}
	var err error
	if p.block, err = NewBlocklist(ctx, store); err != nil {
		return nil, err
	}
	return p, nil
}

// Blocklist returns what the pipeline refuses; callers run its Refresh
// loop when other processes apply compliance events too.
func (p *Pipeline) Blocklist() *Blocklist { return p.block }

// Places returns the place service that keeps the index and matches in step.
func (p *Pipeline) Places() *Places { return p.places }

// refreshIndex rebuilds the in-memory index from the store. Rebuilding from
// the source of truth (rather than patching) keeps the index exactly equal to
// the stored places; at 10,000 places it takes milliseconds.
func (p *Pipeline) refreshIndex(ctx context.Context) error {
	p.indexMu.Lock()
	defer p.indexMu.Unlock()
	places, err := p.store.AllPlaces(ctx)
	if err != nil {
		return fmt.Errorf("load places: %w", err)
	}
	cats := make(map[int64]string, len(places))
	for _, pl := range places {
		if pl.Category != "" {
			cats[pl.ID] = pl.Category
		}
	}
	p.categories.Store(&cats)
	ix, errs := geo.NewIndex(places)
	for _, err := range errs {
		p.logger.Warn("place skipped by index", slog.Any(keyError, err))
	}
	p.index.Store(ix)
	p.metrics.places.Set(float64(ix.Len()))
	p.inflight.Lock()
	p.inflight.Unlock() //nolint:staticcheck // an intentional barrier, see inflight
	return nil
}

// PlaceChanged is what a process does when another process changed a place:
// reload the index from the store, and when placeID is not zero (a create or
// reshape, not a delete) re-match that place against the stored posts, which
// catches posts this process stored with its old index. It returns the
// number of matches the place has.
func (p *Pipeline) PlaceChanged(ctx context.Context, workspaceID, placeID int64) (int, error) {
	if err := p.refreshIndex(ctx); err != nil {
		return 0, err
	}
	if placeID == 0 {
		return 0, nil
	}
	place, err := p.store.FindPlaceByID(ctx, workspaceID, placeID)
	if err != nil {
		return 0, fmt.Errorf("find changed place %d: %w", placeID, err)
	}
	shape, err := geo.NewShape(place)
	if err != nil {
		return 0, fmt.Errorf("shape of changed place %d: %w", placeID, err)
	}
	return p.backfill(ctx, place.ID, shape)
}

// backfill rewrites a place's matches from the stored posts.
func (p *Pipeline) backfill(ctx context.Context, placeID int64, shape *geo.Shape) (int, error) {
	n, err := p.store.MatchPlace(ctx, placeID, shape.BBox(), shape.Contains)
	if err != nil {
		return 0, fmt.Errorf("backfill place %d: %w", placeID, err)
	}
	p.metrics.backfilled.Add(float64(n))
	p.logger.Debug("place backfilled", "place_id", placeID, "matches", n)
	return n, nil
}

// Ingest gates, enriches and stores posts. The returned slice has one entry
// per post: nil when accepted, else an *geopulse.Error with a Reason. Posts
// are modified in place (ID, Cell, tags, PlaceIDs, ExpiresAt).
func (p *Pipeline) Ingest(ctx context.Context, posts []*geopulse.Post) ([]error, error) {
	return p.Store(ctx, p.Prepare(posts))
}

// Batch is a batch of posts that Prepare gated, enriched, matched and
// analysed, ready for Store.
type Batch struct {
	posts []*geopulse.Post
	errs  []error // one per post; nil for the kept ones, so far
	// What the posts were checked and matched against: Store redoes the
	// checks and matches if either changed meanwhile.
	index *geo.Index
	block uint64
}

// Prepare does the CPU work of ingesting posts: the gate, enrichment, the
// blocklist, place matching and text analysis. It takes no lock and
// writes nothing, so a caller with a stream of batches prepares the next
// one while Store writes the last: the two overlap on two cores.
func (p *Pipeline) Prepare(posts []*geopulse.Post) *Batch {
	start := time.Now()
	now := p.now().UTC()
	b := &Batch{posts: posts, errs: make([]error, len(posts)), index: p.index.Load(), block: p.block.Generation()}
	for i, post := range posts {
		if err := p.gate.Check(post, now); err != nil {
			b.errs[i] = err
			continue
		}
		enrich(post, now)
		b.errs[i] = p.block.Check(post)
	}
	p.match(b, p.categories.Load())
	p.metrics.stage.WithLabelValues("gate").Observe(time.Since(start).Seconds())
	return b
}

// match matches b's kept posts to the places of b.index and analyses their
// text, which depends on the places' categories.
func (p *Pipeline) match(b *Batch, cats *map[int64]string) {
	var placeCats []string
	for i, post := range b.posts {
		if b.errs[i] != nil {
			continue
		}
		post.PlaceIDs = b.index.Match(post.Lat, post.Lon, post.AccuracyM, post.PlaceIDs[:0])
		if p.text != nil {
			placeCats = placeCats[:0]
			for _, id := range post.PlaceIDs {
				if c := (*cats)[id]; c != "" {
					placeCats = append(placeCats, c)
				}
			}
			p.text.Analyze(post, placeCats)
		}
	}
}

// Store writes a prepared batch, once, and returns one entry per post, as
// Ingest does. Batches are stored in the order of the calls, which callers
// that overlap Prepare and Store keep by storing from one goroutine.
func (p *Pipeline) Store(ctx context.Context, b *Batch) ([]error, error) {
	p.inflight.RLock()
	defer p.inflight.RUnlock()
	// Under inflight, a place change or compliance event that came after
	// Prepare is seen here (both change what they change before taking
	// inflight), or waits until this batch is stored.
	if gen := p.block.Generation(); gen != b.block {
		for i, post := range b.posts {
			if b.errs[i] == nil {
				b.errs[i] = p.block.Check(post)
			}
		}
		b.block = gen
	}
	if ix := p.index.Load(); ix != b.index {
		b.index = ix
		p.match(b, p.categories.Load())
	}
	errs := b.errs
	keep := make([]*geopulse.Post, 0, len(b.posts))
	at := make([]int, 0, len(b.posts))
	for i, post := range b.posts {
		if errs[i] != nil {
			p.metrics.rejected.WithLabelValues(geopulse.ErrorReason(errs[i])).Inc()
			continue
		}
		keep = append(keep, post)
		at = append(at, i)
	}
	if len(keep) > 0 {
		start := time.Now()
		serrs, err := p.store.UpsertPosts(ctx, keep)
		p.metrics.stage.WithLabelValues("store").Observe(time.Since(start).Seconds())
		if err != nil {
			p.metrics.storeErrors.Inc()
			return nil, fmt.Errorf("store posts: %w", err)
		}
		for j, err := range serrs {
			if err != nil {
				errs[at[j]] = err
				p.metrics.rejected.WithLabelValues(geopulse.ErrorReason(err)).Inc()
			}
		}
	}
	var accepted int
	for _, err := range errs {
		if err == nil {
			accepted++
		}
	}
	p.metrics.accepted.Add(float64(accepted))
	return errs, nil
}

// Comply applies compliance events, in order. Each event is first noted
// in the blocklist, so batches gated from then on cannot store what it
// removes, and then applied once every batch gated before has finished
// (the inflight barrier): nothing in flight in this process outlives it.
// Posts stored by other processes in the moment before they learn of the
// event (Blocklist.Refresh) are the documented exception.
func (p *Pipeline) Comply(ctx context.Context, events []*geopulse.ComplianceEvent) ([]error, error) {
	errs := make([]error, len(events))
	for i, ev := range events {
		if ev == nil {
			errs[i] = geopulse.Reject(geopulse.ReasonMissingField, "Empty compliance event.")
			continue
		}
		if err := ev.Validate(); err != nil {
			errs[i] = err
			continue
		}
		p.block.Note(ev)
		p.inflight.Lock()
		p.inflight.Unlock() //nolint:staticcheck // an intentional barrier, see inflight
		res, err := p.store.ApplyCompliance(ctx, *ev)
		if err != nil {
			if geopulse.ErrorCode(err) == geopulse.EINVALID {
				errs[i] = err
				continue
			}
			return nil, fmt.Errorf("apply compliance event: %w", err)
		}
		p.metrics.compliance.WithLabelValues(string(ev.Kind)).Inc()
		p.metrics.removed.Add(float64(res.PostsRemoved))
		p.logger.Info("compliance event applied", "kind", ev.Kind, "source", ev.Source,
			"posts_removed", res.PostsRemoved, "author_removed", res.AuthorRemoved)
	}
	return errs, nil
}

// enrich fills the derived fields of a gated post.
func enrich(post *geopulse.Post, now time.Time) {
	post.ID = geopulse.PostID(post.Source, post.SourceID)
	post.Author.Source = post.Source
	post.Author.ID = geopulse.AuthorID(post.Source, post.Author.SourceID)
	post.TakenAt = post.TakenAt.UTC()
	if post.Kind == "" {
		post.Kind = geopulse.KindPhoto
	}
	if post.ObservedAt.IsZero() {
		post.ObservedAt = now
	}
	post.ObservedAt = post.ObservedAt.UTC()
	if post.LocationFrom == "" {
		post.LocationFrom = geopulse.LocationPoint
	}
	post.Cell = geo.CellID(post.Lat, post.Lon)
	post.Hashtags = text.Hashtags(post.Hashtags, post.Caption)
	post.Mentions = text.Mentions(post.Mentions, post.Caption)
	if post.Kind == geopulse.KindStory {
		if post.ExpiresAt == nil {
			exp := post.TakenAt.Add(geopulse.StoryTTL)
			post.ExpiresAt = &exp
		}
		// A story that is already gone at its source is never stored with content.
		if !post.ExpiresAt.After(now) {
			StripContent(post)
		}
	}
}

// StripContent removes what an expired story may no longer hold: only the
// fact that it existed (kind, time, place, author) survives for counts.
func StripContent(post *geopulse.Post) {
	post.Caption = ""
	post.Hashtags = nil
	post.Mentions = nil
	post.MediaURLs = nil
	post.Expired = true
}
