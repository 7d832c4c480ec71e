#!/bin/sh
# Seal, timestamp-renew and hash-tree-renew N synthetic packages with the
# embedded TSA, each phase in its own process (peak RSS per phase).
#   bench/seal_bench.sh BUILD_DIR [--content BYTES] [N...]      (default N: 10000 100000 1000000)
# --content BYTES: each package's objects hold BYTES in all (real documents
# rather than a few dozen bytes each), and after the phases `sha384sum` and
# `sha512sum` hash the same bytes (written to a file under the store's
# directory first, so that the tools time the hashing and their reads only):
# what a hash-tree renewal, which must read and hash all content again, is to
# be compared with.
# Stores go under ${TMPDIR:-/tmp} and are removed afterwards. cpu_s is the
# phase's CPU time (user + system, all threads); "close" lines time the
# memtable flush when the store is closed after a phase. Last, one result
# line per phase and N (bench/README.md; baseline: the hash loop, SHA-256 or
# for renew-hash SHA-384), and with --content one each for sha384sum and
# sha512sum.
set -eu
build=${1:?usage: seal_bench.sh BUILD_DIR [--content BYTES] [N...]}
shift
bytes=
if [ "${1:-}" = --content ]; then
  bytes=${2:?--content needs a byte count}
  shift 2
fi
[ $# -gt 0 ] || set -- 10000 100000 1000000
bench="$build/bench/seal_bench"
. "$(dirname "$0")/bench_lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/seal_bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
bench_results_to "$work/results"
echo "build: $build ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)${bytes:+, $bytes bytes per package}"
printf '%-11s %9s %9s %11s %6s %9s %9s %8s %9s\n' phase N seconds packages/s TSA RSS_MiB hash_s ratio cpu_s
for n in "$@"; do
  store="$work/store-$n"
  for phase in populate seal renew-ts renew-hash; do
    bench_run "$bench" "$phase" "$store" "$n" $bytes
  done
  if [ -n "$bytes" ]; then
    "$bench" content - "$n" "$bytes" > "$store/content"
    for tool in sha384sum sha512sum; do
      /usr/bin/time -o "$work/time" -f "%e %U %S %M" "$tool" "$store/content" > /dev/null
      read -r wall user system kib <"$work/time"
      printf '%-11s %9s %s s wall, %s s user, %s s system, %s MiB\n' "$tool" "$n" "$wall" "$user" "$system" \
        "$(du -m "$store/content" | cut -f1)"
      bench_result seal "$tool" "$n" "$wall" "$kib"
    done
  fi
  rm -rf "$store"
done
bench_print_results
