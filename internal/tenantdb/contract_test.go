package tenantdb_test

import (
	"testing"

	"github.com/kansoku/kansoku/internal/samplestore"
	"github.com/kansoku/kansoku/internal/samplestore/storetest"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

// TestContract runs the sample-store contract against the embedded TSDBs.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) samplestore.Store {
		m := tenantdb.New(tenantdb.Options{Dir: t.TempDir()})
		t.Cleanup(func() { _ = m.CloseAll() })
		return m
	})
}
