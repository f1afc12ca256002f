package app_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/testenv"
)

// TestAnomalyDetectorMarksInjectedSpike: a detector over a seasonal,
// noisy series trains on the workspace's history, and a spike written
// now comes back through /api/v1/query as anomaly_detector:score > 0.5,
// above anomaly_detector:upper_band, with the detector's labels; a
// detector over the same series without the spike scores 0.
func TestAnomalyDetectorMarksInjectedSpike(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "anomaly")
	now := time.Now()
	rng := rand.New(rand.NewPCG(1, 1))
	var spiky, calm []prompb.Sample
	for k := 110; k >= 1; k-- {
		ts := now.Add(-time.Duration(k) * 30 * time.Second).UnixMilli()
		v := 100 + 10*math.Sin(float64(k)/8) + rng.NormFloat64()
		spiky = append(spiky, prompb.Sample{Timestamp: ts, Value: v})
		calm = append(calm, prompb.Sample{Timestamp: ts, Value: v})
	}
	spiky = append(spiky, prompb.Sample{Timestamp: now.UnixMilli(), Value: 400})
	calm = append(calm, prompb.Sample{Timestamp: now.UnixMilli(), Value: 100 + 10*math.Sin(0)})
	if code, body, err := testenv.RemoteWrite(ctx, s.Admin, ws, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: testenv.Series("__name__", "ad_requests", "job", "spiky"), Samples: spiky},
		{Labels: testenv.Series("__name__", "ad_requests", "job", "calm"), Samples: calm},
	}}); err != nil || code != 200 {
		t.Fatalf("remote write: %d %s %v", code, body, err)
	}
	create := func(alias, job string) string {
		t.Helper()
		var out struct {
			AnomalyDetectorID string `json:"anomalyDetectorId"`
			Status            struct{ StatusCode string }
		}
		body := map[string]any{"alias": alias, "evaluationIntervalInSeconds": 30,
			"configuration": map[string]any{"randomCutForest": map[string]any{"query": `sum by (job) (ad_requests{job="` + job + `"})`, "shingleSize": 4}},
			"labels":        map[string]string{"team": "a"}}
		if err := s.Admin.JSON(ctx, "POST", "/workspaces/"+ws+"/anomalydetectors", nil, body, &out); err != nil || out.Status.StatusCode != "CREATING" {
			t.Fatalf("create %s: %+v %v", alias, out, err)
		}
		return out.AnomalyDetectorID
	}
	spikyID, calmID := create("spiky", "spiky"), create("calm", "calm")

	value := func(q string) (float64, map[string]string, bool) {
		code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {q}})
		if code != 200 {
			t.Fatalf("%s: %d %+v", q, code, r)
		}
		var d struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		}
		if err := json.Unmarshal(r.Data, &d); err != nil || len(d.Result) != 1 {
			return 0, nil, false
		}
		v, _ := strconv.ParseFloat(fmt.Sprint(d.Result[0].Value[1]), 64)
		return v, d.Result[0].Metric, true
	}
	var score float64
	var metric map[string]string
	waitFor(t, func() bool {
		var ok bool
		score, metric, ok = value(`anomaly_detector:score{anomaly_detector_id="` + spikyID + `"}`)
		return ok
	})
	if score <= 0.5 || metric["team"] != "a" || metric["job"] != "spiky" || metric["__name__"] != "anomaly_detector:score" {
		t.Fatalf("the spike's score: %v %v", score, metric)
	}
	upper, _, ok := value(`anomaly_detector:upper_band{anomaly_detector_id="` + spikyID + `"}`)
	lower, _, ok2 := value(`anomaly_detector:lower_band{anomaly_detector_id="` + spikyID + `"}`)
	if !ok || !ok2 || upper >= 400 || lower > upper || upper < 90 {
		t.Fatalf("bands around the spike: [%v, %v]", lower, upper)
	}
	waitFor(t, func() bool {
		_, _, ok := value(`anomaly_detector:score{anomaly_detector_id="` + calmID + `"}`)
		return ok
	})
	if calmScore, _, _ := value(`anomaly_detector:score{anomaly_detector_id="` + calmID + `"}`); calmScore != 0 {
		t.Fatalf("the calm series scored %v", calmScore)
	}

	// Describe shows the detector as created, ACTIVE, with AMP's defaults.
	var d struct {
		D struct {
			Status                      struct{ StatusCode string }
			EvaluationIntervalInSeconds int
			MissingDataAction           map[string]bool
			Configuration               struct {
				RandomCutForest struct {
					Query       string
					ShingleSize int
					SampleSize  int
				}
			}
			Labels map[string]string
		} `json:"anomalyDetector"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/workspaces/"+ws+"/anomalydetectors/"+spikyID, nil, nil, &d); err != nil ||
		d.D.Status.StatusCode != "ACTIVE" || d.D.EvaluationIntervalInSeconds != 30 || !d.D.MissingDataAction["skip"] ||
		d.D.Configuration.RandomCutForest.ShingleSize != 4 || d.D.Configuration.RandomCutForest.SampleSize != 256 || d.D.Labels["team"] != "a" {
		t.Fatalf("describe: %+v %v", d, err)
	}
	// Tags on the detector's ARN.
	arn := "arn:aws:aps:us-east-1:" + s.App.Info().Account.ID + ":anomalydetector/" + ws + "/" + spikyID
	if err := s.Admin.JSON(ctx, "POST", "/tags/"+url.PathEscape(arn), nil, map[string]any{"tags": map[string]string{"k": "v"}}, nil); err != nil {
		t.Fatal(err)
	}
	var tags struct{ Tags map[string]string }
	if err := s.Admin.JSON(ctx, "GET", "/tags/"+url.PathEscape(arn), nil, nil, &tags); err != nil || tags.Tags["k"] != "v" {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", "/tags/"+url.PathEscape(arn[:len(arn)-3]+"xyz"), nil, nil, nil)); e.Status != 404 {
		t.Fatalf("tags of no detector: %v", e)
	}
	if err := s.Admin.JSON(ctx, "DELETE", "/workspaces/"+ws+"/anomalydetectors/"+spikyID, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		err := s.Admin.JSON(ctx, "GET", "/workspaces/"+ws+"/anomalydetectors/"+spikyID, nil, nil, nil)
		return err != nil && apiErr(t, err).Status == 404
	})
}
