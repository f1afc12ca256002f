package awssim

// ManagedPolicies are the AWS-managed policies a scenario may attach by
// name, reduced to the statements that matter for the simulated services
// (the real documents list more services). Inline JSON documents may be
// used as well.
var ManagedPolicies = map[string]string{
	"AdministratorAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
	"PowerUserAccess":     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}`,
	"ReadOnlyAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"cloudwatch:Describe*","cloudwatch:Get*","cloudwatch:List*","dynamodb:Describe*","dynamodb:List*",
		"ec2:Describe*","elasticloadbalancing:Describe*","lambda:Get*","lambda:List*","rds:Describe*","rds:List*",
		"sqs:Get*","sqs:List*","tag:Get*","sns:Get*","sns:List*",
		"apigateway:GET","athena:Get*","athena:List*","batch:Describe*","batch:List*","budgets:View*","cloudfront:Get*",
		"cloudfront:List*","codebuild:BatchGet*","codebuild:List*","connect:Describe*","connect:List*","ecs:Describe*",
		"ecs:List*","elasticache:Describe*","elasticache:List*","elasticfilesystem:Describe*","es:Describe*","es:List*",
		"firehose:Describe*","firehose:List*","kinesis:Describe*","kinesis:List*","redshift:Describe*","route53:Get*",
		"route53:List*","s3:Get*","s3:List*","ses:Describe*","ses:Get*","ses:List*","states:Describe*","states:List*",
		"waf:Get*","waf:List*","waf-regional:Get*","waf-regional:List*","wafv2:Get*","wafv2:List*"],"Resource":"*"}]}`,
	"AmazonEC2ReadOnlyAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"ec2:Describe*","elasticloadbalancing:Describe*","cloudwatch:ListMetrics","cloudwatch:GetMetricStatistics",
		"cloudwatch:Describe*","autoscaling:Describe*"],"Resource":"*"}]}`,
	"CloudWatchReadOnlyAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"autoscaling:Describe*","cloudwatch:Describe*","cloudwatch:Get*","cloudwatch:List*","logs:Get*","logs:List*",
		"logs:Describe*","sns:Get*","sns:List*"],"Resource":"*"}]}`,
	"AmazonRDSReadOnlyAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"rds:Describe*","rds:ListTagsForResource","ec2:DescribeAccountAttributes","ec2:DescribeAvailabilityZones",
		"ec2:DescribeInternetGateways","ec2:DescribeSecurityGroups","ec2:DescribeSubnets","ec2:DescribeVpcAttribute",
		"ec2:DescribeVpcs"],"Resource":"*"},{"Effect":"Allow","Action":["cloudwatch:GetMetricStatistics","cloudwatch:ListMetrics",
		"cloudwatch:GetMetricData","logs:DescribeLogStreams","logs:GetLogEvents","devops-guru:GetResourceCollection"],"Resource":"*"}]}`,
	"AWSLambda_ReadOnlyAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"cloudformation:DescribeStacks","cloudwatch:GetMetricData","cloudwatch:ListMetrics","ec2:DescribeSecurityGroups",
		"ec2:DescribeSubnets","ec2:DescribeVpcs","iam:GetPolicy","iam:ListRoles","lambda:Get*","lambda:List*",
		"logs:DescribeLogGroups","tag:GetResources"],"Resource":"*"}]}`,
	"AmazonSQSReadOnlyAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"sqs:GetQueueAttributes","sqs:GetQueueUrl","sqs:ListDeadLetterSourceQueues","sqs:ListQueues",
		"sqs:ListMessageMoveTasks"],"Resource":"*"}]}`,
	"AmazonDynamoDBReadOnlyAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"application-autoscaling:DescribeScalableTargets","cloudwatch:DescribeAlarms","cloudwatch:GetMetricStatistics",
		"cloudwatch:GetMetricData","cloudwatch:ListMetrics","dynamodb:BatchGetItem","dynamodb:Describe*",
		"dynamodb:GetItem","dynamodb:List*","dynamodb:Query","dynamodb:Scan","tag:GetResources"],"Resource":"*"}]}`,
}
