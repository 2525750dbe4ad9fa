package tfjs_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/geopulse/geopulse/vision/onnx"
	"github.com/geopulse/geopulse/vision/onnx/onnxtest"
	"github.com/geopulse/geopulse/vision/tfjs"
)

// reference is testdata/nanodet_reference.json, written by
// testdata/reference/reference.mjs from TF.js's own CPU kernels.
type reference struct {
	TFJS  string `json:"tfjs"`
	Input struct {
		Name  string  `json:"name"`
		Shape []int64 `json:"shape"`
	} `json:"input"`
	Outputs []struct {
		Name    string       `json:"name"`
		Shape   []int64      `json:"shape"`
		Sum     float64      `json:"sum"`
		SumSq   float64      `json:"sumSq"`
		Samples [][2]float64 `json:"samples"`
	} `json:"outputs"`
}

// referenceInput must match referenceInput in reference.mjs: integers, then
// one rounding to float32.
func referenceInput(c, h, w int) []float32 {
	data := make([]float32, c*h*w)
	for ch := range c {
		for y := range h {
			for x := range w {
				data[(ch*h+y)*w+x] = float32(float64((x*3+y*5+ch*71+(x*y)%17)%256) / 255)
			}
		}
	}
	return data
}

func nanodetModel(t testing.TB) []byte {
	t.Helper()
	onnxtest.Require(t)
	model, err := tfjs.ConvertFile(filepath.Join(onnx.AssetsDir(), "nanodet", "nanodet.json"))
	if err != nil {
		t.Fatal(err)
	}
	return model
}

// TestNanoDetMatchesTFJS runs the converted detector and compares it with
// what TF.js computes from the same model.json on the same input.
//
// Both sides widen the same fp16 weights to float32 and compute in float32,
// so they differ only by summation order inside convolutions (im2col/GEMM
// here, TF.js's loops there): the largest difference seen is 3e-6 on box
// logits (magnitude up to ~5) and 1e-7 on scores. The bounds leave a margin
// of 10x and more over that, and stay far below what a subtle mistake makes:
// resizing with the wrong pixel-centre convention moves scores by 1e-3 and
// box logits by 0.3.
func TestNanoDetMatchesTFJS(t *testing.T) {
	model := nanodetModel(t)
	var ref reference
	b, err := os.ReadFile("testdata/nanodet_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	s := ref.Input.Shape
	got := runModel(t, model, referenceInput(int(s[1]), int(s[2]), int(s[3])), s...)
	if len(got) != len(ref.Outputs) {
		t.Errorf("%d outputs, want %d", len(got), len(ref.Outputs))
	}
	const abs, rel = 1e-5, 1e-4
	for _, want := range ref.Outputs {
		out, ok := got[want.Name]
		if !ok {
			t.Errorf("no output %s", want.Name)
			continue
		}
		if fmt.Sprint(out.shape) != fmt.Sprint(want.Shape) {
			t.Errorf("%s: shape %v, want %v", want.Name, out.shape, want.Shape)
			continue
		}
		var sum, sumSq, worst float64
		for _, v := range out.data {
			sum += float64(v)
			sumSq += float64(v) * float64(v)
		}
		for _, sample := range want.Samples {
			d := math.Abs(float64(out.data[int(sample[0])]) - sample[1])
			worst = max(worst, d)
			if d > abs+rel*math.Abs(sample[1]) {
				t.Errorf("%s[%d] = %v, TF.js %v", want.Name, int(sample[0]), out.data[int(sample[0])], sample[1])
			}
		}
		// Box logits sum to nearly zero, so the sum is held to the scale of
		// the values (root of the sum of squares times count), not to itself.
		if d, scale := math.Abs(sum-want.Sum), math.Sqrt(want.SumSq*float64(len(out.data))); d > rel*scale {
			t.Errorf("%s: sum %v, TF.js %v", want.Name, sum, want.Sum)
		}
		if d := math.Abs(sumSq - want.SumSq); d > rel*want.SumSq {
			t.Errorf("%s: sum of squares %v, TF.js %v", want.Name, sumSq, want.SumSq)
		}
		t.Logf("%s: worst sampled difference %.2g, sum %v vs %v", want.Name, worst, sum, want.Sum)
	}
}

// BenchmarkRun is one NanoDet inference on two threads, the deployment the
// vision worker uses on a 2-core machine.
func BenchmarkRun(b *testing.B) {
	model := nanodetModel(b)
	path := filepath.Join(b.TempDir(), "nanodet.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := onnx.Open(path, onnx.Options{IntraOpThreads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	x, err := onnx.Tensor(referenceInput(3, 416, 416), 1, 3, 416, 416)
	if err != nil {
		b.Fatal(err)
	}
	defer x.Destroy()
	for b.Loop() {
		outs, err := s.Run(x)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range outs {
			o.Destroy()
		}
	}
}
