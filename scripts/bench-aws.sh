#!/usr/bin/env bash
# One AWS integration poll of an account with all 28 products (about 5,000
# resources: KANSOKU_AWS_BENCH_COPIES copies of one resource of every kind,
# default 80) against the AWS API simulator, GetMetricData batched 500
# metrics per call; the benchmark checks ceil(metrics/500) calls per region
# and period group and prints each group.
#
#   ./scripts/bench-aws.sh
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench 'BenchmarkAWSPoll' -benchtime 1x -timeout 60m -v ./internal/app 2>/dev/null | grep -E '^(Benchmark|ok|FAIL)|group |--- FAIL'
