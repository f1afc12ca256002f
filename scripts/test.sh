#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this):
# installs the real peers (Debian packages, upstream Prometheus 3.15,
# Cortex 1.21.1 and kube-apiserver 1.37.2 with etcd built from the Go module
# proxy), checks formatting, vet, golangci-lint and go mod
# tidy, then runs every test with the race detector, end-to-end and attack
# suites included, and every fuzz target briefly.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-test-deps.sh
./scripts/build-peers.sh
./scripts/build-cortex.sh
./scripts/build-kube-apiserver.sh

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" $unformatted >&2
  exit 1
fi
go vet ./...
./scripts/lint.sh
go test -race -count=1 -timeout 45m "$@" ./...
./scripts/fuzz.sh
