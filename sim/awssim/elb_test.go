package awssim

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func elbRegion() *Region {
	return &Region{
		ClassicELBs: []ClassicELB{
			{Name: "web", Scheme: "internet-facing", AvailabilityZones: []string{"ap-northeast-1a", "ap-northeast-1c"},
				Instances: []string{"i-0aaa", "i-0bbb"}, Tags: Tags{"env": "prod", "team": "web"}},
			{Name: "backend", Scheme: "internal", Tags: Tags{"env": "staging"}},
			{Name: "legacy"},
		},
		LoadBalancers: []LoadBalancerV2{
			{Name: "api", Type: "application", Tags: Tags{"env": "prod"}},
			{Name: "ingest", Type: "network", Scheme: "internal", ID: "0123456789abcdef", State: "provisioning"},
			{Name: "admin", Scheme: "internal", Tags: Tags{"owner": "ops", "env": "dev"}},
		},
	}
}

func TestClassicELBWithSDK(t *testing.T) {
	sim, ts := newResServer(t, elbRegion(), "")
	c := elb.NewFromConfig(resConfig(ts.URL, resReaderKey, resReaderSecret))
	ctx := context.Background()

	// Two per page: the paginator follows NextMarker.
	var names []string
	var pages int
	byName := map[string]elbtypes.LoadBalancerDescription{}
	p := elb.NewDescribeLoadBalancersPaginator(c, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, d := range out.LoadBalancerDescriptions {
			names = append(names, aws.ToString(d.LoadBalancerName))
			byName[aws.ToString(d.LoadBalancerName)] = d
		}
	}
	if pages != 2 || strings.Join(names, ",") != "backend,legacy,web" {
		t.Fatalf("%d pages of %v", pages, names)
	}
	web := byName["web"]
	if !regexp.MustCompile(`^web-[1-9][0-9]{9}\.ap-northeast-1\.elb\.amazonaws\.com$`).MatchString(aws.ToString(web.DNSName)) {
		t.Errorf("DNSName %q", aws.ToString(web.DNSName))
	}
	if aws.ToString(web.CanonicalHostedZoneName) != aws.ToString(web.DNSName) || aws.ToString(web.CanonicalHostedZoneNameID) == "" {
		t.Errorf("hosted zone %q %q", aws.ToString(web.CanonicalHostedZoneName), aws.ToString(web.CanonicalHostedZoneNameID))
	}
	if aws.ToString(web.Scheme) != "internet-facing" || strings.Join(web.AvailabilityZones, ",") != "ap-northeast-1a,ap-northeast-1c" ||
		len(web.Instances) != 2 || aws.ToString(web.Instances[1].InstanceId) != "i-0bbb" || len(web.Subnets) != 2 {
		t.Errorf("web: %+v", web)
	}
	if web.CreatedTime == nil || web.CreatedTime.Before(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("CreatedTime %v", web.CreatedTime)
	}
	if dns := aws.ToString(byName["backend"].DNSName); !strings.HasPrefix(dns, "internal-backend-") || aws.ToString(byName["backend"].Scheme) != "internal" {
		t.Errorf("internal load balancer: %q %q", dns, aws.ToString(byName["backend"].Scheme))
	}
	if legacy := byName["legacy"]; aws.ToString(legacy.Scheme) != "internet-facing" || len(legacy.AvailabilityZones) != 1 {
		t.Errorf("legacy defaults: %+v", legacy)
	}

	// By name: the same description, stable across calls.
	out, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.LoadBalancerDescriptions) != 1 || aws.ToString(out.LoadBalancerDescriptions[0].DNSName) != aws.ToString(web.DNSName) ||
		!out.LoadBalancerDescriptions[0].CreatedTime.Equal(*web.CreatedTime) || out.NextMarker != nil {
		t.Errorf("by name: %+v", out)
	}
	_, err = c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{"web", "nope"}})
	var notFound *elbtypes.AccessPointNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("unknown name: %v", err)
	}
	apiErr(t, err, 400, "LoadBalancerNotFound")

	// Tags.
	tags, err := c.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: []string{"web", "legacy"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.TagDescriptions) != 2 || aws.ToString(tags.TagDescriptions[0].LoadBalancerName) != "web" ||
		len(tags.TagDescriptions[0].Tags) != 2 || aws.ToString(tags.TagDescriptions[0].Tags[0].Key) != "env" ||
		aws.ToString(tags.TagDescriptions[0].Tags[0].Value) != "prod" || len(tags.TagDescriptions[1].Tags) != 0 {
		t.Errorf("tags: %+v", tags.TagDescriptions)
	}
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("lb-%d", i)
	}
	_, err = c.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: many})
	apiErr(t, err, 400, "ValidationError")

	// Permissions.
	denied := elb.NewFromConfig(resConfig(ts.URL, resOutsiderKey, resOutsiderSecre))
	_, err = denied.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	apiErr(t, err, 403, "AccessDenied")
	_, err = denied.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: []string{"web"}})
	apiErr(t, err, 403, "AccessDenied")

	// Changes show up on the next call.
	if err := sim.Update(func(sc *Scenario) {
		rg := sc.Accounts[0].Regions[resRegion]
		rg.ClassicELBs = append(rg.ClassicELBs[1:], ClassicELB{Name: "fresh", Tags: Tags{"new": "yes"}})
	}); err != nil {
		t.Fatal(err)
	}
	out, err = c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil {
		t.Fatal(err)
	}
	names = nil
	for _, d := range out.LoadBalancerDescriptions {
		names = append(names, aws.ToString(d.LoadBalancerName))
	}
	if strings.Join(names, ",") != "backend,fresh,legacy" {
		t.Errorf("after update: %v", names)
	}
	_, err = c.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: []string{"web"}})
	apiErr(t, err, 400, "LoadBalancerNotFound")

	wantCalls(t, sim, "elasticloadbalancing",
		"DescribeLoadBalancers", "DescribeLoadBalancers", "DescribeLoadBalancers", "DescribeLoadBalancers:LoadBalancerNotFound",
		"DescribeTags", "DescribeTags:ValidationError",
		"DescribeLoadBalancers:AccessDenied", "DescribeTags:AccessDenied",
		"DescribeLoadBalancers", "DescribeTags:LoadBalancerNotFound")
}

func TestELBv2WithSDK(t *testing.T) {
	sim, ts := newResServer(t, elbRegion(), "")
	c := elbv2.NewFromConfig(resConfig(ts.URL, resReaderKey, resReaderSecret))
	ctx := context.Background()

	var lbs []elbv2types.LoadBalancer
	var pages int
	p := elbv2.NewDescribeLoadBalancersPaginator(c, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		lbs = append(lbs, out.LoadBalancers...)
	}
	if pages != 3 || len(lbs) != 3 {
		t.Fatalf("%d pages, %d load balancers", pages, len(lbs))
	}
	tagged := taggingARNs(sim, "elasticloadbalancing")
	byName := map[string]elbv2types.LoadBalancer{}
	for _, lb := range lbs {
		byName[aws.ToString(lb.LoadBalancerName)] = lb
		if !tagged[aws.ToString(lb.LoadBalancerArn)] {
			t.Errorf("ARN %s is not the tagging API's (%v)", aws.ToString(lb.LoadBalancerArn), tagged)
		}
	}
	api, ingest, admin := byName["api"], byName["ingest"], byName["admin"]
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:ap-northeast-1:210987654321:loadbalancer/app/api/[0-9a-f]{16}$`).MatchString(aws.ToString(api.LoadBalancerArn)) {
		t.Errorf("ALB ARN %s", aws.ToString(api.LoadBalancerArn))
	}
	if !regexp.MustCompile(`^api-[1-9][0-9]{9}\.ap-northeast-1\.elb\.amazonaws\.com$`).MatchString(aws.ToString(api.DNSName)) ||
		api.Type != elbv2types.LoadBalancerTypeEnumApplication || api.Scheme != elbv2types.LoadBalancerSchemeEnumInternetFacing ||
		api.State == nil || api.State.Code != elbv2types.LoadBalancerStateEnumActive || len(api.AvailabilityZones) != 2 ||
		aws.ToString(api.AvailabilityZones[0].ZoneName) != "ap-northeast-1a" || api.CreatedTime == nil || len(api.SecurityGroups) != 1 {
		t.Errorf("api: %+v", api)
	}
	if aws.ToString(ingest.LoadBalancerArn) != "arn:aws:elasticloadbalancing:ap-northeast-1:210987654321:loadbalancer/net/ingest/0123456789abcdef" ||
		aws.ToString(ingest.DNSName) != "internal-ingest-0123456789abcdef.elb.ap-northeast-1.amazonaws.com" ||
		ingest.Type != elbv2types.LoadBalancerTypeEnumNetwork || ingest.State.Code != elbv2types.LoadBalancerStateEnumProvisioning {
		t.Errorf("ingest: %+v", ingest)
	}
	if !strings.HasPrefix(aws.ToString(admin.DNSName), "internal-admin-") || admin.Type != elbv2types.LoadBalancerTypeEnumApplication {
		t.Errorf("admin: %+v", admin)
	}

	// By ARN and by name.
	out, err := c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(ingest.LoadBalancerArn)}})
	if err != nil || len(out.LoadBalancers) != 1 || aws.ToString(out.LoadBalancers[0].LoadBalancerName) != "ingest" {
		t.Fatalf("by ARN: %v %+v", err, out)
	}
	out, err = c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"admin", "api"}})
	if err != nil || len(out.LoadBalancers) != 2 || !out.LoadBalancers[1].CreatedTime.Equal(*api.CreatedTime) {
		t.Fatalf("by name: %v %+v", err, out)
	}
	_, err = c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"nope"}})
	var notFound *elbv2types.LoadBalancerNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("unknown name: %v", err)
	}
	_, err = c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"api"}, LoadBalancerArns: []string{aws.ToString(api.LoadBalancerArn)}})
	apiErr(t, err, 400, "ValidationError")

	// Tags, by ARN.
	tags, err := c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{aws.ToString(admin.LoadBalancerArn), aws.ToString(ingest.LoadBalancerArn)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.TagDescriptions) != 2 || aws.ToString(tags.TagDescriptions[0].ResourceArn) != aws.ToString(admin.LoadBalancerArn) ||
		len(tags.TagDescriptions[0].Tags) != 2 || aws.ToString(tags.TagDescriptions[0].Tags[1].Key) != "owner" ||
		aws.ToString(tags.TagDescriptions[0].Tags[1].Value) != "ops" || len(tags.TagDescriptions[1].Tags) != 0 {
		t.Errorf("tags: %+v", tags.TagDescriptions)
	}
	_, err = c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{"arn:aws:elasticloadbalancing:ap-northeast-1:210987654321:targetgroup/tg/0123456789abcdef"}})
	apiErr(t, err, 400, "TargetGroupNotFound")

	// Injected failures come first and are logged.
	sim.FailNextAction("elasticloadbalancing", "DescribeLoadBalancers", 1, 503, "ServiceUnavailable")
	_, err = c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	apiErr(t, err, 503, "ServiceUnavailable")

	// Permissions.
	denied := elbv2.NewFromConfig(resConfig(ts.URL, resOutsiderKey, resOutsiderSecre))
	_, err = denied.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	apiErr(t, err, 403, "AccessDenied")

	// Changes show up on the next call.
	if err := sim.Update(func(sc *Scenario) {
		rg := sc.Accounts[0].Regions[resRegion]
		rg.LoadBalancers = append(rg.LoadBalancers[:1], LoadBalancerV2{Name: "new-nlb", Type: "network"})
	}); err != nil {
		t.Fatal(err)
	}
	out, err = c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	if err != nil || len(out.LoadBalancers) != 2 || aws.ToString(out.LoadBalancers[1].LoadBalancerName) != "new-nlb" {
		t.Fatalf("after update: %v %+v", err, out)
	}
	_, err = c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{aws.ToString(ingest.LoadBalancerArn)}})
	apiErr(t, err, 400, "LoadBalancerNotFound")

	wantCalls(t, sim, "elasticloadbalancing",
		"DescribeLoadBalancers", "DescribeLoadBalancers", "DescribeLoadBalancers",
		"DescribeLoadBalancers", "DescribeLoadBalancers", "DescribeLoadBalancers:LoadBalancerNotFound",
		"DescribeLoadBalancers:ValidationError", "DescribeTags", "DescribeTags:TargetGroupNotFound",
		"DescribeLoadBalancers:ServiceUnavailable", "DescribeLoadBalancers:AccessDenied",
		"DescribeLoadBalancers", "DescribeTags:LoadBalancerNotFound")
}

// TestELBVersions checks the dispatch on Version: both APIs share a
// signing name.
func TestELBVersions(t *testing.T) {
	sim, ts := newResServer(t, elbRegion(), "")
	form := func(version string) url.Values {
		return url.Values{"Action": {"DescribeLoadBalancers"}, "Version": {version}}
	}
	r := doSigned(t, ts.URL, resReaderKey, resReaderSecret, "elasticloadbalancing", resRegion, form("2012-06-01"), time.Now())
	if r.status != 200 || !strings.Contains(r.body, `<DescribeLoadBalancersResponse xmlns="`+elbClassicXMLNS+`">`) ||
		!strings.Contains(r.body, "<LoadBalancerDescriptions><member><LoadBalancerName>backend</LoadBalancerName>") {
		t.Errorf("classic: %d %s", r.status, r.body)
	}
	r = doSigned(t, ts.URL, resReaderKey, resReaderSecret, "elasticloadbalancing", resRegion, form("2015-12-01"), time.Now())
	if r.status != 200 || !strings.Contains(r.body, `xmlns="`+elbv2XMLNS+`"`) || !strings.Contains(r.body, "<LoadBalancers><member><LoadBalancerArn>") {
		t.Errorf("v2: %d %s", r.status, r.body)
	}
	r = doSigned(t, ts.URL, resReaderKey, resReaderSecret, "elasticloadbalancing", resRegion, form("2099-01-01"), time.Now())
	wantError(t, r, 400, "NoSuchVersion")
	r = doSigned(t, ts.URL, resReaderKey, resReaderSecret, "elasticloadbalancing", resRegion,
		url.Values{"Action": {"DeleteLoadBalancer"}, "Version": {"2015-12-01"}}, time.Now())
	wantError(t, r, 400, "InvalidAction")
	wantCalls(t, sim, "elasticloadbalancing", "DescribeLoadBalancers", "DescribeLoadBalancers",
		"DescribeLoadBalancers:NoSuchVersion", "DeleteLoadBalancer:InvalidAction")
}
