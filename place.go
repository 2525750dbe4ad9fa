package geopulse

import (
	"context"
	"encoding/json"
	"time"
)

// Place is an area a workspace cares about: a venue (Center + RadiusM) or a
// geofence (Geometry, a GeoJSON Polygon or MultiPolygon). Exactly one of the
// two shapes is set.
type Place struct {
	ID          int64
	WorkspaceID int64
	Name        string
	Category    string
	Brand       string
	Groups      []string
	// Sensitive marks the place as a sensitive area (a clinic's grounds,
	// a shelter): posts there never reach profiles or audiences, and it
	// cannot be targeted. SensitiveCategory, set by stores on read, says
	// its category is on the deny list, with the same effect.
	Sensitive         bool
	SensitiveCategory bool

	Center   *LatLon
	RadiusM  float64
	Geometry json.RawMessage

	// BBox is derived from the shape when the place is saved.
	BBox BBox

	CreatedAt time.Time
	UpdatedAt time.Time
}

// LatLon is a point in WGS84 degrees.
type LatLon struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// BBox is a bounding box in WGS84 degrees. MinLon <= MaxLon always: shapes
// that cross the antimeridian are rejected, not wrapped.
type BBox struct {
	MinLat, MinLon, MaxLat, MaxLon float64
}

// Restricted reports whether the place is sensitive, marked or by category.
func (p *Place) Restricted() bool { return p.Sensitive || p.SensitiveCategory }

// IsVenue reports whether the place is a point with a radius.
func (p *Place) IsVenue() bool { return p.Center != nil }

// PlaceFilter selects places of one workspace.
type PlaceFilter struct {
	WorkspaceID int64
	IDs         []int64
	Group       string
	Category    string
}

// PlaceUpdate holds the fields to change; nil means unchanged.
type PlaceUpdate struct {
	Name      *string
	Category  *string
	Brand     *string
	Groups    *[]string
	Sensitive *bool
	Center    *LatLon
	RadiusM   *float64
	Geometry  *json.RawMessage
}

// PlaceService manages places. Implementations that match posts also
// backfill: a created or reshaped place is matched against stored posts.
type PlaceService interface {
	// CreatePlace assigns p.ID and timestamps. EINVALID for a bad shape.
	CreatePlace(ctx context.Context, p *Place) error
	// FindPlaceByID returns a place of the workspace, or ENOTFOUND.
	FindPlaceByID(ctx context.Context, workspaceID, id int64) (*Place, error)
	// FindPlaces returns the workspace's places ordered by ID.
	FindPlaces(ctx context.Context, filter PlaceFilter) ([]*Place, error)
	// UpdatePlace applies upd; ENOTFOUND, EINVALID.
	UpdatePlace(ctx context.Context, workspaceID, id int64, upd PlaceUpdate) (*Place, error)
	// DeletePlace removes the place and its matches; ENOTFOUND.
	DeletePlace(ctx context.Context, workspaceID, id int64) error
}

// PlaceStore is what a store adds for the place logic: listing every place
// (to build the in-memory index) and rewriting one place's matches.
type PlaceStore interface {
	PlaceService
	// AllPlaces returns every place of every workspace.
	AllPlaces(ctx context.Context) ([]*Place, error)
	// MatchPlace replaces the matches of place id with the stored posts that
	// lie in bbox and satisfy contains, and returns how many matched.
	MatchPlace(ctx context.Context, id int64, bbox BBox, contains func(lat, lon, accuracyM float64) bool) (int, error)
}
