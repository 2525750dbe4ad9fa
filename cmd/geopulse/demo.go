package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/simulate"
)

// demo seeds a workspace with a simulated city life and keeps it alive.
type demo struct {
	cfg      DemoConfig
	store    geopulse.Store
	places   geopulse.PlaceService
	ingester geopulse.Ingester
	// drain, if set, waits until the ingested history is processed: the
	// ingester may be the stream's publisher, which answers once posts are
	// in the stream, before the workers stored them.
	drain  func(context.Context) error
	logger *slog.Logger
	world  *simulate.World
	media  *demoMedia // nil: live posts keep the world's unreachable media URLs
}

// setup creates the demo workspace on first start (places and history), and
// on every start issues a fresh API key: only key hashes are stored, so an
// earlier key cannot be printed again.
func (d *demo) setup(ctx context.Context, stdout io.Writer, baseURL string) (string, error) {
	now := time.Now().UTC()
	d.world = simulate.New(simulate.Options{
		Seed: d.cfg.Seed, Venues: d.cfg.Venues, Authors: authorsFor(d.cfg.HistoryPosts, d.cfg.HistoryDays),
		Start: now.Add(-time.Duration(d.cfg.HistoryDays) * 24 * time.Hour), End: now,
	})
	ws, err := d.store.FindWorkspaceByName(ctx, d.cfg.Workspace)
	fresh := geopulse.ErrorCode(err) == geopulse.ENOTFOUND
	switch {
	case fresh:
		ws = &geopulse.Workspace{Name: d.cfg.Workspace}
		if err := d.store.CreateWorkspace(ctx, ws); err != nil {
			return "", err
		}
		// The lowest floors geopulse allows, so that a week of simulated
		// history already shows audiences; real workspaces start at 50/100.
		demoFloors := geopulse.PrivacySettings{MinAuthors: geopulse.MinMinAuthors, SegmentFloor: 2 * geopulse.MinMinAuthors}.WithDefaults()
		if err := d.store.SavePrivacySettings(ctx, ws.ID, demoFloors); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	}
	key := geopulse.NewAPIKey()
	if err := d.store.CreateAPIKey(ctx, ws.ID, geopulse.HashAPIKey(key)); err != nil {
		return "", err
	}
	if fresh {
		if err := d.seed(ctx, ws); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(stdout, "\ndemo workspace %q — API key (shown once):\n\n    %s\n\n"+
		"open %s and sign in with this key, or try the API:\n    curl -H 'Authorization: Bearer %s' '%s/v1/places'\n\n",
		ws.Name, key, baseURL, key, baseURL)
	return key, nil
}

// seed creates the world's venues as places, then ingests history through the
// same pipeline as live traffic, in batches, logging progress.
func (d *demo) seed(ctx context.Context, ws *geopulse.Workspace) error {
	start := time.Now()
	for _, p := range d.world.Places() {
		p.WorkspaceID = ws.ID
		if err := d.places.CreatePlace(ctx, p); err != nil {
			return fmt.Errorf("seed place %q: %w", p.Name, err)
		}
	}
	const batch = 5_000
	var accepted, rejected int
	posts := make([]*geopulse.Post, 0, batch)
	// History ends now: the world is sized to reach now after HistoryPosts
	// posts, but the stream is random, and a post from a few minutes ahead
	// would sort above every live post in feeds.
	now := time.Now()
	for n, done := 0, false; n < d.cfg.HistoryPosts && !done; {
		posts = posts[:0]
		for ; len(posts) < batch && n < d.cfg.HistoryPosts; n++ {
			p := d.world.Next()
			if !p.TakenAt.Before(now) {
				done = true
				break
			}
			posts = append(posts, p)
		}
		errs, err := d.ingester.Ingest(ctx, posts)
		if err != nil {
			return fmt.Errorf("seed history: %w", err)
		}
		for _, err := range errs {
			if err != nil {
				rejected++
			} else {
				accepted++
			}
		}
		if n%50_000 == 0 || n == d.cfg.HistoryPosts || done {
			d.logger.Info("demo history", "posts", n, "of", d.cfg.HistoryPosts)
		}
	}
	if d.drain != nil {
		if err := d.drain(ctx); err != nil {
			return fmt.Errorf("seed history: %w", err)
		}
	}
	d.logger.Info("demo seeded", "places", len(d.world.Places()), "accepted", accepted,
		"rejected", rejected, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// stream ingests live simulated posts at the configured rate until ctx ends.
// Posts are sent in small batches each tick so high rates stay cheap.
func (d *demo) stream(ctx context.Context) {
	if !d.cfg.Live {
		return
	}
	rate := d.cfg.Rate
	if rate == 0 {
		// The world's own pace keeps live traffic in proportion to the
		// history, so charts that end "now" do not jump.
		rate = float64(authorsFor(d.cfg.HistoryPosts, d.cfg.HistoryDays)) * simulate.PostsPerAuthorDay / 86400
	}
	const tick = 100 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	var owed float64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			owed += rate * tick.Seconds()
			n := int(owed)
			owed -= float64(n)
			if n == 0 {
				continue
			}
			posts := make([]*geopulse.Post, n)
			for i := range posts {
				posts[i] = d.world.Live(now.UTC())
			}
			d.media.rewrite(posts, now)
			if _, err := d.ingester.Ingest(ctx, posts); err != nil && !errors.Is(err, context.Canceled) {
				d.logger.Error("demo stream", "error", err)
			}
		}
	}
}

// authorsFor sizes a simulated world so that posts posts span days days: the
// simulator's stream runs at PostsPerAuthorDay per author, so history that
// ends "now" needs this many authors.
func authorsFor(posts, days int) int {
	return max(int(float64(posts)/(simulate.PostsPerAuthorDay*float64(days))), 200)
}
