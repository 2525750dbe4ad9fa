package ocr

import (
	"cmp"
	"fmt"
	"image"
	"math"
	"slices"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"

	"github.com/geopulse/geopulse/vision/onnx"
)

const (
	recHeight = 48
	// The recogniser was trained on 320-wide inputs with short lines padded
	// out, so batches are at least that wide (as in PaddleOCR).
	minRecWidth = 320
	// Longer lines are squeezed to this width (160 CTC steps): it bounds the
	// cost of one crop, and a line longer than that is rarely a sign.
	maxRecWidth = 1280
	recBatch    = 6
	// minLineScore drops lines the recogniser is unsure of: they are mostly
	// textures (bricks, foliage) the detector mistook for text.
	minLineScore = 0.5
)

// recognize reads each region of img. Crops are sorted by width and
// batched so that padding, which costs as much as text, stays small.
func (r *Reader) recognize(s *scratch, img image.Image, quads []quad) ([]Line, error) {
	type crop struct {
		quad
		w int
	}
	crops := make([]crop, len(quads))
	for i, q := range quads {
		w := int(math.Ceil(recHeight * q.width() / q.height()))
		crops[i] = crop{q, min(max(w, 1), maxRecWidth)}
	}
	slices.SortStableFunc(crops, func(a, b crop) int { return cmp.Compare(a.w, b.w) })

	var lines []Line
	for start := 0; start < len(crops); start += recBatch {
		batch := crops[start:min(start+recBatch, len(crops))]
		width := max(minRecWidth, batch[len(batch)-1].w)
		plane := recHeight * width
		in := grow(&s.in, len(batch)*3*plane)
		// Zero is mid-grey after normalisation: the padding PaddleOCR uses.
		clear(in)
		for k, c := range batch {
			dst := s.canvas(c.w, recHeight)
			straighten(dst, img, c.quad)
			base := k * 3 * plane
			for y := range recHeight {
				for x := range c.w {
					p := dst.Pix[y*dst.Stride+4*x:]
					i := base + y*width + x
					// BGR, scaled to [-1, 1].
					in[i] = float32(p[2])/127.5 - 1
					in[plane+i] = float32(p[1])/127.5 - 1
					in[2*plane+i] = float32(p[0])/127.5 - 1
				}
			}
		}
		texts, scores, err := r.runRecognizer(in, len(batch), width)
		if err != nil {
			return nil, err
		}
		for k, c := range batch {
			if texts[k] != "" && scores[k] >= minLineScore {
				box := c.bounds().Intersect(img.Bounds())
				lines = append(lines, Line{Text: texts[k], Score: scores[k], Box: box})
			}
		}
	}
	return lines, nil
}

// straighten draws the region q of src onto all of dst, turning a tilted
// line level. BiLinear widens its kernel when shrinking, so large text is
// averaged, not aliased. Parts of q outside src stay dst's white.
func straighten(dst *image.RGBA, src image.Image, q quad) {
	w, h := float64(dst.Rect.Dx()), float64(dst.Rect.Dy())
	// dst→src is (x, y) ↦ p + x·u/w + y·v/h; Transform wants its inverse.
	a, b, c, d := q.ux/w, q.vx/h, q.uy/w, q.vy/h
	det := a*d - b*c
	if det == 0 {
		return
	}
	ia, ib, ic, id := d/det, -b/det, -c/det, a/det
	s2d := f64.Aff3{ia, ib, -(ia*q.px + ib*q.py), ic, id, -(ic*q.px + id*q.py)}
	draw.BiLinear.Transform(dst, s2d, src, q.bounds().Intersect(src.Bounds()), draw.Over, nil)
}

// runRecognizer runs one batch of n crops, width pixels wide, and decodes it.
func (r *Reader) runRecognizer(in []float32, n, width int) ([]string, []float32, error) {
	x, err := onnx.Tensor(in, int64(n), 3, recHeight, int64(width))
	if err != nil {
		return nil, nil, fmt.Errorf("ocr recogniser input: %w", err)
	}
	defer x.Destroy()
	outs, err := r.rec.Run(x)
	if err != nil {
		return nil, nil, fmt.Errorf("ocr recognise: %w", err)
	}
	defer outs[0].Destroy()
	shape := outs[0].GetShape()
	if len(shape) != 3 || shape[0] != int64(n) || shape[2] != int64(len(r.keys)) {
		return nil, nil, fmt.Errorf("ocr recognise: output shape %v for %d crops", shape, n)
	}
	steps, classes := int(shape[1]), int(shape[2])
	probs := outs[0].GetData()
	texts := make([]string, n)
	scores := make([]float32, n)
	for k := range n {
		texts[k], scores[k] = r.decode(probs[k*steps*classes:(k+1)*steps*classes], steps, classes)
	}
	return texts, scores, nil
}

// decode is greedy CTC: the best class per step, repeats collapsed, blanks
// dropped. The score is the mean probability of the characters kept.
func (r *Reader) decode(probs []float32, steps, classes int) (string, float32) {
	var sb strings.Builder
	var sum float32
	var n, prev int
	for t := range steps {
		row := probs[t*classes : (t+1)*classes]
		best := 0
		for c, p := range row {
			if p > row[best] {
				best = c
			}
		}
		if best != 0 && best != prev {
			sb.WriteString(r.keys[best])
			sum += row[best]
			n++
		}
		prev = best
	}
	text := strings.TrimSpace(sb.String())
	if text == "" {
		return "", 0
	}
	return text, sum / float32(n)
}
