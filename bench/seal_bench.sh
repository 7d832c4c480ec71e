#!/bin/sh
# Seal, timestamp-renew and hash-tree-renew N synthetic packages with the
# embedded TSA, each phase in its own process (peak RSS per phase).
#   bench/seal_bench.sh BUILD_DIR [N...]      (default N: 10000 100000 1000000)
# Stores go under ${TMPDIR:-/tmp} and are removed afterwards. cpu_s is the
# phase's CPU time (user + system, all threads); "close" lines time the
# memtable flush when the store is closed after a phase. Last, one result
# line per phase and N (bench/README.md; baseline: the SHA-256 loop).
set -eu
build=${1:?usage: seal_bench.sh BUILD_DIR [N...]}
shift
[ $# -gt 0 ] || set -- 10000 100000 1000000
bench="$build/bench/seal_bench"
. "$(dirname "$0")/bench_lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/seal_bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
bench_results_to "$work/results"
echo "build: $build ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-11s %9s %9s %11s %6s %9s %9s %8s %9s\n' phase N seconds packages/s TSA RSS_MiB sha256_s ratio cpu_s
for n in "$@"; do
  store="$work/store-$n"
  for phase in populate seal renew-ts renew-hash; do
    bench_run "$bench" "$phase" "$store" "$n"
  done
  rm -rf "$store"
done
bench_print_results
