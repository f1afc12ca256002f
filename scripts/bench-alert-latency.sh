#!/usr/bin/env bash
# Alert latency: from the remote write of a sample that crosses an alerting
# rule's threshold to a real webhook's receipt of Alertmanager's
# notification, through the whole server (ingest, the workspace's ruler,
# its Alertmanager, the receiver firewall), over ROUNDS rounds at phases
# spread over the evaluation cycle. Fails when one round takes more than
# the evaluation interval + group_wait + 1 s.
#
#   ./scripts/bench-alert-latency.sh [rounds] [interval] [group_wait]
set -euo pipefail
cd "$(dirname "$0")/.."
KANSOKU_ALERT_BENCH_ROUNDS=${1:-10} KANSOKU_ALERT_BENCH_INTERVAL=${2:-10s} KANSOKU_ALERT_BENCH_GROUP_WAIT=${3:-5s} \
  go test -run '^TestAlertLatencyBench$' -count=1 -timeout 30m -v ./internal/app 2>&1 | grep -E '^(alert latency|ok|FAIL)|round [0-9]+:|--- FAIL|Error'
