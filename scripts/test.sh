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
# The three slowest packages first (the go command starts test binaries in
# the order packages are named): test/e2e alone runs ~8 minutes, mostly
# waiting on intervals, and started last it was the suite's tail.
go test -race -count=1 -timeout 45m "$@" ./test/e2e ./internal/app ./test/cluster ./...
./scripts/fuzz.sh
