#!/usr/bin/env bash
# Guardrail cost and tenant isolation, measured side by side on this machine:
#
#  1. the same remote_write load (with HA cluster/__replica__ labels) into a
#     workspace with all guardrails on, and with --no-ingest.guardrails;
#  2. workspace B's throughput alone, and while workspace A is throttled
#     (A's sender backs off and retries on 429 as Prometheus does).
#
# Each configuration runs REPEAT times, interleaved, on a fresh workspace;
# the report gives every run and the medians.
#
#   ./scripts/bench-guardrails.sh [series] [rounds] [repeat]
set -euo pipefail
cd "$(dirname "$0")/.."
SERIES=${1:-100000}
ROUNDS=${2:-60}
REPEAT=${3:-3}
CONCURRENCY=${CONCURRENCY:-4}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/kansoku" ./cmd/kansoku
KB="$work/kansoku"
PORT=19411
URL=http://127.0.0.1:$PORT

start() { # data dir, extra flags...
  local dir=$1; shift
  "$KB" server --data.dir "$dir" --web.listen-address 127.0.0.1:$PORT --log.level warn --no-usage.self-metrics "$@" >/dev/null 2>>"$work/server.log" &
  SPID=$!
  for _ in $(seq 1 200); do curl -fsS $URL/-/ready >/dev/null 2>&1 && break; sleep 0.1; done
  set -a; . "$dir/admin-credentials"; set +a
}
stop() { kill $SPID; wait $SPID 2>/dev/null || true; }
workspace() { # alias -> id, with limits that do not throttle this load
  local id
  id=$(/usr/bin/aws amp create-workspace --alias "$1" --endpoint-url $URL --query workspaceId --output text)
  /usr/bin/aws amp wait workspace-active --workspace-id "$id" --endpoint-url $URL
  echo "$id"
}
unthrottled() { "$KB" limits set "$1" ingestion_rate=100000000 ingestion_burst_size=100000000 --url $URL --data.dir "$2" >/dev/null; }
bench() { # workspace, label, data dir, extra flags...
  local ws=$1 label=$2 dir=$3; shift 3
  "$KB" bench remote-write --url "$URL/workspaces/$ws/api/v1/remote_write" --auth sigv4 --data.dir "$dir" \
    --series "$SERIES" --rounds "$ROUNDS" --concurrency "$CONCURRENCY" --target-pid $SPID \
    --label "$label" --json-out "$work/$label.json" "$@" >/dev/null
  echo "$work/$label.json"
}

results=()
for i in $(seq 1 "$REPEAT"); do
  echo "== run $i: guardrails on" >&2
  start "$work/on-$i"
  ws=$(workspace "on-$i"); unthrottled "$ws" "$work/on-$i"
  results+=("$(bench "$ws" "guardrails-on-$i" "$work/on-$i" --series-label cluster=prod --series-label __replica__=r1)")

  echo "== run $i: B alone, then B while A is throttled" >&2
  b=$(workspace "b-$i"); unthrottled "$b" "$work/on-$i"
  results+=("$(bench "$b" "b-alone-$i" "$work/on-$i")")
  a=$(workspace "a-$i"); b2=$(workspace "b2-$i"); unthrottled "$b2" "$work/on-$i"
  "$KB" limits set "$a" ingestion_rate=1000 ingestion_burst_size=2000 --url $URL --data.dir "$work/on-$i" >/dev/null
  "$KB" bench remote-write --url "$URL/workspaces/$a/api/v1/remote_write" --auth sigv4 --data.dir "$work/on-$i" \
    --series 20000 --duration 10m --concurrency 2 --backoff-on-429 --label "a-throttled-$i" --json-out "$work/a-throttled-$i.json" >/dev/null 2>&1 &
  APID=$!
  sleep 3
  results+=("$(bench "$b2" "b-while-a-throttled-$i" "$work/on-$i")")
  kill -INT $APID; wait $APID 2>/dev/null || true
  stop

  echo "== run $i: guardrails off" >&2
  start "$work/off-$i" --no-ingest.guardrails
  ws=$(workspace "off-$i")
  results+=("$(bench "$ws" "guardrails-off-$i" "$work/off-$i" --series-label cluster=prod --series-label __replica__=r1)")
  stop
done

echo
echo "remote_write, $SERIES series x $ROUNDS samples, $CONCURRENCY senders, $REPEAT interleaved runs, $(nproc) cores ($(date -u +%Y-%m-%d)):"
"$KB" bench report "${results[@]}"
median() { python3 -c 'import json,sys,statistics; print(statistics.median(json.load(open(f))["SamplesPerSec"] for f in sys.argv[1:]))' "$@"; }
on=$(median "$work"/guardrails-on-*.json); off=$(median "$work"/guardrails-off-*.json)
alone=$(median "$work"/b-alone-*.json); shared=$(median "$work"/b-while-a-throttled-*.json)
python3 - "$on" "$off" "$alone" "$shared" <<'PY'
import sys
on, off, alone, shared = map(float, sys.argv[1:])
print(f"\nmedian samples/s: guardrails on {on:,.0f}, off {off:,.0f}: on/off = {on/off:.3f} (target >= 0.95)")
print(f"median samples/s: B alone {alone:,.0f}, B while A is throttled {shared:,.0f}: ratio = {shared/alone:.3f} (target >= 0.95)")
PY
