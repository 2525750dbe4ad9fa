// Package geo is the pure geometry of geopulse: S2 cell ids for posts, the
// validated shapes of places, the in-memory index that matches posts to
// places, GeoJSON parsing for geofences and bulk imports, feed-query areas and
// S2 coverings. It does no I/O and keeps no package-level mutable state.
//
// # Shapes
//
// A place is either a venue (a centre and a radius in metres) or a geofence
// (a GeoJSON Polygon or MultiPolygon). Distances to a venue centre are
// great-circle distances on a sphere of radius EarthRadiusM (the haversine
// formula, compared against the radius without any small-angle shortcut, so
// it is exact up to floating point). Polygons are tested in the plane of
// longitude/latitude degrees with github.com/paulmach/orb/planar: edges are
// straight lines in lon/lat, holes are respected and points on an edge count
// as inside.
//
// # The accuracy rule
//
// A post's location is only known within AccuracyM metres. Shape.Contains
// counts a post as inside when its point is inside the shape AND its accuracy
// does not exceed the shape's own size:
//
//   - venue: the radius, but at least MinVenueAccuracyM (50 m), so a phone fix
//     of a few tens of metres still counts at a small café;
//   - polygon: half the diagonal of the polygon's bounding box, in metres.
//
// So a location that is only known to the city (accuracy of kilometres) never
// counts as being inside a 100 m venue, while it may count for a geofence of
// the whole city. Accuracy 0 means an exact point; a negative or NaN accuracy
// never matches.
//
// # Invariants
//
//   - Every Shape was validated by NewShape: finite coordinates within
//     ±90/±180, venue radius within [MinRadiusM, MaxRadiusM], rings closed with
//     at least 4 positions, no self-intersecting ring, holes inside their outer
//     ring, at most MaxVertices positions, no ring crossing the antimeridian.
//   - A Shape's BBox contains the whole shape (for a venue the whole circle,
//     using cos(latitude) for the longitude extent) and MinLon <= MaxLon:
//     shapes crossing the antimeridian are rejected, never wrapped. A venue
//     whose circle contains a pole gets the full longitude range.
//   - Cell ids are S2 leaf cells stored as int64; faces 4 and 5 are negative.
//     Coverings are never merged across a face boundary.
//   - An Index is immutable once built and safe for concurrent use.
//
// # Coverings
//
// Shape.Covering uses the design's parameters: minimum level 12, maximum
// level 16, at most 16 cells. Because a minimum level forces cells no larger
// than level 12 whatever MaxCells says, a shape so large that it would need
// more than a few dozen level-12 cells (a 50 km venue, a country) gets a
// coarser minimum level instead, which keeps the covering at about 16 cells.
// Polygons are covered with their planar lon/lat edges (not geodesic ones),
// so every point that Contains accepts lies in the covering.
//
// User-facing errors are *geopulse.Error with Code EINVALID and a Reason
// (ReasonInvalidGeometry, ReasonInvalidCoordinates, ReasonTooLarge,
// ReasonMalformedJSON, ReasonMissingField or ReasonInvalidField). Messages
// name polygons and holes counting from 1 ("hole 1 of polygon 2") and
// features by their JSON index ("features[3]").
package geo
