package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

type apiToken struct {
	ID        string  `json:"id"`
	Token     string  `json:"token"`
	Name      string  `json:"name"`
	UserName  string  `json:"userName"`
	CreatedAt float64 `json:"createdAt"`
	ExpiresAt float64 `json:"expiresAt"`
}

func registerToken(a *kingpin.Application, commands map[string]func(context.Context) error) {
	tok := a.Command("token", "Manage bearer API tokens (for promtool, amtool, curl, Grafana) on a running server.")

	create := tok.Command("create", "Create an API token and print it (only this once) on stdout.")
	cf := addClientFlags(create)
	name := create.Flag("name", "A name to recognise the token by.").Default("cli").String()
	user := create.Flag("user", "User the token acts as (default: the caller).").String()
	ttl := create.Flag("ttl", "Lifetime, e.g. 720h; 0 for no expiry.").Default("0s").Duration()
	commands["token create"] = func(ctx context.Context) error {
		c, err := cf.client()
		if err != nil {
			return err
		}
		var out struct {
			APIToken apiToken `json:"apiToken"`
		}
		in := map[string]any{"name": *name, "userName": *user, "ttlSeconds": int64(*ttl / time.Second)}
		if err := c.JSON(ctx, http.MethodPost, "/admin/v1/tokens", nil, in, &out); err != nil {
			return err
		}
		fmt.Fprintln(stdout, out.APIToken.Token)
		fmt.Fprintf(os.Stderr, "# token %s for user %s; it is not shown again. Use it as 'Authorization: Bearer <token>' or as the basic-auth password.\n", out.APIToken.ID, out.APIToken.UserName)
		return nil
	}

	list := tok.Command("list", "List API tokens (never the tokens themselves).")
	lf := addClientFlags(list)
	luser := list.Flag("user", "Only this user's tokens.").String()
	commands["token list"] = func(ctx context.Context) error {
		c, err := lf.client()
		if err != nil {
			return err
		}
		q := url.Values{}
		if *luser != "" {
			q.Set("userName", *luser)
		}
		var out struct {
			APITokens []apiToken `json:"apiTokens"`
		}
		if err := c.JSON(ctx, http.MethodGet, "/admin/v1/tokens", q, nil, &out); err != nil {
			return err
		}
		var rows [][]string
		for _, t := range out.APITokens {
			rows = append(rows, []string{t.ID, t.Name, t.UserName, fmtTime(t.CreatedAt), fmtTime(t.ExpiresAt)})
		}
		table(stdout, "ID\tNAME\tUSER\tCREATED\tEXPIRES", rows)
		return nil
	}

	revoke := tok.Command("revoke", "Revoke an API token.")
	rf := addClientFlags(revoke)
	id := revoke.Arg("id", "Token id (from token list).").Required().String()
	commands["token revoke"] = func(ctx context.Context) error {
		c, err := rf.client()
		if err != nil {
			return err
		}
		return c.JSON(ctx, http.MethodDelete, "/admin/v1/tokens/"+url.PathEscape(*id), nil, nil, nil)
	}
}
