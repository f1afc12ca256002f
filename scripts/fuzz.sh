#!/usr/bin/env bash
# Runs every fuzz target of the decoders and parsers a tenant reaches
# (remote_write, IAM policies, SigV4 headers, Alertmanager definitions,
# rule files, templates, scraper configurations) for a short while each: FUZZTIME executions
# (default 30000x). A count, not a duration: Go 1.26's coordinator can report
# a bare "context deadline exceeded" when a duration ends while a worker is
# busy on a loaded machine (golang/go#75804, fixed in Go 1.27), which failed CI
# with no failing input found.
# New failing inputs are written under the package's testdata/fuzz/ and
# become regression tests of the plain test run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-30000x}
targets=(
  "./internal/ingest FuzzDecodeWriteRequest"
  "./internal/ingest FuzzDecode"
  "./internal/iam/policy FuzzParse"
  "./internal/auth FuzzSigV4Header"
  "./internal/amconfig FuzzParse"
  "./internal/rulegroups FuzzValidate"
  "./internal/tmplbound FuzzInstrument"
  "./internal/scraper FuzzValidate"
)
for t in "${targets[@]}"; do
  set -- $t
  echo "fuzz $1 $2 ($fuzztime)" >&2
  go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime"
done
