package awssim

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func sqsRegion() *Region {
	return &Region{Queues: []Queue{
		{Name: "orders", Tags: Tags{"env": "prod", "team": "shop"}},
		{Name: "orders-dlq"},
		{Name: "orders.fifo", Tags: Tags{"fifo": "yes"}},
		{Name: "emails"},
		{Name: "orders-retry"},
		{Name: "audit"},
		{Name: "orders-slow"},
	}}
}

func TestSQSWithSDK(t *testing.T) {
	sim, ts := newResServer(t, sqsRegion(), `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["sqs:ListQueues","sqs:GetQueueAttributes"],"Resource":"*"},
		{"Effect":"Allow","Action":"sqs:ListQueueTags","Resource":"arn:aws:sqs:*:*:orders"}]}`)
	c := sqs.NewFromConfig(resConfig(ts.URL, resReaderKey, resReaderSecret))
	ctx := context.Background()

	var urls []string
	var pages int
	p := sqs.NewListQueuesPaginator(c, &sqs.ListQueuesInput{MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		urls = append(urls, out.QueueUrls...)
	}
	if pages != 3 || len(urls) != 7 {
		t.Fatalf("%d pages of %v", pages, urls)
	}
	const base = "https://sqs.ap-northeast-1.amazonaws.com/210987654321/"
	if urls[0] != base+"audit" || urls[6] != base+"orders.fifo" {
		t.Errorf("urls %v", urls)
	}
	out, err := c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("orders-")})
	if err != nil || strings.Join(out.QueueUrls, ",") != base+"orders-dlq,"+base+"orders-retry,"+base+"orders-slow" || out.NextToken != nil {
		t.Errorf("prefix: %v %+v", err, out)
	}
	out, err = c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("none")})
	if err != nil || len(out.QueueUrls) != 0 {
		t.Errorf("no match: %v %+v", err, out)
	}

	// Attributes.
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(base + "orders"),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	a := attrs.Attributes
	if !taggingARNs(sim, "sqs")[a["QueueArn"]] || a["QueueArn"] != "arn:aws:sqs:ap-northeast-1:210987654321:orders" ||
		a["ApproximateNumberOfMessages"] != "0" || a["FifoQueue"] != "" {
		t.Errorf("attributes %v", a)
	}
	if ts, err := strconv.ParseInt(a["CreatedTimestamp"], 10, 64); err != nil || ts < 1600000000 {
		t.Errorf("CreatedTimestamp %q", a["CreatedTimestamp"])
	}
	attrs, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(base + "orders.fifo"),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn, sqstypes.QueueAttributeNameFifoQueue}})
	if err != nil || len(attrs.Attributes) != 2 || attrs.Attributes["FifoQueue"] != "true" {
		t.Errorf("fifo: %v %v", err, attrs)
	}
	_, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(base + "orders"), AttributeNames: []sqstypes.QueueAttributeName{"Colour"}})
	var badName *sqstypes.InvalidAttributeName
	if !errors.As(err, &badName) {
		t.Errorf("unknown attribute: %v", err)
	}

	// A queue that does not exist: the typed error, with the Query code.
	_, err = c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(base + "nope")})
	var missing *sqstypes.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Errorf("missing queue: %v", err)
	}
	apiErr(t, err, 400, "AWS.SimpleQueueService.NonExistentQueue")
	_, err = c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String("https://sqs.ap-northeast-1.amazonaws.com/999999999999/orders")})
	apiErr(t, err, 400, "AWS.SimpleQueueService.NonExistentQueue")

	// Tags.
	tags, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(base + "orders")})
	if err != nil || len(tags.Tags) != 2 || tags.Tags["team"] != "shop" {
		t.Errorf("tags %v %+v", err, tags)
	}
	tags, err = c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(base + "audit")})
	if err != nil || len(tags.Tags) != 0 {
		t.Errorf("no tags %v %+v", err, tags)
	}

	// Permissions.
	denied := sqs.NewFromConfig(resConfig(ts.URL, resOutsiderKey, resOutsiderSecre))
	_, err = denied.ListQueues(ctx, &sqs.ListQueuesInput{})
	apiErr(t, err, 403, "AccessDenied")
	scoped := sqs.NewFromConfig(resConfig(ts.URL, resScopedKey, resScopedSecret))
	if _, err := scoped.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(base + "orders")}); err != nil {
		t.Errorf("scoped tags of orders: %v", err)
	}
	_, err = scoped.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(base + "emails")})
	apiErr(t, err, 403, "AccessDenied")

	// Changes show up on the next call.
	if err := sim.Update(func(sc *Scenario) {
		rg := sc.Accounts[0].Regions[resRegion]
		rg.Queues = []Queue{{Name: "zeta"}, rg.Queues[0]}
	}); err != nil {
		t.Fatal(err)
	}
	out, err = c.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil || strings.Join(out.QueueUrls, ",") != base+"orders,"+base+"zeta" {
		t.Errorf("after update: %v %+v", err, out)
	}
	_, err = c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(base + "emails")})
	apiErr(t, err, 400, "AWS.SimpleQueueService.NonExistentQueue")

	wantCalls(t, sim, "sqs",
		"ListQueues", "ListQueues", "ListQueues", "ListQueues", "ListQueues",
		"GetQueueAttributes", "GetQueueAttributes", "GetQueueAttributes:InvalidAttributeName",
		"GetQueueAttributes:AWS.SimpleQueueService.NonExistentQueue", "ListQueueTags:AWS.SimpleQueueService.NonExistentQueue",
		"ListQueueTags", "ListQueueTags",
		"ListQueues:AccessDenied", "ListQueueTags", "ListQueueTags:AccessDenied",
		"ListQueues", "ListQueueTags:AWS.SimpleQueueService.NonExistentQueue")
}

// TestSQSWire checks the JSON error envelope of a query-compatible service.
func TestSQSWire(t *testing.T) {
	_, ts := newResServer(t, sqsRegion(), "")
	c := sqs.NewFromConfig(resConfig(ts.URL, resReaderKey, resReaderSecret), func(o *sqs.Options) {
		o.HTTPClient = &exchangeRecorder{}
	})
	_, _ = c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String("https://sqs.ap-northeast-1.amazonaws.com/210987654321/nope")})
	h := c.Options().HTTPClient.(*exchangeRecorder)
	if h.req.Header.Get("X-Amz-Target") != "AmazonSQS.GetQueueAttributes" || h.req.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Errorf("request headers %v", h.req.Header)
	}
	if h.resp.Header.Get("x-amzn-query-error") != "AWS.SimpleQueueService.NonExistentQueue;Sender" ||
		!strings.Contains(h.body, `"__type":"com.amazonaws.sqs#QueueDoesNotExist"`) {
		t.Errorf("response %v %s", h.resp.Header, h.body)
	}
}
