#!/bin/sh
# Search benchmark (issue 18 part 1), run on demand (not a test): N synthetic
# packages with real manifests and record metadata (seal_bench
# populate-catalogue), then filtered first pages of 50 from the search index,
# the same filters read through the manifests as a store without the index
# does (the baseline), and `index build` of the whole store.
#   bench/search_bench.sh BUILD_DIR [N...]      (default N: 10000 100000)
# e.g. bench/search_bench.sh build 1000000
# The store goes under ${TMPDIR:-/tmp} and is removed afterwards. Each query
# line: its name, the median of 5 pages in ms (the scan: one run), the
# matches on the page (at most 50), the process's peak RSS (MiB). The last
# lines are the machine-readable results (bench/README.md).
set -eu
build=${1:?usage: search_bench.sh BUILD_DIR [N...]}
shift
[ $# -gt 0 ] || set -- 10000 100000
seal="$build/bench/seal_bench"
search="$build/bench/search_bench"
for tool in "$seal" "$search"; do
  [ -x "$tool" ] || { echo "search_bench.sh: $tool missing (build with -DPRESERVE_BUILD_BENCH=ON)" >&2; exit 2; }
done
echo "build: $build, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for n in "$@"; do
  store=$(mktemp -d "${TMPDIR:-/tmp}/search_bench.XXXXXX")
  rmdir "$store"
  "$seal" populate-catalogue "$store" "$n" >/dev/null
  echo "== $n packages =="
  "$search" query "$store" | tee "$results.index"
  "$search" forget "$store"
  "$search" scan "$store" | tee "$results.scan"
  "$search" build "$store" | tee "$results.build"
  # One result line per query: its seconds from the index, the scan's as the baseline.
  while read -r _ name ms _ rss; do
    scan_ms=$(awk -v q="$name" '$2 == q { print $3 }' "$results.scan")
    awk -v n="$n" -v q="$name" -v ms="$ms" -v rss="$rss" -v base="$scan_ms" 'BEGIN {
      printf "result bench=search phase=%s n=%s seconds=%.4f rss_mib=%s baseline_seconds=%.3f\n", q, n, ms / 1000, rss, base / 1000 }' >>"$results"
  done <"$results.index"
  read -r _ seconds _ rss <"$results.build"
  echo "result bench=search phase=index-build n=$n seconds=$seconds rss_mib=$rss baseline_seconds=-" >>"$results"
  rm -rf "$store" "$results.index" "$results.scan" "$results.build"
done
cat "$results"
