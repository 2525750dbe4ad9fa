package tfjs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrUnsupported is wrapped by every error about an op, attribute value or
// weight encoding the converter does not handle; the message names it.
var ErrUnsupported = errors.New("unsupported by the tfjs converter")

// WeightReader returns the bytes of a weight file, by the path the manifest
// gives for it (relative to model.json).
type WeightReader func(path string) ([]byte, error)

// ConvertFile converts the TF.js graph model at path (a model.json) whose
// weight files lie beside it.
func ConvertFile(path string) ([]byte, error) {
	js, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tfjs model: %w", err)
	}
	dir := filepath.Dir(path)
	onnx, err := Convert(js, func(p string) ([]byte, error) {
		if !filepath.IsLocal(p) {
			return nil, fmt.Errorf("weight path %q leaves the model's folder", p)
		}
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
	})
	if err != nil {
		return nil, fmt.Errorf("convert %s: %w", path, err)
	}
	return onnx, nil
}

// Convert turns a TF.js graph model (model.json's bytes, and a reader for its
// weight files) into a serialized ONNX model. See the package comment for the
// ops covered and how names and layouts carry over.
func Convert(modelJSON []byte, weights WeightReader) ([]byte, error) {
	g, err := convertGraph(modelJSON, weights)
	if err != nil {
		return nil, err
	}
	return marshalModel(g, "tfjs", "geopulse tfjs2onnx"), nil
}

func convertGraph(modelJSON []byte, weights WeightReader) (*graph, error) {
	var m modelFile
	if err := json.Unmarshal(modelJSON, &m); err != nil {
		return nil, fmt.Errorf("parse model.json: %w", err)
	}
	if m.Format != "" && m.Format != "graph-model" {
		return nil, fmt.Errorf("model format %q: %w (only graph-model is)", m.Format, ErrUnsupported)
	}
	ws, err := readWeights(&m, weights)
	if err != nil {
		return nil, err
	}
	c := &converter{
		nodes:   make(map[string]*tfNode),
		weights: ws,
		consts:  make(map[string]*tensor),
		inits:   make(map[string]bool),
		g:       &graph{},
	}
	for i := range m.ModelTopology.Node {
		n := &m.ModelTopology.Node[i]
		c.nodes[n.Name] = n
	}
	outputs, err := c.endpoints(&m)
	if err != nil {
		return nil, err
	}
	order, err := c.topo(outputs)
	if err != nil {
		return nil, err
	}
	for _, n := range order {
		if err := c.convert(n); err != nil {
			return nil, err
		}
	}
	for _, o := range c.g.outputs {
		if _, ok := c.consts[o.name+":0"]; ok {
			return nil, fmt.Errorf("output %s is a constant: %w", o.name, ErrUnsupported)
		}
	}
	optimize(c.g)
	return c.g, nil
}

type converter struct {
	nodes   map[string]*tfNode
	weights map[string]*tensor
	consts  map[string]*tensor // by TF ref "node:k": values known at conversion time
	inits   map[string]bool    // ONNX initializers already written, by name
	g       *graph
}

// ref normalizes a TF input reference to "node:k".
func ref(s string) string {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if _, err := strconv.Atoi(s[i+1:]); err == nil {
			return s
		}
	}
	return s + ":0"
}

// value is the ONNX name of a TF output: the node's name for output 0 (so
// graph inputs and outputs keep TF's names), "node:k" otherwise.
func value(r string) string { return strings.TrimSuffix(r, ":0") }

func dataInputs(n *tfNode) []string {
	var in []string
	for _, s := range n.Input {
		if !strings.HasPrefix(s, "^") { // control dependencies order nothing in ONNX
			in = append(in, ref(s))
		}
	}
	return in
}

// endpoints sets the graph's inputs and outputs from the serving signature,
// or from placeholders and unconsumed nodes when it has none, and returns the
// output nodes.
func (c *converter) endpoints(m *modelFile) ([]string, error) {
	type end struct {
		name  string
		shape []int64
	}
	var ins, outs []end
	for k, v := range m.Signature.Inputs {
		ins = append(ins, end{value(ref(k)), v.TensorShape.dims()})
	}
	for k, v := range m.Signature.Outputs {
		outs = append(outs, end{value(ref(k)), v.TensorShape.dims()})
	}
	if len(ins) == 0 {
		for _, n := range m.ModelTopology.Node {
			if n.Op == "Placeholder" {
				var shape []int64
				if a, ok := n.Attr["shape"]; ok && a.Shape != nil {
					shape = a.Shape.dims()
				}
				ins = append(ins, end{n.Name, shape})
			}
		}
	}
	if len(outs) == 0 {
		used := make(map[string]bool)
		for _, n := range m.ModelTopology.Node {
			for _, r := range dataInputs(&n) {
				used[r[:strings.LastIndexByte(r, ':')]] = true
			}
		}
		for _, n := range m.ModelTopology.Node {
			if !used[n.Name] && n.Op != "Const" && n.Op != "Placeholder" {
				outs = append(outs, end{n.Name, nil})
			}
		}
	}
	if len(outs) == 0 {
		return nil, errors.New("model has no outputs")
	}
	byName := func(a, b end) int { return strings.Compare(a.name, b.name) }
	slices.SortFunc(ins, byName)
	slices.SortFunc(outs, byName)
	var nodes []string
	for _, in := range ins {
		if n, ok := c.nodes[in.name]; !ok || n.Op != "Placeholder" {
			return nil, fmt.Errorf("input %s is not a placeholder of the graph", in.name)
		}
		c.g.inputs = append(c.g.inputs, valueInfo{in.name, in.shape})
	}
	for _, o := range outs {
		if strings.Contains(o.name, ":") {
			return nil, fmt.Errorf("output %s: %w: outputs other than a node's first", o.name, ErrUnsupported)
		}
		if _, ok := c.nodes[o.name]; !ok {
			return nil, fmt.Errorf("output %s is not a node of the graph", o.name)
		}
		c.g.outputs = append(c.g.outputs, valueInfo{o.name, o.shape})
		nodes = append(nodes, o.name)
	}
	return nodes, nil
}

// topo orders the nodes the outputs depend on, inputs first; nodes nothing
// depends on are left out.
func (c *converter) topo(outputs []string) ([]*tfNode, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := make(map[string]int)
	var order []*tfNode
	var visit func(name, from string) error
	visit = func(name, from string) error {
		switch state[name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("graph has a cycle through %s", name)
		}
		n, ok := c.nodes[name]
		if !ok {
			return fmt.Errorf("node %s reads %s, which is not in the graph", from, name)
		}
		state[name] = visiting
		for _, r := range dataInputs(n) {
			if err := visit(r[:strings.LastIndexByte(r, ':')], name); err != nil {
				return err
			}
		}
		state[name] = done
		order = append(order, n)
		return nil
	}
	for _, o := range outputs {
		if err := visit(o, "the signature"); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func (c *converter) convert(n *tfNode) error {
	in := dataInputs(n)
	switch n.Op {
	case "Const":
		t, ok := c.weights[n.Name]
		if !ok {
			return fmt.Errorf("const %s has no entry in the weights manifest", n.Name)
		}
		c.consts[n.Name+":0"] = t
		return nil
	case "Placeholder":
		if !slices.ContainsFunc(c.g.inputs, func(v valueInfo) bool { return v.name == n.Name }) {
			return fmt.Errorf("placeholder %s is not an input of the signature", n.Name)
		}
		return nil
	}
	if fold, ok := folders[n.Op]; ok && c.allConst(in) {
		args := make([]*tensor, len(in))
		for i, r := range in {
			args[i] = c.consts[r]
		}
		t, err := fold(args)
		if err != nil {
			return fmt.Errorf("node %s (%s): %w", n.Name, n.Op, err)
		}
		c.consts[n.Name+":0"] = t
		return nil
	}
	conv, ok := converters[n.Op]
	if !ok {
		if _, ok := folders[n.Op]; ok {
			return fmt.Errorf("node %s: %w: TF.js op %s on values known only at run time", n.Name, ErrUnsupported, n.Op)
		}
		return fmt.Errorf("node %s: %w: TF.js op %s", n.Name, ErrUnsupported, n.Op)
	}
	if err := conv(c, n, in); err != nil {
		return fmt.Errorf("node %s (%s): %w", n.Name, n.Op, err)
	}
	return nil
}

func (c *converter) allConst(refs []string) bool {
	for _, r := range refs {
		if _, ok := c.consts[r]; !ok {
			return false
		}
	}
	return true
}

// in returns the ONNX value for a TF input; a constant becomes an
// initializer the first time it is read as data.
func (c *converter) in(r string) string {
	name := value(r)
	if t, ok := c.consts[r]; ok && !c.inits[name] {
		c.inits[name] = true
		c.g.inits = append(c.g.inits, initializer{name, t})
	}
	return name
}

// init adds a tensor the conversion made up (a reordered filter, pads).
func (c *converter) init(name string, t *tensor) string {
	c.inits[name] = true
	c.g.inits = append(c.g.inits, initializer{name, t})
	return name
}

// constant returns the value of input i, which the op needs at conversion
// time.
func (c *converter) constant(n *tfNode, in []string, i int, what string) (*tensor, error) {
	if i >= len(in) {
		return nil, fmt.Errorf("missing input %d (%s)", i, what)
	}
	t, ok := c.consts[in[i]]
	if !ok {
		return nil, fmt.Errorf("%w: %s computed at run time (input %s)", ErrUnsupported, what, in[i])
	}
	return t, nil
}

func (c *converter) emit(op, name string, inputs, outputs []string, attrs ...attr) {
	c.g.nodes = append(c.g.nodes, &node{op: op, name: name, inputs: inputs, outputs: outputs, attrs: attrs})
}

// TF keeps images NHWC, ONNX's Conv, MaxPool and Resize want NCHW. Each such
// op is wrapped in a pair of Transposes so every other tensor keeps TF's
// layout (and axis attributes carry over unchanged); optimize then cancels
// the pairs that meet, which in a graph exported from NCHW is nearly all.
var (
	toNCHW = []int64{0, 3, 1, 2}
	toNHWC = []int64{0, 2, 3, 1}
)

func (c *converter) nchw(n *tfNode, x string, op string, inputs []string, attrs ...attr) {
	pre, core := n.Name+"/nchw_in", n.Name+"/nchw"
	c.emit("Transpose", pre, []string{x}, []string{pre}, intsAttr("perm", toNCHW...))
	c.emit(op, core, append([]string{pre}, inputs...), []string{core}, attrs...)
	c.emit("Transpose", n.Name, []string{core}, []string{n.Name}, intsAttr("perm", toNHWC...))
}

type convertFunc func(c *converter, n *tfNode, in []string) error

var converters map[string]convertFunc

func init() {
	converters = map[string]convertFunc{
		"Identity":       unary("Identity"),
		"Sigmoid":        unary("Sigmoid"),
		"LeakyRelu":      convertLeakyRelu,
		"Add":            elementwise("Add"),
		"AddV2":          elementwise("Add"),
		"Transpose":      convertTranspose,
		"Reshape":        convertReshape,
		"Pad":            convertPad,
		"PadV2":          convertPad,
		"ConcatV2":       convertConcat,
		"SplitV":         convertSplitV,
		"Conv2D":         convertConv2D,
		"MaxPool":        convertMaxPool,
		"ResizeBilinear": convertResizeBilinear,
	}
}

func unary(op string) convertFunc {
	return func(c *converter, n *tfNode, in []string) error {
		if len(in) != 1 {
			return fmt.Errorf("want 1 input, got %d", len(in))
		}
		c.emit(op, n.Name, []string{c.in(in[0])}, []string{n.Name})
		return nil
	}
}

func elementwise(op string) convertFunc {
	return func(c *converter, n *tfNode, in []string) error {
		if len(in) != 2 {
			return fmt.Errorf("want 2 inputs, got %d", len(in))
		}
		c.emit(op, n.Name, []string{c.in(in[0]), c.in(in[1])}, []string{n.Name})
		return nil
	}
}

func convertLeakyRelu(c *converter, n *tfNode, in []string) error {
	alpha := float32(0.2) // TensorFlow's default
	if a, ok := n.Attr["alpha"]; ok && a.F != nil {
		alpha = float32(*a.F)
	}
	c.emit("LeakyRelu", n.Name, []string{c.in(in[0])}, []string{n.Name}, floatAttr("alpha", alpha))
	return nil
}

func convertTranspose(c *converter, n *tfNode, in []string) error {
	t, err := c.constant(n, in, 1, "permutation")
	if err != nil {
		return err
	}
	perm, err := t.ints("permutation")
	if err != nil {
		return err
	}
	c.emit("Transpose", n.Name, []string{c.in(in[0])}, []string{n.Name}, intsAttr("perm", perm...))
	return nil
}

func convertReshape(c *converter, n *tfNode, in []string) error {
	t, err := c.constant(n, in, 1, "shape")
	if err != nil {
		return err
	}
	if _, err := t.ints("shape"); err != nil {
		return err
	}
	// TF has no "copy this dimension" 0 as ONNX does; allowzero keeps a
	// literal 0 meaning an empty dimension.
	c.emit("Reshape", n.Name, []string{c.in(in[0]), c.in(in[1])}, []string{n.Name}, intAttr("allowzero", 1))
	return nil
}

func convertPad(c *converter, n *tfNode, in []string) error {
	t, err := c.constant(n, in, 1, "paddings")
	if err != nil {
		return err
	}
	p, err := t.ints("paddings")
	if err != nil {
		return err
	}
	if len(t.shape) != 2 || t.shape[1] != 2 {
		return fmt.Errorf("paddings of shape %v, want [rank 2]", t.shape)
	}
	r := int(t.shape[0])
	pads := make([]int64, 2*r) // ONNX: all begins, then all ends
	for k := range r {
		pads[k], pads[r+k] = p[2*k], p[2*k+1]
	}
	inputs := []string{c.in(in[0]), c.init(n.Name+"/pads", &tensor{shape: []int64{int64(2 * r)}, i: pads})}
	if n.Op == "PadV2" {
		v, err := c.constant(n, in, 2, "constant value")
		if err != nil {
			return err
		}
		if !v.float || len(v.f) != 1 {
			return fmt.Errorf("%w: pad value other than one float", ErrUnsupported)
		}
		inputs = append(inputs, c.in(in[2]))
	}
	c.emit("Pad", n.Name, inputs, []string{n.Name}, stringAttr("mode", "constant"))
	return nil
}

func convertConcat(c *converter, n *tfNode, in []string) error {
	if len(in) < 2 {
		return fmt.Errorf("want values and an axis, got %d inputs", len(in))
	}
	t, err := c.constant(n, in, len(in)-1, "axis")
	if err != nil {
		return err
	}
	axis, err := t.ints("axis")
	if err != nil || len(axis) != 1 {
		return fmt.Errorf("axis must be one integer")
	}
	var inputs []string
	for _, r := range in[:len(in)-1] {
		inputs = append(inputs, c.in(r))
	}
	c.emit("Concat", n.Name, inputs, []string{n.Name}, intAttr("axis", axis[0]))
	return nil
}

func convertSplitV(c *converter, n *tfNode, in []string) error {
	st, err := c.constant(n, in, 1, "size_splits")
	if err != nil {
		return err
	}
	sizes, err := st.ints("size_splits")
	if err != nil {
		return err
	}
	if slices.ContainsFunc(sizes, func(s int64) bool { return s < 0 }) {
		return fmt.Errorf("%w: a size_splits of -1 (needs shapes)", ErrUnsupported)
	}
	at, err := c.constant(n, in, 2, "split_dim")
	if err != nil {
		return err
	}
	axis, err := at.ints("split_dim")
	if err != nil || len(axis) != 1 {
		return fmt.Errorf("split_dim must be one integer")
	}
	outs := make([]string, len(sizes))
	for k := range outs {
		outs[k] = value(n.Name + ":" + strconv.Itoa(k))
	}
	split := c.init(n.Name+"/split", &tensor{shape: []int64{int64(len(sizes))}, i: sizes})
	c.emit("Split", n.Name, []string{c.in(in[0]), split}, outs, intAttr("axis", axis[0]))
	return nil
}

// nhwcOnly rejects ops laid out NCHW, which TF.js's kernels do not run either.
func nhwcOnly(n *tfNode) error {
	if a, ok := n.Attr["data_format"]; ok && len(a.S) > 0 && string(a.S) != "NHWC" {
		return fmt.Errorf("%w: data_format %s", ErrUnsupported, a.S)
	}
	return nil
}

// spatial reads a 4-element NHWC list attribute (strides, ksize, dilations)
// as its H and W entries.
func spatial(n *tfNode, name string) ([]int64, error) {
	a, ok := n.Attr[name]
	if !ok || a.List == nil || len(a.List.I) == 0 {
		return []int64{1, 1}, nil
	}
	if len(a.List.I) != 4 || a.List.I[0] != 1 || a.List.I[3] != 1 {
		return nil, fmt.Errorf("%w: %s %v", ErrUnsupported, name, a.List.I)
	}
	return []int64{int64(a.List.I[1]), int64(a.List.I[2])}, nil
}

// padding maps TF's padding to ONNX: VALID is no padding and SAME puts the
// odd pixel at the end, as SAME_UPPER does.
func padding(n *tfNode) ([]attr, error) {
	switch p := string(n.Attr["padding"].S); p {
	case "VALID":
		return nil, nil
	case "SAME":
		return []attr{stringAttr("auto_pad", "SAME_UPPER")}, nil
	default:
		return nil, fmt.Errorf("%w: padding %q", ErrUnsupported, p)
	}
}

func convertConv2D(c *converter, n *tfNode, in []string) error {
	if err := nhwcOnly(n); err != nil {
		return err
	}
	f, err := c.constant(n, in, 1, "filter")
	if err != nil {
		return err
	}
	if !f.float || len(f.shape) != 4 {
		return fmt.Errorf("filter of shape %v, want a float [h w in out]", f.shape)
	}
	strides, err := spatial(n, "strides")
	if err != nil {
		return err
	}
	dilations, err := spatial(n, "dilations")
	if err != nil {
		return err
	}
	pad, err := padding(n)
	if err != nil {
		return err
	}
	// HWIO → OIHW.
	kh, kw, ci, co := f.shape[0], f.shape[1], f.shape[2], f.shape[3]
	w := make([]float32, len(f.f))
	for y := range kh {
		for x := range kw {
			for i := range ci {
				for o := range co {
					w[((o*ci+i)*kh+y)*kw+x] = f.f[((y*kw+x)*ci+i)*co+o]
				}
			}
		}
	}
	wname := c.init(value(in[1])+"/oihw", &tensor{shape: []int64{co, ci, kh, kw}, float: true, f: w})
	attrs := append([]attr{
		intsAttr("kernel_shape", kh, kw),
		intsAttr("strides", strides...),
		intsAttr("dilations", dilations...),
	}, pad...)
	c.nchw(n, c.in(in[0]), "Conv", []string{wname}, attrs...)
	return nil
}

func convertMaxPool(c *converter, n *tfNode, in []string) error {
	if err := nhwcOnly(n); err != nil {
		return err
	}
	k, err := spatial(n, "ksize")
	if err != nil {
		return err
	}
	strides, err := spatial(n, "strides")
	if err != nil {
		return err
	}
	pad, err := padding(n)
	if err != nil {
		return err
	}
	attrs := append([]attr{intsAttr("kernel_shape", k...), intsAttr("strides", strides...)}, pad...)
	c.nchw(n, c.in(in[0]), "MaxPool", nil, attrs...)
	return nil
}

func convertResizeBilinear(c *converter, n *tfNode, in []string) error {
	t, err := c.constant(n, in, 1, "size")
	if err != nil {
		return err
	}
	size, err := t.ints("size")
	if err != nil || len(size) != 2 {
		return fmt.Errorf("size must be [height width]")
	}
	mode := "asymmetric"
	if a := n.Attr["align_corners"]; a.B != nil && *a.B {
		mode = "align_corners"
	}
	if a := n.Attr["half_pixel_centers"]; a.B != nil && *a.B {
		if mode == "align_corners" {
			return fmt.Errorf("%w: align_corners with half_pixel_centers", ErrUnsupported)
		}
		mode = "half_pixel"
	}
	sizes := c.init(n.Name+"/sizes", &tensor{shape: []int64{2}, i: size})
	c.nchw(n, c.in(in[0]), "Resize", []string{"", "", sizes},
		stringAttr("mode", "linear"),
		stringAttr("coordinate_transformation_mode", mode),
		intsAttr("axes", 2, 3))
	return nil
}

// folders evaluate ops whose inputs are all constants at conversion time.
// Graphs exported through onnx-tf compute Reshape targets this way.
var folders = map[string]func(args []*tensor) (*tensor, error){
	"Add":           foldAdd,
	"AddV2":         foldAdd,
	"SparseToDense": foldSparseToDense,
}

func foldAdd(a []*tensor) (*tensor, error) {
	if len(a) != 2 {
		return nil, fmt.Errorf("want 2 inputs, got %d", len(a))
	}
	x, y := a[0], a[1]
	if x.float != y.float {
		return nil, errors.New("adding a float to an integer")
	}
	if numel(y.shape) == 1 && numel(x.shape) != 1 {
		x, y = y, x
	}
	if numel(x.shape) != 1 && !slices.Equal(x.shape, y.shape) {
		return nil, fmt.Errorf("%w: constant broadcast of %v and %v", ErrUnsupported, x.shape, y.shape)
	}
	out := &tensor{shape: y.shape, float: y.float}
	if y.float {
		out.f = make([]float32, len(y.f))
		for k := range y.f {
			out.f[k] = x.f[min(k, len(x.f)-1)] + y.f[k]
		}
	} else {
		out.i = make([]int64, len(y.i))
		for k := range y.i {
			out.i[k] = x.i[min(k, len(x.i)-1)] + y.i[k]
		}
	}
	return out, nil
}

// foldSparseToDense: indices [n] or [n, rank], output_shape, values (one per
// index or a scalar), default value.
func foldSparseToDense(a []*tensor) (*tensor, error) {
	if len(a) != 4 {
		return nil, fmt.Errorf("want 4 inputs, got %d", len(a))
	}
	idx, shape, vals, def := a[0], a[1], a[2], a[3]
	if idx.float || shape.float || vals.float || def.float {
		return nil, fmt.Errorf("%w: SparseToDense on floats", ErrUnsupported)
	}
	rank := int64(len(shape.i))
	per := rank // index components per entry
	if len(idx.shape) < 2 {
		per = 1
	}
	if len(idx.shape) > 2 || per != rank || len(def.i) != 1 {
		return nil, fmt.Errorf("indices of shape %v for output rank %d", idx.shape, rank)
	}
	n := int64(len(idx.i)) / max(per, 1)
	out := &tensor{shape: shape.i, i: make([]int64, numel(shape.i))}
	for k := range out.i {
		out.i[k] = def.i[0]
	}
	for e := range n {
		flat := int64(0)
		for d := range per {
			v := idx.i[e*per+d]
			if v < 0 || v >= shape.i[d] {
				return nil, fmt.Errorf("index %d out of range", v)
			}
			flat = flat*shape.i[d] + v
		}
		out.i[flat] = vals.i[min(e, int64(len(vals.i))-1)]
	}
	return out, nil
}
