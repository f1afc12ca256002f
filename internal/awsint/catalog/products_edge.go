package catalog

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/budgets"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/waf"
	"github.com/aws/aws-sdk-go-v2/service/wafregional"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	wafv2types "github.com/aws/aws-sdk-go-v2/service/wafv2/types"
)

// The edge, the account and developer tools: CloudFront, API Gateway,
// WAF, Route 53, Billing, Amazon Connect, CodeBuild and Athena.

func errTooManyPages(what string) error {
	return fmt.Errorf("%s: more than %d pages; stopped", what, maxPages)
}

// cloudFrontProduct: "CloudFront", https://mackerel.io/docs/entry/integrations/aws/cloudfront
// (16 + 6 × functions). Global: listed once, metrics in us-east-1 with
// Region=Global; the additional metrics exist where they are turned on.
func cloudFrontProduct() *Product {
	global := map[string]string{"Region": "Global"}
	dist := []string{"DistributionId", "Region"}
	return &Product{
		Key: "cloudfront", Name: "CloudFront", HostKind: Micro, HostUnit: "1 distribution", AWSManagedPolicy: "CloudFrontReadOnlyAccess",
		TagTypes: []string{"cloudfront:distribution"}, Actions: []string{"cloudfront:ListDistributions"}, Global: discoverCloudFront,
		ARNDimensions: regexp.MustCompile(`:distribution/(?P<DistributionId>[A-Z0-9]+)$`),
		Labels:        map[string]string{"domain_name": "Domain name", "status": "Status", "comment": "Comment", "functions": "Functions"},
		MetricSets: []MetricSet{
			{Namespace: "AWS/CloudFront", Period: oneMinute, Dimensions: dist, Fixed: global, Metrics: all(
				ms("requests", sum, "Requests"),
				ms("transfer", sum, "BytesDownloaded", "BytesUploaded"),
				ms("error_rate", avg, "TotalErrorRate", "4xxErrorRate", "5xxErrorRate"))},
			{Name: "additional", Namespace: "AWS/CloudFront", Period: oneMinute, Dimensions: dist, Fixed: global, Listed: true, Metrics: all(
				ms("error_rate_detail", avg, "401ErrorRate", "403ErrorRate", "404ErrorRate", "502ErrorRate", "503ErrorRate", "504ErrorRate"),
				ms("cache_hit_rate", avg, "CacheHitRate"),
				ms("origin_latency", minAvgMax, "OriginLatency"))},
			{Name: "function", Namespace: "AWS/CloudFront", Period: oneMinute, Dimensions: []string{"FunctionName", "Region"}, Fixed: global, Metrics: all(
				ms("function_invocations", sum, "FunctionInvocations", "FunctionValidationErrors", "FunctionExecutionErrors"),
				ms("function_compute", minAvgMax, "FunctionComputeUtilization"))},
		},
	}
}

func discoverCloudFront(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := cloudfront.NewFromConfig(c.Config)
	var out []Resource
	g := pageGuard{what: "ListDistributions"}
	p := cloudfront.NewListDistributionsPaginator(cloudfrontListDistributions(cl.ListDistributions), &cloudfront.ListDistributionsInput{MaxItems: aws.Int32(100)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		if page.DistributionList == nil {
			continue
		}
		for _, d := range page.DistributionList.Items {
			id := aws.ToString(d.Id)
			arn := aws.ToString(d.ARN)
			if arn == "" {
				arn = "arn:" + c.Partition() + ":cloudfront::" + c.AccountID + ":distribution/" + id
			}
			var fns []string
			if d.DefaultCacheBehavior != nil && d.DefaultCacheBehavior.FunctionAssociations != nil {
				for _, f := range d.DefaultCacheBehavior.FunctionAssociations.Items {
					a := aws.ToString(f.FunctionARN)
					fns = append(fns, a[strings.LastIndex(a, "/")+1:])
				}
			}
			name := aws.ToString(d.Comment)
			if name == "" {
				name = id
			}
			r := Resource{ARN: arn, Name: name, Identifiers: nonEmpty(id, aws.ToString(d.DomainName), arn), Status: StatusWorking,
				Metadata: map[string]string{"domain_name": aws.ToString(d.DomainName), "status": aws.ToString(d.Status), "comment": aws.ToString(d.Comment),
					"functions": strings.Join(fns, ",")}}
			if len(fns) > 0 {
				r.Families = map[string][]string{"FunctionName": fns}
			}
			if !aws.ToBool(d.Enabled) {
				r.Status = StatusPoweroff
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// apiGatewayProduct: "API Gateway", https://mackerel.io/docs/entry/integrations/aws/apigateway
// (REST 11, HTTP 10, WebSocket 8 metrics). REST APIs' metrics are keyed by
// the API's name, HTTP and WebSocket APIs' by its id.
func apiGatewayProduct() *Product {
	return &Product{
		Key: "apigateway", Name: "API Gateway", HostKind: Micro, HostUnit: "1 API", AWSManagedPolicy: "(apigateway:GET)",
		Actions: []string{"apigateway:GET"}, Regional: discoverAPIGateway,
		Labels: map[string]string{"protocol": "Protocol", "endpoint": "Endpoint", "id": "API id"},
		MetricSets: []MetricSet{
			{Kind: "rest", Namespace: "AWS/ApiGateway", Period: oneMinute, Dimensions: []string{"ApiName"}, Metrics: all(
				ms("requests", sum, "Count"),
				ms("errors", sum, "4XXError", "5XXError"),
				ms("cache", sum, "CacheHitCount", "CacheMissCount"),
				ms("latency", minAvgMax, "Latency", "IntegrationLatency"))},
			{Kind: "http", Namespace: "AWS/ApiGateway", Period: oneMinute, Dimensions: []string{"ApiId"}, Metrics: all(
				ms("requests", sum, "Count", "DataProcessed"),
				ms("errors", sum, "4xx", "5xx"),
				ms("latency", minAvgMax, "Latency", "IntegrationLatency"))},
			{Kind: "websocket", Namespace: "AWS/ApiGateway", Period: oneMinute, Dimensions: []string{"ApiId"}, Metrics: all(
				ms("messages", sum, "ConnectCount", "MessageCount"),
				ms("errors", sum, "IntegrationError", "ClientError", "ExecutionError"),
				ms("latency", minAvgMax, "IntegrationLatency"))},
		},
	}
}

func discoverAPIGateway(ctx context.Context, c *Clients) ([]Resource, error) {
	arn := func(path string) string { return "arn:" + c.Partition() + ":apigateway:" + c.Region() + "::" + path }
	var out []Resource
	g := pageGuard{what: "GetRestApis"}
	p := apigateway.NewGetRestApisPaginator(apigatewayGetRestApis(apigateway.NewFromConfig(c.Config).GetRestApis), &apigateway.GetRestApisInput{Limit: aws.Int32(500)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, api := range page.Items {
			id, name := aws.ToString(api.Id), aws.ToString(api.Name)
			a := arn("/restapis/" + id)
			out = append(out, Resource{Kind: "rest", ARN: a, Name: name, Dimensions: map[string]string{"ApiName": name}, Identifiers: nonEmpty(id, a),
				Status: StatusWorking, Tags: api.Tags, Metadata: map[string]string{"protocol": "REST", "id": id,
					"endpoint": "https://" + id + ".execute-api." + c.Region() + ".amazonaws.com"}})
		}
	}
	v2 := apigatewayv2.NewFromConfig(c.Config)
	var next *string
	for pages := 0; ; pages++ {
		if pages >= maxPages {
			return nil, errTooManyPages("GetApis")
		}
		page, err := v2.GetApis(ctx, &apigatewayv2.GetApisInput{MaxResults: aws.String("500"), NextToken: next})
		if err != nil {
			return nil, err
		}
		for _, api := range page.Items {
			id := aws.ToString(api.ApiId)
			kind := strings.ToLower(string(api.ProtocolType))
			a := arn("/apis/" + id)
			out = append(out, Resource{Kind: kind, ARN: a, Name: aws.ToString(api.Name), Dimensions: map[string]string{"ApiId": id},
				Identifiers: nonEmpty(id, aws.ToString(api.ApiEndpoint), a), Status: StatusWorking, Tags: api.Tags,
				Metadata: map[string]string{"protocol": string(api.ProtocolType), "id": id, "endpoint": aws.ToString(api.ApiEndpoint)}})
		}
		if next = page.NextToken; aws.ToString(next) == "" {
			break
		}
	}
	return out, nil
}

// wafProduct: "WAF", https://mackerel.io/docs/entry/integrations/aws/waf
// (6 × rules + 6 per web ACL): AWS WAF's web ACLs (regional, and
// CloudFront's in us-east-1) and WAF Classic's (global and regional). No
// tag filter, as in Mackerel. The Rule dimension (ALL for the whole web
// ACL) is a sub-resource.
func wafProduct() *Product {
	v2 := all(ms("requests", sum, "AllowedRequests", "BlockedRequests", "CountedRequests", "PassedRequests"),
		ms("captcha", sum, "RequestsWithValidCaptchaToken", "CaptchaRequests"))
	classic := ms("requests", sum, "AllowedRequests", "BlockedRequests", "CountedRequests", "PassedRequests")
	return &Product{
		Key: "waf", Name: "WAF", HostKind: Micro, HostUnit: "1 web ACL", AWSManagedPolicy: "AWSWAFReadOnlyAccess", Untagged: true,
		Actions:  []string{"wafv2:ListWebACLs", "wafv2:GetWebACL", "waf-regional:ListWebACLs", "waf-regional:GetWebACL", "waf:ListWebACLs", "waf:GetWebACL"},
		Regional: discoverWAFRegional, Global: discoverWAFGlobal,
		Labels: map[string]string{"scope": "Scope", "metric_name": "Metric name", "id": "Id", "rules": "Rules"},
		MetricSets: []MetricSet{
			{Kind: "v2", Namespace: "AWS/WAFV2", Period: oneMinute, Dimensions: []string{"WebACL", "Rule", "Region"}, Listed: true, Metrics: v2},
			{Kind: "v2-cloudfront", Namespace: "AWS/WAFV2", Period: oneMinute, Dimensions: []string{"WebACL", "Rule"}, Listed: true, Metrics: v2},
			{Kind: "classic", Namespace: "WAF", Period: oneMinute, Dimensions: []string{"WebACL", "Rule", "Region"}, Listed: true, Metrics: classic},
			{Kind: "classic-cloudfront", Namespace: "WAF", Period: oneMinute, Dimensions: []string{"WebACL", "Rule"}, Listed: true, Metrics: classic},
		},
	}
}

// wafv2ACLs lists the web ACLs of a scope with their metric names.
func wafv2ACLs(ctx context.Context, c *Clients, scope wafv2types.Scope, kind string) ([]Resource, error) {
	cl := wafv2.NewFromConfig(c.Config)
	var out []Resource
	var marker *string
	for pages := 0; ; pages++ {
		if pages >= maxPages {
			return nil, errTooManyPages("ListWebACLs")
		}
		page, err := cl.ListWebACLs(ctx, &wafv2.ListWebACLsInput{Scope: scope, Limit: aws.Int32(100), NextMarker: marker})
		if err != nil {
			return nil, err
		}
		for _, s := range page.WebACLs {
			r := Resource{Kind: kind, ARN: aws.ToString(s.ARN), Name: aws.ToString(s.Name), Identifiers: nonEmpty(aws.ToString(s.ARN)), Status: StatusWorking,
				Dimensions: map[string]string{"WebACL": aws.ToString(s.Name)},
				Metadata:   map[string]string{"scope": string(scope), "id": aws.ToString(s.Id)}}
			if len(out) < maxDescribed {
				acl, err := cl.GetWebACL(ctx, &wafv2.GetWebACLInput{Name: s.Name, Id: s.Id, Scope: scope})
				if err != nil {
					return nil, err
				}
				if w := acl.WebACL; w != nil {
					if w.VisibilityConfig != nil && aws.ToString(w.VisibilityConfig.MetricName) != "" {
						r.Dimensions["WebACL"] = aws.ToString(w.VisibilityConfig.MetricName)
					}
					r.Metadata["rules"] = strconv.Itoa(len(w.Rules))
				}
			}
			if kind == "v2" {
				r.Dimensions["Region"] = c.Region()
			}
			r.Metadata["metric_name"] = r.Dimensions["WebACL"]
			out = append(out, r)
		}
		if marker = page.NextMarker; aws.ToString(marker) == "" || len(page.WebACLs) == 0 {
			break
		}
	}
	return out, nil
}

// wafClassicACL is what WAF Classic's two clients have in common.
type wafClassicACL struct{ id, name, metric, arn string }

func discoverWAFRegional(ctx context.Context, c *Clients) ([]Resource, error) {
	out, err := wafv2ACLs(ctx, c, wafv2types.ScopeRegional, "v2")
	if err != nil {
		return nil, err
	}
	cl := wafregional.NewFromConfig(c.Config)
	var acls []wafClassicACL
	var marker *string
	for pages := 0; ; pages++ {
		if pages >= maxPages {
			return nil, errTooManyPages("ListWebACLs")
		}
		page, err := cl.ListWebACLs(ctx, &wafregional.ListWebACLsInput{Limit: 100, NextMarker: marker})
		if err != nil {
			return nil, err
		}
		for _, s := range page.WebACLs {
			a := wafClassicACL{id: aws.ToString(s.WebACLId), name: aws.ToString(s.Name)}
			if len(acls) < maxDescribed {
				d, err := cl.GetWebACL(ctx, &wafregional.GetWebACLInput{WebACLId: s.WebACLId})
				if err != nil {
					return nil, err
				}
				if d.WebACL != nil {
					a.metric, a.arn = aws.ToString(d.WebACL.MetricName), aws.ToString(d.WebACL.WebACLArn)
				}
			}
			acls = append(acls, a)
		}
		if marker = page.NextMarker; aws.ToString(marker) == "" || len(page.WebACLs) == 0 {
			break
		}
	}
	for _, a := range acls {
		out = append(out, classicResource(c, a, "classic", c.ARN("waf-regional", "webacl/"+a.id)))
	}
	return out, nil
}

func discoverWAFGlobal(ctx context.Context, c *Clients) ([]Resource, error) {
	out, err := wafv2ACLs(ctx, c, wafv2types.ScopeCloudfront, "v2-cloudfront")
	if err != nil {
		return nil, err
	}
	cl := waf.NewFromConfig(c.Config)
	var acls []wafClassicACL
	var marker *string
	for pages := 0; ; pages++ {
		if pages >= maxPages {
			return nil, errTooManyPages("ListWebACLs")
		}
		page, err := cl.ListWebACLs(ctx, &waf.ListWebACLsInput{Limit: 100, NextMarker: marker})
		if err != nil {
			return nil, err
		}
		for _, s := range page.WebACLs {
			a := wafClassicACL{id: aws.ToString(s.WebACLId), name: aws.ToString(s.Name)}
			if len(acls) < maxDescribed {
				d, err := cl.GetWebACL(ctx, &waf.GetWebACLInput{WebACLId: s.WebACLId})
				if err != nil {
					return nil, err
				}
				if d.WebACL != nil {
					a.metric, a.arn = aws.ToString(d.WebACL.MetricName), aws.ToString(d.WebACL.WebACLArn)
				}
			}
			acls = append(acls, a)
		}
		if marker = page.NextMarker; aws.ToString(marker) == "" || len(page.WebACLs) == 0 {
			break
		}
	}
	for _, a := range acls {
		out = append(out, classicResource(c, a, "classic-cloudfront", "arn:"+c.Partition()+":waf::"+c.AccountID+":webacl/"+a.id))
	}
	return out, nil
}

func classicResource(c *Clients, a wafClassicACL, kind, arn string) Resource {
	if a.arn != "" {
		arn = a.arn
	}
	metric := a.metric
	if metric == "" {
		metric = a.name
	}
	dims := map[string]string{"WebACL": metric}
	if kind == "classic" {
		dims["Region"] = c.Region()
	}
	return Resource{Kind: kind, ARN: arn, Name: a.name, Dimensions: dims, Identifiers: nonEmpty(arn), Status: StatusWorking,
		Metadata: map[string]string{"scope": "WAF Classic", "id": a.id, "metric_name": metric}}
}

// route53Product: "Route 53", https://mackerel.io/docs/entry/integrations/aws/route53
// (one host for the account: 1 × hosted zones + 6 × health checks).
// Global, in us-east-1; no roles by tags.
func route53Product() *Product {
	return &Product{
		Key: "route53", Name: "Route 53", HostKind: Micro, HostUnit: "1 account", AWSManagedPolicy: "AmazonRoute53ReadOnlyAccess", Untagged: true,
		Actions: []string{"route53:ListHealthChecks", "route53:ListHostedZones"}, Global: discoverRoute53,
		Labels: map[string]string{"health_checks": "Health checks", "hosted_zones": "Hosted zones"},
		MetricSets: []MetricSet{
			{Name: "health_check", Kind: "account", Namespace: "AWS/Route53", Period: oneMinute, Dimensions: []string{"HealthCheckId"}, Listed: true, Metrics: all(
				ms("health_check", avg, "HealthCheckPercentageHealthy", "ChildHealthCheckHealthyCount"),
				ms("health_check_status", minimum, "HealthCheckStatus"),
				ms("health_check_latency", avg, "SSLHandshakeTime", "TimeToFirstByte", "ConnectionTime"))},
			{Name: "hosted_zone", Kind: "account", Namespace: "AWS/Route53", Period: oneMinute, Dimensions: []string{"HostedZoneId"}, Listed: true,
				Metrics: ms("dns_queries", sum, "DNSQueries")},
		},
	}
}

func discoverRoute53(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := route53.NewFromConfig(c.Config)
	checks, zones := []string{}, []string{}
	g := pageGuard{what: "ListHealthChecks"}
	ph := route53.NewListHealthChecksPaginator(route53ListHealthChecks(cl.ListHealthChecks), &route53.ListHealthChecksInput{MaxItems: aws.Int32(1000)})
	for ph.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := ph.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, h := range page.HealthChecks {
			checks = append(checks, aws.ToString(h.Id))
		}
	}
	gz := pageGuard{what: "ListHostedZones"}
	pz := route53.NewListHostedZonesPaginator(route53ListHostedZones(cl.ListHostedZones), &route53.ListHostedZonesInput{MaxItems: aws.Int32(100)})
	for pz.HasMorePages() {
		if err := gz.next(); err != nil {
			return nil, err
		}
		page, err := pz.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, z := range page.HostedZones {
			zones = append(zones, strings.TrimPrefix(aws.ToString(z.Id), "/hostedzone/"))
		}
	}
	return []Resource{{Kind: "account", ARN: "arn:" + c.Partition() + ":route53::" + c.AccountID + ":account", Name: "Route 53 (" + c.AccountID + ")",
		Dimensions: map[string]string{}, Families: map[string][]string{"HealthCheckId": checks, "HostedZoneId": zones}, Status: StatusWorking,
		Metadata: map[string]string{"health_checks": strconv.Itoa(len(checks)), "hosted_zones": strconv.Itoa(len(zones))}}}, nil
}

// billingProduct: "Billing", https://mackerel.io/docs/entry/integrations/aws/billing
// (1 + member accounts + 3 × budgets). Global, in us-east-1; estimated
// charges change a few times a day: each poll writes the latest.
func billingProduct() *Product {
	return &Product{
		Key: "billing", Name: "Billing", HostKind: Micro, HostUnit: "1 payer account", AWSManagedPolicy: "AWSBudgetsReadOnlyAccess", Untagged: true,
		Actions: []string{"budgets:ViewBudget"}, Global: discoverBilling,
		Labels: map[string]string{"budgets": "Budgets"},
		MetricSets: []MetricSet{
			{Kind: "account", Namespace: "AWS/Billing", Period: sixHours, Latest: oneDay, Dimensions: []string{"Currency"},
				Metrics: ms("estimated_charges", maximum, "EstimatedCharges")},
			{Name: "linked_account", Kind: "account", Namespace: "AWS/Billing", Period: sixHours, Latest: oneDay, Dimensions: []string{"Currency", "LinkedAccount"},
				Metrics: ms("linked_account_charges", maximum, "EstimatedCharges")},
		},
		APIMetrics: []APIMetric{
			{Name: "aws_budgets_limit", Group: "budgets", Help: "A budget's limit (DescribeBudgets)."},
			{Name: "aws_budgets_actual_spend", Group: "budgets", Help: "A budget's actual spend (DescribeBudgets)."},
			{Name: "aws_budgets_forecasted_spend", Group: "budgets", Help: "A budget's forecasted spend (DescribeBudgets)."},
		},
	}
}

func discoverBilling(ctx context.Context, c *Clients) ([]Resource, error) {
	r := Resource{Kind: "account", ARN: "arn:" + c.Partition() + ":billing::" + c.AccountID + ":account", Name: "Billing (" + c.AccountID + ")",
		Dimensions: map[string]string{}, Status: StatusWorking, Metadata: map[string]string{}}
	g := pageGuard{what: "DescribeBudgets"}
	p := budgets.NewDescribeBudgetsPaginator(budgetsDescribeBudgets(budgets.NewFromConfig(c.Config).DescribeBudgets), &budgets.DescribeBudgetsInput{AccountId: aws.String(c.AccountID), MaxResults: aws.Int32(100)})
	n := 0
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, b := range page.Budgets {
			n++
			name := aws.ToString(b.BudgetName)
			add := func(metric string, amount, unit *string) {
				if v, err := strconv.ParseFloat(aws.ToString(amount), 64); err == nil && amount != nil {
					r.Values = append(r.Values, Value{Name: metric, Labels: map[string]string{"budget": name, "unit": aws.ToString(unit)}, Value: v})
				}
			}
			if b.BudgetLimit != nil {
				add("aws_budgets_limit", b.BudgetLimit.Amount, b.BudgetLimit.Unit)
			}
			if cs := b.CalculatedSpend; cs != nil {
				if cs.ActualSpend != nil {
					add("aws_budgets_actual_spend", cs.ActualSpend.Amount, cs.ActualSpend.Unit)
				}
				if cs.ForecastedSpend != nil {
					add("aws_budgets_forecasted_spend", cs.ForecastedSpend.Amount, cs.ForecastedSpend.Unit)
				}
			}
		}
	}
	r.Metadata["budgets"] = strconv.Itoa(n)
	return []Resource{r}, nil
}

// connectProduct: "Amazon Connect", https://mackerel.io/docs/entry/integrations/aws/connect
// (11 + 3 × flows + 5 × queues + 1 × signing keys). No tag filter, as in
// Mackerel.
func connectProduct() *Product {
	id := []string{"InstanceId", "MetricGroup"}
	return &Product{
		Key: "connect", Name: "Amazon Connect", HostKind: Micro, HostUnit: "1 instance", AWSManagedPolicy: "AmazonConnectReadOnlyAccess", Untagged: true,
		Actions: []string{"connect:ListInstances"}, Regional: discoverConnect,
		ARNDimensions: regexp.MustCompile(`:instance/(?P<InstanceId>[0-9a-f-]+)$`),
		Labels:        map[string]string{"status": "Status", "identity_management": "Identity management", "access_url": "Access URL"},
		MetricSets: []MetricSet{
			{Namespace: "AWS/Connect", Period: oneMinute, Dimensions: id, Fixed: map[string]string{"MetricGroup": "VoiceCalls"}, Metrics: all(
				ms("concurrent_calls", maximum, "ConcurrentCallsPercentage", "ConcurrentCalls"),
				ms("calls", sum, "CallsBreachingConcurrencyQuota", "CallsPerInterval", "ThrottledCalls", "MissedCalls", "MisconfiguredPhoneNumbers"))},
			{Name: "recordings", Namespace: "AWS/Connect", Period: oneMinute, Dimensions: id, Fixed: map[string]string{"MetricGroup": "CallRecordings"},
				Metrics: ms("recording_errors", sum, "CallRecordingUploadError")},
			{Name: "packet_loss", Namespace: "AWS/Connect", Period: oneMinute, Dimensions: []string{"InstanceId", "Participant", "Type of Connection", "Stream Type"},
				Metrics: ms("packet_loss", minAvgMax, "ToInstancePacketLossRate")},
			{Name: "contact_flow", Namespace: "AWS/Connect", Period: oneMinute, Dimensions: []string{"InstanceId", "MetricGroup", "ContactFlowName"},
				Fixed: map[string]string{"MetricGroup": "ContactFlow"}, Metrics: ms("contact_flow_errors", sum, "ContactFlowErrors", "ContactFlowFatalErrors")},
			{Name: "queue", Namespace: "AWS/Connect", Period: oneMinute, Dimensions: []string{"InstanceId", "MetricGroup", "QueueName"},
				Fixed: map[string]string{"MetricGroup": "Queue"}, Metrics: all(
					ms("queue_size", maximum, "QueueSize"),
					ms("queue_errors", sum, "QueueCapacityExceededError", "CallBackNotDialableNumber"),
					ms("queue_wait", minAvgMax, "LongestQueueWaitTime"))},
			{Name: "signing_key", Namespace: "AWS/Connect", Period: oneMinute, Dimensions: []string{"InstanceId", "MetricGroup", "SigningKeyId"},
				Fixed: map[string]string{"MetricGroup": "SigningKey"}, Metrics: ms("signing_key", sum, "PublicSigningKeyUsage")},
		},
	}
}

func discoverConnect(ctx context.Context, c *Clients) ([]Resource, error) {
	var out []Resource
	g := pageGuard{what: "ListInstances"}
	p := connect.NewListInstancesPaginator(connectListInstances(connect.NewFromConfig(c.Config).ListInstances), &connect.ListInstancesInput{MaxResults: aws.Int32(10)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, i := range page.InstanceSummaryList {
			arn := aws.ToString(i.Arn)
			if arn == "" {
				arn = c.ARN("connect", "instance/"+aws.ToString(i.Id))
			}
			name := aws.ToString(i.InstanceAlias)
			if name == "" {
				name = aws.ToString(i.Id)
			}
			status := StatusWorking
			if i.InstanceStatus != "ACTIVE" {
				status = StatusStandby
			}
			out = append(out, Resource{ARN: arn, Name: name, Identifiers: nonEmpty(aws.ToString(i.Id), aws.ToString(i.InstanceAccessUrl), arn), Status: status,
				Metadata: map[string]string{"status": string(i.InstanceStatus), "identity_management": string(i.IdentityManagementType),
					"access_url": aws.ToString(i.InstanceAccessUrl)}})
		}
	}
	return out, nil
}

// codeBuildProduct: "CodeBuild", https://mackerel.io/docs/entry/integrations/aws/codebuild (20 metrics).
func codeBuildProduct() *Product {
	return &Product{
		Key: "codebuild", Name: "CodeBuild", HostKind: Micro, HostUnit: "1 project", AWSManagedPolicy: "(codebuild:BatchGetProjects, codebuild:ListProjects)",
		Actions: []string{"codebuild:ListProjects", "codebuild:BatchGetProjects"}, Regional: discoverCodeBuild,
		ARNDimensions: regexp.MustCompile(`:project/(?P<ProjectName>[^/]+)$`),
		Labels:        map[string]string{"source": "Source", "compute_type": "Compute type", "image": "Image"},
		MetricSets: []MetricSet{{Namespace: "AWS/CodeBuild", Period: oneMinute, Dimensions: []string{"ProjectName"}, Metrics: all(
			ms("builds", sum, "Builds", "SucceededBuilds", "FailedBuilds"),
			ms("duration", avg, "Duration", "SubmittedDuration", "QueuedDuration", "ProvisioningDuration", "DownloadSourceDuration", "InstallDuration",
				"PreBuildDuration", "BuildDuration", "PostBuildDuration", "UploadArtifactsDuration", "FinalizingDuration"),
			ms("resources", avg, "CPUUtilized", "CPUUtilizedPercent", "MemoryUtilized", "MemoryUtilizedPercent", "StorageReadBytes", "StorageWriteBytes"))}},
	}
}

func discoverCodeBuild(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := codebuild.NewFromConfig(c.Config)
	var names []string
	g := pageGuard{what: "ListProjects"}
	p := codebuild.NewListProjectsPaginator(codebuildListProjects(cl.ListProjects), &codebuild.ListProjectsInput{})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		names = append(names, page.Projects...)
	}
	var out []Resource
	for lo := 0; lo < len(names); lo += 100 {
		d, err := cl.BatchGetProjects(ctx, &codebuild.BatchGetProjectsInput{Names: names[lo:min(lo+100, len(names))]})
		if err != nil {
			return nil, err
		}
		for _, pr := range d.Projects {
			arn := aws.ToString(pr.Arn)
			if arn == "" {
				arn = c.ARN("codebuild", "project/"+aws.ToString(pr.Name))
			}
			md := map[string]string{}
			if pr.Source != nil {
				md["source"] = string(pr.Source.Type)
			}
			if pr.Environment != nil {
				md["compute_type"], md["image"] = string(pr.Environment.ComputeType), aws.ToString(pr.Environment.Image)
			}
			out = append(out, Resource{ARN: arn, Name: aws.ToString(pr.Name), Identifiers: nonEmpty(arn), Status: StatusWorking, Metadata: md,
				Tags: tagMap(pr.Tags, func(t cbtypes.Tag) (string, string) { return aws.ToString(t.Key), aws.ToString(t.Value) })})
		}
	}
	return out, nil
}

// athenaProduct: "Athena", https://mackerel.io/docs/entry/integrations/aws/athena
// (63 at most: by query state and type, for workgroups that publish
// their query metrics to CloudWatch).
func athenaProduct() *Product {
	return &Product{
		Key: "athena", Name: "Athena", HostKind: Micro, HostUnit: "1 workgroup", AWSManagedPolicy: "(athena:ListWorkGroups, athena:ListTagsForResource)",
		TagTypes: []string{"athena:workgroup"}, Actions: []string{"athena:ListWorkGroups"}, Regional: discoverAthena,
		ARNDimensions: regexp.MustCompile(`:workgroup/(?P<WorkGroup>[^/]+)$`),
		Labels:        map[string]string{"state": "State", "engine_version": "Engine version"},
		MetricSets: []MetricSet{{Namespace: "AWS/Athena", Period: oneMinute, Dimensions: []string{"WorkGroup", "QueryState", "QueryType"}, Metrics: all(
			ms("processed_bytes", []string{Avg, Max, Min}, "ProcessedBytes"),
			ms("query_time", avg, "EngineExecutionTime", "QueryPlanningTime", "QueryQueueTime", "ServicePreProcessingTime",
				"ServiceProcessingTime", "TotalExecutionTime"))}},
	}
}

func discoverAthena(ctx context.Context, c *Clients) ([]Resource, error) {
	var out []Resource
	g := pageGuard{what: "ListWorkGroups"}
	p := athena.NewListWorkGroupsPaginator(athenaListWorkGroups(athena.NewFromConfig(c.Config).ListWorkGroups), &athena.ListWorkGroupsInput{MaxResults: aws.Int32(50)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, w := range page.WorkGroups {
			name := aws.ToString(w.Name)
			arn := c.ARN("athena", "workgroup/"+name)
			status := StatusWorking
			if w.State != "ENABLED" {
				status = StatusPoweroff
			}
			md := map[string]string{"state": string(w.State)}
			if w.EngineVersion != nil {
				md["engine_version"] = aws.ToString(w.EngineVersion.EffectiveEngineVersion)
			}
			out = append(out, Resource{ARN: arn, Name: name, Identifiers: nonEmpty(arn), Status: status, Metadata: md})
		}
	}
	return out, nil
}
