package ocr

import (
	"image"
	"math"
	"slices"
)

// quad is a rotated rectangle: a corner p and the two edges from it, u along
// the line of text (left to right) and v across it (top to bottom). Text in
// photos is rarely level, and reading an axis-aligned box of a tilted line
// would feed the recogniser parts of the lines above and below.
type quad struct {
	px, py, ux, uy, vx, vy float64
}

func (q quad) width() float64  { return math.Hypot(q.ux, q.uy) }
func (q quad) height() float64 { return math.Hypot(q.vx, q.vy) }

// scale maps q from the detector's map to the image: sx and sy may differ,
// which turns the rectangle into a parallelogram; cropping handles both.
func (q quad) scale(sx, sy, ox, oy float64) quad {
	return quad{q.px*sx + ox, q.py*sy + oy, q.ux * sx, q.uy * sy, q.vx * sx, q.vy * sy}
}

// bounds is the smallest pixel rectangle holding q.
func (q quad) bounds() image.Rectangle {
	xs := [4]float64{q.px, q.px + q.ux, q.px + q.vx, q.px + q.ux + q.vx}
	ys := [4]float64{q.py, q.py + q.uy, q.py + q.vy, q.py + q.uy + q.vy}
	return image.Rect(
		int(math.Floor(slices.Min(xs[:]))), int(math.Floor(slices.Min(ys[:]))),
		int(math.Ceil(slices.Max(xs[:]))), int(math.Ceil(slices.Max(ys[:]))),
	)
}

// grow moves every side of q outwards by d.
func (q quad) grow(d float64) quad {
	w, h := q.width(), q.height()
	if w == 0 || h == 0 {
		return q
	}
	ex, ey := q.ux/w, q.uy/w
	nx, ny := q.vx/h, q.vy/h
	return quad{
		px: q.px - d*ex - d*nx, py: q.py - d*ey - d*ny,
		ux: ex * (w + 2*d), uy: ey * (w + 2*d),
		vx: nx * (h + 2*d), vy: ny * (h + 2*d),
	}
}

type point struct{ x, y float64 }

// convexHull returns the hull of pts counter-clockwise (Andrew's monotone
// chain); pts is sorted in place.
func convexHull(pts []point) []point {
	slices.SortFunc(pts, func(a, b point) int {
		if a.x != b.x {
			if a.x < b.x {
				return -1
			}
			return 1
		}
		if a.y < b.y {
			return -1
		} else if a.y > b.y {
			return 1
		}
		return 0
	})
	if len(pts) < 3 {
		return pts
	}
	cross := func(o, a, b point) float64 { return (a.x-o.x)*(b.y-o.y) - (a.y-o.y)*(b.x-o.x) }
	hull := make([]point, 0, 2*len(pts))
	for _, p := range pts {
		for len(hull) >= 2 && cross(hull[len(hull)-2], hull[len(hull)-1], p) <= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, p)
	}
	lower := len(hull) + 1
	for i := len(pts) - 2; i >= 0; i-- {
		p := pts[i]
		for len(hull) >= lower && cross(hull[len(hull)-2], hull[len(hull)-1], p) <= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, p)
	}
	return hull[:len(hull)-1]
}

// minAreaRect is the smallest rotated rectangle around the convex polygon
// hull. One of its sides lies on a hull edge, so trying each edge's
// direction is exact (hulls here have tens of points).
func minAreaRect(hull []point) quad {
	best, bestArea := quad{}, math.Inf(1)
	for i := range hull {
		a, b := hull[i], hull[(i+1)%len(hull)]
		l := math.Hypot(b.x-a.x, b.y-a.y)
		if l == 0 {
			continue
		}
		ex, ey := (b.x-a.x)/l, (b.y-a.y)/l
		minU, maxU, minV, maxV := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, p := range hull {
			u := p.x*ex + p.y*ey
			v := -p.x*ey + p.y*ex
			minU, maxU = min(minU, u), max(maxU, u)
			minV, maxV = min(minV, v), max(maxV, v)
		}
		if area := (maxU - minU) * (maxV - minV); area < bestArea {
			bestArea = area
			best = quad{
				px: minU*ex - minV*ey, py: minU*ey + minV*ex,
				ux: (maxU - minU) * ex, uy: (maxU - minU) * ey,
				vx: -(maxV - minV) * ey, vy: (maxV - minV) * ex,
			}
		}
	}
	return upright(best)
}

// upright relabels q so that u is the edge nearer to horizontal, pointing
// right, and v points down: the recogniser reads along u. Like PaddleOCR, a
// rectangle tilted past 45° is read along its more horizontal side.
func upright(q quad) quad {
	if math.Abs(q.uy) > math.Abs(q.ux) {
		q.ux, q.uy, q.vx, q.vy = q.vx, q.vy, q.ux, q.uy
	}
	if q.ux < 0 {
		q.px, q.py = q.px+q.ux, q.py+q.uy
		q.ux, q.uy = -q.ux, -q.uy
	}
	if q.vy < 0 {
		q.px, q.py = q.px+q.vx, q.py+q.vy
		q.vx, q.vy = -q.vx, -q.vy
	}
	return q
}

// corners returns q's four corners.
func (q quad) corners() [4]point {
	return [4]point{
		{q.px, q.py}, {q.px + q.ux, q.py + q.uy},
		{q.px + q.ux + q.vx, q.py + q.uy + q.vy}, {q.px + q.vx, q.py + q.vy},
	}
}

// sameLine reports whether b continues a's line of text: nearly parallel,
// of similar height, overlapping across the line and touching along it.
// The detector, trained mostly on Chinese, often splits Latin text at word
// gaps; after unclipping, words of one line touch or overlap, and reading
// them apart makes the recogniser see a sliver of the neighbour ("1BREAD").
func sameLine(a, b quad) bool {
	wa, ha, hb := a.width(), a.height(), b.height()
	if wa == 0 || ha == 0 || hb == 0 || max(ha, hb) > 1.5*min(ha, hb) {
		return false
	}
	ex, ey := a.ux/wa, a.uy/wa
	nx, ny := a.vx/ha, a.vy/ha
	if math.Abs(b.ux*nx+b.uy*ny)/b.width() > 0.17 { // more than ~10° apart
		return false
	}
	minU, maxU, minV, maxV := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, p := range b.corners() {
		dx, dy := p.x-a.px, p.y-a.py
		u, v := dx*ex+dy*ey, dx*nx+dy*ny
		minU, maxU = min(minU, u), max(maxU, u)
		minV, maxV = min(minV, v), max(maxV, v)
	}
	overlapV := min(ha, maxV) - max(0, minV)
	gapU := max(minU-wa, -maxU)
	return overlapV >= 0.6*min(ha, hb) && gapU <= 0
}

// joinLines merges the regions of each line (see sameLine) until none
// touch.
func joinLines(qs []quad) []quad {
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(qs); i++ {
			for j := i + 1; j < len(qs); j++ {
				if !sameLine(qs[i], qs[j]) {
					continue
				}
				a, b := qs[i].corners(), qs[j].corners()
				qs[i] = minAreaRect(convexHull(append(a[:], b[:]...)))
				qs = slices.Delete(qs, j, j+1)
				merged = true
				j = i // qs[i] grew: compare it with everything after it again
			}
		}
	}
	return qs
}
