package awssim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The REST-JSON services of the remaining products: API Gateway (REST
// APIs at /restapis and, on the same signing name, HTTP and WebSocket
// APIs at /v2/apis), OpenSearch Service, EFS, AWS Batch and Amazon
// Connect. Each is a route table over the scenario's generic resources.

func queryLimit(q url.Values, name string, def, max int) (int, *apiError) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errorf(http.StatusBadRequest, "BadRequestException", "Invalid %s: %s", name, v)
	}
	return min(n, max), nil
}

// ---- API Gateway (apigateway) ----

func newAPIGatewayService(s *Server) *restJSON {
	list := func(kind, path string, v2 bool) func(req *request, _ map[string]string, q url.Values) (any, *apiError) {
		return func(req *request, _ map[string]string, q url.Values) (any, *apiError) {
			// API Gateway's IAM actions are its HTTP verbs on the resource's path.
			if e := s.authorize(req, "apigateway:GET", "arn:aws:apigateway:"+req.region+"::"+path); e != nil {
				return nil, e
			}
			limitName, tokenName := "limit", "position"
			if v2 {
				limitName, tokenName = "maxResults", "nextToken"
			}
			limit, aerr := queryLimit(q, limitName, 25, 500)
			if aerr != nil {
				return nil, aerr
			}
			page, next, aerr := pageOf(s.kindResources(req, kind, false), byName, kind, q.Get(tokenName), limit)
			if aerr != nil {
				return nil, aerr
			}
			items := []map[string]any{}
			for _, r := range page {
				id := APIGatewayID(r.Region, &r.Resource)
				created := digestTime("apigateway", r.Account, r.Region, r.Name)
				if v2 {
					proto := strings.ToUpper(r.attr("protocol", "HTTP"))
					items = append(items, map[string]any{"apiId": id, "name": r.Name, "protocolType": proto,
						"apiEndpoint": "https://" + id + ".execute-api." + r.Region + ".amazonaws.com", "createdDate": created.UTC().Format("2006-01-02T15:04:05Z"),
						"routeSelectionExpression": "$request.method $request.path", "tags": tagMapOf(r.Tags)})
					continue
				}
				items = append(items, map[string]any{"id": id, "name": r.Name, "createdDate": epochSeconds(created),
					"apiKeySource": "HEADER", "endpointConfiguration": map[string]any{"types": []string{"REGIONAL"}}, "tags": tagMapOf(r.Tags)})
			}
			if v2 {
				out := map[string]any{"items": items}
				if next != "" {
					out["nextToken"] = next
				}
				return out, nil
			}
			out := map[string]any{"item": items}
			if next != "" {
				out["position"] = next
			}
			return out, nil
		}
	}
	return &restJSON{s: s, routes: []restRoute{
		{method: "GET", pattern: "/restapis", action: "GetRestApis", h: list("apigateway:restapi", "/restapis", false)},
		{method: "GET", pattern: "/v2/apis", action: "GetApis", h: list("apigateway:api", "/apis", true)},
	}}
}

// ---- OpenSearch Service (es) ----

func newOpenSearchService(s *Server) *restJSON {
	return &restJSON{s: s, routes: []restRoute{
		{method: "GET", pattern: "/2021-01-01/domain", action: "ListDomainNames", h: func(req *request, _ map[string]string, q url.Values) (any, *apiError) {
			if e := s.authorize(req, "es:ListDomainNames", "*"); e != nil {
				return nil, e
			}
			engine := q.Get("engineType")
			names := []map[string]string{}
			for _, r := range s.kindResources(req, "es:domain", false) {
				et := "OpenSearch"
				if strings.HasPrefix(r.attr("engine", "OpenSearch_2.13"), "Elasticsearch") {
					et = "Elasticsearch"
				}
				if engine != "" && engine != et {
					continue
				}
				names = append(names, map[string]string{"DomainName": r.Name, "EngineType": et})
			}
			return map[string]any{"DomainNames": names}, nil
		}},
	}}
}

// ---- EFS (elasticfilesystem) ----

func newEFSService(s *Server) *restJSON {
	return &restJSON{s: s, routes: []restRoute{
		{method: "GET", pattern: "/2015-02-01/file-systems", action: "DescribeFileSystems", h: func(req *request, _ map[string]string, q url.Values) (any, *apiError) {
			if e := s.authorize(req, "elasticfilesystem:DescribeFileSystems", "*"); e != nil {
				return nil, e
			}
			limit, aerr := queryLimit(q, "MaxItems", 100, 100)
			if aerr != nil {
				return nil, aerr
			}
			key := func(r regionalResource) string { return FileSystemID(r.Region, r.Account, &r.Resource) }
			page, next, aerr := pageOf(s.kindResources(req, "elasticfilesystem:file-system", false), key, "efs", q.Get("Marker"), limit)
			if aerr != nil {
				return nil, aerr
			}
			items := []map[string]any{}
			for _, r := range page {
				id := key(r)
				size, _ := strconv.ParseInt(r.attr("size_bytes", "6144"), 10, 64)
				items = append(items, map[string]any{"FileSystemId": id, "FileSystemArn": partitionARN("elasticfilesystem", r.Region, r.Account, "file-system/"+id),
					"Name": r.Name, "OwnerId": r.Account, "CreationToken": "awssim-" + r.Name, "LifeCycleState": stateOr(r.State, "available"),
					"PerformanceMode": r.attr("performance_mode", "generalPurpose"), "ThroughputMode": r.attr("throughput_mode", "bursting"),
					"NumberOfMountTargets": 2, "Encrypted": true, "SizeInBytes": map[string]int64{"Value": size},
					"CreationTime": epochSeconds(digestTime("efs", r.Account, r.Region, r.Name)), "Tags": jsonTags(r.Tags, "Key", "Value")})
			}
			out := map[string]any{"FileSystems": items}
			if m := q.Get("Marker"); m != "" {
				out["Marker"] = m
			}
			if next != "" {
				out["NextMarker"] = next
			}
			return out, nil
		}},
	}}
}

// ---- AWS Batch (batch) ----

func newBatchService(s *Server) *restJSON {
	queueARN := func(r regionalResource) string {
		return partitionARN("batch", r.Region, r.Account, "job-queue/"+r.Name)
	}
	return &restJSON{s: s, routes: []restRoute{
		{method: "POST", pattern: "/v1/describejobqueues", action: "DescribeJobQueues", h: func(req *request, _ map[string]string, _ url.Values) (any, *apiError) {
			in, aerr := jsonInput[struct {
				JobQueues  []string `json:"jobQueues"`
				MaxResults *int     `json:"maxResults"`
				NextToken  *string  `json:"nextToken"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if e := s.authorize(req, "batch:DescribeJobQueues", "*"); e != nil {
				return nil, e
			}
			page, next, aerr := pageOf(s.kindResources(req, "batch:job-queue", false), byName, "batch-queues", deref(in.NextToken), clampLimit(in.MaxResults, 100, 100))
			if aerr != nil {
				return nil, aerr
			}
			items := []map[string]any{}
			for _, r := range page {
				items = append(items, map[string]any{"jobQueueName": r.Name, "jobQueueArn": queueARN(r), "state": "ENABLED", "status": stateOr(r.State, "VALID"),
					"priority": r.attrInt("priority", 1), "computeEnvironmentOrder": []map[string]any{{"order": 1,
						"computeEnvironment": partitionARN("batch", r.Region, r.Account, "compute-environment/"+r.Name)}}, "tags": tagMapOf(r.Tags)})
			}
			out := map[string]any{"jobQueues": items}
			if next != "" {
				out["nextToken"] = next
			}
			return out, nil
		}},
		{method: "POST", pattern: "/v1/listjobs", action: "ListJobs", h: func(req *request, _ map[string]string, _ url.Values) (any, *apiError) {
			in, aerr := jsonInput[struct {
				JobQueue   string  `json:"jobQueue"`
				JobStatus  string  `json:"jobStatus"`
				MaxResults *int    `json:"maxResults"`
				NextToken  *string `json:"nextToken"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if e := s.authorize(req, "batch:ListJobs", "*"); e != nil {
				return nil, e
			}
			status := in.JobStatus
			if status == "" {
				status = "RUNNING"
			}
			var queue *regionalResource
			for _, r := range s.kindResources(req, "batch:job-queue", false) {
				if r.Name == in.JobQueue || queueARN(r) == in.JobQueue {
					queue = &r
				}
			}
			if queue == nil {
				return nil, errorf(http.StatusBadRequest, "ClientException", "Job queue %s does not exist", in.JobQueue)
			}
			n := batchJobCounts(&queue.Resource)[status]
			var jobs []regionalResource
			for i := 0; i < n; i++ {
				jobs = append(jobs, regionalResource{Resource: Resource{Name: fmt.Sprintf("%s-%s-%05d", queue.Name, strings.ToLower(status), i)}})
			}
			page, next, aerr := pageOf(jobs, byName, "batch-jobs", deref(in.NextToken), clampLimit(in.MaxResults, 100, 100))
			if aerr != nil {
				return nil, aerr
			}
			items := []map[string]any{}
			for _, j := range page {
				items = append(items, map[string]any{"jobId": digestUUID("batch-job", j.Name), "jobName": j.Name, "status": status,
					"jobArn":    partitionARN("batch", req.region, req.principal.AccountID, "job/"+digestUUID("batch-job", j.Name)),
					"createdAt": digestTime("batch-job", j.Name).UnixMilli()})
			}
			out := map[string]any{"jobSummaryList": items}
			if next != "" {
				out["nextToken"] = next
			}
			return out, nil
		}},
	}}
}

// ---- Amazon Connect (connect) ----

func newConnectService(s *Server) *restJSON {
	return &restJSON{s: s, routes: []restRoute{
		{method: "GET", pattern: "/instance", action: "ListInstances", h: func(req *request, _ map[string]string, q url.Values) (any, *apiError) {
			if e := s.authorize(req, "connect:ListInstances", "*"); e != nil {
				return nil, e
			}
			limit, aerr := queryLimit(q, "maxResults", 10, 10)
			if aerr != nil {
				return nil, aerr
			}
			page, next, aerr := pageOf(s.kindResources(req, "connect:instance", false), byName, "connect", q.Get("nextToken"), limit)
			if aerr != nil {
				return nil, aerr
			}
			items := []map[string]any{}
			for _, r := range page {
				id := ConnectInstanceID(r.Region, r.Account, &r.Resource)
				items = append(items, map[string]any{"Id": id, "Arn": partitionARN("connect", r.Region, r.Account, "instance/"+id),
					"IdentityManagementType": "CONNECT_MANAGED", "InstanceAlias": r.Name, "InstanceStatus": stateOr(r.State, "ACTIVE"),
					"InboundCallsEnabled": true, "OutboundCallsEnabled": true, "CreatedTime": epochSeconds(digestTime("connect", r.Account, r.Region, r.Name)),
					"InstanceAccessUrl": "https://" + r.Name + ".my.connect.aws"})
			}
			out := map[string]any{"InstanceSummaryList": items}
			if next != "" {
				out["NextToken"] = next
			}
			return out, nil
		}},
	}}
}
