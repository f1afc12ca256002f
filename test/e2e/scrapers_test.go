package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAWSCLIScrapers drives every scraper operation with the AWS CLI v1
// (the newest amp model): create, wait for ACTIVE, describe, list with
// filters, update, the logging configuration, tags, the default
// configuration, bad input, the quota and delete; and the scraper scrapes
// Debian's node exporter into its workspace.
func TestAWSCLIScrapers(t *testing.T) {
	bin := awsV1(t)
	node := startNodeExporter(t)

	s := startServer(t, "", "--scraper.max-per-account", "2", "--scraper.allow-network", "127.0.0.0/8")
	env := awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1")
	amp := func(args ...string) (string, int) {
		return run(t, env, bin, append(append([]string{"amp"}, args...), "--endpoint-url", s.URL, "--output", "json")...)
	}
	ok := func(what string, args ...string) string {
		t.Helper()
		out, code := amp(args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", what, code, out)
		}
		return out
	}
	mustFail := func(what, errType, msg string, args ...string) {
		t.Helper()
		out, code := amp(args...)
		if code != 255 && code != 254 || !strings.Contains(out, "An error occurred ("+errType+")") || !strings.Contains(out, msg) {
			t.Fatalf("%s: want %s with %q, got %d\n%s", what, errType, msg, code, out)
		}
	}

	var ws struct{ WorkspaceID, Arn string }
	_ = json.Unmarshal([]byte(ok("create-workspace", "create-workspace", "--alias", "scraped")), &ws)
	ok("wait", "wait", "workspace-active", "--workspace-id", ws.WorkspaceID)

	// The default configuration, decoded by the CLI from its blob.
	var def struct{ Configuration string }
	_ = json.Unmarshal([]byte(ok("default configuration", "get-default-scraper-configuration")), &def)
	if b, err := base64.StdEncoding.DecodeString(def.Configuration); err != nil || !strings.Contains(string(b), "scrape_configs:") {
		t.Fatalf("default configuration: %q %v", def.Configuration, err)
	}

	cfg := fmt.Sprintf("global:\n  scrape_interval: 30s\n  external_labels:\n    collector: managed\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['%s']\n", node)
	// The CLI v1 base64-encodes a blob member given as text.
	blob := func(c string) string {
		b, _ := json.Marshal(map[string]string{"configurationBlob": c})
		return string(b)
	}
	source := `{"vpcConfiguration":{"securityGroupIds":["sg-0123"],"subnetIds":["subnet-0123","subnet-4567"]}}`
	dest := fmt.Sprintf(`{"ampConfiguration":{"workspaceArn":%q}}`, ws.Arn)
	var created struct {
		ScraperID, Arn string
		Status         struct{ StatusCode string }
		Tags           map[string]string
	}
	out := ok("create-scraper", "create-scraper", "--alias", "node", "--scrape-configuration", blob(cfg), "--source", source,
		"--destination", dest, "--tags", "team=obs")
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Status.StatusCode != "CREATING" || !strings.HasPrefix(created.ScraperID, "s-") || created.Tags["team"] != "obs" {
		t.Fatalf("create-scraper printed:\n%s", out)
	}
	id := created.ScraperID
	var d struct {
		Scraper struct {
			Alias, RoleArn      string
			Status              struct{ StatusCode string }
			ScrapeConfiguration struct{ ConfigurationBlob string }
			Source              map[string]any
			Destination         map[string]any
		}
	}
	for i := 0; i < 100; i++ {
		_ = json.Unmarshal([]byte(ok("describe-scraper", "describe-scraper", "--scraper-id", id)), &d)
		if d.Scraper.Status.StatusCode == "ACTIVE" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if b, _ := base64.StdEncoding.DecodeString(d.Scraper.ScrapeConfiguration.ConfigurationBlob); d.Scraper.Status.StatusCode != "ACTIVE" || string(b) != cfg ||
		d.Scraper.Alias != "node" || d.Scraper.Source["vpcConfiguration"] == nil || !strings.Contains(d.Scraper.RoleArn, "AWSServiceRoleForAmazonPrometheusScraper") {
		t.Fatalf("describe-scraper: %+v", d)
	}

	out = ok("list-scrapers", "list-scrapers", "--filters", `{"status":["ACTIVE"],"alias":["node"]}`)
	if strings.Count(out, `"scraperId"`) != 1 || !strings.Contains(out, id) {
		t.Fatalf("list-scrapers with filters:\n%s", out)
	}
	out = ok("list-scrapers none", "list-scrapers", "--filters", `{"status":["DELETING"]}`)
	if strings.Contains(out, id) {
		t.Fatalf("status filter:\n%s", out)
	}

	// The scrapes reach the workspace: up and the exporter's series.
	deadline := time.Now().Add(90 * time.Second)
	for {
		var r struct {
			Data struct {
				Result []struct {
					Metric map[string]string
					Value  []any
				}
			}
		}
		resp, raw, err := s.Admin.Raw(context.Background(), "GET", "/workspaces/"+ws.WorkspaceID+"/api/v1/query", url.Values{"query": {"up"}}, "", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		code, body := resp.StatusCode, string(raw)
		_ = json.Unmarshal(raw, &r)
		if code == 200 && len(r.Data.Result) == 1 && r.Data.Result[0].Value[1] == "1" && r.Data.Result[0].Metric["collector"] == "managed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("up never came: %d %s", code, body)
		}
		time.Sleep(time.Second)
	}
	if _, raw, err := s.Admin.Raw(context.Background(), "GET", "/workspaces/"+ws.WorkspaceID+"/api/v1/query", url.Values{"query": {"node_load1"}}, "", nil, nil); err != nil || !strings.Contains(string(raw), `"job":"node"`) {
		t.Fatalf("node_load1: %s %v", raw, err)
	}

	// Update: UPDATING.
	out = ok("update-scraper", "update-scraper", "--scraper-id", id, "--alias", "node-2")
	if !strings.Contains(out, `"statusCode": "UPDATING"`) {
		t.Fatalf("update-scraper:\n%s", out)
	}
	mustFail("update fast", "ValidationException", "below the minimum of 30s", "update-scraper", "--scraper-id", id,
		"--scrape-configuration", blob(strings.Replace(cfg, "30s", "5s", 1)))

	// Logging configuration.
	group := "arn:aws:logs:us-east-1:" + strings.Split(ws.Arn, ":")[4] + ":log-group:/aps/scrapers:*"
	mustFail("no logging", "ResourceNotFoundException", "no logging configuration", "describe-scraper-logging-configuration", "--scraper-id", id)
	ok("update logging", "update-scraper-logging-configuration", "--scraper-id", id,
		"--logging-destination", fmt.Sprintf(`{"cloudWatchLogs":{"logGroupArn":%q}}`, group), "--scraper-components", `[{"type":"COLLECTOR"},{"type":"EXPORTER"}]`)
	out = ok("describe logging", "describe-scraper-logging-configuration", "--scraper-id", id)
	if !strings.Contains(out, group) || !strings.Contains(out, `"EXPORTER"`) {
		t.Fatalf("describe-scraper-logging-configuration:\n%s", out)
	}
	ok("delete logging", "delete-scraper-logging-configuration", "--scraper-id", id)

	// Tags on the scraper's ARN.
	ok("tag", "tag-resource", "--resource-arn", created.Arn, "--tags", "env=prod")
	if out := ok("list tags", "list-tags-for-resource", "--resource-arn", created.Arn); !strings.Contains(out, `"env": "prod"`) || !strings.Contains(out, `"team": "obs"`) {
		t.Fatalf("tags:\n%s", out)
	}

	// Bad input and the quota.
	mustFail("fast", "ValidationException", "scrape_interval 10s is below the minimum of 30s", "create-scraper",
		"--scrape-configuration", blob(strings.Replace(cfg, "30s", "10s", 1)), "--source", source, "--destination", dest)
	mustFail("file sd", "ValidationException", "file_sd_configs is not supported", "create-scraper",
		"--scrape-configuration", blob("scrape_configs:\n  - job_name: f\n    file_sd_configs: [{files: [/etc/passwd]}]\n"), "--source", source, "--destination", dest)
	mustFail("eks", "ValidationException", "is not reachable from the destination workspace", "create-scraper", "--scrape-configuration", blob(cfg),
		"--source", `{"eksConfiguration":{"clusterArn":"arn:aws:eks:us-east-1:123456789012:cluster/c","subnetIds":["subnet-1"]}}`, "--destination", dest)
	mustFail("bad subnet", "ValidationException", "subnetIds", "create-scraper", "--scrape-configuration", blob(cfg),
		"--source", `{"vpcConfiguration":{"securityGroupIds":["sg-1"],"subnetIds":["not-a-subnet"]}}`, "--destination", dest)
	mustFail("unknown", "ResourceNotFoundException", "not found", "describe-scraper", "--scraper-id", "s-00000000-0000-0000-0000-000000000000")
	ok("second scraper", "create-scraper", "--scrape-configuration", blob(cfg), "--source", source, "--destination", dest)
	mustFail("quota", "ServiceQuotaExceededException", "Maximum scrapers per account (2)", "create-scraper",
		"--scrape-configuration", blob(cfg), "--source", source, "--destination", dest)

	// Delete: DELETING, then gone.
	for i := 0; i < 100; i++ { // the update above must have finished
		_ = json.Unmarshal([]byte(ok("describe-scraper", "describe-scraper", "--scraper-id", id)), &d)
		if d.Scraper.Status.StatusCode == "ACTIVE" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	out = ok("delete-scraper", "delete-scraper", "--scraper-id", id)
	if !strings.Contains(out, `"statusCode": "DELETING"`) {
		t.Fatalf("delete-scraper:\n%s", out)
	}
	for i := 0; ; i++ {
		out, code := amp("describe-scraper", "--scraper-id", id)
		if code != 0 && strings.Contains(out, "ResourceNotFoundException") {
			break
		}
		if i > 100 {
			t.Fatalf("scraper never went away:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
