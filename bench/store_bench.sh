#!/bin/sh
# Store-scale benchmark (issue 5 part 10), run on demand (not a test): one
# store grown to each size in turn, one process per step.
#   bench/store_bench.sh BUILD_DIR [SIZE...]     (default SIZE: 0 10000 50000)
# e.g. bench/store_bench.sh build 0 250000 500000 750000 1000000
# SIZEs are counts of synthetic packages, increasing. Builds nothing: uses
# BUILD_DIR/bench/store_bench (-DPRESERVE_BUILD_BENCH=ON). The store goes under
# ${TMPDIR:-/tmp} and is removed afterwards (about 2.5 GB at a million).
# STORE_BENCH_DOCS sets the real documents per ingest round (default 500;
# three rounds per step).
#
# Each step (store_bench.cc's header says exactly what is timed): synthetic
# sealed packages up to SIZE written straight into the store and sealed, the
# compactions settled, then three rounds of DOCS new real signed documents
# through Ingestion::IngestAll (and sealed), then one row:
#   synthetic  SIZE;  packages: in the store (synthetic + real so far)
#   grow_s     writing the new synthetic packages (closing the store included)
#   seal_s     Sealing::Seal of them
#   settle_s   waiting for the RocksDB compactions those bulk writes left
#              pending, then syncfs (a store grown by ingest has done both
#              long before)
#   docs/s     Ingestion::IngestAll of DOCS real documents, the median of three
#              rounds; ing_cpu that round's CPU seconds
#   db_MiB     size of STORE/db/ after the memtable flush at close, no manual
#              compaction; B/pkg = db bytes / packages
#   list1_ms   Catalogue::List, first page of 100 (median of 7)
#   listM_ms   the page of 100 after the middle package id (median of 7)
#   search_ms  Catalogue::List of the whole store filtered by one of 16 organs
#              (median of 3, or one run over 2 s); matches: packages found
#   plan0_s    Sealing::PlanRenewal, margin 0 (nothing due)
#   planA_s    the same, margin 11 years (every package due); due: its items
#   scan_ms    baseline: plain RocksDB iteration over the packages, evidence
#              and content column families (scan_MB: keys + values read)
#   srch/sc    search_ms / scan_ms
#   RSS_MiB    the step process's peak resident set
# Synthetic packages are five objects of about 60 bytes plus a 1.9 KB
# manifest; the real ones are 10 KB documents with their signatures. The last
# line compares the last step's docs/s with the first's: "not falling" when
# the ratio is at least 0.80. Last, one result line per phase of each step
# (bench/README.md; store_bench.cc's header lists them; n: SIZE).
set -eu
build=${1:?usage: store_bench.sh BUILD_DIR [SIZE...]}
shift
[ $# -gt 0 ] || set -- 0 10000 50000
bench="$build/bench/store_bench"
src=$(cd "$(dirname "$0")/.." && pwd)
docs=${STORE_BENCH_DOCS:-500}
[ -x "$bench" ] || { echo "store_bench.sh: $bench missing (build it first)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/store_bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
. "$src/bench/bench_lib.sh"
bench_results_to "$work/results"

load() { cut -d' ' -f1-3 /proc/loadavg; }
type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
echo "build: $build (${type:-RelWithDebInfo, the default}), $(nproc) cores, load $(load) at start"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "store: $work/store, 3 rounds of $docs real documents per step"
{
  "$bench" header
  from=0
  for size in "$@"; do
    bench_run "$bench" step "$src/tests/fixtures" "$work/store" "$from" "$size" "$docs"
    echo "load $(load) after the step to $size" >&2
    from=$size
  done
} | tee "$work/figures"
rows=$(grep -c '^ *[0-9]' "$work/figures" || true)
[ "$rows" -eq $# ] || { echo "store_bench.sh: a step failed (said above)" >&2; exit 1; }

echo
awk '
  $1 ~ /^[0-9]+$/ { if (!n++) { p0 = $2; r0 = $6; c0 = $7 } p = $2; r = $6; c = $7 }
  END {
    ratio = r / r0
    verdict = (ratio >= 0.8) ? "not falling (at least 0.80)" : "FALLING (more than 20% down)"
    printf "ingest rate: %.0f docs/s at %d packages, %.0f docs/s at %d: last/first %.2f, %s\n", r0, p0, r, p, ratio, verdict
    printf "  docs per CPU second (less sensitive to the neighbours): ingest CPU %.2f s first, %.2f s last, last/first rate %.2f\n",
           c0, c, c0 / c
  }
' "$work/figures"
echo "machine: $(nproc) cores, load $(load) at the end (shared: other builds may be running)"
bench_print_results
