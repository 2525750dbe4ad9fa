package pipeline

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
)

// Places validates places and keeps the match index and the stored matches
// in step with them. It implements geopulse.PlaceService.
type Places struct {
	store geopulse.PlaceStore
	p     *Pipeline
}

var _ geopulse.PlaceService = (*Places)(nil)

// Limits on the descriptive fields of a place.
const (
	maxNameLen  = 200
	maxLabelLen = 100 // category, brand, each group
	maxGroups   = 20
)

// CreatePlace validates p, stores it, puts it in the index and matches it
// against stored posts (so history appears at once).
func (s *Places) CreatePlace(ctx context.Context, p *geopulse.Place) error {
	shape, err := validatePlace(p)
	if err != nil {
		return err
	}
	if err := s.store.CreatePlace(ctx, p); err != nil {
		return err
	}
	return s.reindex(ctx, p, shape)
}

// FindPlaceByID returns a place of the workspace; ENOTFOUND.
func (s *Places) FindPlaceByID(ctx context.Context, workspaceID, id int64) (*geopulse.Place, error) {
	return s.store.FindPlaceByID(ctx, workspaceID, id)
}

// FindPlaces returns places of a workspace.
func (s *Places) FindPlaces(ctx context.Context, filter geopulse.PlaceFilter) ([]*geopulse.Place, error) {
	return s.store.FindPlaces(ctx, filter)
}

// UpdatePlace validates the updated place before anything is written; a new
// shape re-indexes and re-matches the place.
func (s *Places) UpdatePlace(ctx context.Context, workspaceID, id int64, upd geopulse.PlaceUpdate) (*geopulse.Place, error) {
	old, err := s.store.FindPlaceByID(ctx, workspaceID, id)
	if err != nil {
		return nil, err
	}
	next := *old
	applyUpdate(&next, upd)
	shape, err := validatePlace(&next)
	if err != nil {
		return nil, err
	}
	// Switching a venue to a geofence (or back) must clear the other shape.
	if upd.Geometry != nil {
		upd.Center, upd.RadiusM = nil, nil
	}
	updated, err := s.store.UpdatePlace(ctx, workspaceID, id, upd)
	if err != nil {
		return nil, err
	}
	if upd.Center != nil || upd.RadiusM != nil || upd.Geometry != nil {
		if err := s.reindex(ctx, updated, shape); err != nil {
			return nil, err
		}
		updated.BBox = shape.BBox()
	}
	return updated, nil
}

// DeletePlace removes the place, its matches and its index entry.
func (s *Places) DeletePlace(ctx context.Context, workspaceID, id int64) error {
	if err := s.store.DeletePlace(ctx, workspaceID, id); err != nil {
		return err
	}
	return s.p.refreshIndex(ctx)
}

// reindex refreshes the index before backfilling, so that a post ingested
// while the backfill runs is matched by one or the other, never by neither.
func (s *Places) reindex(ctx context.Context, p *geopulse.Place, shape *geo.Shape) error {
	if err := s.p.refreshIndex(ctx); err != nil {
		return err
	}
	_, err := s.p.backfill(ctx, p.ID, shape)
	return err
}

func applyUpdate(p *geopulse.Place, upd geopulse.PlaceUpdate) {
	if upd.Name != nil {
		p.Name = *upd.Name
	}
	if upd.Category != nil {
		p.Category = *upd.Category
	}
	if upd.Brand != nil {
		p.Brand = *upd.Brand
	}
	if upd.Groups != nil {
		p.Groups = *upd.Groups
	}
	if upd.Geometry != nil {
		p.Geometry, p.Center, p.RadiusM = *upd.Geometry, nil, 0
	}
	if upd.Center != nil {
		c := *upd.Center
		p.Center, p.Geometry = &c, nil
	}
	if upd.RadiusM != nil {
		p.RadiusM = *upd.RadiusM
	}
}

// validatePlace checks the descriptive fields and the shape, normalises
// groups and sets p.BBox.
func validatePlace(p *geopulse.Place) (*geo.Shape, error) {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "A place needs a name.")
	}
	if err := checkLabel("name", p.Name, maxNameLen); err != nil {
		return nil, err
	}
	if err := checkLabel("category", p.Category, maxLabelLen); err != nil {
		return nil, err
	}
	if err := checkLabel("brand", p.Brand, maxLabelLen); err != nil {
		return nil, err
	}
	if len(p.Groups) > maxGroups {
		return nil, geopulse.Reject(geopulse.ReasonTooLarge, "A place can be in at most %d groups.", maxGroups)
	}
	groups := make([]string, 0, len(p.Groups))
	for _, g := range p.Groups {
		g = strings.TrimSpace(g)
		if err := checkLabel("group", g, maxLabelLen); err != nil {
			return nil, err
		}
		if g != "" && !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	p.Groups = groups
	shape, err := geo.NewShape(p)
	if err != nil {
		return nil, err
	}
	p.BBox = shape.BBox()
	return shape, nil
}

func checkLabel(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return geopulse.Reject(geopulse.ReasonInvalidUTF8, "The %s must be valid UTF-8.", field)
	}
	if utf8.RuneCountInString(v) > max {
		return geopulse.Reject(geopulse.ReasonTooLarge, "The %s is longer than %d characters.", field, max)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return geopulse.Reject(geopulse.ReasonInvalidField, "The %s contains control characters.", field)
		}
	}
	return nil
}
