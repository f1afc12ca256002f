#!/usr/bin/env bash
# Stops the local PostgreSQL cluster that scripts/postgres-up.sh DIR
# started (a fast shutdown: sessions are ended, data is kept; postgres-up.sh
# DIR starts it again). Idempotent. With --purge, DIR is removed too.
#
#   scripts/postgres-down.sh DIR [--purge]
set -euo pipefail

usage() { echo "usage: $0 DIR [--purge]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
[ $# -eq 1 ] || [ "$2" = "--purge" ] || usage
[ -d "$1" ] || exit 0
dir=$(cd "$1" && pwd)
data="$dir/data"

bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -n "$bindir" ] && [ -f "$data/PG_VERSION" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    ctl=(runuser -u postgres -- "$bindir/pg_ctl")
  else
    ctl=("$bindir/pg_ctl")
  fi
  if "${ctl[@]}" status -D "$data" >/dev/null 2>&1; then
    "${ctl[@]}" stop -D "$data" -m fast -w -t 60 >/dev/null
  fi
fi
if [ "${2:-}" = "--purge" ]; then
  rm -rf "$dir"
fi
