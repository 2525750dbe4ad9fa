package ocr_test

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/f64"
	"golang.org/x/image/math/fixed"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/vision/ocr"
	"github.com/geopulse/geopulse/vision/onnx"
	"github.com/geopulse/geopulse/vision/onnx/onnxtest"
)

var (
	readerOnce sync.Once
	reader     *ocr.Reader
	readerErr  error
)

// openReader shares one Reader across the package's tests, as a process
// would: loading the models is the slow part.
func openReader(t testing.TB) *ocr.Reader {
	t.Helper()
	onnxtest.Require(t)
	readerOnce.Do(func() {
		reader, readerErr = ocr.Open(filepath.Join(onnx.AssetsDir(), "ocr"), onnx.Options{})
	})
	if readerErr != nil {
		t.Fatal(readerErr)
	}
	return reader
}

// sign draws lines of text in Go Bold, size px high, on a w×h background.
func sign(t testing.TB, w, h int, bg, fg color.Color, size float64, lines ...string) *image.RGBA {
	t.Helper()
	f, err := opentype.Parse(gobold.TTF)
	if err != nil {
		t.Fatal(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		t.Fatal(err)
	}
	defer face.Close()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	d := font.Drawer{Dst: img, Src: image.NewUniform(fg), Face: face}
	for i, line := range lines {
		d.Dot = fixed.P(int(size), int(size*1.8*float64(i+1)))
		d.DrawString(line)
	}
	return img
}

// rotate turns img by deg degrees (clockwise on screen) about its centre
// onto a white canvas large enough to hold it.
func rotate(img *image.RGBA, deg float64) *image.RGBA {
	sin, cos := math.Sincos(deg * math.Pi / 180)
	w, h := float64(img.Rect.Dx()), float64(img.Rect.Dy())
	nw, nh := w*cos+h*sin, w*sin+h*cos
	out := image.NewRGBA(image.Rect(0, 0, int(math.Ceil(nw)), int(math.Ceil(nh))))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	// Source centre to destination centre, turned.
	s2d := f64.Aff3{
		cos, -sin, nw/2 - cos*w/2 + sin*h/2,
		sin, cos, nh/2 - sin*w/2 - cos*h/2,
	}
	xdraw.BiLinear.Transform(out, s2d, img, img.Bounds(), xdraw.Over, nil)
	return out
}

func texts(lines []ocr.Line) string {
	var s []string
	for _, l := range lines {
		s = append(s, l.Text)
	}
	return strings.Join(s, " | ")
}

// squash upper-cases and drops spaces, so "COFFEE2" and "COFFEE 2" compare
// equal: the recogniser's spacing is not what the tests are about.
func squash(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

func TestReadSign(t *testing.T) {
	r := openReader(t)
	tests := []struct {
		name   string
		img    *image.RGBA
		want   []string
		inside image.Rectangle // every box lies within it
	}{
		{
			name:   "black on white",
			img:    sign(t, 480, 220, color.White, color.Black, 48, "OPEN", "COFFEE 2"),
			want:   []string{"OPEN", "COFFEE 2"},
			inside: image.Rect(0, 0, 480, 220),
		},
		{
			name:   "white on red",
			img:    sign(t, 560, 240, color.RGBA{180, 30, 40, 255}, color.White, 56, "BAKERY", "FRESH BREAD"),
			want:   []string{"BAKERY", "FRESH BREAD"},
			inside: image.Rect(0, 0, 560, 240),
		},
		{
			// A tilted line read from its axis-aligned box would include
			// slices of the line above and below.
			name:   "tilted 20 degrees",
			img:    rotate(sign(t, 560, 240, color.White, color.RGBA{10, 60, 20, 255}, 52, "PHARMACY", "OPEN 24H"), 20),
			want:   []string{"PHARMACY", "OPEN 24H"},
			inside: image.Rect(0, 0, 700, 420),
		},
		{
			name: "sign in a larger frame",
			// A 1600×1000 picture is read at 640 wide: boxes must come back
			// in the picture's own coordinates, around where the text is.
			img: func() *image.RGBA {
				big := image.NewRGBA(image.Rect(0, 0, 1600, 1000))
				draw.Draw(big, big.Bounds(), image.NewUniform(color.RGBA{40, 90, 60, 255}), image.Point{}, draw.Src)
				s := sign(t, 800, 300, color.RGBA{250, 240, 200, 255}, color.RGBA{20, 20, 90, 255}, 96, "HOTEL")
				draw.Draw(big, image.Rect(700, 600, 1500, 900), s, image.Point{}, draw.Src)
				return big
			}(),
			want:   []string{"HOTEL"},
			inside: image.Rect(700, 600, 1500, 900),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, err := r.Read(tt.img)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("read: %s", texts(lines))
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d lines %q, want %q", len(lines), texts(lines), tt.want)
			}
			for i, want := range tt.want {
				l := lines[i]
				if squash(l.Text) != squash(want) {
					t.Errorf("line %d = %q, want %q", i, l.Text, want)
				}
				if l.Score < 0.5 || l.Score > 1 {
					t.Errorf("line %d score %v out of [0.5, 1]", i, l.Score)
				}
				if !l.Box.In(tt.inside) || l.Box.Dx() < l.Box.Dy() {
					t.Errorf("line %d box %v: want a wide box inside %v", i, l.Box, tt.inside)
				}
			}
			likely, err := r.TextLikely(tt.img)
			if err != nil || !likely {
				t.Errorf("TextLikely = %v, %v; want true", likely, err)
			}
		})
	}
}

// An image whose bounds do not start at the origin (a SubImage) is read in
// its own coordinates.
func TestReadSubImage(t *testing.T) {
	r := openReader(t)
	full := sign(t, 900, 400, color.White, color.Black, 64, "", "", "EXIT")
	sub := full.SubImage(image.Rect(30, 100, 700, 400))
	lines, err := r.Read(sub)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || squash(lines[0].Text) != "EXIT" {
		t.Fatalf("read %q, want EXIT", texts(lines))
	}
	if !lines[0].Box.In(sub.Bounds()) {
		t.Errorf("box %v outside the sub-image %v", lines[0].Box, sub.Bounds())
	}
}

func TestReadNoText(t *testing.T) {
	r := openReader(t)
	uniform := func(w, h int, c color.Color) image.Image {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
		return img
	}
	tests := []struct {
		name string
		img  image.Image
	}{
		{"white", uniform(640, 480, color.White)},
		{"grey", uniform(800, 600, color.Gray{128})},
		{"transparent", image.NewNRGBA(image.Rect(0, 0, 300, 200))},
		{"one pixel", uniform(1, 1, color.Black)},
		{"huge aspect", uniform(20000, 3, color.Gray{200})},
		{"tall sliver", uniform(2, 9000, color.Black)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, err := r.Read(tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != 0 {
				t.Errorf("read %q from an image without text", texts(lines))
			}
			if likely, err := r.TextLikely(tt.img); err != nil || likely {
				t.Errorf("TextLikely = %v, %v; want false", likely, err)
			}
		})
	}
}

// A banner far wider than the detector's input is squeezed into a 640×32
// map, found there, and read from the full-resolution crop.
func TestReadWideBanner(t *testing.T) {
	r := openReader(t)
	img := sign(t, 6000, 120, color.White, color.Black, 64, "SALE")
	lines, err := r.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || squash(lines[0].Text) != "SALE" || !lines[0].Box.In(img.Bounds()) {
		t.Fatalf("read %+v, want SALE inside the image", lines)
	}
}

func TestReadEmptyImage(t *testing.T) {
	r := openReader(t)
	_, err := r.Read(image.NewRGBA(image.Rectangle{}))
	var e *geopulse.Error
	if !errors.As(err, &e) || e.Code != geopulse.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
}

// page.png is a photograph of a printed page: real text, slightly uneven
// light, no synthetic rendering.
func TestReadSkimagePage(t *testing.T) {
	r := openReader(t)
	lines, err := r.Read(decodeFile(t, "/usr/lib/python3/dist-packages/skimage/data/page.png"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		t.Logf("%q %.2f %v", l.Text, l.Score, l.Box)
	}
	all := squash(texts(lines))
	for _, want := range []string{"REGION-BASEDSEGMENTATION", "MARKERS", "BACKGROUND", "HISTOGRAM"} {
		if !strings.Contains(all, want) {
			t.Errorf("page.png: %q not read", want)
		}
	}
}

// text.png is tilted, low-contrast handwritten maths: at the default size the
// detector sees nothing there (that is what keeps photos cheap). A Reader
// sized for documents finds it, which exercises tilted boxes; the recogniser,
// trained on print, is not expected to read it well.
func TestReadSkimageHandwriting(t *testing.T) {
	onnxtest.Require(t)
	r, err := ocr.Open(filepath.Join(onnx.AssetsDir(), "ocr"), onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.MaxSide = 1920
	img := decodeFile(t, "/usr/lib/python3/dist-packages/skimage/data/text.png")
	likely, err := r.TextLikely(img)
	if err != nil {
		t.Fatal(err)
	}
	if !likely {
		t.Error("no text region found in text.png at 1920 px")
	}
	lines, err := r.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		t.Logf("%q %.2f %v", l.Text, l.Score, l.Box)
		if !l.Box.In(img.Bounds()) {
			t.Errorf("box %v outside the image", l.Box)
		}
	}
}

// Concurrent Reads share the sessions and the scratch pool; run with -race.
func TestReadConcurrent(t *testing.T) {
	r := openReader(t)
	img := sign(t, 480, 120, color.White, color.Black, 48, "PIZZA")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			lines, err := r.Read(img)
			if err == nil && (len(lines) != 1 || squash(lines[0].Text) != "PIZZA") {
				err = errors.New("read " + texts(lines) + ", want PIZZA")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestOpenMissing(t *testing.T) {
	onnxtest.Require(t)
	if _, err := ocr.Open(t.TempDir(), onnx.Options{}); err == nil {
		t.Fatal("Open on an empty folder succeeded")
	}
}

func decodeFile(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil && os.Getenv("GEOPULSE_ML_REQUIRED") == "" {
		t.Skipf("test photo (from a Debian package): %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var img image.Image
	if strings.HasSuffix(path, ".png") {
		img, err = png.Decode(f)
	} else {
		img, err = jpeg.Decode(f)
	}
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func BenchmarkReadSign(b *testing.B) {
	r := openReader(b)
	img := sign(b, 480, 220, color.White, color.Black, 48, "OPEN", "COFFEE 2")
	for b.Loop() {
		if _, err := r.Read(img); err != nil {
			b.Fatal(err)
		}
	}
}

// Most photos have no text: this is the cost every photo pays, at the
// default detector size and two cheaper ones.
func BenchmarkReadNoText(b *testing.B) {
	onnxtest.Require(b)
	img := decodeFile(b, "/usr/share/darknet/data/dog.jpg")
	for _, side := range []int{320, 480, ocr.DefaultMaxSide} {
		b.Run(fmt.Sprintf("side=%d", side), func(b *testing.B) {
			r, err := ocr.Open(filepath.Join(onnx.AssetsDir(), "ocr"), onnx.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			r.MaxSide = side
			for b.Loop() {
				lines, err := r.Read(img)
				if err != nil {
					b.Fatal(err)
				}
				if len(lines) != 0 {
					b.Fatalf("read %q from dog.jpg", texts(lines))
				}
			}
		})
	}
}
