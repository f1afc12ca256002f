// Package rcf is a Random Cut Forest for streams of numbers (Guha,
// Mishra, Roy, Schrijvers: "Robust Random Cut Forest Based Anomaly
// Detection on Streams", ICML 2016), the algorithm of AMP's anomaly
// detectors. A Detector shingles a series (the last ShingleSize values
// form one point), scores each new point against a forest of robust random
// cut trees over a reservoir sample of past points (the AWS library's
// displacement-weighted score, normalized by log2 of the sample size:
// ordinary points score about 1 or less, isolated ones more), estimates
// the value it expected from the points the trees pair the new one with,
// and grades the point an anomaly when its score is over an adaptive
// threshold and its value outside the expected band. No Go module on the
// module proxy implements the algorithm; this one is small and tested
// against the paper's properties and injected anomalies.
//
// Memory is bounded: at most Trees*SampleSize points of ShingleSize
// values, plus a bounding box per internal node (2*ShingleSize float32).
package rcf

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
)

// Config configures a forest.
type Config struct {
	ShingleSize int // values per point, >= 1
	SampleSize  int // points each tree keeps, >= 2
	Trees       int // >= 1
	Seed        uint64
}

// Bytes estimates a forest's memory: points, boxes and nodes.
func (c Config) Bytes() int64 {
	perPoint := int64(c.ShingleSize)*8 + 64
	perNode := int64(c.ShingleSize)*8 + 96
	return int64(c.Trees) * int64(c.SampleSize) * (perPoint + 2*perNode)
}

// Validate checks a configuration.
func (c Config) Validate() error {
	if c.ShingleSize < 1 || c.SampleSize < 2 || c.Trees < 1 {
		return errors.New("rcf: shingle size >= 1, sample size >= 2 and trees >= 1 are required")
	}
	return nil
}

// Forest is a random cut forest over shingled points.
type Forest struct {
	cfg    Config
	trees  []*tree
	points map[int][]float64
	refs   map[int]int
	next   int
}

// NewForest returns an empty forest.
func NewForest(c Config) (*Forest, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	f := &Forest{cfg: c, points: map[int][]float64{}, refs: map[int]int{}}
	seed := rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	for range c.Trees {
		f.trees = append(f.trees, newTree(c.SampleSize, rand.New(rand.NewPCG(seed.Uint64(), seed.Uint64())), f.point))
	}
	return f, nil
}

func (f *Forest) point(i int) []float64 { return f.points[i] }

// Insert adds a point (ShingleSize values) to the trees that sample it.
func (f *Forest) Insert(p []float64) {
	idx := f.next
	f.next++
	f.points[idx] = append([]float64(nil), p...)
	for _, t := range f.trees {
		ev, ok := t.update(idx)
		if ok {
			f.refs[idx]++
		}
		if ev >= 0 {
			if f.refs[ev]--; f.refs[ev] <= 0 {
				delete(f.refs, ev)
				delete(f.points, ev)
			}
		}
	}
	if f.refs[idx] == 0 {
		delete(f.refs, idx)
		delete(f.points, idx)
	}
}

// Score is p's anomaly score: the trees' mean, times log2(sample+1).
func (f *Forest) Score(p []float64) float64 {
	var s float64
	n := 0
	for _, t := range f.trees {
		if t.root != nil {
			s += t.score(p)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n) * math.Log2(float64(f.cfg.SampleSize)+1)
}

// Expect returns quantiles (0.5, and lo and hi) of the last value the
// trees expect for p, from the sample points they pair p with when its
// last value is unknown.
func (f *Forest) Expect(p []float64, lo, hi float64) (median, low, high float64, ok bool) {
	var vs []float64
	for _, t := range f.trees {
		if v, ok := t.neighbour(p); ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, 0, 0, false
	}
	sort.Float64s(vs)
	q := func(x float64) float64 { return vs[int(math.Round(x*float64(len(vs)-1)))] }
	return q(0.5), q(lo), q(hi), true
}

// Size is the number of points the forest holds.
func (f *Forest) Size() int { return len(f.points) }
