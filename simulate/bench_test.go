package simulate

import (
	"testing"
	"time"
)

// BenchmarkNext measures the stream; posts/s is the figure benchmarks of
// other packages can count on when they generate millions of posts.
func BenchmarkNext(b *testing.B) {
	w := New(Options{Seed: 1, End: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	b.ReportAllocs()
	for b.Loop() {
		w.Next()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkLive measures posts stamped at a given time, as a live demo makes them.
func BenchmarkLive(b *testing.B) {
	w := New(Options{Seed: 1, End: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	t := w.End()
	b.ReportAllocs()
	for b.Loop() {
		t = t.Add(time.Millisecond)
		w.Live(t)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkNew measures building the default world (400 venues, 5,000 authors).
func BenchmarkNew(b *testing.B) {
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		New(Options{Seed: 1, End: end})
	}
}
