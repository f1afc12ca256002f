package app_test

import (
	"context"
	"log/slog"

	"github.com/kansoku/kansoku/internal/app"
	"github.com/kansoku/kansoku/internal/config"
)

func testStartErr(dir, region string) (*app.App, error) {
	cfg := config.Default()
	cfg.Storage.DataDir = dir
	cfg.Region = region
	cfg.Web.ListenAddress = "127.0.0.1:0"
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if a != nil {
		a.Close()
	}
	return a, err
}
