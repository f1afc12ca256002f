package wslog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// Sink is where a Handler forwards records (Service.Log).
type Sink interface {
	Log(ctx context.Context, ws, component, level, msg string, fields map[string]string)
}

// NewHandler returns a slog.Handler for the components that run per
// workspace (ruler, Alertmanager): every record goes to next (the server's
// own log), and records at WARN and above also go to the workspace's
// logging destination, as AMP sends ruler and Alertmanager warnings and
// errors to the workspace's CloudWatch log group.
func NewHandler(sink Sink, ws, component string, next slog.Handler) slog.Handler {
	return &handler{sink: sink, ws: ws, component: component, next: next}
}

// Logger returns the logger of a per-workspace component: base with the
// workspace attribute, whose warnings and errors also go to sink (nil: base
// only).
func Logger(base *slog.Logger, sink Sink, ws, component string) *slog.Logger {
	h := base.Handler().WithAttrs([]slog.Attr{slog.String("workspace", ws)})
	if sink != nil {
		h = NewHandler(sink, ws, component, h)
	}
	return slog.New(h)
}

type handler struct {
	sink          Sink
	ws, component string
	next          slog.Handler
	attrs         []slog.Attr
	group         string
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if h.next.Enabled(ctx, r.Level) {
		err = h.next.Handle(ctx, r)
	}
	if r.Level < slog.LevelWarn {
		return err
	}
	fields := map[string]string{}
	for _, a := range h.attrs {
		addField(fields, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		addField(fields, h.group, a)
		return true
	})
	level := "WARN"
	if r.Level >= slog.LevelError {
		level = "ERROR"
	}
	if h.component == "ruler" {
		ampShape(fields)
	}
	h.sink.Log(ctx, h.ws, h.component, level, r.Message, fields)
	return err
}

func addField(fields map[string]string, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	key := a.Key
	if group != "" {
		key = group + "." + key
	}
	if a.Value.Kind() == slog.KindGroup {
		for _, g := range a.Value.Group() {
			addField(fields, key, g)
		}
		return
	}
	if key == "" || key == "workspace" || key == "component" {
		return
	}
	v := a.Value.String()
	if e, ok := a.Value.Any().(error); ok {
		v = e.Error()
	} else if s, ok := a.Value.Any().(fmt.Stringer); ok && a.Value.Kind() == slog.KindAny {
		v = s.String()
	}
	fields[key] = strings.TrimSpace(v)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]slog.Attr{}, h.attrs...)
	for _, a := range attrs {
		if h.group != "" {
			a = slog.Group(h.group, a) //nolint:sloglint // a handler nests the record's attributes in its group
		}
		c.attrs = append(c.attrs, a)
	}
	c.next = h.next.WithAttrs(attrs)
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	c.next = h.next.WithGroup(name)
	return &c
}

// ampShape names a ruler record's fields as AMP's ruler logs do (seed 001,
// 3136-3153: level, name, group, namespace): Prometheus' rule manager
// calls the namespace "file" (Kansoku hands it each namespace as a file
// named after it), and the rule "name".
func ampShape(fields map[string]string) {
	if f, ok := fields["file"]; ok {
		if _, taken := fields["namespace"]; !taken {
			fields["namespace"] = f
		}
		delete(fields, "file")
	}
	delete(fields, "index") // the rule's position in its group: not in AMP's records
}
