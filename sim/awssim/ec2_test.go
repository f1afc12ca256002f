package awssim

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

func ec2IDs(out *ec2.DescribeInstancesOutput) []string {
	var ids []string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	sort.Strings(ids)
	return ids
}

func ec2Filter1(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

func TestDescribeInstances(t *testing.T) {
	_, ts := newDemoSim(t)
	ctx := context.Background()
	c := ec2.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuIntegration", demoExternalID)))

	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	all := ec2IDs(out)
	if len(all) != 7 || out.NextToken != nil {
		t.Fatalf("instances %v, token %v", all, out.NextToken)
	}
	var web1, stopped, terminated *ec2types.Instance
	for _, r := range out.Reservations {
		if aws.ToString(r.OwnerId) != demoAccount || !strings.HasPrefix(aws.ToString(r.ReservationId), "r-") || len(r.Instances) != 1 {
			t.Errorf("reservation %+v", r)
		}
		in := &r.Instances[0]
		switch aws.ToString(in.InstanceId) {
		case "i-0a1b2c3d4e5f60001":
			web1 = in
		case "i-0a1b2c3d4e5f60004":
			stopped = in
		case "i-0a1b2c3d4e5f60005":
			terminated = in
		}
	}
	if web1 == nil || stopped == nil || terminated == nil {
		t.Fatal("instances missing")
	}
	if web1.State.Name != ec2types.InstanceStateNameRunning || aws.ToInt32(web1.State.Code) != 16 ||
		web1.InstanceType != ec2types.InstanceTypeM5Large || aws.ToString(web1.ImageId) != "ami-0abcdef1234567890" ||
		aws.ToString(web1.Placement.AvailabilityZone) != "us-east-1a" ||
		aws.ToString(web1.PrivateIpAddress) != "10.0.1.11" || aws.ToString(web1.PublicIpAddress) != "54.12.34.11" ||
		aws.ToString(web1.PrivateDnsName) != "ip-10-0-1-11.ec2.internal" ||
		aws.ToString(web1.PublicDnsName) != "ec2-54-12-34-11.compute-1.amazonaws.com" ||
		!aws.ToTime(web1.LaunchTime).Equal(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("web-1 = %+v", *web1)
	}
	tags := map[string]string{}
	for _, tg := range web1.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if !reflect.DeepEqual(tags, map[string]string{"Name": "web-1", "env": "prod", "service": "web"}) {
		t.Errorf("tags %v", tags)
	}
	if stopped.State.Name != ec2types.InstanceStateNameStopped || aws.ToInt32(stopped.State.Code) != 80 || stopped.PublicIpAddress != nil {
		t.Errorf("stopped %+v", *stopped)
	}
	if terminated.State.Name != ec2types.InstanceStateNameTerminated || aws.ToInt32(terminated.State.Code) != 48 || terminated.PrivateIpAddress != nil {
		t.Errorf("terminated %+v", *terminated)
	}

	for name, tc := range map[string]struct {
		in   ec2.DescribeInstancesInput
		want []string
	}{
		"running": {ec2.DescribeInstancesInput{Filters: []ec2types.Filter{ec2Filter1("instance-state-name", "running")}},
			[]string{"i-0a1b2c3d4e5f60001", "i-0a1b2c3d4e5f60002", "i-0a1b2c3d4e5f60003", "i-0a1b2c3d4e5f60006"}},
		"running or stopped, env=prod": {ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
			ec2Filter1("instance-state-name", "running", "stopped"), ec2Filter1("tag:env", "prod")}},
			[]string{"i-0a1b2c3d4e5f60001", "i-0a1b2c3d4e5f60002", "i-0a1b2c3d4e5f60004"}},
		"tag-key service": {ec2.DescribeInstancesInput{Filters: []ec2types.Filter{ec2Filter1("tag-key", "service")}},
			[]string{"i-0a1b2c3d4e5f60001", "i-0a1b2c3d4e5f60002", "i-0a1b2c3d4e5f60004", "i-0a1b2c3d4e5f60007"}},
		"tag wildcard": {ec2.DescribeInstancesInput{Filters: []ec2types.Filter{ec2Filter1("tag:Name", "web-*")}},
			[]string{"i-0a1b2c3d4e5f60001", "i-0a1b2c3d4e5f60002"}},
		"instance-id filter": {ec2.DescribeInstancesInput{Filters: []ec2types.Filter{ec2Filter1("instance-id", "i-0a1b2c3d4e5f60003", "i-0a1b2c3d4e5f60006")}},
			[]string{"i-0a1b2c3d4e5f60003", "i-0a1b2c3d4e5f60006"}},
		"instance ids": {ec2.DescribeInstancesInput{InstanceIds: []string{"i-0a1b2c3d4e5f60005"}},
			[]string{"i-0a1b2c3d4e5f60005"}},
		"nothing": {ec2.DescribeInstancesInput{Filters: []ec2types.Filter{ec2Filter1("tag:env", "dev")}}, nil},
	} {
		out, err := c.DescribeInstances(ctx, &tc.in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := ec2IDs(out); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}

	// Pagination through the SDK's paginator.
	var pages int
	var paged []string
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if n := len(out.Reservations); n > 5 {
			t.Errorf("page of %d", n)
		}
		paged = append(paged, ec2IDs(out)...)
	}
	sort.Strings(paged)
	if pages != 2 || !reflect.DeepEqual(paged, all) {
		t.Errorf("%d pages: %v", pages, paged)
	}

	// The other region has its own instances.
	tokyo := ec2.NewFromConfig(demoConfig(ts, demoRegion2, demoRoleCreds(t, ts, demoRegion2, "KansokuIntegration", demoExternalID)))
	out, err = tokyo.DescribeInstances(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ec2IDs(out); !reflect.DeepEqual(got, []string{"i-0f9e8d7c6b5a40001", "i-0f9e8d7c6b5a40002"}) {
		t.Errorf("tokyo %v", got)
	}
	if dns := aws.ToString(out.Reservations[0].Instances[0].PrivateDnsName); !strings.HasSuffix(dns, ".ap-northeast-1.compute.internal") {
		t.Errorf("tokyo private DNS %s", dns)
	}
}

func TestDescribeInstancesErrors(t *testing.T) {
	sim, ts := newDemoSim(t)
	ctx := context.Background()
	c := ec2.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuIntegration", demoExternalID)))
	for name, tc := range map[string]struct {
		in   ec2.DescribeInstancesInput
		code string
	}{
		"unknown id":     {ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}}, "InvalidInstanceID.NotFound"},
		"malformed id":   {ec2.DescribeInstancesInput{InstanceIds: []string{"web-1"}}, "InvalidInstanceID.Malformed"},
		"bad filter":     {ec2.DescribeInstancesInput{Filters: []ec2types.Filter{ec2Filter1("flavour", "x")}}, "InvalidParameterValue"},
		"max results":    {ec2.DescribeInstancesInput{MaxResults: aws.Int32(4)}, "InvalidParameterValue"},
		"ids and max":    {ec2.DescribeInstancesInput{MaxResults: aws.Int32(5), InstanceIds: []string{"i-0a1b2c3d4e5f60001"}}, "InvalidParameterCombination"},
		"bad next token": {ec2.DescribeInstancesInput{NextToken: aws.String("garbage!")}, "InvalidPaginationToken"},
	} {
		_, err := c.DescribeInstances(ctx, &tc.in)
		apiErr(t, err, 400, tc.code)
		_ = name
	}

	// A role without ec2:DescribeInstances.
	sim.ResetCalls()
	denied := ec2.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuMetricsOnly", "")))
	_, err := denied.DescribeInstances(ctx, nil)
	apiErr(t, err, 403, "UnauthorizedOperation")
	var ae smithy.APIError
	if errors.As(err, &ae); !strings.HasPrefix(ae.ErrorMessage(), "You are not authorized to perform this operation.") {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	calls := sim.Calls()
	last := calls[len(calls)-1]
	if last.Service != "ec2" || last.Action != "DescribeInstances" || last.ErrorCode != "UnauthorizedOperation" ||
		last.Principal != "arn:aws:sts::123456789012:assumed-role/KansokuMetricsOnly/kansoku-test" || last.Account != demoAccount {
		t.Errorf("call %+v", last)
	}

	// Unknown credentials: EC2's AuthFailure.
	bad := ec2.NewFromConfig(demoConfig(ts, demoRegion, staticCreds("AKIAUNKNOWNKEY000001", "x")))
	_, err = bad.DescribeInstances(ctx, nil)
	apiErr(t, err, 401, "AuthFailure")

	// Injected throttling.
	sim.FailNextAction("ec2", "DescribeInstances", 1, 503, "RequestLimitExceeded")
	_, err = c.DescribeInstances(ctx, nil)
	apiErr(t, err, 503, "RequestLimitExceeded")
	if _, err := c.DescribeInstances(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCreateInternetGatewayDryRun(t *testing.T) {
	sim, ts := newDemoSim(t)
	ctx := context.Background()
	readOnly := ec2.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuIntegration", demoExternalID)))
	power := ec2.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuPowerUser", demoExternalID)))

	_, err := readOnly.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{DryRun: aws.Bool(true)})
	apiErr(t, err, 403, "UnauthorizedOperation")
	var ae smithy.APIError
	if errors.As(err, &ae); !strings.HasPrefix(ae.ErrorMessage(), "You are not authorized to perform this operation.") {
		t.Errorf("message %q", ae.ErrorMessage())
	}

	sim.ResetCalls()
	_, err = power.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{DryRun: aws.Bool(true)})
	apiErr(t, err, 412, "DryRunOperation")
	if errors.As(err, &ae); ae.ErrorMessage() != "Request would have succeeded, but DryRun flag is set." {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	if calls := sim.Calls(); len(calls) != 1 || calls[0].Action != "CreateInternetGateway" || calls[0].ErrorCode != "DryRunOperation" {
		t.Errorf("calls %+v", calls)
	}

	_, err = power.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	apiErr(t, err, 400, "UnsupportedOperation")
	_, err = readOnly.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	apiErr(t, err, 403, "UnauthorizedOperation")

	// DescribeInstances honours DryRun too.
	_, err = readOnly.DescribeInstances(ctx, &ec2.DescribeInstancesInput{DryRun: aws.Bool(true)})
	apiErr(t, err, 412, "DryRunOperation")
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"web-*", "web-1", true}, {"web-*", "api-1", false}, {"*", "", true}, {"w?b", "web", true},
		{"w?b", "wb", false}, {`a\*`, "a*", true}, {`a\*`, "ab", false}, {"*-1", "web-1", true}, {"prod", "prod", true},
	} {
		if got := globMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// TestDescribeInstancesSubnets: an instance placed in a VPC subnet reports
// subnetId, vpcId and its primary network interface (device index 0) in
// that subnet, as the EC2 API reference's Instance and
// InstanceNetworkInterface describe them; the subnet-id, vpc-id and
// private-ip-address filters select by them; a terminated instance has
// left its subnet.
func TestDescribeInstancesSubnets(t *testing.T) {
	sim, ts := newDemoSim(t)
	ctx := context.Background()
	if err := sim.Update(func(sc *Scenario) {
		r := sc.Accounts[0].Regions[demoRegion]
		r.Instances = []Instance{
			{ID: "i-00000000000000a01", PrivateIP: "10.1.0.5", SubnetID: "subnet-0aaa", VPCID: "vpc-01"},
			{ID: "i-00000000000000a02", PrivateIP: "10.1.0.6", SubnetID: "subnet-0aaa", VPCID: "vpc-01", State: "terminated"},
			{ID: "i-00000000000000b01", PrivateIP: "10.2.0.5", SubnetID: "subnet-0bbb", VPCID: "vpc-02"},
			{ID: "i-00000000000000c01", PrivateIP: "10.3.0.5"},
		}
	}); err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuIntegration", demoExternalID)))
	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-00000000000000a01", "i-00000000000000a02", "i-00000000000000c01"}})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]ec2types.Instance{}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			byID[aws.ToString(in.InstanceId)] = in
		}
	}
	a := byID["i-00000000000000a01"]
	if aws.ToString(a.SubnetId) != "subnet-0aaa" || aws.ToString(a.VpcId) != "vpc-01" || len(a.NetworkInterfaces) != 1 {
		t.Fatalf("placed instance: subnet %v vpc %v interfaces %d", aws.ToString(a.SubnetId), aws.ToString(a.VpcId), len(a.NetworkInterfaces))
	}
	eni := a.NetworkInterfaces[0]
	if aws.ToString(eni.SubnetId) != "subnet-0aaa" || aws.ToString(eni.VpcId) != "vpc-01" || aws.ToString(eni.PrivateIpAddress) != "10.1.0.5" ||
		!strings.HasPrefix(aws.ToString(eni.NetworkInterfaceId), "eni-") || eni.Attachment == nil || aws.ToInt32(eni.Attachment.DeviceIndex) != 0 ||
		aws.ToString(eni.OwnerId) != demoAccount || eni.Status != ec2types.NetworkInterfaceStatusInUse {
		t.Fatalf("primary interface %+v", eni)
	}
	if term := byID["i-00000000000000a02"]; term.SubnetId != nil || len(term.NetworkInterfaces) != 0 {
		t.Fatalf("a terminated instance keeps its subnet: %+v", term)
	}
	if none := byID["i-00000000000000c01"]; none.SubnetId != nil || none.VpcId != nil || len(none.NetworkInterfaces) != 0 {
		t.Fatalf("an instance without placement reports one: %+v", none)
	}
	for name, tc := range map[string]struct {
		f    []ec2types.Filter
		want []string
	}{
		"subnet":          {[]ec2types.Filter{ec2Filter1("subnet-id", "subnet-0aaa")}, []string{"i-00000000000000a01"}},
		"subnets":         {[]ec2types.Filter{ec2Filter1("subnet-id", "subnet-0aaa", "subnet-0bbb")}, []string{"i-00000000000000a01", "i-00000000000000b01"}},
		"subnet wildcard": {[]ec2types.Filter{ec2Filter1("subnet-id", "*")}, []string{"i-00000000000000a01", "i-00000000000000b01"}},
		"vpc":             {[]ec2types.Filter{ec2Filter1("vpc-id", "vpc-02")}, []string{"i-00000000000000b01"}},
		"private ip":      {[]ec2types.Filter{ec2Filter1("private-ip-address", "10.3.0.5")}, []string{"i-00000000000000c01"}},
		"subnet and ip":   {[]ec2types.Filter{ec2Filter1("subnet-id", "subnet-0aaa"), ec2Filter1("private-ip-address", "10.2.0.5")}, nil},
	} {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: tc.f})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := ec2IDs(out); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}

// TestDescribeAvailabilityZones: the region's zones with EC2's fields
// (zoneName, zoneId with the region's prefix, state, type), the names
// mapped to ids one to one; ZoneName and the zone-name filter select;
// an unknown zone name is InvalidParameterValue; the call needs
// ec2:DescribeAvailabilityZones.
func TestDescribeAvailabilityZones(t *testing.T) {
	_, ts := newDemoSim(t)
	ctx := context.Background()
	c := ec2.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuIntegration", demoExternalID)))
	out, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	seen := map[string]bool{}
	for _, z := range out.AvailabilityZones {
		name, id := aws.ToString(z.ZoneName), aws.ToString(z.ZoneId)
		if !strings.HasPrefix(name, demoRegion) || !strings.HasPrefix(id, "use1-az") || seen[id] || z.State != ec2types.AvailabilityZoneStateAvailable ||
			aws.ToString(z.RegionName) != demoRegion || aws.ToString(z.ZoneType) != "availability-zone" || z.OptInStatus != ec2types.AvailabilityZoneOptInStatusOptInNotRequired {
			t.Errorf("zone %+v", z)
		}
		ids[name], seen[id] = id, true
	}
	if len(ids) < 3 || ids["us-east-1a"] == "" || ids["us-east-1b"] == "" || ids["us-east-1c"] == "" {
		t.Fatalf("zones %v", ids)
	}
	one, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"us-east-1b"}})
	if err != nil || len(one.AvailabilityZones) != 1 || aws.ToString(one.AvailabilityZones[0].ZoneId) != ids["us-east-1b"] {
		t.Fatalf("by name: %+v %v", one, err)
	}
	f, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{Filters: []ec2types.Filter{ec2Filter1("zone-name", "us-east-1a", "us-east-1c")}})
	if err != nil || len(f.AvailabilityZones) != 2 {
		t.Fatalf("zone-name filter: %+v %v", f, err)
	}
	_, err = c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"us-east-1z"}})
	apiErr(t, err, 400, "InvalidParameterValue")
	_, err = c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{Filters: []ec2types.Filter{ec2Filter1("flavour", "x")}})
	apiErr(t, err, 400, "InvalidParameterValue")
	if got := ec2RegionAbbrev("ap-northeast-1") + " " + ec2RegionAbbrev("eu-central-1") + " " + ec2RegionAbbrev("us-west-2"); got != "apne1 euc1 usw2" {
		t.Errorf("zone id prefixes %s", got)
	}
	denied := ec2.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuMetricsOnly", "")))
	_, err = denied.DescribeAvailabilityZones(ctx, nil)
	apiErr(t, err, 403, "UnauthorizedOperation")
}
