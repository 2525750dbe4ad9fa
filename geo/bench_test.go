package geo

import (
	"math/rand/v2"
	"testing"
)

// benchPoint is a post location with its accuracy.
type benchPoint struct{ lat, lon, acc float64 }

// benchPoints draws n points: nine in ten around the cities (where the
// places are), the rest anywhere between ±60° latitude.
func benchPoints(rng *rand.Rand, n int) []benchPoint {
	pts := make([]benchPoint, n)
	for i := range pts {
		p := &pts[i]
		if rng.IntN(10) == 0 {
			p.lat, p.lon = rng.Float64()*120-60, rng.Float64()*360-180
		} else {
			c := testCities[rng.IntN(len(testCities))]
			p.lat, p.lon = offset(c.lat, c.lon, rng.NormFloat64()*5000, rng.NormFloat64()*5000)
		}
		switch r := rng.IntN(10); {
		case r < 7:
			p.acc = rng.Float64() * 30
		case r < 9:
			p.acc = 30 + rng.Float64()*170
		default:
			p.acc = 1000 + rng.Float64()*4000
		}
	}
	return pts
}

// BenchmarkIndexMatch matches points against 10,000 places (venues of
// 50-500 m and small polygons) spread over 30 real cities. Run with -cpu 1
// for the per-core figure; the target is 1,000,000 points/s.
func BenchmarkIndexMatch(b *testing.B) {
	rng := rand.New(rand.NewPCG(2026, 1))
	ix, errs := NewIndex(testWorld(rng, 10_000, testCities, 4000))
	if len(errs) != 0 {
		b.Fatal(errs)
	}
	pts := benchPoints(rng, 1<<16)
	dst := make([]int64, 0, 64)
	matched, n := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		p := pts[n&(len(pts)-1)]
		dst = ix.Match(p.lat, p.lon, p.acc, dst[:0])
		matched += len(dst)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(matched)/float64(n), "matches/point")
}

func BenchmarkCellID(b *testing.B) {
	pts := benchPoints(rand.New(rand.NewPCG(2026, 2)), 1<<12)
	n := 0
	var sink int64
	for b.Loop() {
		p := pts[n&(len(pts)-1)]
		sink ^= CellID(p.lat, p.lon)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "points/s")
	_ = sink
}

func BenchmarkCovering(b *testing.B) {
	rng := rand.New(rand.NewPCG(2026, 3))
	poly, err := NewPolygon(polygonJSON(starRing(rng, 48.8566, 2.3522, 800, 40, true)))
	if err != nil {
		b.Fatal(err)
	}
	big, err := NewPolygon([]byte(manyVertices(MaxVertices)))
	if err != nil {
		b.Fatal(err)
	}
	cafe, err := NewCircle(48.8566, 2.3522, 150)
	if err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name string
		s    *Shape
	}{{"venue", cafe}, {"polygon40", poly}, {"polygon10000", big}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bb.s.Covering()
			}
		})
	}
}

func BenchmarkParseGeometry(b *testing.B) {
	for _, bb := range []struct {
		name string
		raw  []byte
	}{
		{"polygon40", polygonJSON(starRing(rand.New(rand.NewPCG(1, 1)), 48.8566, 2.3522, 800, 40, true))},
		{"polygon10000", []byte(manyVertices(MaxVertices))},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.raw)))
			for b.Loop() {
				if _, err := ParseGeometry(bb.raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
