package awssim

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func dynamoDBRegion() *Region {
	many := Tags{}
	for i := range 12 {
		many[fmt.Sprintf("k%02d", i)] = fmt.Sprint(i)
	}
	return &Region{Tables: []Table{
		{Name: "users", Tags: Tags{"env": "prod"}},
		{Name: "orders", Status: "UPDATING", Tags: many},
		{Name: "sessions"},
		{Name: "carts"},
		{Name: "audit"},
		{Name: "events"},
		{Name: "metrics"},
	}}
}

func TestDynamoDBWithSDK(t *testing.T) {
	sim, ts := newResServer(t, dynamoDBRegion(), "")
	c := dynamodb.NewFromConfig(resConfig(ts.URL, resReaderKey, resReaderSecret))
	ctx := context.Background()

	var names []string
	var pages int
	p := dynamodb.NewListTablesPaginator(c, &dynamodb.ListTablesInput{Limit: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		names = append(names, out.TableNames...)
	}
	if pages != 3 || strings.Join(names, ",") != "audit,carts,events,metrics,orders,sessions,users" {
		t.Fatalf("%d pages of %v", pages, names)
	}
	_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(101)})
	apiErr(t, err, 400, "ValidationException")

	// DescribeTable by name and by ARN.
	out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	tb := out.Table
	if !taggingARNs(sim, "dynamodb")[aws.ToString(tb.TableArn)] || aws.ToString(tb.TableArn) != "arn:aws:dynamodb:ap-northeast-1:210987654321:table/orders" ||
		aws.ToString(tb.TableName) != "orders" || tb.TableStatus != ddbtypes.TableStatusUpdating ||
		tb.CreationDateTime == nil || tb.CreationDateTime.Year() < 2023 || aws.ToInt64(tb.ItemCount) != 0 ||
		tb.BillingModeSummary == nil || tb.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest ||
		tb.ProvisionedThroughput == nil || aws.ToInt64(tb.ProvisionedThroughput.ReadCapacityUnits) != 0 ||
		len(tb.KeySchema) != 1 || aws.ToString(tb.TableId) == "" {
		t.Errorf("orders: %+v", tb)
	}
	again, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: tb.TableArn})
	if err != nil || !again.Table.CreationDateTime.Equal(*tb.CreationDateTime) || aws.ToString(again.Table.TableId) != aws.ToString(tb.TableId) {
		t.Errorf("by ARN: %v %+v", err, again)
	}
	if u, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("users")}); err != nil || u.Table.TableStatus != ddbtypes.TableStatusActive {
		t.Errorf("users: %v %+v", err, u)
	}
	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("nope")})
	var nf *ddbtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("missing table: %v", err)
	}
	apiErr(t, err, 400, "ResourceNotFoundException")

	// Tags, 10 per page.
	var keys []string
	var token *string
	for range 5 {
		tags, err := c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: tb.TableArn, NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range tags.Tags {
			keys = append(keys, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		if token = tags.NextToken; token == nil {
			break
		}
	}
	if len(keys) != 12 || keys[0] != "k00=0" || keys[11] != "k11=11" {
		t.Errorf("tags %v", keys)
	}
	_, err = c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String("arn:aws:dynamodb:ap-northeast-1:210987654321:table/nope")})
	apiErr(t, err, 400, "ResourceNotFoundException")

	// Permissions.
	denied := dynamodb.NewFromConfig(resConfig(ts.URL, resOutsiderKey, resOutsiderSecre))
	_, err = denied.ListTables(ctx, &dynamodb.ListTablesInput{})
	apiErr(t, err, 403, "AccessDeniedException")
	_, err = denied.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("users")})
	apiErr(t, err, 403, "AccessDeniedException")

	// Changes show up on the next call.
	if err := sim.Update(func(sc *Scenario) {
		rg := sc.Accounts[0].Regions[resRegion]
		rg.Tables = []Table{{Name: "fresh"}, rg.Tables[0]}
	}); err != nil {
		t.Fatal(err)
	}
	lt, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || strings.Join(lt.TableNames, ",") != "fresh,users" || lt.LastEvaluatedTableName != nil {
		t.Errorf("after update: %v %+v", err, lt)
	}
	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	apiErr(t, err, 400, "ResourceNotFoundException")

	wantCalls(t, sim, "dynamodb",
		"ListTables", "ListTables", "ListTables", "ListTables:ValidationException",
		"DescribeTable", "DescribeTable", "DescribeTable", "DescribeTable:ResourceNotFoundException",
		"ListTagsOfResource", "ListTagsOfResource", "ListTagsOfResource:ResourceNotFoundException",
		"ListTables:AccessDeniedException", "DescribeTable:AccessDeniedException",
		"ListTables", "DescribeTable:ResourceNotFoundException")
}

// TestDynamoDBWire checks the CRC-32 header and the error envelope.
func TestDynamoDBWire(t *testing.T) {
	_, ts := newResServer(t, dynamoDBRegion(), "")
	rec := &exchangeRecorder{}
	c := dynamodb.NewFromConfig(resConfig(ts.URL, resReaderKey, resReaderSecret), func(o *dynamodb.Options) { o.HTTPClient = rec })
	ctx := context.Background()
	if _, err := c.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	if rec.req.Header.Get("X-Amz-Target") != "DynamoDB_20120810.ListTables" {
		t.Errorf("target %q", rec.req.Header.Get("X-Amz-Target"))
	}
	if got := rec.resp.Header.Get("X-Amz-Crc32"); got != strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(rec.body))), 10) {
		t.Errorf("X-Amz-Crc32 %s for %s", got, rec.body)
	}
	_, _ = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("nope")})
	if !strings.Contains(rec.body, `"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"`) || rec.resp.Header.Get("X-Amz-Crc32") == "" {
		t.Errorf("error response %s", rec.body)
	}
	// Bad credentials: DynamoDB's codes, status 400.
	bad := dynamodb.NewFromConfig(resConfig(ts.URL, "AKIAUNKNOWNKEY000001", "x"))
	_, err := bad.ListTables(ctx, &dynamodb.ListTablesInput{})
	apiErr(t, err, 400, "UnrecognizedClientException")
}
