package app_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/awsint"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/hosts"
	"github.com/kansoku/kansoku/internal/testenv"
	"github.com/kansoku/kansoku/sim/awssim"
)

// Kansoku's own AWS identity in these tests (the standard credential chain
// reads it from the environment), and the customer account.
const (
	kansokuAWSAccount = "111111111111"
	kansokuKeyID      = "AKIAKANSOKUTEST00001"
	kansokuSecret     = "kansoku-test-secret"
	customerAccount   = "123456789012"
	roleARN           = "arn:aws:iam::123456789012:role/KansokuIntegration"
)

// world is the simulated customer account of these tests: every product,
// tags for the filters and role assignment, an Aurora cluster.
func world() *awssim.Scenario {
	return &awssim.Scenario{
		MetricDelay: 2 * time.Minute,
		Callers:     []awssim.Caller{{AccountID: kansokuAWSAccount, Name: "kansoku", AccessKeyID: kansokuKeyID, SecretAccessKey: kansokuSecret}},
		Accounts: []awssim.Account{{
			ID:    customerAccount,
			Roles: []awssim.Role{{Name: "KansokuIntegration", TrustedPrincipals: []string{kansokuAWSAccount}}},
			Users: []awssim.User{{Name: "legacy", AccessKeys: []awssim.AccessKey{{ID: "AKIACUSTOMERUSER0001", Secret: "user-secret"}}, Policies: []string{"AdministratorAccess"}}},
			Regions: map[string]*awssim.Region{"us-east-1": {
				Instances: []awssim.Instance{
					{ID: "i-0000000000000web1", Type: "m5.large", State: "running", AvailabilityZone: "us-east-1a", PrivateIP: "10.0.0.1",
						Tags: awssim.Tags{"Name": "web-1", "service": "foo", "kansoku-integration": "shop:web / shop:frontend / bad name:x"}},
					{ID: "i-0000000000000bat1", Type: "c6i.large", State: "stopped", AvailabilityZone: "us-east-1b", Tags: awssim.Tags{"Name": "batch-1", "service": "batch"}},
					{ID: "i-0000000000000new1", Type: "t3.micro", State: "running", AvailabilityZone: "us-east-1c"},
				},
				ClassicELBs:   []awssim.ClassicELB{{Name: "legacy-web", Scheme: "internet-facing", Tags: awssim.Tags{"service": "foo"}}},
				LoadBalancers: []awssim.LoadBalancerV2{{Name: "web-alb", Type: "application", State: "active", Tags: awssim.Tags{"service": "foo", "mackerel-integration": "shop:lb"}}, {Name: "tcp-nlb", Type: "network", State: "active"}},
				DBInstances: []awssim.DBInstance{
					{ID: "orders-db", Engine: "mysql", EngineVersion: "8.0.39", Class: "db.m6g.large", Status: "available", Tags: awssim.Tags{"service:role": "foo,bar"}},
					{ID: "aurora-1", Engine: "aurora-postgresql", Class: "db.r6g.large", Status: "available", Cluster: "aurora"},
				},
				DBClusters:      []awssim.DBCluster{{ID: "aurora", Engine: "aurora-postgresql", Status: "available"}},
				LambdaFunctions: []awssim.LambdaFunction{{Name: "resize", Runtime: "python3.12", MemorySize: 256, Timeout: 30, Tags: awssim.Tags{"service": "foo"}}},
				Queues:          []awssim.Queue{{Name: "jobs", Tags: awssim.Tags{"service": "bar"}}},
				Tables:          []awssim.Table{{Name: "sessions", Status: "ACTIVE"}},
			}},
		}},
	}
}

type awsEnv struct {
	s   *testenv.Server
	sim *awssim.Server
	ws  string
}

// startAWS starts the simulator and a server whose AWS integration talks to
// it with Kansoku's own credentials from the environment.
// startAWS starts a server whose AWS integrations poll only when the test
// says so: a scheduled poll would race the test's own (one poll per
// integration at a time) and read the simulator at the wall clock's time
// instead of the test's. TestAWSScheduledPoll covers the scheduler.
func startAWS(t *testing.T) *awsEnv {
	return startAWSWith(t, false)
}

func startAWSWith(t *testing.T, scheduled bool, via ...func(http.Handler) http.Handler) *awsEnv {
	sim, simURL := startSimulator(t, world(), via...)
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) {
		c.AWS.EndpointURL, c.AWS.Poll = simURL, scheduled
	}})
	return &awsEnv{s: s, sim: sim, ws: s.CreateWorkspace(t, "aws")}
}

// TestAWSScheduledPoll: with aws.poll on, the scheduler polls an
// integration once its role is set (its first poll is due at once), and a
// poll asked for while one runs is refused with a ConflictException rather
// than run twice at once.
func TestAWSScheduledPoll(t *testing.T) {
	// The gate, once shut, holds every AWS call and says when one waits.
	var shut atomic.Bool
	waiting, open := make(chan struct{}, 1), make(chan struct{})
	gate := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if shut.Load() {
				select {
				case waiting <- struct{}{}:
				default:
				}
				<-open
			}
			next.ServeHTTP(w, r)
		})
	}
	e := startAWSWith(t, true, gate)
	i := e.create(t, map[string]any{"name": "scheduled", "services": []string{"ec2", "sqs"}}, "ReadOnlyAccess")
	var got integrationResp
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if err := e.s.Admin.JSON(ctx, "GET", "/admin/v1/aws/integrations/"+i.ID, nil, nil, &got); err != nil {
			t.Fatal(err)
		}
		if got.Integration.LastPoll != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduler did not poll %s: %+v", i.ID, got.Integration)
		}
	}
	if rep := got.Integration.LastPoll; len(rep.Errors) > 0 || rep.Resources == 0 {
		t.Fatalf("scheduled poll: %+v", rep)
	}
	if hs := e.hosts(t, url.Values{"workspace": {e.ws}, "integration": {i.ID}}); len(hs) == 0 {
		t.Fatal("the scheduled poll registered no hosts")
	}
	// A poll while another runs: hold the simulator so that the first
	// stays in flight.
	shut.Store(true)
	var reopen sync.Once
	release := func() { reopen.Do(func() { shut.Store(false); close(open) }) }
	defer release()
	first := make(chan error, 1)
	go func() { _, err := e.s.App.AWS().Poll(ctx, i.ID, time.Now()); first <- err }()
	<-waiting
	// Were the second poll let in, it would wait at the gate too: open it
	// after a while so that the test fails rather than hangs.
	time.AfterFunc(10*time.Second, release)
	e2 := apiErr(t, e.s.Admin.JSON(ctx, "POST", "/admin/v1/aws/integrations/"+i.ID+"/poll", nil, nil, nil))
	release()
	if e2.Status != 409 || e2.Type != "ConflictException" || !strings.Contains(e2.Message, "is being polled") {
		t.Errorf("a second poll at once: %+v", e2)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}

// startSimulator serves the AWS simulator with scenario, and gives the
// process Kansoku's own AWS credentials (and no other source of them).
// Each of via wraps the simulator's handler.
func startSimulator(t *testing.T, scenario *awssim.Scenario, via ...func(http.Handler) http.Handler) (*awssim.Server, string) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", kansokuKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", kansokuSecret)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	sim := awssim.New(awssim.Options{})
	if err := sim.SetScenario(scenario); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = sim
	for _, w := range via {
		h = w(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

type integrationResp struct {
	Integration   awsint.Integration `json:"integration"`
	Policies      awsint.Policies    `json:"policies"`
	PoliciesError string             `json:"policiesError"`
}

// create registers an integration for the role, lets the "operator" put
// its External ID and the printed permission policy on the role, and sets
// the role.
func (e *awsEnv) create(t *testing.T, body map[string]any, rolePolicies ...string) awsint.Integration {
	t.Helper()
	body["awsAccountId"], body["workspaceId"] = customerAccount, e.ws
	if body["regions"] == nil {
		body["regions"] = []string{"us-east-1"}
	}
	var created integrationResp
	if err := e.s.Admin.JSON(ctx, "POST", "/admin/v1/aws/integrations", nil, body, &created); err != nil {
		t.Fatal(err)
	}
	i := created.Integration
	if i.Status != awsint.StatusPending || !strings.HasPrefix(i.ExternalID, "kansoku-") || created.Policies.KansokuAccountID != kansokuAWSAccount {
		t.Fatalf("new role integration: %s %+v (%s)", i.ID, created.Policies, created.PoliciesError)
	}
	perm, _ := json.Marshal(created.Policies.PermissionPolicy)
	if len(rolePolicies) == 0 {
		rolePolicies = []string{string(perm)}
	}
	e.setRole(t, i.ExternalID, rolePolicies...)
	var out integrationResp
	if err := e.s.Admin.JSON(ctx, "PATCH", "/admin/v1/aws/integrations/"+i.ID, nil, map[string]any{"roleArn": roleARN}, &out); err != nil {
		t.Fatal(err)
	}
	return out.Integration
}

func (e *awsEnv) setRole(t *testing.T, externalID string, policies ...string) {
	t.Helper()
	if err := e.sim.Update(func(sc *awssim.Scenario) {
		r := &sc.Accounts[0].Roles[0]
		r.ExternalID, r.Policies = externalID, policies
	}); err != nil {
		t.Fatal(err)
	}
}

func (e *awsEnv) poll(t *testing.T, id string, at time.Time) awsint.PollReport {
	t.Helper()
	e.sim.SetNow(func() time.Time { return at })
	rep, err := e.s.App.AWS().Poll(ctx, id, at)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func (e *awsEnv) hosts(t *testing.T, q url.Values) []hosts.Host {
	t.Helper()
	var out struct {
		Hosts []hosts.Host `json:"hosts"`
	}
	if err := e.s.Admin.JSON(ctx, "GET", "/admin/v1/hosts", q, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.Hosts
}

func byName(hs []hosts.Host) map[string]hosts.Host {
	out := map[string]hosts.Host{}
	for _, h := range hs {
		out[h.Name] = h
	}
	return out
}

// rawSamples returns the samples of one series in the last hour.
func rawSamples(t *testing.T, e *awsEnv, selector string, at time.Time) [][2]float64 {
	t.Helper()
	code, r := get(t, e.s.Admin, "/workspaces/"+e.ws+"/api/v1/query", url.Values{"query": {selector + "[1h]"}, "time": {fmt.Sprint(at.Unix())}})
	if code != 200 {
		t.Fatalf("query %s: %d %s", selector, code, r.Error)
	}
	var res []struct {
		Values [][2]any `json:"values"`
	}
	if err := json.Unmarshal(r.Data, &struct {
		Result *[]struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}{&res}); err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("%s: %d series", selector, len(res))
	}
	var out [][2]float64
	for _, v := range res[0].Values {
		var f float64
		fmt.Sscan(v[1].(string), &f)
		out = append(out, [2]float64{v[0].(float64), f})
	}
	return out
}

func TestAWSIntegrationCollectsAndBuildsHosts(t *testing.T) {
	e := startAWS(t)
	i := e.create(t, map[string]any{"name": "prod", "services": []string{"ec2", "elb", "alb", "nlb", "rds", "lambda", "sqs", "dynamodb"},
		"settings": map[string]any{"services": map[string]any{
			"ec2": map[string]any{"enabled": true, "autoAddNewMetrics": true, "autoRetire": true, "defaultRole": "infra:ec2"},
		}}})
	if i.Status != awsint.StatusActive {
		t.Fatalf("valid role: %s %s", i.Status, i.StatusReason)
	}

	// Three overlapping polls, minutes apart, 30 minutes ago: every point
	// once, none missing, across CloudWatch's reporting delay.
	t0 := time.Now().Add(-30 * time.Minute).Truncate(time.Minute).Add(17 * time.Second)
	e.sim.ResetCalls()
	r1 := e.poll(t, i.ID, t0)
	if len(r1.Errors) > 0 {
		t.Fatalf("poll errors: %v", r1.Errors)
	}
	r2 := e.poll(t, i.ID, t0.Add(3*time.Minute))
	r3 := e.poll(t, i.ID, t0.Add(9*time.Minute))

	// Hosts: one per live resource (the terminated instance is none).
	hs := byName(e.hosts(t, url.Values{"workspace": {e.ws}}))
	wantProducts := map[string]string{"web-1": "ec2", "batch-1": "ec2", "i-0000000000000new1": "ec2", "legacy-web": "elb", "web-alb": "alb",
		"tcp-nlb": "nlb", "orders-db": "rds", "aurora-1": "rds", "aurora": "rds", "resize": "lambda", "jobs": "sqs", "sessions": "dynamodb"}
	if len(hs) != len(wantProducts) {
		t.Fatalf("hosts: %v", hs)
	}
	for name, product := range wantProducts {
		h, ok := hs[name]
		if !ok || h.Product != product {
			t.Errorf("host %s: %+v", name, h)
		}
		if (product == "ec2") != (h.Kind == "standard") {
			t.Errorf("host %s kind %s", name, h.Kind)
		}
	}
	web := hs["web-1"]
	if fmt.Sprint(web.Roles) != "[shop:web shop:frontend]" || web.Status != "working" || web.Metadata["instance_type"] != "m5.large" ||
		!slices.Contains(web.Identifiers, "i-0000000000000web1") {
		t.Errorf("web-1 (role tag overrides the default role, invalid entry skipped): %+v", web)
	}
	if fmt.Sprint(hs["i-0000000000000new1"].Roles) != "[infra:ec2]" || hs["batch-1"].Status != "poweroff" {
		t.Errorf("default role / poweroff: %+v %+v", hs["i-0000000000000new1"], hs["batch-1"])
	}
	if fmt.Sprint(hs["web-alb"].Roles) != "[shop:lb]" {
		t.Errorf("mackerel-integration tag: %+v", hs["web-alb"])
	}
	var roles struct{ Roles []string }
	if err := e.s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+e.ws+"/roles", nil, nil, &roles); err != nil || fmt.Sprint(roles.Roles) != "[infra:ec2 shop:frontend shop:lb shop:web]" {
		t.Errorf("service:roles created: %v %v", roles.Roles, err)
	}

	// Metrics: YACE's names and labels plus host_id, CloudWatch's values.
	at := t0.Add(9 * time.Minute)
	sel := fmt.Sprintf(`aws_sqs_number_of_messages_sent_sum{host_id=%q,dimension_QueueName="jobs",region="us-east-1",account_id=%q,name="arn:aws:sqs:us-east-1:%s:jobs"}`,
		hs["jobs"].ID, customerAccount, customerAccount)
	samples := rawSamples(t, e, sel, at)
	// Minute periods from (first poll's end - 10m backfill) to the last
	// poll's end; each period final 3 minutes after it ended.
	first := t0.Add(-3 * time.Minute).Truncate(time.Minute).Add(-10 * time.Minute)
	last := at.Add(-3 * time.Minute).Truncate(time.Minute).Add(-time.Minute)
	if n := int(last.Sub(first)/time.Minute) + 1; len(samples) != n {
		t.Fatalf("%d samples, want %d (no gap, no duplicate): %v", len(samples), n, samples)
	}
	for k, sm := range samples {
		ts := first.Add(time.Duration(k) * time.Minute)
		want := awssim.MetricValue("AWS/SQS", "NumberOfMessagesSent", map[string]string{"QueueName": "jobs"}, "Sum", ts, time.Minute)
		if sm[0] != float64(ts.Unix()) || math.Abs(sm[1]-want) > 1e-9 {
			t.Fatalf("sample %d: %v, want %v @ %d", k, sm, want, ts.Unix())
		}
	}
	// Written once: the samples stored are exactly the samples the polls wrote.
	code, r := get(t, e.s.Admin, "/workspaces/"+e.ws+"/api/v1/query", url.Values{"query": {`{__name__=~"aws_.+"}[1h]`}, "time": {fmt.Sprint(at.Unix())}})
	var stored struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	_ = json.Unmarshal(r.Data, &stored)
	n := 0
	for _, series := range stored.Result {
		n += len(series.Values)
	}
	if written := r1.SamplesWritten + r2.SamplesWritten + r3.SamplesWritten; code != 200 || n != written || r2.SamplesWritten == 0 {
		t.Fatalf("stored %d samples, the polls wrote %d+%d+%d", n, r1.SamplesWritten, r2.SamplesWritten, r3.SamplesWritten)
	}

	// EC2's basic monitoring: 5-minute periods.
	ec2Samples := rawSamples(t, e, fmt.Sprintf(`aws_ec2_cpuutilization_average{host_id=%q}`, web.ID), at)
	for k := 1; k < len(ec2Samples); k++ {
		if ec2Samples[k][0]-ec2Samples[k-1][0] != 300 {
			t.Fatalf("EC2 samples not 5 minutes apart: %v", ec2Samples)
		}
	}
	if len(ec2Samples) < 3 {
		t.Fatalf("EC2 samples: %v", ec2Samples)
	}

	// Batching: at most ceil(queries/500) GetMetricData calls per region
	// and period group (1 minute, 5 minutes, Aurora's daily backup
	// storage); every call is counted, per integration and action.
	if r3.MetricsRequested == 0 || r3.MetricsRequested > 3*500 || r3.GetMetricDataCalls > 3 || r3.APICalls["CloudWatch:GetMetricData"] != r3.GetMetricDataCalls {
		t.Errorf("third poll: %+v", r3)
	}
	if r1.APICalls["EC2:DescribeInstances"] != 1 || r1.APICalls["EC2:CreateInternetGateway"] != 1 || r1.APICalls["Resource Groups Tagging API:GetResources"] != 1 {
		t.Errorf("first poll's calls: %v", r1.APICalls)
	}
	if r1.EstimatedCostUSD <= 0 || r1.Resources != len(wantProducts) {
		t.Errorf("report: %+v", r1)
	}
	resp, body, err := e.s.Admin.Raw(ctx, "GET", "/metrics", nil, "", nil, nil)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), `kansoku_aws_api_calls_total{action="GetMetricData",integration="`+i.ID+`",result="ok",service="CloudWatch"}`) {
		t.Errorf("/metrics lacks the API call counter")
	}
	// Only the actions of Mackerel's policies (and tag:GetResources) were
	// used, each allowed.
	seen := map[string]bool{}
	for _, c := range e.sim.Calls() {
		if c.ErrorCode != "" && c.Action != "CreateInternetGateway" {
			t.Errorf("call refused: %+v", c)
		}
		seen[c.Service+":"+c.Action] = true
	}
	var names []string
	for k := range seen {
		names = append(names, k)
	}
	sort.Strings(names)
	if want := "dynamodb:ListTables ec2:CreateInternetGateway ec2:DescribeInstances elasticloadbalancing:DescribeLoadBalancers lambda:ListFunctions monitoring:GetMetricData monitoring:ListMetrics rds:DescribeDBClusters rds:DescribeDBInstances sqs:ListQueues sts:AssumeRole tagging:GetResources"; strings.Join(names, " ") != want {
		t.Errorf("AWS calls:\n%s\nwant\n%s", strings.Join(names, " "), want)
	}

	// custom_identifier: a series naming the RDS endpoint attaches to its host.
	db := hs["orders-db"]
	push(t, e.s.Admin, e.ws, sample(time.Now(), 42, "__name__", "mysql_threads_running", "custom_identifier", db.Metadata["endpoint"]))
	code, r = get(t, e.s.Admin, "/workspaces/"+e.ws+"/api/v1/query", url.Values{"query": {fmt.Sprintf(`mysql_threads_running{host_id=%q}`, db.ID)}})
	if code != 200 || !strings.Contains(string(r.Data), `"42"`) {
		t.Errorf("custom_identifier series: %d %s", code, r.Data)
	}
}

func (e *awsEnv) get(t *testing.T, id string) awsint.Integration {
	t.Helper()
	var out integrationResp
	if err := e.s.Admin.JSON(ctx, "GET", "/admin/v1/aws/integrations/"+id, nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.Integration
}

func (e *awsEnv) validate(t *testing.T, id string) awsint.Integration {
	t.Helper()
	var out integrationResp
	if err := e.s.Admin.JSON(ctx, "POST", "/admin/v1/aws/integrations/"+id+"/validate", nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.Integration
}

// TestAWSIntegrationSetupErrors: each way the setup can be wrong is named
// in the integration's status.
func TestAWSIntegrationSetupErrors(t *testing.T) {
	e := startAWS(t)
	perm := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeInstances","cloudwatch:GetMetricData","cloudwatch:ListMetrics","tag:GetResources"],"Resource":"*"}]}`
	i := e.create(t, map[string]any{"name": "setup", "services": []string{"ec2", "rds"}}, perm)
	// The role lacks rds:Describe*.
	if i.Status != awsint.StatusError || !strings.Contains(i.StatusReason, "missing permission: rds:DescribeDBInstances, rds:DescribeDBClusters (for RDS)") {
		t.Fatalf("missing permission: %s %s", i.Status, i.StatusReason)
	}
	// Wrong External ID in the trust policy.
	e.setRole(t, "kansoku-some-other-id", perm)
	i = e.validate(t, i.ID)
	if i.Status != awsint.StatusError || !strings.Contains(i.StatusReason, "AssumeRole on "+roleARN+" was denied") ||
		!strings.Contains(i.StatusReason, `sts:ExternalId = "`+i.ExternalID+`"`) || !strings.Contains(i.StatusReason, "arn:aws:iam::111111111111:root") {
		t.Fatalf("wrong External ID: %s", i.StatusReason)
	}
	// The role does not trust Kansoku's account.
	if err := e.sim.Update(func(sc *awssim.Scenario) {
		r := &sc.Accounts[0].Roles[0]
		r.ExternalID, r.TrustedPrincipals = i.ExternalID, []string{"222222222222"}
	}); err != nil {
		t.Fatal(err)
	}
	if i = e.validate(t, i.ID); i.Status != awsint.StatusError || !strings.Contains(i.StatusReason, "does not trust Kansoku's account or its External ID differs") {
		t.Fatalf("untrusted: %s", i.StatusReason)
	}
	// Trusted, but without requiring the External ID (confused deputy).
	if err := e.sim.Update(func(sc *awssim.Scenario) {
		r := &sc.Accounts[0].Roles[0]
		r.ExternalID, r.TrustedPrincipals = "", []string{kansokuAWSAccount}
	}); err != nil {
		t.Fatal(err)
	}
	if i = e.validate(t, i.ID); i.Status != awsint.StatusError || !strings.Contains(i.StatusReason, "can be assumed without the External ID") {
		t.Fatalf("no External ID required: %s", i.StatusReason)
	}
	// Over-privileged: collection stops, nothing is written.
	e.setRole(t, i.ExternalID, "AdministratorAccess")
	if i = e.validate(t, i.ID); i.Status != awsint.StatusOverPrivileged || !strings.Contains(i.StatusReason, "ec2:CreateInternetGateway") {
		t.Fatalf("over-privileged: %s %s", i.Status, i.StatusReason)
	}
	rep := e.poll(t, i.ID, time.Now())
	if rep.SamplesWritten != 0 || rep.Resources != 0 || e.get(t, i.ID).Status != awsint.StatusOverPrivileged {
		t.Fatalf("an over-privileged integration collected: %+v", rep)
	}
	// Fixed: the next poll collects again.
	e.setRole(t, i.ExternalID, "AmazonEC2ReadOnlyAccess", "AmazonRDSReadOnlyAccess", "CloudWatchReadOnlyAccess",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"tag:GetResources","Resource":"*"}]}`)
	rep = e.poll(t, i.ID, time.Now())
	if got := e.get(t, i.ID); got.Status != awsint.StatusActive || rep.SamplesWritten == 0 {
		t.Fatalf("after the fix: %s %s %+v", got.Status, got.StatusReason, rep)
	}
	// Widened again later: the periodic check stops collection.
	e.setRole(t, i.ExternalID, "PowerUserAccess")
	e.poll(t, i.ID, time.Now())
	if got := e.get(t, i.ID); got.Status != awsint.StatusOverPrivileged {
		t.Fatalf("widened role: %s", got.Status)
	}

	// Access keys (discouraged): an over-privileged user is refused too, and
	// the secret is never shown again.
	var out integrationResp
	err := e.s.Admin.JSON(ctx, "POST", "/admin/v1/aws/integrations", nil, map[string]any{"name": "keys", "awsAccountId": customerAccount, "workspaceId": e.ws,
		"regions": []string{"us-east-1"}, "services": []string{"ec2"}, "accessKeyId": "AKIACUSTOMERUSER0001", "secretAccessKey": "user-secret"}, &out)
	if err != nil || out.Integration.Status != awsint.StatusOverPrivileged || out.Integration.AuthMode != awsint.AuthKeys {
		t.Fatalf("keys: %+v %v", out.Integration, err)
	}
	raw, _ := json.Marshal(out)
	if strings.Contains(string(raw), "user-secret") {
		t.Fatal("the secret access key was echoed")
	}
	// Bad input is refused with field errors.
	for name, body := range map[string]map[string]any{
		"bad account":     {"name": "x", "awsAccountId": "12", "workspaceId": e.ws, "regions": []string{"us-east-1"}, "services": []string{"ec2"}},
		"unknown service": {"name": "x", "awsAccountId": customerAccount, "workspaceId": e.ws, "regions": []string{"us-east-1"}, "services": []string{"s4"}},
		"bad region":      {"name": "x", "awsAccountId": customerAccount, "workspaceId": e.ws, "regions": []string{"mars-1"}, "services": []string{"ec2"}},
		"role elsewhere":  {"name": "x", "awsAccountId": customerAccount, "workspaceId": e.ws, "regions": []string{"us-east-1"}, "services": []string{"ec2"}, "roleArn": "arn:aws:iam::999999999999:role/R"},
		"bad tag filter":  {"name": "x", "awsAccountId": customerAccount, "workspaceId": e.ws, "settings": map[string]any{"regions": []string{"us-east-1"}, "tagFilter": `"unclosed`, "services": map[string]any{"ec2": map[string]any{"enabled": true}}}},
		"unknown field":   {"name": "x", "awsAccountId": customerAccount, "workspaceId": e.ws, "regions": []string{"us-east-1"}, "services": []string{"ec2"}, "externalId": "mine"},
	} {
		if e := apiErr(t, e.s.Admin.JSON(ctx, "POST", "/admin/v1/aws/integrations", nil, body, nil)); e.Status != 400 {
			t.Errorf("%s: %+v", name, e)
		}
	}
}

// TestAWSTagFiltersAndMetricSelection: resources outside the tag filter
// (Mackerel's syntax, with quoting) get no metric requested; only chosen metrics
// are requested; "add new metrics automatically" picks up a metric AWS
// adds, and off it does not.
func TestAWSTagFiltersAndMetricSelection(t *testing.T) {
	e := startAWS(t)
	i := e.create(t, map[string]any{"name": "filtered", "settings": map[string]any{
		"regions":   []string{"us-east-1"},
		"tagFilter": `service:foo, "service:role": "foo,bar"`,
		"services": map[string]any{
			"ec2":    map[string]any{"enabled": true, "autoAddNewMetrics": false, "includedMetrics": []string{"aws_ec2_cpuutilization_average"}},
			"rds":    map[string]any{"enabled": true, "autoAddNewMetrics": true, "excludedMetrics": []string{"aws_rds_swap_usage_average"}},
			"sqs":    map[string]any{"enabled": true, "autoAddNewMetrics": true},
			"lambda": map[string]any{"enabled": true, "autoAddNewMetrics": false},
		}}}, "ReadOnlyAccess")
	if i.Status != awsint.StatusActive {
		t.Fatalf("%s %s", i.Status, i.StatusReason)
	}
	// AWS adds a metric to EC2 (collection off: not requested) and to Lambda
	// (off) and RDS (on: collected).
	if err := e.sim.Update(func(sc *awssim.Scenario) {
		sc.Accounts[0].Regions["us-east-1"].ExtraMetrics = []awssim.ExtraMetric{{Namespace: "AWS/EC2", Name: "MetadataNoToken"},
			{Namespace: "AWS/RDS", Name: "NewRDSMetric"}, {Namespace: "AWS/Lambda", Name: "AsyncEventAge"}}
	}); err != nil {
		t.Fatal(err)
	}
	e.sim.ResetCalls()
	rep := e.poll(t, i.ID, time.Now().Add(-20*time.Minute))
	if len(rep.Errors) > 0 {
		t.Fatal(rep.Errors)
	}
	requested := map[string]map[string]bool{} // dimension value -> metric/stat
	for _, c := range e.sim.Calls() {
		for _, q := range c.MetricQueries {
			for _, v := range q.Dimensions {
				if requested[v] == nil {
					requested[v] = map[string]bool{}
				}
				requested[v][q.MetricName+"/"+q.Stat] = true
			}
		}
	}
	// Tag filter: web-1 and the ALB (service:foo), orders-db ("service:role"
	// = "foo,bar" quoted), resize (service:foo); not batch-1, jobs (bar) or
	// untagged resources.
	for _, in := range []string{"i-0000000000000web1", "orders-db", "resize"} {
		if len(requested[in]) == 0 {
			t.Errorf("%s matches the filter but nothing was requested", in)
		}
	}
	for _, out := range []string{"i-0000000000000bat1", "i-0000000000000new1", "jobs", "aurora", "aurora-1"} {
		if len(requested[out]) != 0 {
			t.Errorf("%s is filtered out but %v was requested", out, requested[out])
		}
	}
	if got := requested["i-0000000000000web1"]; len(got) != 1 || !got["CPUUtilization/Average"] {
		t.Errorf("EC2 with one chosen metric: %v", got)
	}
	if got := requested["orders-db"]; !got["NewRDSMetric/Average"] || got["SwapUsage/Average"] || !got["CPUUtilization/Average"] {
		t.Errorf("RDS with auto-add, SwapUsage excluded: %v", got)
	}
	if got := requested["resize"]; got["AsyncEventAge/Average"] || !got["Invocations/Sum"] {
		t.Errorf("Lambda without auto-add: %v", got)
	}
	// Filtered resources are no hosts (Mackerel registers only matching
	// resources).
	hs := byName(e.hosts(t, url.Values{"workspace": {e.ws}, "integration": {i.ID}}))
	if h, ok := hs["batch-1"]; ok {
		t.Errorf("batch-1 is excluded but a host: %+v", h)
	}
	if rep.Excluded == 0 || rep.Resources-rep.Excluded != len(hs) {
		t.Errorf("report: %+v, %d hosts", rep, len(hs))
	}
	code, r := get(t, e.s.Admin, "/workspaces/"+e.ws+"/api/v1/query", url.Values{"query": {`count(aws_rds_new_rdsmetric_average)`}, "time": {fmt.Sprint(time.Now().Add(-22 * time.Minute).Unix())}})
	if code != 200 || !strings.Contains(string(r.Data), `"1"`) {
		t.Errorf("the auto-added metric: %d %s", code, r.Data)
	}
}

// TestAWSAutoRetirement: a deleted resource's host is retired, except with
// the exceptions Mackerel documents ("Configure automatic retirement",
// https://mackerel.io/docs/entry/integrations/aws): excluded by the tag filter, service disabled,
// integration deleted; judged once at detection; any one integration is
// enough.
func TestAWSAutoRetirement(t *testing.T) {
	e := startAWS(t)
	services := map[string]any{}
	for _, k := range []string{"ec2", "elb", "sqs", "dynamodb", "lambda"} {
		services[k] = map[string]any{"enabled": true, "autoAddNewMetrics": true, "autoRetire": true}
	}
	services["dynamodb"] = map[string]any{"enabled": true, "autoAddNewMetrics": true, "autoRetire": false}
	if err := e.sim.Update(func(sc *awssim.Scenario) {
		sc.Accounts[0].Regions["us-east-1"].Tables[0].Tags = awssim.Tags{"service": "bar"}
	}); err != nil {
		t.Fatal(err)
	}
	// First without a tag filter: every resource is a host.
	a := e.create(t, map[string]any{"name": "a", "settings": map[string]any{"regions": []string{"us-east-1"}, "services": services}}, "ReadOnlyAccess")
	now := time.Now()
	e.poll(t, a.ID, now.Add(-time.Minute))
	hs := byName(e.hosts(t, url.Values{"workspace": {e.ws}}))
	for _, n := range []string{"web-1", "batch-1", "legacy-web", "jobs", "sessions", "resize"} {
		if _, ok := hs[n]; !ok {
			t.Fatalf("no host %s: %v", n, hs)
		}
	}
	// Then the filter: batch-1 (service:batch) is excluded from now on and
	// stays a host, which its deletion will not retire.
	if err := e.s.Admin.JSON(ctx, "PATCH", "/admin/v1/aws/integrations/"+a.ID, nil, map[string]any{"settings": map[string]any{
		"regions": []string{"us-east-1"}, "services": services, "tagFilter": "service:foo, service:bar"}}, nil); err != nil {
		t.Fatal(err)
	}
	e.poll(t, a.ID, now)
	if h := byName(e.hosts(t, url.Values{"workspace": {e.ws}}))["batch-1"]; len(h.Integrations) != 1 || !h.Integrations[0].Excluded {
		t.Fatalf("batch-1 once filtered out: %+v", h)
	}
	// Disable Lambda, then delete everything the test is about.
	services["lambda"] = map[string]any{"enabled": false}
	if err := e.s.Admin.JSON(ctx, "PATCH", "/admin/v1/aws/integrations/"+a.ID, nil, map[string]any{"settings": map[string]any{
		"regions": []string{"us-east-1"}, "services": services, "tagFilter": "service:foo, service:bar"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Update(func(sc *awssim.Scenario) {
		rg := sc.Accounts[0].Regions["us-east-1"]
		rg.Instances[0].State = "terminated"                         // web-1 (service:foo): retired
		rg.Instances = append(rg.Instances[:1], rg.Instances[2:]...) // batch-1 (service:batch, excluded): kept
		rg.ClassicELBs = nil                                         // legacy-web (service:foo): retired
		rg.Tables = nil                                              // sessions: auto-retire off when detected: kept
		rg.LambdaFunctions = nil                                     // resize: service disabled: kept
	}); err != nil {
		t.Fatal(err)
	}
	rep := e.poll(t, a.ID, now.Add(time.Minute))
	after := byName(e.hosts(t, url.Values{"workspace": {e.ws}, "retired": {"true"}}))
	for name, retired := range map[string]bool{"web-1": true, "legacy-web": true, "batch-1": false, "sessions": false, "resize": false, "jobs": false} {
		if got := after[name].RetiredAt != nil; got != retired {
			t.Errorf("%s retired=%v, want %v (%+v)", name, got, retired, after[name])
		}
	}
	if rep.Retired != 2 || after["sessions"].DeletionDetectedAt == nil {
		t.Errorf("report %+v; sessions %+v", rep, after["sessions"])
	}
	// Judged once: turning auto-retire on for DynamoDB afterwards does not
	// retire "sessions".
	services["dynamodb"] = map[string]any{"enabled": true, "autoAddNewMetrics": true, "autoRetire": true}
	if err := e.s.Admin.JSON(ctx, "PATCH", "/admin/v1/aws/integrations/"+a.ID, nil, map[string]any{"settings": map[string]any{
		"regions": []string{"us-east-1"}, "services": services, "tagFilter": "service:foo, service:bar"}}, nil); err != nil {
		t.Fatal(err)
	}
	e.poll(t, a.ID, now.Add(2*time.Minute))
	if h := byName(e.hosts(t, url.Values{"workspace": {e.ws}})); h["sessions"].RetiredAt != nil || h["sessions"].ID == "" {
		t.Errorf("sessions was retired after the judgement: %+v", h["sessions"])
	}
	// Any one integration: b also links "jobs" (auto-retire on) while a's
	// SQS setting says off; b's detection retires it. Deleting integration a
	// first: its hosts stay.
	services["sqs"] = map[string]any{"enabled": true, "autoAddNewMetrics": true, "autoRetire": false}
	if err := e.s.Admin.JSON(ctx, "PATCH", "/admin/v1/aws/integrations/"+a.ID, nil, map[string]any{"settings": map[string]any{
		"regions": []string{"us-east-1"}, "services": services, "tagFilter": "service:foo, service:bar"}}, nil); err != nil {
		t.Fatal(err)
	}
	b := e.create(t, map[string]any{"name": "b", "settings": map[string]any{"regions": []string{"us-east-1"},
		"services": map[string]any{"sqs": map[string]any{"enabled": true, "autoAddNewMetrics": true, "autoRetire": true}}}}, "ReadOnlyAccess")
	e.poll(t, b.ID, now.Add(3*time.Minute))
	if err := e.sim.Update(func(sc *awssim.Scenario) { sc.Accounts[0].Regions["us-east-1"].Queues = nil }); err != nil {
		t.Fatal(err)
	}
	e.poll(t, a.ID, now.Add(4*time.Minute))
	if h := byName(e.hosts(t, url.Values{"workspace": {e.ws}})); h["jobs"].RetiredAt != nil {
		t.Fatalf("a (auto-retire off) retired jobs")
	}
	e.poll(t, b.ID, now.Add(5*time.Minute))
	if h := byName(e.hosts(t, url.Values{"workspace": {e.ws}, "retired": {"true"}})); h["jobs"].RetiredAt == nil {
		t.Fatalf("b (auto-retire on) did not retire jobs: %+v", h["jobs"])
	}
	if err := e.s.Admin.JSON(ctx, "DELETE", "/admin/v1/aws/integrations/"+a.ID, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if h := byName(e.hosts(t, url.Values{"workspace": {e.ws}})); h["batch-1"].ID == "" || h["resize"].ID == "" {
		t.Fatalf("deleting the integration retired its hosts: %v", h)
	}
	// Manual retirement.
	var out struct{ Host hosts.Host }
	id := byName(e.hosts(t, url.Values{"workspace": {e.ws}}))["resize"].ID
	if err := e.s.Admin.JSON(ctx, "POST", "/admin/v1/hosts/"+id+"/retire", nil, nil, &out); err != nil || out.Host.Status != "retired" {
		t.Fatalf("retire: %+v %v", out.Host, err)
	}
}
