package awssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// The awsJson services of the remaining products: Kinesis Data Streams,
// ECS, Step Functions and Kinesis Data Firehose, WAF (v2, Classic,
// Classic Regional), Budgets, CodeBuild and Athena. Each is a table of
// operations over the scenario's generic resources (kinds.go); field names
// and pagination are those of the services' API references.

func clampLimit(n *int, def, max int) int {
	if n == nil || *n <= 0 {
		return def
	}
	return min(*n, max)
}

func byName(r regionalResource) string { return r.Name }

// ---- Kinesis Data Streams (Kinesis_20131202, JSON 1.1) ----

func newKinesisService(s *Server) *jsonRPC {
	return newJSONRPC(s, "Kinesis_20131202", awsJSON11, map[string]func(*request) (any, *apiError){
		"ListStreams": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				Limit     *int    `json:"Limit"`
				NextToken *string `json:"NextToken"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if e := s.authorize(req, "kinesis:ListStreams", "*"); e != nil {
				return nil, e
			}
			page, next, aerr := pageOf(s.kindResources(req, "kinesis:stream", false), byName, "kinesis", deref(in.NextToken), clampLimit(in.Limit, 100, 1000))
			if aerr != nil {
				return nil, aerr
			}
			names, sums := []string{}, []map[string]any{}
			for _, r := range page {
				names = append(names, r.Name)
				sums = append(sums, map[string]any{"StreamName": r.Name, "StreamARN": resourceKinds()[r.Kind].arn(r.Region, r.Account, &r.Resource),
					"StreamStatus": stateOr(r.State, "ACTIVE"), "StreamModeDetails": map[string]string{"StreamMode": r.attr("mode", "PROVISIONED")},
					"StreamCreationTimestamp": epochSeconds(digestTime("kinesis", r.Account, r.Region, r.Name))})
			}
			out := map[string]any{"StreamNames": names, "StreamSummaries": sums, "HasMoreStreams": next != ""}
			if next != "" {
				out["NextToken"] = next
			}
			return out, nil
		},
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func stateOr(state, def string) string {
	if state == "" {
		return def
	}
	return state
}

// ---- ECS (AmazonEC2ContainerServiceV20141113, JSON 1.1) ----

func newECSService(s *Server) *jsonRPC {
	arnOf := func(r regionalResource) string { return resourceKinds()[r.Kind].arn(r.Region, r.Account, &r.Resource) }
	return newJSONRPC(s, "AmazonEC2ContainerServiceV20141113", awsJSON11, map[string]func(*request) (any, *apiError){
		"ListClusters": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				MaxResults *int    `json:"maxResults"`
				NextToken  *string `json:"nextToken"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if e := s.authorize(req, "ecs:ListClusters", "*"); e != nil {
				return nil, e
			}
			page, next, aerr := pageOf(s.kindResources(req, "ecs:cluster", false), byName, "ecs", deref(in.NextToken), clampLimit(in.MaxResults, 100, 100))
			if aerr != nil {
				return nil, aerr
			}
			arns := []string{}
			for _, r := range page {
				arns = append(arns, arnOf(r))
			}
			out := map[string]any{"clusterArns": arns}
			if next != "" {
				out["nextToken"] = next
			}
			return out, nil
		},
		"DescribeClusters": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				Clusters []string `json:"clusters"`
				Include  []string `json:"include"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if len(in.Clusters) > 100 {
				return nil, errorf(http.StatusBadRequest, "InvalidParameterException", "Clusters can have at most 100 items.")
			}
			if e := s.authorize(req, "ecs:DescribeClusters", "*"); e != nil {
				return nil, e
			}
			withTags := false
			for _, i := range in.Include {
				withTags = withTags || i == "TAGS"
			}
			all := s.kindResources(req, "ecs:cluster", false)
			clusters, failures := []map[string]any{}, []map[string]string{}
			for _, want := range in.Clusters {
				found := false
				for _, r := range all {
					if want != r.Name && want != arnOf(r) {
						continue
					}
					found = true
					c := map[string]any{"clusterArn": arnOf(r), "clusterName": r.Name, "status": stateOr(r.State, "ACTIVE"),
						"registeredContainerInstancesCount": 0, "runningTasksCount": r.attrInt("running_tasks", 2), "pendingTasksCount": 0,
						"activeServicesCount": len(r.Subs["services"]), "capacityProviders": []string{"FARGATE"}}
					if r.has("ec2_capacity") {
						c["registeredContainerInstancesCount"] = r.attrInt("container_instances", 2)
						c["capacityProviders"] = []string{}
					}
					if withTags {
						c["tags"] = jsonTags(r.Tags, "key", "value")
					}
					clusters = append(clusters, c)
				}
				if !found {
					failures = append(failures, map[string]string{"arn": want, "reason": "MISSING"})
				}
			}
			return map[string]any{"clusters": clusters, "failures": failures}, nil
		},
	})
}

// ---- Step Functions (AWSStepFunctions, JSON 1.0) ----

// stateMachineDefinition is an Amazon States Language document whose Task
// states use the machine's activities, Lambda functions and service
// integrations.
func stateMachineDefinition(region, account string, r *Resource) string {
	states := map[string]any{}
	var order []string
	add := func(resource string) {
		name := fmt.Sprintf("Step%d", len(order)+1)
		order = append(order, name)
		states[name] = map[string]any{"Type": "Task", "Resource": resource}
	}
	for _, a := range r.Subs["activities"] {
		add(partitionARN("states", region, account, "activity:"+a))
	}
	for _, f := range r.Subs["lambdas"] {
		add(lambdaARN(region, account, f))
	}
	for _, i := range r.Subs["integrations"] {
		add(i)
	}
	if len(order) == 0 {
		order = append(order, "Done")
		states["Done"] = map[string]any{"Type": "Pass", "End": true}
	}
	for i, name := range order {
		st := states[name].(map[string]any)
		if i+1 < len(order) {
			st["Next"] = order[i+1]
		} else {
			st["End"] = true
		}
	}
	b, _ := json.Marshal(map[string]any{"StartAt": order[0], "States": states})
	return string(b)
}

func newStatesService(s *Server) *jsonRPC {
	return newJSONRPC(s, "AWSStepFunctions", awsJSON10, map[string]func(*request) (any, *apiError){
		"ListStateMachines": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				MaxResults *int    `json:"maxResults"`
				NextToken  *string `json:"nextToken"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if e := s.authorize(req, "states:ListStateMachines", "*"); e != nil {
				return nil, e
			}
			page, next, aerr := pageOf(s.kindResources(req, "states:stateMachine", false), byName, "states", deref(in.NextToken), clampLimit(in.MaxResults, 100, 1000))
			if aerr != nil {
				return nil, aerr
			}
			items := []map[string]any{}
			for _, r := range page {
				items = append(items, map[string]any{"stateMachineArn": StateMachineARN(r.Region, r.Account, r.Name), "name": r.Name,
					"type": r.attr("type", "STANDARD"), "creationDate": epochSeconds(digestTime("states", r.Account, r.Region, r.Name))})
			}
			out := map[string]any{"stateMachines": items}
			if next != "" {
				out["nextToken"] = next
			}
			return out, nil
		},
		"DescribeStateMachine": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				StateMachineArn string `json:"stateMachineArn"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if e := s.authorize(req, "states:DescribeStateMachine", in.StateMachineArn); e != nil {
				return nil, e
			}
			for _, r := range s.kindResources(req, "states:stateMachine", false) {
				if StateMachineARN(r.Region, r.Account, r.Name) == in.StateMachineArn {
					return map[string]any{"stateMachineArn": in.StateMachineArn, "name": r.Name, "status": "ACTIVE",
						"definition": stateMachineDefinition(r.Region, r.Account, &r.Resource), "type": r.attr("type", "STANDARD"),
						"roleArn":      "arn:aws:iam::" + r.Account + ":role/StepFunctions-" + r.Name,
						"creationDate": epochSeconds(digestTime("states", r.Account, r.Region, r.Name))}, nil
				}
			}
			return nil, errorf(http.StatusBadRequest, "StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", in.StateMachineArn)
		},
	})
}

// ---- Kinesis Data Firehose (Firehose_20150804, JSON 1.1) ----

func firehoseDestination(r *Resource, region, account string) map[string]any {
	bucket := map[string]any{"BucketARN": "arn:aws:s3:::" + r.Name + "-delivery", "RoleARN": "arn:aws:iam::" + account + ":role/firehose",
		"BufferingHints": map[string]int{"SizeInMBs": 5, "IntervalInSeconds": 300}, "CompressionFormat": "UNCOMPRESSED",
		"EncryptionConfiguration": map[string]string{"NoEncryptionConfig": "NoEncryption"}}
	dest := map[string]any{"DestinationId": "destinationId-000000000001"}
	ext := map[string]any{}
	for k, v := range bucket {
		ext[k] = v
	}
	if r.has("processing") {
		ext["ProcessingConfiguration"] = map[string]any{"Enabled": true, "Processors": []map[string]any{{"Type": "Lambda"}}}
	}
	if r.has("conversion") {
		ext["DataFormatConversionConfiguration"] = map[string]any{"Enabled": true}
	}
	if r.has("dynamic_partitioning") {
		ext["DynamicPartitioningConfiguration"] = map[string]any{"Enabled": true}
	}
	if r.has("backup") {
		ext["S3BackupMode"] = "Enabled"
		ext["S3BackupDescription"] = bucket
	}
	switch r.attr("destination", "s3") {
	case "s3":
		dest["ExtendedS3DestinationDescription"] = ext
	case "redshift":
		dest["RedshiftDestinationDescription"] = map[string]any{"ClusterJDBCURL": "jdbc:redshift://example:5439/dev", "Username": "firehose",
			"RoleARN": bucket["RoleARN"], "CopyCommand": map[string]string{"DataTableName": "events"}, "S3DestinationDescription": bucket}
	case "opensearch":
		dest["AmazonopensearchserviceDestinationDescription"] = map[string]any{"IndexName": "events", "RoleARN": bucket["RoleARN"]}
	case "elasticsearch":
		dest["ElasticsearchDestinationDescription"] = map[string]any{"IndexName": "events", "RoleARN": bucket["RoleARN"]}
	case "splunk":
		dest["SplunkDestinationDescription"] = map[string]any{"HECEndpoint": "https://splunk.example.com", "HECEndpointType": "Raw"}
	case "http_endpoint":
		dest["HttpEndpointDestinationDescription"] = map[string]any{"EndpointConfiguration": map[string]string{"Url": "https://example.com/ingest", "Name": "example"}}
	}
	return dest
}

func newFirehoseService(s *Server) *jsonRPC {
	return newJSONRPC(s, "Firehose_20150804", awsJSON11, map[string]func(*request) (any, *apiError){
		"ListDeliveryStreams": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				Limit                            *int    `json:"Limit"`
				ExclusiveStartDeliveryStreamName *string `json:"ExclusiveStartDeliveryStreamName"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if e := s.authorize(req, "firehose:ListDeliveryStreams", "*"); e != nil {
				return nil, e
			}
			page, more := pageAfter(s.kindResources(req, "firehose:deliverystream", false), byName, deref(in.ExclusiveStartDeliveryStreamName),
				clampLimit(in.Limit, 10, 10000))
			names := []string{}
			for _, r := range page {
				names = append(names, r.Name)
			}
			return map[string]any{"DeliveryStreamNames": names, "HasMoreDeliveryStreams": more}, nil
		},
		"DescribeDeliveryStream": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				DeliveryStreamName string `json:"DeliveryStreamName"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			for _, r := range s.kindResources(req, "firehose:deliverystream", false) {
				if r.Name != in.DeliveryStreamName {
					continue
				}
				arn := resourceKinds()[r.Kind].arn(r.Region, r.Account, &r.Resource)
				if e := s.authorize(req, "firehose:DescribeDeliveryStream", arn); e != nil {
					return nil, e
				}
				typ := "DirectPut"
				desc := map[string]any{"DeliveryStreamName": r.Name, "DeliveryStreamARN": arn, "DeliveryStreamStatus": stateOr(r.State, "ACTIVE"),
					"VersionId": "1", "Destinations": []any{firehoseDestination(&r.Resource, r.Region, r.Account)}, "HasMoreDestinations": false,
					"CreateTimestamp": epochSeconds(digestTime("firehose", r.Account, r.Region, r.Name))}
				if r.has("kinesis_source") {
					typ = "KinesisStreamAsSource"
					desc["Source"] = map[string]any{"KinesisStreamSourceDescription": map[string]string{
						"KinesisStreamARN": partitionARN("kinesis", r.Region, r.Account, "stream/"+r.Name+"-source")}}
				}
				desc["DeliveryStreamType"] = typ
				return map[string]any{"DeliveryStreamDescription": desc}, nil
			}
			if e := s.authorize(req, "firehose:DescribeDeliveryStream", "*"); e != nil {
				return nil, e
			}
			return nil, errorf(http.StatusBadRequest, "ResourceNotFoundException", "Firehose %s under account %s not found.", in.DeliveryStreamName, req.principal.AccountID)
		},
	})
}

// ---- WAF: v2 (AWSWAF_20190729), Classic (AWSWAF_20150824), Classic
// Regional (AWSWAF_Regional_20161128), all JSON 1.1 ----

func newWAFv2Service(s *Server) *jsonRPC {
	scoped := func(req *request, scope string) []regionalResource {
		var out []regionalResource
		for _, r := range s.kindResources(req, "wafv2:webacl", false) {
			if strings.EqualFold(r.attr("scope", "REGIONAL"), scope) {
				out = append(out, r)
			}
		}
		return out
	}
	checkScope := func(req *request, scope string) *apiError {
		switch scope {
		case "REGIONAL":
		case "CLOUDFRONT":
			if req.region != "us-east-1" {
				return errorf(http.StatusBadRequest, "WAFInvalidParameterException", "Error reason: The scope is not valid., field: SCOPE_VALUE, parameter: CLOUDFRONT")
			}
		default:
			return errorf(http.StatusBadRequest, "WAFInvalidParameterException", "Error reason: The scope is not valid., field: SCOPE_VALUE, parameter: %s", scope)
		}
		return nil
	}
	return newJSONRPC(s, "AWSWAF_20190729", awsJSON11, map[string]func(*request) (any, *apiError){
		"ListWebACLs": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				Scope      string  `json:"Scope"`
				Limit      *int    `json:"Limit"`
				NextMarker *string `json:"NextMarker"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if aerr := checkScope(req, in.Scope); aerr != nil {
				return nil, aerr
			}
			if e := s.authorize(req, "wafv2:ListWebACLs", "*"); e != nil {
				return nil, e
			}
			page, next, aerr := pageOf(scoped(req, in.Scope), byName, "wafv2", deref(in.NextMarker), clampLimit(in.Limit, 100, 100))
			if aerr != nil {
				return nil, aerr
			}
			items := []map[string]string{}
			for _, r := range page {
				items = append(items, map[string]string{"Name": r.Name, "Id": WAFv2ACLID(r.Region, r.Account, &r.Resource),
					"ARN": WAFv2ACLARN(r.Region, r.Account, &r.Resource), "Description": "", "LockToken": digestUUID("lock", r.Name)})
			}
			out := map[string]any{"WebACLs": items}
			if next != "" {
				out["NextMarker"] = next
			}
			return out, nil
		},
		"GetWebACL": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				Name  string `json:"Name"`
				Scope string `json:"Scope"`
				ID    string `json:"Id"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if aerr := checkScope(req, in.Scope); aerr != nil {
				return nil, aerr
			}
			for _, r := range scoped(req, in.Scope) {
				if r.Name != in.Name || WAFv2ACLID(r.Region, r.Account, &r.Resource) != in.ID {
					continue
				}
				arn := WAFv2ACLARN(r.Region, r.Account, &r.Resource)
				if e := s.authorize(req, "wafv2:GetWebACL", arn); e != nil {
					return nil, e
				}
				rules := []map[string]any{}
				for i, rule := range r.Subs["rules"] {
					rules = append(rules, map[string]any{"Name": rule, "Priority": i, "Action": map[string]any{"Block": map[string]any{}},
						"Statement":        map[string]any{"RateBasedStatement": map[string]any{"Limit": 1000, "AggregateKeyType": "IP"}},
						"VisibilityConfig": map[string]any{"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": rule}})
				}
				return map[string]any{"WebACL": map[string]any{"Name": r.Name, "Id": in.ID, "ARN": arn, "DefaultAction": map[string]any{"Allow": map[string]any{}},
					"Rules": rules, "Capacity": 2 * len(rules), "VisibilityConfig": map[string]any{"SampledRequestsEnabled": true,
						"CloudWatchMetricsEnabled": true, "MetricName": r.attr("metric_name", r.Name)}}, "LockToken": digestUUID("lock", r.Name)}, nil
			}
			if e := s.authorize(req, "wafv2:GetWebACL", "*"); e != nil {
				return nil, e
			}
			return nil, errorf(http.StatusBadRequest, "WAFNonexistentItemException", "AWS WAF couldn’t perform the operation because your resource doesn’t exist.")
		},
	})
}

// newWAFClassicService simulates WAF Classic (kind waf:webacl, target
// AWSWAF_20150824) or WAF Classic Regional (waf-regional:webacl,
// AWSWAF_Regional_20161128): ListWebACLs and GetWebACL.
func newWAFClassicService(s *Server, kind, target, iam string) *jsonRPC {
	id := func(r regionalResource) string {
		if kind == "waf:webacl" {
			return digestUUID("waf", r.Account, r.Name)
		}
		return digestUUID("waf-regional", r.Account, r.Region, r.Name)
	}
	return newJSONRPC(s, target, awsJSON11, map[string]func(*request) (any, *apiError){
		"ListWebACLs": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				Limit      *int    `json:"Limit"`
				NextMarker *string `json:"NextMarker"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if e := s.authorize(req, iam+":ListWebACLs", "*"); e != nil {
				return nil, e
			}
			page, next, aerr := pageOf(s.kindResources(req, kind, false), byName, iam, deref(in.NextMarker), clampLimit(in.Limit, 100, 100))
			if aerr != nil {
				return nil, aerr
			}
			items := []map[string]string{}
			for _, r := range page {
				items = append(items, map[string]string{"WebACLId": id(r), "Name": r.Name})
			}
			out := map[string]any{"WebACLs": items}
			if next != "" {
				out["NextMarker"] = next
			}
			return out, nil
		},
		"GetWebACL": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				WebACLId string `json:"WebACLId"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			for _, r := range s.kindResources(req, kind, false) {
				if id(r) != in.WebACLId {
					continue
				}
				arn := resourceKinds()[kind].arn(r.Region, r.Account, &r.Resource)
				if e := s.authorize(req, iam+":GetWebACL", arn); e != nil {
					return nil, e
				}
				rules := []map[string]any{}
				for i, rule := range r.Subs["rules"] {
					rules = append(rules, map[string]any{"Priority": i, "RuleId": digestUUID("waf-rule", r.Account, rule), "Type": "REGULAR",
						"Action": map[string]string{"Type": "BLOCK"}})
				}
				return map[string]any{"WebACL": map[string]any{"WebACLId": in.WebACLId, "Name": r.Name, "MetricName": r.attr("metric_name", r.Name),
					"DefaultAction": map[string]string{"Type": "ALLOW"}, "Rules": rules, "WebACLArn": arn}}, nil
			}
			if e := s.authorize(req, iam+":GetWebACL", "*"); e != nil {
				return nil, e
			}
			return nil, errorf(http.StatusBadRequest, "WAFNonexistentItemException", "The referenced item does not exist.")
		},
	})
}

// ---- Budgets (AWSBudgetServiceGateway, JSON 1.1, global) ----

func newBudgetsService(s *Server) *jsonRPC {
	return newJSONRPC(s, "AWSBudgetServiceGateway", awsJSON11, map[string]func(*request) (any, *apiError){
		"DescribeBudgets": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				AccountID  string  `json:"AccountId"`
				MaxResults *int    `json:"MaxResults"`
				NextToken  *string `json:"NextToken"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if len(in.AccountID) != 12 {
				return nil, errorf(http.StatusBadRequest, "InvalidParameterException", "Account ID must be 12 digits")
			}
			// budgets:ViewBudget is the permission DescribeBudgets needs.
			if e := s.authorize(req, "budgets:ViewBudget", "arn:aws:budgets::"+in.AccountID+":budget/*"); e != nil {
				return nil, e
			}
			if in.AccountID != req.principal.AccountID {
				return nil, errorf(http.StatusBadRequest, "AccessDeniedException", "Account %s is not the caller's account", in.AccountID)
			}
			page, next, aerr := pageOf(s.kindResources(req, "budgets:budget", false), byName, "budgets", deref(in.NextToken), clampLimit(in.MaxResults, 100, 1000))
			if aerr != nil {
				return nil, aerr
			}
			items := []map[string]any{}
			for _, r := range page {
				unit := r.attr("unit", "USD")
				items = append(items, map[string]any{"BudgetName": r.Name, "BudgetType": "COST", "TimeUnit": "MONTHLY",
					"BudgetLimit":     map[string]string{"Amount": r.attr("limit", "1000"), "Unit": unit},
					"CalculatedSpend": map[string]any{"ActualSpend": map[string]string{"Amount": r.attr("actual", "0"), "Unit": unit}, "ForecastedSpend": map[string]string{"Amount": r.attr("forecasted", "0"), "Unit": unit}}})
			}
			out := map[string]any{"Budgets": items}
			if next != "" {
				out["NextToken"] = next
			}
			return out, nil
		},
	})
}

// ---- CodeBuild (CodeBuild_20161006, JSON 1.1) ----

func newCodeBuildService(s *Server) *jsonRPC {
	return newJSONRPC(s, "CodeBuild_20161006", awsJSON11, map[string]func(*request) (any, *apiError){
		"ListProjects": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				NextToken *string `json:"nextToken"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if e := s.authorize(req, "codebuild:ListProjects", "*"); e != nil {
				return nil, e
			}
			page, next, aerr := pageOf(s.kindResources(req, "codebuild:project", false), byName, "codebuild", deref(in.NextToken), 100)
			if aerr != nil {
				return nil, aerr
			}
			names := []string{}
			for _, r := range page {
				names = append(names, r.Name)
			}
			out := map[string]any{"projects": names}
			if next != "" {
				out["nextToken"] = next
			}
			return out, nil
		},
		"BatchGetProjects": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				Names []string `json:"names"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if len(in.Names) == 0 || len(in.Names) > 100 {
				return nil, errorf(http.StatusBadRequest, "InvalidInputException", "names must have 1 to 100 entries")
			}
			all := s.kindResources(req, "codebuild:project", false)
			projects, missing := []map[string]any{}, []string{}
			for _, n := range in.Names {
				found := false
				for _, r := range all {
					arn := resourceKinds()[r.Kind].arn(r.Region, r.Account, &r.Resource)
					if n != r.Name && n != arn {
						continue
					}
					if e := s.authorize(req, "codebuild:BatchGetProjects", arn); e != nil {
						return nil, e
					}
					found = true
					projects = append(projects, map[string]any{"name": r.Name, "arn": arn, "tags": jsonTags(r.Tags, "key", "value"),
						"source": map[string]string{"type": r.attr("source", "GITHUB")}, "serviceRole": "arn:aws:iam::" + r.Account + ":role/codebuild",
						"environment": map[string]string{"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0", "computeType": r.attr("compute_type", "BUILD_GENERAL1_SMALL")},
						"created":     epochSeconds(digestTime("codebuild", r.Account, r.Region, r.Name))})
				}
				if !found {
					missing = append(missing, n)
				}
			}
			return map[string]any{"projects": projects, "projectsNotFound": missing}, nil
		},
	})
}

// ---- Athena (AmazonAthena, JSON 1.1) ----

func newAthenaService(s *Server) *jsonRPC {
	return newJSONRPC(s, "AmazonAthena", awsJSON11, map[string]func(*request) (any, *apiError){
		"ListWorkGroups": func(req *request) (any, *apiError) {
			in, aerr := jsonInput[struct {
				MaxResults *int    `json:"MaxResults"`
				NextToken  *string `json:"NextToken"`
			}](req)
			if aerr != nil {
				return nil, aerr
			}
			if e := s.authorize(req, "athena:ListWorkGroups", "*"); e != nil {
				return nil, e
			}
			page, next, aerr := pageOf(s.kindResources(req, "athena:workgroup", false), byName, "athena", deref(in.NextToken), clampLimit(in.MaxResults, 50, 50))
			if aerr != nil {
				return nil, aerr
			}
			items := []map[string]any{}
			for _, r := range page {
				items = append(items, map[string]any{"Name": r.Name, "State": stateOr(r.State, "ENABLED"), "Description": r.attr("description", ""),
					"CreationTime":  epochSeconds(digestTime("athena", r.Account, r.Region, r.Name)),
					"EngineVersion": map[string]string{"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}})
			}
			out := map[string]any{"WorkGroups": items}
			if next != "" {
				out["NextToken"] = next
			}
			return out, nil
		},
	})
}

// batchJobCounts reads a job queue's attrs jobs.<STATUS>.
func batchJobCounts(r *Resource) map[string]int {
	out := map[string]int{}
	for k, v := range r.Attrs {
		if st, ok := strings.CutPrefix(k, "jobs."); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				out[strings.ToUpper(st)] = n
			}
		}
	}
	return out
}
