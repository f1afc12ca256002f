#!/usr/bin/env bash
# Side-by-side benchmark on this machine: the same load (kansoku bench
# remote-write) against Kansoku (SigV4, embedded TSDB), upstream Prometheus
# 3.15's remote-write receiver and VictoriaMetrics (Debian), one target at
# a time; then, on the data each one just took, the same nine Grafana-like
# queries (kansoku bench query, p50 of RUNS runs, with and without
# stats=all for Kansoku and Prometheus).
#
#   ./scripts/bench-remote-write.sh [series] [rounds]
#
# Every target receives the same data: `rounds` samples for each of
# `series` series (one "scrape" per round), so throughput (samples/s over
# the whole run) and memory per active series compare like for like.
set -euo pipefail
cd "$(dirname "$0")/.."
SERIES=${1:-100000}
ROUNDS=${2:-60}
CONCURRENCY=${CONCURRENCY:-4}
RUNS=${RUNS:-10}
# The generator writes its first sample 30 minutes before it starts, one
# second apart: queries are evaluated at the end of that data.
AT=$(( $(date +%s) - 1800 + ROUNDS ))
queries() { # queries LABEL BASE ARGS...
  local label=$1 base=$2
  shift 2
  "$KB" bench query --url "$base" --runs "$RUNS" --at "$AT" --label "$label" --json-out "$work/q-$label.json" "$@" >&2
}
./scripts/build-peers.sh
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/kansoku" ./cmd/kansoku
KB="$work/kansoku"

wait_ready() { for _ in $(seq 1 200); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "not ready: $1" >&2; return 1; }

echo "== Kansoku (SigV4, workspace TSDB)" >&2
"$KB" server --data.dir "$work/kansoku-data" --web.listen-address 127.0.0.1:19401 --log.level warn >/dev/null 2>"$work/kansoku.log" &
KPID=$!
wait_ready http://127.0.0.1:19401/-/ready
set -a; . "$work/kansoku-data/admin-credentials"; set +a
WS=$(/usr/bin/aws amp create-workspace --alias bench --endpoint-url http://127.0.0.1:19401 --query workspaceId --output text)
/usr/bin/aws amp wait workspace-active --workspace-id "$WS" --endpoint-url http://127.0.0.1:19401
# Throughput, not AMP's default rate (170,000 samples/s), is measured: the
# workspace's rate is raised as an operator would for a big tenant.
"$KB" limits set "$WS" ingestion_rate=100000000 ingestion_burst_size=100000000 --url http://127.0.0.1:19401 >/dev/null
"$KB" bench remote-write --url "http://127.0.0.1:19401/workspaces/$WS/api/v1/remote_write" --auth sigv4 --data.dir "$work/kansoku-data" \
  --series "$SERIES" --rounds "$ROUNDS" --concurrency "$CONCURRENCY" --target-pid $KPID --target-dir "$work/kansoku-data/workspaces" \
  --label kansoku --json-out "$work/kansoku.json" >&2
queries kansoku "http://127.0.0.1:19401/workspaces/$WS" --auth sigv4 --data.dir "$work/kansoku-data"
queries kansoku-stats "http://127.0.0.1:19401/workspaces/$WS" --auth sigv4 --data.dir "$work/kansoku-data" --stats
kill $KPID; wait $KPID 2>/dev/null || true

echo "== Prometheus 3.15 --web.enable-remote-write-receiver" >&2
printf 'global: {}\n' > "$work/prometheus.yml"
.cache/peers/prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom-data" --web.listen-address=127.0.0.1:19402 \
  --web.enable-remote-write-receiver --log.level=warn >"$work/prom.log" 2>&1 &
PPID_=$!
wait_ready http://127.0.0.1:19402/-/ready
"$KB" bench remote-write --url http://127.0.0.1:19402/api/v1/write --series "$SERIES" --rounds "$ROUNDS" --concurrency "$CONCURRENCY" \
  --target-pid $PPID_ --target-dir "$work/prom-data" --label prometheus-3.15 --json-out "$work/prom.json" >&2
queries prometheus-3.15 http://127.0.0.1:19402
queries prometheus-3.15-stats http://127.0.0.1:19402 --stats
kill $PPID_; wait $PPID_ 2>/dev/null || true

results=("$work/kansoku.json" "$work/prom.json")
if command -v victoria-metrics >/dev/null; then
  echo "== VictoriaMetrics (Debian)" >&2
  victoria-metrics -storageDataPath="$work/vm-data" -httpListenAddr=127.0.0.1:19403 -loggerLevel=ERROR >"$work/vm.log" 2>&1 &
  VPID=$!
  wait_ready http://127.0.0.1:19403/health
  "$KB" bench remote-write --url http://127.0.0.1:19403/api/v1/write --series "$SERIES" --rounds "$ROUNDS" --concurrency "$CONCURRENCY" \
    --target-pid $VPID --target-dir "$work/vm-data" --label victoria-metrics-1.79 --json-out "$work/vm.json" >&2
  # VictoriaMetrics makes fresh samples searchable after a short delay.
  sleep 3
  queries victoria-metrics-1.79 http://127.0.0.1:19403
  kill $VPID; wait $VPID 2>/dev/null || true
  results+=("$work/vm.json")
fi

echo
echo "remote_write, $SERIES active series x $ROUNDS samples each, $CONCURRENCY senders, $(nproc) cores ($(date -u +%Y-%m-%d)):"
"$KB" bench report "${results[@]}"
echo
echo "queries, p50 of $RUNS runs (ratio to Prometheus 3.15; below 1 is faster):"
qs=("$work/q-prometheus-3.15.json" "$work/q-kansoku.json")
[ -f "$work/q-victoria-metrics-1.79.json" ] && qs+=("$work/q-victoria-metrics-1.79.json")
"$KB" bench query-report "${qs[@]}"
echo
echo "queries with stats=all (ratio to Prometheus 3.15):"
"$KB" bench query-report "$work/q-prometheus-3.15-stats.json" "$work/q-kansoku-stats.json"
