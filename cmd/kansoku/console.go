package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/alecthomas/kingpin/v2"
)

// registerConsole adds `kansoku console ...`.
func registerConsole(a *kingpin.Application, commands map[string]func(context.Context) error) {
	c := a.Command("console", "The web console (served at /console/ by `kansoku server`).")
	sp := c.Command("set-password", "Set a user's console password (12 to 256 characters), read from standard input.")
	f := addClientFlags(sp)
	user := sp.Flag("user", "User name.").Default("admin").String()
	commands["console set-password"] = func(ctx context.Context) error {
		fmt.Fprintf(os.Stderr, "New console password for %s: ", *user)
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read the password from standard input: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if err := callJSON(ctx, f, http.MethodPut, "/admin/v1/users/"+url.PathEscape(*user)+"/console-password", nil, map[string]string{"password": pw}, nil); err != nil {
			return err
		}
		c, _ := f.client()
		base := ""
		if c != nil {
			base = c.BaseURL
		}
		fmt.Fprintf(stdout, "\nConsole password of %s set. Sign in at %s/console/\n", *user, base)
		return nil
	}
}
