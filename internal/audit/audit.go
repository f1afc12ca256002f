// Package audit keeps the audit trail: a CloudTrail-like event for every
// control-plane call, every IAM change and every authentication or
// authorization failure, stored in the metadata store and listed by
// `kansoku audit`. Events are written asynchronously in batches; secrets
// never reach them (Redact).
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/kansoku/kansoku/internal/metastore"
)

// Event is one audit record, with CloudTrail's field names.
type Event struct {
	EventVersion       string         `json:"eventVersion"`
	UserIdentity       UserIdentity   `json:"userIdentity"`
	EventTime          string         `json:"eventTime"`
	EventSource        string         `json:"eventSource"`
	EventName          string         `json:"eventName"`
	AWSRegion          string         `json:"awsRegion"`
	SourceIPAddress    string         `json:"sourceIPAddress"`
	UserAgent          string         `json:"userAgent"`
	RequestParameters  map[string]any `json:"requestParameters"`
	ResponseElements   map[string]any `json:"responseElements"`
	ErrorCode          string         `json:"errorCode,omitempty"`
	ErrorMessage       string         `json:"errorMessage,omitempty"`
	RequestID          string         `json:"requestID"`
	EventID            string         `json:"eventID"`
	ReadOnly           bool           `json:"readOnly"`
	Resources          []Resource     `json:"resources,omitempty"`
	EventType          string         `json:"eventType"`
	ManagementEvent    bool           `json:"managementEvent"`
	EventCategory      string         `json:"eventCategory"`
	RecipientAccountID string         `json:"recipientAccountId"`

	time time.Time
}

// UserIdentity is who made the call.
type UserIdentity struct {
	Type        string `json:"type"` // IAMUser, or Unknown when authentication failed
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	// AuthMethod says how the caller authenticated: sigv4, token, session.
	AuthMethod string `json:"authMethod,omitempty"`
	// SessionContext describes temporary credentials (role sessions).
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext is CloudTrail's account of temporary credentials: the
// role (or user) that issued them and when.
type SessionContext struct {
	SessionIssuer SessionIssuer     `json:"sessionIssuer"`
	Attributes    map[string]string `json:"attributes"`
	// WebIDFederationData names the identity provider of a web identity.
	WebIDFederationData map[string]string `json:"webIdFederationData,omitempty"`
}

// SessionIssuer is the role or user that issued a session.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// Resource is an ARN the call was about.
type Resource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type,omitempty"`
}

// New starts an event for action ("aps:CreateWorkspace") at time t.
func New(action string, t time.Time) Event {
	service, name, _ := strings.Cut(action, ":")
	source := service + ".amazonaws.com"
	if service == "kansoku" {
		source = "kansoku"
	}
	return Event{
		EventVersion: "1.08", EventTime: t.UTC().Format(time.RFC3339), EventSource: source, EventName: name,
		EventID: uuid.NewString(), ReadOnly: isReadOnly(name), EventType: "AwsApiCall", ManagementEvent: true,
		EventCategory: "Management", time: t.UTC(),
	}
}

func isReadOnly(name string) bool {
	for _, p := range []string{"Describe", "List", "Get", "Lookup", "Query", "Simulate", "Filter"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Recorder writes events in the background.
type Recorder struct {
	store  Store
	logger *slog.Logger
	// events holds pointers: 8,192 queued values of ~420 bytes would be
	// 3.4 MB of heap held from start, most of the idle heap.
	events chan *Event

	dropped  prometheus.Counter
	recorded *prometheus.CounterVec

	mu           sync.Mutex
	failureSlot  time.Time
	failureCount int
}

// Store persists events.
type Store interface {
	InsertAuditEvents(ctx context.Context, events []metastore.AuditEvent) error
	QueryAuditEvents(ctx context.Context, f metastore.AuditFilter) ([]metastore.AuditEvent, string, error)
	PruneAuditEvents(ctx context.Context, before time.Time) (int64, error)
}

// maxFailuresPerSecond bounds the failure events an unauthenticated flood
// can add to the trail; the rest are only counted.
const maxFailuresPerSecond = 100

// NewRecorder returns a recorder; Run must be running.
func NewRecorder(store Store, reg prometheus.Registerer, logger *slog.Logger) *Recorder {
	f := promauto.With(reg)
	return &Recorder{
		store: store, logger: logger, events: make(chan *Event, 8192),
		dropped: f.NewCounter(prometheus.CounterOpts{Name: "kansoku_audit_events_dropped_total",
			Help: "Audit events not recorded: the writer fell behind, or authentication failures beyond the per-second budget."}),
		recorded: f.NewCounterVec(prometheus.CounterOpts{Name: "kansoku_audit_events_total",
			Help: "Audit events recorded, by event source and whether they record an error."}, []string{"source", "error"}),
	}
}

// Record queues an event (never blocks). Failure events (errorCode set, no
// authenticated identity) are rate limited.
func (r *Recorder) Record(e Event) {
	if e.ErrorCode != "" && e.UserIdentity.Type == "Unknown" && !r.allowFailure(e.time) {
		r.dropped.Inc()
		return
	}
	select {
	case r.events <- &e:
	default:
		r.dropped.Inc()
	}
}

func (r *Recorder) allowFailure(t time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	slot := t.Truncate(time.Second)
	if !slot.Equal(r.failureSlot) {
		r.failureSlot, r.failureCount = slot, 0
	}
	r.failureCount++
	return r.failureCount <= maxFailuresPerSecond
}

func (r *Recorder) toRow(e Event) metastore.AuditEvent {
	b, _ := json.Marshal(e)
	resource := ""
	if len(e.Resources) > 0 {
		resource = e.Resources[0].ARN
	}
	return metastore.AuditEvent{ID: e.EventID, Time: e.time, EventSource: e.EventSource, EventName: e.EventName,
		UserName: e.UserIdentity.UserName, AccessKeyID: e.UserIdentity.AccessKeyID, SourceIP: e.SourceIPAddress,
		ErrorCode: e.ErrorCode, ReadOnly: e.ReadOnly, Resource: resource, Event: string(b)}
}

// Flush writes every queued event now.
func (r *Recorder) Flush(ctx context.Context) error {
	var batch []metastore.AuditEvent
	for len(batch) < 1000 {
		select {
		case e := <-r.events:
			batch = append(batch, r.toRow(*e))
			r.recorded.WithLabelValues(e.EventSource, boolString(e.ErrorCode != "")).Inc()
			continue
		default:
		}
		break
	}
	if len(batch) == 0 {
		return nil
	}
	if err := r.store.InsertAuditEvents(ctx, batch); err != nil {
		return err
	}
	if len(batch) == 1000 {
		return r.Flush(ctx)
	}
	return nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Run writes events every 100 ms and prunes those older than retention.
func (r *Recorder) Run(ctx context.Context, retention time.Duration) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return r.Flush(context.Background())
		case <-t.C:
			if err := r.Flush(ctx); err != nil {
				r.logger.Error("write audit events", "err", err)
			}
		case <-prune.C:
			if _, err := r.store.PruneAuditEvents(ctx, time.Now().Add(-retention)); err != nil {
				r.logger.Error("prune audit events", "err", err)
			}
		}
	}
}

// Lookup lists stored events, newest first.
func (r *Recorder) Lookup(ctx context.Context, f metastore.AuditFilter) ([]json.RawMessage, string, error) {
	rows, next, err := r.store.QueryAuditEvents(ctx, f)
	if err != nil {
		return nil, "", err
	}
	out := make([]json.RawMessage, 0, len(rows))
	for _, row := range rows {
		out = append(out, json.RawMessage(row.Event))
	}
	return out, next, nil
}

// Hidden replaces secret values, as CloudTrail does.
const Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"

// secretKeys are member names whose values are never recorded.
var secretKeys = map[string]bool{
	"secretaccesskey": true, "secret_access_key": true, "secretkey": true, "secret_key": true, "password": true,
	"token": true, "sessiontoken": true, "session_token": true, "authorization": true, "credentials": true,
	"webidentitytoken": true, "samlassertion": true, "x-amz-security-token": true,
}

// blobKeys are members holding whole files (rule files, Alertmanager
// definitions, which may embed receiver credentials; scrape configurations):
// only their size is kept.
var blobKeys = map[string]bool{"data": true, "configurationblob": true, "configuration": true}

// maxString caps any other recorded string.
const maxString = 8 << 10

// Redact returns v with secret members replaced and file blobs summarised.
func Redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			lk := strings.ToLower(k)
			switch {
			case secretKeys[lk]:
				out[k] = Hidden
			case blobKeys[lk]:
				if s, ok := val.(string); ok {
					out[k] = map[string]any{"sizeBytes": len(s), "omitted": true}
				} else {
					out[k] = Redact(val)
				}
			default:
				out[k] = Redact(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = Redact(x[i])
		}
		return out
	case string:
		if len(x) > maxString {
			return x[:maxString] + "...(truncated)"
		}
	}
	return v
}
