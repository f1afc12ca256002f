package rcf

import (
	"math"
	"math/rand/v2"
	"testing"
)

func cluster(rng *rand.Rand, n, dim int) [][]float64 {
	var ps [][]float64
	for range n {
		p := make([]float64, dim)
		for i := range p {
			p[i] = rng.NormFloat64()
		}
		ps = append(ps, p)
	}
	return ps
}

// TestIsolatedPointScoresHigh: the paper's central property — a point far
// from a dense cluster is cut off early in every tree and scores far
// higher than the cluster's own points.
func TestIsolatedPointScoresHigh(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f, err := NewForest(Config{ShingleSize: 3, SampleSize: 256, Trees: 50, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cluster(rng, 1000, 3) {
		f.Insert(p)
	}
	var dense float64
	probes := cluster(rng, 50, 3)
	for _, p := range probes {
		dense += f.Score(p)
	}
	dense /= float64(len(probes))
	far := f.Score([]float64{8, -8, 8})
	t.Logf("mean score of cluster points %.3f, of an isolated point %.3f", dense, far)
	if dense > 1.5 || far < 2*dense {
		t.Fatalf("isolated %.3f vs dense %.3f", far, dense)
	}
	// farther is more anomalous
	if f.Score([]float64{30, 30, 30}) < far {
		t.Fatal("a farther point scored lower")
	}
	if f.Size() > 50*256 {
		t.Fatalf("forest holds %d points, more than trees*sample", f.Size())
	}
}

// TestDeterministic: the same seed and stream give the same scores.
func TestDeterministic(t *testing.T) {
	run := func(seed uint64) []float64 {
		d, _ := NewDetector(DetectorConfig{Config: Config{ShingleSize: 4, SampleSize: 64, Trees: 10, Seed: seed}})
		var out []float64
		for i := range 400 {
			r := d.Update(math.Sin(float64(i) / 5))
			out = append(out, r.Score, r.Expected)
		}
		return out
	}
	a, b, c := run(3), run(3), run(4)
	same := true
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 3 twice differs at %d: %v %v", i, a[i], b[i])
		}
		if a[i] != c[i] {
			same = false
		}
	}
	if same {
		t.Fatal("seeds 3 and 4 gave identical scores")
	}
}

// TestBoundedMemory: however long the stream, the forest keeps at most
// Trees*SampleSize points.
func TestBoundedMemory(t *testing.T) {
	d, _ := NewDetector(DetectorConfig{Config: Config{ShingleSize: 2, SampleSize: 32, Trees: 5, Seed: 1}})
	for i := range 20000 {
		d.Update(float64(i % 97))
	}
	if n := d.Points(); n > 5*32 {
		t.Fatalf("%d points", n)
	}
}

// series is a synthetic metric: a daily-like sine with noise, with spikes
// and drops injected at random positions (never within 20 points of each
// other or of the start).
func series(seed uint64, n, anomalies int) ([]float64, map[int]bool) {
	rng := rand.New(rand.NewPCG(seed, 99))
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = 100 + 20*math.Sin(2*math.Pi*float64(i)/96) + rng.NormFloat64()*2
	}
	at := map[int]bool{}
	for len(at) < anomalies {
		i := 400 + rng.IntN(n-420)
		ok := true
		for j := range at {
			if j > i-20 && j < i+20 {
				ok = false
			}
		}
		if !ok {
			continue
		}
		at[i] = true
		mag := 25 + rng.Float64()*25 // 12 to 25 standard deviations of the noise
		if rng.IntN(2) == 0 {
			mag = -mag
		}
		vs[i] += mag
	}
	return vs, at
}

// TestInjectedAnomalies: precision and recall of the detector over
// synthetic series with injected spikes and drops.
func TestInjectedAnomalies(t *testing.T) {
	var tp, fp, fn int
	for seed := uint64(1); seed <= 4; seed++ {
		vs, at := series(seed, 3000, 15)
		d, err := NewDetector(DetectorConfig{Config: Config{ShingleSize: 8, SampleSize: 256, Trees: 30, Seed: seed}})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vs {
			r := d.Update(v)
			switch {
			case r.Grade > 0 && at[i]:
				tp++
			case r.Grade > 0:
				fp++
			case at[i]:
				fn++
			}
			if at[i] && r.Ready && (v <= r.Upper && v >= r.Lower) {
				t.Logf("seed %d: injected value %.1f at %d inside the band [%.1f, %.1f] (expected %.1f)", seed, v, i, r.Lower, r.Upper, r.Expected)
			}
		}
	}
	precision := float64(tp) / float64(max(tp+fp, 1))
	recall := float64(tp) / float64(max(tp+fn, 1))
	t.Logf("injected anomalies: precision %.3f, recall %.3f (tp %d, fp %d, fn %d)", precision, recall, tp, fp, fn)
	if precision < 0.8 || recall < 0.8 {
		t.Fatalf("precision %.3f, recall %.3f: want both >= 0.8", precision, recall)
	}
}

// TestIgnoreNearExpected: an amount above the expected value that is
// ignored from above is no anomaly; the same drop below still is.
func TestIgnoreNearExpected(t *testing.T) {
	flagged := func(cfg DetectorConfig, delta float64) bool {
		d, _ := NewDetector(cfg)
		rng := rand.New(rand.NewPCG(5, 5))
		for range 600 {
			d.Update(50 + rng.NormFloat64())
		}
		return d.Update(50+delta).Grade > 0
	}
	base := DetectorConfig{Config: Config{ShingleSize: 4, SampleSize: 128, Trees: 30, Seed: 2}}
	if !flagged(base, 20) || !flagged(base, -20) {
		t.Fatal("a 20-sigma spike or drop is no anomaly")
	}
	above := base
	above.Above = Ignore{Amount: 30}
	if flagged(above, 20) {
		t.Fatal("a spike within ignoreNearExpectedFromAbove.amount was flagged")
	}
	if !flagged(above, -20) {
		t.Fatal("ignoring from above hid a drop")
	}
	ratio := base
	ratio.Below = Ignore{Ratio: 0.5} // 25 below 50
	if flagged(ratio, -20) || !flagged(ratio, 20) {
		t.Fatal("ignoreNearExpectedFromBelow.ratio")
	}
}
