package awssim

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// This file derives the identifiers AWS gives the scenario's resources:
// ARNs (as the Describe calls and the Resource Groups Tagging API return
// them) and the id part of ALB/NLB ARNs. Every simulated service builds its
// ARNs here so that the tagging API, CloudWatch and the Describe calls
// agree.

// instanceARN is arn:aws:ec2:<region>:<account>:instance/<id>.
func instanceARN(region, account, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, account, id)
}

// classicELBARN is arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/<name>.
func classicELBARN(region, account, name string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/%s", region, account, name)
}

// loadBalancerV2ARN is
// arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app|net/<name>/<id>
// for an Application (lbType "application") or Network ("network") Load
// Balancer. id may be empty: it is then derived from the name (lbV2ID).
func loadBalancerV2ARN(region, account, lbType, name, id string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/%s", region, account, lbV2Dimension(lbType, name, id))
}

// lbV2ID returns an ALB/NLB's ARN id: id itself when set, else 16 hex
// digits derived deterministically from the name (as AWS's ids look).
func lbV2ID(name, id string) string {
	if id != "" {
		return id
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte("awssim-elbv2/" + name))
	return fmt.Sprintf("%016x", h.Sum64())
}

// lbV2Prefix returns "app" for Application and "net" for Network Load
// Balancers ("application" is the default, as in CreateLoadBalancer).
func lbV2Prefix(lbType string) string {
	switch strings.ToLower(lbType) {
	case "network", "net":
		return "net"
	}
	return "app"
}

// lbV2Dimension is app|net/<name>/<id>: the tail of an ALB/NLB's ARN and
// the value of its CloudWatch dimension LoadBalancer.
func lbV2Dimension(lbType, name, id string) string {
	return lbV2Prefix(lbType) + "/" + name + "/" + lbV2ID(name, id)
}

// dbInstanceARN is arn:aws:rds:<region>:<account>:db:<id>.
func dbInstanceARN(region, account, id string) string {
	return fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", region, account, id)
}

// dbClusterARN is arn:aws:rds:<region>:<account>:cluster:<id>.
func dbClusterARN(region, account, id string) string {
	return fmt.Sprintf("arn:aws:rds:%s:%s:cluster:%s", region, account, id)
}

// lambdaARN is arn:aws:lambda:<region>:<account>:function:<name>.
func lambdaARN(region, account, name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, name)
}

// queueARN is arn:aws:sqs:<region>:<account>:<name>.
func queueARN(region, account, name string) string {
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, account, name)
}

// tableARN is arn:aws:dynamodb:<region>:<account>:table/<name>.
func tableARN(region, account, name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, account, name)
}

// awsRegions are the commercial AWS regions a scenario may name.
var awsRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
	"eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// validRegion reports whether name is a commercial AWS region.
func validRegion(name string) bool {
	for _, r := range awsRegions {
		if r == name {
			return true
		}
	}
	return false
}
