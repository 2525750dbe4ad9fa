package tfjs

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// modelFile is the part of a TF.js graph model's model.json that conversion
// reads: the GraphDef (protobuf-as-JSON), the serving signature and where the
// weights are.
type modelFile struct {
	Format        string `json:"format"`
	ModelTopology struct {
		Node []tfNode `json:"node"`
	} `json:"modelTopology"`
	Signature struct {
		Inputs  map[string]tfTensorInfo `json:"inputs"`
		Outputs map[string]tfTensorInfo `json:"outputs"`
	} `json:"signature"`
	WeightsManifest []struct {
		Paths   []string     `json:"paths"`
		Weights []weightSpec `json:"weights"`
	} `json:"weightsManifest"`
}

type tfTensorInfo struct {
	Name        string  `json:"name"`
	Dtype       string  `json:"dtype"`
	TensorShape tfShape `json:"tensorShape"`
}

type tfShape struct {
	Dim []struct {
		Size jsonInt `json:"size"`
	} `json:"dim"`
	UnknownRank bool `json:"unknownRank"`
}

func (s tfShape) dims() []int64 {
	d := make([]int64, len(s.Dim))
	for i, x := range s.Dim {
		d[i] = int64(x.Size)
	}
	return d
}

type tfNode struct {
	Name  string            `json:"name"`
	Op    string            `json:"op"`
	Input []string          `json:"input"`
	Attr  map[string]tfAttr `json:"attr"`
}

// tfAttr is a TensorFlow AttrValue in protobuf's JSON mapping.
type tfAttr struct {
	S     []byte     `json:"s"` // base64 in JSON, decoded by encoding/json
	I     *jsonInt   `json:"i"`
	F     *jsonFloat `json:"f"`
	B     *bool      `json:"b"`
	Type  string     `json:"type"`
	Shape *tfShape   `json:"shape"`
	List  *struct {
		S [][]byte    `json:"s"`
		I []jsonInt   `json:"i"`
		F []jsonFloat `json:"f"`
	} `json:"list"`
}

type weightSpec struct {
	Name         string  `json:"name"`
	Shape        []int64 `json:"shape"`
	Dtype        string  `json:"dtype"`
	Quantization *struct {
		Dtype string `json:"dtype"`
	} `json:"quantization"`
}

// jsonInt reads int64 fields, which protobuf's JSON mapping writes as strings.
type jsonInt int64

func (v *jsonInt) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseInt(strings.Trim(string(b), `"`), 10, 64)
	*v = jsonInt(n)
	return err
}

// jsonFloat reads floats, which may be written as "NaN" or "-Infinity".
type jsonFloat float64

func (v *jsonFloat) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	switch s {
	case "NaN":
		*v = jsonFloat(math.NaN())
	case "Infinity":
		*v = jsonFloat(math.Inf(1))
	case "-Infinity":
		*v = jsonFloat(math.Inf(-1))
	default:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		*v = jsonFloat(f)
	}
	return nil
}

// tensor is a constant: float data for float weights, int64 for every integer
// type (shapes, permutations, paddings are all small).
type tensor struct {
	shape []int64
	float bool
	f     []float32 // when float
	i     []int64   // when integer
}

func numel(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// ints returns an integer constant's values, or an error naming what for.
func (t *tensor) ints(what string) ([]int64, error) {
	if t.float {
		return nil, fmt.Errorf("%s: want an integer constant, got float", what)
	}
	return t.i, nil
}

// readWeights decodes every weight of the manifest. Each group's files are
// one byte stream split into shards; weights follow each other in it.
func readWeights(m *modelFile, read WeightReader) (map[string]*tensor, error) {
	out := make(map[string]*tensor)
	for _, group := range m.WeightsManifest {
		var buf []byte
		for _, p := range group.Paths {
			b, err := read(p)
			if err != nil {
				return nil, fmt.Errorf("read weights %s: %w", p, err)
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, w := range group.Weights {
			n := int(numel(w.Shape))
			t := &tensor{shape: w.Shape}
			size := 4
			dtype := w.Dtype
			if w.Quantization != nil {
				if w.Quantization.Dtype != "float16" {
					return nil, fmt.Errorf("weight %s: %w: quantization to %s (only float16 is)", w.Name, ErrUnsupported, w.Quantization.Dtype)
				}
				dtype, size = "float16", 2
			}
			if off+n*size > len(buf) {
				return nil, fmt.Errorf("weight %s: needs %d bytes at offset %d, weight files hold %d", w.Name, n*size, off, len(buf))
			}
			b := buf[off : off+n*size]
			switch dtype {
			case "float16":
				t.float = true
				t.f = make([]float32, n)
				for k := range t.f {
					t.f[k] = halfToFloat(binary.LittleEndian.Uint16(b[2*k:]))
				}
			case "float32":
				t.float = true
				t.f = make([]float32, n)
				for k := range t.f {
					t.f[k] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*k:]))
				}
			case "int32":
				t.i = make([]int64, n)
				for k := range t.i {
					t.i[k] = int64(int32(binary.LittleEndian.Uint32(b[4*k:])))
				}
			default:
				return nil, fmt.Errorf("weight %s: %w: dtype %s", w.Name, ErrUnsupported, w.Dtype)
			}
			off += n * size
			out[w.Name] = t
		}
		if off != len(buf) {
			return nil, fmt.Errorf("weights of %v: manifest covers %d bytes, files hold %d", group.Paths, off, len(buf))
		}
	}
	return out, nil
}

// halfToFloat widens an IEEE 754 binary16 value exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf, nan
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	default: // subnormal: value = frac * 2^-24
		f := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
}
