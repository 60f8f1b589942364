#!/usr/bin/env bash
# bench-load.sh loads the gateway with 1,000 simulated callers walking the
# built-in catalogue in Africa's Talking's dialect, sessions in Redis, next to
# a bare chi handler answering a constant screen, and prints both, their
# ratios, the Redis memory per live session and whether the targets are met
# (see docs/BENCHMARKS.md). Everything but Redis runs in one process on
# 127.0.0.1. Two runs:
#   1. closed loop, no think time: the throughput each can reach (saturation);
#      latencies there are queueing, by Little's law 1,000 ÷ throughput;
#   2. the same callers pausing 1 s on average between screens (about 1,000
#      hops/s offered, far busier than people): the latency of a hop under load.
# Extra arguments go to both runs (e.g. --duration 10s). Exits non-zero when a
# hop was answered wrongly.
set -euo pipefail
cd "$(dirname "$0")/.."

export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
echo "bench-load: load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)" >&2
run() {
	echo "\$ go run ./cmd/guichet loadgen $*"
	go run ./cmd/guichet loadgen "$@"
}
status=0
run --callers 1000 --duration 20s --baseline "$@" || status=$?
echo
run --callers 1000 --duration 20s --baseline --think 1s --sessions 0 "$@" || status=$?
exit "$status"
