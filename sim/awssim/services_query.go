package awssim

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The Query-protocol services of the remaining products: ElastiCache
// (2015-02-02), Redshift (2012-12-01) and SES (2010-12-01, signing name
// ses). DocumentDB shares RDS's endpoint and API (rds.go).

// ---- ElastiCache ----

type ecEndpoint struct {
	Address string `xml:"Address"`
	Port    int    `xml:"Port"`
}

type ecCacheNode struct {
	CacheNodeID              string      `xml:"CacheNodeId"`
	CacheNodeStatus          string      `xml:"CacheNodeStatus"`
	CacheNodeCreateTime      string      `xml:"CacheNodeCreateTime"`
	Endpoint                 *ecEndpoint `xml:"Endpoint,omitempty"`
	ParameterGroupStatus     string      `xml:"ParameterGroupStatus"`
	CustomerAvailabilityZone string      `xml:"CustomerAvailabilityZone"`
}

type ecCacheCluster struct {
	CacheClusterID            string      `xml:"CacheClusterId"`
	ARN                       string      `xml:"ARN"`
	ConfigurationEndpoint     *ecEndpoint `xml:"ConfigurationEndpoint,omitempty"`
	CacheNodeType             string      `xml:"CacheNodeType"`
	Engine                    string      `xml:"Engine"`
	EngineVersion             string      `xml:"EngineVersion"`
	CacheClusterStatus        string      `xml:"CacheClusterStatus"`
	NumCacheNodes             int         `xml:"NumCacheNodes"`
	PreferredAvailabilityZone string      `xml:"PreferredAvailabilityZone"`
	CacheClusterCreateTime    string      `xml:"CacheClusterCreateTime"`
	ReplicationGroupID        string      `xml:"ReplicationGroupId,omitempty"`
	CacheNodes                *struct {
		CacheNode []ecCacheNode `xml:"CacheNode"`
	} `xml:"CacheNodes,omitempty"`
}

type ecDescribeResult struct {
	Marker        string `xml:"Marker,omitempty"`
	CacheClusters struct {
		CacheCluster []ecCacheCluster `xml:"CacheCluster"`
	} `xml:"CacheClusters"`
}

// ElastiCacheNodeAddress is a cache node's endpoint address.
func ElastiCacheNodeAddress(region, account, cluster, node string) string {
	return cluster + "." + digestAlnum(6, "ec", account, region) + "." + node + "." + shortRegion(region) + ".cache.amazonaws.com"
}

// shortRegion is AWS's endpoint abbreviation of a region (use1 ...).
func shortRegion(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return region
	}
	dir := parts[1]
	switch dir {
	case "northeast", "southeast", "northwest", "southwest":
		dir = string(dir[0]) + string(dir[5])
	default:
		dir = dir[:1]
	}
	return parts[0] + dir + parts[2]
}

func newElastiCacheService(s *Server) *queryAPI {
	return &queryAPI{s: s, xmlns: "http://elasticache.amazonaws.com/doc/2015-02-02/", ops: map[string]func(url.Values, *request) (any, *apiError){
		"DescribeReplicationGroups": func(params url.Values, req *request) (any, *apiError) {
			return describeReplicationGroups(s, params, req)
		},
		"DescribeCacheClusters": func(params url.Values, req *request) (any, *apiError) {
			if e := s.authorize(req, "elasticache:DescribeCacheClusters", "*"); e != nil {
				return nil, e
			}
			max, aerr := queryMax(params, "MaxRecords", 100, 20, 100)
			if aerr != nil {
				return nil, aerr
			}
			marker, _, _ := singleParam(params, "Marker")
			showNodes, _, _ := singleParam(params, "ShowCacheNodeInfo")
			page, next, aerr := pageOf(s.kindResources(req, "elasticache:cluster", false), byName, "elasticache", marker, max)
			if aerr != nil {
				return nil, aerr
			}
			var res ecDescribeResult
			res.Marker = next
			for _, r := range page {
				c := ecCacheCluster{CacheClusterID: r.Name, ARN: resourceKinds()[r.Kind].arn(r.Region, r.Account, &r.Resource),
					CacheNodeType: r.attr("node_type", "cache.t3.micro"), Engine: r.attr("engine", "redis"), EngineVersion: r.attr("engine_version", "7.1"),
					CacheClusterStatus: stateOr(r.State, "available"), NumCacheNodes: r.attrInt("nodes", 1), PreferredAvailabilityZone: r.Region + "a",
					CacheClusterCreateTime: queryTime(digestTime("elasticache", r.Account, r.Region, r.Name)), ReplicationGroupID: r.attr("replication_group", "")}
				if c.Engine == "memcached" {
					c.ConfigurationEndpoint = &ecEndpoint{Address: r.Name + "." + digestAlnum(6, "ec", r.Account, r.Region) + ".cfg." + shortRegion(r.Region) + ".cache.amazonaws.com", Port: 11211}
				}
				if strings.EqualFold(showNodes, "true") {
					c.CacheNodes = &struct {
						CacheNode []ecCacheNode `xml:"CacheNode"`
					}{}
					port := 6379
					if c.Engine == "memcached" {
						port = 11211
					}
					for _, n := range ElastiCacheNodeIDs(&r.Resource) {
						c.CacheNodes.CacheNode = append(c.CacheNodes.CacheNode, ecCacheNode{CacheNodeID: n, CacheNodeStatus: "available",
							CacheNodeCreateTime: c.CacheClusterCreateTime, ParameterGroupStatus: "in-sync", CustomerAvailabilityZone: r.Region + "a",
							Endpoint: &ecEndpoint{Address: ElastiCacheNodeAddress(r.Region, r.Account, r.Name, n), Port: port}})
					}
				}
				res.CacheClusters.CacheCluster = append(res.CacheClusters.CacheCluster, c)
			}
			return res, nil
		},
	}}
}

type ecReplicationGroup struct {
	ReplicationGroupID         string `xml:"ReplicationGroupId"`
	Description                string `xml:"Description"`
	Status                     string `xml:"Status"`
	ARN                        string `xml:"ARN"`
	Engine                     string `xml:"Engine"`
	GlobalReplicationGroupInfo *struct {
		GlobalReplicationGroupID         string `xml:"GlobalReplicationGroupId"`
		GlobalReplicationGroupMemberRole string `xml:"GlobalReplicationGroupMemberRole"`
	} `xml:"GlobalReplicationGroupInfo,omitempty"`
	MemberClusters struct {
		ClusterID []string `xml:"ClusterId"`
	} `xml:"MemberClusters"`
	NodeGroups struct {
		NodeGroup []struct {
			NodeGroupID      string `xml:"NodeGroupId"`
			Status           string `xml:"Status"`
			NodeGroupMembers struct {
				NodeGroupMember []struct {
					CacheClusterID string `xml:"CacheClusterId"`
					CacheNodeID    string `xml:"CacheNodeId"`
					CurrentRole    string `xml:"CurrentRole"`
				} `xml:"NodeGroupMember"`
			} `xml:"NodeGroupMembers"`
		} `xml:"NodeGroup"`
	} `xml:"NodeGroups"`
}

type ecDescribeReplicationGroupsResult struct {
	Marker            string `xml:"Marker,omitempty"`
	ReplicationGroups struct {
		ReplicationGroup []ecReplicationGroup `xml:"ReplicationGroup"`
	} `xml:"ReplicationGroups"`
}

// describeReplicationGroups groups the cache clusters by their attribute
// replication_group (members' roles: attribute role, primary or replica).
func describeReplicationGroups(s *Server, params url.Values, req *request) (any, *apiError) {
	if e := s.authorize(req, "elasticache:DescribeReplicationGroups", "*"); e != nil {
		return nil, e
	}
	max, aerr := queryMax(params, "MaxRecords", 100, 20, 100)
	if aerr != nil {
		return nil, aerr
	}
	groups := map[string][]regionalResource{}
	var names []regionalResource
	for _, r := range s.kindResources(req, "elasticache:cluster", false) {
		g := r.attr("replication_group", "")
		if g == "" {
			continue
		}
		if len(groups[g]) == 0 {
			names = append(names, regionalResource{Resource: Resource{Name: g}, Region: r.Region, Account: r.Account})
		}
		groups[g] = append(groups[g], r)
	}
	marker, _, _ := singleParam(params, "Marker")
	page, next, aerr := pageOf(names, byName, "elasticache-rg", marker, max)
	if aerr != nil {
		return nil, aerr
	}
	var res ecDescribeReplicationGroupsResult
	res.Marker = next
	for _, g := range page {
		members := groups[g.Name]
		rg := ecReplicationGroup{ReplicationGroupID: g.Name, Description: g.Name, Status: "available", Engine: members[0].attr("engine", "redis"),
			ARN: partitionARN("elasticache", g.Region, g.Account, "replicationgroup:"+g.Name)}
		ng := struct {
			NodeGroupID      string `xml:"NodeGroupId"`
			Status           string `xml:"Status"`
			NodeGroupMembers struct {
				NodeGroupMember []struct {
					CacheClusterID string `xml:"CacheClusterId"`
					CacheNodeID    string `xml:"CacheNodeId"`
					CurrentRole    string `xml:"CurrentRole"`
				} `xml:"NodeGroupMember"`
			} `xml:"NodeGroupMembers"`
		}{NodeGroupID: "0001", Status: "available"}
		for _, m := range members {
			rg.MemberClusters.ClusterID = append(rg.MemberClusters.ClusterID, m.Name)
			ng.NodeGroupMembers.NodeGroupMember = append(ng.NodeGroupMembers.NodeGroupMember, struct {
				CacheClusterID string `xml:"CacheClusterId"`
				CacheNodeID    string `xml:"CacheNodeId"`
				CurrentRole    string `xml:"CurrentRole"`
			}{CacheClusterID: m.Name, CacheNodeID: "0001", CurrentRole: m.attr("role", "replica")})
			if m.has("global_datastore") && rg.GlobalReplicationGroupInfo == nil {
				rg.GlobalReplicationGroupInfo = &struct {
					GlobalReplicationGroupID         string `xml:"GlobalReplicationGroupId"`
					GlobalReplicationGroupMemberRole string `xml:"GlobalReplicationGroupMemberRole"`
				}{GlobalReplicationGroupID: "ldgnf-" + g.Name, GlobalReplicationGroupMemberRole: "PRIMARY"}
			}
		}
		rg.NodeGroups.NodeGroup = append(rg.NodeGroups.NodeGroup, ng)
		res.ReplicationGroups.ReplicationGroup = append(res.ReplicationGroups.ReplicationGroup, rg)
	}
	return res, nil
}

// queryMax reads a Query page size parameter (def when absent).
func queryMax(params url.Values, name string, def, lo, hi int) (int, *apiError) {
	v, ok, aerr := singleParam(params, name)
	if aerr != nil || !ok {
		return def, aerr
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errorf(http.StatusBadRequest, "InvalidParameterValue", "Invalid value %s for %s. Must be between %d and %d", v, name, lo, hi)
	}
	return n, nil
}

// ---- Redshift ----

type rsCluster struct {
	ClusterIdentifier string `xml:"ClusterIdentifier"`
	NodeType          string `xml:"NodeType"`
	ClusterStatus     string `xml:"ClusterStatus"`
	NumberOfNodes     int    `xml:"NumberOfNodes"`
	DBName            string `xml:"DBName"`
	Endpoint          struct {
		Address string `xml:"Address"`
		Port    int    `xml:"Port"`
	} `xml:"Endpoint"`
	ClusterCreateTime string `xml:"ClusterCreateTime"`
	AvailabilityZone  string `xml:"AvailabilityZone"`
	ClusterNodes      struct {
		Member []struct {
			NodeRole         string `xml:"NodeRole"`
			PrivateIPAddress string `xml:"PrivateIPAddress"`
		} `xml:"member"`
	} `xml:"ClusterNodes"`
	Tags struct {
		Tag []rdsTag `xml:"Tag"`
	} `xml:"Tags"`
}

type rsDescribeResult struct {
	Marker   string `xml:"Marker,omitempty"`
	Clusters struct {
		Cluster []rsCluster `xml:"Cluster"`
	} `xml:"Clusters"`
}

func newRedshiftService(s *Server) *queryAPI {
	return &queryAPI{s: s, xmlns: "http://redshift.amazonaws.com/doc/2012-12-01/", ops: map[string]func(url.Values, *request) (any, *apiError){
		"DescribeClusters": func(params url.Values, req *request) (any, *apiError) {
			if e := s.authorize(req, "redshift:DescribeClusters", "*"); e != nil {
				return nil, e
			}
			max, aerr := queryMax(params, "MaxRecords", 100, 20, 100)
			if aerr != nil {
				return nil, aerr
			}
			marker, _, _ := singleParam(params, "Marker")
			page, next, aerr := pageOf(s.kindResources(req, "redshift:cluster", false), byName, "redshift", marker, max)
			if aerr != nil {
				return nil, aerr
			}
			var res rsDescribeResult
			res.Marker = next
			for _, r := range page {
				c := rsCluster{ClusterIdentifier: r.Name, NodeType: r.attr("node_type", "ra3.xlplus"), ClusterStatus: stateOr(r.State, "available"),
					NumberOfNodes: max1(r.attrInt("nodes", 1)), DBName: "dev", ClusterCreateTime: queryTime(digestTime("redshift", r.Account, r.Region, r.Name)),
					AvailabilityZone: r.Region + "a"}
				c.Endpoint.Address = r.Name + "." + digestAlnum(12, "redshift", r.Account, r.Region) + "." + r.Region + ".redshift.amazonaws.com"
				c.Endpoint.Port = 5439
				for i, role := range RedshiftNodeIDs(&r.Resource) {
					c.ClusterNodes.Member = append(c.ClusterNodes.Member, struct {
						NodeRole         string `xml:"NodeRole"`
						PrivateIPAddress string `xml:"PrivateIPAddress"`
					}{NodeRole: strings.Split(role, "-")[0], PrivateIPAddress: "10.0.9." + strconv.Itoa(10+i)})
				}
				for _, k := range tagKeysSorted(r.Tags) {
					c.Tags.Tag = append(c.Tags.Tag, rdsTag{Key: k, Value: r.Tags[k]})
				}
				res.Clusters.Cluster = append(res.Clusters.Cluster, c)
			}
			return res, nil
		},
	}}
}

func max1(n int) int { return max(n, 1) }

// ---- SES (v1) ----

type sesSendQuota struct {
	Max24HourSend   float64 `xml:"Max24HourSend"`
	MaxSendRate     float64 `xml:"MaxSendRate"`
	SentLast24Hours float64 `xml:"SentLast24Hours"`
}

type sesActiveRuleSet struct {
	Metadata *struct {
		Name             string `xml:"Name"`
		CreatedTimestamp string `xml:"CreatedTimestamp"`
	} `xml:"Metadata,omitempty"`
	Rules struct {
		Member []sesRule `xml:"member"`
	} `xml:"Rules"`
}

type sesRule struct {
	Name        string `xml:"Name"`
	Enabled     bool   `xml:"Enabled"`
	ScanEnabled bool   `xml:"ScanEnabled"`
	TLSPolicy   string `xml:"TlsPolicy"`
}

func newSESService(s *Server) *queryAPI {
	account := func(req *request) *regionalResource {
		rs := s.kindResources(req, "ses:account", false)
		if len(rs) == 0 {
			return nil
		}
		return &rs[0]
	}
	return &queryAPI{s: s, xmlns: "http://ses.amazonaws.com/doc/2010-12-01/", ops: map[string]func(url.Values, *request) (any, *apiError){
		"GetSendQuota": func(_ url.Values, req *request) (any, *apiError) {
			if e := s.authorize(req, "ses:GetSendQuota", "*"); e != nil {
				return nil, e
			}
			q := sesSendQuota{Max24HourSend: 200, MaxSendRate: 1} // the sandbox's quota
			if a := account(req); a != nil {
				q.Max24HourSend, _ = strconv.ParseFloat(a.attr("max_24h_send", "200"), 64)
				q.MaxSendRate, _ = strconv.ParseFloat(a.attr("max_send_rate", "1"), 64)
				q.SentLast24Hours, _ = strconv.ParseFloat(a.attr("sent_last_24h", "0"), 64)
			}
			return q, nil
		},
		"DescribeActiveReceiptRuleSet": func(_ url.Values, req *request) (any, *apiError) {
			if e := s.authorize(req, "ses:DescribeActiveReceiptRuleSet", "*"); e != nil {
				return nil, e
			}
			var out sesActiveRuleSet
			if a := account(req); a != nil && len(a.Subs["rules"]) > 0 {
				out.Metadata = &struct {
					Name             string `xml:"Name"`
					CreatedTimestamp string `xml:"CreatedTimestamp"`
				}{Name: a.attr("rule_set", "default-rule-set"), CreatedTimestamp: queryTime(digestTime("ses", a.Account, a.Region))}
				for _, r := range a.Subs["rules"] {
					out.Rules.Member = append(out.Rules.Member, sesRule{Name: r, Enabled: true, ScanEnabled: true, TLSPolicy: "Optional"})
				}
			}
			return out, nil
		},
	}}
}
