#!/usr/bin/env bash
# bench-sms-pairs: Kannel without receipts and Guichet's outbox with them,
# one after the other, PAIRS times (default 5), and the ratio of each pair
# with their median. On a shared machine one pair tells little: the same
# binary run against itself in turns gave 0.90 to 1.22 a pair
# (docs/BENCHMARKS.md, the evening of 2026-12-04).
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${PAIRS:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"${GO:-go}" test -c -o "$dir/delivery.test" ./outbox/delivery/
cd outbox/delivery
for i in $(seq "$pairs"); do
	"$dir/delivery.test" -test.run '^$' -test.benchtime 1x \
		-test.bench 'SMSSideBySide/^(kannel-no-dlr|guichet-postgres-receipts)$'
done | awk '
	/^BenchmarkSMSSideBySide\// {
		for (i = 1; i < NF; i++) if ($(i + 1) == "msgs/s") rate = $i
		if ($1 ~ /kannel-no-dlr/) kannel = rate
		else if ($1 ~ /guichet-postgres-receipts/ && kannel > 0) {
			n++; r[n] = rate / kannel
			printf "pair %d: Kannel without receipts %d msg/s, Guichet with receipts %d msg/s: %.2f\n", n, kannel, rate, r[n]
			kannel = 0
		}
	}
	END {
		if (n == 0) { print "bench-sms-pairs: no pair ran" > "/dev/stderr"; exit 1 }
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
		m = (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
		printf "Guichet (receipts) / Kannel (none), %d pairs: median %.2f, from %.2f to %.2f (target: at least 1)\n", n, m, r[1], r[n]
	}'
