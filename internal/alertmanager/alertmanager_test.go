package alertmanager

import (
	"testing"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/limits"
)

func TestCapRepeatInterval(t *testing.T) {
	cfg, err := config.Load(`route:
  receiver: d
  repeat_interval: 30d
  routes:
  - receiver: d
    repeat_interval: 2h
  - receiver: d
    repeat_interval: 6d
receivers:
- name: d
`)
	if err != nil {
		t.Fatal(err)
	}
	capRepeatInterval(cfg.Route)
	got := []time.Duration{time.Duration(*cfg.Route.RepeatInterval), time.Duration(*cfg.Route.Routes[0].RepeatInterval), time.Duration(*cfg.Route.Routes[1].RepeatInterval)}
	want := []time.Duration{120 * time.Hour, 2 * time.Hour, 120 * time.Hour}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("route %d: repeat_interval %s, want %s", i, got[i], want[i])
		}
	}
}

func TestAlertsLimiter(t *testing.T) {
	def := limits.Defaults()
	def.MaxAlerts = 2
	def.MaxAlertsSizeBytes = 40
	l := newAlertsLimiter("ws", limits.NewOverrides(def), prometheus.NewRegistry())
	mk := func(name, ann string) *alert.Alert {
		return &alert.Alert{Alert: model.Alert{Labels: model.LabelSet{"alertname": model.LabelValue(name)}, Annotations: model.LabelSet{"a": model.LabelValue(ann)}}}
	}
	a, b, c := mk("a", "x"), mk("b", "y"), mk("c", "z") // alertname+a+x... = 9+1+1+1 = 12 bytes each
	for _, al := range []*alert.Alert{a, b} {
		if err := l.PreStore(al, false); err != nil {
			t.Fatal(err)
		}
		l.PostStore(al, false)
	}
	if err := l.PreStore(c, false); err == nil {
		t.Fatal("a third alert was accepted with max_alerts=2")
	}
	// Updating an existing alert is fine while it fits the size quota...
	if err := l.PreStore(mk("a", "xxxxxxxxxx"), true); err != nil {
		t.Fatal(err)
	}
	// ...and refused when it would not: 12 (b) + 9+1+1+25 > 40.
	if err := l.PreStore(mk("a", "xxxxxxxxxxxxxxxxxxxxxxxxx"), true); err == nil {
		t.Fatal("an update over the size quota was accepted")
	}
	l.PostDelete(a)
	if n, size := l.usage(); n != 1 || size != 12 {
		t.Fatalf("after delete: %d alerts, %d bytes", n, size)
	}
	if err := l.PreStore(c, false); err != nil {
		t.Fatalf("room was freed: %v", err)
	}
	l.PostStore(c, false)
	l.PostGC(model.Fingerprints{b.Fingerprint(), c.Fingerprint()})
	if n, size := l.usage(); n != 0 || size != 0 {
		t.Fatalf("after GC: %d alerts, %d bytes", n, size)
	}
}
