package geo

import "github.com/geopulse/geopulse"

// BBoxArea returns a feed area for a bounding box. The box is the whole test,
// so Area.Contains is nil. A box whose minLon is greater than its maxLon
// (one crossing the antimeridian) is rejected: query each side separately.
func BBoxArea(minLat, minLon, maxLat, maxLon float64) (*geopulse.Area, error) {
	if !ValidLatLon(minLat, minLon) || !ValidLatLon(maxLat, maxLon) {
		return nil, geopulse.Reject(geopulse.ReasonInvalidCoordinates,
			"bounding box corners must be finite with lat within ±90 and lon within ±180")
	}
	if minLat > maxLat {
		return nil, geopulse.Reject(geopulse.ReasonInvalidCoordinates,
			"bounding box min_lat %g is greater than max_lat %g", minLat, maxLat)
	}
	if minLon > maxLon {
		return nil, geopulse.Reject(geopulse.ReasonInvalidCoordinates,
			"bounding box min_lon %g is greater than max_lon %g: boxes crossing the antimeridian are not supported, query each side separately", minLon, maxLon)
	}
	return &geopulse.Area{MinLat: minLat, MinLon: minLon, MaxLat: maxLat, MaxLon: maxLon}, nil
}

// CircleArea returns a feed area for the circle of radiusM metres around
// (lat, lon), with the same limits as a venue (see NewCircle).
func CircleArea(lat, lon, radiusM float64) (*geopulse.Area, error) {
	s, err := NewCircle(lat, lon, radiusM)
	if err != nil {
		return nil, err
	}
	return shapeArea(s), nil
}

// PolygonArea returns a feed area for a GeoJSON Polygon or MultiPolygon,
// validated as a geofence (see ParseGeometry).
func PolygonArea(geojson []byte) (*geopulse.Area, error) {
	s, err := NewPolygon(geojson)
	if err != nil {
		return nil, err
	}
	return shapeArea(s), nil
}

// shapeArea is the area of a shape: its box for the store and the exact test
// for an exact point (a feed shows a post where it was posted, so accuracy is
// not part of the question).
func shapeArea(s *Shape) *geopulse.Area {
	b := s.BBox()
	return &geopulse.Area{
		MinLat: b.MinLat, MinLon: b.MinLon, MaxLat: b.MaxLat, MaxLon: b.MaxLon,
		Contains: func(lat, lon float64) bool { return s.Contains(lat, lon, 0) },
	}
}
