// Package awssim simulates the AWS APIs Kansoku calls, in the wire
// protocols the real aws-sdk-go-v2 clients and the aws CLI speak, so the
// AWS integration and the SNS receiver are tested end to end without AWS
// and `kansoku server --demo` has an account to collect. It stands in for
// AWS and nothing else: its idea of AWS comes from AWS's documentation,
// and it shares no code with the Kansoku it tests (see ../README.md).
//
// A Server is an http.Handler. Every request must be signed with AWS
// Signature Version 4 by a known access key: the simulator's own verifier
// (sigv4.go) checks it against the service named in the credential scope
// (…/<region>/<service>/aws4_request) and hands the request to that
// service. Who signed it (a user of a simulated account, a role session
// from AssumeRole, or an unrestricted key from Options.Credentials) is
// resolved in identity.go, and every call but STS's is authorized with the
// principal's identity policies by the simulator's own evaluator
// (policy.go), so a client that calls more than its role allows fails as
// it would on AWS.
//
// The services are built in one list, Server.newServices (awssim.go):
//
//   - sts (sts.go, query protocol): AssumeRole with the scenario roles'
//     trust policies and External IDs (role chaining included; AWS's
//     AccessDenied, which does not say what was wrong) and
//     GetCallerIdentity.
//   - ec2 (ec2.go, EC2 query protocol): DescribeInstances with filters and
//     pagination; CreateInternetGateway with DryRun to probe permissions.
//   - elasticloadbalancing (elb.go, elbv2.go, query protocol): Classic
//     load balancers, and ALBs/NLBs with their target groups.
//   - rds (rds.go, query protocol): DB instances and clusters.
//   - lambda (lambda.go, REST-JSON): functions.
//   - sqs, dynamodb (sqs.go, dynamodb.go, JSON 1.0): queues and tables.
//   - tagging (tagging.go, JSON 1.1): GetResources with resource type and
//     tag filters over every tagged resource of the scenario.
//   - monitoring (cloudwatch.go, Smithy RPC v2 CBOR as the SDK speaks it,
//     JSON 1.0 for the aws CLI): ListMetrics and GetMetricData over the
//     scenario's resources, with the metrics of published_data.go,
//     deterministic values (MetricValue) and CloudWatch's reporting delay
//     (Scenario.MetricDelay). SetNow moves the simulated clock.
//   - sns (sns.go, query protocol): Publish with SNS's input limits;
//     Published reads messages back.
//   - the discovery calls of the AWS integration's other products, over the
//     generic resources of kinds.go: elasticache, redshift, ses
//     (services_query.go, query protocol); cloudfront, route53, s3
//     (services_xml.go, REST-XML); apigateway, es, elasticfilesystem, batch,
//     connect (services_rest.go, REST-JSON); kinesis, ecs, states,
//     firehose, wafv2, waf, waf-regional, budgets, codebuild, athena
//     (services_json.go, JSON 1.0/1.1). DocumentDB shares rds.go.
//
// What CloudWatch publishes is published_data.go: per namespace, from the
// AWS documentation page it cites, each metric's dimension sets, sensible
// statistics, resolution, publication delay and the traits a resource must
// have (kinds.go derives them from the scenario: engines, instance types,
// enabled features). Nothing of it comes from Kansoku's catalog.
//
// The world is a Scenario (scenario.go; testdata/demo.yaml is an example):
// accounts, their users, roles and resources per region. ARNs are built in
// arns.go. Failures can be injected with FailNext (SNS Publish) or
// FailNextAction (any service and action) to exercise retry logic.
package awssim
