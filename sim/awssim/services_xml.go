package awssim

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// The REST-XML services of the remaining products: CloudFront
// (2020-05-31) and Route 53 (2013-04-01), both global (their resources
// live in us-east-1), and S3's bucket listing (path-style requests, as
// the SDK sends them to an IP endpoint).

// ---- CloudFront ----

const cloudFrontXMLNS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"

type cfQuantity struct {
	Quantity int `xml:"Quantity"`
}

type cfFunctionAssociation struct {
	FunctionARN string `xml:"FunctionARN"`
	EventType   string `xml:"EventType"`
}

type cfDistributionSummary struct {
	ID                   string     `xml:"Id"`
	ARN                  string     `xml:"ARN"`
	Status               string     `xml:"Status"`
	LastModifiedTime     string     `xml:"LastModifiedTime"`
	DomainName           string     `xml:"DomainName"`
	Aliases              cfQuantity `xml:"Aliases"`
	DefaultCacheBehavior struct {
		TargetOriginID       string `xml:"TargetOriginId"`
		ViewerProtocolPolicy string `xml:"ViewerProtocolPolicy"`
		FunctionAssociations struct {
			Quantity int                     `xml:"Quantity"`
			Items    []cfFunctionAssociation `xml:"Items>FunctionAssociation,omitempty"`
		} `xml:"FunctionAssociations"`
	} `xml:"DefaultCacheBehavior"`
	Comment       string `xml:"Comment"`
	PriceClass    string `xml:"PriceClass"`
	Enabled       bool   `xml:"Enabled"`
	WebACLID      string `xml:"WebACLId"`
	HTTPVersion   string `xml:"HttpVersion"`
	IsIPV6Enabled bool   `xml:"IsIPV6Enabled"`
	Staging       bool   `xml:"Staging"`
}

type cfDistributionList struct {
	XMLName     xml.Name                `xml:"DistributionList"`
	Xmlns       string                  `xml:"xmlns,attr"`
	Marker      string                  `xml:"Marker"`
	NextMarker  string                  `xml:"NextMarker,omitempty"`
	MaxItems    int                     `xml:"MaxItems"`
	IsTruncated bool                    `xml:"IsTruncated"`
	Quantity    int                     `xml:"Quantity"`
	Items       []cfDistributionSummary `xml:"Items>DistributionSummary,omitempty"`
}

type cloudFrontSim struct{ s *Server }

func (sv *cloudFrontSim) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	writeRestXMLError(w, cloudFrontXMLNS, e, requestID)
}

func (sv *cloudFrontSim) serve(w http.ResponseWriter, r *http.Request, req *request) {
	segs := pathSegments(r)
	q := r.URL.Query()
	ok := r.Method == http.MethodGet && len(segs) == 2 && segs[0] == "2020-05-31" && segs[1] == "distribution"
	action := "ListDistributions"
	if !ok {
		action = r.Method + " " + r.URL.Path
	}
	out, aerr := sv.s.performCall(req, action, func() (any, *apiError) {
		if !ok {
			return nil, errorf(http.StatusNotFound, "UnknownOperationException", "No operation matches %s %s", r.Method, r.URL.Path)
		}
		if e := sv.s.authorize(req, "cloudfront:ListDistributions", "*"); e != nil {
			return nil, e
		}
		max, aerr := queryLimit(q, "MaxItems", 100, 1000)
		if aerr != nil {
			return nil, aerr
		}
		key := func(x regionalResource) string { return CloudFrontDistributionID(x.Account, &x.Resource) }
		page, next, aerr := pageOf(sv.s.kindResources(req, "cloudfront:distribution", false), key, "cloudfront", q.Get("Marker"), max)
		if aerr != nil {
			return nil, aerr
		}
		out := cfDistributionList{Xmlns: cloudFrontXMLNS, Marker: q.Get("Marker"), NextMarker: next, MaxItems: max, IsTruncated: next != "", Quantity: len(page)}
		for _, x := range page {
			id := key(x)
			d := cfDistributionSummary{ID: id, ARN: "arn:aws:cloudfront::" + x.Account + ":distribution/" + id, Status: stateOr(x.State, "Deployed"),
				LastModifiedTime: queryTime(digestTime("cloudfront", x.Account, x.Name)), DomainName: strings.ToLower(digestAlnum(14, "cf-domain", id)) + ".cloudfront.net",
				Comment: x.Name, PriceClass: "PriceClass_All", Enabled: true, HTTPVersion: "http2", IsIPV6Enabled: true}
			d.DefaultCacheBehavior.TargetOriginID = x.Name + "-origin"
			d.DefaultCacheBehavior.ViewerProtocolPolicy = "redirect-to-https"
			for _, f := range x.Subs["functions"] {
				d.DefaultCacheBehavior.FunctionAssociations.Items = append(d.DefaultCacheBehavior.FunctionAssociations.Items,
					cfFunctionAssociation{FunctionARN: "arn:aws:cloudfront::" + x.Account + ":function/" + f, EventType: "viewer-request"})
			}
			d.DefaultCacheBehavior.FunctionAssociations.Quantity = len(d.DefaultCacheBehavior.FunctionAssociations.Items)
			out.Items = append(out.Items, d)
		}
		return out, nil
	})
	if aerr != nil {
		sv.writeError(w, aerr, req.id)
		return
	}
	writeXML(w, http.StatusOK, out, req.id)
}

// ---- Route 53 ----

const route53XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/"

type r53HealthCheck struct {
	ID                string `xml:"Id"`
	CallerReference   string `xml:"CallerReference"`
	HealthCheckConfig struct {
		Type                     string `xml:"Type"`
		FullyQualifiedDomainName string `xml:"FullyQualifiedDomainName,omitempty"`
		Port                     int    `xml:"Port,omitempty"`
		ResourcePath             string `xml:"ResourcePath,omitempty"`
		RequestInterval          int    `xml:"RequestInterval"`
		FailureThreshold         int    `xml:"FailureThreshold"`
		MeasureLatency           bool   `xml:"MeasureLatency"`
	} `xml:"HealthCheckConfig"`
	HealthCheckVersion int `xml:"HealthCheckVersion"`
}

type r53ListHealthChecks struct {
	XMLName      xml.Name         `xml:"ListHealthChecksResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	HealthChecks []r53HealthCheck `xml:"HealthChecks>HealthCheck"`
	Marker       string           `xml:"Marker"`
	IsTruncated  bool             `xml:"IsTruncated"`
	NextMarker   string           `xml:"NextMarker,omitempty"`
	MaxItems     string           `xml:"MaxItems"`
}

type r53HostedZone struct {
	ID              string `xml:"Id"`
	Name            string `xml:"Name"`
	CallerReference string `xml:"CallerReference"`
	Config          struct {
		Comment     string `xml:"Comment,omitempty"`
		PrivateZone bool   `xml:"PrivateZone"`
	} `xml:"Config"`
	ResourceRecordSetCount int `xml:"ResourceRecordSetCount"`
}

type r53ListHostedZones struct {
	XMLName     xml.Name        `xml:"ListHostedZonesResponse"`
	Xmlns       string          `xml:"xmlns,attr"`
	HostedZones []r53HostedZone `xml:"HostedZones>HostedZone"`
	Marker      string          `xml:"Marker"`
	IsTruncated bool            `xml:"IsTruncated"`
	NextMarker  string          `xml:"NextMarker,omitempty"`
	MaxItems    string          `xml:"MaxItems"`
}

type route53Sim struct{ s *Server }

func (sv *route53Sim) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	writeRestXMLError(w, route53XMLNS, e, requestID)
}

func (sv *route53Sim) serve(w http.ResponseWriter, r *http.Request, req *request) {
	segs := pathSegments(r)
	q := r.URL.Query()
	action := r.Method + " " + r.URL.Path
	if r.Method == http.MethodGet && len(segs) == 2 && segs[0] == "2013-04-01" {
		switch segs[1] {
		case "healthcheck":
			action = "ListHealthChecks"
		case "hostedzone":
			action = "ListHostedZones"
		}
	}
	out, aerr := sv.s.performCall(req, action, func() (any, *apiError) {
		switch action {
		case "ListHealthChecks":
			if e := sv.s.authorize(req, "route53:ListHealthChecks", "*"); e != nil {
				return nil, e
			}
			max, aerr := queryLimit(q, "maxitems", 100, 1000)
			if aerr != nil {
				return nil, aerr
			}
			key := func(x regionalResource) string { return HealthCheckID(x.Account, &x.Resource) }
			page, next, aerr := pageOf(sv.s.kindResources(req, "route53:healthcheck", false), key, "route53-hc", q.Get("marker"), max)
			if aerr != nil {
				return nil, aerr
			}
			out := r53ListHealthChecks{Xmlns: route53XMLNS, Marker: q.Get("marker"), IsTruncated: next != "", NextMarker: next, MaxItems: strconv.Itoa(max)}
			for _, x := range page {
				hc := r53HealthCheck{ID: key(x), CallerReference: "awssim-" + x.Name, HealthCheckVersion: 1}
				hc.HealthCheckConfig.Type = x.attr("type", "HTTPS")
				hc.HealthCheckConfig.FullyQualifiedDomainName = x.Name
				hc.HealthCheckConfig.Port = 443
				hc.HealthCheckConfig.ResourcePath = "/health"
				hc.HealthCheckConfig.RequestInterval, hc.HealthCheckConfig.FailureThreshold = 30, 3
				hc.HealthCheckConfig.MeasureLatency = x.has("latency")
				if x.has("calculated") {
					hc.HealthCheckConfig = struct {
						Type                     string `xml:"Type"`
						FullyQualifiedDomainName string `xml:"FullyQualifiedDomainName,omitempty"`
						Port                     int    `xml:"Port,omitempty"`
						ResourcePath             string `xml:"ResourcePath,omitempty"`
						RequestInterval          int    `xml:"RequestInterval"`
						FailureThreshold         int    `xml:"FailureThreshold"`
						MeasureLatency           bool   `xml:"MeasureLatency"`
					}{Type: "CALCULATED"}
				}
				out.HealthChecks = append(out.HealthChecks, hc)
			}
			return out, nil
		case "ListHostedZones":
			if e := sv.s.authorize(req, "route53:ListHostedZones", "*"); e != nil {
				return nil, e
			}
			max, aerr := queryLimit(q, "maxitems", 100, 100)
			if aerr != nil {
				return nil, aerr
			}
			key := func(x regionalResource) string { return HostedZoneID(x.Account, &x.Resource) }
			page, next, aerr := pageOf(sv.s.kindResources(req, "route53:hostedzone", false), key, "route53-zone", q.Get("marker"), max)
			if aerr != nil {
				return nil, aerr
			}
			out := r53ListHostedZones{Xmlns: route53XMLNS, Marker: q.Get("marker"), IsTruncated: next != "", NextMarker: next, MaxItems: strconv.Itoa(max)}
			for _, x := range page {
				z := r53HostedZone{ID: "/hostedzone/" + key(x), Name: strings.TrimSuffix(x.Name, ".") + ".", CallerReference: "awssim-" + x.Name,
					ResourceRecordSetCount: x.attrInt("records", 4)}
				z.Config.PrivateZone = !x.has("public")
				out.HostedZones = append(out.HostedZones, z)
			}
			return out, nil
		}
		return nil, errorf(http.StatusNotFound, "UnknownOperationException", "No operation matches %s %s", r.Method, r.URL.Path)
	})
	if aerr != nil {
		sv.writeError(w, aerr, req.id)
		return
	}
	writeXML(w, http.StatusOK, out, req.id)
}

// ---- S3 (bucket listing) ----

const s3XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"

type s3Bucket struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion"`
}

type s3ListBuckets struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	Owner   struct {
		ID string `xml:"ID"`
	} `xml:"Owner"`
	Buckets           []s3Bucket `xml:"Buckets>Bucket"`
	ContinuationToken string     `xml:"ContinuationToken,omitempty"`
}

type s3Location struct {
	XMLName            xml.Name `xml:"LocationConstraint"`
	Xmlns              string   `xml:"xmlns,attr"`
	LocationConstraint string   `xml:",chardata"`
}

type s3Tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr"`
	TagSet  []rdsTag `xml:"TagSet>Tag"`
}

type s3Sim struct{ s *Server }

// s3AuthCodes are S3's codes for authentication failures.
var s3AuthCodes = map[string]string{"InvalidClientTokenId": "InvalidAccessKeyId", "ExpiredToken": "ExpiredToken"}

func (sv *s3Sim) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	e = renamedError(e, s3AuthCodes)
	var b struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string   `xml:"Code"`
		Message   string   `xml:"Message"`
		RequestID string   `xml:"RequestId"`
	}
	b.Code, b.Message, b.RequestID = e.code, e.message, requestID
	writeXML(w, e.status, b, requestID)
}

func (sv *s3Sim) serve(w http.ResponseWriter, r *http.Request, req *request) {
	segs := pathSegments(r)
	q := r.URL.Query()
	action := r.Method + " " + r.URL.Path
	switch {
	case r.Method != http.MethodGet:
	case len(segs) == 1 && segs[0] == "":
		action = "ListBuckets"
	case len(segs) == 1 && q.Has("location"):
		action = "GetBucketLocation"
	case len(segs) == 1 && q.Has("tagging"):
		action = "GetBucketTagging"
	}
	out, aerr := sv.s.performCall(req, action, func() (any, *apiError) {
		switch action {
		case "ListBuckets":
			// ListBuckets is authorized by s3:ListAllMyBuckets.
			if e := sv.s.authorize(req, "s3:ListAllMyBuckets", "*"); e != nil {
				return nil, e
			}
			max, aerr := queryLimit(q, "max-buckets", 10000, 10000)
			if aerr != nil {
				return nil, aerr
			}
			page, next, aerr := pageOf(sv.s.kindResources(req, "s3:bucket", true), byName, "s3", q.Get("continuation-token"), max)
			if aerr != nil {
				return nil, aerr
			}
			out := s3ListBuckets{Xmlns: s3XMLNS, ContinuationToken: next}
			out.Owner.ID = digestHex(64, "s3-owner", req.principal.AccountID)
			for _, b := range page {
				out.Buckets = append(out.Buckets, s3Bucket{Name: b.Name, CreationDate: queryTime(digestTime("s3", b.Account, b.Name)), BucketRegion: b.Region})
			}
			return out, nil
		case "GetBucketLocation", "GetBucketTagging":
			var bucket *regionalResource
			for _, b := range sv.s.kindResources(req, "s3:bucket", true) {
				if b.Name == segs[0] {
					bucket = &b
				}
			}
			iam := map[string]string{"GetBucketLocation": "s3:GetBucketLocation", "GetBucketTagging": "s3:GetBucketTagging"}[action]
			if e := sv.s.authorize(req, iam, "arn:aws:s3:::"+segs[0]); e != nil {
				return nil, e
			}
			if bucket == nil {
				return nil, errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
			}
			if action == "GetBucketTagging" {
				if len(bucket.Tags) == 0 {
					return nil, errorf(http.StatusNotFound, "NoSuchTagSet", "The TagSet does not exist")
				}
				out := s3Tagging{Xmlns: s3XMLNS}
				for _, k := range tagKeysSorted(bucket.Tags) {
					out.TagSet = append(out.TagSet, rdsTag{Key: k, Value: bucket.Tags[k]})
				}
				return out, nil
			}
			loc := bucket.Region
			if loc == "us-east-1" { // us-east-1 buckets have no location constraint
				loc = ""
			}
			return s3Location{Xmlns: s3XMLNS, LocationConstraint: loc}, nil
		}
		return nil, errorf(http.StatusNotImplemented, "NotImplemented", "awssim does not simulate %s %s", r.Method, r.URL.Path)
	})
	if aerr != nil {
		sv.writeError(w, aerr, req.id)
		return
	}
	writeXML(w, http.StatusOK, out, req.id)
}
