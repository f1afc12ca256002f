package alertmanager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// State kinds an Alertmanager keeps.
const (
	StateSilences = "silences"
	StateNflog    = "nflog"
)

// StateStore keeps what a workspace's Alertmanager must not lose across a
// restart or, with several nodes, a change of owner: its silences and its
// notification log (which notifications were sent, so none is sent twice).
// The embedded default keeps files (FileState); a cluster keeps them in
// the shared metadata store, where every node reads them.
type StateStore interface {
	// LoadState returns the last saved state of kind (nil when none).
	LoadState(ctx context.Context, ws, kind string) ([]byte, error)
	// SaveState replaces it. epoch is the saving node's lease epoch on the
	// workspace: a store shared by nodes refuses a save with an epoch lower
	// than the last one saved (a former owner that has not stopped yet).
	SaveState(ctx context.Context, ws, kind string, epoch int64, data []byte) error
	// DeleteState forgets a deleted workspace's state.
	DeleteState(ctx context.Context, ws string) error
}

// FileState keeps the state in <dir(ws)>/alertmanager/<kind>, rewritten
// atomically (temporary file, fsync, rename).
type FileState struct {
	Dir func(ws string) string
}

func (f FileState) path(ws, kind string) string {
	return filepath.Join(f.Dir(ws), "alertmanager", kind)
}

// LoadState implements StateStore.
func (f FileState) LoadState(_ context.Context, ws, kind string) ([]byte, error) {
	b, err := os.ReadFile(f.path(ws, kind))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// SaveState implements StateStore; one node has one epoch.
func (f FileState) SaveState(_ context.Context, ws, kind string, _ int64, data []byte) error {
	path := f.path(ws, kind)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create alertmanager state directory: %w", err)
	}
	tmp := path + ".tmp"
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// DeleteState implements StateStore (the workspace directory goes with
// the workspace's storage).
func (f FileState) DeleteState(_ context.Context, ws string) error {
	return os.RemoveAll(filepath.Join(f.Dir(ws), "alertmanager"))
}
