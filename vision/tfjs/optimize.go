package tfjs

import (
	"math"
	"slices"
)

// optimize rewrites the converted graph into the shape ONNX Runtime runs
// fastest without changing a single result: conv biases folded into Conv,
// transposes that undo each other removed, explicit zero padding moved into
// the Conv or MaxPool it feeds, and whatever is left unused dropped.
func optimize(g *graph) {
	fuseConvBias(g)
	for cancelTransposes(g) {
	}
	prune(g)
	foldPads(g)
	prune(g)
}

type uses struct {
	producer  map[string]*node
	consumers map[string][]*node
	output    map[string]bool
}

func index(g *graph) uses {
	u := uses{producer: map[string]*node{}, consumers: map[string][]*node{}, output: map[string]bool{}}
	for _, n := range g.nodes {
		for _, o := range n.outputs {
			u.producer[o] = n
		}
		for _, in := range n.inputs {
			u.consumers[in] = append(u.consumers[in], n)
		}
	}
	for _, o := range g.outputs {
		u.output[o.name] = true
	}
	return u
}

// only reports whether value v feeds exactly one node and is no graph output.
func (u uses) only(v string) bool { return len(u.consumers[v]) == 1 && !u.output[v] }

func (g *graph) initializer(name string) *tensor {
	for _, in := range g.inits {
		if in.name == name {
			return in.t
		}
	}
	return nil
}

func intsOf(n *node, name string) []int64 {
	a, _ := n.attr(name)
	return a.ints
}

// fuseConvBias turns Conv → Transpose(to NHWC) → Add(per-channel constant)
// into one Conv with a bias, the pattern every TF conv layer converts to.
func fuseConvBias(g *graph) {
	u := index(g)
	var drop []*node
	for _, add := range g.nodes {
		if add.op != "Add" {
			continue
		}
		for side, in := range add.inputs {
			t := u.producer[in]
			if t == nil || t.op != "Transpose" || !slices.Equal(intsOf(t, "perm"), toNHWC) || !u.only(in) {
				continue
			}
			conv := u.producer[t.inputs[0]]
			if conv == nil || conv.op != "Conv" || len(conv.inputs) != 2 || !u.only(t.inputs[0]) {
				continue
			}
			w, b := g.initializer(conv.inputs[1]), g.initializer(add.inputs[1-side])
			if w == nil || b == nil || !b.float || len(b.shape) != 1 || b.shape[0] != w.shape[0] {
				continue
			}
			conv.inputs = append(conv.inputs, add.inputs[1-side])
			t.outputs[0] = add.outputs[0]
			drop = append(drop, add)
			break
		}
	}
	g.nodes = slices.DeleteFunc(g.nodes, func(n *node) bool { return slices.Contains(drop, n) })
}

// cancelTransposes merges each Transpose of a Transpose into one, and removes
// it when the two undo each other. It reports whether it changed anything.
func cancelTransposes(g *graph) bool {
	u := index(g)
	for _, t2 := range g.nodes {
		if t2.op != "Transpose" {
			continue
		}
		t1 := u.producer[t2.inputs[0]]
		if t1 == nil || t1.op != "Transpose" {
			continue
		}
		p1, p2 := intsOf(t1, "perm"), intsOf(t2, "perm")
		if len(p1) != len(p2) || len(p1) == 0 {
			continue
		}
		q := make([]int64, len(p2))
		identity := true
		for i, p := range p2 {
			q[i] = p1[p]
			identity = identity && q[i] == int64(i)
		}
		x, out := t1.inputs[0], t2.outputs[0]
		if identity && !u.output[out] {
			for _, n := range u.consumers[out] {
				for k, in := range n.inputs {
					if in == out {
						n.inputs[k] = x
					}
				}
			}
			g.nodes = slices.DeleteFunc(g.nodes, func(n *node) bool { return n == t2 })
		} else {
			t2.inputs[0] = x
			t2.attrs = []attr{intsAttr("perm", q...)}
			if identity {
				t2.op, t2.attrs = "Identity", nil
			}
		}
		return true
	}
	return false
}

// foldPads moves a Pad of only the spatial dimensions of an NCHW tensor into
// the Conv (zero padding) or MaxPool (-inf padding, which MaxPool's own
// padding is) it feeds alone.
func foldPads(g *graph) {
	u := index(g)
	for _, p := range g.nodes {
		if p.op != "Pad" || !u.only(p.outputs[0]) {
			continue
		}
		next := u.consumers[p.outputs[0]][0]
		if next.inputs[0] != p.outputs[0] {
			continue
		}
		pads := g.initializer(p.inputs[1])
		if pads == nil || len(pads.i) != 8 || pads.i[0] != 0 || pads.i[1] != 0 || pads.i[4] != 0 || pads.i[5] != 0 {
			continue
		}
		fill := float32(0)
		if len(p.inputs) > 2 {
			v := g.initializer(p.inputs[2])
			if v == nil || len(v.f) != 1 {
				continue
			}
			fill = v.f[0]
		}
		switch {
		case next.op == "Conv" && fill == 0:
		case next.op == "MaxPool" && math.IsInf(float64(fill), -1):
		default:
			continue
		}
		if _, ok := next.attr("auto_pad"); ok {
			continue
		}
		merged := []int64{pads.i[2], pads.i[3], pads.i[6], pads.i[7]}
		if old := intsOf(next, "pads"); old != nil {
			for k := range merged {
				merged[k] += old[k]
			}
		}
		next.attrs = slices.DeleteFunc(next.attrs, func(a attr) bool { return a.name == "pads" })
		next.attrs = append(next.attrs, intsAttr("pads", merged...))
		next.inputs[0] = p.inputs[0]
	}
}

// prune drops nodes no output depends on, and initializers no node reads.
func prune(g *graph) {
	u := index(g)
	live := map[*node]bool{}
	need := map[string]bool{}
	var walk func(v string)
	walk = func(v string) {
		if need[v] {
			return
		}
		need[v] = true
		if n := u.producer[v]; n != nil && !live[n] {
			live[n] = true
			for _, in := range n.inputs {
				walk(in)
			}
		}
	}
	for _, o := range g.outputs {
		walk(o.name)
	}
	g.nodes = slices.DeleteFunc(g.nodes, func(n *node) bool { return !live[n] })
	g.inits = slices.DeleteFunc(g.inits, func(in initializer) bool { return !need[in.name] })
}
