package detect

import (
	"bufio"
	"cmp"
	"fmt"
	"image"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/vision/onnx"
	"golang.org/x/image/draw"
)

// Kinds of model.
const (
	// KindNanoDet is a GFL detector: per level, [1,N,C] class scores
	// (sigmoid applied) and [1,N,4·(R+1)] side distributions, levels at
	// strides 8, 16, 32 of a square input.
	KindNanoDet = "nanodet"
	// KindClassifier has one output of class scores ([1,C]); softmax is
	// applied when the scores are not already probabilities.
	KindClassifier = "classifier"
)

// Config describes a model. Zero values take NanoDet's defaults.
type Config struct {
	Kind    string // KindNanoDet (default) or KindClassifier
	Model   string // path of the .onnx file
	Name    string // model name on labels; default the file's base name
	Version string // model version on labels
	// Labels is the label map: class names in output order. LabelsFile, a
	// text file with one name per line, is read when Labels is empty;
	// with neither, COCO.
	Labels     []string
	LabelsFile string
	InputSize  int // square input side; default 416
	// Channels is the order the model takes: "rgb" or "bgr". Default: bgr
	// for NanoDet (trained on OpenCV images), rgb for classifiers.
	Channels string
	// Mean and Std normalise each channel, in the model's channel order,
	// scaled to [0,1]: (x-mean)/std. Defaults: NanoDet's training
	// normalisation for NanoDet, 0 and 1 for classifiers.
	Mean, Std [3]float32
	MinScore  float32 // default 0.35
	IoU       float32 // NMS overlap threshold; default 0.5
	MaxObjs   int     // default 20
	// Ignore lists class names never reported (e.g. ones a model is known
	// to confuse).
	Ignore []string
	Onnx   onnx.Options
}

// Object is one thing found in a picture.
type Object struct {
	Label string
	Score float32
	Box   image.Rectangle // in the picture's pixels; empty for classifiers
}

// Detector runs one model. It is safe for concurrent use.
type Detector struct {
	cfg    Config
	sess   *onnx.Session
	ignore map[int]bool
	bgr    bool // feed channels as B, G, R
}

// Open loads the model of cfg.
func Open(cfg Config) (*Detector, error) {
	cfg.Kind = cmp.Or(cfg.Kind, KindNanoDet)
	if cfg.Kind != KindNanoDet && cfg.Kind != KindClassifier {
		return nil, fmt.Errorf("detector kind %q: want %s or %s", cfg.Kind, KindNanoDet, KindClassifier)
	}
	cfg.InputSize = cmp.Or(cfg.InputSize, 416)
	cfg.MinScore = cmp.Or(cfg.MinScore, 0.35)
	cfg.IoU = cmp.Or(cfg.IoU, 0.5)
	cfg.MaxObjs = cmp.Or(cfg.MaxObjs, 20)
	if cfg.Kind == KindNanoDet {
		// Measured on the golden photos: with RGB/255 (what the TF.js
		// package's own demo feeds) coffee.png's cup scores 0.26 and
		// motorcycle_left.png finds no motorcycle; with NanoDet's own
		// BGR mean/std they score 0.53 and 0.79.
		cfg.Channels = cmp.Or(cfg.Channels, "bgr")
		if cfg.Mean == [3]float32{} && cfg.Std == [3]float32{} {
			cfg.Mean = [3]float32{103.53 / 255, 116.28 / 255, 123.675 / 255}
			cfg.Std = [3]float32{57.375 / 255, 57.12 / 255, 58.395 / 255}
		}
	}
	cfg.Channels = cmp.Or(cfg.Channels, "rgb")
	if cfg.Channels != "rgb" && cfg.Channels != "bgr" {
		return nil, fmt.Errorf("detector channels %q: want rgb or bgr", cfg.Channels)
	}
	if cfg.Std == [3]float32{} {
		cfg.Std = [3]float32{1, 1, 1}
	}
	if cfg.Name == "" {
		base := cfg.Model[strings.LastIndexByte(cfg.Model, '/')+1:]
		cfg.Name = strings.TrimSuffix(base, ".onnx")
	}
	if len(cfg.Labels) == 0 && cfg.LabelsFile != "" {
		labels, err := readLabels(cfg.LabelsFile)
		if err != nil {
			return nil, err
		}
		cfg.Labels = labels
	}
	if len(cfg.Labels) == 0 {
		cfg.Labels = COCO
	}
	sess, err := onnx.Open(cfg.Model, cfg.Onnx)
	if err != nil {
		return nil, err
	}
	d := &Detector{cfg: cfg, sess: sess, ignore: map[int]bool{}, bgr: cfg.Channels == "bgr"}
	for _, name := range cfg.Ignore {
		if i := slices.Index(cfg.Labels, name); i >= 0 {
			d.ignore[i] = true
		}
	}
	return d, nil
}

func readLabels(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("label map: %w", err)
	}
	defer f.Close()
	var labels []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			labels = append(labels, strings.ToLower(l))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("label map %s: %w", path, err)
	}
	return labels, nil
}

// Name and Version identify the model on the labels it produces.
func (d *Detector) Name() string    { return d.cfg.Name }
func (d *Detector) Version() string { return d.cfg.Version }

// Close frees the model.
func (d *Detector) Close() error { return d.sess.Close() }

// Detect finds the objects in img, best first.
func (d *Detector) Detect(img image.Image) ([]Object, error) {
	b := img.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "The picture is empty.")
	}
	n := d.cfg.InputSize
	in, err := onnx.Tensor(d.input(img), 1, 3, int64(n), int64(n))
	if err != nil {
		return nil, err
	}
	defer in.Destroy()
	outs, err := d.sess.Run(in)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, o := range outs {
			o.Destroy()
		}
	}()
	if d.cfg.Kind == KindClassifier {
		return d.classes(outs[0].GetData())
	}
	type level struct{ scores, regs []float32 }
	levels := map[int64]*level{} // by cells per level
	for _, o := range outs {
		sh := o.GetShape()
		if len(sh) != 3 {
			continue
		}
		l := levels[sh[1]]
		if l == nil {
			l = &level{}
			levels[sh[1]] = l
		}
		if sh[2] == int64(len(d.cfg.Labels)) {
			l.scores = o.GetData()
		} else if sh[2]%4 == 0 {
			l.regs = o.GetData()
		}
	}
	sx, sy := float32(b.Dx())/float32(n), float32(b.Dy())/float32(n)
	var cands []Object
	for cells, l := range levels {
		side := int(math.Round(math.Sqrt(float64(cells))))
		if l.scores == nil || l.regs == nil || side*side != int(cells) {
			return nil, fmt.Errorf("model %s: output level of %d cells lacks scores or box regression", d.cfg.Name, cells)
		}
		stride := float32(n) / float32(side)
		cands = d.decode(cands, l.scores, l.regs, side, stride, sx, sy, b.Min)
	}
	return nms(cands, d.cfg.IoU, d.cfg.MaxObjs), nil
}

// input resizes img to the square input and lays it out as normalised
// planar channels in the model's order.
func (d *Detector) input(img image.Image) []float32 {
	n := d.cfg.InputSize
	dst := image.NewRGBA(image.Rect(0, 0, n, n))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	out := make([]float32, 3*n*n)
	plane := n * n
	m, s := d.cfg.Mean, d.cfg.Std
	for i := range plane {
		r, g, b := dst.Pix[4*i], dst.Pix[4*i+1], dst.Pix[4*i+2]
		if d.bgr {
			r, b = b, r
		}
		out[i] = (float32(r)/255 - m[0]) / s[0]
		out[plane+i] = (float32(g)/255 - m[1]) / s[1]
		out[2*plane+i] = (float32(b)/255 - m[2]) / s[2]
	}
	return out
}

// decode turns one level's cells into candidate boxes: each side's
// distance is the expectation of its softmax distribution over R+1 bins,
// in strides, from the cell's centre (GFL).
func (d *Detector) decode(dst []Object, scores, regs []float32, side int, stride, sx, sy float32, origin image.Point) []Object {
	nc := len(d.cfg.Labels)
	cells := side * side
	per := len(regs) / cells
	bins := per / 4
	for i := range cells {
		row := scores[i*nc : (i+1)*nc]
		best, cls := float32(0), -1
		for c, s := range row {
			if s > best && !d.ignore[c] {
				best, cls = s, c
			}
		}
		if cls < 0 || best < d.cfg.MinScore {
			continue
		}
		cx, cy := (float32(i%side)+0.5)*stride, (float32(i/side)+0.5)*stride
		var dist [4]float32
		for k := range 4 {
			dist[k] = expectation(regs[i*per+k*bins:i*per+(k+1)*bins]) * stride
		}
		box := image.Rect(
			origin.X+int((cx-dist[0])*sx), origin.Y+int((cy-dist[1])*sy),
			origin.X+int((cx+dist[2])*sx), origin.Y+int((cy+dist[3])*sy))
		dst = append(dst, Object{Label: d.cfg.Labels[cls], Score: best, Box: box})
	}
	return dst
}

func expectation(logits []float32) float32 {
	mx := slices.Max(logits)
	var sum, ex float32
	for i, v := range logits {
		e := float32(math.Exp(float64(v - mx)))
		sum += e
		ex += e * float32(i)
	}
	return ex / sum
}

// nms keeps the best box of each cluster of same-class boxes that overlap
// by more than iou, best first, at most max.
func nms(cands []Object, iou float32, max int) []Object {
	slices.SortFunc(cands, func(a, b Object) int { return cmp.Compare(b.Score, a.Score) })
	var keep []Object
	for _, c := range cands {
		ok := true
		for _, k := range keep {
			if k.Label == c.Label && overlap(k.Box, c.Box) > iou {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, c)
			if len(keep) == max {
				break
			}
		}
	}
	return keep
}

func overlap(a, b image.Rectangle) float32 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ai, aa, ab := area(in), area(a), area(b)
	return ai / (aa + ab - ai)
}

func area(r image.Rectangle) float32 { return float32(r.Dx()) * float32(r.Dy()) }

// classes turns a classifier's scores into the classes above MinScore.
func (d *Detector) classes(scores []float32) ([]Object, error) {
	if len(scores) != len(d.cfg.Labels) {
		return nil, fmt.Errorf("model %s: %d scores for %d labels", d.cfg.Name, len(scores), len(d.cfg.Labels))
	}
	probs := slices.Clone(scores)
	var sum float32
	for _, s := range probs {
		sum += s
	}
	if sum < 0.99 || sum > 1.01 || slices.Min(probs) < 0 {
		// Logits: softmax them.
		mx := slices.Max(probs)
		sum = 0
		for i, s := range probs {
			probs[i] = float32(math.Exp(float64(s - mx)))
			sum += probs[i]
		}
		for i := range probs {
			probs[i] /= sum
		}
	}
	var out []Object
	for i, p := range probs {
		if p >= d.cfg.MinScore && !d.ignore[i] {
			out = append(out, Object{Label: d.cfg.Labels[i], Score: p})
		}
	}
	slices.SortFunc(out, func(a, b Object) int { return cmp.Compare(b.Score, a.Score) })
	if len(out) > d.cfg.MaxObjs {
		out = out[:d.cfg.MaxObjs]
	}
	return out, nil
}

// Labels turns objects into a post's labels: one per class, with its best
// score.
func (d *Detector) Labels(objs []Object) []geopulse.Label {
	var out []geopulse.Label
	for _, o := range objs {
		out = geopulse.MergeLabels(out, []geopulse.Label{{Kind: geopulse.LabelObject, Name: o.Label, Score: o.Score,
			Origin: geopulse.OriginImage, Model: d.cfg.Name, Version: d.cfg.Version}})
	}
	return out
}
