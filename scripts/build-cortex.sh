#!/usr/bin/env bash
# Builds Cortex v1.21.1 (pinned in tools/cortex/go.mod) into .cache/cortex/
# from the Go module proxy: the sample store of Kansoku's scale-out mode,
# run by the cluster tests, the benchmarks and scripts/cluster-up.sh.
# About 10 minutes on 2 cores the first time; rebuilds only when the pin
# changes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/cortex
mkdir -p "$out"
stamp="$out/.stamp"
want=$(cat tools/cortex/go.mod tools/cortex/go.sum scripts/build-cortex.sh | sha256sum | cut -d' ' -f1)
if [ -x "$out/cortex" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "building cortex v1.21.1 (tools/cortex) ..." >&2

# Cortex's own build flags (its Makefile): the slicelabels tag is required,
# Cortex casts its wire labels to Prometheus' slice representation.
(cd tools/cortex && go build -tags "netgo slicelabels" -ldflags "-X main.Version=1.21.1 -X main.Branch=kansoku-peers" \
  -o "../../$out/cortex" github.com/cortexproject/cortex/cmd/cortex)
echo "$want" > "$stamp"
