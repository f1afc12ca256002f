package amconfig

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"

	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/secrets"
)

// memDefs is a Store keeping what it is given, to look at the bytes at rest.
type memDefs map[string]metastore.AlertmanagerDefinition

func (m memDefs) GetAlertmanagerDefinition(_ context.Context, ws string) (metastore.AlertmanagerDefinition, error) {
	d, ok := m[ws]
	if !ok {
		return d, metastore.ErrNotFound
	}
	return d, nil
}
func (m memDefs) CreateAlertmanagerDefinition(_ context.Context, d metastore.AlertmanagerDefinition) error {
	m[d.WorkspaceID] = d
	return nil
}
func (m memDefs) UpdateAlertmanagerDefinition(_ context.Context, d metastore.AlertmanagerDefinition, v int) error {
	if m[d.WorkspaceID].Version != v {
		return metastore.ErrConflict
	}
	m[d.WorkspaceID] = d
	return nil
}
func (m memDefs) DeleteAlertmanagerDefinition(_ context.Context, ws string) error {
	delete(m, ws)
	return nil
}
func (m memDefs) ListAlertmanagerDefinitionsByStatus(_ context.Context, _ ...string) ([]metastore.AlertmanagerDefinition, error) {
	var out []metastore.AlertmanagerDefinition
	for _, d := range m {
		out = append(out, d)
	}
	return out, nil
}

func testBox(t *testing.T) *secrets.Box {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	b, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDefinitionsAreSealedAtRest(t *testing.T) {
	ctx := context.Background()
	raw := memDefs{}
	s := SealedStore{Store: raw, Box: testBox(t)}
	def := []byte("alertmanager_config: |\n  receivers: [{name: r, webhook_configs: [{url: 'https://h.example/', http_config: {bearer_token: WebhookBearerSecret888}}]}]\n")
	if err := s.CreateAlertmanagerDefinition(ctx, metastore.AlertmanagerDefinition{WorkspaceID: "ws-a", Data: def, ActiveData: def, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw["ws-a"].Data, []byte("WebhookBearerSecret888")) || bytes.Contains(raw["ws-a"].ActiveData, []byte("WebhookBearerSecret888")) {
		t.Fatal("the receiver's secret is stored in clear")
	}
	got, err := s.GetAlertmanagerDefinition(ctx, "ws-a")
	if err != nil || !bytes.Equal(got.Data, def) || !bytes.Equal(got.ActiveData, def) {
		t.Fatalf("read back: %q %v", got.Data, err)
	}
	// A sealed value copied onto another workspace's row does not open.
	moved := raw["ws-a"]
	moved.WorkspaceID = "ws-b"
	raw["ws-b"] = moved
	if _, err := s.GetAlertmanagerDefinition(ctx, "ws-b"); err == nil {
		t.Fatal("a definition sealed for ws-a opened as ws-b's")
	}
	// Rows written in clear by an earlier version are read, then sealed.
	raw["ws-old"] = metastore.AlertmanagerDefinition{WorkspaceID: "ws-old", Data: def, Version: 3}
	delete(raw, "ws-b")
	if n, err := s.SealAll(ctx); err != nil || n != 1 {
		t.Fatalf("SealAll: %d %v", n, err)
	}
	if bytes.Contains(raw["ws-old"].Data, []byte("WebhookBearerSecret888")) || raw["ws-old"].Version != 4 {
		t.Fatalf("old row after SealAll: version %d, %q", raw["ws-old"].Version, raw["ws-old"].Data)
	}
	if got, err := s.GetAlertmanagerDefinition(ctx, "ws-old"); err != nil || !bytes.Equal(got.Data, def) || got.ActiveData != nil {
		t.Fatalf("old row read back: %q %v", got.Data, err)
	}
}
