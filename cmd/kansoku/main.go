// Command kansoku is the Kansoku server and its command-line tools.
//
//	kansoku server            run the service
//	kansoku keys|token ...    manage credentials on a running server
//	kansoku bench ...         load generators and benchmarks
//	kansoku version           print the version
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kingpin/v2"

	"github.com/kansoku/kansoku/internal/version"
)

func main() {
	// commands maps a kingpin command's full name to what runs it.
	commands := map[string]func(ctx context.Context) error{}
	app := kingpin.New("kansoku", "Kansoku: a self-hosted, multi-tenant, AMP-compatible metrics service.")
	app.Version(version.String())
	app.HelpFlag.Short('h')
	registerServer(app, commands)
	registerVersion(app, commands)
	registerKeys(app, commands)
	registerToken(app, commands)
	registerBench(app, commands)
	registerIAM(app, commands)
	registerAudit(app, commands)
	registerLogs(app, commands)
	registerLimits(app, commands)
	registerAWS(app, commands)
	registerConsole(app, commands)

	cmd, err := app.Parse(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "kansoku: %v (try --help)\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := commands[cmd](ctx); err != nil {
		fmt.Fprintf(os.Stderr, "kansoku %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

func registerVersion(app *kingpin.Application, commands map[string]func(context.Context) error) {
	app.Command("version", "Print the version.")
	commands["version"] = func(context.Context) error {
		fmt.Println(version.String())
		return nil
	}
}
