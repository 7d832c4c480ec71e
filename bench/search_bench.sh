#!/bin/sh
# Search benchmark (issue 18 part 1), run on demand (not a test): N synthetic
# packages with real manifests and record metadata (seal_bench
# populate-catalogue), then filtered first pages of 50 from the search index,
# the same filters read through the manifests as a store without the index
# does (the baseline), `index build` of the whole store, and the
# signature-use report by organ and by month over N ingest events.
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
. "$(dirname "$0")/bench_lib.sh"
echo "build: $build, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
work=$(mktemp -d "${TMPDIR:-/tmp}/search_bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
bench_results_to "$work/results"
for n in "$@"; do
  store="$work/store-$n"
  "$seal" populate-catalogue "$store" "$n" >/dev/null
  echo "== $n packages: query, median ms of 5 first pages of 50, matches on the page, peak RSS MiB =="
  "$search" query "$store" | tee "$work/index"
  "$search" forget "$store"
  echo "== the same through the manifests (no index), one run =="
  "$search" scan "$store" | tee "$work/scan"
  echo "== index build =="
  "$search" build "$store" | tee "$work/build"
  # One result per query: the index's seconds, the scan's as the baseline.
  while read -r _ name ms _ rss; do
    scan_ms=$(awk -v q="$name" '$2 == q { print $3 }' "$work/scan")
    bench_result search "$name" "$n" "$(awk "BEGIN { print $ms / 1000 }")" $((rss * 1024)) \
      "$(awk "BEGIN { print $scan_ms / 1000 }")"
  done <"$work/index"
  read -r _ seconds _ rss <"$work/build"
  bench_result search index-build "$n" "$seconds" $((rss * 1024))
  echo "== the signature-use report over $n ingest events in the audit trail: grouping, seconds, rows =="
  "$search" trail "$store" "$n"
  "$search" report "$store" | tee "$work/report"
  while read -r _ grouping seconds _ rss; do
    bench_result search "report-by-$grouping" "$n" "$seconds" $((rss * 1024))
  done <"$work/report"
  rm -rf "$store"
done
bench_print_results
