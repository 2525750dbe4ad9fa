package main

import (
	"context"
	"log/slog"

	"github.com/geopulse/geopulse"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/pipeline"
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

// placesChanged is the worker role's answer to a place-change notice from
// an api process: reload the index and re-match the changed place.
func placesChanged(ctx context.Context, p *pipeline.Pipeline, c gpnats.PlaceChange, logger *slog.Logger) {
	n, err := p.PlaceChanged(ctx, c.WorkspaceID, c.PlaceID)
	if err != nil {
		logger.Error("reload places", "place_id", c.PlaceID, "error", err)
		return
	}
	logger.Info("places reloaded", "place_id", c.PlaceID, "matches", n)
}
