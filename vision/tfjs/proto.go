package tfjs

import (
	"encoding/binary"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// The ONNX protobuf messages conversion writes, with field numbers from
// onnx.proto. Only what a static float32 inference graph needs is here.

// ONNX TensorProto data types.
const (
	onnxFloat = 1
	onnxInt64 = 7
)

// AttributeProto types.
const (
	attrFloat  = 1
	attrInt    = 2
	attrString = 3
	attrInts   = 7
)

const (
	irVersion = 8 // the IR version that goes with opset 18
	opset     = 18
)

type attr struct {
	name string
	kind int
	f    float32
	i    int64
	s    string
	ints []int64
}

func intAttr(name string, v int64) attr     { return attr{name: name, kind: attrInt, i: v} }
func floatAttr(name string, v float32) attr { return attr{name: name, kind: attrFloat, f: v} }
func stringAttr(name, v string) attr        { return attr{name: name, kind: attrString, s: v} }
func intsAttr(name string, v ...int64) attr { return attr{name: name, kind: attrInts, ints: v} }
func (n *node) attr(name string) (attr, bool) { // attribute lookup for graph passes
	for _, a := range n.attrs {
		if a.name == name {
			return a, true
		}
	}
	return attr{}, false
}

type node struct {
	op      string
	name    string
	inputs  []string
	outputs []string
	attrs   []attr
}

type valueInfo struct {
	name  string
	shape []int64 // nil: unknown; -1: a dimension left symbolic
}

type initializer struct {
	name string
	t    *tensor
}

type graph struct {
	nodes   []*node
	inits   []initializer
	inputs  []valueInfo
	outputs []valueInfo
}

func (g *graph) marshal(name string) []byte {
	var b []byte
	for _, n := range g.nodes {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, marshalNode(n))
	}
	b = appendString(b, 2, name)
	for _, in := range g.inits {
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendBytes(b, marshalTensor(in.name, in.t))
	}
	for _, v := range g.inputs {
		b = protowire.AppendTag(b, 11, protowire.BytesType)
		b = protowire.AppendBytes(b, marshalValueInfo(v))
	}
	for _, v := range g.outputs {
		b = protowire.AppendTag(b, 12, protowire.BytesType)
		b = protowire.AppendBytes(b, marshalValueInfo(v))
	}
	return b
}

// marshalModel wraps a graph in a ModelProto importing the default domain.
func marshalModel(g *graph, name, producer string) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, irVersion)
	b = appendString(b, 2, producer)
	b = protowire.AppendTag(b, 7, protowire.BytesType)
	b = protowire.AppendBytes(b, g.marshal(name))
	var op []byte
	op = appendString(op, 1, "")
	op = protowire.AppendTag(op, 2, protowire.VarintType)
	op = protowire.AppendVarint(op, opset)
	b = protowire.AppendTag(b, 8, protowire.BytesType)
	b = protowire.AppendBytes(b, op)
	return b
}

func marshalNode(n *node) []byte {
	var b []byte
	for _, s := range n.inputs {
		b = appendString(b, 1, s)
	}
	for _, s := range n.outputs {
		b = appendString(b, 2, s)
	}
	b = appendString(b, 3, n.name)
	b = appendString(b, 4, n.op)
	for _, a := range n.attrs {
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendBytes(b, marshalAttr(a))
	}
	return b
}

func marshalAttr(a attr) []byte {
	var b []byte
	b = appendString(b, 1, a.name)
	switch a.kind {
	case attrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case attrInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.i))
	case attrString:
		b = appendString(b, 4, a.s)
	case attrInts:
		for _, v := range a.ints {
			b = protowire.AppendTag(b, 8, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(v))
		}
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(a.kind))
}

func marshalTensor(name string, t *tensor) []byte {
	var b []byte
	for _, d := range t.shape {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	var raw []byte
	dtype := onnxInt64
	if t.float {
		dtype = onnxFloat
		raw = make([]byte, 4*len(t.f))
		for k, v := range t.f {
			binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(v))
		}
	} else {
		raw = make([]byte, 8*len(t.i))
		for k, v := range t.i {
			binary.LittleEndian.PutUint64(raw[8*k:], uint64(v))
		}
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(dtype))
	b = appendString(b, 8, name)
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	return protowire.AppendBytes(b, raw)
}

// marshalValueInfo describes a float32 graph input or output.
func marshalValueInfo(v valueInfo) []byte {
	var tt []byte // TypeProto.Tensor
	tt = protowire.AppendTag(tt, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, onnxFloat)
	if v.shape != nil {
		var shape []byte
		for k, d := range v.shape {
			var dim []byte
			if d >= 0 {
				dim = protowire.AppendTag(dim, 1, protowire.VarintType)
				dim = protowire.AppendVarint(dim, uint64(d))
			} else {
				dim = appendString(dim, 2, v.name+"_dim"+strconv.Itoa(k))
			}
			shape = protowire.AppendTag(shape, 1, protowire.BytesType)
			shape = protowire.AppendBytes(shape, dim)
		}
		tt = protowire.AppendTag(tt, 2, protowire.BytesType)
		tt = protowire.AppendBytes(tt, shape)
	}
	var typ []byte
	typ = protowire.AppendTag(typ, 1, protowire.BytesType)
	typ = protowire.AppendBytes(typ, tt)
	var b []byte
	b = appendString(b, 1, v.name)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, typ)
}

func appendString(b []byte, field protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}
