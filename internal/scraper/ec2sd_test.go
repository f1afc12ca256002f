package scraper

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/awsint"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/secrets"
	"github.com/kansoku/kansoku/sim/awssim"
)

const (
	sdKansokuAccount = "111111111111"
	sdCustomer       = "123456789012"
	sdRole           = "arn:aws:iam::123456789012:role/Scrape"
)

type sdFixture struct {
	sim   *awssim.Server
	aws   *awsint.Service
	integ string

	mu   sync.Mutex
	logs []string
}

func (f *sdFixture) logf(level, msg string, fields map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf("%s %s %v", level, msg, fields))
}

func (f *sdFixture) lastLog() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.logs) == 0 {
		return ""
	}
	return f.logs[len(f.logs)-1]
}

// newSDFixture: the AWS simulator with instances in subnet-0aaa (n of
// them) and subnet-0bbb (one), and a real awsint.Service whose role
// integration of workspace ws-a assumes the role with its External ID.
func newSDFixture(t *testing.T, n int) *sdFixture {
	t.Helper()
	ctx := t.Context()
	var instances []awssim.Instance
	for i := 0; i < n; i++ {
		instances = append(instances, awssim.Instance{ID: fmt.Sprintf("i-%017d", i), PrivateIP: fmt.Sprintf("10.1.%d.%d", i/250, i%250+1),
			SubnetID: "subnet-0aaa", VPCID: "vpc-01", Tags: awssim.Tags{"team": "a"}})
	}
	instances = append(instances, awssim.Instance{ID: "i-0000000000000b001", PrivateIP: "10.2.0.1", SubnetID: "subnet-0bbb", VPCID: "vpc-01", Tags: awssim.Tags{"team": "a"}})
	sim := awssim.New(awssim.Options{})
	if err := sim.SetScenario(&awssim.Scenario{
		Callers: []awssim.Caller{{AccountID: sdKansokuAccount, Name: "kansoku", AccessKeyID: "AKIAKANSOKUSD0000001", SecretAccessKey: "sd-secret"}},
		Accounts: []awssim.Account{{ID: sdCustomer,
			Roles:   []awssim.Role{{Name: "Scrape", TrustedPrincipals: []string{sdKansokuAccount}, Policies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}]}`}}},
			Regions: map[string]*awssim.Region{"us-east-1": {Instances: instances}}}},
	}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	db, err := metastore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "kansoku.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now().UTC()
	ws := metastore.Workspace{ID: "ws-a", ARN: "arn:aws:aps:us-east-1:" + sdCustomer + ":workspace/ws-a", Status: metastore.WorkspaceActive, RetentionDays: 1, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	box, err := secrets.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	svc := awsint.New(awsint.Options{Store: db, Workspaces: oneWorkspace{ws}, Sealer: box, EndpointURL: ts.URL,
		BaseCredentials: credentials.NewStaticCredentialsProvider("AKIAKANSOKUSD0000001", "sd-secret", "")})
	i, err := svc.Create(ctx, awsint.CreateInput{Name: "sd", AWSAccountID: sdCustomer, WorkspaceID: "ws-a", Regions: []string{"us-east-1"}, Services: []string{"ec2"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Update(func(sc *awssim.Scenario) { sc.Accounts[0].Roles[0].ExternalID = i.ExternalID }); err != nil {
		t.Fatal(err)
	}
	role := sdRole
	if _, err := svc.Update(ctx, i.ID, awsint.UpdateInput{RoleARN: &role}); err != nil {
		t.Fatal(err)
	}
	return &sdFixture{sim: sim, aws: svc, integ: i.ID}
}

func (f *sdFixture) discoverer(subnets []string, cfg EC2SDConfig) *ec2Discoverer {
	env := newEC2Env(f.aws, "ws-a", subnets, 0, nil, f.logf)
	if err := cfg.check("test"); err != nil {
		panic(err)
	}
	return &ec2Discoverer{cfg: cfg, job: "j", env: env}
}

func targetIDs(ls []model.LabelSet) []string {
	var out []string
	for _, l := range ls {
		out = append(out, string(l[ec2InstanceID]))
	}
	slices.Sort(out)
	return out
}

// TestEC2DiscoveryBounds: discovery finds the scraper's subnets' instances
// only (a subnet-id filter of the configuration narrows them, never
// widens them), pages through DescribeInstances, and refuses, with the
// error logged, more instances or pages than a scraper takes; an
// OVER_PRIVILEGED or deleted integration is an error too.
func TestEC2DiscoveryBounds(t *testing.T) {
	f := newSDFixture(t, 12)
	ctx := context.Background()

	d := f.discoverer([]string{"subnet-0aaa"}, EC2SDConfig{RoleARN: sdRole, Port: 9100, Filters: []EC2Filter{{Name: "tag:team", Values: []string{"a"}}}})
	d.env.pageSize = 5
	tgs, err := d.refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tgs) != 1 || len(tgs[0].Targets) != 12 || slices.Contains(targetIDs(tgs[0].Targets), "i-0000000000000b001") {
		t.Fatalf("targets %v", tgs[0].Targets)
	}
	first := tgs[0].Targets[0]
	if first[model.AddressLabel] != "10.1.0.1:9100" || first[ec2PrimarySubnetID] != "subnet-0aaa" || first[ec2SubnetID] != ",subnet-0aaa," || first[ec2Region] != "us-east-1" {
		t.Fatalf("target %v", first)
	}
	if !strings.Contains(f.lastLog(), "ec2 discovery found instances") || !strings.Contains(f.lastLog(), "targets:12") {
		t.Fatalf("log %q", f.lastLog())
	}
	// The role may not call DescribeAvailabilityZones: the zone id is
	// empty, as in Prometheus; allowed, it is the zone's.
	if first[ec2AZ] != "us-east-1a" || first[ec2AZID] != "" {
		t.Fatalf("zone labels without ec2:DescribeAvailabilityZones: %v", first)
	}
	if err := f.sim.Update(func(sc *awssim.Scenario) {
		r := &sc.Accounts[0].Roles[0]
		r.Policies = append(r.Policies, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeAvailabilityZones","Resource":"*"}]}`)
	}); err != nil {
		t.Fatal(err)
	}
	if tgs, err = d.refresh(ctx); err != nil || !strings.HasPrefix(string(tgs[0].Targets[0][ec2AZID]), "use1-az") {
		t.Fatalf("zone id with ec2:DescribeAvailabilityZones: %v %v", tgs, err)
	}

	// The configuration's subnet-id filter names another subnet than the
	// scraper's: nothing (it cannot widen discovery).
	d = f.discoverer([]string{"subnet-0aaa"}, EC2SDConfig{RoleARN: sdRole, Filters: []EC2Filter{{Name: "subnet-id", Values: []string{"subnet-0bbb"}}}})
	if tgs, err := d.refresh(ctx); err != nil || len(tgs[0].Targets) != 0 {
		t.Fatalf("subnet filter outside the scraper's subnets: %v %v", tgs, err)
	}
	// ... and of two scraper subnets, it keeps the one it names.
	d = f.discoverer([]string{"subnet-0aaa", "subnet-0bbb"}, EC2SDConfig{RoleARN: sdRole, Filters: []EC2Filter{{Name: "subnet-id", Values: []string{"subnet-0bbb"}}}})
	if tgs, err := d.refresh(ctx); err != nil || !slices.Equal(targetIDs(tgs[0].Targets), []string{"i-0000000000000b001"}) {
		t.Fatalf("narrowing subnet filter: %v %v", tgs, err)
	}

	// More instances than the scraper may scrape (with its static
	// targets): an error, logged.
	d = f.discoverer([]string{"subnet-0aaa"}, EC2SDConfig{RoleARN: sdRole})
	d.env.maxTargets, d.env.static = 13, 2
	if _, err := d.refresh(ctx); !errors.Is(err, errEC2TooMany) || !strings.Contains(err.Error(), "more than 11 instances") {
		t.Fatalf("over the target bound: %v", err)
	}
	if l := f.lastLog(); !strings.HasPrefix(l, "ERROR ec2 discovery failed") || !strings.Contains(l, "more than 11 instances") {
		t.Fatalf("log %q", l)
	}
	// Two discoverers of one scraper share the bound.
	env := newEC2Env(f.aws, "ws-a", []string{"subnet-0aaa"}, 0, nil, f.logf)
	env.maxTargets = 20
	a := &ec2Discoverer{cfg: EC2SDConfig{RoleARN: sdRole, Port: 80, RefreshInterval: model.Duration(time.Minute)}, job: "a", env: env}
	b := &ec2Discoverer{cfg: EC2SDConfig{RoleARN: sdRole, Port: 81, RefreshInterval: model.Duration(time.Minute)}, job: "b", env: env}
	if _, err := a.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.refresh(ctx); !errors.Is(err, errEC2TooMany) {
		t.Fatalf("second discoverer over the shared bound: %v", err)
	}

	// More pages than allowed: an error.
	d = f.discoverer([]string{"subnet-0aaa"}, EC2SDConfig{RoleARN: sdRole})
	d.env.pageSize, d.env.maxPages = 5, 2
	if _, err := d.refresh(ctx); !errors.Is(err, errEC2TooMany) || !strings.Contains(err.Error(), "more than 2 pages") {
		t.Fatalf("over the page bound: %v", err)
	}

	// An integration whose role can change the account
	// (OVER_PRIVILEGED): not used, as for its polls.
	if err := f.sim.Update(func(sc *awssim.Scenario) {
		r := &sc.Accounts[0].Roles[0]
		r.Policies = append(r.Policies, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:CreateInternetGateway","Resource":"*"}]}`)
	}); err != nil {
		t.Fatal(err)
	}
	if i, err := f.aws.Validate(ctx, f.integ); err != nil || i.Status != awsint.StatusOverPrivileged {
		t.Fatalf("validate: %+v %v", i, err)
	}
	d = f.discoverer([]string{"subnet-0aaa"}, EC2SDConfig{RoleARN: sdRole})
	if _, err := d.refresh(ctx); err == nil || !strings.Contains(err.Error(), "OVER_PRIVILEGED") {
		t.Fatalf("over-privileged integration: %v", err)
	}

	// The integration deleted: an error naming the role.
	if err := f.aws.Delete(ctx, f.integ); err != nil {
		t.Fatal(err)
	}
	d = f.discoverer([]string{"subnet-0aaa"}, EC2SDConfig{RoleARN: sdRole})
	if _, err := d.refresh(ctx); !errors.Is(err, awsint.ErrNoRoleIntegration) {
		t.Fatalf("deleted integration: %v", err)
	}
	if l := f.lastLog(); !strings.Contains(l, "ec2 discovery failed") || !strings.Contains(l, sdRole) || strings.Contains(l, "sd-secret") {
		t.Fatalf("log %q", l)
	}
}

// TestScraperIntegrationLookup: EC2 discovery (by role) and EKS sources
// (by account) find their AWS integration the same way: one of the
// destination workspace's own, with a role; never one with access keys,
// never another workspace's.
func TestScraperIntegrationLookup(t *testing.T) {
	f := newSDFixture(t, 1)
	ctx := t.Context()
	if id, err := f.aws.RoleIntegration(ctx, "ws-a", sdRole); err != nil || id != f.integ {
		t.Fatalf("by role: %q %v", id, err)
	}
	if id, err := f.aws.AccountIntegration(ctx, "ws-a", sdCustomer); err != nil || id != f.integ {
		t.Fatalf("by account: %q %v", id, err)
	}
	if _, err := f.aws.AccountIntegration(ctx, "ws-b", sdCustomer); err == nil {
		t.Fatal("another workspace found ws-a's integration")
	}
	// An integration of the same account still waiting for its role does
	// not hide the one that has a role.
	if _, err := f.aws.Create(ctx, awsint.CreateInput{Name: "pending", AWSAccountID: sdCustomer, WorkspaceID: "ws-a",
		Regions: []string{"us-east-1"}, Services: []string{"ec2"}}); err != nil {
		t.Fatal(err)
	}
	if id, err := f.aws.AccountIntegration(ctx, "ws-a", sdCustomer); err != nil || id != f.integ {
		t.Fatalf("by account, beside integrations without a role: %q %v", id, err)
	}
	const pendingAccount = "333333333333"
	if _, err := f.aws.Create(ctx, awsint.CreateInput{Name: "only-pending", AWSAccountID: pendingAccount, WorkspaceID: "ws-a",
		Regions: []string{"us-east-1"}, Services: []string{"ec2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.aws.AccountIntegration(ctx, "ws-a", pendingAccount); err == nil || !strings.Contains(err.Error(), "no role ARN yet") {
		t.Fatalf("an account whose only integration has no role yet: %v", err)
	}
	const keysAccount = "222222222222"
	if err := f.sim.Update(func(sc *awssim.Scenario) {
		sc.Callers = append(sc.Callers, awssim.Caller{AccountID: keysAccount, Name: "keys", AccessKeyID: "AKIAKEYSINTEGRATION1", SecretAccessKey: "keys-secret"})
	}); err != nil {
		t.Fatal(err)
	}
	k, err := f.aws.Create(ctx, awsint.CreateInput{Name: "keys", AWSAccountID: keysAccount, WorkspaceID: "ws-a", Regions: []string{"us-east-1"},
		Services: []string{"ec2"}, AccessKeyID: "AKIAKEYSINTEGRATION1", SecretAccessKey: "keys-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.aws.AccountIntegration(ctx, "ws-a", keysAccount); err == nil || !strings.Contains(err.Error(), "access keys") {
		t.Fatalf("an access-key integration: %v", err)
	}
	if _, err := f.aws.RoleConfig(ctx, k.ID, ""); err == nil || !strings.Contains(err.Error(), "access keys") {
		t.Fatalf("RoleConfig of an access-key integration: %v", err)
	}
}
