package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/kansoku/kansoku/internal/app"
	"github.com/kansoku/kansoku/internal/client"
)

// clientFlags are the flags of every command that talks to a running server.
type clientFlags struct {
	url     string
	dataDir string
	region  string
	token   string
}

func addClientFlags(cmd *kingpin.CmdClause) *clientFlags {
	f := &clientFlags{}
	cmd.Flag("url", "Kansoku server URL (env KANSOKU_URL).").Default("").StringVar(&f.url)
	cmd.Flag("data.dir", "Data directory of a local server, to read its admin-credentials when AWS_ACCESS_KEY_ID is not set.").Default("./data").StringVar(&f.dataDir)
	cmd.Flag("region", "Region to sign for (env AWS_REGION / AWS_DEFAULT_REGION).").Default("").StringVar(&f.region)
	cmd.Flag("token", "Authenticate with this API token instead of SigV4 (env KANSOKU_TOKEN).").Default("").StringVar(&f.token)
	return f
}

func (f *clientFlags) client() (*client.Client, error) {
	s, err := client.Settings{URL: f.url, Region: f.region, Token: f.token}.Resolve(filepath.Join(f.dataDir, app.AdminCredentialsFile))
	if err != nil {
		return nil, err
	}
	return client.FromSettings(s), nil
}

func table(w io.Writer, header string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func fmtTime(epoch float64) string {
	if epoch == 0 {
		return "-"
	}
	return time.UnixMilli(int64(epoch * 1000)).UTC().Format(time.RFC3339)
}

var stdout io.Writer = os.Stdout
