//go:build tools

// Package cortex pins the Cortex release (v1.21.1, Apache-2.0, the engine
// Amazon Managed Service for Prometheus grew from) that Kansoku's scale-out
// mode stores samples in. scripts/build-cortex.sh builds its single binary
// (cmd/cortex) from the Go module proxy into .cache/cortex for the tests,
// the benchmarks and scripts/cluster-up.sh; nothing of it is vendored.
//
// The replace lines are Cortex's own (its go.mod at v1.21.1): a module that
// requires Cortex must repeat them, as Go applies only the main module's.
package cortex

import (
	_ "github.com/cortexproject/cortex/cmd/cortex"
)
