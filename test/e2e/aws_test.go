package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/sim/awssim"
)

// TestAWSIntegrationCLI drives the AWS integration with the kansoku CLI
// against the real binary, with the AWS API simulator (in this process)
// standing in for AWS: create prints the External ID and the policies to
// paste, set-role validates, poll collects, hosts list and retire work.
func TestAWSIntegrationCLI(t *testing.T) {
	sim, simURL := startDemoAWS(t)
	// Polls only when the test says so (no scheduled poll racing it).
	s := startServer(t, "", "--aws.endpoint-url="+simURL, "--no-aws.poll")
	ws := createWorkspace(t, s.Admin, "aws-cli")

	out, code := s.kansoku(t, "aws", "create", "--name", "demo", "--account", "123456789012", "--workspace", ws,
		"--aws-region", "us-east-1", "--service", "ec2", "--service", "rds", "--service", "sqs", "--tag-filter", "env:prod")
	m := regexp.MustCompile(`integration (awsi-[0-9a-f]+)`).FindStringSubmatch(out)
	ext := regexp.MustCompile(`External ID: (kansoku-[0-9a-f]+)`).FindStringSubmatch(out)
	if code != 0 || m == nil || ext == nil || !strings.Contains(out, "status: PENDING") || !strings.Contains(out, `"sts:ExternalId": "`+ext[1]+`"`) ||
		!strings.Contains(out, `"arn:aws:iam::111111111111:root"`) || !strings.Contains(out, `"rds:DescribeDBInstances"`) {
		t.Fatalf("aws create: %d\n%s", code, out)
	}
	id := m[1]
	// The operator creates the role with the printed External ID.
	if err := sim.Update(func(sc *awssim.Scenario) { sc.Accounts[0].Roles[0].ExternalID = ext[1] }); err != nil {
		t.Fatal(err)
	}
	out, code = s.kansoku(t, "aws", "set-role", id, demoRole)
	if code != 0 || !strings.Contains(out, "status: ACTIVE") {
		t.Fatalf("aws set-role: %d\n%s", code, out)
	}
	out, code = s.kansoku(t, "aws", "poll", id)
	var poll struct {
		Report struct {
			Resources      int            `json:"resources"`
			Excluded       int            `json:"excluded"`
			SamplesWritten int            `json:"samplesWritten"`
			GetMetricData  int            `json:"getMetricDataCalls"`
			APICalls       map[string]int `json:"apiCalls"`
		} `json:"report"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &poll) != nil || poll.Report.SamplesWritten == 0 || poll.Report.Excluded == 0 ||
		poll.Report.GetMetricData != 3 || poll.Report.APICalls["CloudWatch:GetMetricData"] < 3 { // one call per period group (EC2 and Aurora volume IOPS 5m, RDS/SQS 1m, Aurora's daily backup storage); attempts may be retried
		t.Fatalf("aws poll: %d\n%s", code, out)
	}
	out, code = s.kansoku(t, "hosts", "list", "--workspace", ws, "--product", "ec2")
	if code != 0 || !strings.Contains(out, "web-1") || !strings.Contains(out, "standard") || strings.Contains(out, "old-bastion") {
		t.Fatalf("hosts list: %d\n%s", code, out)
	}
	hostID := regexp.MustCompile(`(h-[0-9a-z]+)\s+web-1\s`).FindStringSubmatch(out)
	if hostID == nil {
		t.Fatalf("no web-1 host id:\n%s", out)
	}
	out, code = s.kansoku(t, "hosts", "retire", hostID[1])
	if code != 0 || !strings.Contains(out, `"status": "retired"`) {
		t.Fatalf("hosts retire: %d\n%s", code, out)
	}
	if out, _ = s.kansoku(t, "hosts", "list", "--workspace", ws); strings.Contains(out, hostID[1]) {
		t.Fatalf("a retired host is listed:\n%s", out)
	}
	// The integration's metrics are queryable, with host_id.
	var r struct {
		Data struct {
			Result []map[string]any `json:"result"`
		} `json:"data"`
	}
	q := url.Values{"query": {`count(last_over_time(aws_ec2_cpuutilization_average{host_id!=""}[15m]))`}}
	if err := s.Admin.JSON(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/query", q, nil, &r); err != nil || len(r.Data.Result) != 1 {
		t.Fatalf("query: %+v %v", r, err)
	}
	// Deleting keeps the hosts.
	if _, code := s.kansoku(t, "aws", "delete", id); code != 0 {
		t.Fatal("aws delete failed")
	}
	if out, _ := s.kansoku(t, "hosts", "list", "--workspace", ws); !strings.Contains(out, "orders-db") {
		t.Fatalf("hosts gone with the integration:\n%s", out)
	}
}

// TestDemoMode: `kansoku server --demo` collects the simulated account's
// resources as hosts with metrics, and its rule alerts.
func TestDemoMode(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "--demo")
	waitFor(t, 30*time.Second, "the demo to be set up", func() bool { return strings.Contains(s.stdout.String(), "Demo: the simulated AWS account") })
	ws := regexp.MustCompile(`into the workspace (ws-[0-9a-f-]+)`).FindStringSubmatch(s.stdout.String())
	if ws == nil {
		t.Fatalf("demo output:\n%s", s.stdout.String())
	}
	// Every product of the AWS integration is in the demo account, and
	// is a host with samples.
	products := []string{"alb", "apigateway", "athena", "batch", "billing", "cloudfront", "codebuild", "connect", "docdb", "dynamodb", "ec2", "ecs",
		"efs", "elasticache", "elb", "es", "firehose", "kinesis", "lambda", "nlb", "rds", "redshift", "route53", "s3", "ses", "sqs", "states", "waf"}
	var out string
	waitFor(t, 60*time.Second, "demo hosts", func() bool {
		out, _ = s.kansoku(t, "hosts", "list", "--workspace", ws[1])
		return strings.Contains(out, "tokyo-web-1") && strings.Contains(out, "shop:web") && strings.Contains(out, "support-center")
	})
	for _, p := range products {
		if !regexp.MustCompile(`\s` + p + `\s+(standard|micro)\s`).MatchString(out) {
			t.Errorf("no %s host in the demo:\n%s", p, out)
		}
	}
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		} `json:"data"`
	}
	// Hosts are listed as soon as they are discovered; their samples follow
	// with each product's poll (every minute; the first poll of all 28
	// products can take longer than that under -race on a busy machine).
	q := url.Values{"query": {`count by (host_id) ({__name__=~"aws_.+", host_id!=""})`}}
	waitFor(t, 3*time.Minute, "samples from every product's hosts", func() bool {
		r.Data.Result = nil
		err := s.Admin.JSON(context.Background(), "GET", "/workspaces/"+ws[1]+"/api/v1/query", q, nil, &r)
		return err == nil && len(r.Data.Result) >= len(products)
	})
	waitFor(t, 2*time.Minute, "the demo alert", func() bool {
		var r struct {
			Data struct {
				Alerts []map[string]any `json:"alerts"`
			} `json:"data"`
		}
		err := s.Admin.JSON(context.Background(), "GET", "/workspaces/"+ws[1]+"/api/v1/alerts", nil, nil, &r)
		return err == nil && len(r.Data.Alerts) > 0
	})
}
