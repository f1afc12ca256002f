package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/alecthomas/kingpin/v2"
)

// registerIAM adds `kansoku iam ...`: users, policies, attachments and a
// policy simulator, through the admin API.
func registerIAM(a *kingpin.Application, commands map[string]func(context.Context) error) {
	iam := a.Command("iam", "Manage users, IAM-style policies and their attachments.")
	esc := url.PathEscape

	{
		c := iam.Command("create-user", "Create a user.")
		f := addClientFlags(c)
		name := c.Arg("user", "User name.").Required().String()
		policies := c.Flag("policy", "Policy to attach (ARN or name); repeatable.").Strings()
		commands["iam create-user"] = func(ctx context.Context) error {
			return printJSON(ctx, f, http.MethodPost, "/admin/v1/iam/users", nil, map[string]any{"userName": *name, "policyArns": *policies})
		}
	}
	{
		c := iam.Command("list-users", "List users.")
		f := addClientFlags(c)
		commands["iam list-users"] = func(ctx context.Context) error {
			var out struct {
				Users []struct {
					UserName, UserID, ARN string
					CreateDate            float64
				} `json:"users"`
			}
			if err := callJSON(ctx, f, http.MethodGet, "/admin/v1/iam/users", nil, nil, &out); err != nil {
				return err
			}
			var rows [][]string
			for _, u := range out.Users {
				rows = append(rows, []string{u.UserName, u.ARN, fmtTime(u.CreateDate)})
			}
			table(stdout, "USER\tARN\tCREATED", rows)
			return nil
		}
	}
	{
		c := iam.Command("get-user", "Show a user and its attached policies.")
		f := addClientFlags(c)
		name := c.Arg("user", "User name.").Required().String()
		commands["iam get-user"] = func(ctx context.Context) error {
			return printJSON(ctx, f, http.MethodGet, "/admin/v1/iam/users/"+esc(*name), nil, nil)
		}
	}
	{
		c := iam.Command("delete-user", "Delete a user and its credentials.")
		f := addClientFlags(c)
		name := c.Arg("user", "User name.").Required().String()
		commands["iam delete-user"] = func(ctx context.Context) error {
			return callJSON(ctx, f, http.MethodDelete, "/admin/v1/iam/users/"+esc(*name), nil, nil, nil)
		}
	}
	{
		c := iam.Command("create-policy", "Create a customer-managed policy from a JSON document.")
		f := addClientFlags(c)
		name := c.Flag("name", "Policy name.").Required().String()
		doc := c.Flag("document", "The policy document: a file path, file://path, or the JSON itself.").Required().String()
		desc := c.Flag("description", "Description.").String()
		commands["iam create-policy"] = func(ctx context.Context) error {
			d, err := readDocument(*doc)
			if err != nil {
				return err
			}
			return printJSON(ctx, f, http.MethodPost, "/admin/v1/iam/policies", nil, map[string]any{"policyName": *name, "policyDocument": d, "description": *desc})
		}
	}
	{
		c := iam.Command("update-policy", "Replace a customer policy's document (takes effect at once).")
		f := addClientFlags(c)
		arn := c.Arg("policy-arn", "Policy ARN.").Required().String()
		doc := c.Flag("document", "The new document: a file path, file://path, or the JSON itself.").Required().String()
		commands["iam update-policy"] = func(ctx context.Context) error {
			d, err := readDocument(*doc)
			if err != nil {
				return err
			}
			return callJSON(ctx, f, http.MethodPut, "/admin/v1/iam/policies/"+esc(*arn), nil, map[string]any{"policyDocument": d}, nil)
		}
	}
	{
		c := iam.Command("list-policies", "List built-in and customer policies.")
		f := addClientFlags(c)
		commands["iam list-policies"] = func(ctx context.Context) error {
			var out struct {
				Policies []struct {
					ARN             string `json:"arn"`
					PolicyName      string `json:"policyName"`
					AWSManaged      bool   `json:"awsManaged"`
					AttachmentCount int    `json:"attachmentCount"`
				} `json:"policies"`
			}
			if err := callJSON(ctx, f, http.MethodGet, "/admin/v1/iam/policies", nil, nil, &out); err != nil {
				return err
			}
			var rows [][]string
			for _, p := range out.Policies {
				kind := "customer"
				if p.AWSManaged {
					kind = "built-in"
				}
				rows = append(rows, []string{p.PolicyName, kind, fmt.Sprint(p.AttachmentCount), p.ARN})
			}
			table(stdout, "POLICY\tKIND\tATTACHED\tARN", rows)
			return nil
		}
	}
	{
		c := iam.Command("get-policy", "Show a policy and its document.")
		f := addClientFlags(c)
		arn := c.Arg("policy-arn", "Policy ARN.").Required().String()
		commands["iam get-policy"] = func(ctx context.Context) error {
			return printJSON(ctx, f, http.MethodGet, "/admin/v1/iam/policies/"+esc(*arn), nil, nil)
		}
	}
	{
		c := iam.Command("delete-policy", "Delete a customer policy (it must be detached first).")
		f := addClientFlags(c)
		arn := c.Arg("policy-arn", "Policy ARN.").Required().String()
		commands["iam delete-policy"] = func(ctx context.Context) error {
			return callJSON(ctx, f, http.MethodDelete, "/admin/v1/iam/policies/"+esc(*arn), nil, nil, nil)
		}
	}
	{
		c := iam.Command("attach-user-policy", "Attach a policy to a user.")
		f := addClientFlags(c)
		user := c.Flag("user", "User name.").Required().String()
		arn := c.Flag("policy-arn", "Policy ARN or name.").Required().String()
		commands["iam attach-user-policy"] = func(ctx context.Context) error {
			return callJSON(ctx, f, http.MethodPost, "/admin/v1/iam/users/"+esc(*user)+"/policies", nil, map[string]any{"policyArn": *arn}, nil)
		}
	}
	{
		c := iam.Command("detach-user-policy", "Detach a policy from a user.")
		f := addClientFlags(c)
		user := c.Flag("user", "User name.").Required().String()
		arn := c.Flag("policy-arn", "Policy ARN.").Required().String()
		commands["iam detach-user-policy"] = func(ctx context.Context) error {
			return callJSON(ctx, f, http.MethodDelete, "/admin/v1/iam/users/"+esc(*user)+"/policies/"+esc(*arn), nil, nil, nil)
		}
	}
	{
		c := iam.Command("list-attached-user-policies", "List the policies attached to a user.")
		f := addClientFlags(c)
		user := c.Arg("user", "User name.").Required().String()
		commands["iam list-attached-user-policies"] = func(ctx context.Context) error {
			return printJSON(ctx, f, http.MethodGet, "/admin/v1/iam/users/"+esc(*user)+"/policies", nil, nil)
		}
	}
	{
		c := iam.Command("simulate", "Evaluate whether a user may perform an action on a resource.")
		f := addClientFlags(c)
		user := c.Flag("user", "User name.").Required().String()
		action := c.Flag("action", "Action, e.g. aps:RemoteWrite.").Required().String()
		resource := c.Flag("resource", "Resource ARN.").Default("*").String()
		commands["iam simulate"] = func(ctx context.Context) error {
			return printJSON(ctx, f, http.MethodPost, "/admin/v1/iam/simulate", nil, map[string]any{"userName": *user, "actionName": *action, "resourceArn": *resource})
		}
	}
	{
		c := iam.Command("revoke-role-sessions", "Revoke every session of a role issued until now (AWS's AWSRevokeOlderSessions policy).")
		f := addClientFlags(c)
		role := c.Arg("role", "Role name.").Required().String()
		commands["iam revoke-role-sessions"] = func(ctx context.Context) error {
			return printJSON(ctx, f, http.MethodPost, "/admin/v1/iam/roles/"+esc(*role)+"/revoke-sessions", nil, nil)
		}
	}
	{
		c := iam.Command("set-oidc-keys", "Give an OIDC provider its signing keys (a JSON Web Key Set) for an issuer Kansoku cannot reach.")
		f := addClientFlags(c)
		provider := c.Arg("provider-arn", "The provider's ARN.").Required().String()
		jwks := c.Flag("jwks", "The key set: a file path, file://path, or the JSON itself; empty: fetch the keys from the issuer.").Required().String()
		commands["iam set-oidc-keys"] = func(ctx context.Context) error {
			d := ""
			if *jwks != "" {
				var err error
				if d, err = readDocument(*jwks); err != nil {
					return err
				}
			}
			return callJSON(ctx, f, http.MethodPut, "/admin/v1/iam/oidc-providers/"+esc(*provider)+"/keys", nil, map[string]any{"jwks": d}, nil)
		}
	}
}

// readDocument reads a policy document given as a path, file://path or inline JSON.
func readDocument(arg string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(arg), "{") {
		return arg, nil
	}
	b, err := os.ReadFile(strings.TrimPrefix(arg, "file://"))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func callJSON(ctx context.Context, f *clientFlags, method, path string, q url.Values, in, out any) error {
	c, err := f.client()
	if err != nil {
		return err
	}
	return c.JSON(ctx, method, path, q, in, out)
}

// printJSON calls the API and prints the response, indented.
func printJSON(ctx context.Context, f *clientFlags, method, path string, q url.Values, in any) error {
	var out json.RawMessage
	if err := callJSON(ctx, f, method, path, q, in, &out); err != nil {
		return err
	}
	if len(out) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
