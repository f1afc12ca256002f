package wslog

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
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
