#!/usr/bin/env bash
# Starts Kansoku's scale-out shape on this machine, on loopback, under DIR:
#
#   PostgreSQL            the shared metadata (scripts/postgres-up.sh)
#   cortex-1..3           a Cortex cluster: memberlist ring, replication
#                         factor 3, a filesystem bucket (deploy/cortex/cortex.yaml)
#   kansoku-1, kansoku-2  two Kansoku nodes on the same metadata and Cortex
#   haproxy               in front of the Kansoku nodes
#
# It writes DIR/cluster.env (KANSOKU_URLS, LB_URL, CORTEX_URLS, PG_DSN),
# DIR/admin-credentials (the first admin key), DIR/pids/<name>.pid for every
# process, DIR/logs/<name>.log, and DIR/run/<name>.sh, which starts a
# process again after it was killed. scripts/cluster-down.sh DIR stops it
# all.
#
# KANSOKU_EXTRA_FLAGS, if set, is added to both Kansoku nodes' command line
# (the tests open the receiver firewall to loopback with it).
#
# Needs: Go, and Debian's postgresql and haproxy (scripts/install-test-deps.sh
# installs them); builds Cortex (scripts/build-cortex.sh) and Kansoku.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
mkdir -p "$dir/pids" "$dir/logs"
cd "$root"

# A port nothing listens on (good enough for loopback development use).
used_ports=" "
free_port() {
  local p
  while :; do
    p=$(( (RANDOM % 12000) + 20000 )) # below the ephemeral range (32768-), so no outgoing connection holds it
    case "$used_ports" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports="$used_ports$p "
      echo "$p"
      return
    fi
  done
}

wait_url() { # wait_url NAME URL SECONDS
  local i
  for ((i = 0; i < $3 * 4; i++)); do
    if curl -sf -o /dev/null "$2"; then return 0; fi
    if ! kill -0 "$(cat "$dir/pids/$1.pid")" 2>/dev/null; then
      echo "$1 exited; its log: $dir/logs/$1.log" >&2
      tail -n 30 "$dir/logs/$1.log" >&2
      exit 1
    fi
    sleep 0.25
  done
  echo "$1 not ready at $2 after $3 s; its log: $dir/logs/$1.log" >&2
  tail -n 30 "$dir/logs/$1.log" >&2
  exit 1
}

start() { # start NAME COMMAND...: also writes DIR/run/NAME.sh, which starts it again
  local name=$1
  shift
  mkdir -p "$dir/run"
  {
    echo '#!/usr/bin/env bash'
    echo "# starts $name again as scripts/cluster-up.sh did"
    printf 'setsid'
    printf ' %q' "$@"
    printf ' >>%q 2>&1 </dev/null &\n' "$dir/logs/$name.log"
    printf 'echo $! >%q\n' "$dir/pids/$name.pid"
  } >"$dir/run/$name.sh"
  chmod +x "$dir/run/$name.sh"
  "$dir/run/$name.sh"
}

for tool in haproxy curl envsubst; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: run scripts/install-test-deps.sh" >&2; exit 1; }
done

echo "building cortex and kansoku ..." >&2
./scripts/build-cortex.sh
go build -o "$dir/kansoku" ./cmd/kansoku

# PostgreSQL: the metadata every node shares.
pg_dsn=$(./scripts/postgres-up.sh "$dir/postgres")
head -n1 "$dir/postgres/data/postmaster.pid" >"$dir/pids/postgres.pid"

# Cortex: three processes of every module Kansoku uses.
cortex_urls=()
joins=()
declare -A chttp cgrpc cml
for i in 1 2 3; do
  chttp[$i]=$(free_port); cgrpc[$i]=$(free_port); cml[$i]=$(free_port)
  joins+=("127.0.0.1:${cml[$i]}")
done
join_members=$(IFS=,; echo "${joins[*]}")
runtime_config="$dir/cortex/runtime.yaml"
mkdir -p "$dir/cortex/bucket"
[ -f "$runtime_config" ] || echo "overrides: {}" >"$runtime_config"
for i in 1 2 3; do
  name=cortex-$i
  mkdir -p "$dir/cortex/$name"
  CORTEX_NODE=$name CORTEX_HTTP_PORT=${chttp[$i]} CORTEX_GRPC_PORT=${cgrpc[$i]} \
    CORTEX_MEMBERLIST_PORT=${cml[$i]} CORTEX_JOIN_MEMBERS=$join_members CORTEX_KV_STORE=memberlist \
    CORTEX_OBSERVE_PERIOD=2s CORTEX_REPLICATION_FACTOR=3 CORTEX_BUCKET_DIR="$dir/cortex/bucket" \
    CORTEX_DATA_DIR="$dir/cortex/$name" CORTEX_RUNTIME_CONFIG="$runtime_config" CORTEX_RUNTIME_RELOAD=2s \
    envsubst <deploy/cortex/cortex.yaml >"$dir/cortex/$name.yaml"
  start "$name" "$root/.cache/cortex/cortex" -config.file="$dir/cortex/$name.yaml"
  cortex_urls+=("http://127.0.0.1:${chttp[$i]}")
done
for i in 1 2 3; do wait_url "cortex-$i" "http://127.0.0.1:${chttp[$i]}/ready" 120; done

# The key that seals secrets in the shared metadata: every node needs it.
if [ ! -f "$dir/secret.key" ]; then
  (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/secret.key"; echo >>"$dir/secret.key")
fi

# Kansoku: two nodes, each a distributor client of every Cortex process.
kansoku_urls=()
cortex_flags=()
for u in "${cortex_urls[@]}"; do cortex_flags+=(--cortex.distributor-url="$u"); done
for i in 1 2; do
  name=kansoku-$i
  port=$(free_port)
  url="http://127.0.0.1:$port"
  start "$name" "$dir/kansoku" server \
    --web.listen-address="127.0.0.1:$port" --data.dir="$dir/$name" \
    --storage.secret-key-file="$dir/secret.key" \
    --metastore.driver=postgres --metastore.dsn="$pg_dsn" \
    "${cortex_flags[@]}" --cortex.query-frontend-url="${cortex_urls[$i - 1]}" \
    --cortex.runtime-config-file="$runtime_config" \
    --cluster.enabled --cluster.node-name="$name" --cluster.advertise-url="$url" \
    ${KANSOKU_EXTRA_FLAGS:-}
  wait_url "$name" "$url/-/ready" 120
  kansoku_urls+=("$url")
  if [ "$i" = 1 ]; then
    cp "$dir/$name/admin-credentials" "$dir/admin-credentials"
  fi
done

# haproxy: any node serves any request.
lb_port=$(free_port)
cat >"$dir/haproxy.cfg" <<EOF
global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 5m
  timeout server 5m
  option redispatch
  retries 2
frontend kansoku
  bind 127.0.0.1:$lb_port
  default_backend nodes
backend nodes
  balance roundrobin
  option httpchk GET /-/ready
  http-check expect status 200
  default-server inter 1s fall 2 rise 1
  server kansoku-1 ${kansoku_urls[0]#http://} check
  server kansoku-2 ${kansoku_urls[1]#http://} check
EOF
start haproxy haproxy -db -f "$dir/haproxy.cfg"
wait_url haproxy "http://127.0.0.1:$lb_port/-/healthy" 30

cat >"$dir/cluster.env" <<EOF
KANSOKU_URLS="${kansoku_urls[*]}"
LB_URL="http://127.0.0.1:$lb_port"
CORTEX_URLS="${cortex_urls[*]}"
PG_DSN="$pg_dsn"
EOF
cat >&2 <<EOF
cluster up under $dir:
  load balancer  http://127.0.0.1:$lb_port
  kansoku nodes  ${kansoku_urls[*]}
  cortex         ${cortex_urls[*]}
  admin key      $dir/admin-credentials
  stop it with   scripts/cluster-down.sh $dir
EOF
