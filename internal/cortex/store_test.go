package cortex_test

import (
	"sync"
	"testing"

	"github.com/kansoku/kansoku/internal/cortex"
	"github.com/kansoku/kansoku/internal/samplestore"
	"github.com/kansoku/kansoku/internal/samplestore/storetest"
	"github.com/kansoku/kansoku/internal/testenv/cortextest"
)

// TestContract runs the sample-store contract against a real Cortex.
func TestContract(t *testing.T) {
	c := cortextest.Start(t, cortextest.Options{Nodes: 1})
	var once sync.Once
	var store *cortex.Store
	storetest.Run(t, func(t *testing.T) samplestore.Store {
		once.Do(func() {
			var err error
			if store, err = cortex.New(cortex.Options{Config: c.Config()}); err != nil {
				t.Fatal(err)
			}
		})
		return store
	})
}
