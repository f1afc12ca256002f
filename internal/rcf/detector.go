package rcf

import "math"

// Ignore widens the band inside which a value is never an anomaly:
// Amount absolute, Ratio relative to the expected value (AMP's
// IgnoreNearExpected).
type Ignore struct {
	Amount, Ratio float64
}

func (i Ignore) margin(expected float64) float64 {
	return math.Max(i.Amount, i.Ratio*math.Abs(expected))
}

// DetectorConfig configures a Detector.
type DetectorConfig struct {
	Config
	// Above and Below ignore values near the expected one.
	Above, Below Ignore
}

// Result is a Detector's verdict on one value.
type Result struct {
	// Ready: enough points were seen to score (the other fields are
	// meaningful only then).
	Ready bool
	// Grade is the anomaly score AMP reports: 0 for an ordinary value,
	// in (0.5, 1] for an anomaly, higher the more isolated it is.
	Grade float64
	// Score is the forest's raw score of the point.
	Score float64
	// Expected, Lower and Upper are the expected value and its band.
	Expected, Lower, Upper float64
}

// Detector grades a stream of values with a forest of shingled points.
type Detector struct {
	cfg     DetectorConfig
	forest  *Forest
	shingle []float64
	seen    int
	// running mean and variance of ordinary points' scores, and mean
	// absolute deviation of ordinary values from their expectation
	n                  int
	mean, m2, deviance float64
	devN               int
}

// NewDetector returns a detector.
func NewDetector(c DetectorConfig) (*Detector, error) {
	f, err := NewForest(c.Config)
	if err != nil {
		return nil, err
	}
	return &Detector{cfg: c, forest: f}, nil
}

// warmup is how many points the forest holds before it scores.
func (d *Detector) warmup() int { return max(32, d.cfg.SampleSize/4) }

// threshold is the score over which a point may be an anomaly: three
// standard deviations over the mean score of ordinary points, at least
// 1.5 times that mean.
func (d *Detector) threshold() float64 {
	if d.n < 2 {
		return math.Inf(1)
	}
	sd := math.Sqrt(d.m2 / float64(d.n-1))
	return math.Max(d.mean+3*sd, 1.5*d.mean)
}

// observe folds an ordinary point's score and deviation into the
// running figures (exponentially forgetting past 1000 points).
func (d *Detector) observe(score, dev float64) {
	if d.n < 1000 {
		d.n++
	}
	delta := score - d.mean
	d.mean += delta / float64(d.n)
	d.m2 = d.m2*float64(d.n-1)/float64(max(d.n, 1)) + delta*(score-d.mean)
	if math.IsNaN(dev) {
		return
	}
	d.devN++
	d.deviance += (dev - d.deviance) / float64(min(d.devN, 200))
}

// Update scores v, then learns it.
func (d *Detector) Update(v float64) Result {
	d.shingle = append(d.shingle, v)
	if len(d.shingle) > d.cfg.ShingleSize {
		d.shingle = d.shingle[1:]
	}
	d.seen++
	if len(d.shingle) < d.cfg.ShingleSize {
		return Result{}
	}
	p := append([]float64(nil), d.shingle...)
	var r Result
	if d.seen-d.cfg.ShingleSize+1 > d.warmup() {
		r.Ready = true
		r.Score = d.forest.Score(p)
		exp, lo, hi, _ := d.forest.Expect(p, 0.1, 0.9)
		r.Expected = exp
		spread := 3 * d.deviance
		r.Lower = math.Min(lo, exp-spread) - d.cfg.Below.margin(exp)
		r.Upper = math.Max(hi, exp+spread) + d.cfg.Above.margin(exp)
		thr := d.threshold()
		if r.Score > thr && (v > r.Upper || v < r.Lower) {
			r.Grade = 0.5 + 0.5*math.Min(1, (r.Score-thr)/thr)
			// The anomaly is not learnt, and later points are scored
			// with the expected value in its place: one spike is one
			// anomaly, not ShingleSize of them.
			d.shingle[len(d.shingle)-1] = exp
			return r
		}
		d.observe(r.Score, math.Abs(v-exp))
	} else if d.seen-d.cfg.ShingleSize+1 > d.warmup()/2 {
		// learn the ordinary score before grading
		d.observe(d.forest.Score(p), math.NaN())
	}
	d.forest.Insert(p)
	return r
}

// Skip records that a value is missing: the shingle restarts, so that
// points never join values across a gap.
func (d *Detector) Skip() { d.shingle = d.shingle[:0] }

// Points is the number of points the forest holds.
func (d *Detector) Points() int { return d.forest.Size() }
