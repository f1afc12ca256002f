package scraper

import (
	"context"
	"fmt"

	"github.com/kansoku/kansoku/internal/metastore"
)

// Sealer encrypts what the store keeps (secrets.Box).
type Sealer interface {
	SealMarked(plain, associated []byte) ([]byte, error)
	OpenMarked(data, associated []byte) ([]byte, error)
}

// sealedStore keeps scrape configurations sealed at rest: a configuration
// may hold an inline bearer credential (authorization.credentials), which
// must not sit in the metadata store's files in clear. The sealed value is
// bound to its scraper, so it does not open on another row. Describe still
// returns the configuration to a caller allowed to read it, as AMP does.
type sealedStore struct {
	Store
	box Sealer
}

func associated(id string) []byte { return []byte("scraper-configuration/" + id) }

func (s sealedStore) seal(rec metastore.Scraper) (metastore.Scraper, error) {
	out, err := s.box.SealMarked(rec.Configuration, associated(rec.ID))
	if err != nil {
		return rec, fmt.Errorf("seal the configuration of scraper %s: %w", rec.ID, err)
	}
	rec.Configuration = out
	return rec, nil
}

func (s sealedStore) open(rec metastore.Scraper) (metastore.Scraper, error) {
	out, err := s.box.OpenMarked(rec.Configuration, associated(rec.ID))
	if err != nil {
		return rec, fmt.Errorf("open the configuration of scraper %s: %w", rec.ID, err)
	}
	rec.Configuration = out
	return rec, nil
}

func (s sealedStore) GetScraper(ctx context.Context, id string) (metastore.Scraper, error) {
	rec, err := s.Store.GetScraper(ctx, id)
	if err != nil {
		return rec, err
	}
	return s.open(rec)
}

func (s sealedStore) GetScraperByClientToken(ctx context.Context, token string) (metastore.Scraper, error) {
	rec, err := s.Store.GetScraperByClientToken(ctx, token)
	if err != nil {
		return rec, err
	}
	return s.open(rec)
}

func (s sealedStore) ListScrapers(ctx context.Context, f metastore.ScraperFilter) ([]metastore.Scraper, string, error) {
	list, next, err := s.Store.ListScrapers(ctx, f)
	if err != nil {
		return nil, "", err
	}
	for i := range list {
		if list[i], err = s.open(list[i]); err != nil {
			return nil, "", err
		}
	}
	return list, next, nil
}

func (s sealedStore) UpdateScraper(ctx context.Context, rec metastore.Scraper, from ...string) error {
	sealed, err := s.seal(rec)
	if err != nil {
		return err
	}
	return s.Store.UpdateScraper(ctx, sealed, from...)
}
