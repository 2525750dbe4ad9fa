package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/pipeline"
	"github.com/prometheus/client_golang/prometheus"
)

// notifyingPlaces is the API's place service in the api role: after every
// place write it tells the worker processes, whose match indexes would
// otherwise not know the place.
type notifyingPlaces struct {
	geopulse.PlaceService
	stream *gpnats.Stream
	logger *slog.Logger
}

func (p notifyingPlaces) notify(c gpnats.PlaceChange) {
	if err := p.stream.NotifyPlacesChanged(c); err != nil {
		p.logger.Warn("notify workers of a place change", "error", err)
	}
}

func (p notifyingPlaces) CreatePlace(ctx context.Context, pl *geopulse.Place) error {
	err := p.PlaceService.CreatePlace(ctx, pl)
	if err == nil {
		p.notify(gpnats.PlaceChange{WorkspaceID: pl.WorkspaceID, PlaceID: pl.ID})
	}
	return err
}

func (p notifyingPlaces) UpdatePlace(ctx context.Context, workspaceID, id int64, upd geopulse.PlaceUpdate) (*geopulse.Place, error) {
	pl, err := p.PlaceService.UpdatePlace(ctx, workspaceID, id, upd)
	if err == nil {
		p.notify(gpnats.PlaceChange{WorkspaceID: workspaceID, PlaceID: id})
	}
	return pl, err
}

func (p notifyingPlaces) DeletePlace(ctx context.Context, workspaceID, id int64) error {
	err := p.PlaceService.DeletePlace(ctx, workspaceID, id)
	if err == nil {
		p.notify(gpnats.PlaceChange{})
	}
	return err
}

// reloadingIngester is the worker role's pipeline. On a place-change notice
// it builds a new pipeline (which loads every place from the store) and
// swaps it in once the batches in flight on the old one have committed;
// then it re-matches the changed place against the store. So a post this
// process stored with the old index is matched by that backfill, and every
// later post by the new index. (The pipeline offers no exported index
// refresh, hence the rebuild: milliseconds at 10,000 places.)
type reloadingIngester struct {
	store  geopulse.Store
	opts   pipeline.Options
	logger *slog.Logger
	mu     sync.RWMutex // Ingest holds it shared, the swap exclusively
	cur    *pipeline.Pipeline
	reload sync.Mutex // one reload at a time
}

func (r *reloadingIngester) Ingest(ctx context.Context, posts []*geopulse.Post) ([]error, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cur.Ingest(ctx, posts)
}

func (r *reloadingIngester) placesChanged(ctx context.Context, c gpnats.PlaceChange) {
	r.reload.Lock()
	defer r.reload.Unlock()
	p, err := pipeline.New(ctx, r.store, r.opts)
	if err != nil {
		r.logger.Error("reload places", "error", err)
		return
	}
	r.mu.Lock()
	r.cur = p
	r.mu.Unlock()
	if c.PlaceID == 0 {
		return
	}
	place, err := r.store.FindPlaceByID(ctx, c.WorkspaceID, c.PlaceID)
	if err != nil {
		r.logger.Warn("re-match changed place", "place_id", c.PlaceID, "error", err)
		return
	}
	shape, err := geo.NewShape(place)
	if err != nil {
		r.logger.Warn("re-match changed place", "place_id", c.PlaceID, "error", err)
		return
	}
	n, err := r.store.MatchPlace(ctx, place.ID, shape.BBox(), shape.Contains)
	if err != nil {
		r.logger.Error("re-match changed place", "place_id", c.PlaceID, "error", err)
		return
	}
	r.logger.Info("places reloaded", "place_id", c.PlaceID, "matches", n)
}

// reRegisterer lets a rebuilt pipeline take over its predecessor's metric
// series: it unregisters a collector with the same descriptors first.
// Counters restart from zero on a reload, which Prometheus reads as a reset.
type reRegisterer struct{ *prometheus.Registry }

func (r reRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		r.Registry.Unregister(c)
		r.Registry.MustRegister(c)
	}
}

func (r reRegisterer) Register(c prometheus.Collector) error {
	r.Registry.Unregister(c)
	return r.Registry.Register(c)
}
