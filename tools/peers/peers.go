//go:build tools

// Package peers pins the upstream Prometheus release (module v0.315.0 =
// Prometheus 3.15.0, the same TSDB and PromQL engine Kansoku embeds) whose
// prometheus and promtool binaries the end-to-end tests and benchmarks run
// as real peers. scripts/build-peers.sh builds them from the Go module proxy.
//
// Debian bookworm's prometheus 2.42 package parses a remote_write `sigv4`
// block but sends requests unsigned, and its promtool has no
// --http.config.file; both are needed to test Kansoku as AMP users use it.
package peers

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
