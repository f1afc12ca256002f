package amconfig

import (
	"context"
	"fmt"

	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/secrets"
)

// Sealer encrypts what the store keeps (secrets.Box): values marked as
// sealed, so that rows written before sealing existed still open.
type Sealer interface {
	SealMarked(plain, associated []byte) ([]byte, error)
	OpenMarked(data, associated []byte) ([]byte, error)
}

// SealedStore keeps definitions sealed at rest: an Alertmanager definition
// holds receiver credentials (webhook bearer tokens, Slack URLs, SNS keys),
// which must not sit in the metadata store's files in clear. The sealed
// value is bound to its workspace, so it does not open on another row.
// Describe still returns the definition to a caller allowed to read it,
// as AMP does.
type SealedStore struct {
	Store
	Box Sealer
}

func (s SealedStore) seal(ws string, data []byte) ([]byte, error) {
	out, err := s.Box.SealMarked(data, []byte("alertmanager-definition/"+ws))
	if err != nil {
		return nil, fmt.Errorf("seal the alertmanager definition of %s: %w", ws, err)
	}
	return out, nil
}

func (s SealedStore) open(ws string, data []byte) ([]byte, error) {
	out, err := s.Box.OpenMarked(data, []byte("alertmanager-definition/"+ws))
	if err != nil {
		return nil, fmt.Errorf("open the sealed alertmanager definition of %s: %w", ws, err)
	}
	return out, nil
}

func (s SealedStore) sealDef(d metastore.AlertmanagerDefinition) (metastore.AlertmanagerDefinition, error) {
	var err error
	if d.Data, err = s.seal(d.WorkspaceID, d.Data); err != nil {
		return d, err
	}
	d.ActiveData, err = s.seal(d.WorkspaceID, d.ActiveData)
	return d, err
}

func (s SealedStore) openDef(d metastore.AlertmanagerDefinition) (metastore.AlertmanagerDefinition, error) {
	var err error
	if d.Data, err = s.open(d.WorkspaceID, d.Data); err != nil {
		return d, err
	}
	d.ActiveData, err = s.open(d.WorkspaceID, d.ActiveData)
	return d, err
}

// GetAlertmanagerDefinition implements Store.
func (s SealedStore) GetAlertmanagerDefinition(ctx context.Context, ws string) (metastore.AlertmanagerDefinition, error) {
	d, err := s.Store.GetAlertmanagerDefinition(ctx, ws)
	if err != nil {
		return d, err
	}
	return s.openDef(d)
}

// CreateAlertmanagerDefinition implements Store.
func (s SealedStore) CreateAlertmanagerDefinition(ctx context.Context, d metastore.AlertmanagerDefinition) error {
	sealed, err := s.sealDef(d)
	if err != nil {
		return err
	}
	return s.Store.CreateAlertmanagerDefinition(ctx, sealed)
}

// UpdateAlertmanagerDefinition implements Store.
func (s SealedStore) UpdateAlertmanagerDefinition(ctx context.Context, d metastore.AlertmanagerDefinition, expectVersion int) error {
	sealed, err := s.sealDef(d)
	if err != nil {
		return err
	}
	return s.Store.UpdateAlertmanagerDefinition(ctx, sealed, expectVersion)
}

// ListAlertmanagerDefinitionsByStatus implements Store.
func (s SealedStore) ListAlertmanagerDefinitionsByStatus(ctx context.Context, statuses ...string) ([]metastore.AlertmanagerDefinition, error) {
	list, err := s.Store.ListAlertmanagerDefinitionsByStatus(ctx, statuses...)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i], err = s.openDef(list[i]); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// SealAll rewrites the definitions stored before sealing existed, sealed.
func (s SealedStore) SealAll(ctx context.Context) (int, error) {
	raw, err := s.Store.ListAlertmanagerDefinitionsByStatus(ctx, metastore.StatusCreating, metastore.StatusActive, metastore.StatusUpdating,
		metastore.StatusCreationFailed, metastore.StatusUpdateFailed)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range raw {
		if secrets.IsMarked(d.Data) && (d.ActiveData == nil || secrets.IsMarked(d.ActiveData)) {
			continue
		}
		plain, err := s.openDef(d)
		if err != nil {
			return n, err
		}
		plain.Version = d.Version + 1
		if err := s.UpdateAlertmanagerDefinition(ctx, plain, d.Version); err != nil {
			return n, fmt.Errorf("seal the alertmanager definition of %s: %w", d.WorkspaceID, err)
		}
		n++
	}
	return n, nil
}
