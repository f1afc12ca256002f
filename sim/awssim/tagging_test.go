package awssim

import (
	"context"
	"reflect"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	taggingtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
)

// taggedARNs collects every page of GetResources.
func taggedARNs(t *testing.T, c *tagging.Client, in *tagging.GetResourcesInput) (map[string]map[string]string, int) {
	t.Helper()
	out := map[string]map[string]string{}
	pages := 0
	p := tagging.NewGetResourcesPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, m := range page.ResourceTagMappingList {
			tags := map[string]string{}
			for _, tg := range m.Tags {
				tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			out[aws.ToString(m.ResourceARN)] = tags
		}
	}
	return out, pages
}

func tgKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestGetResources(t *testing.T) {
	sim, ts := newDemoSim(t)
	c := tagging.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuIntegration", demoExternalID)))

	all, pages := taggedARNs(t, c, &tagging.GetResourcesInput{})
	const r, a = "us-east-1", "123456789012"
	want := []string{
		instanceARN(r, a, "i-0a1b2c3d4e5f60001"), instanceARN(r, a, "i-0a1b2c3d4e5f60002"), instanceARN(r, a, "i-0a1b2c3d4e5f60003"),
		instanceARN(r, a, "i-0a1b2c3d4e5f60004"), instanceARN(r, a, "i-0a1b2c3d4e5f60005"), instanceARN(r, a, "i-0a1b2c3d4e5f60007"),
		classicELBARN(r, a, "legacy-web"), loadBalancerV2ARN(r, a, "application", "web-alb", "50dc6c495c0c9188"),
		dbInstanceARN(r, a, "orders-db"), dbInstanceARN(r, a, "aurora-main-1"), dbClusterARN(r, a, "aurora-main"),
		lambdaARN(r, a, "thumbnailer"), queueARN(r, a, "jobs"), tableARN(r, a, "sessions"),
	}
	sort.Strings(want)
	if got := tgKeys(all); !reflect.DeepEqual(got, want) || pages != 1 {
		t.Fatalf("%d pages, tagged resources\n%v\nwant\n%v", pages, got, want)
	}
	if got := all["arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web-alb/50dc6c495c0c9188"]; !reflect.DeepEqual(got, map[string]string{"env": "prod", "service": "web"}) {
		t.Errorf("ALB tags %v", got)
	}
	for _, untagged := range []string{instanceARN(r, a, "i-0a1b2c3d4e5f60006"), lambdaARN(r, a, "nightly-cleanup"), queueARN(r, a, "jobs-dlq"),
		tableARN(r, a, "events"), dbInstanceARN(r, a, "aurora-main-2"), loadBalancerV2ARN(r, a, "network", "internal-nlb", "")} {
		if _, ok := all[untagged]; ok {
			t.Errorf("untagged %s listed", untagged)
		}
	}

	for name, tc := range map[string]struct {
		in   tagging.GetResourcesInput
		want []string
	}{
		"ec2:instance, service=web": {tagging.GetResourcesInput{ResourceTypeFilters: []string{"ec2:instance"},
			TagFilters: []taggingtypes.TagFilter{{Key: aws.String("service"), Values: []string{"web"}}}},
			[]string{instanceARN(r, a, "i-0a1b2c3d4e5f60001"), instanceARN(r, a, "i-0a1b2c3d4e5f60002")}},
		"load balancers": {tagging.GetResourcesInput{ResourceTypeFilters: []string{"elasticloadbalancing:loadbalancer"}},
			[]string{classicELBARN(r, a, "legacy-web"), loadBalancerV2ARN(r, a, "application", "web-alb", "50dc6c495c0c9188")}},
		"bare rds": {tagging.GetResourcesInput{ResourceTypeFilters: []string{"rds"}},
			[]string{dbInstanceARN(r, a, "aurora-main-1"), dbClusterARN(r, a, "aurora-main"), dbInstanceARN(r, a, "orders-db")}},
		"rds:cluster or sqs or dynamodb:table": {tagging.GetResourcesInput{ResourceTypeFilters: []string{"rds:cluster", "sqs", "dynamodb:table"}},
			[]string{tableARN(r, a, "sessions"), dbClusterARN(r, a, "aurora-main"), queueARN(r, a, "jobs")}},
		"lambda": {tagging.GetResourcesInput{ResourceTypeFilters: []string{"lambda:function"}}, []string{lambdaARN(r, a, "thumbnailer")}},
		"env staging or dev": {tagging.GetResourcesInput{TagFilters: []taggingtypes.TagFilter{{Key: aws.String("env"), Values: []string{"staging", "dev"}}}},
			[]string{instanceARN(r, a, "i-0a1b2c3d4e5f60003"), instanceARN(r, a, "i-0a1b2c3d4e5f60007")}},
		"env=prod and service present": {tagging.GetResourcesInput{TagFilters: []taggingtypes.TagFilter{
			{Key: aws.String("env"), Values: []string{"prod"}}, {Key: aws.String("service")}}, ResourceTypeFilters: []string{"ec2", "dynamodb"}},
			[]string{tableARN(r, a, "sessions"), instanceARN(r, a, "i-0a1b2c3d4e5f60001"), instanceARN(r, a, "i-0a1b2c3d4e5f60002"), instanceARN(r, a, "i-0a1b2c3d4e5f60004")}},
		"unknown type": {tagging.GetResourcesInput{ResourceTypeFilters: []string{"s3"}}, nil},
	} {
		got, _ := taggedARNs(t, c, &tc.in)
		sort.Strings(tc.want)
		if g := tgKeys(got); !reflect.DeepEqual(g, append([]string{}, tc.want...)) {
			t.Errorf("%s: %v, want %v", name, g, tc.want)
		}
	}

	// Pagination.
	paged, pages := taggedARNs(t, c, &tagging.GetResourcesInput{ResourcesPerPage: aws.Int32(3)})
	if pages != 5 || !reflect.DeepEqual(paged, all) {
		t.Errorf("%d pages: %v", pages, tgKeys(paged))
	}

	// Tokyo: ALB and NLB are both load balancers.
	tokyo := tagging.NewFromConfig(demoConfig(ts, demoRegion2, demoRoleCreds(t, ts, demoRegion2, "KansokuIntegration", demoExternalID)))
	lbs, _ := taggedARNs(t, tokyo, &tagging.GetResourcesInput{ResourceTypeFilters: []string{"elasticloadbalancing:loadbalancer"}})
	if len(lbs) != 3 {
		t.Errorf("tokyo load balancers %v", tgKeys(lbs))
	}
	if _, ok := lbs[loadBalancerV2ARN("ap-northeast-1", a, "network", "tokyo-nlb", "")]; !ok {
		t.Errorf("NLB missing: %v", tgKeys(lbs))
	}

	// Retagging shows up.
	if err := sim.Update(func(sc *Scenario) {
		sc.account(demoAccount).Regions[demoRegion].Queues[1].Tags = Tags{"env": "prod"}
	}); err != nil {
		t.Fatal(err)
	}
	got, _ := taggedARNs(t, c, &tagging.GetResourcesInput{ResourceTypeFilters: []string{"sqs"}})
	if len(got) != 2 {
		t.Errorf("after tagging jobs-dlq: %v", tgKeys(got))
	}
}

func TestGetResourcesErrors(t *testing.T) {
	sim, ts := newDemoSim(t)
	ctx := context.Background()
	c := tagging.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuIntegration", demoExternalID)))
	_, err := c.GetResources(ctx, &tagging.GetResourcesInput{ResourcesPerPage: aws.Int32(101)})
	apiErr(t, err, 400, "InvalidParameterException")
	_, err = c.GetResources(ctx, &tagging.GetResourcesInput{PaginationToken: aws.String("nope")})
	apiErr(t, err, 400, "InvalidParameterException")

	denied := tagging.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuMetricsOnly", "")))
	_, err = denied.GetResources(ctx, &tagging.GetResourcesInput{})
	apiErr(t, err, 400, "AccessDeniedException")
	calls := sim.Calls()
	if last := calls[len(calls)-1]; last.Service != "tagging" || last.Action != "GetResources" || last.ErrorCode != "AccessDeniedException" {
		t.Errorf("call %+v", last)
	}

	sim.FailNextAction("tagging", "GetResources", 1, 400, "ThrottledException")
	_, err = c.GetResources(ctx, &tagging.GetResourcesInput{})
	apiErr(t, err, 400, "ThrottledException")
}
