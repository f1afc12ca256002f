package awssim

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/smithy-go"
)

// The services of the remaining products through the real SDK clients:
// one of each wire protocol, with pagination, errors and authorization.

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprint(err)
}

func TestGenericServicesWithSDK(t *testing.T) {
	rg := &Region{}
	for i := 0; i < 25; i++ {
		rg.Resources = append(rg.Resources,
			Resource{Kind: "kinesis:stream", Name: fmt.Sprintf("stream-%02d", i)},
			Resource{Kind: "elasticache:cluster", Name: fmt.Sprintf("cache-%02d", i), Attrs: map[string]string{"engine": "memcached", "nodes": "2"}},
			Resource{Kind: "apigateway:restapi", Name: fmt.Sprintf("api-%02d", i), Tags: Tags{"team": "shop"}})
	}
	rg.Resources = append(rg.Resources,
		Resource{Kind: "batch:job-queue", Name: "nightly", Attrs: map[string]string{"jobs.RUNNING": "150", "jobs.FAILED": "1"}},
		Resource{Kind: "ses:account", Name: "ses", Attrs: map[string]string{"sent_last_24h": "42"}, Subs: map[string][]string{"rules": {"inbound"}}},
		Resource{Kind: "s3:bucket", Name: "tokyo-logs"})
	sim, ts := newResServer(t, rg, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`)
	if err := sim.Update(func(sc *Scenario) {
		sc.Accounts[0].Regions["us-east-1"] = &Region{Resources: []Resource{{Kind: "s3:bucket", Name: "virginia-assets"},
			{Kind: "cloudfront:distribution", Name: "www", Subs: map[string][]string{"functions": {"rewrite"}}},
			{Kind: "cloudfront:distribution", Name: "img"}}}
	}); err != nil {
		t.Fatal(err)
	}
	cfg := resConfig(ts.URL, resReaderKey, resReaderSecret)
	ctx := context.Background()

	// awsJson1_1: Kinesis, in pages.
	var streams []string
	kp := kinesis.NewListStreamsPaginator(kinesis.NewFromConfig(cfg), &kinesis.ListStreamsInput{Limit: aws.Int32(10)})
	for kp.HasMorePages() {
		page, err := kp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.StreamSummaries {
			streams = append(streams, aws.ToString(s.StreamName))
			if aws.ToString(s.StreamARN) != "arn:aws:kinesis:"+resRegion+":"+resAccount+":stream/"+aws.ToString(s.StreamName) {
				t.Errorf("stream ARN %s", aws.ToString(s.StreamARN))
			}
		}
	}
	if len(streams) != 25 || streams[24] != "stream-24" {
		t.Errorf("streams: %v", streams)
	}
	// Query: ElastiCache with its nodes, 20 a page.
	var nodes int
	ep := elasticache.NewDescribeCacheClustersPaginator(elasticache.NewFromConfig(cfg), &elasticache.DescribeCacheClustersInput{ShowCacheNodeInfo: aws.Bool(true), MaxRecords: aws.Int32(20)})
	pages := 0
	for ep.HasMorePages() {
		page, err := ep.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, c := range page.CacheClusters {
			nodes += len(c.CacheNodes)
		}
	}
	if pages != 2 || nodes != 50 {
		t.Errorf("ElastiCache: %d pages, %d nodes", pages, nodes)
	}
	// REST-JSON: API Gateway's REST APIs with their tags (the "item" list).
	apis, err := apigateway.NewFromConfig(cfg).GetRestApis(ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(500)})
	if err != nil || len(apis.Items) != 25 || apis.Items[0].Tags["team"] != "shop" || aws.ToString(apis.Items[0].Id) == "" {
		t.Errorf("GetRestApis: %+v %v", apis, err)
	}
	// REST-JSON: Batch's jobs of one status, in pages of 100.
	n := 0
	bp := batch.NewListJobsPaginator(batch.NewFromConfig(cfg), &batch.ListJobsInput{JobQueue: aws.String("nightly"), JobStatus: batchtypes.JobStatusRunning})
	for bp.HasMorePages() {
		page, err := bp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.JobSummaryList)
	}
	if n != 150 {
		t.Errorf("running jobs: %d", n)
	}
	// Query: SES's quota.
	if q, err := ses.NewFromConfig(cfg).GetSendQuota(ctx, &ses.GetSendQuotaInput{}); err != nil || q.SentLast24Hours != 42 || q.Max24HourSend != 200 {
		t.Errorf("GetSendQuota: %+v %v", q, err)
	}
	// REST-XML: S3 lists every region's buckets with their region.
	buckets, err := s3.NewFromConfig(cfg).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(buckets.Buckets) != 2 {
		t.Fatalf("ListBuckets: %+v %v", buckets, err)
	}
	for _, b := range buckets.Buckets {
		want := map[string]string{"tokyo-logs": resRegion, "virginia-assets": "us-east-1"}[aws.ToString(b.Name)]
		if aws.ToString(b.BucketRegion) != want {
			t.Errorf("bucket %s in %s", aws.ToString(b.Name), aws.ToString(b.BucketRegion))
		}
	}
	if loc, err := s3.NewFromConfig(cfg).GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("virginia-assets")}); err != nil || loc.LocationConstraint != "" {
		t.Errorf("us-east-1 has no location constraint: %+v %v", loc, err)
	}
	// REST-XML: CloudFront is global (us-east-1), one a page.
	east := cfg.Copy()
	east.Region = "us-east-1"
	var dists []string
	cp := cloudfront.NewListDistributionsPaginator(cloudfront.NewFromConfig(east), &cloudfront.ListDistributionsInput{MaxItems: aws.Int32(1)})
	for cp.HasMorePages() {
		page, err := cp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.DistributionList.Items {
			dists = append(dists, aws.ToString(d.Comment))
			if aws.ToString(d.Comment) == "www" && d.DefaultCacheBehavior.FunctionAssociations.Items[0].FunctionARN == nil {
				t.Error("no function association")
			}
		}
	}
	if len(dists) != 2 {
		t.Errorf("distributions: %v", dists)
	}

	// Authorization, in each protocol's error codes.
	scoped := resConfig(ts.URL, resScopedKey, resScopedSecret)
	if _, err := s3.NewFromConfig(scoped).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Errorf("s3:ListAllMyBuckets is allowed: %v", err)
	}
	for name, call := range map[string]func() error{
		"kinesis": func() error {
			_, err := kinesis.NewFromConfig(scoped).ListStreams(ctx, &kinesis.ListStreamsInput{})
			return err
		},
		"elasticache": func() error {
			_, err := elasticache.NewFromConfig(scoped).DescribeCacheClusters(ctx, &elasticache.DescribeCacheClustersInput{})
			return err
		},
		"apigateway": func() error {
			_, err := apigateway.NewFromConfig(scoped).GetRestApis(ctx, &apigateway.GetRestApisInput{})
			return err
		},
		"s3": func() error {
			_, err := s3.NewFromConfig(scoped).GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("tokyo-logs")})
			return err
		},
	} {
		want := map[string]string{"kinesis": "AccessDeniedException", "elasticache": "AccessDenied", "apigateway": "AccessDeniedException", "s3": "AccessDenied"}[name]
		if got := apiCode(call()); got != want {
			t.Errorf("%s denied: %s, want %s", name, got, want)
		}
	}
}
