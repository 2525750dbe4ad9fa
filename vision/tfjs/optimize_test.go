package tfjs

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/geopulse/geopulse/vision/onnx"
	"github.com/geopulse/geopulse/vision/onnx/onnxtest"
)

// NanoDet's speed depends on the layout pass: every conv layer converts to
// Pad, Transpose, Conv, Transpose, Add, Transpose, and only a Conv with its
// padding and bias may be left of that, or ONNX Runtime copies each feature
// map several times per layer.
func TestOptimizeNanoDet(t *testing.T) {
	onnxtest.Require(t)
	path := filepath.Join(onnx.AssetsDir(), "nanodet", "nanodet.json")
	js, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := convertGraph(js, func(p string) ([]byte, error) {
		return os.ReadFile(filepath.Join(filepath.Dir(path), p))
	})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, n := range g.nodes {
		count[n.op]++
		switch n.op {
		case "Transpose":
			// The heads' [1,C,N] → [1,N,C] are the only ones NanoDet has
			// on purpose.
			if p := intsOf(n, "perm"); !slices.Equal(p, []int64{0, 2, 1}) {
				t.Errorf("transpose %s %v left in the graph", n.name, p)
			}
		case "Conv":
			if len(n.inputs) != 3 {
				t.Errorf("conv %s has no bias", n.name)
			}
		}
	}
	if count["Conv"] != 34 || count["Pad"] != 0 || count["Add"] != 4 || count["Transpose"] != 6 {
		t.Errorf("op counts %v, want 34 Conv with biases and pads folded in, 4 Add (the FPN's), 6 Transpose (the heads')", count)
	}
}

func TestHalfToFloat(t *testing.T) {
	tests := []struct {
		half uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x3555, 0.333251953125},
		{0x7bff, 65504},           // largest normal
		{0x0400, 1.0 / (1 << 14)}, // smallest normal
		{0x0001, 1.0 / (1 << 24)}, // smallest subnormal
		{0x83ff, -1023.0 / (1 << 24)},
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range tests {
		if got := halfToFloat(tt.half); got != tt.want {
			t.Errorf("halfToFloat(%#04x) = %v, want %v", tt.half, got, tt.want)
		}
	}
	if nan := halfToFloat(0x7e00); nan == nan {
		t.Errorf("halfToFloat(0x7e00) = %v, want NaN", nan)
	}
}
