package catalog

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestMetricName(t *testing.T) {
	// YACE's names for the same metrics.
	cases := map[[3]string]string{
		{"AWS/EC2", "CPUUtilization", "Average"}:                "aws_ec2_cpuutilization_average",
		{"AWS/ELB", "RequestCount", "Sum"}:                      "aws_elb_request_count_sum",
		{"AWS/ELB", "HTTPCode_Backend_2XX", "Sum"}:              "aws_elb_httpcode_backend_2_xx_sum",
		{"AWS/EC2", "StatusCheckFailed_Instance", "Maximum"}:    "aws_ec2_status_check_failed_instance_maximum",
		{"AWS/ApplicationELB", "TargetResponseTime", "Average"}: "aws_applicationelb_target_response_time_average",
		{"AWS/NetworkELB", "TCP_Client_Reset_Count", "Sum"}:     "aws_networkelb_tcp_client_reset_count_sum",
		{"AWS/RDS", "FreeStorageSpace", "Average"}:              "aws_rds_free_storage_space_average",
		{"AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum"}: "aws_sqs_approximate_age_of_oldest_message_maximum",
		{"AWS/DynamoDB", "ConsumedReadCapacityUnits", "Sum"}:    "aws_dynamodb_consumed_read_capacity_units_sum",
		{"AWS/Lambda", "Duration", "p99"}:                       "aws_lambda_duration_p99",
		{"Custom/App", "Error%", "Average"}:                     "aws_custom_app_error_percent_average",
		{"AWS/Kinesis", "GetRecords.Latency", "Minimum"}:        "aws_kinesis_get_records_latency_minimum",
		{"WAF", "BlockedRequests", "Sum"}:                       "aws_waf_blocked_requests_sum",
	}
	for in, want := range cases {
		if got := MetricName(in[0], in[1], in[2]); got != want {
			t.Errorf("%v: %s, want %s", in, got, want)
		}
	}
	if DimensionLabel("InstanceId") != "dimension_InstanceId" || DimensionLabel("service class") != "dimension_service_class" {
		t.Error("dimension labels")
	}
}

// mackerelProducts are the 28 products of Mackerel's AWS integration, by
// Kansoku's key.
var mackerelProducts = "alb,apigateway,athena,batch,billing,cloudfront,codebuild,connect,docdb,dynamodb,ec2,ecs,efs,elasticache,elb,es,firehose," +
	"kinesis,lambda,nlb,rds,redshift,route53,s3,ses,sqs,states,waf"

func TestCatalog(t *testing.T) {
	if got := strings.Join(Keys(), ","); got != mackerelProducts {
		t.Fatalf("products: %s", got)
	}
	full := FullPolicy().Statement[0].Action.([]string)
	covered := func(action string) bool {
		for _, a := range full {
			// IAM matches actions case-insensitively (apigateway:GET by apigateway:Get*).
			a, action := strings.ToLower(a), strings.ToLower(action)
			if a == action || strings.HasSuffix(a, "*") && strings.HasPrefix(action, strings.TrimSuffix(a, "*")) {
				return true
			}
		}
		return false
	}
	for _, p := range All() {
		if p.Regional == nil && p.Global == nil || len(p.Actions) == 0 || len(p.MetricSets)+len(p.APIMetrics) == 0 || p.Name == "" || p.HostUnit == "" {
			t.Errorf("%s is incomplete", p.Key)
		}
		if (p.Key == "ec2") != (p.HostKind == Standard) {
			t.Errorf("%s: host kind %s", p.Key, p.HostKind)
		}
		// Mackerel retires hosts automatically for EC2, RDS and ElastiCache.
		if want := p.Key == "ec2" || p.Key == "rds" || p.Key == "elasticache"; p.MackerelRetires != want {
			t.Errorf("%s: MackerelRetires %v", p.Key, p.MackerelRetires)
		}
		seen := map[string]bool{}
		for _, s := range p.Selectables() {
			if seen[s.Key] {
				t.Errorf("%s: %s twice", p.Key, s.Key)
			}
			seen[s.Key] = true
			if s.Group == "" {
				t.Errorf("%s: %s has no group", p.Key, s.Key)
			}
		}
		sets := map[string]bool{}
		for _, s := range p.MetricSets {
			if sets[s.Kind+"/"+s.Name] {
				t.Errorf("%s: set %s/%s twice", p.Key, s.Kind, s.Name)
			}
			sets[s.Kind+"/"+s.Name] = true
			if s.Namespace == "" || s.Period <= 0 || s.Dimensions == nil || len(s.Metrics) == 0 {
				t.Errorf("%s: set %q is incomplete", p.Key, s.Name)
			}
			if s.Latest > 0 && s.Latest < 2*s.Period {
				t.Errorf("%s: set %q looks back %s for a %s period", p.Key, s.Name, s.Latest, s.Period)
			}
		}
		for _, a := range append(append([]string{}, p.Actions...), CommonActions...) {
			if !covered(a) {
				t.Errorf("%s needs %s, which the full policy does not grant", p.Key, a)
			}
		}
	}
}

func TestARNDimensions(t *testing.T) {
	for key, c := range map[string]struct {
		arn  string
		want map[string]string
	}{
		"ec2":        {"arn:aws:ec2:us-east-1:123456789012:instance/i-0abc", map[string]string{"InstanceId": "i-0abc"}},
		"alb":        {"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188", map[string]string{"LoadBalancer": "app/web/50dc6c495c0c9188"}},
		"rds":        {"arn:aws:rds:us-east-1:123456789012:cluster:aurora", map[string]string{"DBClusterIdentifier": "aurora"}},
		"s3":         {"arn:aws-cn:s3:::logs", map[string]string{"BucketName": "logs"}},
		"states":     {"arn:aws:states:us-east-1:123456789012:stateMachine:orders", map[string]string{"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:orders"}},
		"efs":        {"arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0", map[string]string{"FileSystemId": "fs-0123456789abcdef0"}},
		"cloudfront": {"arn:aws:cloudfront::123456789012:distribution/E2QWRUHEXAMPLE", map[string]string{"DistributionId": "E2QWRUHEXAMPLE"}},
		"sqs":        {"arn:aws-us-gov:sqs:us-gov-west-1:123456789012:jobs.fifo", map[string]string{"QueueName": "jobs.fifo"}},
	} {
		p, _ := Get(key)
		r := Resource{ARN: c.arn}
		p.dimsFromARN(&r)
		for k, v := range c.want {
			if r.Dimensions[k] != v {
				t.Errorf("%s: %v, want %v", key, r.Dimensions, c.want)
			}
		}
	}
}

func TestPartitions(t *testing.T) {
	for region, want := range map[string][2]string{
		"us-east-1": {"aws", "us-east-1"}, "ap-northeast-1": {"aws", "us-east-1"},
		"cn-north-1": {"aws-cn", "cn-northwest-1"}, "us-gov-west-1": {"aws-us-gov", "us-gov-west-1"},
	} {
		if p := Partition(region); p != want[0] || GlobalRegion(p) != want[1] {
			t.Errorf("%s: %s %s", region, p, GlobalRegion(p))
		}
	}
	c := &Clients{Config: aws.Config{Region: "cn-north-1"}, AccountID: "123456789012"}
	if got := c.ARN("ec2", "instance/i-1"); got != "arn:aws-cn:ec2:cn-north-1:123456789012:instance/i-1" {
		t.Errorf("ARN in China: %s", got)
	}
}

func TestPolicies(t *testing.T) {
	p, err := PermissionPolicy([]string{"ec2", "rds"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	want := `{"Version":"2012-10-17","Statement":[{"Sid":"KansokuAWSIntegration","Effect":"Allow","Action":["cloudwatch:GetMetricData","cloudwatch:ListMetrics","ec2:DescribeInstances","rds:DescribeDBClusters","rds:DescribeDBInstances","tag:GetResources"],"Resource":"*"}]}`
	if string(b) != want {
		t.Fatalf("permission policy:\n%s\nwant\n%s", b, want)
	}
	if _, err := PermissionPolicy([]string{"s4"}); err == nil {
		t.Fatal("unknown product accepted")
	}
	b, _ = json.Marshal(TrustPolicy("aws-us-gov", "111111111111", "kansoku-abc"))
	if want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws-us-gov:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"kansoku-abc"}}}]}`; string(b) != want {
		t.Fatalf("trust policy: %s", b)
	}
	b, _ = json.Marshal(AssumePolicy("aws", "arn:aws:iam::123456789012:role/K", "123456789012"))
	if want := `{"Version":"2012-10-17","Statement":[{"Sid":"KansokuAssumeIntegrationRole","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/K"}]}`; string(b) != want {
		t.Fatalf("assume policy: %s", b)
	}
	if got := AssumePolicy("aws-cn", "", "123456789012").Statement[0].Resource; got != "arn:aws-cn:iam::123456789012:role/*" {
		t.Fatalf("assume policy without a role: %v", got)
	}
}

func TestSelectionKeys(t *testing.T) {
	alb, _ := Get("alb")
	keys := map[string]bool{}
	for _, s := range alb.Selectables() {
		keys[s.Key] = true
	}
	// The load balancer's RequestCount and each target group's are two
	// series families of one name.
	if !keys["aws_applicationelb_request_count_sum"] || !keys["aws_applicationelb_request_count_sum:target_group"] ||
		!keys["aws_applicationelb_healthy_host_count_average:target_group"] || keys["aws_applicationelb_healthy_host_count_average"] {
		t.Errorf("ALB keys: %v", keys)
	}
	rds, _ := Get("rds")
	n := 0
	for _, s := range rds.Selectables() {
		if s.Key == "aws_rds_cpuutilization_average" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("RDS's instance and cluster CPUUtilization are one series family: %d", n)
	}
	batch, _ := Get("batch")
	if s := batch.Selectables(); len(s) != 1 || !s[0].API || s[0].Key != "aws_batch_jobs" {
		t.Errorf("Batch: %+v", s)
	}
}

func TestStateMachineFamilies(t *testing.T) {
	def := `{"StartAt":"A","States":{
		"A":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:approve","Next":"B"},
		"B":{"Type":"Parallel","Branches":[{"StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:resize","End":true}}}],"Next":"D"},
		"D":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl":"x"},"Next":"E"},
		"E":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:approve","End":true}}}`
	want := map[string][]string{
		"ActivityArn":                   {"arn:aws:states:us-east-1:123456789012:activity:approve"},
		"LambdaFunctionArn":             {"arn:aws:lambda:us-east-1:123456789012:function:resize"},
		"ServiceIntegrationResourceArn": {"arn:aws:states:::sqs:sendMessage"},
	}
	if got := stateMachineFamilies(def); !reflect.DeepEqual(got, want) {
		t.Errorf("%v", got)
	}
	if stateMachineFamilies("{") != nil {
		t.Error("a broken definition")
	}
}

func TestNewMetricStat(t *testing.T) {
	for name, want := range map[string]string{"FreshRequestCount": Sum, "Errors": Sum, "NumberOfMessagesReceived": Sum, "IncomingBytes": Sum,
		"CPUUtilization": Avg, "FreeableMemory": Avg, "Latency": Avg, "BurstBalance": Avg} {
		if got := NewMetricStat(name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

func TestMetricCounts(t *testing.T) {
	// The series per resource that Mackerel's pages announce, where the
	// catalog reproduces them exactly.
	for key, want := range map[string]int{"elb": 14, "nlb": 21 + 2, "kinesis": 34, "sqs": 11, "codebuild": 20} {
		p, _ := Get(key)
		if got := len(p.Selectables()); got != want {
			t.Errorf("%s: %d series families, want %d", key, got, want)
		}
	}
}
