#!/usr/bin/env bash
# Lint and tidiness, as the test command runs them: golangci-lint (its
# configuration is .golangci.yml) built from the Go module proxy into
# .cache/tools, and go.mod/go.sum exactly as `go mod tidy` leaves them.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v2.15.0
tools=.cache/tools
lint="$tools/golangci-lint"
if [ ! -x "$lint" ] || [ "$(cat "$tools/.golangci-lint-version" 2>/dev/null)" != "$version" ]; then
  echo "building golangci-lint $version into $tools ..." >&2
  mkdir -p "$tools"
  GOBIN="$PWD/$tools" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version"
  echo "$version" > "$tools/.golangci-lint-version"
fi
if ! go mod tidy -diff; then
  echo "go.mod or go.sum is not tidy: run go mod tidy" >&2
  exit 1
fi
"$lint" run ./...
