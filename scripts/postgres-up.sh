#!/usr/bin/env bash
# Starts (initialising on first use) a local PostgreSQL cluster in DIR for
# Kansoku nodes to share, on 127.0.0.1 only, and prints the DSN to pass as
# --metastore.dsn. Idempotent: a cluster already running is left as it is
# and its DSN printed again. scripts/postgres-down.sh DIR stops it.
#
#   scripts/postgres-up.sh DIR [PORT]      (PORT: default the first free from 15432)
#
# Debian's postgresql package provides the binaries (scripts/install-test-deps.sh
# installs it). As root, the cluster belongs to the postgres system user
# (initdb refuses root). fsync stays on: this cluster keeps its data.
set -euo pipefail

usage() { echo "usage: $0 DIR [PORT]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
mkdir -p "$1"
dir=$(cd "$1" && pwd)
data="$dir/data"
db=kansoku

bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: run scripts/install-test-deps.sh (as root)" >&2
  exit 1
fi

# as_owner runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "no postgres user: run scripts/install-test-deps.sh" >&2; exit 1; }
  chown postgres:postgres "$dir"
  if ! runuser -u postgres -- test -w "$dir"; then
    echo "the postgres user cannot reach $dir (a parent directory is closed to it): choose a DIR under /tmp or /var/tmp, say" >&2
    exit 1
  fi
fi

if [ ! -f "$data/PG_VERSION" ]; then
  as_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-instructions >/dev/null
fi

port_file="$dir/port"
if as_owner "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1; then
  port=$(cat "$port_file")
else
  want=${2:-}
  # The default is below Linux's ephemeral range (32768-60999): there, an
  # outgoing connection's local port can hold the port nothing listens on.
  port=${want:-15432}
  log="$dir/postgres.log"
  for attempt in 1 2 3 4 5; do
    if [ -z "$want" ]; then
      # A port is free when nothing answers on it.
      while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
      done
    fi
    echo "$port" > "$port_file"
    seen=$( (wc -l < "$log") 2>/dev/null || echo 0)
    if as_owner "$bindir/pg_ctl" start -D "$data" -w -t 60 -l "$log" \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c max_connections=300" >/dev/null 2>&1; then
      break
    fi
    # Free when checked is not free when bound: another process (a test's
    # listener, a connection's local port) may take it in between. Then
    # the next port is tried; any other failure is reported with the log.
    if [ -n "$want" ] || [ "$attempt" = 5 ] || ! tail -n +"$((seen + 1))" "$log" | grep -q "could not bind"; then
      echo "postgres-up: PostgreSQL did not start on port $port; the end of $log:" >&2
      tail -n +"$((seen + 1))" "$log" | tail -n 20 >&2
      exit 1
    fi
    port=$((port + 1))
  done
fi

# The database Kansoku's nodes share.
if ! as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE $db" >/dev/null
fi

dsn="postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
echo "$dsn" > "$dir/dsn"
echo "$dsn"
