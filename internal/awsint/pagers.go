package awsint

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
)

// The SDK's paginators take a one-method interface. Handing them a
// *Client would make the client an interface value, and since
// text/template (Alertmanager's and the rules' templates) looks methods
// up by name, the linker then keeps every exported method of that client
// and all the code each one reaches: 2,900 operations of the 30 clients,
// 122 MB of a 276 MB binary, for the few dozen Kansoku calls. Each
// paginator gets the one method it calls instead, as a method value in a
// function type (test/e2e TestBinaryKeepsOnlyTheSDKOperationsItCalls).

type cloudwatchListMetrics func(context.Context, *cloudwatch.ListMetricsInput, ...func(*cloudwatch.Options)) (*cloudwatch.ListMetricsOutput, error)

func (f cloudwatchListMetrics) ListMetrics(ctx context.Context, in *cloudwatch.ListMetricsInput, o ...func(*cloudwatch.Options)) (*cloudwatch.ListMetricsOutput, error) {
	return f(ctx, in, o...)
}

type cloudwatchGetMetricData func(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)

func (f cloudwatchGetMetricData) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, o ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return f(ctx, in, o...)
}

type taggingGetResources func(context.Context, *tagging.GetResourcesInput, ...func(*tagging.Options)) (*tagging.GetResourcesOutput, error)

func (f taggingGetResources) GetResources(ctx context.Context, in *tagging.GetResourcesInput, o ...func(*tagging.Options)) (*tagging.GetResourcesOutput, error) {
	return f(ctx, in, o...)
}
