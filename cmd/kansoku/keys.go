package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/alecthomas/kingpin/v2"
)

type accessKey struct {
	AccessKeyID     string  `json:"accessKeyId"`
	SecretAccessKey string  `json:"secretAccessKey"`
	UserName        string  `json:"userName"`
	Status          string  `json:"status"`
	CreateDate      float64 `json:"createDate"`
	LastUsedDate    float64 `json:"lastUsedDate"`
}

func registerKeys(a *kingpin.Application, commands map[string]func(context.Context) error) {
	keys := a.Command("keys", "Manage SigV4 access keys on a running server.")

	create := keys.Command("create", "Mint an access key for a user (created if new) and print it as shell-sourceable lines.")
	cf := addClientFlags(create)
	name := create.Flag("name", "User the key belongs to.").Required().String()
	policies := create.Flag("policy", "Policy to attach to the user (ARN or name, e.g. AmazonPrometheusRemoteWriteAccess); repeatable. A new user without policies may do nothing.").Strings()
	commands["keys create"] = func(ctx context.Context) error {
		c, err := cf.client()
		if err != nil {
			return err
		}
		var out struct {
			AccessKey accessKey `json:"accessKey"`
		}
		if err := c.JSON(ctx, http.MethodPost, "/admin/v1/keys", nil, map[string]any{"userName": *name, "policyArns": *policies}, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", out.AccessKey.AccessKeyID, out.AccessKey.SecretAccessKey)
		fmt.Fprintf(os.Stderr, "# access key for user %s; the secret is not shown again\n", out.AccessKey.UserName)
		return nil
	}

	list := keys.Command("list", "List access keys (never their secrets).")
	lf := addClientFlags(list)
	user := list.Flag("user", "Only this user's keys.").String()
	commands["keys list"] = func(ctx context.Context) error {
		c, err := lf.client()
		if err != nil {
			return err
		}
		q := url.Values{}
		if *user != "" {
			q.Set("userName", *user)
		}
		var out struct {
			AccessKeys []accessKey `json:"accessKeys"`
		}
		if err := c.JSON(ctx, http.MethodGet, "/admin/v1/keys", q, nil, &out); err != nil {
			return err
		}
		var rows [][]string
		for _, k := range out.AccessKeys {
			rows = append(rows, []string{k.AccessKeyID, k.UserName, k.Status, fmtTime(k.CreateDate), fmtTime(k.LastUsedDate)})
		}
		table(stdout, "ACCESS KEY ID\tUSER\tSTATUS\tCREATED\tLAST USED", rows)
		return nil
	}

	del := keys.Command("delete", "Delete an access key; requests signed with it are refused at once.")
	df := addClientFlags(del)
	id := del.Arg("access-key-id", "The key to delete.").Required().String()
	commands["keys delete"] = func(ctx context.Context) error {
		c, err := df.client()
		if err != nil {
			return err
		}
		return c.JSON(ctx, http.MethodDelete, "/admin/v1/keys/"+url.PathEscape(*id), nil, nil, nil)
	}
}
