package app_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/testenv"
	"github.com/kansoku/kansoku/sim/awssim"
)

// The instances of TestScraperEC2Discovery's simulated account.
const (
	ec2Node     = "i-0000000000000node" // 127.0.0.1 in the scraper's subnet: the node exporter
	ec2Internal = "i-0000000000000intl" // 10.0.0.5 in the scraper's subnet: behind the firewall
	ec2Other    = "i-000000000000other" // 127.0.0.1 in another subnet
	ec2Untagged = "i-00000000000notag"  // 127.0.0.1 in the subnet, without the tag filtered on
	deniedRole  = "arn:aws:iam::123456789012:role/SomeoneElses"
)

func ec2World() *awssim.Scenario {
	in := func(id, ip, subnet string, tags awssim.Tags) awssim.Instance {
		return awssim.Instance{ID: id, Type: "m5.large", State: "running", AvailabilityZone: "us-east-1a", PrivateIP: ip,
			SubnetID: subnet, VPCID: "vpc-0123", ImageID: "ami-0abc", Tags: tags}
	}
	return &awssim.Scenario{
		Callers: []awssim.Caller{{AccountID: kansokuAWSAccount, Name: "kansoku", AccessKeyID: kansokuKeyID, SecretAccessKey: kansokuSecret}},
		Accounts: []awssim.Account{{
			ID: customerAccount,
			Roles: []awssim.Role{
				{Name: "KansokuIntegration", TrustedPrincipals: []string{kansokuAWSAccount}},
				// A role whose trust policy names another External ID
				// than its integration's: AssumeRole is denied.
				{Name: "SomeoneElses", TrustedPrincipals: []string{kansokuAWSAccount}, ExternalID: "not-kansokus",
					Policies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}]}`}},
			},
			Regions: map[string]*awssim.Region{"us-east-1": {Instances: []awssim.Instance{
				in(ec2Node, "127.0.0.1", "subnet-0aaa", awssim.Tags{"Name": "node-1", "scrape": "yes"}),
				in(ec2Internal, "10.0.0.5", "subnet-0aaa", awssim.Tags{"Name": "internal-1", "scrape": "yes"}),
				in(ec2Other, "127.0.0.1", "subnet-0bbb", awssim.Tags{"Name": "other-1", "scrape": "yes"}),
				in(ec2Untagged, "127.0.0.1", "subnet-0aaa", awssim.Tags{"Name": "untagged-1"}),
			}}},
		}},
	}
}

// scraperLogs returns the workspace log's scraper events as JSON.
func scraperLogs(t *testing.T, s *testenv.Server, ws string) string {
	t.Helper()
	var logs struct{ Events []map[string]any }
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+ws+"/logs", url.Values{"component": {"scraper"}}, nil, &logs); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(logs)
	return string(raw)
}

// TestScraperEC2Discovery: a scraper's ec2_sd_configs discover, through
// the role of an AWS integration of its workspace (assumed with the
// integration's External ID, against the AWS simulator), the tagged
// instances of the scraper's subnet only; the one at 127.0.0.1 is Debian's
// node exporter, scraped into the workspace with the __meta_ec2_* labels
// relabelled into its series, and the one at 10.0.0.5 is refused by the
// firewall. A role the integration cannot assume logs the error and
// discovers nothing; a role of no integration of the workspace, another
// workspace's integration, Prometheus' credential keys, and a caller not
// allowed to use the integration are refused at CreateScraper.
func TestScraperEC2Discovery(t *testing.T) {
	node := nodeExporter(t)
	_, port, _ := strings.Cut(node, ":")
	sim, simURL := startSimulator(t, ec2World())
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) {
		c.AWS.EndpointURL = simURL
		c.Scraper.AllowNetworks = []string{"127.0.0.0/8"}
	}})
	ws := s.CreateWorkspace(t, "ec2")
	e := &awsEnv{s: s, sim: sim, ws: ws}
	integ := e.create(t, map[string]any{"name": "shop", "services": []string{"ec2"}})
	if integ.RoleARN != roleARN {
		t.Fatalf("integration %+v", integ)
	}
	// __meta_ec2_availability_zone_id needs ec2:DescribeAvailabilityZones
	// beside the integration's permission policy.
	if err := sim.Update(func(sc *awssim.Scenario) {
		r := &sc.Accounts[0].Roles[0]
		r.Policies = append(r.Policies, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeAvailabilityZones","Resource":"*"}]}`)
	}); err != nil {
		t.Fatal(err)
	}
	// An integration of the same workspace whose role does not trust its
	// External ID.
	var denied integrationResp
	if err := s.Admin.JSON(ctx, "POST", "/admin/v1/aws/integrations", nil, map[string]any{"name": "denied", "awsAccountId": customerAccount,
		"workspaceId": ws, "regions": []string{"us-east-1"}, "services": []string{"ec2"}, "roleArn": deniedRole}, &denied); err != nil {
		t.Fatal(err)
	}

	source := map[string]any{"vpcConfiguration": map[string]any{"securityGroupIds": []string{"sg-1"}, "subnetIds": []string{"subnet-0aaa"}}}
	ec2Cfg := func(job, role string) string {
		return fmt.Sprintf(`global:
  scrape_interval: 30s
scrape_configs:
  - job_name: %s
    ec2_sd_configs:
      - role_arn: %s
        port: %s
        refresh_interval: 30s
        filters:
          - name: tag:scrape
            values: ['yes']
    relabel_configs:
      - source_labels: [__meta_ec2_instance_id]
        target_label: instance_id
      - action: labelmap
        regex: __meta_ec2_(.+)
        replacement: ec2_$1
`, job, role, port)
	}
	var c scraperCreated
	if err := s.Admin.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, ec2Cfg("ec2-node", roleARN), map[string]any{"source": source}), &c); err != nil {
		t.Fatal(err)
	}
	var bad scraperCreated
	if err := s.Admin.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, ec2Cfg("ec2-denied", deniedRole), map[string]any{"source": source}), &bad); err != nil {
		t.Fatal(err)
	}
	group := "arn:aws:logs:us-east-1:" + s.App.Info().Account.ID + ":log-group:/aps/scrapers:*"
	for _, id := range []string{c.ScraperID, bad.ScraperID} {
		waitScraper(t, s, id, "ACTIVE")
		if err := s.Admin.JSON(ctx, "PUT", "/scrapers/"+id+"/logging-configuration", nil, map[string]any{
			"loggingDestination": map[string]any{"cloudWatchLogs": map[string]any{"logGroupArn": group}},
			"scraperComponents":  []map[string]any{{"type": "SERVICE_DISCOVERY"}}}, nil); err != nil {
			t.Fatal(err)
		}
	}

	// The tagged instances of subnet-0aaa are the targets: the node
	// exporter is up, 10.0.0.5 is refused by the firewall.
	up := waitQuery(t, s, ws, `up{job="ec2-node"}`, 120*time.Second, func(r []map[string]string) bool {
		if len(r) != 2 {
			return false
		}
		for _, u := range r {
			if u["instance_id"] == ec2Node && u["__value__"] != "1" {
				return false
			}
		}
		return true
	})
	for _, u := range up {
		switch u["instance_id"] {
		case ec2Node:
			want := map[string]string{"__value__": "1", "instance": "127.0.0.1:" + port, "ec2_instance_id": ec2Node, "ec2_private_ip": "127.0.0.1",
				"ec2_private_dns_name": "ip-127-0-0-1.ec2.internal", "ec2_tag_Name": "node-1", "ec2_tag_scrape": "yes", "ec2_availability_zone": "us-east-1a",
				"ec2_region": "us-east-1", "ec2_owner_id": customerAccount, "ec2_vpc_id": "vpc-0123", "ec2_primary_subnet_id": "subnet-0aaa",
				"ec2_subnet_id": ",subnet-0aaa,", "ec2_instance_state": "running", "ec2_instance_type": "m5.large", "ec2_ami": "ami-0abc",
				"ec2_architecture": "x86_64"}
			for k, v := range want {
				if u[k] != v {
					t.Errorf("node exporter's up: %s = %q, want %q (%v)", k, u[k], v, u)
				}
			}
			if !strings.HasPrefix(u["ec2_availability_zone_id"], "use1-az") {
				t.Errorf("node exporter's up: no zone id: %v", u)
			}
		case ec2Internal:
			if u["__value__"] != "0" || u["instance"] != "10.0.0.5:"+port {
				t.Errorf("10.0.0.5 was scraped through the firewall: %v", u)
			}
		default:
			t.Errorf("an instance outside the subnet or the filter was discovered: %v", u)
		}
	}
	waitQuery(t, s, ws, fmt.Sprintf(`count(node_cpu_seconds_total{job="ec2-node",instance_id=%q}) > 0`, ec2Node), 30*time.Second,
		func(r []map[string]string) bool { return len(r) == 1 })
	for _, id := range []string{ec2Other, ec2Untagged} {
		if r := queryValues(t, s, ws, fmt.Sprintf(`{instance_id=%q}`, id)); len(r) != 0 {
			t.Fatalf("%s was scraped: %v", id, r)
		}
	}

	// The role that does not trust the integration's External ID: the
	// error is in the scraper's log, and nothing is discovered.
	for i := 0; ; i++ {
		logs := scraperLogs(t, s, ws)
		if strings.Contains(logs, "ec2 discovery failed") && strings.Contains(logs, bad.ScraperID) && strings.Contains(logs, "AccessDenied") {
			break
		}
		if i > 300 {
			t.Fatalf("no discovery error in the workspace log: %s", logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := queryValues(t, s, ws, `up{job="ec2-denied"}`); len(r) != 0 {
		t.Fatalf("a scraper whose role was denied has targets: %v", r)
	}
	logs := scraperLogs(t, s, ws)
	if !strings.Contains(logs, "ec2 discovery found instances") {
		t.Fatalf("no discovery event of the working scraper: %s", logs)
	}
	if strings.Contains(logs, kansokuSecret) || strings.Contains(logs, "ASIA") {
		t.Fatalf("credentials in the scraper's log: %s", logs)
	}

	// Refused at CreateScraper.
	other := s.CreateWorkspace(t, "other-tenant")
	for name, tc := range map[string]struct {
		ws, cfg, want string
	}{
		"role of no integration": {ws, ec2Cfg("j", "arn:aws:iam::123456789012:role/Unknown"), "is not the role of an AWS integration of workspace " + ws},
		"another workspace's":    {other, ec2Cfg("j", roleARN), "is not the role of an AWS integration of workspace " + other},
		"static credentials":     {ws, strings.Replace(ec2Cfg("j", roleARN), "        port:", "        access_key: AKIAX\n        port:", 1), "ec2_sd_configs[0]: access_key not allowed"},
		"endpoint":               {ws, strings.Replace(ec2Cfg("j", roleARN), "        port:", "        endpoint: http://169.254.169.254\n        port:", 1), "ec2_sd_configs[0]: endpoint not allowed"},
	} {
		err := s.Admin.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, tc.ws, tc.cfg, map[string]any{"source": source}), nil)
		if e := apiErr(t, err); e.Status != 400 || e.Type != "ValidationException" || !strings.Contains(e.Message, tc.want) {
			t.Errorf("%s: want ValidationException with %q, got %v", name, tc.want, e)
		}
	}
	// UpdateScraper too: moving the EC2 scraper to another workspace
	// leaves its integration behind.
	err := s.Admin.JSON(ctx, "PUT", "/scrapers/"+c.ScraperID, nil, map[string]any{"destination": map[string]any{"ampConfiguration": map[string]any{"workspaceArn": s.WorkspaceARN(other)}}}, nil)
	if e := apiErr(t, err); e.Status != 400 || !strings.Contains(e.Message, "is not the role of an AWS integration of workspace "+other) {
		t.Fatalf("update to another workspace: %v", e)
	}

	// A caller allowed to create scrapers and write into the workspace,
	// but not to use the integration, is refused; with
	// kansoku:PollAWSIntegration on it, allowed.
	policy := func(name string, actions ...string) string {
		doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{{"Effect": "Allow", "Action": actions, "Resource": "*"}}})
		return createPolicy(t, s, name, string(doc))
	}
	noIntegration := s.User(t, "no-integration", policy("create-write", "aps:CreateScraper", "aps:RemoteWrite"))
	err = noIntegration.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, ec2Cfg("j", roleARN), map[string]any{"source": source}), nil)
	if e := apiErr(t, err); e.Status != 403 || !strings.Contains(e.Message, "kansoku:PollAWSIntegration") {
		t.Fatalf("create without kansoku:PollAWSIntegration: %v", e)
	}
	narrow, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{
		{"Effect": "Allow", "Action": []string{"aps:CreateScraper", "aps:RemoteWrite"}, "Resource": "*"},
		{"Effect": "Allow", "Action": "kansoku:PollAWSIntegration", "Resource": "arn:aws:kansoku:*:*:awsintegration/" + integ.ID},
		{"Effect": "Allow", "Action": "kansoku:PollAWSIntegration", "Resource": s.WorkspaceARN(ws)},
	}})
	withIntegration := s.User(t, "with-integration", createPolicy(t, s, "create-write-poll", string(narrow)))
	if err := withIntegration.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, ec2Cfg("j", roleARN), map[string]any{"source": source}), nil); err != nil {
		t.Fatalf("create with kansoku:PollAWSIntegration on the integration: %v", err)
	}
	// UpdateScraper checks the integrations of the new configuration
	// too.
	updater := s.User(t, "updater", policy("update-write", "aps:UpdateScraper", "aps:RemoteWrite"))
	err = updater.JSON(ctx, "PUT", "/scrapers/"+c.ScraperID, nil, map[string]any{"scrapeConfiguration": map[string]any{
		"configurationBlob": base64.StdEncoding.EncodeToString([]byte(ec2Cfg("ec2-node-2", roleARN)))}}, nil)
	if e := apiErr(t, err); e.Status != 403 || !strings.Contains(e.Message, "kansoku:PollAWSIntegration") {
		t.Fatalf("update without kansoku:PollAWSIntegration: %v", e)
	}
	// The same user naming the other integration's role is refused.
	err = withIntegration.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, ec2Cfg("j", deniedRole), map[string]any{"source": source}), nil)
	if e := apiErr(t, err); e.Status != 403 || !strings.Contains(e.Message, "kansoku:PollAWSIntegration") {
		t.Fatalf("create naming an integration the caller may not use: %v", e)
	}
}
