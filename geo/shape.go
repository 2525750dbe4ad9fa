package geo

import (
	"bytes"
	"math"

	"github.com/geopulse/geopulse"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Venue limits and the accuracy rule's floor.
const (
	// EarthRadiusM is the mean Earth radius (IUGG) used for every distance.
	EarthRadiusM = 6_371_008.8
	// MinRadiusM and MaxRadiusM bound a venue's (or a circle query's) radius.
	MinRadiusM = 1.0
	MaxRadiusM = 50_000.0
	// DefaultRadiusM is the radius of an imported Point feature without radius_m.
	DefaultRadiusM = 100.0
	// MinVenueAccuracyM is the accuracy every venue tolerates, however small
	// its radius: phone fixes are rarely better than a few tens of metres.
	MinVenueAccuracyM = 50.0
)

const (
	degToRad = math.Pi / 180
	radToDeg = 180 / math.Pi
	// bboxMarginDeg widens computed bounding boxes by about 0.1 mm so that
	// rounding never puts a point accepted by the exact test outside its box.
	bboxMarginDeg = 1e-9
)

// Shape is the exact, validated geometry of a place: a venue circle (centre
// and radius in metres, great-circle distance) or a polygon/multipolygon
// (planar test in lon/lat degrees via orb/planar, holes respected). The zero
// value is not usable; build one with NewShape, NewCircle or NewPolygon.
type Shape struct {
	bbox geopulse.BBox
	// maxAccuracyM is the accuracy rule's limit (see the package doc).
	maxAccuracyM float64

	// Venue: centre in degrees, cos of its latitude and the haversine of
	// the angular radius, so the exact test needs no inverse trigonometry.
	venue    bool
	lat, lon float64
	cosLat   float64
	hav      float64
	radiusM  float64

	// Polygon: the parsed geometry, each polygon of it, and their bounds
	// for a cheap reject before the ray cast.
	geom   orb.Geometry
	polys  orb.MultiPolygon
	bounds []orb.Bound
}

// NewShape validates the shape of p (exactly one of p.Center+p.RadiusM or
// p.Geometry must be set) and returns it. A Geometry that is empty or JSON
// null counts as unset. Errors are *geopulse.Error with Code EINVALID and
// Reason ReasonInvalidGeometry, ReasonInvalidCoordinates, ReasonTooLarge or
// ReasonMalformedJSON.
func NewShape(p *geopulse.Place) (*Shape, error) {
	if p == nil {
		return nil, invalidGeometry("place is missing")
	}
	hasGeom := len(p.Geometry) > 0 && !bytes.Equal(bytes.TrimSpace(p.Geometry), []byte("null"))
	switch {
	case p.Center != nil && hasGeom:
		return nil, invalidGeometry("a place is either a venue (center and radius_m) or a geofence (geometry), not both")
	case p.Center != nil:
		return NewCircle(p.Center.Lat, p.Center.Lon, p.RadiusM)
	case hasGeom:
		if p.RadiusM != 0 {
			return nil, invalidGeometry("radius_m applies only to venues; a geofence's size is its geometry")
		}
		g, err := ParseGeometry(p.Geometry)
		if err != nil {
			return nil, err
		}
		return newPolygonShape(g), nil
	case p.RadiusM != 0:
		return nil, invalidGeometry("a venue needs a center as well as radius_m")
	default:
		return nil, invalidGeometry("a place needs a shape: a center with radius_m, or a GeoJSON Polygon or MultiPolygon geometry")
	}
}

// NewCircle validates and returns a circle of radiusM metres around
// (lat, lon): the shape of a venue or of a radius query. A circle that crosses
// the antimeridian is rejected; one that contains a pole spans every
// longitude.
func NewCircle(lat, lon, radiusM float64) (*Shape, error) {
	if !ValidLatLon(lat, lon) {
		return nil, geopulse.Reject(geopulse.ReasonInvalidCoordinates,
			"center (%g, %g) is invalid: lat must be finite within ±90 and lon finite within ±180", lat, lon)
	}
	if math.IsNaN(radiusM) || radiusM < MinRadiusM || radiusM > MaxRadiusM {
		return nil, invalidGeometry("radius_m must be between %g and %g metres, got %g", MinRadiusM, MaxRadiusM, radiusM)
	}
	delta := radiusM / EarthRadiusM // angular radius
	phi := lat * degToRad
	dLat := delta * radToDeg
	bbox := geopulse.BBox{
		MinLat: max(-90, lat-dLat-bboxMarginDeg),
		MaxLat: min(90, lat+dLat+bboxMarginDeg),
	}
	if math.Abs(phi)+delta >= math.Pi/2 {
		// The cap contains a pole: every longitude is inside its box.
		bbox.MinLon, bbox.MaxLon = -180, 180
	} else {
		// The widest longitude of a spherical cap is reached where the
		// meridian is tangent to it: sin(dLon) = sin(delta) / cos(lat).
		dLon := math.Asin(math.Sin(delta)/math.Cos(phi)) * radToDeg
		if lon-dLon < -180 || lon+dLon > 180 {
			return nil, invalidGeometry("the circle of %g m around (%g, %g) crosses the antimeridian (180° longitude): move the center or reduce the radius",
				radiusM, lat, lon)
		}
		bbox.MinLon = max(-180, lon-dLon-bboxMarginDeg)
		bbox.MaxLon = min(180, lon+dLon+bboxMarginDeg)
	}
	h := math.Sin(delta / 2)
	return &Shape{
		bbox:         bbox,
		maxAccuracyM: max(radiusM, MinVenueAccuracyM),
		venue:        true,
		lat:          lat,
		lon:          lon,
		cosLat:       math.Cos(phi),
		hav:          h * h,
		radiusM:      radiusM,
	}, nil
}

// NewPolygon parses and validates a GeoJSON Polygon or MultiPolygon (see
// ParseGeometry) and returns its shape.
func NewPolygon(geojson []byte) (*Shape, error) {
	g, err := ParseGeometry(geojson)
	if err != nil {
		return nil, err
	}
	return newPolygonShape(g), nil
}

// newPolygonShape builds the shape of a geometry that ParseGeometry accepted.
func newPolygonShape(g orb.Geometry) *Shape {
	var mp orb.MultiPolygon
	switch g := g.(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{g}
	case orb.MultiPolygon:
		mp = g
	}
	s := &Shape{geom: g, polys: mp, bounds: make([]orb.Bound, len(mp))}
	b := mp.Bound()
	for i, p := range mp {
		s.bounds[i] = p[0].Bound()
	}
	s.bbox = geopulse.BBox{MinLat: b.Min[1], MinLon: b.Min[0], MaxLat: b.Max[1], MaxLon: b.Max[0]}
	s.maxAccuracyM = haversineM(b.Min[1], b.Min[0], b.Max[1], b.Max[0]) / 2
	return s
}

// BBox returns the shape's bounding box; it contains the whole shape.
func (s *Shape) BBox() geopulse.BBox { return s.bbox }

// IsVenue reports whether the shape is a circle.
func (s *Shape) IsVenue() bool { return s.venue }

// Geometry returns the polygon or multipolygon of a geofence, nil for a venue.
func (s *Shape) Geometry() orb.Geometry { return s.geom }

// MaxAccuracyM is the largest post accuracy that can still count as inside
// the shape (see the accuracy rule in the package doc).
func (s *Shape) MaxAccuracyM() float64 { return s.maxAccuracyM }

// Contains reports whether a post at (lat, lon) whose location is only known
// within accuracyM metres counts as inside: the point must be inside and
// accuracyM must not exceed the shape's own size (venue: its radius, but at
// least 50 m; polygon: half the diagonal of its bounding box). accuracyM == 0
// means an exact point; a negative or NaN accuracy never counts.
func (s *Shape) Contains(lat, lon, accuracyM float64) bool {
	if !(lat >= s.bbox.MinLat && lat <= s.bbox.MaxLat && lon >= s.bbox.MinLon && lon <= s.bbox.MaxLon) {
		return false
	}
	return s.contains(lat, lon, math.Cos(lat*degToRad), accuracyM)
}

// contains is Contains without the bounding-box reject, for callers that
// already know the point is in the box; cosLat is cos(lat), shared across
// the candidates of one point.
func (s *Shape) contains(lat, lon, cosLat, accuracyM float64) bool {
	if !(accuracyM >= 0 && accuracyM <= s.maxAccuracyM) {
		return false
	}
	if s.venue {
		sLat := math.Sin((lat - s.lat) * (degToRad / 2))
		sLon := math.Sin((lon - s.lon) * (degToRad / 2))
		return sLat*sLat+s.cosLat*cosLat*sLon*sLon <= s.hav
	}
	pt := orb.Point{lon, lat}
	for i, p := range s.polys {
		if s.bounds[i].Contains(pt) && planar.PolygonContains(p, pt) {
			return true
		}
	}
	return false
}

// haversineM is the great-circle distance in metres.
func haversineM(lat1, lon1, lat2, lon2 float64) float64 {
	sLat := math.Sin((lat2 - lat1) * (degToRad / 2))
	sLon := math.Sin((lon2 - lon1) * (degToRad / 2))
	a := sLat*sLat + math.Cos(lat1*degToRad)*math.Cos(lat2*degToRad)*sLon*sLon
	return 2 * EarthRadiusM * math.Asin(math.Sqrt(min(1, a)))
}
