package geo

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/geopulse/geopulse"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Limits on geofence geometries. They keep validation, matching and
// coverings fast and bound the memory a single place can take.
const (
	// MaxVertices is the most positions a geometry may have, over all rings.
	MaxVertices = 10_000
	// MaxGeometryBytes is the largest raw GeoJSON geometry accepted (1 MiB).
	MaxGeometryBytes = 1 << 20
)

// rawGeometry is the envelope of a GeoJSON geometry; coordinates are decoded
// once the type is known.
type rawGeometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// position is decoded with pointers so that a JSON null inside a position is
// rejected instead of silently becoming 0.
type position []*float64

// ParseGeometry parses and validates a GeoJSON geometry (only Polygon and
// MultiPolygon) from raw bytes. It returns an orb.Polygon or an
// orb.MultiPolygon. Errors are *geopulse.Error with Code EINVALID and Reason
// ReasonMalformedJSON, ReasonInvalidGeometry, ReasonInvalidCoordinates or
// ReasonTooLarge.
func ParseGeometry(raw []byte) (orb.Geometry, error) {
	if len(raw) > MaxGeometryBytes {
		return nil, geopulse.Reject(geopulse.ReasonTooLarge,
			"geometry is %d bytes; the limit is %d bytes (1 MiB): simplify it", len(raw), MaxGeometryBytes)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, invalidGeometry("geometry is empty")
	}
	if !json.Valid(raw) {
		return nil, geopulse.Reject(geopulse.ReasonMalformedJSON, "geometry is not valid JSON")
	}
	var env rawGeometry
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, invalidGeometry(`geometry must be a GeoJSON object with "type" and "coordinates"`)
	}
	if (env.Type == "Polygon" || env.Type == "MultiPolygon") && isAbsent(env.Coordinates) {
		return nil, invalidGeometry("geometry is empty: it has no coordinates")
	}
	var g orb.Geometry
	switch env.Type {
	case "Polygon":
		var rings [][]position
		if err := json.Unmarshal(env.Coordinates, &rings); err != nil {
			return nil, invalidGeometry("coordinates of a Polygon must be an array of linear rings, each an array of [lon, lat] positions")
		}
		p, err := toPolygon(rings, 0, false)
		if err != nil {
			return nil, err
		}
		g = p
	case "MultiPolygon":
		var polys [][][]position
		if err := json.Unmarshal(env.Coordinates, &polys); err != nil {
			return nil, invalidGeometry("coordinates of a MultiPolygon must be an array of polygons, each an array of linear rings of [lon, lat] positions")
		}
		if len(polys) == 0 {
			return nil, invalidGeometry("geometry is empty: a MultiPolygon needs at least one polygon")
		}
		mp := make(orb.MultiPolygon, 0, len(polys))
		for i, rings := range polys {
			p, err := toPolygon(rings, i, true)
			if err != nil {
				return nil, err
			}
			mp = append(mp, p)
		}
		g = mp
	case "":
		return nil, invalidGeometry(`geometry has no "type": use Polygon or MultiPolygon`)
	default:
		return nil, invalidGeometry("geometry type %q is not supported: use Polygon or MultiPolygon", truncate(env.Type, 40))
	}
	if err := validateGeometry(g); err != nil {
		return nil, err
	}
	return g, nil
}

// toPolygon converts decoded rings, checking that each position is a
// [lon, lat] pair of numbers; validateGeometry checks everything else.
func toPolygon(rings [][]position, pi int, multi bool) (orb.Polygon, error) {
	if len(rings) == 0 {
		if multi {
			return nil, invalidGeometry("polygon %d is empty: it needs an outer ring", pi+1)
		}
		return nil, invalidGeometry("geometry is empty: a Polygon needs an outer ring")
	}
	p := make(orb.Polygon, 0, len(rings))
	for ri, ring := range rings {
		r := make(orb.Ring, 0, len(ring))
		for _, pos := range ring {
			if len(pos) < 2 || pos[0] == nil || pos[1] == nil {
				return nil, invalidGeometry("%s has a position that is not [lon, lat]", ringName(pi, ri, multi))
			}
			for _, extra := range pos[2:] {
				if extra == nil {
					return nil, invalidGeometry("%s has a position with a null coordinate", ringName(pi, ri, multi))
				}
			}
			r = append(r, orb.Point{*pos[0], *pos[1]})
		}
		p = append(p, r)
	}
	return p, nil
}

// validateGeometry checks an orb.Polygon or orb.MultiPolygon against every
// rule in the package documentation.
func validateGeometry(g orb.Geometry) error {
	var mp orb.MultiPolygon
	multi := false
	switch g := g.(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{g}
	case orb.MultiPolygon:
		mp, multi = g, true
	default:
		return invalidGeometry("geometry type %q is not supported: use Polygon or MultiPolygon", g.GeoJSONType())
	}
	if len(mp) == 0 {
		return invalidGeometry("geometry is empty")
	}
	n := 0
	for _, p := range mp {
		for _, r := range p {
			n += len(r)
		}
	}
	if n > MaxVertices {
		return geopulse.Reject(geopulse.ReasonTooLarge,
			"geometry has %d positions; the limit is %d: simplify it", n, MaxVertices)
	}
	var scratch sweep
	for pi, p := range mp {
		if len(p) == 0 {
			return invalidGeometry("polygon %d is empty: it needs an outer ring", pi+1)
		}
		for ri, r := range p {
			if err := validateRing(r, pi, ri, multi); err != nil {
				return err
			}
		}
		if err := scratch.check(p, pi, multi); err != nil {
			return err
		}
		for ri, r := range p {
			// A simple ring with no area has all corners on one line; the
			// sweep reports most of those as spikes, this catches the rest.
			if planar.Area(r) == 0 {
				return invalidGeometry("%s has no area: its corners lie on one line", ringName(pi, ri, multi))
			}
		}
		if len(p) > 1 {
			outer := chunkRing(p[0])
			for hi, h := range p[1:] {
				for _, v := range h {
					if !onBoundary(outer, v) && !inside(outer, v) {
						return invalidGeometry("%s is not inside its outer ring: position [%g, %g] lies outside",
							ringName(pi, hi+1, multi), v[0], v[1])
					}
				}
			}
		}
	}
	return nil
}

// validateRing checks one ring on its own: coordinates, closure, size,
// antimeridian and distinct corners. Crossings and area are checked per
// polygon afterwards.
func validateRing(r orb.Ring, pi, ri int, multi bool) error {
	name := ringName(pi, ri, multi)
	for _, v := range r {
		if !ValidLatLon(v[1], v[0]) {
			return geopulse.Reject(geopulse.ReasonInvalidCoordinates,
				"%s has position [%g, %g]: positions are [lon, lat] with finite lon within ±180 and lat within ±90",
				name, v[0], v[1])
		}
	}
	if len(r) < 4 {
		return invalidGeometry("%s has %d positions: a linear ring needs at least 4 (3 corners and the first repeated at the end)", name, len(r))
	}
	if r[0] != r[len(r)-1] {
		return invalidGeometry("%s is not closed: its last position must equal its first", name)
	}
	minLon, maxLon := r[0][0], r[0][0]
	for i, v := range r {
		minLon, maxLon = min(minLon, v[0]), max(maxLon, v[0])
		if i > 0 && math.Abs(v[0]-r[i-1][0]) > 180 {
			return antimeridianError(name)
		}
	}
	if maxLon-minLon > 180 {
		return antimeridianError(name)
	}
	distinct := 1
	for i := 1; i < len(r); i++ {
		if r[i] != r[i-1] {
			distinct++
		}
	}
	if distinct < 4 {
		return invalidGeometry("%s has fewer than 3 distinct corners", name)
	}
	return nil
}

func antimeridianError(name string) error {
	return invalidGeometry("%s crosses the antimeridian (180° longitude): split it into two polygons, one on each side, in a MultiPolygon", name)
}

func invalidGeometry(format string, args ...any) *geopulse.Error {
	return geopulse.Reject(geopulse.ReasonInvalidGeometry, format, args...)
}

// ringName names a ring for a user: "the outer ring", "hole 2 of polygon 3".
func ringName(pi, ri int, multi bool) string {
	var s string
	if ri == 0 {
		s = "the outer ring"
	} else {
		s = fmt.Sprintf("hole %d", ri)
	}
	if multi {
		s += fmt.Sprintf(" of polygon %d", pi+1)
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// segment is one edge of a ring with its extent along the sweep axis (lo,
// hi) and across it (olo, ohi).
type segment struct {
	a, b      orb.Point
	lo, hi    float64
	olo, ohi  float64
	ring, idx int32 // which ring, and the edge's position in it
	n         int32 // number of edges in its ring
}

// sweep finds crossings between the edges of one polygon. Edges are sorted
// along one axis and only edges whose extents overlap on it are compared,
// so typical rings cost O(n log n). The axis is the one along which edges
// overlap least, so that even a comb whose teeth all span the polygon's
// width stays near-linear; the worst case (edges long in both directions)
// is quadratic but only in cheap interval comparisons.
type sweep struct {
	segs   []segment
	active []int32
}

// check reports the first invalid contact between edges of p: within a ring
// any contact except the shared corner of consecutive edges (and no
// backtracking along it), between rings a proper crossing or a shared
// stretch of edge. Consecutive duplicate positions are ignored.
func (s *sweep) check(p orb.Polygon, pi int, multi bool) error {
	b := p[0].Bound()
	var sumX, sumY float64
	for _, r := range p {
		for i := 0; i+1 < len(r); i++ {
			sumX += math.Abs(r[i+1][0] - r[i][0])
			sumY += math.Abs(r[i+1][1] - r[i][1])
		}
	}
	axis := 0
	if sumY*(b.Max[0]-b.Min[0]) < sumX*(b.Max[1]-b.Min[1]) {
		axis = 1 // edges overlap less along y: sweep along y
	}
	s.segs = s.segs[:0]
	for ri, r := range p {
		start := len(s.segs)
		for i := 0; i+1 < len(r); i++ {
			a, b := r[i], r[i+1]
			if a == b {
				continue
			}
			s.segs = append(s.segs, segment{
				a: a, b: b,
				lo: min(a[axis], b[axis]), hi: max(a[axis], b[axis]),
				olo: min(a[1-axis], b[1-axis]), ohi: max(a[1-axis], b[1-axis]),
				ring: int32(ri), idx: int32(len(s.segs) - start),
			})
		}
		n := int32(len(s.segs) - start)
		for i := start; i < len(s.segs); i++ {
			s.segs[i].n = n
		}
	}
	slices.SortFunc(s.segs, func(x, y segment) int { return cmp.Compare(x.lo, y.lo) })
	s.active = s.active[:0]
	for i := range s.segs {
		cur := &s.segs[i]
		keep := s.active[:0]
		for _, j := range s.active {
			if s.segs[j].hi >= cur.lo {
				keep = append(keep, j)
			}
		}
		s.active = keep
		for _, j := range s.active {
			o := &s.segs[j]
			if o.ohi < cur.olo || o.olo > cur.ohi {
				continue
			}
			if at, bad := badContact(cur, o); bad {
				if cur.ring == o.ring {
					return invalidGeometry("%s intersects itself near [%g, %g]", ringName(pi, int(cur.ring), multi), at[0], at[1])
				}
				lo, hi := min(cur.ring, o.ring), max(cur.ring, o.ring)
				return invalidGeometry("%s crosses %s near [%g, %g]",
					ringName(pi, int(hi), multi), ringName(pi, int(lo), false), at[0], at[1])
			}
		}
		s.active = append(s.active, int32(i))
	}
	return nil
}

// badContact reports whether two edges touch in a way a valid polygon does
// not allow, and roughly where.
func badContact(s, t *segment) (orb.Point, bool) {
	p1, p2, p3, p4 := s.a, s.b, t.a, t.b
	d1 := orient(p3, p4, p1)
	d2 := orient(p3, p4, p2)
	d3 := orient(p1, p2, p3)
	d4 := orient(p1, p2, p4)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return p1, true // proper crossing
	}
	if s.ring != t.ring {
		// Rings of one polygon may touch at a point but not share an edge.
		if d1 == 0 && d2 == 0 && collinearOverlap(p1, p2, p3, p4) > 0 {
			return p1, true
		}
		return orb.Point{}, false
	}
	if adjacent(s, t) {
		// Consecutive edges share a corner; they are bad only if they
		// double back along each other (a spike).
		var shared, x, y orb.Point
		switch {
		case p2 == p3:
			shared, x, y = p2, p1, p4
		case p1 == p4:
			shared, x, y = p1, p2, p3
		default:
			// Consecutive after dropping duplicates but not sharing a corner
			// cannot happen; treat any contact as bad.
			return p1, contact(d1, d2, d3, d4, p1, p2, p3, p4)
		}
		if orient(shared, x, y) == 0 && (x[0]-shared[0])*(y[0]-shared[0])+(x[1]-shared[1])*(y[1]-shared[1]) > 0 {
			return shared, true
		}
		return orb.Point{}, false
	}
	if contact(d1, d2, d3, d4, p1, p2, p3, p4) {
		return p1, true
	}
	return orb.Point{}, false
}

// adjacent reports whether two edges of the same ring are consecutive
// (including the last and the first edge).
func adjacent(s, t *segment) bool {
	d := s.idx - t.idx
	if d < 0 {
		d = -d
	}
	return d == 1 || d == s.n-1
}

// contact reports whether segments p1p2 and p3p4 share any point, given the
// four orientations.
func contact(d1, d2, d3, d4 float64, p1, p2, p3, p4 orb.Point) bool {
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(p3, p4, p1)) ||
		(d2 == 0 && onSegment(p3, p4, p2)) ||
		(d3 == 0 && onSegment(p1, p2, p3)) ||
		(d4 == 0 && onSegment(p1, p2, p4))
}

// orient is twice the signed area of triangle abc: > 0 when c is left of ab.
func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// onSegment reports whether p, known to be collinear with ab, lies on it.
func onSegment(a, b, p orb.Point) bool {
	return p[0] >= min(a[0], b[0]) && p[0] <= max(a[0], b[0]) &&
		p[1] >= min(a[1], b[1]) && p[1] <= max(a[1], b[1])
}

// collinearOverlap is the length of the overlap of two collinear segments,
// measured along the axis on which they extend most.
func collinearOverlap(p1, p2, p3, p4 orb.Point) float64 {
	axis := 0
	if math.Abs(p2[1]-p1[1]) > math.Abs(p2[0]-p1[0]) {
		axis = 1
	}
	lo := max(min(p1[axis], p2[axis]), min(p3[axis], p4[axis]))
	hi := min(max(p1[axis], p2[axis]), max(p3[axis], p4[axis]))
	return hi - lo
}

// edgeChunk is a run of consecutive edges of a ring (chunkEdges at most) and
// their bound: point and rectangle tests against a 10,000-vertex ring skip
// the chunks that are far away.
type edgeChunk struct {
	ring orb.Ring
	b    orb.Bound
}

const chunkEdges = 32

// chunkRing splits a ring's edges into chunks that share their end points.
func chunkRing(ring orb.Ring) []edgeChunk {
	chunks := make([]edgeChunk, 0, (len(ring)+chunkEdges-1)/chunkEdges)
	for j := 0; j+1 < len(ring); j += chunkEdges {
		part := ring[j:min(j+chunkEdges+1, len(ring))]
		chunks = append(chunks, edgeChunk{ring: part, b: part.Bound()})
	}
	return chunks
}

// onBoundary reports whether pt lies on an edge of the chunked ring.
func onBoundary(chunks []edgeChunk, pt orb.Point) bool {
	for _, c := range chunks {
		if !c.b.Contains(pt) {
			continue
		}
		for k := 0; k+1 < len(c.ring); k++ {
			if a, b := c.ring[k], c.ring[k+1]; orient(a, b, pt) == 0 && onSegment(a, b, pt) {
				return true
			}
		}
	}
	return false
}

// touches reports whether any edge of the chunks shares a point with rb.
func touches(chunks []edgeChunk, rb orb.Bound) bool {
	for _, c := range chunks {
		if c.b.Intersects(rb) && ringTouchesRect(c.ring, rb) {
			return true
		}
	}
	return false
}

// inside reports whether pt is inside the ring made of chunks, by the
// crossing number. Meant for points known to be off the boundary (check
// onBoundary first, or know that no edge touches a rectangle around pt),
// where it agrees with planar.RingContains.
func inside(chunks []edgeChunk, pt orb.Point) bool {
	in := false
	for _, c := range chunks {
		if c.b.Max[1] < pt[1] || c.b.Min[1] > pt[1] || c.b.Max[0] < pt[0] {
			continue // no edge of the chunk crosses the ray to the right of pt
		}
		for k := 0; k+1 < len(c.ring); k++ {
			a, b := c.ring[k], c.ring[k+1]
			if (a[1] > pt[1]) != (b[1] > pt[1]) && pt[0] < (b[0]-a[0])*(pt[1]-a[1])/(b[1]-a[1])+a[0] {
				in = !in
			}
		}
	}
	return in
}
