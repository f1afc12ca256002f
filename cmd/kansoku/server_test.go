package main

import (
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/app"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/iam"
	"github.com/kansoku/kansoku/internal/metastore"
)

// The admin secret is printed once, to a terminal only: a log that
// captures stdout must not hold it.
func TestBannerPrintsTheSecretOnlyToATerminal(t *testing.T) {
	a := &app.App{Config: config.Default(), ExternalURL: "http://localhost:9393", Account: metastore.Account{ID: "123456789012", Region: "us-east-1"},
		FirstStart: &iam.NewKey{AccessKeyID: "AKIAFIRSTSTART000001", SecretAccessKey: "first-start-secret"}}
	var tty, log strings.Builder
	printBanner(&tty, a, true)
	printBanner(&log, a, false)
	if !strings.Contains(tty.String(), "AWS_SECRET_ACCESS_KEY=first-start-secret") {
		t.Errorf("terminal banner lacks the secret:\n%s", tty.String())
	}
	if strings.Contains(log.String(), "first-start-secret") {
		t.Errorf("non-terminal banner prints the secret:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "AKIAFIRSTSTART000001") || !strings.Contains(log.String(), app.AdminCredentialsFile) {
		t.Errorf("non-terminal banner should name the key and the credentials file:\n%s", log.String())
	}
}
