package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/testenv"
)

// TestQueryLoggingCLI drives the query logging configuration operations
// with the AWS CLI v1 (the newest model), bad input included, and reads a
// logged query back with `kansoku logs --component query`.
func TestQueryLoggingCLI(t *testing.T) {
	s := startServer(t, "")
	c := cli{t: t, bin: awsV1(t), env: awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1"), url: s.URL}
	var ws struct{ WorkspaceId, Arn string }
	c.ok(&ws, "amp", "create-workspace", "--alias", "qlog")
	c.ok(nil, "amp", "wait", "workspace-active", "--workspace-id", ws.WorkspaceId)
	account := strings.Split(ws.Arn, ":")[4]
	group := "arn:aws:logs:us-east-1:" + account + ":log-group:/kansoku/queries:*"
	dest := func(arn string, threshold int) string {
		return fmt.Sprintf(`[{"cloudWatchLogs":{"logGroupArn":"%s"},"filters":{"qspThreshold":%d}}]`, arn, threshold)
	}
	fails := func(what, errType string, args ...string) {
		t.Helper()
		out, code := c.run(args...)
		if code == 0 || !strings.Contains(out, errType) {
			t.Fatalf("%s: want %s, got %d\n%s", what, errType, code, out)
		}
	}
	fails("describe of none", "ResourceNotFoundException", "amp", "describe-query-logging-configuration", "--workspace-id", ws.WorkspaceId)
	fails("bad log group", "ValidationException", "amp", "create-query-logging-configuration", "--workspace-id", ws.WorkspaceId,
		"--destinations", dest("arn:aws:logs:us-east-1:"+account+":log-group:/no-star", 1))
	fails("two destinations", "(ValidationException)", "amp", "create-query-logging-configuration", "--workspace-id", ws.WorkspaceId,
		"--destinations", "["+strings.Trim(dest(group, 1), "[]")+","+strings.Trim(dest(group, 1), "[]")+"]")
	fails("no workspace", "ResourceNotFoundException", "amp", "create-query-logging-configuration", "--workspace-id", "ws-00000000-0000-0000-0000-000000000000",
		"--destinations", dest(group, 1))
	fails("update of none", "ResourceNotFoundException", "amp", "update-query-logging-configuration", "--workspace-id", ws.WorkspaceId, "--destinations", dest(group, 1))
	fails("delete of none", "ResourceNotFoundException", "amp", "delete-query-logging-configuration", "--workspace-id", ws.WorkspaceId)

	var st struct{ Status struct{ StatusCode string } }
	c.ok(&st, "amp", "create-query-logging-configuration", "--workspace-id", ws.WorkspaceId, "--destinations", dest(group, 10))
	if st.Status.StatusCode != "CREATING" {
		t.Fatalf("create: %+v", st)
	}
	fails("second create", "ConflictException", "amp", "create-query-logging-configuration", "--workspace-id", ws.WorkspaceId, "--destinations", dest(group, 10))
	type described struct {
		QueryLoggingConfiguration struct {
			Status       struct{ StatusCode string }
			Workspace    string
			Destinations []struct {
				CloudWatchLogs struct{ LogGroupArn string }
				Filters        struct{ QspThreshold int64 }
			}
		}
	}
	waitFor(t, 30*time.Second, "ACTIVE", func() bool {
		var d described
		c.ok(&d, "amp", "describe-query-logging-configuration", "--workspace-id", ws.WorkspaceId)
		q := d.QueryLoggingConfiguration
		return q.Status.StatusCode == "ACTIVE" && q.Workspace == ws.WorkspaceId && len(q.Destinations) == 1 &&
			q.Destinations[0].CloudWatchLogs.LogGroupArn == group && q.Destinations[0].Filters.QspThreshold == 10
	})

	// A query processing more than 10 samples is logged.
	ctx := context.Background()
	now := time.Now().Truncate(time.Minute)
	ts := prompb.TimeSeries{Labels: testenv.Series("__name__", "e2e_qlog")}
	for m := 30; m >= 0; m-- {
		ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: now.Add(-time.Duration(m) * time.Minute).UnixMilli(), Value: float64(m)})
	}
	if code, body, err := testenv.RemoteWrite(ctx, s.Admin, ws.WorkspaceId, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts}}); err != nil || code != 200 {
		t.Fatalf("remote write: %d %s %v", code, body, err)
	}
	resp, body, err := s.Admin.Raw(ctx, "GET", "/workspaces/"+ws.WorkspaceId+"/api/v1/query_range", url.Values{"query": {"max(e2e_qlog)"},
		"start": {fmt.Sprint(now.Add(-30 * time.Minute).Unix())}, "end": {fmt.Sprint(now.Unix())}, "step": {"60"}}, "", nil, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("query: %v %s", err, body)
	}
	waitFor(t, 15*time.Second, "the query in `kansoku logs --component query`", func() bool {
		out, code := s.kansoku(t, "logs", ws.WorkspaceId, "--component", "query", "--json")
		return code == 0 && strings.Contains(out, `"query":"max(e2e_qlog)"`) && strings.Contains(out, `"qsp":"31"`) &&
			strings.Contains(out, `"caller":"arn:aws:iam::`+account+`:user/admin"`) && strings.Contains(out, `"logGroupArn":"`+group+`"`)
	})

	c.ok(&st, "amp", "update-query-logging-configuration", "--workspace-id", ws.WorkspaceId, "--destinations", dest(group, 1000), "--client-token", "u-1")
	if st.Status.StatusCode != "UPDATING" {
		t.Fatalf("update: %+v", st)
	}
	fails("negative threshold", "valid min value", "amp", "update-query-logging-configuration", "--workspace-id", ws.WorkspaceId, "--destinations", dest(group, -1))
	waitFor(t, 30*time.Second, "ACTIVE after update", func() bool {
		var d described
		c.ok(&d, "amp", "describe-query-logging-configuration", "--workspace-id", ws.WorkspaceId)
		return d.QueryLoggingConfiguration.Status.StatusCode == "ACTIVE" && d.QueryLoggingConfiguration.Destinations[0].Filters.QspThreshold == 1000
	})
	c.ok(nil, "amp", "delete-query-logging-configuration", "--workspace-id", ws.WorkspaceId)
	fails("describe after delete", "ResourceNotFoundException", "amp", "describe-query-logging-configuration", "--workspace-id", ws.WorkspaceId)

	// QSP in `kansoku usage`.
	out, code := s.kansoku(t, "usage", ws.WorkspaceId)
	if code != 0 || !strings.Contains(out, "querySamplesProcessed") {
		t.Fatalf("kansoku usage:\n%s", out)
	}
}
