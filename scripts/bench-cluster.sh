#!/usr/bin/env bash
# The scale-out shape measured side by side in one run, on the cluster
# scripts/cluster-up.sh starts (three Cortex processes, RF 3, two Kansoku
# nodes, haproxy), all on this machine:
#
#   ingest: the same remote_write load (kansoku bench remote-write) straight
#   into a Cortex distributor (X-Scope-OrgID), through one Kansoku node
#   (SigV4), and through haproxy over both nodes; each into its own tenant.
#   query: nine Grafana-like queries (kansoku bench query) on the data each
#   wrote, straight on Cortex's query-frontend, through one node, and
#   through haproxy.
#
#   ./scripts/bench-cluster.sh [series] [rounds]
#
# The ratios are Kansoku's overhead as a gateway in front of Cortex: what a
# tenant pays for SigV4, AMP's guardrails and per-workspace authorization.
set -euo pipefail
cd "$(dirname "$0")/.."
SERIES=${1:-20000}
ROUNDS=${2:-60}
CONCURRENCY=${CONCURRENCY:-4}
RUNS=${RUNS:-10}
work=$(mktemp -d /tmp/kansoku-bench-cluster-XXXXXX)
chmod 755 "$work"
trap './scripts/cluster-down.sh "$work/c" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
./scripts/cluster-up.sh "$work/c" >&2
set -a; . "$work/c/cluster.env"; . "$work/c/admin-credentials"; set +a
KB="$work/c/kansoku"
read -r N1 _ <<<"$KANSOKU_URLS"
read -r C1 _ <<<"$CORTEX_URLS"

ws() { # ws ALIAS: a new ACTIVE workspace's id
  local id
  id=$(/usr/bin/aws amp create-workspace --alias "$1" --endpoint-url "$LB_URL" --query workspaceId --output text)
  /usr/bin/aws amp wait workspace-active --workspace-id "$id" --endpoint-url "$LB_URL"
  # Room for the benchmark's load: AMP's default rate is 170,000 samples/s.
  "$KB" limits set "$id" ingestion_rate=10000000 ingestion_burst_size=10000000 --url "$LB_URL" >/dev/null
  echo "$id"
}
WS1=$(ws bench-one-node)
WS2=$(ws bench-two-nodes)
sleep 12 # Cortex reloads the overrides; its distributors re-read limits every 10 s
TENANT=bench-direct

# CPU seconds (user + system) a process has used, and its resident memory.
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$(cat "$work/c/pids/$1.pid")/stat"; }
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$(cat "$work/c/pids/$1.pid")/status"; }
procs=(kansoku-1 kansoku-2 cortex-1 cortex-2 cortex-3)
usage_table=""
rw() { # rw LABEL URL ARGS...: also records the CPU each process spent on it
  local label=$1 url=$2 p
  shift 2
  declare -A before
  for p in "${procs[@]}"; do before[$p]=$(cpu "$p"); done
  "$KB" bench remote-write --url "$url" --series "$SERIES" --rounds "$ROUNDS" --concurrency "$CONCURRENCY" \
    --label "$label" --json-out "$work/rw-$label.json" "$@" >&2
  local row="$label"
  for p in "${procs[@]}"; do row="$row $(awk -v a="${before[$p]}" -v b="$(cpu "$p")" 'BEGIN {printf "%.1f", b - a}')"; done
  usage_table="$usage_table$row"$'\n'
}
echo "== ingest" >&2
rw cortex-direct "$C1/api/v1/push" --header "X-Scope-OrgID=$TENANT"
rw kansoku-1-node "$N1/workspaces/$WS1/api/v1/remote_write" --auth sigv4 --data.dir "$work/c"
rw kansoku-2-nodes "$LB_URL/workspaces/$WS2/api/v1/remote_write" --auth sigv4 --data.dir "$work/c"

q() { # q LABEL BASE ARGS...
  local label=$1 base=$2
  shift 2
  "$KB" bench query --url "$base" --runs "$RUNS" --window 1h --label "$label" --json-out "$work/q-$label.json" "$@" >&2
}
echo "== query" >&2
q cortex-direct "$C1/prometheus" --header "X-Scope-OrgID=$TENANT"
q kansoku-1-node "$N1/workspaces/$WS1" --auth sigv4 --data.dir "$work/c"
q kansoku-2-nodes "$LB_URL/workspaces/$WS2" --auth sigv4 --data.dir "$work/c"

echo
echo "remote_write, $SERIES active series x $ROUNDS samples each, $CONCURRENCY senders, $(nproc) cores ($(date -u +%Y-%m-%d)):"
"$KB" bench report "$work/rw-cortex-direct.json" "$work/rw-kansoku-1-node.json" "$work/rw-kansoku-2-nodes.json"
echo
echo "CPU seconds spent by each process on each ingest run ($((SERIES * ROUNDS)) samples):"
{ echo "run ${procs[*]}"; printf '%s' "$usage_table"; } | column -t
echo "resident memory now (MiB): $(for p in "${procs[@]}"; do printf '%s=%s ' "$p" "$(rss_mib "$p")"; done)"
echo "(every Cortex process holds each series once: replication factor 3 over 3 processes; $((3 * SERIES)) series in all)"
echo
echo "queries (p50 of $RUNS runs each; ratio to Cortex direct):"
"$KB" bench query-report "$work/q-cortex-direct.json" "$work/q-kansoku-1-node.json" "$work/q-kansoku-2-nodes.json"
