package ocr

import (
	"cmp"
	"fmt"
	"image"
	"math"
	"slices"

	"golang.org/x/image/draw"

	"github.com/geopulse/geopulse/vision/onnx"
)

// DB post-processing, with PaddleOCR's defaults where it has one.
const (
	binThresh   = 0.3 // a map pixel is text above this probability
	boxThresh   = 0.6 // a region is text when its mean probability reaches this
	unclipRatio = 1.5 // the detector predicts shrunk regions; grow them back
	minBoxSide  = 3   // map pixels: thinner regions are noise or unreadable
	minBoxArea  = 30  // map pixels: a few characters at the smallest readable size
	maxBoxes    = 64  // bounds the recognition cost of a page of text; the largest win
)

// ImageNet statistics the detector was trained with, in the BGR order
// PaddleOCR feeds it (it decodes images with OpenCV).
var (
	detMean = [3]float32{0.485, 0.456, 0.406}
	detStd  = [3]float32{0.229, 0.224, 0.225}
)

// scratch holds one Read's buffers; a Reader pools them so that steady
// traffic does not allocate a frame's worth of floats per image.
type scratch struct {
	pix    []byte
	in     []float32
	labels []int32
	stack  []int32
	comp   []int32 // pixels of the component being measured
	rows   []int
	points []point
}

// grow returns buf resliced to n, reallocating only when it is too small.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}

// canvas returns a white w×h RGBA image over s's buffer. Drawing a picture
// onto it with draw.Over flattens transparency onto white, where a plain copy
// would turn transparent pixels black and dark text invisible.
func (s *scratch) canvas(w, h int) *image.RGBA {
	pix := grow(&s.pix, 4*w*h)
	for i := range pix {
		pix[i] = 0xff
	}
	return &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
}

// detect returns the text regions of img in img's coordinates, largest first.
func (r *Reader) detect(s *scratch, img image.Image) ([]quad, error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, errEmpty()
	}
	side := r.MaxSide
	if side <= 0 {
		side = DefaultMaxSide
	}
	scale := float64(side) / float64(max(b.Dx(), b.Dy()))
	// The network downsamples by 32; each side is rounded on its own, as
	// PaddleOCR does, so extreme aspect ratios are stretched, not padded.
	dw, dh := roundTo32(float64(b.Dx())*scale), roundTo32(float64(b.Dy())*scale)

	c := s.canvas(dw, dh)
	draw.ApproxBiLinear.Scale(c, c.Bounds(), img, b, draw.Over, nil)
	plane := dw * dh
	in := grow(&s.in, 3*plane)
	for i := range plane {
		p := c.Pix[4*i : 4*i+3 : 4*i+3]
		in[i] = (float32(p[2])/255 - detMean[0]) / detStd[0]
		in[plane+i] = (float32(p[1])/255 - detMean[1]) / detStd[1]
		in[2*plane+i] = (float32(p[0])/255 - detMean[2]) / detStd[2]
	}
	x, err := onnx.Tensor(in, 1, 3, int64(dh), int64(dw))
	if err != nil {
		return nil, fmt.Errorf("ocr detector input: %w", err)
	}
	defer x.Destroy()
	outs, err := r.det.Run(x)
	if err != nil {
		return nil, fmt.Errorf("ocr detect: %w", err)
	}
	defer outs[0].Destroy()
	prob := outs[0].GetData()
	if len(prob) != plane {
		return nil, fmt.Errorf("ocr detect: output shape %v for input %dx%d", outs[0].GetShape(), dw, dh)
	}

	quads := dbRegions(s, prob, dw, dh)
	sx, sy := float64(b.Dx())/float64(dw), float64(b.Dy())/float64(dh)
	out := quads[:0]
	for _, q := range quads {
		q = q.scale(sx, sy, float64(b.Min.X), float64(b.Min.Y))
		if !q.bounds().Intersect(b).Empty() {
			out = append(out, q)
		}
	}
	return out, nil
}

func roundTo32(v float64) int {
	return max(32, int(math.Round(v/32))*32)
}

// dbRegions finds the 8-connected components of prob > binThresh and keeps
// those large and confident enough to be text, as rotated rectangles in map
// pixels, grown back to the text's full size; largest first.
func dbRegions(s *scratch, prob []float32, w, h int) []quad {
	labels := grow(&s.labels, w*h)
	clear(labels)
	var found []quad
	var next int32
	for start, p := range prob {
		if p <= binThresh || labels[start] != 0 {
			continue
		}
		next++
		labels[start] = next
		stack := append(s.stack[:0], int32(start))
		comp := s.comp[:0]
		y0, y1 := h, 0
		var sum float64
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			comp = append(comp, i)
			x, y := int(i)%w, int(i)/w
			y0, y1 = min(y0, y), max(y1, y+1)
			sum += float64(prob[i])
			for ny := max(y-1, 0); ny <= min(y+1, h-1); ny++ {
				for nx := max(x-1, 0); nx <= min(x+1, w-1); nx++ {
					j := ny*w + nx
					if labels[j] == 0 && prob[j] > binThresh {
						labels[j] = next
						stack = append(stack, int32(j))
					}
				}
			}
		}
		s.stack, s.comp = stack, comp
		// The score is the mean over the component's own pixels (PaddleOCR's
		// "slow" polygon score), which the empty corners of a tilted line's
		// box cannot dilute.
		if len(comp) < minBoxSide*minBoxSide || sum/float64(len(comp)) < boxThresh {
			continue
		}
		q := minAreaRect(convexHull(s.outline(comp, w, y0, y1)))
		bw, bh := q.width(), q.height()
		if min(bw, bh) < minBoxSide || bw*bh < minBoxArea {
			continue
		}
		// Unclip as PaddleOCR does (offset = area × ratio / perimeter): the
		// detector is trained on text regions shrunk by that much.
		q = q.grow(bw * bh * unclipRatio / (2 * (bw + bh)))
		found = append(found, q)
	}
	found = joinLines(found)
	slices.SortStableFunc(found, func(a, b quad) int {
		return cmp.Compare(b.width()*b.height(), a.width()*a.height())
	})
	return found[:min(len(found), maxBoxes)]
}

// outline returns the outer pixel corners of each row of a component (rows
// y0..y1): enough for its convex hull, and far fewer points than all of its
// pixels.
func (s *scratch) outline(comp []int32, w, y0, y1 int) []point {
	rows := grow(&s.rows, 2*(y1-y0))
	for i := range y1 - y0 {
		rows[2*i], rows[2*i+1] = w, -1
	}
	for _, i := range comp {
		x, y := int(i)%w, int(i)/w-y0
		rows[2*y], rows[2*y+1] = min(rows[2*y], x), max(rows[2*y+1], x)
	}
	pts := s.points[:0]
	for i := range y1 - y0 {
		if rows[2*i+1] < 0 {
			continue
		}
		l, r, y := float64(rows[2*i]), float64(rows[2*i+1]+1), float64(y0+i)
		pts = append(pts, point{l, y}, point{l, y + 1}, point{r, y}, point{r, y + 1})
	}
	s.points = pts
	return pts
}
