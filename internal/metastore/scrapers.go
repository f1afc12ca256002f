package metastore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
)

// Scraper statuses, as AMP names them.
const (
	ScraperCreating       = "CREATING"
	ScraperUpdating       = "UPDATING"
	ScraperActive         = "ACTIVE"
	ScraperDeleting       = "DELETING"
	ScraperCreationFailed = "CREATION_FAILED"
	ScraperUpdateFailed   = "UPDATE_FAILED"
)

// Scraper is an AMP managed collector: a scrape configuration run by the
// service into a destination workspace.
type Scraper struct {
	ID           string
	Alias        string // empty: none
	ARN          string
	Status       string
	StatusReason string
	ClientToken  string
	// RequestHash identifies the parameters a client token was used with.
	RequestHash string
	// Configuration is the Prometheus configuration (YAML, decoded from
	// the request's base64).
	Configuration []byte
	// Source and RoleConfiguration are the API's JSON members as stored.
	Source            string
	SourceARN         string // the EKS cluster's ARN, "" for a VPC source
	DestinationARN    string // the destination workspace's ARN
	RoleConfiguration string
	// Logging is the logging configuration's JSON, "" when none.
	Logging           string
	LoggingModifiedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

const scraperCols = `id, alias, arn, status, status_reason, client_token, request_hash, configuration, source, source_arn,
	destination_arn, role_configuration, logging, logging_modified_at, created_at, updated_at`

func scanScraper(s interface{ Scan(...any) error }) (Scraper, error) {
	var sc Scraper
	var alias, token sql.NullString
	var logMod, created, updated int64
	if err := s.Scan(&sc.ID, &alias, &sc.ARN, &sc.Status, &sc.StatusReason, &token, &sc.RequestHash, &sc.Configuration,
		&sc.Source, &sc.SourceARN, &sc.DestinationARN, &sc.RoleConfiguration, &sc.Logging, &logMod, &created, &updated); err != nil {
		return Scraper{}, mapErr(err)
	}
	sc.Alias, sc.ClientToken = alias.String, token.String
	if logMod != 0 {
		sc.LoggingModifiedAt = fromMillis(logMod)
	}
	sc.CreatedAt, sc.UpdatedAt = fromMillis(created), fromMillis(updated)
	return sc, nil
}

// CreateScraper inserts a scraper. ErrConflict when the id or the client
// token is already used.
func (q *Queries) CreateScraper(ctx context.Context, s Scraper) error {
	var logMod int64
	if !s.LoggingModifiedAt.IsZero() {
		logMod = millis(s.LoggingModifiedAt)
	}
	_, err := q.exec(ctx, `INSERT INTO scrapers (`+scraperCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, nullString(s.Alias), s.ARN, s.Status, s.StatusReason, nullString(s.ClientToken), s.RequestHash, s.Configuration,
		s.Source, s.SourceARN, s.DestinationARN, s.RoleConfiguration, s.Logging, logMod, millis(s.CreatedAt), millis(s.UpdatedAt))
	return err
}

// GetScraper returns a scraper by id.
func (q *Queries) GetScraper(ctx context.Context, id string) (Scraper, error) {
	return scanScraper(q.queryRow(ctx, `SELECT `+scraperCols+` FROM scrapers WHERE id = ?`, id))
}

// GetScraperByClientToken returns the scraper created with token.
func (q *Queries) GetScraperByClientToken(ctx context.Context, token string) (Scraper, error) {
	return scanScraper(q.queryRow(ctx, `SELECT `+scraperCols+` FROM scrapers WHERE client_token = ?`, token))
}

// CountScrapers counts the account's scrapers (all statuses: AMP counts a
// scraper against the quota until it is gone).
func (q *Queries) CountScrapers(ctx context.Context) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM scrapers`).Scan(&n)
	return n, mapErr(err)
}

// ScraperFilter narrows ListScrapers: each non-empty list is a set of
// values one of which the scraper must have (AMP's filters: status,
// sourceArn, destinationArn, alias).
type ScraperFilter struct {
	Statuses        []string
	SourceARNs      []string
	DestinationARNs []string
	Aliases         []string
	Limit           int    // 0: no limit
	After           string // page token from a previous call
}

// ListScrapers returns scrapers in creation order and, when more remain,
// the token that continues the listing.
func (q *Queries) ListScrapers(ctx context.Context, f ScraperFilter) ([]Scraper, string, error) {
	var where []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+` IN (`+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+`)`)
		for _, v := range vals {
			args = append(args, v)
		}
	}
	in("status", f.Statuses)
	in("source_arn", f.SourceARNs)
	in("destination_arn", f.DestinationARNs)
	in("alias", f.Aliases)
	if f.After != "" {
		created, id, err := DecodePageToken(f.After)
		if err != nil {
			return nil, "", err
		}
		where = append(where, `(created_at > ? OR (created_at = ? AND id > ?))`)
		args = append(args, created, created, id)
	}
	query := `SELECT ` + scraperCols + ` FROM scrapers`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY created_at, id`
	if f.Limit > 0 {
		query += ` LIMIT ` + strconv.Itoa(f.Limit+1)
	}
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []Scraper
	for rows.Next() {
		s, err := scanScraper(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = EncodePageToken(millis(last.CreatedAt), last.ID)
	}
	return out, next, nil
}

// UpdateScraper writes a scraper's alias, configuration, destination, role
// configuration, status and reason if its status is one of from (any when
// from is empty). ErrNotFound when no row matched.
func (q *Queries) UpdateScraper(ctx context.Context, s Scraper, from ...string) error {
	query := `UPDATE scrapers SET alias = ?, configuration = ?, destination_arn = ?, role_configuration = ?, status = ?,
		status_reason = ?, updated_at = ? WHERE id = ?`
	args := []any{nullString(s.Alias), s.Configuration, s.DestinationARN, s.RoleConfiguration, s.Status, s.StatusReason, millis(s.UpdatedAt), s.ID}
	query, args = withFrom(query, args, from)
	return q.execOne(ctx, query, args...)
}

// SetScraperStatus moves a scraper to status (with reason) if it is in one
// of from (any when from is empty). ErrNotFound when no row matched.
func (q *Queries) SetScraperStatus(ctx context.Context, id, status, reason string, at time.Time, from ...string) error {
	query, args := withFrom(`UPDATE scrapers SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?`,
		[]any{status, reason, millis(at), id}, from)
	return q.execOne(ctx, query, args...)
}

// SetScraperLogging sets (or, with "", removes) a scraper's logging
// configuration.
func (q *Queries) SetScraperLogging(ctx context.Context, id, logging string, at time.Time) error {
	return q.execOne(ctx, `UPDATE scrapers SET logging = ?, logging_modified_at = ? WHERE id = ?`, logging, millis(at), id)
}

// DeleteScraper removes a scraper and its tags.
func (q *Queries) DeleteScraper(ctx context.Context, id, arn string) error {
	if err := q.DeleteTags(ctx, arn); err != nil {
		return err
	}
	return q.execOne(ctx, `DELETE FROM scrapers WHERE id = ?`, id)
}

func withFrom(query string, args []any, from []string) (string, []any) {
	if len(from) == 0 {
		return query, args
	}
	query += ` AND status IN (` + strings.TrimSuffix(strings.Repeat("?,", len(from)), ",") + `)`
	for _, s := range from {
		args = append(args, s)
	}
	return query, args
}
