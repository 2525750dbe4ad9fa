package ocr

import (
	"bufio"
	"cmp"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/vision/onnx"
)

// Files that Open expects in its folder (as `make ml-assets` lays them out).
const (
	DetectorFile   = "ch_PP-OCRv4_det_infer.onnx"
	RecognizerFile = "ch_PP-OCRv4_rec_infer.onnx"
	KeysFile       = "ppocr_keys_v1.txt"
)

// DefaultMaxSide is the detector's input size (longest side) when
// Reader.MaxSide is zero. Signs that matter fill a good part of a photo;
// 640 finds them and keeps the no-text path cheap.
const DefaultMaxSide = 640

// Line is one line of text found in an image.
type Line struct {
	Text  string
	Score float32         // mean confidence of the line's characters, 0..1
	Box   image.Rectangle // in the coordinates of the image passed to Read
}

// Reader runs text detection and recognition. It is safe for concurrent use;
// open one per process and share it.
type Reader struct {
	// MaxSide is the longest side, in pixels, of the picture the detector
	// sees. Pictures are scaled to it both ways: the detector misses small
	// text, and an enlarged thumbnail costs no more than a large photo.
	// Detection time grows with its square. Zero means DefaultMaxSide. Set
	// it before the Reader is shared.
	MaxSide int

	det, rec *onnx.Session
	keys     []string // class i of the recogniser is keys[i]; keys[0] is the CTC blank
	pool     sync.Pool
}

// Open loads the detector, recogniser and character list from dir.
func Open(dir string, opts onnx.Options) (*Reader, error) {
	keys, err := readKeys(filepath.Join(dir, KeysFile))
	if err != nil {
		return nil, err
	}
	det, err := onnx.Open(filepath.Join(dir, DetectorFile), opts)
	if err != nil {
		return nil, fmt.Errorf("open ocr detector: %w", err)
	}
	rec, err := onnx.Open(filepath.Join(dir, RecognizerFile), opts)
	if err != nil {
		det.Close()
		return nil, fmt.Errorf("open ocr recogniser: %w", err)
	}
	r := &Reader{det: det, rec: rec, keys: keys}
	if err := r.checkShapes(); err != nil {
		r.Close()
		return nil, err
	}
	r.pool.New = func() any { return new(scratch) }
	return r, nil
}

// checkShapes fails early when the files are not the models this package
// decodes, rather than reading garbage later.
func (r *Reader) checkShapes() error {
	if len(r.det.Inputs) != 1 || len(r.det.Outputs) != 1 || len(r.det.Outputs[0].Dimensions) != 4 {
		return fmt.Errorf("ocr detector: want one NCHW input and one [N,1,H,W] output, got %v -> %v", r.det.Inputs, r.det.Outputs)
	}
	if len(r.rec.Inputs) != 1 || len(r.rec.Outputs) != 1 {
		return fmt.Errorf("ocr recogniser: want one input and one output, got %v -> %v", r.rec.Inputs, r.rec.Outputs)
	}
	if in := r.rec.Inputs[0].Dimensions; len(in) != 4 || in[2] != recHeight {
		return fmt.Errorf("ocr recogniser: input shape %v, want [N,3,%d,W]", in, recHeight)
	}
	out := r.rec.Outputs[0].Dimensions
	if len(out) != 3 || out[2] != int64(len(r.keys)) {
		return fmt.Errorf("ocr recogniser: output shape %v, want [N,T,%d] (blank + %d keys + space)", out, len(r.keys), len(r.keys)-2)
	}
	return nil
}

// readKeys returns the recogniser's classes: the CTC blank, one character
// per line of the keys file, then the space PaddleOCR appends.
func readKeys(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open ocr keys: %w", err)
	}
	defer f.Close()
	keys := []string{""}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		keys = append(keys, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read ocr keys %s: %w", path, err)
	}
	if len(keys) < 2 {
		return nil, fmt.Errorf("ocr keys %s: empty", path)
	}
	return append(keys, " "), nil
}

// Close frees both sessions.
func (r *Reader) Close() error {
	err := r.det.Close()
	if e := r.rec.Close(); err == nil {
		err = e
	}
	return err
}

// TextLikely reports whether the detector finds a text region worth reading.
// It is the cheap half of Read: no recognition runs.
func (r *Reader) TextLikely(img image.Image) (bool, error) {
	s := r.pool.Get().(*scratch)
	defer r.pool.Put(s)
	boxes, err := r.detect(s, img)
	return len(boxes) > 0, err
}

// Read returns the lines of text in img, top to bottom and left to right.
// An image without text gives no lines and no error; an empty image is
// EINVALID.
func (r *Reader) Read(img image.Image) ([]Line, error) {
	s := r.pool.Get().(*scratch)
	defer r.pool.Put(s)
	boxes, err := r.detect(s, img)
	if err != nil || len(boxes) == 0 {
		return nil, err
	}
	lines, err := r.recognize(s, img, boxes)
	if err != nil {
		return nil, err
	}
	sortReadingOrder(lines)
	return lines, nil
}

// sortReadingOrder sorts by top edge, then left to right among lines whose
// tops are within half a line height of each other (PaddleOCR does the same
// with a fixed 10 px).
func sortReadingOrder(lines []Line) {
	slices.SortStableFunc(lines, func(a, b Line) int {
		return cmp.Or(cmp.Compare(a.Box.Min.Y, b.Box.Min.Y), cmp.Compare(a.Box.Min.X, b.Box.Min.X))
	})
	for i := 1; i < len(lines); i++ {
		for j := i; j > 0; j-- {
			a, b := lines[j-1], lines[j]
			tol := min(a.Box.Dy(), b.Box.Dy()) / 2
			if b.Box.Min.Y-a.Box.Min.Y > tol || b.Box.Min.X >= a.Box.Min.X {
				break
			}
			lines[j-1], lines[j] = b, a
		}
	}
}

func errEmpty() error {
	return geopulse.Errorf(geopulse.EINVALID, "The image has no pixels.")
}
