package app_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/app"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/testenv"
)

// A background loop that dies stops the whole server, with its error.
func TestADyingLoopStopsTheServer(t *testing.T) {
	for name, run := range map[string]func(context.Context) error{
		"an error":       func(context.Context) error { return errors.New("disk on fire") },
		"returning nil":  func(context.Context) error { return nil },
		"after a moment": func(ctx context.Context) error { time.Sleep(300 * time.Millisecond); return errors.New("late failure") },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Storage.DataDir = t.TempDir()
			cfg.Web.ListenAddress = "127.0.0.1:0"
			a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			a.AddTestLoop("doomed", run)
			done := make(chan error, 1)
			go func() { done <- a.Run(context.Background()) }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "background loop doomed") {
					t.Fatalf("Run returned %v; want the loop's failure", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the server kept running after a loop died")
			}
		})
	}
}

// The console's expired sessions are removed by a loop of the run group
// (it was never started before).
func TestExpiredConsoleSessionsAreRemoved(t *testing.T) {
	dir := t.TempDir()
	s := testenv.Start(t, testenv.Options{DataDir: dir})
	s.Stop()
	db, err := metastore.OpenSQLite(context.Background(), dir+"/kansoku.db")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := db.GetPrincipalByName(context.Background(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := db.CreateConsoleSession(context.Background(), metastore.ConsoleSession{ID: "expired1", SecretHash: []byte{1}, PrincipalID: admin.ID,
		CreatedAt: old, LastSeenAt: old, ExpiresAt: old.Add(12 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s2 := testenv.Start(t, testenv.Options{DataDir: dir})
	waitFor(t, func() bool {
		_, err := s2.App.Meta().GetConsoleSession(context.Background(), "expired1")
		return errors.Is(err, metastore.ErrNotFound)
	})
}

// Until the workspaces' storage is open after a restart, a request to a
// workspace that exists answers 503 with Retry-After (remote_write
// retries it), not 404 (Prometheus drops a batch answered 404).
func TestStartingServerAnswersUnavailable(t *testing.T) {
	dir := t.TempDir()
	s := testenv.Start(t, testenv.Options{DataDir: dir})
	ws := s.CreateWorkspace(t, "restart")
	s.WaitStatus(t, ws, "ACTIVE")
	c := s.Token(t)
	s.Stop()

	cfg := config.Default()
	cfg.Storage.DataDir = dir
	cfg.Web.ListenAddress = "127.0.0.1:0"
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler()) // not Run: storage never opens
	defer srv.Close()
	c.BaseURL = srv.URL
	code, body, err := testenv.RemoteWrite(context.Background(), c, ws, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels: testenv.Series("__name__", "up", "job", "a"), Samples: []prompb.Sample{{Value: 1, Timestamp: time.Now().UnixMilli()}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "starting") {
		t.Fatalf("remote_write while starting: %d %s; want 503", code, body)
	}
}
