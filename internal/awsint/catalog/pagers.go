package catalog

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/budgets"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/docdb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// The SDK's paginators take a one-method interface. Handing them a
// *Client would make the client an interface value, and since
// text/template (Alertmanager's and the rules' templates) looks methods
// up by name, the linker then keeps every exported method of that client
// and all the code each one reaches: 2,900 operations of the 30 clients,
// 122 MB of a 276 MB binary, for the few dozen Kansoku calls. Each
// paginator gets the one method it calls instead, as a method value in a
// function type (test/e2e TestBinaryKeepsOnlyTheSDKOperationsItCalls).

type s3ListBuckets func(context.Context, *s3.ListBucketsInput, ...func(*s3.Options)) (*s3.ListBucketsOutput, error)

func (f s3ListBuckets) ListBuckets(ctx context.Context, in *s3.ListBucketsInput, o ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	return f(ctx, in, o...)
}

type efsDescribeFileSystems func(context.Context, *efs.DescribeFileSystemsInput, ...func(*efs.Options)) (*efs.DescribeFileSystemsOutput, error)

func (f efsDescribeFileSystems) DescribeFileSystems(ctx context.Context, in *efs.DescribeFileSystemsInput, o ...func(*efs.Options)) (*efs.DescribeFileSystemsOutput, error) {
	return f(ctx, in, o...)
}

type sqsListQueues func(context.Context, *sqs.ListQueuesInput, ...func(*sqs.Options)) (*sqs.ListQueuesOutput, error)

func (f sqsListQueues) ListQueues(ctx context.Context, in *sqs.ListQueuesInput, o ...func(*sqs.Options)) (*sqs.ListQueuesOutput, error) {
	return f(ctx, in, o...)
}

type kinesisListStreams func(context.Context, *kinesis.ListStreamsInput, ...func(*kinesis.Options)) (*kinesis.ListStreamsOutput, error)

func (f kinesisListStreams) ListStreams(ctx context.Context, in *kinesis.ListStreamsInput, o ...func(*kinesis.Options)) (*kinesis.ListStreamsOutput, error) {
	return f(ctx, in, o...)
}

type sfnListStateMachines func(context.Context, *sfn.ListStateMachinesInput, ...func(*sfn.Options)) (*sfn.ListStateMachinesOutput, error)

func (f sfnListStateMachines) ListStateMachines(ctx context.Context, in *sfn.ListStateMachinesInput, o ...func(*sfn.Options)) (*sfn.ListStateMachinesOutput, error) {
	return f(ctx, in, o...)
}

type rdsDescribeDBClusters func(context.Context, *rds.DescribeDBClustersInput, ...func(*rds.Options)) (*rds.DescribeDBClustersOutput, error)

func (f rdsDescribeDBClusters) DescribeDBClusters(ctx context.Context, in *rds.DescribeDBClustersInput, o ...func(*rds.Options)) (*rds.DescribeDBClustersOutput, error) {
	return f(ctx, in, o...)
}

type rdsDescribeDBInstances func(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)

func (f rdsDescribeDBInstances) DescribeDBInstances(ctx context.Context, in *rds.DescribeDBInstancesInput, o ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error) {
	return f(ctx, in, o...)
}

type docdbDescribeDBClusters func(context.Context, *docdb.DescribeDBClustersInput, ...func(*docdb.Options)) (*docdb.DescribeDBClustersOutput, error)

func (f docdbDescribeDBClusters) DescribeDBClusters(ctx context.Context, in *docdb.DescribeDBClustersInput, o ...func(*docdb.Options)) (*docdb.DescribeDBClustersOutput, error) {
	return f(ctx, in, o...)
}

type docdbDescribeDBInstances func(context.Context, *docdb.DescribeDBInstancesInput, ...func(*docdb.Options)) (*docdb.DescribeDBInstancesOutput, error)

func (f docdbDescribeDBInstances) DescribeDBInstances(ctx context.Context, in *docdb.DescribeDBInstancesInput, o ...func(*docdb.Options)) (*docdb.DescribeDBInstancesOutput, error) {
	return f(ctx, in, o...)
}

type elasticacheDescribeReplicationGroups func(context.Context, *elasticache.DescribeReplicationGroupsInput, ...func(*elasticache.Options)) (*elasticache.DescribeReplicationGroupsOutput, error)

func (f elasticacheDescribeReplicationGroups) DescribeReplicationGroups(ctx context.Context, in *elasticache.DescribeReplicationGroupsInput, o ...func(*elasticache.Options)) (*elasticache.DescribeReplicationGroupsOutput, error) {
	return f(ctx, in, o...)
}

type elasticacheDescribeCacheClusters func(context.Context, *elasticache.DescribeCacheClustersInput, ...func(*elasticache.Options)) (*elasticache.DescribeCacheClustersOutput, error)

func (f elasticacheDescribeCacheClusters) DescribeCacheClusters(ctx context.Context, in *elasticache.DescribeCacheClustersInput, o ...func(*elasticache.Options)) (*elasticache.DescribeCacheClustersOutput, error) {
	return f(ctx, in, o...)
}

type redshiftDescribeClusters func(context.Context, *redshift.DescribeClustersInput, ...func(*redshift.Options)) (*redshift.DescribeClustersOutput, error)

func (f redshiftDescribeClusters) DescribeClusters(ctx context.Context, in *redshift.DescribeClustersInput, o ...func(*redshift.Options)) (*redshift.DescribeClustersOutput, error) {
	return f(ctx, in, o...)
}

type dynamodbListTables func(context.Context, *dynamodb.ListTablesInput, ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)

func (f dynamodbListTables) ListTables(ctx context.Context, in *dynamodb.ListTablesInput, o ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error) {
	return f(ctx, in, o...)
}

type cloudfrontListDistributions func(context.Context, *cloudfront.ListDistributionsInput, ...func(*cloudfront.Options)) (*cloudfront.ListDistributionsOutput, error)

func (f cloudfrontListDistributions) ListDistributions(ctx context.Context, in *cloudfront.ListDistributionsInput, o ...func(*cloudfront.Options)) (*cloudfront.ListDistributionsOutput, error) {
	return f(ctx, in, o...)
}

type apigatewayGetRestApis func(context.Context, *apigateway.GetRestApisInput, ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error)

func (f apigatewayGetRestApis) GetRestApis(ctx context.Context, in *apigateway.GetRestApisInput, o ...func(*apigateway.Options)) (*apigateway.GetRestApisOutput, error) {
	return f(ctx, in, o...)
}

type route53ListHealthChecks func(context.Context, *route53.ListHealthChecksInput, ...func(*route53.Options)) (*route53.ListHealthChecksOutput, error)

func (f route53ListHealthChecks) ListHealthChecks(ctx context.Context, in *route53.ListHealthChecksInput, o ...func(*route53.Options)) (*route53.ListHealthChecksOutput, error) {
	return f(ctx, in, o...)
}

type route53ListHostedZones func(context.Context, *route53.ListHostedZonesInput, ...func(*route53.Options)) (*route53.ListHostedZonesOutput, error)

func (f route53ListHostedZones) ListHostedZones(ctx context.Context, in *route53.ListHostedZonesInput, o ...func(*route53.Options)) (*route53.ListHostedZonesOutput, error) {
	return f(ctx, in, o...)
}

type budgetsDescribeBudgets func(context.Context, *budgets.DescribeBudgetsInput, ...func(*budgets.Options)) (*budgets.DescribeBudgetsOutput, error)

func (f budgetsDescribeBudgets) DescribeBudgets(ctx context.Context, in *budgets.DescribeBudgetsInput, o ...func(*budgets.Options)) (*budgets.DescribeBudgetsOutput, error) {
	return f(ctx, in, o...)
}

type connectListInstances func(context.Context, *connect.ListInstancesInput, ...func(*connect.Options)) (*connect.ListInstancesOutput, error)

func (f connectListInstances) ListInstances(ctx context.Context, in *connect.ListInstancesInput, o ...func(*connect.Options)) (*connect.ListInstancesOutput, error) {
	return f(ctx, in, o...)
}

type codebuildListProjects func(context.Context, *codebuild.ListProjectsInput, ...func(*codebuild.Options)) (*codebuild.ListProjectsOutput, error)

func (f codebuildListProjects) ListProjects(ctx context.Context, in *codebuild.ListProjectsInput, o ...func(*codebuild.Options)) (*codebuild.ListProjectsOutput, error) {
	return f(ctx, in, o...)
}

type athenaListWorkGroups func(context.Context, *athena.ListWorkGroupsInput, ...func(*athena.Options)) (*athena.ListWorkGroupsOutput, error)

func (f athenaListWorkGroups) ListWorkGroups(ctx context.Context, in *athena.ListWorkGroupsInput, o ...func(*athena.Options)) (*athena.ListWorkGroupsOutput, error) {
	return f(ctx, in, o...)
}

type ec2DescribeInstances func(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)

func (f ec2DescribeInstances) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return f(ctx, in, o...)
}

type elbDescribeLoadBalancers func(context.Context, *elb.DescribeLoadBalancersInput, ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error)

func (f elbDescribeLoadBalancers) DescribeLoadBalancers(ctx context.Context, in *elb.DescribeLoadBalancersInput, o ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error) {
	return f(ctx, in, o...)
}

type elbv2DescribeLoadBalancers func(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)

func (f elbv2DescribeLoadBalancers) DescribeLoadBalancers(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, o ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	return f(ctx, in, o...)
}

type lambdaListFunctions func(context.Context, *lambda.ListFunctionsInput, ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)

func (f lambdaListFunctions) ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, o ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error) {
	return f(ctx, in, o...)
}

type ecsListClusters func(context.Context, *ecs.ListClustersInput, ...func(*ecs.Options)) (*ecs.ListClustersOutput, error)

func (f ecsListClusters) ListClusters(ctx context.Context, in *ecs.ListClustersInput, o ...func(*ecs.Options)) (*ecs.ListClustersOutput, error) {
	return f(ctx, in, o...)
}

type batchDescribeJobQueues func(context.Context, *batch.DescribeJobQueuesInput, ...func(*batch.Options)) (*batch.DescribeJobQueuesOutput, error)

func (f batchDescribeJobQueues) DescribeJobQueues(ctx context.Context, in *batch.DescribeJobQueuesInput, o ...func(*batch.Options)) (*batch.DescribeJobQueuesOutput, error) {
	return f(ctx, in, o...)
}

type batchListJobs func(context.Context, *batch.ListJobsInput, ...func(*batch.Options)) (*batch.ListJobsOutput, error)

func (f batchListJobs) ListJobs(ctx context.Context, in *batch.ListJobsInput, o ...func(*batch.Options)) (*batch.ListJobsOutput, error) {
	return f(ctx, in, o...)
}
