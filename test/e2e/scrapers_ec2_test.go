package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/sim/awssim"
)

// TestAWSCLIScraperEC2Discovery: with the real binary, the kansoku CLI
// registers the simulated account (its role, External ID), and a scraper
// created with the AWS CLI v1 discovers the account's tagged instance in
// its subnet through that integration — Debian's node exporter at
// 127.0.0.1 — and scrapes it with the instance id relabelled into the
// series, while the instance in another subnet is not discovered.
func TestAWSCLIScraperEC2Discovery(t *testing.T) {
	bin := awsV1(t)
	node := startNodeExporter(t)
	_, port, _ := strings.Cut(node, ":")

	sim, simURL := startDemoAWS(t)
	if err := sim.Update(func(sc *awssim.Scenario) {
		r := sc.Accounts[0].Regions["us-east-1"]
		r.Instances = append(r.Instances,
			awssim.Instance{ID: "i-0e2e00000000000a1", PrivateIP: "127.0.0.1", SubnetID: "subnet-0e2e", VPCID: "vpc-0e2e", Tags: awssim.Tags{"scrape": "node"}},
			awssim.Instance{ID: "i-0e2e00000000000b1", PrivateIP: "127.0.0.1", SubnetID: "subnet-0other", VPCID: "vpc-0e2e", Tags: awssim.Tags{"scrape": "node"}})
	}); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--aws.endpoint-url="+simURL, "--no-aws.poll", "--scraper.allow-network", "127.0.0.0/8")
	ws := createWorkspace(t, s.Admin, "ec2-scraped")
	registerDemoAccount(t, s, sim, "demo", ws)
	const role = demoRole

	var desc struct {
		Workspace struct{ Arn string }
	}
	if err := s.Admin.JSON(context.Background(), "GET", "/workspaces/"+ws, nil, nil, &desc); err != nil || desc.Workspace.Arn == "" {
		t.Fatalf("describe workspace: %+v %v", desc, err)
	}
	env := awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1")
	cfg := fmt.Sprintf(`global:
  scrape_interval: 30s
scrape_configs:
  - job_name: ec2
    ec2_sd_configs:
      - role_arn: %s
        port: %s
        filters:
          - name: tag:scrape
            values: [node]
    relabel_configs:
      - source_labels: [__meta_ec2_instance_id]
        target_label: instance_id
`, role, port)
	b, _ := json.Marshal(map[string]string{"configurationBlob": cfg})
	out, code := run(t, env, bin, "amp", "create-scraper", "--endpoint-url", s.URL, "--output", "json", "--scrape-configuration", string(b),
		"--source", `{"vpcConfiguration":{"securityGroupIds":["sg-0123"],"subnetIds":["subnet-0e2e"]}}`,
		"--destination", fmt.Sprintf(`{"ampConfiguration":{"workspaceArn":%q}}`, desc.Workspace.Arn))
	if code != 0 || !strings.Contains(out, `"CREATING"`) {
		t.Fatalf("create-scraper: %d\n%s", code, out)
	}

	deadline := time.Now().Add(120 * time.Second)
	for {
		var r struct {
			Data struct {
				Result []struct {
					Metric map[string]string
					Value  []any
				}
			}
		}
		_, raw, err := s.Admin.Raw(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {`up{job="ec2"}`}}, "", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(raw, &r)
		if len(r.Data.Result) == 1 && r.Data.Result[0].Value[1] == "1" && r.Data.Result[0].Metric["instance_id"] == "i-0e2e00000000000a1" {
			break
		}
		if len(r.Data.Result) > 1 || time.Now().After(deadline) {
			t.Fatalf("up of the discovered instance: %s", raw)
		}
		time.Sleep(time.Second)
	}
	if _, raw, err := s.Admin.Raw(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {`node_load1{instance_id="i-0e2e00000000000a1"}`}}, "", nil, nil); err != nil || !strings.Contains(string(raw), `"job":"ec2"`) {
		t.Fatalf("node_load1: %s %v", raw, err)
	}
}
