package geo

import (
	"cmp"
	"math"
	"slices"

	"github.com/golang/geo/s2"
	"github.com/paulmach/orb"
)

// Covering parameters from the design.
const (
	CoverMinLevel = 12
	CoverMaxLevel = 16
	CoverMaxCells = 16
	// coverMaxMinLevelCells is how many cells the minimum level may force
	// before Covering relaxes it for a very large shape.
	coverMaxMinLevelCells = 64
	// coverMarginRad widens a venue's cap by about 6 mm.
	coverMarginRad = 1e-9
)

// CellID returns the S2 leaf cell id of (lat, lon) as int64. Faces 4 and 5
// have the top bit set, so their ids are negative as int64.
func CellID(lat, lon float64) int64 {
	return int64(s2.CellIDFromLatLng(s2.LatLngFromDegrees(lat, lon)))
}

// ValidLatLon reports whether lat/lon are finite and within ±90/±180.
func ValidLatLon(lat, lon float64) bool {
	// The comparisons are false for NaN; ±Inf fail the range.
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180
}

// CellRange is an inclusive range of S2 leaf cell ids (as int64) covering
// part of a region. Lo and Hi are always on the same cube face, so
// Lo <= Hi as int64 too.
type CellRange struct{ Lo, Hi int64 }

// Covering returns the cell ranges covering the shape with the design's
// parameters {min level 12, max level 16, max 16 cells} (a coarser minimum
// level for very large shapes, see the package doc), merged where adjacent
// but never across a face boundary, sorted by Lo as int64 (so faces 4 and 5,
// being negative, come first). Every point that Contains accepts has a
// CellID inside one of the ranges.
func (s *Shape) Covering() []CellRange {
	var region s2.Region
	if s.venue {
		// The cap's height is 1-cos(delta) = 2 sin²(delta/2), accurate for
		// tiny radii where 1-cos would cancel. The cap is a few millimetres
		// wider than the venue so that rounding in the cell tests never
		// drops a point the haversine test accepts.
		h := math.Sin((s.radiusM/EarthRadiusM + coverMarginRad) / 2)
		region = s2.CapFromCenterHeight(s2.PointFromLatLng(s2.LatLngFromDegrees(s.lat, s.lon)), 2*h*h)
	} else {
		region = newPlanarRegion(s)
	}
	minLevel := CoverMinLevel
	area := region.CapBound().Area()
	for minLevel > 0 && area/s2.AvgAreaMetric.Value(minLevel) > coverMaxMinLevelCells {
		minLevel--
	}
	rc := &s2.RegionCoverer{MinLevel: minLevel, MaxLevel: CoverMaxLevel, LevelMod: 1, MaxCells: CoverMaxCells}
	cells := rc.Covering(region)
	return cellRanges(cells)
}

// cellRanges turns cells into sorted int64 ranges, merging neighbours on the
// same face. Leaf ids are odd, so consecutive leaves differ by 2.
func cellRanges(cells []s2.CellID) []CellRange {
	out := make([]CellRange, 0, len(cells))
	for _, c := range cells {
		out = append(out, CellRange{Lo: int64(c.RangeMin()), Hi: int64(c.RangeMax())})
	}
	slices.SortFunc(out, func(a, b CellRange) int { return cmp.Compare(a.Lo, b.Lo) })
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 {
			last := &merged[n-1]
			if face(last.Hi) == face(r.Lo) && uint64(r.Lo) <= uint64(last.Hi)+2 {
				if uint64(r.Hi) > uint64(last.Hi) {
					last.Hi = r.Hi
				}
				continue
			}
		}
		merged = append(merged, r)
	}
	return merged
}

// face is the S2 cube face (0..5) of a cell id.
func face(id int64) int { return int(uint64(id) >> s2.PosBits) }

// planarRegion is a polygon shape as an s2.Region whose edges are straight
// in lon/lat degrees (not geodesics), so its covering agrees with
// Shape.Contains. Cells are tested through their lat/lng bounding
// rectangles, which contain them: conservative in both directions.
type planarRegion struct {
	s *Shape
	// rings[i][j] are the edges of ring j of polygon i in chunks with their
	// bounds, so that a cell far from most of a 10,000-vertex ring skips
	// most of it.
	rings [][][]edgeChunk
}

var _ s2.Region = (*planarRegion)(nil)

func newPlanarRegion(s *Shape) *planarRegion {
	r := &planarRegion{s: s, rings: make([][][]edgeChunk, len(s.polys))}
	for i, p := range s.polys {
		r.rings[i] = make([][]edgeChunk, len(p))
		for ri, ring := range p {
			r.rings[i][ri] = chunkRing(ring)
		}
	}
	return r
}

// RectBound returns the shape's bounding box as an s2.Rect.
func (r *planarRegion) RectBound() s2.Rect {
	b := r.s.bbox
	m := bboxMarginDeg
	minLat, maxLat := max(-90, b.MinLat-m), min(90, b.MaxLat+m)
	minLon, maxLon := max(-180, b.MinLon-m), min(180, b.MaxLon+m)
	// RectFromCenterSize keeps the longitude interval on the side of its
	// centre, so a box wider than 180° is not turned into its complement.
	return s2.RectFromCenterSize(
		s2.LatLngFromDegrees((minLat+maxLat)/2, (minLon+maxLon)/2),
		s2.LatLngFromDegrees(maxLat-minLat, maxLon-minLon))
}

// CapBound returns a cap containing RectBound.
func (r *planarRegion) CapBound() s2.Cap { return r.RectBound().CapBound() }

// CellUnionBound returns a few cells covering RectBound.
func (r *planarRegion) CellUnionBound() []s2.CellID { return r.RectBound().CellUnionBound() }

// ContainsPoint reports whether p is inside the shape.
func (r *planarRegion) ContainsPoint(p s2.Point) bool {
	ll := s2.LatLngFromPoint(p)
	return r.s.Contains(ll.Lat.Degrees(), ll.Lng.Degrees(), 0)
}

// ContainsCell reports whether the cell's bounding rectangle lies inside one
// polygon: no edge touches the rectangle and its centre is inside.
func (r *planarRegion) ContainsCell(c s2.Cell) bool {
	rb, ok := degRect(c)
	if !ok {
		return false
	}
	centre := orb.Point{(rb.Min[0] + rb.Max[0]) / 2, (rb.Min[1] + rb.Max[1]) / 2}
	for i, b := range r.s.bounds {
		if rb.Min[0] < b.Min[0] || rb.Max[0] > b.Max[0] || rb.Min[1] < b.Min[1] || rb.Max[1] > b.Max[1] {
			continue
		}
		touched := false
		for _, ring := range r.rings[i] {
			if touches(ring, rb) {
				touched = true
				break
			}
		}
		if touched || !inside(r.rings[i][0], centre) {
			continue
		}
		inHole := false
		for _, hole := range r.rings[i][1:] {
			if inside(hole, centre) {
				inHole = true
				break
			}
		}
		if !inHole {
			return true
		}
	}
	return false
}

// IntersectsCell reports whether the cell's bounding rectangle may meet the
// shape: an outer edge touches it, or it lies inside an outer ring. Holes
// are ignored, which only makes the answer more conservative.
func (r *planarRegion) IntersectsCell(c s2.Cell) bool {
	rb, ok := degRect(c)
	if !ok {
		return true
	}
	for i, b := range r.s.bounds {
		if !b.Intersects(rb) {
			continue
		}
		if touches(r.rings[i][0], rb) || inside(r.rings[i][0], rb.Min) {
			return true
		}
	}
	return false
}

// degRect is the cell's lat/lng bounding rectangle in degrees as an
// orb.Bound (x = lon). A rectangle wrapping the antimeridian is widened to
// every longitude; ok is false only for an empty rectangle.
func degRect(c s2.Cell) (orb.Bound, bool) {
	rb := c.RectBound()
	if rb.IsEmpty() {
		return orb.Bound{}, false
	}
	minLon, maxLon := rb.Lng.Lo*radToDeg, rb.Lng.Hi*radToDeg
	if rb.Lng.IsInverted() || rb.Lng.IsFull() {
		minLon, maxLon = -180, 180
	}
	return orb.Bound{
		Min: orb.Point{minLon, rb.Lat.Lo * radToDeg},
		Max: orb.Point{maxLon, rb.Lat.Hi * radToDeg},
	}, true
}

// ringTouchesRect reports whether any edge of the (possibly open) ring shares a point with
// the rectangle, by the separating axis test (the box axes, then the edge's
// normal).
func ringTouchesRect(ring orb.Ring, rb orb.Bound) bool {
	for i := 0; i+1 < len(ring); i++ {
		a, b := ring[i], ring[i+1]
		if max(a[0], b[0]) < rb.Min[0] || min(a[0], b[0]) > rb.Max[0] ||
			max(a[1], b[1]) < rb.Min[1] || min(a[1], b[1]) > rb.Max[1] {
			continue
		}
		o1 := orient(a, b, rb.Min)
		o2 := orient(a, b, orb.Point{rb.Max[0], rb.Min[1]})
		o3 := orient(a, b, rb.Max)
		o4 := orient(a, b, orb.Point{rb.Min[0], rb.Max[1]})
		if (o1 > 0 && o2 > 0 && o3 > 0 && o4 > 0) || (o1 < 0 && o2 < 0 && o3 < 0 && o4 < 0) {
			continue
		}
		return true
	}
	return false
}
