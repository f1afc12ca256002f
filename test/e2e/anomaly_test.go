package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAnomalyDetectorsCLI drives every anomaly detector operation with the
// AWS CLI v1 (the newest model): create (with tags), describe, list (by
// alias, paged), put, tagging on the detector's ARN, delete, and bad input.
func TestAnomalyDetectorsCLI(t *testing.T) {
	s := startServer(t, "")
	c := cli{t: t, bin: awsV1(t), env: awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1"), url: s.URL}
	var ws struct{ WorkspaceId, Arn string }
	c.ok(&ws, "amp", "create-workspace", "--alias", "ad")
	c.ok(nil, "amp", "wait", "workspace-active", "--workspace-id", ws.WorkspaceId)
	id := ws.WorkspaceId
	fails := func(what, errText string, args ...string) {
		t.Helper()
		out, code := c.run(args...)
		if code == 0 || !strings.Contains(out, errText) {
			t.Fatalf("%s: want %s, got %d\n%s", what, errText, code, out)
		}
	}
	conf := `{"randomCutForest":{"query":"sum(rate(http_requests_total[5m]))"}}`
	fails("bad PromQL", "(ValidationException)", "amp", "create-anomaly-detector", "--workspace-id", id, "--alias", "x",
		"--configuration", `{"randomCutForest":{"query":"sum(rate(x[5m]"}}`)
	fails("interval under 30 s", "valid min value: 30", "amp", "create-anomaly-detector", "--workspace-id", id, "--alias", "x",
		"--configuration", conf, "--evaluation-interval-in-seconds", "10")
	fails("sample size under 256", "valid min value: 256", "amp", "create-anomaly-detector", "--workspace-id", id, "--alias", "x",
		"--configuration", `{"randomCutForest":{"query":"sum(up)","sampleSize":10}}`)
	// The CLI itself refuses two members of a union (the server's own
	// check is anomaly TestValidation).
	fails("both missing-data actions", "Can only set one of the following keys", "amp", "create-anomaly-detector", "--workspace-id", id, "--alias", "x",
		"--configuration", conf, "--missing-data-action", `{"markAsAnomaly":true,"skip":true}`)
	fails("reserved label", "(ValidationException)", "amp", "create-anomaly-detector", "--workspace-id", id, "--alias", "x",
		"--configuration", conf, "--labels", "anomaly_detector_id=x")
	fails("no workspace", "(ResourceNotFoundException)", "amp", "list-anomaly-detectors", "--workspace-id", "ws-00000000-0000-0000-0000-000000000000")
	fails("no detector", "(ResourceNotFoundException)", "amp", "describe-anomaly-detector", "--workspace-id", id, "--anomaly-detector-id", "ad-none")
	fails("bad detector id", "(ValidationException)", "amp", "delete-anomaly-detector", "--workspace-id", id, "--anomaly-detector-id", "ad-?")

	var created struct {
		AnomalyDetectorId, Arn string
		Status                 struct{ StatusCode string }
		Tags                   map[string]string
	}
	c.ok(&created, "amp", "create-anomaly-detector", "--workspace-id", id, "--alias", "requests", "--configuration", conf,
		"--evaluation-interval-in-seconds", "60", "--missing-data-action", `{"markAsAnomaly":true}`, "--labels", "team=web", "--tags", "env=test")
	if !strings.HasPrefix(created.AnomalyDetectorId, "ad-") || created.Status.StatusCode != "CREATING" || created.Tags["env"] != "test" ||
		created.Arn != strings.Replace(ws.Arn, ":workspace/", ":anomalydetector/", 1)+"/"+created.AnomalyDetectorId {
		t.Fatalf("create: %+v", created)
	}
	type description struct {
		AnomalyDetector struct {
			AnomalyDetectorId, Alias    string
			Status                      struct{ StatusCode string }
			EvaluationIntervalInSeconds int
			MissingDataAction           map[string]bool
			Configuration               struct {
				RandomCutForest struct {
					Query                   string
					ShingleSize, SampleSize int
				}
			}
			Labels, Tags map[string]string
		}
	}
	waitFor(t, 30*time.Second, "ACTIVE", func() bool {
		var d description
		c.ok(&d, "amp", "describe-anomaly-detector", "--workspace-id", id, "--anomaly-detector-id", created.AnomalyDetectorId)
		a := d.AnomalyDetector
		return a.Status.StatusCode == "ACTIVE" && a.Alias == "requests" && a.EvaluationIntervalInSeconds == 60 && a.MissingDataAction["markAsAnomaly"] &&
			a.Configuration.RandomCutForest.ShingleSize == 8 && a.Configuration.RandomCutForest.SampleSize == 256 && a.Labels["team"] == "web" && a.Tags["env"] == "test"
	})
	var second struct{ AnomalyDetectorId string }
	c.ok(&second, "amp", "create-anomaly-detector", "--workspace-id", id, "--alias", "errors", "--configuration", `{"randomCutForest":{"query":"sum(up)","shingleSize":16,"ignoreNearExpectedFromAbove":{"ratio":0.2}}}`)

	var list struct {
		AnomalyDetectors []struct{ AnomalyDetectorId, Alias string }
		NextToken        string
	}
	c.ok(&list, "amp", "list-anomaly-detectors", "--workspace-id", id, "--alias", "errors")
	if len(list.AnomalyDetectors) != 1 || list.AnomalyDetectors[0].AnomalyDetectorId != second.AnomalyDetectorId {
		t.Fatalf("list by alias: %+v", list)
	}
	out, code := c.run("amp", "list-anomaly-detectors", "--workspace-id", id, "--page-size", "1")
	if code != 0 || strings.Count(out, `"anomalyDetectorId"`) != 2 {
		t.Fatalf("paged list should walk both detectors: %d\n%s", code, out)
	}

	var put struct{ Status struct{ StatusCode string } }
	c.ok(&put, "amp", "put-anomaly-detector", "--workspace-id", id, "--anomaly-detector-id", created.AnomalyDetectorId,
		"--configuration", `{"randomCutForest":{"query":"sum(rate(http_requests_total[10m]))","shingleSize":4}}`, "--evaluation-interval-in-seconds", "120")
	if put.Status.StatusCode != "UPDATING" {
		t.Fatalf("put: %+v", put)
	}
	// (A Put while the detector is UPDATING is a ConflictException: anomaly
	// TestLifecycle; the reconcile that makes it ACTIVE is quicker than a
	// second CLI call.)
	waitFor(t, 30*time.Second, "ACTIVE after put", func() bool {
		var d description
		c.ok(&d, "amp", "describe-anomaly-detector", "--workspace-id", id, "--anomaly-detector-id", created.AnomalyDetectorId)
		return d.AnomalyDetector.Status.StatusCode == "ACTIVE" && d.AnomalyDetector.EvaluationIntervalInSeconds == 120 &&
			d.AnomalyDetector.Configuration.RandomCutForest.ShingleSize == 4
	})

	// Tagging on the detector's ARN.
	c.ok(nil, "amp", "tag-resource", "--resource-arn", created.Arn, "--tags", "owner=sre")
	var tags struct{ Tags map[string]string }
	c.ok(&tags, "amp", "list-tags-for-resource", "--resource-arn", created.Arn)
	if tags.Tags["owner"] != "sre" || tags.Tags["env"] != "test" {
		t.Fatalf("tags: %+v", tags)
	}
	c.ok(nil, "amp", "untag-resource", "--resource-arn", created.Arn, "--tag-keys", "env")
	fails("aws: tag", "(ValidationException)", "amp", "tag-resource", "--resource-arn", created.Arn, "--tags", "aws:x=y")

	c.ok(nil, "amp", "delete-anomaly-detector", "--workspace-id", id, "--anomaly-detector-id", created.AnomalyDetectorId)
	waitFor(t, 30*time.Second, "deleted", func() bool {
		o, code := c.run("amp", "describe-anomaly-detector", "--workspace-id", id, "--anomaly-detector-id", created.AnomalyDetectorId)
		return code != 0 && strings.Contains(o, "(ResourceNotFoundException)")
	})
	fails("tags of a deleted detector", "(ResourceNotFoundException)", "amp", "list-tags-for-resource", "--resource-arn", created.Arn)
	var after struct{ AnomalyDetectors []json.RawMessage }
	c.ok(&after, "amp", "list-anomaly-detectors", "--workspace-id", id)
	if len(after.AnomalyDetectors) != 1 {
		t.Fatalf("after delete: %+v", after)
	}
}
