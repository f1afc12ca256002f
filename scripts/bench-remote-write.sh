#!/usr/bin/env bash
# Side-by-side benchmark on this machine: the same load (kansoku bench
# remote-write) into Kansoku (SigV4, embedded TSDB), upstream Prometheus
# 3.15's remote-write receiver and VictoriaMetrics (Debian); then, on the
# data each one took, the same nine Grafana-like queries (kansoku bench
# query --compare: the three servers queried alternately, p50 of RUNS runs,
# and once more with stats=all for Kansoku and Prometheus, with each
# server's CPU time per query beside the latencies).
#
#   ./scripts/bench-remote-write.sh [series] [rounds]
#
# Every target receives the same data: `rounds` samples for each of
# `series` series, STEP apart, from the same first timestamp (--base), so
# throughput, samples per server CPU-second and memory per active series
# compare like for like and one query time fits all three. REPEAT=n runs
# the whole comparison n times, alternating the order of the targets
# (Kansoku, Prometheus, VictoriaMetrics; then the reverse ...), so that
# load from elsewhere on the machine falls on every target alike.
# PROFILE=dir writes a CPU profile of each Kansoku ingest run there.
# QUERIES=0 measures ingest and memory only (the 1M-series run).
# Kansoku's engine is compared with Cache-Control: no-store (its results
# cache bypassed); then once more with the cache, as a dashboard's
# refreshes would meet it (VictoriaMetrics keeps its own rollup cache on).
# HEAP=dir writes a heap profile of Kansoku after each ingest there.
# KANSOKU_GOGC=n runs Kansoku alone with GOGC=n (what the Go runtime's
# headroom over the live heap costs in memory and CPU); needs QUERIES=0.
set -euo pipefail
cd "$(dirname "$0")/.."
SERIES=${1:-100000}
ROUNDS=${2:-60}
STEP=${STEP:-15}
CONCURRENCY=${CONCURRENCY:-8}
RUNS=${RUNS:-10}
REPEAT=${REPEAT:-1}
PROFILE=${PROFILE:-}
QUERIES=${QUERIES:-1}
HEAP=${HEAP:-}
if (( ROUNDS * STEP > 3600 )); then
  echo "rounds × step must be at most 1 h (a Kansoku workspace refuses samples older than max_sample_age)" >&2
  exit 2
fi
./scripts/build-peers.sh
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/kansoku" ./cmd/kansoku
KB="$work/kansoku"
command -v victoria-metrics >/dev/null || { echo "victoria-metrics is not installed (apt-get install victoria-metrics)" >&2; exit 1; }
[ -n "$PROFILE" ] && mkdir -p "$PROFILE"
[ -n "$HEAP" ] && mkdir -p "$HEAP"

wait_ready() { for _ in $(seq 1 300); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "not ready: $1" >&2; return 1; }

# cold FILE...: write each binary out and drop it from the page cache, so
# that every server starts reading its binary from disk. A binary the
# linker has just written sits in the page cache in large folios, which
# Linux 6.x maps 2 MiB at a time (FilePmdMapped in smaps): the freshly built
# Kansoku would count tens of MiB of clean file pages in its RSS that a
# binary read at exec does not.
cold() { for f in "$@"; do sync "$f"; dd if="$f" iflag=nocache count=0 status=none; done; }

start_all() { # start_all REP: the three servers, fresh data directories
  local d=$work/r$1
  mkdir -p "$d"
  cold "$KB" .cache/peers/prometheus "$(command -v victoria-metrics)"
  # Kansoku runs with its own default GOGC (50), unless
  # KANSOKU_GOGC (or GOGC, for all three) says otherwise.
  env ${KANSOKU_GOGC:+GOGC=$KANSOKU_GOGC} "$KB" server --data.dir "$d/kansoku-data" --web.listen-address 127.0.0.1:19401 --log.level warn >/dev/null 2>"$d/kansoku.log" &
  KPID=$!
  printf 'global: {}\n' >"$d/prometheus.yml"
  .cache/peers/prometheus --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/prom-data" --web.listen-address=127.0.0.1:19402 \
    --web.enable-remote-write-receiver --log.level=warn >"$d/prom.log" 2>&1 &
  PPID_=$!
  victoria-metrics -storageDataPath="$d/vm-data" -httpListenAddr=127.0.0.1:19403 -loggerLevel=ERROR >"$d/vm.log" 2>&1 &
  VPID=$!
  wait_ready http://127.0.0.1:19401/-/ready
  wait_ready http://127.0.0.1:19402/-/ready
  wait_ready http://127.0.0.1:19403/health
  set -a; . "$d/kansoku-data/admin-credentials"; set +a
  WS=$(/usr/bin/aws amp create-workspace --alias bench --endpoint-url http://127.0.0.1:19401 --query workspaceId --output text)
  /usr/bin/aws amp wait workspace-active --workspace-id "$WS" --endpoint-url http://127.0.0.1:19401
  # Throughput, not AMP's default rate (170,000 samples/s), is measured: the
  # workspace's rate is raised as an operator would for a big tenant.
  "$KB" limits set "$WS" ingestion_rate=100000000 ingestion_burst_size=100000000 --url http://127.0.0.1:19401 >/dev/null
}

ingest() { # ingest REP TARGET
  local d=$work/r$1 common=(--series "$SERIES" --rounds "$ROUNDS" --step "${STEP}s" --base "$BASE" --concurrency "$CONCURRENCY")
  case $2 in
  kansoku)
    local prof=()
    [ -n "$PROFILE" ] && prof=(--profile-url http://127.0.0.1:19401/debug/pprof/profile --profile-seconds "${PROFILE_SECONDS:-8}" --cpu-profile "$PROFILE/kansoku-ingest-r$1.pprof")
    "$KB" bench remote-write --url "http://127.0.0.1:19401/workspaces/$WS/api/v1/remote_write" --auth sigv4 --data.dir "$d/kansoku-data" \
      "${common[@]}" --target-pid "$KPID" --target-dir "$d/kansoku-data/workspaces" "${prof[@]}" \
      --label kansoku --json-out "$d/kansoku.json" >&2
    if [ -n "$HEAP" ]; then
      curl -fsS --aws-sigv4 "aws:amz:${AWS_DEFAULT_REGION:-us-east-1}:aps" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
        http://127.0.0.1:19401/debug/pprof/heap -o "$HEAP/kansoku-heap-r$1.pprof"
    fi ;;
  prometheus)
    "$KB" bench remote-write --url http://127.0.0.1:19402/api/v1/write "${common[@]}" \
      --target-pid "$PPID_" --target-dir "$d/prom-data" --label prometheus-3.15 --json-out "$d/prom.json" >&2 ;;
  vm)
    "$KB" bench remote-write --url http://127.0.0.1:19403/api/v1/write "${common[@]}" \
      --target-pid "$VPID" --target-dir "$d/vm-data" --label victoria-metrics --json-out "$d/vm.json" >&2 ;;
  esac
}

for rep in $(seq 1 "$REPEAT"); do
  # One first timestamp for all three targets: the data ends about now.
  BASE=$(( $(date +%s) - ROUNDS * STEP ))
  AT=$(( BASE + (ROUNDS - 1) * STEP ))
  start_all "$rep"
  order=(kansoku prometheus vm)
  (( rep % 2 == 0 )) && order=(vm prometheus kansoku)
  [ -n "${KANSOKU_GOGC:-}" ] && order=(kansoku)
  echo "== round $rep: ingest in the order ${order[*]}" >&2
  for t in "${order[@]}"; do ingest "$rep" "$t"; done
  d=$work/r$rep
  if [ "$QUERIES" = 0 ]; then
    kill "$KPID" "$PPID_" "$VPID"; wait "$KPID" "$PPID_" "$VPID" 2>/dev/null || true
    echo
    echo "round $rep: remote_write, $SERIES active series x $ROUNDS samples each, ${STEP}s apart, $CONCURRENCY senders, $(nproc) cores ($(date -u +%Y-%m-%d)):"
    "$KB" bench report $(ls "$d/prom.json" "$d/kansoku.json" "$d/vm.json" 2>/dev/null)
    continue
  fi
  sleep 3 # VictoriaMetrics makes fresh samples searchable after a short delay
  echo "== round $rep: queries, the three servers alternately" >&2
  # Kansoku is --url (it needs SigV4); the peers are compared with it.
  "$KB" bench query --url "http://127.0.0.1:19401/workspaces/$WS" --auth sigv4 --data.dir "$d/kansoku-data" --label kansoku \
    --header Cache-Control=no-store --runs "$RUNS" --at "$AT" --json-out "$d/qk.json" --pid "$KPID" --compare prometheus-3.15=http://127.0.0.1:19402 \
    --compare victoria-metrics=http://127.0.0.1:19403 --compare-pid prometheus-3.15="$PPID_" --compare-pid victoria-metrics="$VPID" >&2
  "$KB" bench query --url "http://127.0.0.1:19401/workspaces/$WS" --auth sigv4 --data.dir "$d/kansoku-data" --label kansoku-stats \
    --runs "$RUNS" --at "$AT" --stats --json-out "$d/qks.json" --pid "$KPID" --compare prometheus-3.15-stats=http://127.0.0.1:19402 \
    --compare-pid prometheus-3.15-stats="$PPID_" >&2
  "$KB" bench query --url "http://127.0.0.1:19401/workspaces/$WS" --auth sigv4 --data.dir "$d/kansoku-data" --label kansoku-cached \
    --runs "$RUNS" --at "$AT" --json-out "$d/qkc.json" --pid "$KPID" --compare prometheus-3.15-c=http://127.0.0.1:19402 \
    --compare victoria-metrics-c=http://127.0.0.1:19403 --compare-pid prometheus-3.15-c="$PPID_" --compare-pid victoria-metrics-c="$VPID" >&2
  kill "$KPID" "$PPID_" "$VPID"; wait "$KPID" "$PPID_" "$VPID" 2>/dev/null || true

  echo
  echo "round $rep: remote_write, $SERIES active series x $ROUNDS samples each, ${STEP}s apart, $CONCURRENCY senders, $(nproc) cores ($(date -u +%Y-%m-%d)):"
  "$KB" bench report "$d/prom.json" "$d/kansoku.json" "$d/vm.json"
  echo
  echo "round $rep: queries, p50 of $RUNS runs, servers alternating (ratio to Prometheus 3.15; below 1 is faster):"
  "$KB" bench query-report "$d/qk.prometheus-3.15.json" "$d/qk.json" "$d/qk.victoria-metrics.json"
  echo
  echo "round $rep: queries with stats=all (ratio to Prometheus 3.15):"
  "$KB" bench query-report "$d/qks.prometheus-3.15-stats.json" "$d/qks.json"
  echo
  echo "round $rep: queries with Kansoku's results cache (ratio to Prometheus 3.15, which has none):"
  "$KB" bench query-report "$d/qkc.prometheus-3.15-c.json" "$d/qkc.json" "$d/qkc.victoria-metrics-c.json"
done
