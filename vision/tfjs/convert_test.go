package tfjs_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geopulse/geopulse/vision/onnx"
	"github.com/geopulse/geopulse/vision/onnx/onnxtest"
	"github.com/geopulse/geopulse/vision/tfjs"
)

// builder writes a TF.js graph model by hand, the way the TF.js converter
// lays one out: nodes in GraphDef JSON, constants in one weights file.
type builder struct {
	nodes []map[string]any
	specs []map[string]any
	bin   []byte
}

func (b *builder) node(name, op string, inputs []string, attr map[string]any) {
	n := map[string]any{"name": name, "op": op, "attr": attr}
	if inputs != nil {
		n["input"] = inputs
	}
	b.nodes = append(b.nodes, n)
}

func (b *builder) placeholder(name string, shape ...int) {
	dims := []map[string]string{}
	for _, d := range shape {
		dims = append(dims, map[string]string{"size": fmt.Sprint(d)})
	}
	b.node(name, "Placeholder", nil, map[string]any{"shape": map[string]any{"shape": map[string]any{"dim": dims}}, "dtype": map[string]any{"type": "DT_FLOAT"}})
}

func (b *builder) constant(name, dtype string, shape []int) {
	b.node(name, "Const", nil, map[string]any{"dtype": map[string]any{"type": dtype}})
	if shape == nil {
		shape = []int{}
	}
	spec := map[string]any{"name": name, "shape": shape, "dtype": "float32"}
	if dtype != "DT_FLOAT" {
		spec["dtype"] = "int32"
	}
	b.specs = append(b.specs, spec)
}

// floats stores float32 values as the TF.js converter's fp16 option does;
// the values tests use are exact in float16.
func (b *builder) floats(name string, shape []int, v ...float32) {
	b.constant(name, "DT_FLOAT", shape)
	b.specs[len(b.specs)-1]["quantization"] = map[string]any{"dtype": "float16", "original_dtype": "float32"}
	for _, x := range v {
		b.bin = binary.LittleEndian.AppendUint16(b.bin, toHalf(x))
	}
}

func (b *builder) float32s(name string, shape []int, v ...float32) {
	b.constant(name, "DT_FLOAT", shape)
	for _, x := range v {
		b.bin = binary.LittleEndian.AppendUint32(b.bin, math.Float32bits(x))
	}
}

func (b *builder) ints(name string, shape []int, v ...int32) {
	b.constant(name, "DT_INT32", shape)
	for _, x := range v {
		b.bin = binary.LittleEndian.AppendUint32(b.bin, uint32(x))
	}
}

func (b *builder) op(name, op string, attr map[string]any, inputs ...string) {
	if attr == nil {
		attr = map[string]any{}
	}
	b.node(name, op, inputs, attr)
}

func (b *builder) convert() ([]byte, error) {
	js, err := json.Marshal(map[string]any{
		"format":          "graph-model",
		"modelTopology":   map[string]any{"node": b.nodes},
		"weightsManifest": []any{map[string]any{"paths": []string{"w.bin"}, "weights": b.specs}},
	})
	if err != nil {
		return nil, err
	}
	return tfjs.Convert(js, func(p string) ([]byte, error) {
		if p != "w.bin" {
			return nil, os.ErrNotExist
		}
		return b.bin, nil
	})
}

// toHalf is exact for the small integers and halves the tests use.
func toHalf(f float32) uint16 {
	bits := math.Float32bits(f)
	if f == 0 {
		return uint16(bits >> 16)
	}
	exp := int(bits>>23&0xff) - 127 + 15
	return uint16(bits>>16&0x8000) | uint16(exp)<<10 | uint16(bits>>13&0x3ff)
}

func str(s string) map[string]any {
	return map[string]any{"s": base64.StdEncoding.EncodeToString([]byte(s))}
}
func ints(v ...int) map[string]any {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return map[string]any{"list": map[string]any{"i": s}}
}

type output struct {
	shape []int64
	data  []float32
}

// run converts, loads the model into ONNX Runtime and runs it on one input.
func run(t *testing.T, b *builder, in []float32, shape ...int64) map[string]output {
	t.Helper()
	model, err := b.convert()
	if err != nil {
		t.Fatal(err)
	}
	return runModel(t, model, in, shape...)
}

func runModel(t testing.TB, model []byte, in []float32, shape ...int64) map[string]output {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := onnx.Open(path, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	x, err := onnx.Tensor(in, shape...)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Destroy()
	outs, err := s.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]output)
	for i, o := range outs {
		got[s.Outputs[i].Name] = output{o.GetShape(), append([]float32(nil), o.GetData()...)}
		o.Destroy()
	}
	return got
}

func near(got, want []float32, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol {
			return fmt.Errorf("value %d = %v, want %v (all: %v)", i, got[i], want[i], got)
		}
	}
	return nil
}

// TestConvNHWC is a TF-native graph: NHWC input, a strided SAME conv with
// fp16 weights, its bias and a LeakyRelu, checked against a direct
// computation of the convolution.
func TestConvNHWC(t *testing.T) {
	onnxtest.Require(t)
	const h, w, ci, co, k = 5, 4, 2, 3, 3
	var b builder
	b.placeholder("x", 1, h, w, ci)
	filter := make([]float32, k*k*ci*co)
	for i := range filter {
		filter[i] = float32(i%7-3) / 2
	}
	b.floats("filter", []int{k, k, ci, co}, filter...)
	b.float32s("bias", []int{co}, 0.5, -1, 2)
	b.op("conv", "Conv2D", map[string]any{"padding": str("SAME"), "strides": ints(1, 2, 2, 1), "data_format": str("NHWC")}, "x", "filter")
	b.op("biased", "Add", nil, "conv", "bias")
	b.op("y", "LeakyRelu", map[string]any{"alpha": map[string]any{"f": 0.25}}, "biased")

	x := make([]float32, h*w*ci)
	for i := range x {
		x[i] = float32((i*5)%11) - 4
	}
	got := run(t, &b, x, 1, h, w, ci)["y"]

	// SAME with stride 2: output ceil(in/2), total padding split with the
	// odd pixel at the bottom/right.
	oh, ow := (h+1)/2, (w+1)/2
	padT := (max((oh-1)*2+k-h, 0)) / 2
	padL := (max((ow-1)*2+k-w, 0)) / 2
	var want []float32
	for oy := range oh {
		for ox := range ow {
			for o := range co {
				sum := []float32{0.5, -1, 2}[o]
				for ky := range k {
					for kx := range k {
						iy, ix := oy*2+ky-padT, ox*2+kx-padL
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						for i := range ci {
							sum += x[(iy*w+ix)*ci+i] * filter[((ky*k+kx)*ci+i)*co+o]
						}
					}
				}
				if sum < 0 {
					sum *= 0.25
				}
				want = append(want, sum)
			}
		}
	}
	if fmt.Sprint(got.shape) != fmt.Sprint([]int64{1, int64(oh), int64(ow), co}) {
		t.Fatalf("shape %v", got.shape)
	}
	if err := near(got.data, want, 1e-4); err != nil {
		t.Fatal(err)
	}
}

// TestNCHWGraph is laid out as graphs exported from ONNX through TF are (the
// NanoDet model is one): NCHW tensors with transposes around every NHWC op.
func TestNCHWGraph(t *testing.T) {
	onnxtest.Require(t)
	var b builder
	b.placeholder("x", 1, 1, 3, 3)
	b.ints("toNHWC", []int{4}, 0, 2, 3, 1)
	b.ints("toNCHW", []int{4}, 0, 3, 1, 2)
	b.ints("pads", []int{4, 2}, 0, 0, 0, 0, 1, 1, 1, 1)
	b.float32s("ninf", nil, float32(math.Inf(-1)))
	b.op("padded", "PadV2", nil, "x", "pads", "ninf")
	b.op("t1", "Transpose", nil, "padded", "toNHWC")
	b.op("pool", "MaxPool", map[string]any{"ksize": ints(1, 2, 2, 1), "strides": ints(1, 2, 2, 1), "padding": str("VALID")}, "t1")
	b.op("t2", "Transpose", nil, "pool", "toNCHW")
	b.op("pooled", "Identity", nil, "t2")

	// 2×2 → 4×4 with half-pixel centres is exact on a linear ramp.
	b.ints("size", []int{2}, 4, 4)
	b.op("t3", "Transpose", nil, "t2", "toNHWC")
	b.op("up", "ResizeBilinear", map[string]any{"half_pixel_centers": map[string]any{"b": true}, "align_corners": map[string]any{"b": false}}, "t3", "size")
	b.op("t4", "Transpose", nil, "up", "toNCHW")
	b.op("resized", "Identity", nil, "t4")

	// Concat on channels, split back unevenly, reshape through a shape
	// folded from SparseToDense as onnx-tf writes it.
	b.ints("axis", nil, 1)
	b.op("cat", "ConcatV2", nil, "t2", "t2", "t2", "axis")
	b.ints("sizes", []int{2}, 1, 2)
	b.op("split", "SplitV", map[string]any{"num_split": map[string]any{"i": "2"}}, "cat", "sizes", "axis")
	b.op("scores", "Sigmoid", nil, "split")
	b.ints("idx", []int{0, 1})
	b.ints("dense_shape", []int{1}, 2)
	b.ints("none", []int{0})
	b.ints("zero", nil, 0)
	b.nodes[len(b.nodes)-4]["attr"] = map[string]any{"dtype": map[string]any{"type": "DT_INT64"}}
	b.op("s2d", "SparseToDense", nil, "idx", "dense_shape", "none", "zero")
	b.ints("base", []int{2}, 2, -1)
	b.op("shape", "AddV2", nil, "base", "s2d")
	b.op("flat", "Reshape", nil, "split:1", "shape")

	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	got := run(t, &b, x, 1, 1, 3, 3)
	if err := near(got["pooled"].data, []float32{1, 3, 7, 9}, 0); err != nil {
		t.Errorf("pad -inf then max pool: %v", err)
	}
	// The pooled map is 1,3 / 7,9: a ramp of 2 per column and 6 per row.
	f := []float32{0, 0.25, 0.75, 1}
	var up []float32
	for r := range 4 {
		for c := range 4 {
			up = append(up, 1+6*f[r]+2*f[c])
		}
	}
	if err := near(got["resized"].data, up, 1e-5); err != nil {
		t.Errorf("resize: %v", err)
	}
	sig := func(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }
	if err := near(got["scores"].data, []float32{sig(1), sig(3), sig(7), sig(9)}, 1e-6); err != nil {
		t.Errorf("split then sigmoid: %v", err)
	}
	if s := got["flat"].shape; fmt.Sprint(s) != "[2 4]" {
		t.Errorf("reshape to folded [2 -1]: shape %v", s)
	}
	if err := near(got["flat"].data, []float32{1, 3, 7, 9, 1, 3, 7, 9}, 0); err != nil {
		t.Errorf("reshape: %v", err)
	}
}

func TestUnsupported(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *builder)
		want  string
	}{
		{"op", func(b *builder) {
			b.placeholder("x", 1, 2)
			b.op("y", "Erf", nil, "x")
		}, "TF.js op Erf"},
		{"folded op at run time", func(b *builder) {
			b.placeholder("x", 2)
			b.ints("shape", []int{1}, 2)
			b.ints("zero", nil, 0)
			b.op("y", "SparseToDense", nil, "x", "shape", "x", "zero")
		}, "TF.js op SparseToDense on values known only at run time"},
		{"weight computed at run time", func(b *builder) {
			b.placeholder("x", 1, 2, 2, 1)
			b.placeholder("f", 1, 1, 1, 1)
			b.op("y", "Conv2D", map[string]any{"padding": str("VALID")}, "x", "f")
		}, "filter computed at run time"},
		{"explicit padding", func(b *builder) {
			b.placeholder("x", 1, 2, 2, 1)
			b.floats("f", []int{1, 1, 1, 1}, 1)
			b.op("y", "Conv2D", map[string]any{"padding": str("EXPLICIT")}, "x", "f")
		}, `padding "EXPLICIT"`},
		{"NCHW conv", func(b *builder) {
			b.placeholder("x", 1, 1, 2, 2)
			b.floats("f", []int{1, 1, 1, 1}, 1)
			b.op("y", "Conv2D", map[string]any{"padding": str("VALID"), "data_format": str("NCHW")}, "x", "f")
		}, "data_format NCHW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b builder
			tt.build(&b)
			_, err := b.convert()
			if !errors.Is(err, tfjs.ErrUnsupported) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want ErrUnsupported naming %q", err, tt.want)
			}
		})
	}
}

func TestBadWeights(t *testing.T) {
	var b builder
	b.placeholder("x", 1)
	b.floats("c", []int{4}, 1, 2, 3, 4)
	b.op("y", "AddV2", nil, "x", "c")
	b.bin = b.bin[:6]
	if _, err := b.convert(); err == nil || !strings.Contains(err.Error(), "weight c") {
		t.Fatalf("short weights file: error %v, want one naming weight c", err)
	}
}
