package simulate_test

import (
	"fmt"
	"time"

	"github.com/geopulse/geopulse/simulate"
)

// A world for a test: fixed seed and end, so every run sees the same posts.
func ExampleNew() {
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	w := simulate.New(simulate.Options{Seed: 1, Cities: 3, Venues: 60, Authors: 500, End: end})
	fmt.Println(len(w.Cities()), w.Cities()[0].Name, len(w.Places()), len(w.Authors()))

	// A day of history, in order.
	n := 0
	for p := w.Next(); p.TakenAt.Before(w.Start().Add(24 * time.Hour)); p = w.Next() {
		n++
	}
	fmt.Println(n > 700 && n < 1300)
	// Output:
	// 3 London 60 500
	// true
}
