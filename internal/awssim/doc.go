// Package awssim simulates the parts of AWS APIs that Kansoku talks to, so
// that integrations (today: Alertmanager's SNS receiver) can be tested end to
// end with the real aws-sdk-go-v2 clients and without AWS.
//
// A Server is an http.Handler. Every request must be signed with AWS
// Signature Version 4 by one of the configured access keys; the signature is
// checked with internal/auth's SigV4Verifier against the service named in the
// credential scope (…/<region>/<service>/aws4_request), and the request is
// then handed to that service's simulator. The credential scope's region must
// be the Server's region.
//
// Each simulated service lives in its own file and registers itself by its
// SigV4 signing name (see registerServices in awssim.go). Services speaking
// the AWS Query protocol (SNS today; STS, CloudWatch's query mode, EC2 and
// RDS later) share the helpers in query.go for parameter parsing and the
// XML response and error envelopes.
//
// Simulated services:
//
//   - sns: Publish to topics added with AddTopic, to a TargetArn naming such
//     a topic, or to a phone number; SNS's own input limits are enforced
//     (message and attribute bytes, subject, attribute names and values,
//     FIFO parameters), so a message the simulator accepts is one SNS would
//     accept. Published messages can be read back with Published.
//   - sts (sts.go): AssumeRole with the scenario roles' trust policies and
//     External IDs (role chaining included; AWS's AccessDenied message,
//     which does not say what was wrong) and GetCallerIdentity.
//   - ec2 (ec2.go, EC2 query protocol): DescribeInstances with filters and
//     pagination; CreateInternetGateway with DryRun to probe permissions.
//   - tagging (tagging.go, awsJson1_1): GetResources with resource type and
//     tag filters over every tagged resource of the scenario.
//   - monitoring (cloudwatch.go, Smithy RPC v2 CBOR as the SDK speaks it,
//     and awsJson1_0 for the aws CLI): ListMetrics and GetMetricData over
//     the scenario's resources, with the standard metric sets
//     (StandardMetrics), deterministic values (MetricValue) and
//     CloudWatch's reporting delay (Scenario.MetricDelay). SetNow moves the
//     simulator's clock.
//
// ARNs of scenario resources are built in arns.go, metric sets and values
// in metrics.go; testdata/demo.yaml is an example scenario.
//
// Failures can be injected with FailNext (SNS Publish) or FailNextAction
// (any service and action) to exercise retry logic.
package awssim
