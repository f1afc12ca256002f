package awssim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Amazon RDS (Query protocol, API version 2014-10-31): DB instances and
// Aurora DB clusters, with their tags. Lists are named after their members
// (<DBInstances><DBInstance>…, <TagList><Tag>…), unlike ELB's <member>.

const (
	rdsService    = "rds"
	rdsXMLNS      = "http://rds.amazonaws.com/doc/2014-10-31/"
	rdsMinRecords = 20
	rdsMaxRecords = 100
)

func newRDSService(s *Server) *rdsSim { return &rdsSim{s: s} }

type rdsSim struct{ s *Server }

func (sv *rdsSim) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	writeQueryError(w, rdsXMLNS, e, requestID)
}

func (sv *rdsSim) serve(w http.ResponseWriter, r *http.Request, req *request) {
	params, aerr := queryParams(r, req.body)
	var action string
	if aerr == nil {
		action, _, aerr = singleParam(params, "Action")
	}
	out, aerr := sv.s.performCall(req, action, func() (any, *apiError) {
		if aerr != nil {
			return nil, aerr
		}
		switch action {
		case "":
			return nil, errorf(http.StatusBadRequest, "MissingAction", "Request is missing Action parameter")
		case "DescribeDBInstances":
			return sv.describeDBInstances(params, req)
		case "DescribeDBClusters":
			return sv.describeDBClusters(params, req)
		case "ListTagsForResource":
			return sv.listTagsForResource(params, req)
		}
		return nil, errorf(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service.", action)
	})
	if aerr != nil {
		writeQueryError(w, rdsXMLNS, aerr, req.id)
		return
	}
	writeQueryResult(w, rdsXMLNS, action, out, req.id)
}

func rdsInvalidParameter(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

// ---- wire shapes ----

type rdsTagList struct {
	Tag []rdsTag `xml:"Tag"`
}

type rdsTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func rdsTags(t Tags) rdsTagList {
	var l rdsTagList
	for _, k := range tagKeysSorted(t) {
		l.Tag = append(l.Tag, rdsTag{Key: k, Value: t[k]})
	}
	return l
}

type rdsEndpoint struct {
	Address      string `xml:"Address"`
	Port         int    `xml:"Port"`
	HostedZoneID string `xml:"HostedZoneId"`
}

type rdsDBInstance struct {
	DBInstanceIdentifier    string       `xml:"DBInstanceIdentifier"`
	DBInstanceClass         string       `xml:"DBInstanceClass,omitempty"`
	Engine                  string       `xml:"Engine"`
	DBInstanceStatus        string       `xml:"DBInstanceStatus"`
	MasterUsername          string       `xml:"MasterUsername,omitempty"`
	Endpoint                *rdsEndpoint `xml:"Endpoint,omitempty"`
	AllocatedStorage        int          `xml:"AllocatedStorage"`
	InstanceCreateTime      string       `xml:"InstanceCreateTime"`
	BackupRetentionPeriod   int          `xml:"BackupRetentionPeriod"`
	AvailabilityZone        string       `xml:"AvailabilityZone,omitempty"`
	MultiAZ                 bool         `xml:"MultiAZ"`
	EngineVersion           string       `xml:"EngineVersion,omitempty"`
	AutoMinorVersionUpgrade bool         `xml:"AutoMinorVersionUpgrade"`
	PubliclyAccessible      bool         `xml:"PubliclyAccessible"`
	StorageType             string       `xml:"StorageType"`
	DbInstancePort          int          `xml:"DbInstancePort"`
	DBClusterIdentifier     string       `xml:"DBClusterIdentifier,omitempty"`
	ReadReplicaSource       string       `xml:"ReadReplicaSourceDBInstanceIdentifier,omitempty"`
	StorageEncrypted        bool         `xml:"StorageEncrypted"`
	DbiResourceID           string       `xml:"DbiResourceId"`
	DBInstanceArn           string       `xml:"DBInstanceArn"`
	TagList                 rdsTagList   `xml:"TagList"`
}

type rdsDescribeDBInstancesResult struct {
	Marker      string `xml:"Marker,omitempty"`
	DBInstances struct {
		DBInstance []rdsDBInstance `xml:"DBInstance"`
	} `xml:"DBInstances"`
}

type rdsClusterMember struct {
	DBInstanceIdentifier          string `xml:"DBInstanceIdentifier"`
	IsClusterWriter               bool   `xml:"IsClusterWriter"`
	DBClusterParameterGroupStatus string `xml:"DBClusterParameterGroupStatus"`
	PromotionTier                 int    `xml:"PromotionTier"`
}

type rdsDBCluster struct {
	AllocatedStorage  int `xml:"AllocatedStorage"`
	AvailabilityZones struct {
		AvailabilityZone []string `xml:"AvailabilityZone"`
	} `xml:"AvailabilityZones"`
	BackupRetentionPeriod int    `xml:"BackupRetentionPeriod"`
	DBClusterIdentifier   string `xml:"DBClusterIdentifier"`
	Status                string `xml:"Status"`
	Endpoint              string `xml:"Endpoint"`
	ReaderEndpoint        string `xml:"ReaderEndpoint"`
	MultiAZ               bool   `xml:"MultiAZ"`
	BacktrackWindow       int64  `xml:"BacktrackWindow,omitempty"`
	Engine                string `xml:"Engine"`
	EngineVersion         string `xml:"EngineVersion,omitempty"`
	EngineMode            string `xml:"EngineMode"`
	Port                  int    `xml:"Port"`
	DBClusterMembers      struct {
		DBClusterMember []rdsClusterMember `xml:"DBClusterMember"`
	} `xml:"DBClusterMembers"`
	HostedZoneID        string     `xml:"HostedZoneId"`
	StorageEncrypted    bool       `xml:"StorageEncrypted"`
	DbClusterResourceID string     `xml:"DbClusterResourceId"`
	DBClusterArn        string     `xml:"DBClusterArn"`
	ClusterCreateTime   string     `xml:"ClusterCreateTime"`
	TagList             rdsTagList `xml:"TagList"`
}

type rdsDescribeDBClustersResult struct {
	Marker     string `xml:"Marker,omitempty"`
	DBClusters struct {
		DBCluster []rdsDBCluster `xml:"DBCluster"`
	} `xml:"DBClusters"`
}

type rdsListTagsResult struct {
	TagList rdsTagList `xml:"TagList"`
}

// ---- derived values ----

// rdsPort is the default port of a database engine.
func rdsPort(engine string) int {
	e := strings.ToLower(engine)
	switch {
	case strings.Contains(e, "postgres"):
		return 5432
	case strings.HasPrefix(e, "oracle"):
		return 1521
	case strings.HasPrefix(e, "sqlserver"):
		return 1433
	case strings.HasPrefix(e, "db2"):
		return 50000
	}
	return 3306 // mysql, mariadb, aurora, aurora-mysql
}

// rdsHostSuffix is what follows an identifier in an endpoint's host name:
// .<hash>.<region>.rds.amazonaws.com, the hash being fixed per account and
// region as on AWS.
func rdsHostSuffix(region, account string) string {
	return "." + digestAlnum(12, "rds-host", account, region) + "." + region + ".rds.amazonaws.com"
}

func rdsHostedZoneID(region string) string {
	return "Z" + strings.ToUpper(digestAlnum(13, "rds-zone", region))
}

func rdsAurora(engine string) bool { return strings.HasPrefix(strings.ToLower(engine), "aurora") }

func storageTypeOr(t string) string {
	if t == "" {
		return "gp3"
	}
	return t
}

func rdsInstance(region, account string, db *DBInstance) rdsDBInstance {
	id := db.ID
	status := db.Status
	if status == "" {
		status = "available"
	}
	port := rdsPort(db.Engine)
	d := rdsDBInstance{
		DBInstanceIdentifier:    id,
		DBInstanceClass:         db.Class,
		Engine:                  db.Engine,
		DBInstanceStatus:        status,
		MasterUsername:          "admin",
		InstanceCreateTime:      queryTime(digestTime("rds-db", account, region, id)),
		BackupRetentionPeriod:   7,
		AvailabilityZone:        db.AvailabilityZone,
		EngineVersion:           db.EngineVersion,
		AutoMinorVersionUpgrade: true,
		StorageType:             storageTypeOr(db.StorageType),
		ReadReplicaSource:       db.ReplicaOf,
		DBClusterIdentifier:     db.Cluster,
		StorageEncrypted:        true,
		DbiResourceID:           "db-" + strings.ToUpper(digestAlnum(26, "rds-dbi", account, region, id)),
		DBInstanceArn:           dbInstanceARN(region, account, id),
		TagList:                 rdsTags(db.Tags),
	}
	if status != "creating" { // AWS reports no endpoint until the instance exists
		d.Endpoint = &rdsEndpoint{Address: id + rdsHostSuffix(region, account), Port: port, HostedZoneID: rdsHostedZoneID(region)}
	}
	if rdsAurora(db.Engine) {
		d.AllocatedStorage = 1
		d.StorageType = "aurora"
	} else {
		d.AllocatedStorage = 20
	}
	return d
}

// rdsClusterMembers returns the instances of cluster id, in scenario
// order; the first is the writer.
func rdsClusterMembers(rd *Region, id string) []*DBInstance {
	var out []*DBInstance
	for i := range rd.DBInstances {
		if strings.EqualFold(rd.DBInstances[i].Cluster, id) {
			out = append(out, &rd.DBInstances[i])
		}
	}
	return out
}

func rdsCluster(region, account string, rd *Region, c *DBCluster) rdsDBCluster {
	id := c.ID
	status := c.Status
	if status == "" {
		status = "available"
	}
	suffix := rdsHostSuffix(region, account)
	hash, _, _ := strings.Cut(strings.TrimPrefix(suffix, "."), ".")
	d := rdsDBCluster{
		AllocatedStorage:      1,
		BackupRetentionPeriod: 1,
		DBClusterIdentifier:   id,
		Status:                status,
		Endpoint:              id + ".cluster-" + hash + "." + region + ".rds.amazonaws.com",
		ReaderEndpoint:        id + ".cluster-ro-" + hash + "." + region + ".rds.amazonaws.com",
		Engine:                c.Engine,
		EngineVersion:         c.EngineVersion,
		EngineMode:            "provisioned",
		Port:                  rdsPort(c.Engine),
		HostedZoneID:          rdsHostedZoneID(region),
		StorageEncrypted:      true,
		DbClusterResourceID:   "cluster-" + strings.ToUpper(digestAlnum(26, "rds-cluster", account, region, id)),
		DBClusterArn:          dbClusterARN(region, account, id),
		ClusterCreateTime:     queryTime(digestTime("rds-cluster", account, region, id)),
		TagList:               rdsTags(c.Tags),
	}
	for _, f := range c.Features {
		if f == "backtrack" {
			d.BacktrackWindow = 86400
		}
	}
	zones := map[string]bool{}
	for i, m := range rdsClusterMembers(rd, c.ID) {
		d.DBClusterMembers.DBClusterMember = append(d.DBClusterMembers.DBClusterMember, rdsClusterMember{
			DBInstanceIdentifier:          m.ID,
			IsClusterWriter:               i == 0,
			DBClusterParameterGroupStatus: "in-sync",
			PromotionTier:                 1,
		})
		if m.AvailabilityZone != "" && !zones[m.AvailabilityZone] {
			zones[m.AvailabilityZone] = true
			d.AvailabilityZones.AvailabilityZone = append(d.AvailabilityZones.AvailabilityZone, m.AvailabilityZone)
		}
	}
	d.MultiAZ = len(zones) > 1
	if len(d.AvailabilityZones.AvailabilityZone) == 0 {
		d.AvailabilityZones.AvailabilityZone = []string{region + "a", region + "b", region + "c"}
	}
	return d
}

// ---- parameters ----

// rdsPaging reads MaxRecords (20..100, default 100) and Marker.
func rdsPaging(params url.Values, kind string) (max int, after string, aerr *apiError) {
	max = rdsMaxRecords
	if v, ok, aerr := singleParam(params, "MaxRecords"); aerr != nil {
		return 0, "", aerr
	} else if ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < rdsMinRecords || n > rdsMaxRecords {
			return 0, "", rdsInvalidParameter("Invalid value %s for MaxRecords. Must be between %d and %d", v, rdsMinRecords, rdsMaxRecords)
		}
		max = n
	}
	if v, ok, aerr := singleParam(params, "Marker"); aerr != nil {
		return 0, "", aerr
	} else if ok {
		a, valid := parseResumeToken(kind, v)
		if !valid {
			return 0, "", rdsInvalidParameter("Invalid Marker: %s", v)
		}
		after = a
	}
	return max, after, nil
}

// rdsFilters reads Filters.Filter.N.Name / Filters.Filter.N.Values.Value.M
// and checks the names against those supported.
func rdsFilters(params url.Values, supported ...string) (map[string][]string, *apiError) {
	entries, aerr := queryIndexed(params, "Filters.Filter")
	if aerr != nil {
		return nil, aerr
	}
	out := map[string][]string{}
	for _, e := range entries {
		name := e["Name"]
		ok := false
		for _, s := range supported {
			ok = ok || s == name
		}
		if !ok {
			return nil, rdsInvalidParameter("Unrecognized filter name: %s", name)
		}
		values := url.Values{}
		for k, v := range e {
			if strings.HasPrefix(k, "Values.Value.") {
				values.Set(k, v)
			}
		}
		vs, aerr := queryList(values, "Values.Value")
		if aerr != nil {
			return nil, aerr
		}
		if len(vs) == 0 {
			return nil, rdsInvalidParameter("Filter %s needs at least one value", name)
		}
		out[name] = append(out[name], vs...)
	}
	return out, nil
}

// rdsMatchID reports whether id (or its ARN) is among values, which may
// be identifiers or ARNs.
func rdsMatchID(values []string, id, arn string) bool {
	for _, v := range values {
		if strings.EqualFold(v, id) || v == arn {
			return true
		}
	}
	return false
}

// ---- actions ----

func (sv *rdsSim) describeDBInstances(params url.Values, req *request) (any, *apiError) {
	if e := sv.s.authorize(req, "rds:DescribeDBInstances", "*"); e != nil {
		return nil, e
	}
	ident, hasIdent, aerr := singleParam(params, "DBInstanceIdentifier")
	if aerr != nil {
		return nil, aerr
	}
	filters, aerr := rdsFilters(params, "db-cluster-id", "db-instance-id", "dbi-resource-id", "engine")
	if aerr != nil {
		return nil, aerr
	}
	max, after, aerr := rdsPaging(params, "rds-db")
	if aerr != nil {
		return nil, aerr
	}
	region, account := req.region, req.principal.AccountID
	var res rdsDescribeDBInstancesResult
	sv.s.read(func(sc *Scenario) {
		rd := req.regionData(sc)
		var all []rdsDBInstance
		for i := range rd.DBInstances {
			d := rdsInstance(region, account, &rd.DBInstances[i])
			if hasIdent && !rdsMatchID([]string{ident}, d.DBInstanceIdentifier, d.DBInstanceArn) {
				continue
			}
			if vs, ok := filters["db-instance-id"]; ok && !rdsMatchID(vs, d.DBInstanceIdentifier, d.DBInstanceArn) {
				continue
			}
			if vs, ok := filters["db-cluster-id"]; ok && (d.DBClusterIdentifier == "" ||
				!rdsMatchID(vs, d.DBClusterIdentifier, dbClusterARN(region, account, d.DBClusterIdentifier))) {
				continue
			}
			if vs, ok := filters["dbi-resource-id"]; ok && !rdsMatchID(vs, d.DbiResourceID, "") {
				continue
			}
			if vs, ok := filters["engine"]; ok && !rdsMatchID(vs, d.Engine, "") {
				continue
			}
			all = append(all, d)
		}
		if hasIdent && len(all) == 0 {
			aerr = errorf(http.StatusNotFound, "DBInstanceNotFound", "DBInstance %s not found.", ident)
			return
		}
		page, more := pageAfter(all, func(d rdsDBInstance) string { return d.DBInstanceIdentifier }, after, max)
		res.DBInstances.DBInstance = page
		if more {
			res.Marker = resumeToken("rds-db", page[len(page)-1].DBInstanceIdentifier)
		}
	})
	if aerr != nil {
		return nil, aerr
	}
	return res, nil
}

func (sv *rdsSim) describeDBClusters(params url.Values, req *request) (any, *apiError) {
	if e := sv.s.authorize(req, "rds:DescribeDBClusters", "*"); e != nil {
		return nil, e
	}
	ident, hasIdent, aerr := singleParam(params, "DBClusterIdentifier")
	if aerr != nil {
		return nil, aerr
	}
	filters, aerr := rdsFilters(params, "clone-group-id", "db-cluster-id", "db-cluster-resource-id", "domain", "engine")
	if aerr != nil {
		return nil, aerr
	}
	max, after, aerr := rdsPaging(params, "rds-cluster")
	if aerr != nil {
		return nil, aerr
	}
	region, account := req.region, req.principal.AccountID
	var res rdsDescribeDBClustersResult
	sv.s.read(func(sc *Scenario) {
		rd := req.regionData(sc)
		var all []rdsDBCluster
		for i := range rd.DBClusters {
			d := rdsCluster(region, account, rd, &rd.DBClusters[i])
			if hasIdent && !rdsMatchID([]string{ident}, d.DBClusterIdentifier, d.DBClusterArn) {
				continue
			}
			if vs, ok := filters["db-cluster-id"]; ok && !rdsMatchID(vs, d.DBClusterIdentifier, d.DBClusterArn) {
				continue
			}
			if vs, ok := filters["db-cluster-resource-id"]; ok && !rdsMatchID(vs, d.DbClusterResourceID, "") {
				continue
			}
			if vs, ok := filters["engine"]; ok && !rdsMatchID(vs, d.Engine, "") {
				continue
			}
			if _, ok := filters["clone-group-id"]; ok { // no clones are simulated
				continue
			}
			if _, ok := filters["domain"]; ok { // nor Active Directory domains
				continue
			}
			all = append(all, d)
		}
		if hasIdent && len(all) == 0 {
			aerr = errorf(http.StatusNotFound, "DBClusterNotFoundFault", "DBCluster %s not found.", ident)
			return
		}
		page, more := pageAfter(all, func(d rdsDBCluster) string { return d.DBClusterIdentifier }, after, max)
		res.DBClusters.DBCluster = page
		if more {
			res.Marker = resumeToken("rds-cluster", page[len(page)-1].DBClusterIdentifier)
		}
	})
	if aerr != nil {
		return nil, aerr
	}
	return res, nil
}

func (sv *rdsSim) listTagsForResource(params url.Values, req *request) (any, *apiError) {
	arn, ok, aerr := singleParam(params, "ResourceName")
	if aerr != nil {
		return nil, aerr
	}
	if !ok || arn == "" {
		return nil, errorf(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter ResourceName")
	}
	// rds:ListTagsForResource is authorized on the resource's ARN.
	if e := sv.s.authorize(req, "rds:ListTagsForResource", arn); e != nil {
		return nil, e
	}
	region, account := req.region, req.principal.AccountID
	prefix := "arn:aws:rds:" + region + ":" + account + ":"
	rest, ok := strings.CutPrefix(arn, prefix)
	kind, id, _ := strings.Cut(rest, ":")
	if !ok || id == "" || (kind != "db" && kind != "cluster") {
		return nil, rdsInvalidParameter("The specified resource name does not match an RDS resource in this region.")
	}
	var res rdsListTagsResult
	sv.s.read(func(sc *Scenario) {
		rd := req.regionData(sc)
		if kind == "db" {
			for i := range rd.DBInstances {
				if strings.EqualFold(rd.DBInstances[i].ID, id) {
					res.TagList = rdsTags(rd.DBInstances[i].Tags)
					return
				}
			}
			aerr = errorf(http.StatusNotFound, "DBInstanceNotFound", "DBInstance %s not found.", id)
			return
		}
		for i := range rd.DBClusters {
			if strings.EqualFold(rd.DBClusters[i].ID, id) {
				res.TagList = rdsTags(rd.DBClusters[i].Tags)
				return
			}
		}
		aerr = errorf(http.StatusNotFound, "DBClusterNotFoundFault", "DBCluster %s not found.", id)
	})
	if aerr != nil {
		return nil, aerr
	}
	return res, nil
}
