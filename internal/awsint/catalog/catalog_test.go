package catalog

import (
	"encoding/json"
	"strings"
	"testing"
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
	}
	for in, want := range cases {
		if got := MetricName(in[0], in[1], in[2]); got != want {
			t.Errorf("%v: %s, want %s", in, got, want)
		}
	}
	if DimensionLabel("InstanceId") != "dimension_InstanceId" || DimensionLabel("a.b") != "dimension_a_b" {
		t.Error("dimension labels")
	}
}

func TestCatalog(t *testing.T) {
	if got := strings.Join(Keys(), ","); got != "alb,dynamodb,ec2,elb,lambda,nlb,rds,sqs" {
		t.Fatalf("products: %s", got)
	}
	for _, p := range All() {
		if p.Discover == nil || len(p.Actions) == 0 || len(p.MetricSets) == 0 {
			t.Errorf("%s is incomplete", p.Key)
		}
		seen := map[string]bool{}
		for _, s := range p.Selectables() {
			if seen[s.Set+"/"+s.Name] {
				t.Errorf("%s: %s twice", p.Key, s.Name)
			}
			seen[s.Set+"/"+s.Name] = true
		}
		if want := Standard; (p.Key == "ec2") != (p.HostKind == want) {
			t.Errorf("%s: host kind %s", p.Key, p.HostKind)
		}
	}
	// Every discovery action is in Mackerel's full policy (the tagging API
	// is Kansoku's one addition).
	full := FullPolicy()
	allowed := full.Statement[0].Action.([]string)
	covered := func(action string) bool {
		for _, a := range allowed {
			if a == action || strings.HasSuffix(a, "*") && strings.HasPrefix(action, strings.TrimSuffix(a, "*")) {
				return true
			}
		}
		return false
	}
	for _, p := range All() {
		for _, a := range append(p.Actions, CommonActions...) {
			if !covered(a) {
				t.Errorf("%s needs %s, which the full policy does not grant", p.Key, a)
			}
		}
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
	b, _ = json.Marshal(TrustPolicy("111111111111", "kansoku-abc"))
	if want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"kansoku-abc"}}}]}`; string(b) != want {
		t.Fatalf("trust policy: %s", b)
	}
}
