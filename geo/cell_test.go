package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/geopulse/geopulse"
	"github.com/golang/geo/s2"
)

func TestCellID(t *testing.T) {
	tests := []struct {
		name     string
		lat, lon float64
		face     int
		negative bool
	}{
		{name: "null island", lat: 0, lon: 0, face: 0},
		{name: "east", lat: 0, lon: 90, face: 1},
		{name: "north pole", lat: 90, lon: 0, face: 2},
		{name: "antimeridian", lat: 0, lon: 180, face: 3},
		{name: "americas are face 4", lat: 19.4326, lon: -99.1332, face: 4, negative: true},
		{name: "south pole is face 5", lat: -90, lon: 0, face: 5, negative: true},
		{name: "buenos aires", lat: -34.6037, lon: -58.3816, face: 4, negative: true},
		{name: "sydney", lat: -33.8688, lon: 151.2093, face: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := CellID(tt.lat, tt.lon)
			c := s2.CellID(uint64(id))
			if !c.IsValid() || !c.IsLeaf() {
				t.Fatalf("CellID = %d is not a valid leaf", id)
			}
			if face(id) != tt.face || (id < 0) != tt.negative {
				t.Fatalf("CellID = %d: face %d, want face %d (negative %v)", id, face(id), tt.face, tt.negative)
			}
			ll := c.LatLng()
			if d := haversineM(tt.lat, tt.lon, ll.Lat.Degrees(), ll.Lng.Degrees()); d > 0.01 {
				t.Fatalf("leaf centre is %g m from the point", d)
			}
		})
	}
}

func TestValidLatLon(t *testing.T) {
	tests := []struct {
		name     string
		lat, lon float64
		want     bool
	}{
		{name: "origin", want: true},
		{name: "corners", lat: -90, lon: 180, want: true},
		{name: "other corner", lat: 90, lon: -180, want: true},
		{name: "lat too big", lat: 90.0001, want: false},
		{name: "lon too small", lon: -180.0001, want: false},
		{name: "NaN lat", lat: math.NaN(), want: false},
		{name: "NaN lon", lon: math.NaN(), want: false},
		{name: "Inf lat", lat: math.Inf(1), want: false},
		{name: "-Inf lon", lon: math.Inf(-1), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidLatLon(tt.lat, tt.lon); got != tt.want {
				t.Fatalf("ValidLatLon(%g, %g) = %v", tt.lat, tt.lon, got)
			}
		})
	}
}

// checkRanges verifies the structural promises of a covering.
func checkRanges(t *testing.T, rs []CellRange) {
	t.Helper()
	if len(rs) == 0 {
		t.Fatal("empty covering")
	}
	for i, r := range rs {
		if face(r.Lo) != face(r.Hi) {
			t.Fatalf("range %d %+v crosses from face %d to face %d", i, r, face(r.Lo), face(r.Hi))
		}
		if r.Lo > r.Hi {
			t.Fatalf("range %d %+v has Lo > Hi", i, r)
		}
		if i > 0 && rs[i-1].Hi >= r.Lo {
			t.Fatalf("ranges %d and %d overlap or are unsorted: %+v %+v", i-1, i, rs[i-1], r)
		}
	}
}

func inRanges(rs []CellRange, id int64) bool {
	for _, r := range rs {
		if id >= r.Lo && id <= r.Hi {
			return true
		}
	}
	return false
}

func TestCoveringContainsEveryPoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	tests := []struct {
		name  string
		place *geopulse.Place
	}{
		{name: "small venue", place: venue(51.5074, -0.1278, 60)},
		{name: "large venue", place: venue(40.7128, -74.006, MaxRadiusM)},
		{name: "venue on face 4", place: venue(-34.6037, -58.3816, 800)},
		{name: "venue on faces 3, 4 and 5", place: venue(-35.26438968, -135, 3000)},
		{name: "venue near a pole", place: venue(89.99, 20, 5000)},
		{name: "star polygon", place: &geopulse.Place{Geometry: polygonJSON(starRing(rng, 48.8566, 2.3522, 900, 12, true))}},
		{name: "polygon with hole", place: &geopulse.Place{Geometry: polygonJSON(
			starRing(rng, 35.6762, 139.6503, 2000, 9, true), starRing(rng, 35.6762, 139.6503, 500, 5, false))}},
		{name: "multipolygon far apart", place: &geopulse.Place{Geometry: multiPolygonJSON(
			[][][2]float64{starRing(rng, -33.8688, 151.2093, 400, 7, true)},
			[][][2]float64{starRing(rng, -36.8485, 174.7633, 400, 7, true)})}},
		{name: "thin diagonal polygon", place: &geopulse.Place{Geometry: polygonJSON(
			[][2]float64{{-0.2, 51.4}, {0.0, 51.6}, {0.001, 51.6}, {-0.199, 51.4}, {-0.2, 51.4}})}},
		{name: "country sized polygon", place: &geopulse.Place{Geometry: polygonJSON(
			[][2]float64{{-5, 43}, {8, 43}, {8, 51}, {2, 51}, {-5, 48}, {-5, 43}})}},
		{name: "polygon at the vertex limit", place: &geopulse.Place{Geometry: []byte(manyVertices(MaxVertices))}},
		{name: "comb polygon", place: &geopulse.Place{Geometry: []byte(comb(400, false, false))}},
		{name: "half the world", place: &geopulse.Place{Geometry: polygonJSON(
			[][2]float64{{-170, -80}, {10, -80}, {10, 80}, {-170, 80}, {-170, -80}})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewShape(tt.place)
			if err != nil {
				t.Fatal(err)
			}
			rs := s.Covering()
			checkRanges(t, rs)
			if len(rs) > CoverMaxCells {
				t.Fatalf("%d ranges, want at most %d", len(rs), CoverMaxCells)
			}
			inside := 0
			for inside < 1500 {
				// Sample each part's own box: a multipolygon's parts may be
				// tiny compared with the box around all of them.
				b := s.BBox()
				if len(s.bounds) > 0 {
					pb := s.bounds[rng.IntN(len(s.bounds))]
					b = geopulse.BBox{MinLat: pb.Min[1], MinLon: pb.Min[0], MaxLat: pb.Max[1], MaxLon: pb.Max[0]}
				}
				lat := b.MinLat + (b.MaxLat-b.MinLat)*rng.Float64()
				lon := b.MinLon + (b.MaxLon-b.MinLon)*rng.Float64()
				if !s.Contains(lat, lon, 0) {
					continue
				}
				inside++
				if id := CellID(lat, lon); !inRanges(rs, id) {
					t.Fatalf("point (%g, %g) inside the shape has cell %d outside the covering %v", lat, lon, id, rs)
				}
			}
		})
	}
}

// TestCoveringFaceBoundary puts a venue on the corner where the Hilbert
// curve passes from face 4 to face 5: the last leaf of face 4 and the first
// leaf of face 5 are consecutive ids, so a naive merge would join them.
func TestCoveringFaceBoundary(t *testing.T) {
	ll := s2.CellIDFromFace(5).ChildBeginAtLevel(s2.MaxLevel).LatLng()
	s, err := NewCircle(ll.Lat.Degrees(), ll.Lng.Degrees(), 2000)
	if err != nil {
		t.Fatal(err)
	}
	rs := s.Covering()
	checkRanges(t, rs)
	lastOf4 := int64(s2.CellIDFromFace(4).ChildEndAtLevel(s2.MaxLevel).Prev())
	firstOf5 := int64(s2.CellIDFromFace(5).ChildBeginAtLevel(s2.MaxLevel))
	if !inRanges(rs, lastOf4) || !inRanges(rs, firstOf5) {
		t.Fatalf("covering %v should hold both sides of the face 4/5 seam", rs)
	}
	for _, r := range rs {
		if r.Lo < 0 != (r.Hi < 0) {
			t.Fatalf("range %+v changes sign", r)
		}
	}
}

func TestCellRanges(t *testing.T) {
	at := func(f int, first bool, level int) s2.CellID {
		if first {
			return s2.CellIDFromFace(f).ChildBeginAtLevel(level)
		}
		return s2.CellIDFromFace(f).ChildEndAtLevel(level).Prev()
	}
	c := at(0, true, 16)
	tests := []struct {
		name  string
		cells []s2.CellID
		want  int // number of ranges
	}{
		{name: "siblings merge", cells: []s2.CellID{c, c.Next(), c.Next().Next()}, want: 1},
		{name: "gap does not merge", cells: []s2.CellID{c, c.Next().Next()}, want: 2},
		{name: "face 4 to 5 never merges", cells: []s2.CellID{at(4, false, 16), at(5, true, 16)}, want: 2},
		{name: "face 3 to 4 never merges", cells: []s2.CellID{at(3, false, 16), at(4, true, 16)}, want: 2},
		{name: "face 5 to 0 never merges", cells: []s2.CellID{at(5, false, 16), at(0, true, 16)}, want: 2},
		{name: "nested cell absorbed", cells: []s2.CellID{c.Parent(12), c}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := cellRanges(tt.cells)
			checkRanges(t, rs)
			if len(rs) != tt.want {
				t.Fatalf("ranges = %v, want %d", rs, tt.want)
			}
			for _, cell := range tt.cells {
				if !inRanges(rs, int64(cell.RangeMin())) || !inRanges(rs, int64(cell.RangeMax())) {
					t.Fatalf("cell %v not covered by %v", cell, rs)
				}
			}
		})
	}
}
