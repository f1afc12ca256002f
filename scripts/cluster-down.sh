#!/usr/bin/env bash
# Stops what scripts/cluster-up.sh DIR started: haproxy, the Kansoku nodes,
# the Cortex processes, then PostgreSQL. Data stays under DIR.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(cd "$1" && pwd)
stop() { # stop NAME: SIGTERM, then SIGKILL after 15 s
  local f="$dir/pids/$1.pid" pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
stop haproxy
for f in "$dir"/pids/kansoku-*.pid; do [ -e "$f" ] && stop "$(basename "$f" .pid)"; done
for f in "$dir"/pids/cortex-*.pid; do [ -e "$f" ] && stop "$(basename "$f" .pid)"; done
if [ -d "$dir/postgres" ]; then
  "$root/scripts/postgres-down.sh" "$dir/postgres"
fi
rm -f "$dir/pids/postgres.pid"
echo "cluster under $dir stopped" >&2
