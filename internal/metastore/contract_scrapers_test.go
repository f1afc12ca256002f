package metastore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// contractScrapers: managed scrapers, their filters, pages, compare-and-set
// status changes, logging configuration and deletion with their tags.
func contractScrapers(t *testing.T, open opener) {
	db := open(t)
	ctx := t.Context()
	now := contractNow()
	for i := 0; i < 5; i++ {
		s := metastore.Scraper{ID: fmt.Sprintf("s-%d", i), ARN: fmt.Sprintf("arn:s-%d", i), Status: metastore.ScraperCreating,
			ClientToken: fmt.Sprintf("tok-%d", i), RequestHash: "h", Configuration: []byte("global:\n  scrape_interval: 30s\n\x00binary"),
			Source: `{"vpcConfiguration":{}}`, DestinationARN: fmt.Sprintf("arn:ws-%d", i%2), RoleConfiguration: "{}",
			CreatedAt: now.Add(time.Duration(i) * time.Second), UpdatedAt: now}
		if i == 3 {
			s.Alias, s.SourceARN = "three", "arn:aws:eks:us-east-1:123456789012:cluster/c"
		}
		if err := db.CreateScraper(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateScraper(ctx, metastore.Scraper{ID: "s-x", ARN: "a", Status: "CREATING", ClientToken: "tok-1", Configuration: []byte("x"), CreatedAt: now, UpdatedAt: now}); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("duplicate client token: want ErrConflict, got %v", err)
	}
	if s, err := db.GetScraperByClientToken(ctx, "tok-2"); err != nil || s.ID != "s-2" || string(s.Configuration) != "global:\n  scrape_interval: 30s\n\x00binary" {
		t.Fatalf("by token: %+v %v", s, err)
	}
	if n, err := db.CountScrapers(ctx); err != nil || n != 5 {
		t.Fatalf("count: %d %v", n, err)
	}
	var all []string
	tok := ""
	for page := 0; page < 5; page++ {
		ss, next, err := db.ListScrapers(ctx, metastore.ScraperFilter{Limit: 2, After: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			all = append(all, s.ID)
		}
		if next == "" {
			break
		}
		tok = next
	}
	if fmt.Sprint(all) != "[s-0 s-1 s-2 s-3 s-4]" {
		t.Fatalf("pagination: %v", all)
	}
	ids := func(f metastore.ScraperFilter) string {
		ss, _, err := db.ListScrapers(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return fmt.Sprint(out)
	}
	if got := ids(metastore.ScraperFilter{DestinationARNs: []string{"arn:ws-1"}}); got != "[s-1 s-3]" {
		t.Fatalf("destination filter: %s", got)
	}
	if got := ids(metastore.ScraperFilter{Aliases: []string{"three", "nope"}, SourceARNs: []string{"arn:aws:eks:us-east-1:123456789012:cluster/c"}}); got != "[s-3]" {
		t.Fatalf("alias and source filter: %s", got)
	}
	// Compare-and-set status changes.
	if err := db.SetScraperStatus(ctx, "s-0", metastore.ScraperActive, "", now, metastore.ScraperCreating); err != nil {
		t.Fatal(err)
	}
	if err := db.SetScraperStatus(ctx, "s-0", metastore.ScraperActive, "", now, metastore.ScraperCreating); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("second transition from CREATING: %v", err)
	}
	if got := ids(metastore.ScraperFilter{Statuses: []string{metastore.ScraperActive}}); got != "[s-0]" {
		t.Fatalf("status filter: %s", got)
	}
	s, _ := db.GetScraper(ctx, "s-0")
	s.Alias, s.Configuration, s.Status, s.StatusReason, s.UpdatedAt = "renamed", []byte("new"), metastore.ScraperUpdating, "", now.Add(time.Minute)
	if err := db.UpdateScraper(ctx, s, metastore.ScraperActive); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetScraper(ctx, "s-0"); got.Alias != "renamed" || string(got.Configuration) != "new" || got.Status != metastore.ScraperUpdating || !got.UpdatedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("after update: %+v", got)
	}
	if err := db.SetScraperLogging(ctx, "s-0", `{"x":1}`, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetScraper(ctx, "s-0"); got.Logging != `{"x":1}` || !got.LoggingModifiedAt.Equal(now) {
		t.Fatalf("logging: %+v", got)
	}
	if err := db.SetTags(ctx, "arn:s-0", map[string]string{"team": "obs"}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteScraper(ctx, "s-0", "arn:s-0"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetScraper(ctx, "s-0"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
	if tags, _ := db.Tags(ctx, "arn:s-0"); len(tags) != 0 {
		t.Fatalf("tags of a deleted scraper: %v", tags)
	}
	if err := db.DeleteScraper(ctx, "s-0", "arn:s-0"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}
