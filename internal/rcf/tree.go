package rcf

import (
	"math"
	"math/rand/v2"
)

// node is a node of a robust random cut tree: a leaf holds a point (by its
// index in the forest's point store) and how many times it was inserted;
// an internal node holds its cut and the bounding box of its points.
type node struct {
	parent, left, right *node
	// leaf: its point; mass is the points under the node (a leaf's:
	// how many times its point was inserted)
	point int
	mass  int
	// internal
	dim      int
	cut      float64
	min, max []float32
}

func (n *node) isLeaf() bool { return n.left == nil }

// tree is one robust random cut tree over a reservoir sample of the
// stream (Guha, Mishra, Roy, Schrijvers: "Robust Random Cut Forest Based
// Anomaly Detection on Streams", ICML 2016).
type tree struct {
	root   *node
	rng    *rand.Rand
	points func(int) []float64
	// sample is the reservoir: point index -> its leaf.
	sample   []int
	leaves   map[int]*node
	capacity int
	seen     int
}

func newTree(capacity int, rng *rand.Rand, points func(int) []float64) *tree {
	return &tree{rng: rng, points: points, capacity: capacity, leaves: map[int]*node{}}
}

// boxOf returns a node's bounding box as float64 slices.
func (t *tree) boxOf(n *node) (lo, hi []float64) {
	if n.isLeaf() {
		p := t.points(n.point)
		return p, p
	}
	lo, hi = make([]float64, len(n.min)), make([]float64, len(n.max))
	for i := range n.min {
		lo[i], hi[i] = float64(n.min[i]), float64(n.max[i])
	}
	return lo, hi
}

// update adds a point's index to the reservoir (time-decayed reservoir:
// each new point replaces a random one once the sample is full, with
// probability capacity/seen, kept at least 1/4 so the model follows drift).
// It returns the evicted index (-1 if none) and whether p was inserted.
func (t *tree) update(idx int) (evicted int, inserted bool) {
	t.seen++
	evicted = -1
	if len(t.sample) >= t.capacity {
		prob := float64(t.capacity) / float64(t.seen)
		if prob < 0.25 {
			prob = 0.25
		}
		if t.rng.Float64() >= prob {
			return -1, false
		}
		k := t.rng.IntN(len(t.sample))
		evicted = t.sample[k]
		t.delete(evicted)
		t.sample[k] = idx
	} else {
		t.sample = append(t.sample, idx)
	}
	t.insert(idx)
	return evicted, true
}

// insert places point idx: descending from the root, a random cut of the
// box extended by p either separates p (p becomes a sibling of the
// subtree) or not (descend along the node's own cut).
func (t *tree) insert(idx int) {
	p := t.points(idx)
	if t.root == nil {
		l := &node{point: idx, mass: 1}
		t.root, t.leaves[idx] = l, l
		return
	}
	n := t.root
	for {
		lo, hi := t.boxOf(n)
		dim, cut, ok := t.randomCut(lo, hi, p)
		if ok && (cut < lo[dim] || cut >= hi[dim]) {
			// separates p from n's points: new parent of n and p
			leaf := &node{point: idx, mass: 1}
			in := &node{parent: n.parent, dim: dim, cut: cut, mass: n.mass}
			if p[dim] <= cut {
				in.left, in.right = leaf, n
			} else {
				in.left, in.right = n, leaf
			}
			in.min, in.max = make([]float32, len(p)), make([]float32, len(p))
			for i := range p {
				in.min[i], in.max[i] = float32(math.Min(lo[i], p[i])), float32(math.Max(hi[i], p[i]))
			}
			t.replaceChild(n.parent, n, in)
			n.parent, leaf.parent = in, in
			t.leaves[idx] = leaf
			t.growBoxes(in.parent, p)
			addMass(in, 1)
			return
		}
		if n.isLeaf() {
			// the same point again (no cut separates equal points)
			n.mass++
			t.leaves[idx] = n
			addMass(n.parent, 1)
			return
		}
		if p[n.dim] <= n.cut {
			n = n.left
		} else {
			n = n.right
		}
	}
}

// randomCut draws a cut of the box of lo, hi and p: a dimension with
// probability proportional to its range, a value uniform in it.
func (t *tree) randomCut(lo, hi, p []float64) (int, float64, bool) {
	var total float64
	for i := range p {
		total += math.Max(hi[i], p[i]) - math.Min(lo[i], p[i])
	}
	if total <= 0 || math.IsNaN(total) || math.IsInf(total, 0) {
		return 0, 0, false
	}
	r := t.rng.Float64() * total
	for i := range p {
		a, b := math.Min(lo[i], p[i]), math.Max(hi[i], p[i])
		if r < b-a {
			return i, a + r, true
		}
		r -= b - a
	}
	i := len(p) - 1
	return i, math.Max(hi[i], p[i]), true
}

func (t *tree) replaceChild(parent, old, nw *node) {
	if parent == nil {
		t.root = nw
		return
	}
	if parent.left == old {
		parent.left = nw
	} else {
		parent.right = nw
	}
}

func (t *tree) growBoxes(n *node, p []float64) {
	for ; n != nil; n = n.parent {
		for i := range p {
			n.min[i] = min(n.min[i], float32(p[i]))
			n.max[i] = max(n.max[i], float32(p[i]))
		}
	}
}

// delete removes one instance of point idx from the tree.
func (t *tree) delete(idx int) {
	leaf := t.leaves[idx]
	if leaf == nil {
		return
	}
	delete(t.leaves, idx)
	if leaf.mass > 1 {
		leaf.mass--
		addMass(leaf.parent, -1)
		if leaf.point == idx {
			// another index with the same coordinates keeps the leaf
			for k, l := range t.leaves {
				if l == leaf {
					leaf.point = k
					break
				}
			}
		}
		return
	}
	parent := leaf.parent
	if parent == nil {
		t.root = nil
		return
	}
	sibling := parent.left
	if sibling == leaf {
		sibling = parent.right
	}
	t.replaceChild(parent.parent, parent, sibling)
	sibling.parent = parent.parent
	for n := sibling.parent; n != nil; n = n.parent {
		n.mass--
		t.recomputeBox(n)
	}
}

func (t *tree) recomputeBox(n *node) {
	llo, lhi := t.boxOf(n.left)
	rlo, rhi := t.boxOf(n.right)
	for i := range n.min {
		n.min[i] = float32(math.Min(llo[i], rlo[i]))
		n.max[i] = float32(math.Max(lhi[i], rhi[i]))
	}
}

func addMass(n *node, d int) {
	for ; n != nil; n = n.parent {
		n.mass += d
	}
}

// score is the tree's anomaly score of p (not inserted), as the AWS RCF
// library computes it: from the leaf p falls into, up to the root, the
// probability that a random cut separates p at each node weighs a score
// that falls with depth (1/(depth+1)); a point seen before scores low.
func (t *tree) score(p []float64) float64 {
	if t.root == nil {
		return 0
	}
	// descend, recording the path
	var path []*node
	n := t.root
	for !n.isLeaf() {
		path = append(path, n)
		if p[n.dim] <= n.cut {
			n = n.left
		} else {
			n = n.right
		}
	}
	depth := len(path)
	lp := t.points(n.point)
	var s float64
	if equal(lp, p) {
		s = damp(n.mass, len(t.sample)) / (float64(depth) + math.Log2(float64(n.mass)+1))
	} else {
		s = 1 / float64(depth+1)
	}
	for i := len(path) - 1; i >= 0; i-- {
		prob := separation(path[i].min, path[i].max, p)
		s = prob*(1/float64(i+1)) + (1-prob)*s
	}
	return s
}

// separation is the probability that a random cut of the box extended by
// p separates p from the box.
func separation(lo, hi []float32, p []float64) float64 {
	var ext, total float64
	for i := range p {
		l, h := float64(lo[i]), float64(hi[i])
		a, b := math.Min(l, p[i]), math.Max(h, p[i])
		total += b - a
		ext += (b - a) - (h - l)
	}
	if total <= 0 {
		return 0
	}
	return ext / total
}

func damp(leafMass, treeMass int) float64 {
	if treeMass == 0 {
		return 1
	}
	return 1 - float64(leafMass)/(2*float64(treeMass))
}

func equal(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// neighbour returns the last coordinate of the sample point the tree
// would pair with p when its last coordinate is unknown: descending by
// the cuts, except that a cut on the last dimension follows the child
// with more points (the usual value, not p's).
func (t *tree) neighbour(p []float64) (float64, bool) {
	if t.root == nil {
		return 0, false
	}
	last := len(p) - 1
	n := t.root
	for !n.isLeaf() {
		switch {
		case n.dim == last:
			if n.left.mass >= n.right.mass {
				n = n.left
			} else {
				n = n.right
			}
		case p[n.dim] <= n.cut:
			n = n.left
		default:
			n = n.right
		}
	}
	return t.points(n.point)[last], true
}
