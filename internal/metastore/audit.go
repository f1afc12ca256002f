package metastore

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// AuditEvent is one CloudTrail-like record. Event holds the full JSON
// record; the other fields are copies for filtering.
type AuditEvent struct {
	ID          string
	Time        time.Time
	EventSource string
	EventName   string
	UserName    string
	AccessKeyID string
	SourceIP    string
	ErrorCode   string
	ReadOnly    bool
	Resource    string
	Event       string
}

// InsertAuditEvents stores a batch of events.
func (q *Queries) InsertAuditEvents(ctx context.Context, events []AuditEvent) error {
	for _, e := range events {
		if _, err := q.exec(ctx, `INSERT INTO audit_events (id, event_time, event_source, event_name, user_name, access_key_id, source_ip, error_code, read_only, resource, event)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, millis(e.Time), e.EventSource, e.EventName, e.UserName, e.AccessKeyID, e.SourceIP, e.ErrorCode, e.ReadOnly, e.Resource, e.Event); err != nil {
			return err
		}
	}
	return nil
}

// AuditFilter narrows QueryAuditEvents. Empty fields match everything.
type AuditFilter struct {
	Since, Until time.Time
	EventName    string
	EventSource  string
	UserName     string
	AccessKeyID  string
	Resource     string // substring of the resource ARN
	ErrorsOnly   bool
	ReadOnly     *bool
	Limit        int
	// Before continues a listing (newest first) from a page token.
	Before string
}

// QueryAuditEvents returns events newest first, and a token for the next page.
func (q *Queries) QueryAuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, string, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if !f.Since.IsZero() {
		add(`event_time >= ?`, millis(f.Since))
	}
	if !f.Until.IsZero() {
		add(`event_time <= ?`, millis(f.Until))
	}
	if f.EventName != "" {
		add(`event_name = ?`, f.EventName)
	}
	if f.EventSource != "" {
		add(`event_source = ?`, f.EventSource)
	}
	if f.UserName != "" {
		add(`user_name = ?`, f.UserName)
	}
	if f.AccessKeyID != "" {
		add(`access_key_id = ?`, f.AccessKeyID)
	}
	if f.Resource != "" {
		if q.dialect == Postgres {
			add(`strpos(resource, ?) > 0`, f.Resource)
		} else {
			add(`instr(resource, ?) > 0`, f.Resource)
		}
	}
	if f.ErrorsOnly {
		where = append(where, `error_code <> ''`)
	}
	if f.ReadOnly != nil {
		// A bool: BOOLEAN on PostgreSQL, 0/1 on SQLite (its driver binds and
		// scans Go bools as such).
		add(`read_only = ?`, *f.ReadOnly)
	}
	if f.Before != "" {
		t, id, err := DecodePageToken(f.Before)
		if err != nil {
			return nil, "", err
		}
		where = append(where, `(event_time < ? OR (event_time = ? AND id < ?))`)
		args = append(args, t, t, id)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	query := `SELECT id, event_time, event_source, event_name, user_name, access_key_id, source_ip, error_code, read_only, resource, event FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY event_time DESC, id DESC LIMIT ` + strconv.Itoa(limit+1)
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.EventSource, &e.EventName, &e.UserName, &e.AccessKeyID, &e.SourceIP, &e.ErrorCode, &e.ReadOnly, &e.Resource, &e.Event); err != nil {
			return nil, "", err
		}
		e.Time = fromMillis(t)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		next = EncodePageToken(millis(last.Time), last.ID)
	}
	return out, next, nil
}

// PruneAuditEvents deletes events older than before.
func (q *Queries) PruneAuditEvents(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM audit_events WHERE event_time < ?`, millis(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
