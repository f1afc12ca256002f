#!/usr/bin/env bash
# Installs the real peers that Kansoku's test suite talks to, from Debian's packages.
# Idempotent; needs root (CI and the dev machines run as root).
set -euo pipefail

packages=(
  prometheus              # remote_write with sigv4, promtool, PromQL reference, benchmark peer
  prometheus-alertmanager # amtool
  awscli                  # aws amp ... --endpoint-url
  chromium chromium-driver # console end-to-end tests
  victoria-metrics        # benchmark peer
  haproxy                 # the load balancer in front of a cluster's nodes (scripts/cluster-up.sh)
  gettext-base            # envsubst: fills deploy/cortex/cortex.yaml in scripts/cluster-up.sh
  postgresql              # the metastore's PostgreSQL backend: tests start throwaway clusters (internal/testenv/pgtest)
  prometheus-node-exporter # a real exporter the managed scrapers' tests scrape
  ca-certificates curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # --no-install-recommends keeps the install small; policy-rc.d stops the packages'
  # own services from starting (tests start their own instances on loopback).
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  rm -f /usr/sbin/policy-rc.d
fi
