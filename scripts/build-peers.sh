#!/usr/bin/env bash
# Builds the upstream Prometheus 3.15.0 `prometheus` and `promtool` (pinned in
# tools/peers/go.mod) into .cache/peers/, from the Go module proxy. Service
# discovery plugins are left out (-tags remove_all_sd): tests only use
# static targets. Rebuilds only when the pin changes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/peers
mkdir -p "$out"
stamp="$out/.stamp"
want=$(sha256sum tools/peers/go.sum | cut -d' ' -f1)
if [ -x "$out/prometheus" ] && [ -x "$out/promtool" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "building upstream prometheus and promtool (tools/peers) ..." >&2
ldflags="-X github.com/prometheus/common/version.Version=3.15.0 -X github.com/prometheus/common/version.Branch=kansoku-peers"
(cd tools/peers && go build -tags remove_all_sd -ldflags "$ldflags" -o "../../$out/prometheus" github.com/prometheus/prometheus/cmd/prometheus)
(cd tools/peers && go build -tags remove_all_sd -ldflags "$ldflags" -o "../../$out/promtool" github.com/prometheus/prometheus/cmd/promtool)
echo "$want" > "$stamp"
