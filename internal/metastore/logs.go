package metastore

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// LogEvent is one entry of a workspace's log store (what AMP sends to
// CloudWatch Logs: ruler and Alertmanager warnings and errors).
type LogEvent struct {
	ID          int64
	WorkspaceID string
	LogGroupARN string
	Time        time.Time
	Component   string // ruler, alertmanager
	Level       string // WARN, ERROR, INFO
	Message     string
	Fields      string // JSON object of extra attributes
}

// AppendLogEvents stores events.
func (q *Queries) AppendLogEvents(ctx context.Context, events []LogEvent) error {
	for _, e := range events {
		if e.Fields == "" {
			e.Fields = "{}"
		}
		if _, err := q.exec(ctx, `INSERT INTO log_events (workspace_id, log_group_arn, event_time, component, level, message, fields) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.WorkspaceID, e.LogGroupARN, millis(e.Time), e.Component, e.Level, e.Message, e.Fields); err != nil {
			return err
		}
	}
	return nil
}

// LogFilter narrows QueryLogEvents.
type LogFilter struct {
	WorkspaceID string
	Since       time.Time
	Until       time.Time
	Component   string
	Level       string
	AfterID     int64 // events with a larger id only (for following)
	Limit       int
}

// QueryLogEvents returns a workspace's events, oldest first.
func (q *Queries) QueryLogEvents(ctx context.Context, f LogFilter) ([]LogEvent, error) {
	where := []string{`workspace_id = ?`}
	args := []any{f.WorkspaceID}
	if !f.Since.IsZero() {
		where = append(where, `event_time >= ?`)
		args = append(args, millis(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, `event_time <= ?`)
		args = append(args, millis(f.Until))
	}
	if f.Component != "" {
		where = append(where, `component = ?`)
		args = append(args, f.Component)
	}
	if f.Level != "" {
		where = append(where, `level = ?`)
		args = append(args, strings.ToUpper(f.Level))
	}
	if f.AfterID > 0 {
		where = append(where, `id > ?`)
		args = append(args, f.AfterID)
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := q.query(ctx, `SELECT id, workspace_id, log_group_arn, event_time, component, level, message, fields FROM log_events WHERE `+
		strings.Join(where, ` AND `)+` ORDER BY id LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LogEvent
	for rows.Next() {
		var e LogEvent
		var t int64
		if err := rows.Scan(&e.ID, &e.WorkspaceID, &e.LogGroupARN, &t, &e.Component, &e.Level, &e.Message, &e.Fields); err != nil {
			return nil, err
		}
		e.Time = fromMillis(t)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PruneLogEvents deletes events older than before.
func (q *Queries) PruneLogEvents(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM log_events WHERE event_time < ?`, millis(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
