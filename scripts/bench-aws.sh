#!/usr/bin/env bash
# One AWS integration poll of 1,000 resources (~10,000 CloudWatch metrics)
# against the AWS API simulator, with GetMetricData batched 500 metrics per
# call (Kansoku) and, side by side in the same run, one call per metric.
#
#   ./scripts/bench-aws.sh
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench 'BenchmarkAWSPoll' -benchtime 1x ./internal/app 2>/dev/null | grep -E '^(Benchmark|ok|FAIL)'
