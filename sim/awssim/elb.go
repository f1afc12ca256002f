package awssim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Elastic Load Balancing: Classic Load Balancers (API version 2012-06-01,
// this file) and Application/Network Load Balancers ("ELBv2", API version
// 2015-12-01, elbv2.go). Both APIs are signed for the same service,
// elasticloadbalancing, and served by one simulator that dispatches on
// the request's Version parameter. Both speak the Query protocol.

const (
	elbService        = "elasticloadbalancing"
	elbClassicVersion = "2012-06-01"
	elbv2Version      = "2015-12-01"
	elbClassicXMLNS   = "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/"
	elbv2XMLNS        = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
	// elbMaxPageSize bounds PageSize in both APIs.
	elbMaxPageSize = 400
	// elbMaxTagResources bounds the load balancers of one DescribeTags.
	elbMaxTagResources = 20
)

// newELBService builds the elasticloadbalancing simulator, which answers
// both API versions: Classic (this file) and ELBv2 (elbv2.go).
func newELBService(s *Server) *elbSim { return &elbSim{s: s} }

type elbSim struct{ s *Server }

// elbAPIHandler answers one action of an ELB API version.
type elbAPIHandler func(sv *elbSim, params url.Values, req *request) (any, *apiError)

var (
	elbClassicActions = map[string]elbAPIHandler{
		"DescribeLoadBalancers": (*elbSim).describeClassicLoadBalancers,
		"DescribeTags":          (*elbSim).describeClassicTags,
	}
	elbv2Actions = map[string]elbAPIHandler{
		"DescribeLoadBalancers": (*elbSim).describeLoadBalancersV2,
		"DescribeTags":          (*elbSim).describeTagsV2,
	}
)

// writeError writes errors that precede dispatch (authentication). The
// version is not known yet; both namespaces are equivalent to clients.
func (sv *elbSim) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	writeQueryError(w, elbv2XMLNS, e, requestID)
}

func (sv *elbSim) serve(w http.ResponseWriter, r *http.Request, req *request) {
	params, aerr := queryParams(r, req.body)
	var action, version string
	if aerr == nil {
		action, _, aerr = singleParam(params, "Action")
	}
	if aerr == nil {
		version, _, aerr = singleParam(params, "Version")
	}
	xmlns, handlers := elbv2XMLNS, elbv2Actions
	if version == elbClassicVersion {
		xmlns, handlers = elbClassicXMLNS, elbClassicActions
	}
	out, aerr := sv.s.performCall(req, action, func() (any, *apiError) {
		switch {
		case aerr != nil:
			return nil, aerr
		case action == "":
			return nil, errorf(http.StatusBadRequest, "MissingAction", "Request is missing Action parameter")
		case version == "":
			return nil, errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter Version")
		case version != elbClassicVersion && version != elbv2Version:
			return nil, errorf(http.StatusBadRequest, "NoSuchVersion", "The requested version (%s) of service elasticloadbalancing does not exist", version)
		}
		h, ok := handlers[action]
		if !ok {
			return nil, errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", action, version)
		}
		return h(sv, params, req)
	})
	if aerr != nil {
		writeQueryError(w, xmlns, aerr, req.id)
		return
	}
	writeQueryResult(w, xmlns, action, out, req.id)
}

// memberList is a Query-protocol XML list: <Name><member>…</member></Name>.
// The wrapper element is written even when the list is empty, as AWS does.
type memberList[T any] struct {
	Member []T `xml:"member"`
}

// queryTime is the Query protocol's timestamp format.
func queryTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func elbValidationError(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

// elbPageSize reads PageSize (1..400, default 400).
func elbPageSize(params url.Values) (int, *apiError) {
	v, ok, aerr := singleParam(params, "PageSize")
	if aerr != nil || !ok {
		return elbMaxPageSize, aerr
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > elbMaxPageSize {
		return 0, elbValidationError("1 validation error detected: Value '%s' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and %d", v, elbMaxPageSize)
	}
	return n, nil
}

// elbMarker reads Marker as a resume point of the listing kind.
func elbMarker(params url.Values, kind string) (string, *apiError) {
	v, ok, aerr := singleParam(params, "Marker")
	if aerr != nil || !ok {
		return "", aerr
	}
	after, valid := parseResumeToken(kind, v)
	if !valid {
		return "", elbValidationError("Invalid Marker: %s", v)
	}
	return after, nil
}

// elbTagList is ELB's tag list, in key order.
func elbTagList(t Tags) memberList[elbTag] {
	var l memberList[elbTag]
	for _, k := range tagKeysSorted(t) {
		l.Member = append(l.Member, elbTag{Key: k, Value: t[k]})
	}
	return l
}

type elbTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// elbHostedZoneID is the (simulated) Route 53 zone id of a region's load
// balancer DNS names; kind separates classic/ALB from NLB zones.
func elbHostedZoneID(region, kind string) string {
	return "Z" + strings.ToUpper(digestAlnum(13, "elb-zone", kind, region))
}

// elbSchemeOr returns scheme, or internet-facing when unset.
func elbSchemeOr(scheme string) string {
	if scheme == "" {
		return "internet-facing"
	}
	return scheme
}

// elbDNSName is an ALB's or Classic Load Balancer's DNS name:
// [internal-]<name>-<digits>.<region>.elb.amazonaws.com.
func elbDNSName(region, account, kind, name, scheme string) string {
	prefix := ""
	if scheme == "internal" {
		prefix = "internal-"
	}
	return prefix + name + "-" + digestDigits(10, "elb-dns", kind, account, region, name) + "." + region + ".elb.amazonaws.com"
}

// elbVPC is the (derived) VPC of an account's load balancers in a region.
func elbVPC(region, account string) string {
	return "vpc-" + digestHex(17, "vpc", account, region)
}

// elbSubnet is the (derived) subnet of an account's load balancers in an
// availability zone.
func elbSubnet(account, zone string) string {
	return "subnet-" + digestHex(17, "subnet", account, zone)
}

// ---- Classic Load Balancers ----

type elbClassicDescribeResult struct {
	LoadBalancerDescriptions memberList[elbClassicDescription] `xml:"LoadBalancerDescriptions"`
	NextMarker               string                            `xml:"NextMarker,omitempty"`
}

type elbClassicDescription struct {
	LoadBalancerName          string                      `xml:"LoadBalancerName"`
	DNSName                   string                      `xml:"DNSName"`
	CanonicalHostedZoneName   string                      `xml:"CanonicalHostedZoneName,omitempty"`
	CanonicalHostedZoneNameID string                      `xml:"CanonicalHostedZoneNameID"`
	ListenerDescriptions      memberList[elbListenerDesc] `xml:"ListenerDescriptions"`
	Policies                  elbPolicies                 `xml:"Policies"`
	BackendServerDescriptions memberList[string]          `xml:"BackendServerDescriptions"`
	AvailabilityZones         memberList[string]          `xml:"AvailabilityZones"`
	Subnets                   memberList[string]          `xml:"Subnets"`
	VPCId                     string                      `xml:"VPCId"`
	Instances                 memberList[elbInstance]     `xml:"Instances"`
	HealthCheck               elbHealthCheck              `xml:"HealthCheck"`
	SourceSecurityGroup       elbSourceSecurityGroup      `xml:"SourceSecurityGroup"`
	SecurityGroups            memberList[string]          `xml:"SecurityGroups"`
	CreatedTime               string                      `xml:"CreatedTime"`
	Scheme                    string                      `xml:"Scheme"`
}

type elbListenerDesc struct {
	Listener    elbListener        `xml:"Listener"`
	PolicyNames memberList[string] `xml:"PolicyNames"`
}

type elbListener struct {
	Protocol         string `xml:"Protocol"`
	LoadBalancerPort int    `xml:"LoadBalancerPort"`
	InstanceProtocol string `xml:"InstanceProtocol"`
	InstancePort     int    `xml:"InstancePort"`
}

type elbPolicies struct {
	AppCookieStickinessPolicies memberList[string] `xml:"AppCookieStickinessPolicies"`
	LBCookieStickinessPolicies  memberList[string] `xml:"LBCookieStickinessPolicies"`
	OtherPolicies               memberList[string] `xml:"OtherPolicies"`
}

type elbInstance struct {
	InstanceID string `xml:"InstanceId"`
}

type elbHealthCheck struct {
	Target             string `xml:"Target"`
	Interval           int    `xml:"Interval"`
	Timeout            int    `xml:"Timeout"`
	UnhealthyThreshold int    `xml:"UnhealthyThreshold"`
	HealthyThreshold   int    `xml:"HealthyThreshold"`
}

type elbSourceSecurityGroup struct {
	OwnerAlias string `xml:"OwnerAlias"`
	GroupName  string `xml:"GroupName"`
}

// classicELBDescription renders a Classic Load Balancer as
// DescribeLoadBalancers reports it.
func classicELBDescription(region, account string, lb *ClassicELB) elbClassicDescription {
	scheme := elbSchemeOr(lb.Scheme)
	dns := elbDNSName(region, account, "classic", lb.Name, scheme)
	zones := lb.AvailabilityZones
	if len(zones) == 0 {
		zones = []string{region + "a"}
	}
	d := elbClassicDescription{
		LoadBalancerName:          lb.Name,
		DNSName:                   dns,
		CanonicalHostedZoneName:   dns,
		CanonicalHostedZoneNameID: elbHostedZoneID(region, "classic"),
		ListenerDescriptions: memberList[elbListenerDesc]{Member: []elbListenerDesc{{
			Listener: elbListener{Protocol: "HTTP", LoadBalancerPort: 80, InstanceProtocol: "HTTP", InstancePort: 80},
		}}},
		AvailabilityZones:   memberList[string]{Member: append([]string(nil), zones...)},
		VPCId:               elbVPC(region, account),
		HealthCheck:         elbHealthCheck{Target: "TCP:80", Interval: 30, Timeout: 5, UnhealthyThreshold: 2, HealthyThreshold: 10},
		SourceSecurityGroup: elbSourceSecurityGroup{OwnerAlias: account, GroupName: lb.Name + "-sg"},
		SecurityGroups:      memberList[string]{Member: []string{"sg-" + digestHex(17, "classic-sg", account, region, lb.Name)}},
		CreatedTime:         queryTime(digestTime("classic-elb", account, region, lb.Name)),
		Scheme:              scheme,
	}
	for _, z := range zones {
		d.Subnets.Member = append(d.Subnets.Member, elbSubnet(account, z))
	}
	for _, id := range lb.Instances {
		d.Instances.Member = append(d.Instances.Member, elbInstance{InstanceID: id})
	}
	return d
}

// elbNames reads a list of load balancer names.
func elbNames(params url.Values, prefix string) ([]string, *apiError) {
	names, aerr := queryList(params, prefix)
	if aerr != nil {
		return nil, elbValidationError("%s", aerr.message)
	}
	return names, nil
}

func (sv *elbSim) describeClassicLoadBalancers(params url.Values, req *request) (any, *apiError) {
	if e := sv.s.authorize(req, "elasticloadbalancing:DescribeLoadBalancers", "*"); e != nil {
		return nil, e
	}
	names, aerr := elbNames(params, "LoadBalancerNames.member")
	if aerr != nil {
		return nil, aerr
	}
	pageSize, aerr := elbPageSize(params)
	if aerr != nil {
		return nil, aerr
	}
	after, aerr := elbMarker(params, "classic-elb")
	if aerr != nil {
		return nil, aerr
	}
	var res elbClassicDescribeResult
	sv.s.read(func(sc *Scenario) {
		rd := req.regionData(sc)
		var selected []*ClassicELB
		if len(names) > 0 {
			for _, n := range names {
				lb := findClassicELB(rd, n)
				if lb == nil {
					aerr = errorf(http.StatusBadRequest, "LoadBalancerNotFound", "There is no ACTIVE Load Balancer named '%s'", n)
					return
				}
				selected = append(selected, lb)
			}
		} else {
			for i := range rd.ClassicELBs {
				selected = append(selected, &rd.ClassicELBs[i])
			}
		}
		page, more := pageAfter(dedupe(selected, func(lb *ClassicELB) string { return lb.Name }),
			func(lb *ClassicELB) string { return lb.Name }, after, pageSize)
		for _, lb := range page {
			res.LoadBalancerDescriptions.Member = append(res.LoadBalancerDescriptions.Member,
				classicELBDescription(req.region, req.principal.AccountID, lb))
		}
		if more {
			res.NextMarker = resumeToken("classic-elb", page[len(page)-1].Name)
		}
	})
	if aerr != nil {
		return nil, aerr
	}
	return res, nil
}

type elbClassicTagsResult struct {
	TagDescriptions memberList[elbClassicTagDescription] `xml:"TagDescriptions"`
}

type elbClassicTagDescription struct {
	LoadBalancerName string             `xml:"LoadBalancerName"`
	Tags             memberList[elbTag] `xml:"Tags"`
}

func (sv *elbSim) describeClassicTags(params url.Values, req *request) (any, *apiError) {
	if e := sv.s.authorize(req, "elasticloadbalancing:DescribeTags", "*"); e != nil {
		return nil, e
	}
	names, aerr := elbNames(params, "LoadBalancerNames.member")
	if aerr != nil {
		return nil, aerr
	}
	if len(names) == 0 {
		return nil, elbValidationError("1 validation error detected: Value null at 'loadBalancerNames' failed to satisfy constraint: Member must not be null")
	}
	if len(names) > elbMaxTagResources {
		return nil, elbValidationError("1 validation error detected: Value at 'loadBalancerNames' failed to satisfy constraint: Member must have length less than or equal to %d", elbMaxTagResources)
	}
	var res elbClassicTagsResult
	sv.s.read(func(sc *Scenario) {
		rd := req.regionData(sc)
		for _, n := range names {
			lb := findClassicELB(rd, n)
			if lb == nil {
				aerr = errorf(http.StatusBadRequest, "LoadBalancerNotFound", "There is no ACTIVE Load Balancer named '%s'", n)
				return
			}
			res.TagDescriptions.Member = append(res.TagDescriptions.Member,
				elbClassicTagDescription{LoadBalancerName: lb.Name, Tags: elbTagList(lb.Tags)})
		}
	})
	if aerr != nil {
		return nil, aerr
	}
	return res, nil
}

func findClassicELB(rd *Region, name string) *ClassicELB {
	for i := range rd.ClassicELBs {
		if rd.ClassicELBs[i].Name == name {
			return &rd.ClassicELBs[i]
		}
	}
	return nil
}

// dedupe drops repeated items (by key), keeping the first.
func dedupe[T any](items []T, key func(T) string) []T {
	seen := map[string]bool{}
	out := items[:0:0]
	for _, it := range items {
		if k := key(it); !seen[k] {
			seen[k] = true
			out = append(out, it)
		}
	}
	return out
}
