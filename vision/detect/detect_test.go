package detect

import (
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/geopulse/geopulse/vision/onnx"
	"github.com/geopulse/geopulse/vision/onnx/onnxtest"
)

func TestExpectation(t *testing.T) {
	// All the mass on bin 3: distance 3. Uniform over 11 bins: 5.
	if got := expectation([]float32{-50, -50, -50, 50, -50}); got < 2.999 || got > 3.001 {
		t.Errorf("peaked expectation %v, want 3", got)
	}
	if got := expectation(make([]float32, 11)); got < 4.999 || got > 5.001 {
		t.Errorf("uniform expectation %v, want 5", got)
	}
}

func TestDecodeAndNMS(t *testing.T) {
	d := &Detector{cfg: Config{Labels: []string{"cat", "dog"}, MinScore: 0.5, IoU: 0.5, MaxObjs: 10}, ignore: map[int]bool{}}
	// A 2×2 level at stride 8 (input 16), 2 bins per side: cell 0 has a dog
	// whose sides all lie 1 stride away, cell 1 the same dog slightly
	// weaker, cell 3 a cat below the threshold.
	scores := []float32{0.1, 0.9, 0.2, 0.8, 0, 0, 0.4, 0}
	regs := make([]float32, 4*8)
	for c := range 4 {
		for k := range 4 {
			regs[c*8+k*2], regs[c*8+k*2+1] = -50, 50 // all mass on bin 1
		}
	}
	cands := d.decode(nil, scores, regs, 2, 8, 1, 1, image.Point{})
	if len(cands) != 2 {
		t.Fatalf("candidates %+v, want the two dog cells", cands)
	}
	if want := image.Rect(-4, -4, 12, 12); cands[0].Box != want {
		t.Errorf("box %v, want %v (centre 4,4 ± one stride)", cands[0].Box, want)
	}
	kept := nms(cands, 0.3, 10)
	if len(kept) != 1 || kept[0].Score != 0.9 {
		t.Errorf("nms kept %+v, want only the 0.9 dog", kept)
	}
	// Different classes never suppress each other.
	cands[1].Label = "cat"
	if kept := nms(cands, 0.3, 10); len(kept) != 2 {
		t.Errorf("nms across classes kept %d, want 2", len(kept))
	}
}

func open(t testing.TB) *Detector {
	t.Helper()
	onnxtest.Require(t)
	path := filepath.Join(onnx.AssetsDir(), "nanodet", "nanodet.onnx")
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("GEOPULSE_ML_REQUIRED") == "" {
			t.Skipf("%s missing: run make ml-assets", path)
		}
		t.Fatal(err)
	}
	d, err := Open(Config{Model: path, Onnx: onnx.Options{IntraOpThreads: 2}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func load(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		if os.Getenv("GEOPULSE_ML_REQUIRED") == "" {
			t.Skipf("test photo missing (Debian packages darknet, python3-skimage): %v", err)
		}
		t.Fatal(err)
	}
	defer f.Close()
	var img image.Image
	if filepath.Ext(path) == ".png" {
		img, err = png.Decode(f)
	} else {
		img, err = jpeg.Decode(f)
	}
	if err != nil {
		t.Fatal(err)
	}
	return img
}

const darknet, skimage = "/usr/share/darknet/data/", "/usr/lib/python3/dist-packages/skimage/data/"

// Golden photos: what each must show. These are real photos from Debian
// packages; the expectations are the objects a person sees in them.
var golden = []struct {
	path string
	want []string
}{
	{darknet + "dog.jpg", []string{"dog", "bicycle"}},
	{darknet + "giraffe.jpg", []string{"giraffe", "zebra"}},
	{darknet + "kite.jpg", []string{"kite", "person"}},
	{darknet + "horses.jpg", []string{"horse"}},
	{skimage + "chelsea.png", []string{"cat"}},
	{skimage + "coffee.png", []string{"cup"}},
	{skimage + "motorcycle_left.png", []string{"motorcycle"}},
}

func TestGoldenPhotos(t *testing.T) {
	d := open(t)
	for _, g := range golden {
		t.Run(filepath.Base(g.path), func(t *testing.T) {
			objs, err := d.Detect(load(t, g.path))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, o := range objs {
				names = append(names, o.Label)
			}
			t.Logf("%s: %v", filepath.Base(g.path), objs)
			for _, w := range g.want {
				if !slices.Contains(names, w) {
					t.Errorf("%s: no %q among %v", filepath.Base(g.path), w, names)
				}
			}
			b := load(t, g.path).Bounds()
			for _, o := range objs {
				if !o.Box.Overlaps(b) {
					t.Errorf("%s: box %v of %s lies outside the picture %v", filepath.Base(g.path), o.Box, o.Label, b)
				}
			}
		})
	}
}

func TestBlankPicturesHaveNoObjects(t *testing.T) {
	d := open(t)
	for _, c := range []color.Color{color.White, color.Black, color.RGBA{128, 128, 128, 255}} {
		img := image.NewRGBA(image.Rect(0, 0, 640, 480))
		for i := range img.Pix {
			r, g, b, _ := c.RGBA()
			img.Pix[i] = [4]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}[i%4]
		}
		objs, err := d.Detect(img)
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 0 {
			t.Errorf("blank %v picture: %v", c, objs)
		}
	}
	if _, err := d.Detect(image.NewRGBA(image.Rectangle{})); err == nil {
		t.Error("an empty picture was accepted")
	}
}

// BenchmarkDetect is the detector alone on a real photo, resize included.
func BenchmarkDetect(b *testing.B) {
	d := open(b)
	img := load(b, darknet+"dog.jpg")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Detect(img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDetectParallel runs jobs on every core, as vision workers do;
// images/s = 1e9 / ns/op.
func BenchmarkDetectParallel(b *testing.B) {
	d := open(b)
	img := load(b, darknet+"dog.jpg")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := d.Detect(img); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// A classifier's scores: logits are softmaxed, probabilities kept; classes
// below MinScore and ignored ones drop out; best first.
func TestClasses(t *testing.T) {
	d := &Detector{cfg: Config{Kind: KindClassifier, Labels: []string{"beach", "forest", "street"}, MinScore: 0.2, MaxObjs: 5},
		ignore: map[int]bool{}}
	got, err := d.classes([]float32{2, 0, 1}) // logits
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Label != "beach" || got[1].Label != "street" || got[0].Score < 0.66 || got[0].Score > 0.67 {
		t.Errorf("logits: %+v, want beach (0.665) then street (0.245)", got)
	}
	got, _ = d.classes([]float32{0.1, 0.7, 0.2}) // probabilities
	if len(got) != 2 || got[0].Label != "forest" || got[0].Score != 0.7 {
		t.Errorf("probabilities: %+v, want forest 0.7, street 0.2", got)
	}
	d.ignore[1] = true
	if got, _ = d.classes([]float32{0.1, 0.7, 0.2}); len(got) != 1 || got[0].Label != "street" {
		t.Errorf("with forest ignored: %+v", got)
	}
	if _, err := d.classes([]float32{1, 2}); err == nil {
		t.Error("two scores for three labels were accepted")
	}
}
