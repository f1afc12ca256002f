package awssim

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// EC2 DescribeAvailabilityZones: the zones of the request's region with
// their names and ids. Zone names are mapped to the physical zones (the
// zone ids, such as use1-az1) independently for each account, as AWS
// documents ("AZ IDs for your AWS resources"); the simulator derives the
// mapping from the account and region. A region has the zones a, b and c
// and every zone its instances name.

type ec2DescribeAvailabilityZonesOutput struct {
	XMLName xml.Name      `xml:"DescribeAvailabilityZonesResponse"`
	Zones   []ec2ZoneItem `xml:"availabilityZoneInfo>item"`
}

type ec2ZoneItem struct {
	ZoneName           string   `xml:"zoneName"`
	ZoneState          string   `xml:"zoneState"`
	RegionName         string   `xml:"regionName"`
	ZoneID             string   `xml:"zoneId"`
	ZoneType           string   `xml:"zoneType"`
	OptInStatus        string   `xml:"optInStatus"`
	GroupName          string   `xml:"groupName"`
	NetworkBorderGroup string   `xml:"networkBorderGroup"`
	MessageSet         struct{} `xml:"messageSet"`
}

// ec2RegionAbbrev is the prefix of a region's zone ids: us-east-1 →
// use1, ap-northeast-1 → apne1, eu-central-1 → euc1.
func ec2RegionAbbrev(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) < 3 {
		return region
	}
	dir := map[string]string{"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
		"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}
	var b strings.Builder
	for i, p := range parts {
		switch {
		case i == 0 || i == len(parts)-1:
			b.WriteString(p)
		case dir[p] != "":
			b.WriteString(dir[p])
		default:
			b.WriteString(p[:1])
		}
	}
	return b.String()
}

// ec2Zones are the zones of the request's account and region.
func (sv *ec2Service) ec2Zones(req *request) []ec2ZoneItem {
	letters := map[string]bool{"a": true, "b": true, "c": true}
	sv.s.read(func(sc *Scenario) {
		for _, in := range req.regionData(sc).Instances {
			if l, ok := strings.CutPrefix(in.AvailabilityZone, req.region); ok && len(l) == 1 && l[0] >= 'a' && l[0] <= 'z' {
				letters[l] = true
			}
		}
	})
	names := make([]string, 0, len(letters))
	for l := range letters {
		names = append(names, l)
	}
	sort.Strings(names)
	// The account's mapping: a rotation of the physical zones.
	d := identityDigest("az-mapping", req.principal.AccountID, req.region)
	rot := int(d[0]) % len(names)
	out := make([]ec2ZoneItem, 0, len(names))
	for i, l := range names {
		out = append(out, ec2ZoneItem{ZoneName: req.region + l, ZoneState: "available", RegionName: req.region,
			ZoneID: ec2RegionAbbrev(req.region) + "-az" + strconv.Itoa((i+rot)%len(names)+1), ZoneType: "availability-zone",
			OptInStatus: "opt-in-not-required", GroupName: req.region, NetworkBorderGroup: req.region})
	}
	return out
}

func (sv *ec2Service) describeAvailabilityZones(params url.Values, req *request) (any, *apiError) {
	dry, aerr := ec2DryRun(params)
	if aerr != nil {
		return nil, aerr
	}
	if err := sv.s.authorize(req, "ec2:DescribeAvailabilityZones", "*"); err != nil {
		return nil, ec2Unauthorized(err)
	}
	if dry {
		return nil, errDryRunOK
	}
	names, aerr := queryList(params, "ZoneName")
	if aerr != nil {
		return nil, aerr
	}
	ids, aerr := queryList(params, "ZoneId")
	if aerr != nil {
		return nil, aerr
	}
	members, aerr := queryIndexed(params, "Filter")
	if aerr != nil {
		return nil, aerr
	}
	type filter struct {
		name   string
		values []string
	}
	var filters []filter
	for _, m := range members {
		f := filter{name: m["Name"]}
		switch f.name {
		case "zone-name", "zone-id", "state", "region-name", "zone-type", "group-name", "opt-in-status":
		default:
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "The filter '%s' is invalid", f.name)
		}
		for k, v := range m {
			if strings.HasPrefix(k, "Value.") {
				f.values = append(f.values, v)
			}
		}
		filters = append(filters, f)
	}
	zones := sv.ec2Zones(req)
	out := &ec2DescribeAvailabilityZonesOutput{Zones: []ec2ZoneItem{}}
	for _, z := range zones {
		if len(names) > 0 && !contains(names, z.ZoneName) || len(ids) > 0 && !contains(ids, z.ZoneID) {
			continue
		}
		ok := true
		for _, f := range filters {
			v := map[string]string{"zone-name": z.ZoneName, "zone-id": z.ZoneID, "state": z.ZoneState, "region-name": z.RegionName,
				"zone-type": z.ZoneType, "group-name": z.GroupName, "opt-in-status": z.OptInStatus}[f.name]
			if !anyGlob(f.values, []string{v}) {
				ok = false
			}
		}
		if ok {
			out.Zones = append(out.Zones, z)
		}
	}
	// A zone named that the region does not have is an error.
	for _, n := range names {
		if !slices.ContainsFunc(zones, func(z ec2ZoneItem) bool { return z.ZoneName == n }) {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid availability zone: [%s]", n)
		}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(zones, func(z ec2ZoneItem) bool { return z.ZoneID == id }) {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid availability zone ID: [%s]", id)
		}
	}
	return out, nil
}
