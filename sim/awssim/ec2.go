package awssim

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// EC2 (signing name ec2) speaks the EC2 query protocol: form parameters
// like the Query protocol but lists flattened as Name.N (no ".member"),
// responses <ActionResponse xmlns=…><requestId/>…</ActionResponse> with
// lower-camel-case elements and lists of <item>, and errors
// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.

const (
	ec2SigningName = "ec2"
	ec2XMLNS       = "http://ec2.amazonaws.com/doc/2016-11-15/"
)

func newEC2Service(s *Server) *ec2Service { return &ec2Service{s: s} }

type ec2Service struct{ s *Server }

type ec2ErrorResponse struct {
	XMLName xml.Name `xml:"Response"`
	Errors  struct {
		Error struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
	} `xml:"Errors"`
	RequestID string `xml:"RequestID"`
}

// ec2AuthError renames the authentication errors ServeHTTP produces to
// EC2's (EC2 answers AuthFailure where the Query services say
// InvalidClientTokenId or SignatureDoesNotMatch, and RequestExpired for an
// expired session token).
func ec2AuthError(e *apiError) *apiError {
	switch e.code {
	case "InvalidClientTokenId", "SignatureDoesNotMatch":
		return &apiError{status: http.StatusUnauthorized, code: "AuthFailure", message: "AWS was not able to validate the provided access credentials"}
	case "ExpiredToken":
		return &apiError{status: http.StatusBadRequest, code: "RequestExpired", message: "Request has expired."}
	case "AccessDenied":
		return ec2Unauthorized(e)
	}
	return e
}

// ec2Unauthorized turns an authorize failure into EC2's
// UnauthorizedOperation.
func ec2Unauthorized(e *apiError) *apiError {
	return &apiError{status: http.StatusForbidden, code: "UnauthorizedOperation",
		message: "You are not authorized to perform this operation. " + e.message}
}

func (sv *ec2Service) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	e = ec2AuthError(e)
	var resp ec2ErrorResponse
	resp.Errors.Error.Code = e.code
	resp.Errors.Error.Message = e.message
	resp.RequestID = requestID
	b, err := xml.Marshal(resp)
	if err != nil {
		http.Error(w, "awssim: encoding the error response failed", http.StatusInternalServerError)
		return
	}
	setDate(w, sv.s.authNow())
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("x-amzn-RequestId", requestID)
	w.WriteHeader(e.status)
	_, _ = w.Write(append([]byte(xml.Header), b...))
}

func (sv *ec2Service) serve(w http.ResponseWriter, r *http.Request, req *request) {
	params, aerr := queryParams(r, req.body)
	action := ""
	if aerr == nil {
		action, _, aerr = singleParam(params, "Action")
	}
	if aerr == nil && action == "" {
		aerr = errorf(http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action")
	}
	if aerr != nil {
		sv.fail(w, req, action, aerr)
		return
	}
	if f := sv.s.takeFailure(ec2SigningName, action); f != nil {
		sv.fail(w, req, action, f)
		return
	}
	var result any
	switch action {
	case "DescribeInstances":
		result, aerr = sv.describeInstances(params, req)
	case "DescribeAvailabilityZones":
		result, aerr = sv.describeAvailabilityZones(params, req)
	case "CreateInternetGateway":
		aerr = sv.createInternetGateway(params, req)
	default:
		aerr = errorf(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service.", action)
	}
	if aerr != nil {
		sv.fail(w, req, action, aerr)
		return
	}
	sv.s.record(req, action, nil, nil)
	sv.writeResult(w, action, result, req)
}

func (sv *ec2Service) fail(w http.ResponseWriter, req *request, action string, e *apiError) {
	e = ec2AuthError(e)
	sv.s.record(req, action, e, nil)
	sv.writeError(w, e, req.id)
}

// writeResult writes <ActionResponse xmlns><requestId/>result's
// fields</ActionResponse>; result's XMLName is ignored (it must be a
// struct whose fields are the response's elements).
func (sv *ec2Service) writeResult(w http.ResponseWriter, action string, result any, req *request) {
	body, err := xml.Marshal(result)
	if err != nil {
		sv.writeError(w, errorf(http.StatusInternalServerError, "InternalError", "awssim: encoding the response: %v", err), req.id)
		return
	}
	setDate(w, sv.s.authNow())
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("x-amzn-RequestId", req.id)
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprintf(w, "%s<%sResponse xmlns=%q><requestId>%s</requestId>", xml.Header, action, ec2XMLNS, req.id)
	_, _ = w.Write(innerXML(body))
	_, _ = fmt.Fprintf(w, "</%sResponse>", action)
}

// innerXML strips the outer element of a marshalled struct.
func innerXML(b []byte) []byte {
	start := strings.IndexByte(string(b), '>')
	end := strings.LastIndexByte(string(b), '<')
	if start < 0 || end <= start || b[start-1] == '/' {
		return nil
	}
	return b[start+1 : end]
}

// ec2DryRun parses DryRun; with it an allowed request fails with
// DryRunOperation.
func ec2DryRun(params url.Values) (bool, *apiError) {
	v, ok, err := singleParam(params, "DryRun")
	if err != nil || !ok {
		return false, err
	}
	b, perr := strconv.ParseBool(v)
	if perr != nil {
		return false, errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid value '%s' for DryRun", v)
	}
	return b, nil
}

var errDryRunOK = &apiError{status: http.StatusPreconditionFailed, code: "DryRunOperation", message: "Request would have succeeded, but DryRun flag is set."}

func (sv *ec2Service) createInternetGateway(params url.Values, req *request) *apiError {
	dry, err := ec2DryRun(params)
	if err != nil {
		return err
	}
	resource := fmt.Sprintf("arn:aws:ec2:%s:%s:internet-gateway/*", req.region, req.principal.AccountID)
	if err := sv.s.authorize(req, "ec2:CreateInternetGateway", resource); err != nil {
		return ec2Unauthorized(err)
	}
	if dry {
		return errDryRunOK
	}
	return errorf(http.StatusBadRequest, "UnsupportedOperation", "awssim does not create internet gateways (use DryRun to check the permission)")
}

// ec2 DescribeInstances output.

type ec2DescribeInstancesOutput struct {
	XMLName        xml.Name         `xml:"DescribeInstancesResponse"`
	ReservationSet []ec2Reservation `xml:"reservationSet>item"`
	NextToken      string           `xml:"nextToken,omitempty"`
}

type ec2Reservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	GroupSet      struct{}      `xml:"groupSet"`
	InstancesSet  []ec2Instance `xml:"instancesSet>item"`
}

type ec2Instance struct {
	InstanceID    string `xml:"instanceId"`
	ImageID       string `xml:"imageId,omitempty"`
	InstanceState struct {
		Code int    `xml:"code"`
		Name string `xml:"name"`
	} `xml:"instanceState"`
	PrivateDNSName string `xml:"privateDnsName"`
	DNSName        string `xml:"dnsName"`
	Reason         string `xml:"reason"`
	AmiLaunchIndex int    `xml:"amiLaunchIndex"`
	InstanceType   string `xml:"instanceType"`
	LaunchTime     string `xml:"launchTime,omitempty"`
	Placement      struct {
		AvailabilityZone string `xml:"availabilityZone"`
		Tenancy          string `xml:"tenancy"`
	} `xml:"placement"`
	Monitoring struct {
		State string `xml:"state"`
	} `xml:"monitoring"`
	PrivateIPAddress string   `xml:"privateIpAddress,omitempty"`
	IPAddress        string   `xml:"ipAddress,omitempty"`
	SubnetID         string   `xml:"subnetId,omitempty"`
	VPCID            string   `xml:"vpcId,omitempty"`
	Architecture     string   `xml:"architecture"`
	RootDeviceType   string   `xml:"rootDeviceType"`
	TagSet           []ec2Tag `xml:"tagSet>item,omitempty"`
	// NetworkInterfaceSet is the instance's network interfaces
	// (InstanceNetworkInterface): an instance in a VPC has its primary
	// interface, device index 0, in its subnet.
	NetworkInterfaceSet []ec2InstanceENI `xml:"networkInterfaceSet>item,omitempty"`
}

type ec2InstanceENI struct {
	NetworkInterfaceID string `xml:"networkInterfaceId"`
	SubnetID           string `xml:"subnetId"`
	VPCID              string `xml:"vpcId,omitempty"`
	OwnerID            string `xml:"ownerId"`
	Status             string `xml:"status"`
	PrivateIPAddress   string `xml:"privateIpAddress,omitempty"`
	PrivateDNSName     string `xml:"privateDnsName,omitempty"`
	Attachment         struct {
		AttachmentID        string `xml:"attachmentId"`
		DeviceIndex         int    `xml:"deviceIndex"`
		Status              string `xml:"status"`
		DeleteOnTermination bool   `xml:"deleteOnTermination"`
	} `xml:"attachment"`
}

type ec2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// state is the instance's state; an instance whose scenario entry names
// none is running.
func (in Instance) state() string {
	if in.State == "" {
		return "running"
	}
	return in.State
}

// ec2StateCodes are the instance state codes EC2 reports with each state
// name.
var ec2StateCodes = map[string]int{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

func (sv *ec2Service) describeInstances(params url.Values, req *request) (any, *apiError) {
	dry, aerr := ec2DryRun(params)
	if aerr != nil {
		return nil, aerr
	}
	if err := sv.s.authorize(req, "ec2:DescribeInstances", "*"); err != nil {
		return nil, ec2Unauthorized(err)
	}
	if dry {
		return nil, errDryRunOK
	}
	ids, aerr := queryList(params, "InstanceId")
	if aerr != nil {
		return nil, aerr
	}
	filters, aerr := ec2Filters(params)
	if aerr != nil {
		return nil, aerr
	}
	maxResults := 0
	if v, ok, err := singleParam(params, "MaxResults"); err != nil {
		return nil, err
	} else if ok {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 5 || n > 1000 {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue",
				"Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", v)
		}
		if len(ids) > 0 {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterCombination",
				"The parameter instancesSet cannot be used with the parameter maxResults")
		}
		maxResults = n
	}
	after := ""
	if tok, ok, err := singleParam(params, "NextToken"); err != nil {
		return nil, err
	} else if ok && tok != "" {
		b, derr := base64.RawURLEncoding.DecodeString(tok)
		if derr != nil || !strings.HasPrefix(string(b), "after:") {
			return nil, errorf(http.StatusBadRequest, "InvalidPaginationToken", "The specified pagination token is not valid or is expired.")
		}
		after = strings.TrimPrefix(string(b), "after:")
	}
	for _, id := range ids {
		if !strings.HasPrefix(id, "i-") {
			return nil, errorf(http.StatusBadRequest, "InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
		}
	}

	var instances []Instance
	sv.s.read(func(sc *Scenario) {
		for _, in := range req.regionData(sc).Instances {
			in.Tags = in.Tags.clone() // used after the lock is released
			instances = append(instances, in)
		}
	})
	sort.Slice(instances, func(i, j int) bool { return instances[i].ID < instances[j].ID })
	if len(ids) > 0 {
		known := map[string]bool{}
		for _, in := range instances {
			known[in.ID] = true
		}
		var missing []string
		want := map[string]bool{}
		for _, id := range ids {
			want[id] = true
			if !known[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) == 1 {
			return nil, errorf(http.StatusBadRequest, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
		} else if len(missing) > 1 {
			return nil, errorf(http.StatusBadRequest, "InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
		}
		filters = append(filters, ec2Filter{name: "instance-id", values: ids})
	}

	out := &ec2DescribeInstancesOutput{ReservationSet: []ec2Reservation{}}
	for _, in := range instances {
		if after != "" && in.ID <= after {
			continue
		}
		if !ec2Matches(in, filters) {
			continue
		}
		if maxResults > 0 && len(out.ReservationSet) == maxResults {
			last := out.ReservationSet[len(out.ReservationSet)-1].InstancesSet[0].InstanceID
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte("after:" + last))
			break
		}
		out.ReservationSet = append(out.ReservationSet, ec2Reservation{
			ReservationID: ec2ReservationID(in.ID),
			OwnerID:       req.principal.AccountID,
			InstancesSet:  []ec2Instance{ec2InstanceItem(in, req.region, req.principal.AccountID)},
		})
	}
	return out, nil
}

// ec2ReservationID derives a stable reservation id (one reservation per
// instance).
func ec2ReservationID(instanceID string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte("reservation/" + instanceID))
	return fmt.Sprintf("r-%017x", h.Sum64())[:19]
}

func ec2InstanceItem(in Instance, region, owner string) ec2Instance {
	var it ec2Instance
	it.InstanceID = in.ID
	it.ImageID = in.ImageID
	state := in.state()
	it.InstanceState.Name = state
	it.InstanceState.Code = ec2StateCodes[state]
	it.InstanceType = in.Type
	if it.InstanceType == "" {
		it.InstanceType = "t3.micro"
	}
	if !in.LaunchTime.IsZero() {
		it.LaunchTime = in.LaunchTime.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	it.Placement.AvailabilityZone = in.AvailabilityZone
	if it.Placement.AvailabilityZone == "" {
		it.Placement.AvailabilityZone = region + "a"
	}
	it.Placement.Tenancy = "default"
	it.Monitoring.State = "disabled"
	it.Architecture = "x86_64"
	it.RootDeviceType = "ebs"
	if state != "terminated" {
		it.PrivateIPAddress = in.PrivateIP
		if in.PrivateIP != "" {
			it.PrivateDNSName = ec2PrivateDNS(in.PrivateIP, region)
		}
		if in.PublicIP != "" && state != "stopped" && state != "stopping" {
			it.IPAddress = in.PublicIP
			it.DNSName = ec2PublicDNS(in.PublicIP, region)
		}
	}
	if state == "stopped" || state == "terminated" {
		it.Reason = "User initiated"
	}
	// A terminated instance has left its subnet and lost its interfaces.
	if in.SubnetID != "" && state != "terminated" {
		it.SubnetID, it.VPCID = in.SubnetID, in.VPCID
		eni := ec2InstanceENI{NetworkInterfaceID: "eni-" + digestHex(17, "eni", in.ID), SubnetID: in.SubnetID, VPCID: in.VPCID,
			OwnerID: owner, Status: "in-use", PrivateIPAddress: in.PrivateIP, PrivateDNSName: it.PrivateDNSName}
		eni.Attachment.AttachmentID = "eni-attach-" + digestHex(17, "eni-attach", in.ID)
		eni.Attachment.Status = "attached"
		eni.Attachment.DeleteOnTermination = true
		it.NetworkInterfaceSet = []ec2InstanceENI{eni}
	}
	keys := make([]string, 0, len(in.Tags))
	for k := range in.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		it.TagSet = append(it.TagSet, ec2Tag{Key: k, Value: in.Tags[k]})
	}
	return it
}

// ec2PrivateDNS is EC2's private DNS name of an address:
// ip-10-0-0-1.ec2.internal in us-east-1, ip-….<region>.compute.internal
// elsewhere.
func ec2PrivateDNS(ip, region string) string {
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// ec2PublicDNS is EC2's public DNS name of an address.
func ec2PublicDNS(ip, region string) string {
	host := "ec2-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".compute-1.amazonaws.com"
	}
	return host + "." + region + ".compute.amazonaws.com"
}

type ec2Filter struct {
	name   string
	values []string
}

// ec2FilterNames are the DescribeInstances filters the simulator supports
// (tag:<key> in addition).
var ec2FilterNames = map[string]bool{
	"instance-state-name": true, "instance-id": true, "tag-key": true, "tag-value": true,
	"instance-type": true, "availability-zone": true, "subnet-id": true, "vpc-id": true, "private-ip-address": true,
}

// ec2Filters parses Filter.N.Name / Filter.N.Value.M.
func ec2Filters(params url.Values) ([]ec2Filter, *apiError) {
	members, aerr := queryIndexed(params, "Filter")
	if aerr != nil {
		return nil, aerr
	}
	var out []ec2Filter
	for _, m := range members {
		f := ec2Filter{name: m["Name"]}
		if f.name == "" {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "The filter 'null' is invalid")
		}
		if !ec2FilterNames[f.name] && !strings.HasPrefix(f.name, "tag:") {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "The filter '%s' is invalid", f.name)
		}
		type iv struct {
			i int
			v string
		}
		var vals []iv
		for k, v := range m {
			rest, ok := strings.CutPrefix(k, "Value.")
			if !ok {
				if k != "Name" {
					return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "Unknown filter parameter Filter.N.%s", k)
				}
				continue
			}
			n, err := strconv.Atoi(rest)
			if err != nil || n < 1 {
				return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "Filter value index %q is invalid", rest)
			}
			vals = append(vals, iv{n, v})
		}
		sort.Slice(vals, func(i, j int) bool { return vals[i].i < vals[j].i })
		for _, v := range vals {
			f.values = append(f.values, v.v)
		}
		out = append(out, f)
	}
	return out, nil
}

// ec2Matches reports whether in passes every filter (AND), each filter
// matching when any of its values does (OR; values may use * and ?).
func ec2Matches(in Instance, filters []ec2Filter) bool {
	for _, f := range filters {
		var cands []string
		switch {
		case f.name == "instance-state-name":
			cands = []string{in.state()}
		case f.name == "instance-id":
			cands = []string{in.ID}
		case f.name == "instance-type":
			cands = []string{in.Type}
		case f.name == "availability-zone":
			cands = []string{in.AvailabilityZone}
		case f.name == "subnet-id":
			cands = ec2Placed(in, in.SubnetID)
		case f.name == "vpc-id":
			cands = ec2Placed(in, in.VPCID)
		case f.name == "private-ip-address":
			cands = ec2Placed(in, in.PrivateIP)
		case f.name == "tag-key":
			for k := range in.Tags {
				cands = append(cands, k)
			}
		case f.name == "tag-value":
			for _, v := range in.Tags {
				cands = append(cands, v)
			}
		case strings.HasPrefix(f.name, "tag:"):
			if v, ok := in.Tags[strings.TrimPrefix(f.name, "tag:")]; ok {
				cands = []string{v}
			}
		}
		if !anyGlob(f.values, cands) {
			return false
		}
	}
	return true
}

// ec2Placed is a network attribute as a filter sees it: none for a
// terminated instance (it has left its subnet) or an unset one.
func ec2Placed(in Instance, v string) []string {
	if v == "" || in.state() == "terminated" {
		return nil
	}
	return []string{v}
}

func anyGlob(patterns, values []string) bool {
	for _, p := range patterns {
		for _, v := range values {
			if globMatch(p, v) {
				return true
			}
		}
	}
	return false
}

// globMatch matches s against an EC2 filter pattern: * is any run of
// characters, ? any one character, \ escapes.
func globMatch(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	var match func(i, j int) bool
	match = func(i, j int) bool {
		for i < len(p) {
			switch p[i] {
			case '*':
				for k := j; k <= len(str); k++ {
					if match(i+1, k) {
						return true
					}
				}
				return false
			case '?':
				if j >= len(str) {
					return false
				}
			case '\\':
				if i+1 < len(p) {
					i++
				}
				fallthrough
			default:
				if j >= len(str) || str[j] != p[i] {
					return false
				}
			}
			i++
			j++
		}
		return j == len(str)
	}
	return match(0, 0)
}
