#!/usr/bin/env bash
# Runs the benchmarks of tests/bench_test.go and prints a compact table:
# the simulated deploy (wall time against the critical path and the
# sequential walkthrough) and the program's overhead at 1 to 1,000
# workloads, with the per-workload slope. See docs/benchmarks.md.
#
#   scripts/bench.sh              # COUNT=6 runs of each benchmark, ~2-4 min
#   COUNT=10 scripts/bench.sh     # more runs, tighter medians
#   OUT=/tmp/bench scripts/bench.sh   # keep raw output there
#
# Each figure in the table is the median of COUNT runs. The raw `go test`
# output and, when the Go module proxy is reachable, benchstat's summary
# (with confidence intervals) are kept in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-6}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")}
mkdir -p "$OUT"
# Pinned: a version the Go module proxy serves (see go-partial.tsv).
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")

echo "running: go test ./tests/ -run '^\$' -bench . -benchmem -count $COUNT (raw output in $OUT/raw.txt)" >&2
if ! go test ./tests/ -run '^$' -bench . -benchmem -count "$COUNT" -timeout 30m >"$OUT/raw.txt"; then
	cat "$OUT/raw.txt"
	exit 1
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")

if go run "$BENCHSTAT" "$OUT/raw.txt" >"$OUT/benchstat.txt" 2>"$OUT/benchstat.err"; then
	benchstat_note="benchstat summary: $OUT/benchstat.txt"
else
	benchstat_note="benchstat unavailable (see $OUT/benchstat.err); medians below are the script's own"
fi

echo "machine: $(nproc) cores, ${cpu:-unknown CPU}, $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), count $COUNT, load average ${load_before} before, ${load_after} after"
echo

awk '
# Median of the space-separated numbers in s.
function median(s,    v, n, i, j, t) {
	n = split(s, v, " ")
	for (i = 2; i <= n; i++) {
		t = v[i] + 0
		for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]
		v[j + 1] = t
	}
	if (n == 0) return ""
	return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function m(name, unit) { return median(vals[name, unit]) }
function slope(a, b,    d, peak) {
	d = b - a
	# A peak heap moves by about a MiB with the pacing of the garbage collector
	# alone: a smaller difference says nothing about the slope.
	peak = P[b] - P[a]
	peak = (peak < 1 && peak > -1) ? "(within noise)" : sprintf("%.0f KiB", peak * 1024 / d)
	printf "| %d -> %d | %.0f us | %.0f us | %.0f KiB | %s |\n", a, b, \
		(T[b] - T[a]) * 1000 / d, (C[b] - C[a]) * 1000 / d, \
		(A[b] - A[a]) * 1024 / d, peak
}

/^Benchmark/ {
	name = $1
	sub(/-[0-9]+$/, "", name)        # the GOMAXPROCS suffix
	if (!(name in seen)) { seen[name] = 1; order[++names] = name }
	for (i = 3; i < NF; i += 2) vals[name, $(i + 1)] = vals[name, $(i + 1)] " " $i
}

END {
	print "Simulated deploy (1 simulated second = 5 ms real; times in simulated seconds)"
	print "wall = critical path + mock overshoot + gaps (the program, SDK and scheduler), the last two in real ms"
	print ""
	print "| stack | wall | critical path | wall/critical | sequential sum | speed-up | mock overshoot (real ms) | gaps (real ms) | wall <= 1.05 x critical |"
	print "|---|---:|---:|---:|---:|---:|---:|---:|---|"
	for (k = 1; k <= names; k++) {
		n = order[k]
		if (n !~ /^BenchmarkSimulatedDeploy\//) continue
		r = m(n, "wall/critical")
		printf "| %s | %.1f s | %.1f s | %.3f | %.1f s | %.2fx | %.1f | %.1f | %s |\n", \
			substr(n, 26), m(n, "wall-s"), m(n, "critical-path-s"), r, \
			m(n, "sequential-s"), m(n, "speedup-x"), m(n, "overshoot-ms"), m(n, "gaps-ms"), \
			(r <= 1.05 ? "yes" : "NO")
	}
	header = 0
	for (k = 1; k <= names; k++) {
		n = order[k]
		if (n !~ /^BenchmarkSimulatedDeploy\// || m(n, "after-nodes-s") == "") continue
		if (!header) {
			print ""
			print "createCluster stacks: what the pod identity adds once the node group is ready"
			print ""
			print "| stack | cluster + nodes | after the nodes | wall |"
			print "|---|---:|---:|---:|"
			header = 1
		}
		printf "| %s | %.1f s | %.1f s | %.1f s |\n", substr(n, 26), \
			m(n, "wall-s") - m(n, "after-nodes-s"), m(n, "after-nodes-s"), m(n, "wall-s")
	}
	print ""
	print "Program overhead (one run under mocks, no waits)"
	print ""
	print "| workloads | time/run | CPU/run | allocated/run | allocs/run | peak heap |"
	print "|---:|---:|---:|---:|---:|---:|"
	for (k = 1; k <= names; k++) {
		n = order[k]
		if (n !~ /^BenchmarkProgramOverhead\/workloads=/) continue
		w = substr(n, 36) + 0
		W[++ws] = w
		T[w] = m(n, "ns/op") / 1e6; C[w] = m(n, "cpu-ms/op")
		A[w] = m(n, "B/op") / 1048576; P[w] = m(n, "peak-MiB")
		printf "| %d | %.1f ms | %.1f ms | %.2f MiB | %d | %.1f MiB |\n", \
			w, T[w], C[w], A[w], m(n, "allocs/op"), P[w]
	}
	if (ws >= 2) {
		print ""
		print "Per-workload slope (difference between two rows / difference in workloads)"
		print ""
		print "| from -> to | time | CPU | allocated | peak heap |"
		print "|---|---:|---:|---:|---:|"
		for (k = 1; k < ws; k++) slope(W[k], W[k + 1])
		if (ws > 2) slope(W[1], W[ws])
		if (1 in T) {
			print ""
			printf "one workload: %.1f ms (goal < 50 ms: %s), peak heap %.1f MiB (goal < 30 MiB: %s)\n", \
				T[1], (T[1] < 50 ? "yes" : "NO"), P[1], (P[1] < 30 ? "yes" : "NO")
		}
	}
}
' "$OUT/raw.txt"

echo
echo "$benchstat_note"
