package wslog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/metastore"
)

type event struct {
	ws, component, level, msg string
	fields                    map[string]string
}

type sink struct{ events []event }

func (s *sink) Log(_ context.Context, ws, component, level, msg string, fields map[string]string) {
	s.events = append(s.events, event{ws, component, level, msg, fields})
}

func TestHandler(t *testing.T) {
	var server bytes.Buffer
	sk := &sink{}
	log := slog.New(NewHandler(sk, "ws-1", "ruler", slog.NewTextHandler(&server, &slog.HandlerOptions{Level: slog.LevelError})))
	log = log.With("group", "g1", "workspace", "ws-1")
	log.Info("evaluated")
	log.WithGroup("rule").Warn("Evaluating rule failed", "name", "r", "err", errors.New("many-to-many matching"))
	log.Error("broken", "n", 3)

	if len(sk.events) != 2 {
		t.Fatalf("events: %+v", sk.events)
	}
	w := sk.events[0]
	if w.ws != "ws-1" || w.component != "ruler" || w.level != "WARN" || w.msg != "Evaluating rule failed" {
		t.Errorf("warn event: %+v", w)
	}
	if w.fields["group"] != "g1" || w.fields["rule.name"] != "r" || w.fields["rule.err"] != "many-to-many matching" || w.fields["workspace"] != "" {
		t.Errorf("warn fields: %v", w.fields)
	}
	if e := sk.events[1]; e.level != "ERROR" || e.fields["n"] != "3" {
		t.Errorf("error event: %+v", e)
	}
	// The server's own log keeps its level.
	if strings.Contains(server.String(), "Evaluating rule failed") || !strings.Contains(server.String(), "broken") {
		t.Errorf("server log: %s", server.String())
	}
}

// A ruler record as Prometheus' rule manager logs it, in AMP's shape:
// name, group, namespace (the manager's "file"), level, and the message
// as "log" (seed 001, 3136-3153).
func TestRulerRecordsInAMPShape(t *testing.T) {
	sk := &sink{}
	log := slog.New(NewHandler(sk, "ws-1", "ruler", slog.DiscardHandler))
	log.With("file", "canary_long_running_v1_namespace", "group", "canary_long_running_v1_namespace").
		With("name", "failure", "index", 0).Error("Evaluating rule failed", "err", errors.New("boom"))
	if len(sk.events) != 1 {
		t.Fatalf("events: %+v", sk.events)
	}
	f := sk.events[0].fields
	if f["name"] != "failure" || f["group"] != "canary_long_running_v1_namespace" || f["namespace"] != "canary_long_running_v1_namespace" ||
		f["file"] != "" || f["index"] != "" {
		t.Fatalf("fields: %v", f)
	}
	rec := Record(metastore.LogEvent{WorkspaceID: "ws-1", Component: "ruler", Level: sk.events[0].level, Message: sk.events[0].msg, Fields: mustJSON(t, f)})
	msg := rec["message"].(map[string]any)
	if rec["component"] != "ruler" || msg["level"] != "ERROR" || msg["name"] != "failure" || msg["namespace"] != "canary_long_running_v1_namespace" ||
		msg["log"] != "Evaluating rule failed" {
		t.Fatalf("record: %v", rec)
	}
	// The Alertmanager's records keep their fields.
	am := &sink{}
	slog.New(NewHandler(am, "ws-1", "alertmanager", slog.DiscardHandler)).Warn("Message has been truncated", "file", "x")
	if am.events[0].fields["file"] != "x" {
		t.Fatalf("alertmanager fields: %v", am.events[0].fields)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
