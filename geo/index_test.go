package geo

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/geopulse/geopulse"
)

// bruteMatch is the reference: every shape, tested one by one.
func bruteMatch(places []*geopulse.Place, shapes []*Shape, lat, lon, acc float64) []int64 {
	var ids []int64
	for i, s := range shapes {
		if s != nil && s.Contains(lat, lon, acc) {
			ids = append(ids, places[i].ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func TestIndexMatchBruteForce(t *testing.T) {
	tests := []struct {
		name   string
		cities []city
		sigmaM float64
		places int
	}{
		{name: "dense cities", cities: testCities[:5], sigmaM: 1500, places: 3000},
		{name: "world cities", cities: testCities, sigmaM: 5000, places: 3000},
		{name: "high latitudes", cities: highLatCities, sigmaM: 1500, places: 1500},
	}
	accuracies := []float64{0, 0, 0, 10, 49, 60, 150, 400, 2000, 20000}
	for ti, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(42, uint64(ti)))
			places := testWorld(rng, tt.places, tt.cities, tt.sigmaM)
			shapes := make([]*Shape, len(places))
			for i, p := range places {
				s, err := NewShape(p)
				if err != nil {
					t.Fatalf("place %d: %v", p.ID, err)
				}
				shapes[i] = s
			}
			ix, errs := NewIndex(places)
			if len(errs) != 0 {
				t.Fatalf("NewIndex errors: %v", errs)
			}
			if ix.Len() != len(places) {
				t.Fatalf("Len = %d, want %d", ix.Len(), len(places))
			}
			matched, total := 0, 0
			var dst []int64
			for i := range 8000 {
				c := tt.cities[rng.IntN(len(tt.cities))]
				var lat, lon float64
				if i%2 == 0 {
					// Near a place's centre, so many points hit something.
					b := shapes[rng.IntN(len(shapes))].BBox()
					lat = b.MinLat + (b.MaxLat-b.MinLat)*rng.Float64()
					lon = b.MinLon + (b.MaxLon-b.MinLon)*rng.Float64()
				} else {
					lat, lon = offset(c.lat, c.lon, rng.NormFloat64()*tt.sigmaM, rng.NormFloat64()*tt.sigmaM)
				}
				acc := accuracies[rng.IntN(len(accuracies))]
				dst = ix.Match(lat, lon, acc, dst[:0])
				want := bruteMatch(places, shapes, lat, lon, acc)
				if !slices.Equal(dst, want) && !(len(dst) == 0 && len(want) == 0) {
					t.Fatalf("Match(%g, %g, %g) = %v, brute force = %v", lat, lon, acc, dst, want)
				}
				total++
				if len(want) > 0 {
					matched++
				}
			}
			// The test is only meaningful if many points matched.
			if matched < total/5 {
				t.Fatalf("only %d of %d points matched anything", matched, total)
			}
		})
	}
}

func TestNewIndexReportsBadPlaces(t *testing.T) {
	good := venue(48.85, 2.35, 100)
	good.ID = 7
	dup := venue(10, 10, 100)
	dup.ID = 7
	badRadius := venue(0, 0, 0)
	badRadius.ID, badRadius.Name = 8, "zero radius"
	badPoly := &geopulse.Place{ID: 9, Name: "bowtie", Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`)}
	ix, errs := NewIndex([]*geopulse.Place{good, badRadius, nil, dup, badPoly})
	if ix.Len() != 1 {
		t.Fatalf("Len = %d, want 1", ix.Len())
	}
	want := []struct{ reason, msg string }{
		{geopulse.ReasonInvalidGeometry, "place 8 (zero radius): radius_m"},
		{geopulse.ReasonInvalidGeometry, "position 2 is nil"},
		{geopulse.ReasonInvalidField, "place 7: duplicate"},
		{geopulse.ReasonInvalidGeometry, "place 9 (bowtie): the outer ring intersects itself"},
	}
	if len(errs) != len(want) {
		t.Fatalf("errs = %v, want %d entries", errs, len(want))
	}
	for i, w := range want {
		requireReason(t, errs[i], w.reason, w.msg)
	}
	if got := ix.Match(48.85, 2.35, 0, nil); !slices.Equal(got, []int64{7}) {
		t.Fatalf("Match = %v, want [7]", got)
	}
	if got := ix.Match(10, 10, 0, nil); len(got) != 0 {
		t.Fatalf("Match at the duplicate = %v, want none", got)
	}
}

func TestIndexMatchEdgeCases(t *testing.T) {
	ix, errs := NewIndex([]*geopulse.Place{
		{ID: 3, Center: &geopulse.LatLon{Lat: 0, Lon: 0}, RadiusM: 1000},
		{ID: 1, Center: &geopulse.LatLon{Lat: 0, Lon: 0}, RadiusM: 500},
		{ID: 2, Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[-0.01,-0.01],[0.01,-0.01],[0.01,0.01],[-0.01,-0.01]]]}`)},
	})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	tests := []struct {
		name          string
		lat, lon, acc float64
		dst           []int64
		want          []int64
	}{
		{name: "all three, sorted", lat: 0, lon: 0, want: []int64{1, 2, 3}},
		{name: "appends to dst", lat: 0, lon: 0, dst: []int64{99}, want: []int64{99, 1, 2, 3}},
		{name: "accuracy drops the small venue", lat: 0, lon: 0, acc: 700, want: []int64{2, 3}},
		{name: "outside the inner venue", lat: 0.006, lon: 0, want: []int64{3}},
		{name: "nowhere", lat: 45, lon: 45, want: nil},
		{name: "invalid point", lat: 100, lon: 0, want: nil},
		{name: "negative accuracy", lat: 0, lon: 0, acc: -0.5, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ix.Match(tt.lat, tt.lon, tt.acc, tt.dst)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIndexMatchDoesNotAllocate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ix, errs := NewIndex(testWorld(rng, 2000, testCities[:3], 1000))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	c := testCities[0]
	dst := make([]int64, 0, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		lat, lon := offset(c.lat, c.lon, rng.NormFloat64()*1000, rng.NormFloat64()*1000)
		dst = ix.Match(lat, lon, 0, dst[:0])
	})
	if allocs != 0 {
		t.Fatalf("Match allocates %v times per call", allocs)
	}
}

func TestIndexConcurrentMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	places := testWorld(rng, 1000, testCities[:2], 1000)
	ix, _ := NewIndex(places)
	c := testCities[1]
	pts := make([][2]float64, 2000)
	want := make([][]int64, len(pts))
	for i := range pts {
		pts[i][0], pts[i][1] = offset(c.lat, c.lon, rng.NormFloat64()*1000, rng.NormFloat64()*1000)
		want[i] = ix.Match(pts[i][0], pts[i][1], 0, nil)
	}
	var wg sync.WaitGroup
	fails := make(chan string, 4)
	for range 4 {
		wg.Go(func() {
			var dst []int64
			for i, p := range pts {
				dst = ix.Match(p[0], p[1], 0, dst[:0])
				if !slices.Equal(dst, want[i]) {
					fails <- "concurrent Match disagrees"
					return
				}
			}
		})
	}
	wg.Wait()
	close(fails)
	for f := range fails {
		t.Fatal(f)
	}
}

func TestNewIndexEmpty(t *testing.T) {
	ix, errs := NewIndex(nil)
	if ix.Len() != 0 || len(errs) != 0 {
		t.Fatalf("Len = %d, errs = %v", ix.Len(), errs)
	}
	if got := ix.Match(0, 0, 0, nil); got != nil {
		t.Fatalf("Match on empty index = %v", got)
	}
}
