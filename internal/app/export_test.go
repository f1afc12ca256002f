package app_test

import (
	"context"
	"log/slog"

	"github.com/kansoku/kansoku/internal/app"
	"github.com/kansoku/kansoku/internal/config"
)

func testStartErr(dir, region string) (*app.App, error) {
	return testStartWith(dir, func(c *config.Config) { c.Region = region })
}

func testStartWith(dir string, mutate func(*config.Config)) (*app.App, error) {
	cfg := config.Default()
	cfg.Storage.DataDir = dir
	cfg.Web.ListenAddress = "127.0.0.1:0"
	mutate(&cfg)
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if a != nil {
		a.Close()
	}
	return a, err
}
