package ocr

import (
	"math"
	"testing"
)

func TestMinAreaRect(t *testing.T) {
	// corners of a w×h rectangle turned by deg about (50, 50).
	turned := func(w, h, deg float64) []point {
		sin, cos := math.Sincos(deg * math.Pi / 180)
		var pts []point
		for _, c := range [][2]float64{{0, 0}, {w, 0}, {w, h}, {0, h}, {w / 2, h / 2}} {
			x, y := c[0]-w/2, c[1]-h/2
			pts = append(pts, point{50 + x*cos - y*sin, 50 + x*sin + y*cos})
		}
		return pts
	}
	tests := []struct {
		name          string
		pts           []point
		wantW, wantH  float64
		wantDirection float64 // degrees of u from the x axis
	}{
		{"level", turned(100, 20, 0), 100, 20, 0},
		{"down 30°", turned(100, 20, 30), 100, 20, 30},
		{"up 30°", turned(100, 20, -30), 100, 20, -30},
		// Past 45° the more horizontal side is the line, as in PaddleOCR.
		{"steep 80°", turned(100, 20, 80), 20, 100, -10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := minAreaRect(convexHull(tt.pts))
			dir := math.Atan2(q.uy, q.ux) * 180 / math.Pi
			if math.Abs(q.width()-tt.wantW) > 1e-6 || math.Abs(q.height()-tt.wantH) > 1e-6 || math.Abs(dir-tt.wantDirection) > 1e-6 {
				t.Errorf("got %.3f×%.3f at %.3f°, want %v×%v at %v°", q.width(), q.height(), dir, tt.wantW, tt.wantH, tt.wantDirection)
			}
			if q.vy <= 0 || q.ux <= 0 {
				t.Errorf("quad %+v: u must point right and v down", q)
			}
		})
	}
}

func TestJoinLines(t *testing.T) {
	word := func(x, y, w, h float64) quad { return quad{px: x, py: y, ux: w, vy: h} }
	tests := []struct {
		name string
		in   []quad
		want int
	}{
		{"touching words", []quad{word(0, 0, 100, 20), word(100, 2, 80, 20)}, 1},
		{"overlapping words", []quad{word(0, 0, 100, 20), word(90, 0, 80, 20), word(160, 1, 50, 19)}, 1},
		{"gap between words", []quad{word(0, 0, 100, 20), word(110, 0, 80, 20)}, 2},
		{"next line", []quad{word(0, 0, 100, 20), word(0, 18, 100, 20)}, 2},
		{"heading over small print", []quad{word(0, 0, 100, 40), word(100, 10, 100, 20)}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := joinLines(tt.in); len(got) != tt.want {
				t.Errorf("got %d regions %+v, want %d", len(got), got, tt.want)
			}
		})
	}
}
