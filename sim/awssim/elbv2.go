package awssim

import (
	"net/http"
	"net/url"
	"strings"
)

// ELBv2 (Application and Network Load Balancers), API version 2015-12-01.
// Served by the elasticloadbalancing simulator of elb.go.

type elbv2DescribeResult struct {
	LoadBalancers memberList[elbv2LoadBalancer] `xml:"LoadBalancers"`
	NextMarker    string                        `xml:"NextMarker,omitempty"`
}

type elbv2LoadBalancer struct {
	LoadBalancerArn       string                `xml:"LoadBalancerArn"`
	DNSName               string                `xml:"DNSName"`
	CanonicalHostedZoneID string                `xml:"CanonicalHostedZoneId"`
	CreatedTime           string                `xml:"CreatedTime"`
	LoadBalancerName      string                `xml:"LoadBalancerName"`
	Scheme                string                `xml:"Scheme"`
	VpcID                 string                `xml:"VpcId"`
	State                 elbv2State            `xml:"State"`
	Type                  string                `xml:"Type"`
	AvailabilityZones     memberList[elbv2Zone] `xml:"AvailabilityZones"`
	SecurityGroups        *memberList[string]   `xml:"SecurityGroups,omitempty"`
	IPAddressType         string                `xml:"IpAddressType"`
}

type elbv2State struct {
	Code string `xml:"Code"`
}

type elbv2Zone struct {
	ZoneName              string                          `xml:"ZoneName"`
	SubnetID              string                          `xml:"SubnetId"`
	LoadBalancerAddresses memberList[elbv2LoadBalancerIP] `xml:"LoadBalancerAddresses"`
}

type elbv2LoadBalancerIP struct {
	IPAddress string `xml:"IpAddress,omitempty"`
}

// elbv2Type returns an ALB's or NLB's type as the API spells it.
func elbv2Type(lb *LoadBalancerV2) string {
	if lbV2Prefix(lb.Type) == "net" {
		return "network"
	}
	if lbV2Prefix(lb.Type) == "gwy" {
		return "gateway"
	}
	return "application"
}

// elbv2ARN is lb's ARN (arns.go), as the tagging API reports it too.
func elbv2ARN(region, account string, lb *LoadBalancerV2) string {
	return loadBalancerV2ARN(region, account, elbv2Type(lb), lb.Name, lb.ID)
}

// elbv2DNSName is an ALB's [internal-]<name>-<digits>.<region>.elb.amazonaws.com
// or an NLB's [internal-]<name>-<id>.elb.<region>.amazonaws.com.
func elbv2DNSName(region, account string, lb *LoadBalancerV2) string {
	scheme := elbSchemeOr(lb.Scheme)
	if elbv2Type(lb) != "network" {
		return elbDNSName(region, account, "application", lb.Name, scheme)
	}
	prefix := ""
	if scheme == "internal" {
		prefix = "internal-"
	}
	return prefix + lb.Name + "-" + lbV2ID(lb.Name, lb.ID) + ".elb." + region + ".amazonaws.com"
}

// elbv2Description renders an ALB/NLB as DescribeLoadBalancers reports it.
// The scenario names no zones: the load balancer spans the region's a and b
// zones.
func elbv2Description(region, account string, lb *LoadBalancerV2) elbv2LoadBalancer {
	typ := elbv2Type(lb)
	state := lb.State
	if state == "" {
		state = "active"
	}
	d := elbv2LoadBalancer{
		LoadBalancerArn:       elbv2ARN(region, account, lb),
		DNSName:               elbv2DNSName(region, account, lb),
		CanonicalHostedZoneID: elbHostedZoneID(region, typ),
		CreatedTime:           queryTime(digestTime("elbv2", account, region, lb.Name)),
		LoadBalancerName:      lb.Name,
		Scheme:                elbSchemeOr(lb.Scheme),
		VpcID:                 elbVPC(region, account),
		State:                 elbv2State{Code: state},
		Type:                  typ,
		IPAddressType:         "ipv4",
	}
	for _, z := range []string{region + "a", region + "b"} {
		d.AvailabilityZones.Member = append(d.AvailabilityZones.Member, elbv2Zone{ZoneName: z, SubnetID: elbSubnet(account, z)})
	}
	if typ == "application" {
		d.SecurityGroups = &memberList[string]{Member: []string{"sg-" + digestHex(17, "elbv2-sg", account, region, lb.Name)}}
	}
	return d
}

func findLoadBalancerV2(rd *Region, pred func(*LoadBalancerV2) bool) *LoadBalancerV2 {
	for i := range rd.LoadBalancers {
		if pred(&rd.LoadBalancers[i]) {
			return &rd.LoadBalancers[i]
		}
	}
	return nil
}

func (sv *elbSim) describeLoadBalancersV2(params url.Values, req *request) (any, *apiError) {
	if e := sv.s.authorize(req, "elasticloadbalancing:DescribeLoadBalancers", "*"); e != nil {
		return nil, e
	}
	names, aerr := elbNames(params, "Names.member")
	if aerr != nil {
		return nil, aerr
	}
	arns, aerr := elbNames(params, "LoadBalancerArns.member")
	if aerr != nil {
		return nil, aerr
	}
	if len(names) > 0 && len(arns) > 0 {
		return nil, elbValidationError("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	pageSize, aerr := elbPageSize(params)
	if aerr != nil {
		return nil, aerr
	}
	after, aerr := elbMarker(params, "elbv2")
	if aerr != nil {
		return nil, aerr
	}
	region, account := req.region, req.principal.AccountID
	var res elbv2DescribeResult
	sv.s.read(func(sc *Scenario) {
		rd := req.regionData(sc)
		var selected []*LoadBalancerV2
		switch {
		case len(names) > 0:
			for _, n := range names {
				lb := findLoadBalancerV2(rd, func(lb *LoadBalancerV2) bool { return lb.Name == n })
				if lb == nil {
					aerr = errorf(http.StatusBadRequest, "LoadBalancerNotFound", "Load balancers '[%s]' not found", n)
					return
				}
				selected = append(selected, lb)
			}
		case len(arns) > 0:
			for _, arn := range arns {
				lb := findLoadBalancerV2(rd, func(lb *LoadBalancerV2) bool { return elbv2ARN(region, account, lb) == arn })
				if lb == nil {
					aerr = elbv2ARNNotFound(arn)
					return
				}
				selected = append(selected, lb)
			}
		default:
			for i := range rd.LoadBalancers {
				selected = append(selected, &rd.LoadBalancers[i])
			}
		}
		name := func(lb *LoadBalancerV2) string { return lb.Name }
		page, more := pageAfter(dedupe(selected, name), name, after, pageSize)
		for _, lb := range page {
			res.LoadBalancers.Member = append(res.LoadBalancers.Member, elbv2Description(region, account, lb))
		}
		if more {
			res.NextMarker = resumeToken("elbv2", page[len(page)-1].Name)
		}
	})
	if aerr != nil {
		return nil, aerr
	}
	return res, nil
}

// elbv2ARNNotFound is the error for an ARN that names no resource: its
// code depends on the kind of resource the ARN names.
func elbv2ARNNotFound(arn string) *apiError {
	rest, ok := strings.CutPrefix(arn, "arn:aws:elasticloadbalancing:")
	parts := strings.SplitN(rest, ":", 3)
	if !ok || len(parts) != 3 {
		return elbValidationError("'%s' is not a valid load balancer ARN", arn)
	}
	switch kind, _, _ := strings.Cut(parts[2], "/"); kind {
	case "loadbalancer":
		return errorf(http.StatusBadRequest, "LoadBalancerNotFound", "Load balancers '[%s]' not found", arn)
	case "targetgroup":
		return errorf(http.StatusBadRequest, "TargetGroupNotFound", "Target groups '[%s]' not found", arn)
	case "listener":
		return errorf(http.StatusBadRequest, "ListenerNotFound", "Listeners '[%s]' not found", arn)
	case "listener-rule":
		return errorf(http.StatusBadRequest, "RuleNotFound", "Rules '[%s]' not found", arn)
	case "truststore":
		return errorf(http.StatusBadRequest, "TrustStoreNotFound", "Trust stores '[%s]' not found", arn)
	}
	return elbValidationError("'%s' is not a valid resource ARN", arn)
}

type elbv2TagsResult struct {
	TagDescriptions memberList[elbv2TagDescription] `xml:"TagDescriptions"`
}

type elbv2TagDescription struct {
	ResourceArn string             `xml:"ResourceArn"`
	Tags        memberList[elbTag] `xml:"Tags"`
}

func (sv *elbSim) describeTagsV2(params url.Values, req *request) (any, *apiError) {
	if e := sv.s.authorize(req, "elasticloadbalancing:DescribeTags", "*"); e != nil {
		return nil, e
	}
	arns, aerr := elbNames(params, "ResourceArns.member")
	if aerr != nil {
		return nil, aerr
	}
	if len(arns) == 0 {
		return nil, elbValidationError("1 validation error detected: Value null at 'resourceArns' failed to satisfy constraint: Member must not be null")
	}
	if len(arns) > elbMaxTagResources {
		return nil, elbValidationError("1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to %d", elbMaxTagResources)
	}
	region, account := req.region, req.principal.AccountID
	var res elbv2TagsResult
	sv.s.read(func(sc *Scenario) {
		rd := req.regionData(sc)
		for _, arn := range arns {
			lb := findLoadBalancerV2(rd, func(lb *LoadBalancerV2) bool { return elbv2ARN(region, account, lb) == arn })
			if lb == nil {
				aerr = elbv2ARNNotFound(arn)
				return
			}
			res.TagDescriptions.Member = append(res.TagDescriptions.Member,
				elbv2TagDescription{ResourceArn: arn, Tags: elbTagList(lb.Tags)})
		}
	})
	if aerr != nil {
		return nil, aerr
	}
	return res, nil
}
