package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/testenv"
)

// TestAWSCLIWorkspaceConfigurationLabelSets drives
// update-workspace-configuration --limits-per-label-set and
// describe-workspace-configuration with the AWS CLI v1 (the newest amp
// model): UPDATING then ACTIVE, the sets described back, bad input
// refused, and the limit enforced on remote_write and shown by `kansoku
// usage`.
func TestAWSCLIWorkspaceConfigurationLabelSets(t *testing.T) {
	s := startServer(t, "")
	c := cli{t: t, bin: awsV1(t), env: awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1"), url: s.URL}
	var ws struct{ WorkspaceID string }
	c.ok(&ws, "amp", "create-workspace", "--alias", "labelsets")
	c.ok(nil, "amp", "wait", "workspace-active", "--workspace-id", ws.WorkspaceID)
	id := ws.WorkspaceID

	type config struct {
		WorkspaceConfiguration struct {
			Status struct {
				StatusCode   string `json:"statusCode"`
				StatusReason string `json:"statusReason"`
			} `json:"status"`
			LimitsPerLabelSet []struct {
				LabelSet map[string]string `json:"labelSet"`
				Limits   struct {
					MaxSeries int64 `json:"maxSeries"`
				} `json:"limits"`
			} `json:"limitsPerLabelSet"`
			RetentionPeriodInDays int `json:"retentionPeriodInDays"`
		} `json:"workspaceConfiguration"`
	}
	var d config
	c.ok(&d, "amp", "describe-workspace-configuration", "--workspace-id", id)
	if d.WorkspaceConfiguration.Status.StatusCode != "ACTIVE" || len(d.WorkspaceConfiguration.LimitsPerLabelSet) != 0 || d.WorkspaceConfiguration.RetentionPeriodInDays != 150 {
		t.Fatalf("a new workspace's configuration: %+v", d)
	}

	var up struct {
		Status struct {
			StatusCode string `json:"statusCode"`
		} `json:"status"`
	}
	c.ok(&up, "amp", "update-workspace-configuration", "--workspace-id", id, "--limits-per-label-set",
		`[{"labelSet":{"team":"a","env":"prod"},"limits":{"maxSeries":2}},{"labelSet":{"team":"b"},"limits":{}}]`)
	if up.Status.StatusCode != "UPDATING" {
		t.Fatalf("update answered %+v, want UPDATING", up)
	}
	waitFor(t, 20*time.Second, "the configuration ACTIVE", func() bool {
		d = config{}
		c.ok(&d, "amp", "describe-workspace-configuration", "--workspace-id", id)
		return d.WorkspaceConfiguration.Status.StatusCode == "ACTIVE"
	})
	sets := d.WorkspaceConfiguration.LimitsPerLabelSet
	if len(sets) != 2 || sets[0].LabelSet["team"] != "a" || sets[0].LabelSet["env"] != "prod" || sets[0].Limits.MaxSeries != 2 ||
		sets[1].LabelSet["team"] != "b" || sets[1].Limits.MaxSeries != 0 || d.WorkspaceConfiguration.RetentionPeriodInDays != 150 {
		t.Fatalf("described back: %+v", d)
	}

	// Bad input the CLI sends and the server refuses.
	for name, arg := range map[string]string{
		"label name":         `[{"labelSet":{"bad-name":"x"},"limits":{"maxSeries":1}}]`,
		"blank value":        `[{"labelSet":{"team":"   "},"limits":{"maxSeries":1}}]`,
		"non-ASCII value":    `[{"labelSet":{"team":"é"},"limits":{"maxSeries":1}}]`,
		"metric name":        `[{"labelSet":{"__name__":"1up"},"limits":{"maxSeries":1}}]`,
		"empty label set":    `[{"labelSet":{},"limits":{"maxSeries":1}}]`,
		"the same set twice": `[{"labelSet":{"team":"a"},"limits":{"maxSeries":1}},{"labelSet":{"team":"a"},"limits":{"maxSeries":2}}]`,
	} {
		out := c.fails("ValidationException", "amp", "update-workspace-configuration", "--workspace-id", id, "--limits-per-label-set", arg)
		if !strings.Contains(out, "limitsPerLabelSet") {
			t.Errorf("%s: the error should name the member:\n%s", name, out)
		}
	}
	c.fails("ValidationException", "amp", "update-workspace-configuration", "--workspace-id", id)
	c.fails("ResourceNotFoundException", "amp", "update-workspace-configuration", "--workspace-id", "ws-missing", "--retention-period-in-days", "30")
	c.ok(&d, "amp", "describe-workspace-configuration", "--workspace-id", id)
	if len(d.WorkspaceConfiguration.LimitsPerLabelSet) != 2 || d.WorkspaceConfiguration.Status.StatusCode != "ACTIVE" {
		t.Fatalf("refused updates changed the configuration: %+v", d)
	}

	// Enforced: the set's third series is refused, other series are not.
	ctx := context.Background()
	req := &prompb.WriteRequest{}
	now := time.Now().UnixMilli()
	for i := 0; i < 3; i++ {
		for _, team := range []string{"a", "c"} {
			req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
				Labels:  []prompb.Label{{Name: "__name__", Value: "m"}, {Name: "env", Value: "prod"}, {Name: "i", Value: fmt.Sprint(i)}, {Name: "team", Value: team}},
				Samples: []prompb.Sample{{Timestamp: now, Value: 1}},
			})
		}
	}
	code, body, err := testenv.RemoteWrite(ctx, s.Admin, id, req)
	if err != nil || code != 400 || !strings.Contains(body, "per-labelset series limit of 2 exceeded") || !strings.Contains(body, "user=") {
		t.Fatalf("remote_write over the set's limit: %d %s %v", code, body, err)
	}
	out, rc := s.kansoku(t, "usage", id)
	if rc != 0 || !strings.Contains(out, "per_labelset_series_limit") || !strings.Contains(out, `{env="prod", team="a"} limit 2, 1 new series refused`) {
		t.Fatalf("kansoku usage:\n%s", out)
	}

	// Retention alone keeps the sets; an empty list removes them.
	c.ok(nil, "amp", "update-workspace-configuration", "--workspace-id", id, "--retention-period-in-days", "30")
	waitFor(t, 20*time.Second, "retention ACTIVE", func() bool {
		d = config{}
		c.ok(&d, "amp", "describe-workspace-configuration", "--workspace-id", id)
		return d.WorkspaceConfiguration.Status.StatusCode == "ACTIVE"
	})
	if d.WorkspaceConfiguration.RetentionPeriodInDays != 30 || len(d.WorkspaceConfiguration.LimitsPerLabelSet) != 2 {
		t.Fatalf("after retention: %+v", d)
	}
	c.ok(nil, "amp", "update-workspace-configuration", "--workspace-id", id, "--limits-per-label-set", "[]")
	waitFor(t, 20*time.Second, "sets removed", func() bool {
		d = config{}
		c.ok(&d, "amp", "describe-workspace-configuration", "--workspace-id", id)
		return d.WorkspaceConfiguration.Status.StatusCode == "ACTIVE" && len(d.WorkspaceConfiguration.LimitsPerLabelSet) == 0
	})
	if code, body, err := testenv.RemoteWrite(ctx, s.Admin, id, req); err != nil || code/100 != 2 {
		t.Fatalf("without sets: %d %s %v", code, body, err)
	}
}
