package awssim

import (
	"math"
	"testing"
	"time"
)

func TestMetricValue(t *testing.T) {
	dims := map[string]string{"QueueName": "jobs"}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// The native points: base + 10 sin(2π m/60).
	base := metricBase("AWS/SQS", "NumberOfMessagesSent", dims)
	if base < 0 || base >= 100 {
		t.Fatalf("base %v", base)
	}
	for i := 0; i < 5; i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		want := base + 10*math.Sin(2*math.Pi*float64(at.Unix()/60)/60)
		if got := NativeValue("AWS/SQS", "NumberOfMessagesSent", dims, at); got != want {
			t.Errorf("native at %v = %v, want %v", at, got, want)
		}
		if got := MetricValue("AWS/SQS", "NumberOfMessagesSent", dims, "Average", at, time.Minute); got != want {
			t.Errorf("1-minute average = %v, want the native point %v", got, want)
		}
	}
	var sum, minV, maxV float64 = 0, math.Inf(1), math.Inf(-1)
	for i := 0; i < 5; i++ {
		v := NativeValue("AWS/SQS", "NumberOfMessagesSent", dims, t0.Add(time.Duration(i)*time.Minute))
		sum += v
		minV, maxV = math.Min(minV, v), math.Max(maxV, v)
	}
	for stat, want := range map[string]float64{
		"Sum": sum, "Average": sum / 5, "Minimum": minV, "Maximum": maxV, "SampleCount": 5, "p99": maxV, "p99.9": maxV, "p50": maxV,
	} {
		if got := MetricValue("AWS/SQS", "NumberOfMessagesSent", dims, stat, t0, 5*time.Minute); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", stat, got, want)
		}
	}
	if !math.IsNaN(MetricValue("AWS/SQS", "NumberOfMessagesSent", dims, "Median", t0, time.Minute)) {
		t.Error("unknown statistic is not NaN")
	}
	// EC2's native points are 5 minutes apart: an hour holds 12.
	ec2 := map[string]string{"InstanceId": "i-1"}
	if n := MetricValue("AWS/EC2", "CPUUtilization", ec2, "SampleCount", t0, time.Hour); n != 12 {
		t.Errorf("EC2 hourly SampleCount = %v", n)
	}
	if MetricValue("AWS/EC2", "CPUUtilization", ec2, "Average", t0, 5*time.Minute) != NativeValue("AWS/EC2", "CPUUtilization", ec2, t0) {
		t.Error("EC2 5-minute average is not its native point")
	}
	// Different metrics and dimensions get different levels; the same ones
	// the same, whatever the map order.
	a := MetricValue("AWS/EC2", "CPUUtilization", map[string]string{"InstanceId": "i-1", "X": "y"}, "Average", t0, 5*time.Minute)
	b := MetricValue("AWS/EC2", "CPUUtilization", map[string]string{"X": "y", "InstanceId": "i-1"}, "Average", t0, 5*time.Minute)
	c := MetricValue("AWS/EC2", "CPUUtilization", map[string]string{"InstanceId": "i-2", "X": "y"}, "Average", t0, 5*time.Minute)
	if a != b || a == c {
		t.Errorf("values %v %v %v", a, b, c)
	}
	if EffectivePeriod("AWS/EC2", "CPUUtilization", time.Minute) != 5*time.Minute || EffectivePeriod("AWS/SQS", "NumberOfMessagesSent", time.Minute) != time.Minute ||
		EffectivePeriod("AWS/EC2", "CPUUtilization", time.Hour) != time.Hour || EffectivePeriod("AWS/S3", "BucketSizeBytes", time.Hour) != 24*time.Hour {
		t.Error("EffectivePeriod")
	}
}

func TestARNs(t *testing.T) {
	for got, want := range map[string]string{
		instanceARN("us-east-1", "123456789012", "i-1"):                                        "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
		classicELBARN("us-east-1", "123456789012", "web"):                                      "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/web",
		loadBalancerV2ARN("us-east-1", "123456789012", "application", "a", "0123456789abcdef"): "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/a/0123456789abcdef",
		loadBalancerV2ARN("us-east-1", "123456789012", "network", "n", "0123456789abcdef"):     "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/n/0123456789abcdef",
		dbInstanceARN("eu-west-1", "123456789012", "db1"):                                      "arn:aws:rds:eu-west-1:123456789012:db:db1",
		dbClusterARN("eu-west-1", "123456789012", "c1"):                                        "arn:aws:rds:eu-west-1:123456789012:cluster:c1",
		lambdaARN("eu-west-1", "123456789012", "f"):                                            "arn:aws:lambda:eu-west-1:123456789012:function:f",
		queueARN("eu-west-1", "123456789012", "q"):                                             "arn:aws:sqs:eu-west-1:123456789012:q",
		tableARN("eu-west-1", "123456789012", "t"):                                             "arn:aws:dynamodb:eu-west-1:123456789012:table/t",
	} {
		if got != want {
			t.Errorf("%s, want %s", got, want)
		}
	}
	id := lbV2ID("web-alb", "")
	if len(id) != 16 || id != lbV2ID("web-alb", "") || id == lbV2ID("api-alb", "") || lbV2ID("x", "abc") != "abc" {
		t.Errorf("lbV2ID %q", id)
	}
	lb := LoadBalancerV2{Name: "n", Type: "network"}
	if lb.Namespace() != "AWS/NetworkELB" || lb.Dimensions()["LoadBalancer"] != "net/n/"+lbV2ID("n", "") {
		t.Errorf("NLB %v %v", lb.Namespace(), lb.Dimensions())
	}
}
