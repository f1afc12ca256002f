package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/alecthomas/kingpin/v2"
)

// awsServiceKeys are the products of the AWS integration (the catalog's
// keys), for help texts.
const awsServiceKeys = "ec2, elb, alb, nlb, rds, elasticache, redshift, lambda, sqs, dynamodb, cloudfront, apigateway, kinesis, s3, es, ecs, ses, " +
	"states, efs, firehose, batch, waf, billing, route53, connect, docdb, codebuild, athena"

// registerAWS adds `kansoku aws ...` (integrations) and `kansoku hosts ...`.
func registerAWS(a *kingpin.Application, commands map[string]func(context.Context) error) {
	aw := a.Command("aws", "AWS integrations: pull CloudWatch metrics of other AWS accounts through a role with an External ID.")
	ipath := func(id string) string { return "/admin/v1/aws/integrations/" + url.PathEscape(id) }
	{
		c := aw.Command("create", "Register an AWS account. With a role (recommended) Kansoku generates the External ID and prints the trust and permission policies; "+
			"create the role with them, then run `kansoku aws set-role`. With --access-key-id it is validated at once.")
		f := addClientFlags(c)
		name := c.Flag("name", "Name of the integration.").Required().String()
		account := c.Flag("account", "AWS account id (12 digits).").Required().String()
		ws := c.Flag("workspace", "Workspace the metrics go to.").Required().String()
		regions := c.Flag("aws-region", "AWS region to collect (repeatable).").Required().Strings()
		services := c.Flag("service", "Service to collect (repeatable): "+awsServiceKeys+" (kansoku aws services lists them).").Required().Strings()
		tagFilter := c.Flag("tag-filter", `Only resources with one of these tags, e.g. 'service:foo, service:bar' (quote keys or values with ':' or ',').`).String()
		extraTags := c.Flag("extra-tag", "A tag added to every host and metric of the integration, key=value (repeatable).").StringMap()
		roleARN := c.Flag("role-arn", "Role to assume (only if it already trusts an External ID of this integration; usually set later with set-role).").String()
		keyID := c.Flag("access-key-id", "Access key id instead of a role (discouraged).").String()
		secret := c.Flag("secret-access-key", "Secret of --access-key-id (or env KANSOKU_AWS_SECRET_ACCESS_KEY).").Envar("KANSOKU_AWS_SECRET_ACCESS_KEY").String()
		commands["aws create"] = func(ctx context.Context) error {
			body := map[string]any{"name": *name, "awsAccountId": *account, "workspaceId": *ws, "regions": *regions, "services": *services}
			if *tagFilter != "" || len(*extraTags) > 0 {
				// The services keep their defaults (the server's).
				st := map[string]any{"regions": *regions, "tagFilter": *tagFilter}
				if len(*extraTags) > 0 {
					st["extraTags"] = *extraTags
				}
				body["settings"] = st
			}
			if *roleARN != "" {
				body["roleArn"] = *roleARN
			}
			if *keyID != "" {
				body["accessKeyId"], body["secretAccessKey"] = *keyID, *secret
			}
			return printIntegration(ctx, f, http.MethodPost, "/admin/v1/aws/integrations", body)
		}
	}
	{
		c := aw.Command("set-role", "Set the role to assume and validate it (AssumeRole with the External ID, permissions, over-privilege check).")
		f := addClientFlags(c)
		id := c.Arg("integration-id", "Integration.").Required().String()
		role := c.Arg("role-arn", "arn:aws:iam::<account>:role/<name>").Required().String()
		commands["aws set-role"] = func(ctx context.Context) error {
			return printIntegration(ctx, f, http.MethodPatch, ipath(*id), map[string]any{"roleArn": *role})
		}
	}
	{
		c := aw.Command("update", "Change settings from a JSON document (as `kansoku aws show --json` prints under settings).")
		f := addClientFlags(c)
		id := c.Arg("integration-id", "Integration.").Required().String()
		doc := c.Flag("settings", "Settings JSON, or file://path.").Required().String()
		commands["aws update"] = func(ctx context.Context) error {
			raw, err := readDocument(*doc)
			if err != nil {
				return err
			}
			var st any
			if err := json.Unmarshal([]byte(raw), &st); err != nil {
				return fmt.Errorf("--settings is not JSON: %w", err)
			}
			return printIntegration(ctx, f, http.MethodPatch, ipath(*id), map[string]any{"settings": st})
		}
	}
	{
		c := aw.Command("list", "List integrations.")
		f := addClientFlags(c)
		ws := c.Flag("workspace", "Only this workspace's.").String()
		commands["aws list"] = func(ctx context.Context) error {
			var out struct {
				Integrations []integrationView `json:"integrations"`
			}
			q := url.Values{}
			if *ws != "" {
				q.Set("workspace", *ws)
			}
			if err := callJSON(ctx, f, http.MethodGet, "/admin/v1/aws/integrations", q, nil, &out); err != nil {
				return err
			}
			rows := [][]string{}
			for _, i := range out.Integrations {
				last := "-"
				if i.LastPoll != nil {
					last = i.LastPoll.FinishedAt
				}
				rows = append(rows, []string{i.ID, i.Name, i.AWSAccountID, strings.Join(i.Settings.Regions, ","), i.WorkspaceID, i.Status, last})
			}
			table(stdout, "ID\tNAME\tACCOUNT\tREGIONS\tWORKSPACE\tSTATUS\tLAST POLL", rows)
			return nil
		}
	}
	{
		c := aw.Command("show", "Show an integration, its status and its last poll.")
		f := addClientFlags(c)
		id := c.Arg("integration-id", "Integration.").Required().String()
		commands["aws show"] = func(ctx context.Context) error { return printJSON(ctx, f, http.MethodGet, ipath(*id), nil, nil) }
	}
	{
		c := aw.Command("policy", "Print the trust policy (with the External ID) and the least-privilege permission policy to paste into IAM.")
		f := addClientFlags(c)
		id := c.Arg("integration-id", "Integration.").Required().String()
		commands["aws policy"] = func(ctx context.Context) error {
			return printJSON(ctx, f, http.MethodGet, ipath(*id)+"/policies", nil, nil)
		}
	}
	{
		c := aw.Command("validate", "Check the integration's credentials and permissions now.")
		f := addClientFlags(c)
		id := c.Arg("integration-id", "Integration.").Required().String()
		commands["aws validate"] = func(ctx context.Context) error {
			return printIntegration(ctx, f, http.MethodPost, ipath(*id)+"/validate", nil)
		}
	}
	{
		c := aw.Command("poll", "Poll now (discovery, hosts, metrics) and print the report.")
		f := addClientFlags(c)
		id := c.Arg("integration-id", "Integration.").Required().String()
		commands["aws poll"] = func(ctx context.Context) error {
			return printJSON(ctx, f, http.MethodPost, ipath(*id)+"/poll", nil, nil)
		}
	}
	{
		c := aw.Command("delete", "Delete an integration (its hosts stay).")
		f := addClientFlags(c)
		id := c.Arg("integration-id", "Integration.").Required().String()
		commands["aws delete"] = func(ctx context.Context) error { return callJSON(ctx, f, http.MethodDelete, ipath(*id), nil, nil, nil) }
	}
	{
		c := aw.Command("services", "List the AWS services Kansoku collects, with their metrics and the IAM actions they need.")
		f := addClientFlags(c)
		commands["aws services"] = func(ctx context.Context) error {
			return printJSON(ctx, f, http.MethodGet, "/admin/v1/aws/services", nil, nil)
		}
	}

	h := a.Command("hosts", "The host inventory: every resource an AWS integration found.")
	{
		c := h.Command("list", "List hosts.")
		f := addClientFlags(c)
		ws := c.Flag("workspace", "Workspace.").String()
		product := c.Flag("product", "ec2, rds, ...").String()
		service := c.Flag("service", "Hosts with a role in this service.").String()
		role := c.Flag("role", "Service:Role").String()
		status := c.Flag("status", "working, standby, poweroff, retired").String()
		kind := c.Flag("kind", "standard or micro").String()
		integ := c.Flag("integration", "Integration id.").String()
		tag := c.Flag("tag", "key or key=value").String()
		retired := c.Flag("retired", "Include retired hosts.").Bool()
		asJSON := c.Flag("json", "Print JSON.").Bool()
		commands["hosts list"] = func(ctx context.Context) error {
			q := url.Values{}
			for k, v := range map[string]string{"workspace": *ws, "product": *product, "service": *service, "role": *role, "status": *status, "kind": *kind, "integration": *integ, "tag": *tag} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if *retired {
				q.Set("retired", "true")
			}
			if *asJSON {
				return printJSON(ctx, f, http.MethodGet, "/admin/v1/hosts", q, nil)
			}
			var out struct {
				Hosts []struct {
					ID, Name, Kind, Product, Status, Region string
					Roles                                   []string
				} `json:"hosts"`
			}
			if err := callJSON(ctx, f, http.MethodGet, "/admin/v1/hosts", q, nil, &out); err != nil {
				return err
			}
			rows := [][]string{}
			for _, h := range out.Hosts {
				rows = append(rows, []string{h.ID, h.Name, h.Product, h.Kind, h.Status, h.Region, strings.Join(h.Roles, ",")})
			}
			table(stdout, "ID\tNAME\tPRODUCT\tKIND\tSTATUS\tREGION\tROLES", rows)
			return nil
		}
	}
	{
		c := h.Command("show", "Show a host.")
		f := addClientFlags(c)
		id := c.Arg("host-id", "Host.").Required().String()
		commands["hosts show"] = func(ctx context.Context) error {
			return printJSON(ctx, f, http.MethodGet, "/admin/v1/hosts/"+url.PathEscape(*id), nil, nil)
		}
	}
	{
		c := h.Command("retire", "Retire a host.")
		f := addClientFlags(c)
		id := c.Arg("host-id", "Host.").Required().String()
		commands["hosts retire"] = func(ctx context.Context) error {
			return printJSON(ctx, f, http.MethodPost, "/admin/v1/hosts/"+url.PathEscape(*id)+"/retire", nil, nil)
		}
	}
}

type integrationView struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	AWSAccountID string `json:"awsAccountId"`
	WorkspaceID  string `json:"workspaceId"`
	AuthMode     string `json:"authMode"`
	RoleARN      string `json:"roleArn"`
	ExternalID   string `json:"externalId"`
	Status       string `json:"status"`
	StatusReason string `json:"statusReason"`
	Settings     struct {
		Regions  []string                   `json:"regions"`
		Services map[string]json.RawMessage `json:"services"`
	} `json:"settings"`
	LastPoll *struct {
		FinishedAt string `json:"finishedAt"`
	} `json:"lastPoll"`
}

// printIntegration prints an integration's state and, while it waits for
// its role, the External ID and the policies to paste.
func printIntegration(ctx context.Context, f *clientFlags, method, path string, body any) error {
	var out struct {
		Integration integrationView `json:"integration"`
		Policies    json.RawMessage `json:"policies"`
		PolErr      string          `json:"policiesError"`
	}
	if err := callJSON(ctx, f, method, path, nil, body, &out); err != nil {
		return err
	}
	i := out.Integration
	svcs := make([]string, 0, len(i.Settings.Services))
	for k := range i.Settings.Services {
		svcs = append(svcs, k)
	}
	sort.Strings(svcs)
	fmt.Fprintf(stdout, "integration %s (%s): account %s, regions %s, services %s -> workspace %s\n", i.ID, i.Name, i.AWSAccountID,
		strings.Join(i.Settings.Regions, ","), strings.Join(svcs, ","), i.WorkspaceID)
	fmt.Fprintf(stdout, "status: %s", i.Status)
	if i.StatusReason != "" {
		fmt.Fprintf(stdout, " — %s", i.StatusReason)
	}
	fmt.Fprintln(stdout)
	if i.AuthMode == "role" && (i.Status == "PENDING" || i.Status == "ERROR") {
		fmt.Fprintf(stdout, "\nExternal ID: %s\n", i.ExternalID)
		if len(out.Policies) > 0 {
			var p map[string]json.RawMessage
			_ = json.Unmarshal(out.Policies, &p)
			for _, k := range []string{"trustPolicy", "permissionPolicy", "kansokuPolicy"} {
				if len(p[k]) == 0 {
					continue
				}
				var v any
				_ = json.Unmarshal(p[k], &v)
				b, _ := json.MarshalIndent(v, "", "  ")
				title := map[string]string{"trustPolicy": "trustPolicy (the role's trust relationship)",
					"permissionPolicy": "permissionPolicy (attach to the role)",
					"kansokuPolicy":    "kansokuPolicy (Kansoku's own identity needs it, in Kansoku's account)"}[k]
				fmt.Fprintf(stdout, "\n%s:\n%s\n", title, b)
			}
			fmt.Fprintf(stdout, "\nThen: kansoku aws set-role %s arn:aws:iam::%s:role/<name>\n", i.ID, i.AWSAccountID)
		} else if out.PolErr != "" {
			fmt.Fprintf(os.Stderr, "policies: %s\n", out.PolErr)
		}
	}
	return nil
}
