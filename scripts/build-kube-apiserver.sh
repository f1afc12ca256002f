#!/usr/bin/env bash
# Builds kube-apiserver of Kubernetes v1.37.2 and the etcd it stores in
# (go.etcd.io/etcd/server/v3 at the version Kubernetes requires), both
# pinned in tools/kubeapiserver/go.mod, from the Go module proxy into
# .cache/kubeapiserver/: the real API server of an EKS cluster that the
# managed scrapers' kubernetes_sd_configs tests discover through
# (internal/testenv/kubetest). About 8 CPU-minutes the first time (measured
# with an empty build cache); rebuilds only when the pin changes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/kubeapiserver
mkdir -p "$out"
stamp="$out/.stamp"
want=$(cat tools/kubeapiserver/go.mod tools/kubeapiserver/go.sum tools/kubeapiserver/main.go tools/kubeapiserver/etcd/main.go scripts/build-kube-apiserver.sh | sha256sum | cut -d' ' -f1)
if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "building kube-apiserver v1.37.2 and etcd (tools/kubeapiserver) ..." >&2
start=$(date +%s)
# -s -w: no symbol tables (the binaries serve tests, not debuggers).
(cd tools/kubeapiserver && go build -trimpath -ldflags "-s -w" -o "../../$out/kube-apiserver" . &&
  go build -trimpath -ldflags "-s -w" -o "../../$out/etcd" ./etcd)
echo "built kube-apiserver and etcd in $(( $(date +%s) - start ))s" >&2
echo "$want" > "$stamp"
