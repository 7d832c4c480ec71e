#!/bin/sh
# Scale benchmark (issue 18 part 5), run on demand (not a test): one store of
# N synthetic packages taken through the archive's whole life, each step in
# its own process, timed from outside with /usr/bin/time (wall, CPU = user +
# system, peak RSS), all on the same store, in this order:
#   populate    seal_bench populate-catalogue: N packages with real manifests
#               and record metadata, written straight into the store (and its
#               search index) and queued for sealing
#   seal        seal_bench seal (the bench's clock: 2027-01-01)
#   renew-ts    seal_bench renew-ts: timestamp renewal of all N (the embedded
#               TSA's certificate ends inside the margin)
#   renew-hash  seal_bench renew-hash: hash-tree renewal of all N (a policy
#               that retires SHA-256; setting it is inside the step)
#   search      search_bench query: 8 filtered first pages of 50 from the
#               search index, 5 times each (its lines show each median)
#   list        preserve list with organ, type and year filters, first page of
#               50: one CLI process, as a user runs it
#   fixity      preserve fixity --sample 0.001 (at least one package's worth)
#   check       preserve check
#   compact     preserve compact: every table rewritten, superseded evidence
#               dropped (its row's store_bytes is the store after it)
#   backup      preserve backup to a new folder beside the store
#   backup-size (no timing) the backup's size on disk
#     bench/scale_bench.sh BUILD_DIR [--dir DIR] [--keep] N
# e.g. bench/scale_bench.sh build 10000000. The CLI steps run with --now
# 2028-10-02 so that the store's clock, which the seal_bench steps set
# (2027-2028), does not go back. Builds nothing: needs BUILD_DIR/cli/preserve
# and BUILD_DIR/bench/{seal_bench,search_bench} (-DPRESERVE_BUILD_BENCH=ON).
# The work folder (store + backup) is made under DIR, by default
# ${TMPDIR:-/tmp}, and removed at the end unless --keep. The free space there
# is printed first, and the run refused when it is less than about
# SCALE_BENCH_BYTES_PER_PACKAGE (default 9000: at 100000, 3.55 KB per package
# in the store and as much again in the backup, plus a quarter for RocksDB's
# compactions) times N.
#
# Each step's own output comes first, indented (the drivers' rows are
# seal_bench's and search_bench's: their headers say what the columns are),
# then one row: step, N, seconds (wall of the process), cpu_s,
# RSS_MiB, inner_s (the driver's own figure for the phase, without start-up,
# closing or its baseline; "-" for the CLI), store_bytes (du -sb of the store
# after the step) and B/pkg. A step that fails says so (its exit status and
# the end of its stderr) and the next one runs anyway: the run ends with exit
# 1 and the list of failed steps. Last, one result line per step that
# succeeded (bench/README.md; bench=scale, seconds: the process's wall time;
# baseline: for populate/seal/renew-* the driver's hash loop, SHA-256 or for
# renew-hash SHA-384; for fixity sha256sum of as many packages' content (not
# the same ones: the sample is random) from a file; for backup `tar -c` of
# the store piped to /dev/null; else "-"), after the drivers' own lines.
set -eu
usage="usage: scale_bench.sh BUILD_DIR [--dir DIR] [--keep] N"
build= n= dir=${TMPDIR:-/tmp} keep=
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=${2:?--dir needs a folder}; shift 2 ;;
    --keep) keep=1; shift ;;
    -*) echo "$usage" >&2; exit 2 ;;
    *) if [ -z "$build" ]; then build=$1; elif [ -z "$n" ]; then n=$1; else echo "$usage" >&2; exit 2; fi; shift ;;
  esac
done
[ -n "$build" ] && [ -n "$n" ] || { echo "$usage" >&2; exit 2; }
case $n in *[!0-9]* | 0) echo "scale_bench.sh: N must be a positive count" >&2; exit 2 ;; esac
seal="$build/bench/seal_bench"
search="$build/bench/search_bench"
preserve="$build/cli/preserve"
for tool in "$seal" "$search" "$preserve"; do
  [ -x "$tool" ] || { echo "scale_bench.sh: $tool missing (build with -DPRESERVE_BUILD_BENCH=ON)" >&2; exit 2; }
done
. "$(dirname "$0")/bench_lib.sh"

# Free space first: refuse when clearly too little.
per_package=${SCALE_BENCH_BYTES_PER_PACKAGE:-9000}
mkdir -p "$dir"
avail=$(df -Pk "$dir" | awk 'NR == 2 { printf "%.0f", $4 * 1024 }')
need=$(awk -v n="$n" -v b="$per_package" 'BEGIN { printf "%.0f", n * b }')
echo "build: $build ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo) GiB memory"
echo "free space in $dir: $(awk -v a="$avail" 'BEGIN { printf "%.1f", a / 1e9 }') GB; $n packages need about $(awk -v a="$need" 'BEGIN { printf "%.1f", a / 1e9 }') GB (store + backup, $per_package bytes per package)"
if awk -v a="$avail" -v b="$need" 'BEGIN { exit !(a < b) }'; then
  echo "scale_bench.sh: not enough free space in $dir (use --dir, or set SCALE_BENCH_BYTES_PER_PACKAGE if you know better)" >&2
  exit 1
fi

work=$(mktemp -d "$dir/scale_bench.XXXXXX")
if [ -n "$keep" ]; then trap 'echo "kept: $work"' EXIT; else trap 'rm -rf "$work"' EXIT; fi
trap 'exit 130' INT TERM
store="$work/store"
bench_results_to "$work/results"
now=2028-10-02T00:00:00Z
failed=

printf '%-11s %9s %9s %9s %8s %9s %13s %8s\n' step N seconds cpu_s RSS_MiB inner_s store_bytes B/pkg

# step NAME BASELINE COMMAND...: runs COMMAND in its own process under
# /usr/bin/time, shows its output (without result lines, kept for the end),
# then the step's row and its result line; BASELINE "-" for none, "driver"
# for the driver's own baseline_seconds. A failure is said and recorded; the
# run goes on.
step() {
  name=$1 baseline=$2
  shift 2
  if /usr/bin/time -o "$work/time" -f '%e %U %S %M' "$@" >"$work/out" 2>"$work/err"; then
    rc=0
  else
    rc=$?
  fi
  if [ "$name" = fixity ]; then
    grep -v '^OK ' "$work/out" | sed 's/^/  /' || true  # one OK line per package read
  elif [ "$name" = list ]; then
    echo "  $(grep -c '^[0-9a-f]\{8\}-' "$work/out" || true) packages on the page"
  else
    bench_show "$work/out" | sed 's/^/  /'
  fi
  size=$(du -sb "$store" 2>/dev/null | cut -f1)
  if [ "$rc" -ne 0 ]; then
    printf '%-11s %9s FAILED (exit %s); store_bytes %s\n' "$name" "$n" "$rc" "${size:--}"
    tail -n 5 "$work/err" | sed 's/^/  stderr: /'
    failed="$failed $name"
    return 0
  fi
  sed 's/^/  stderr: /' "$work/err"
  # Its last line: "Command exited with non-zero status" comes before it.
  read -r wall user system kib <<EOF
$(tail -n 1 "$work/time")
EOF
  inner=$(sed -n 's/^result .* seconds=\([^ ]*\) .*/\1/p' "$work/out" | tail -n 1)
  [ "$baseline" != driver ] || baseline=$(sed -n 's/^result .* baseline_seconds=\([^ ]*\)$/\1/p' "$work/out" | tail -n 1)
  awk -v step="$name" -v n="$n" -v wall="$wall" -v cpu="$(awk "BEGIN { print $user + $system }")" -v kib="$kib" \
    -v inner="${inner:--}" -v size="$size" 'BEGIN {
    if (inner != "-") inner = sprintf("%.2f", inner)
    printf "%-11s %9d %9.2f %9.2f %8.0f %9s %13.0f %8.0f\n", step, n, wall, cpu, kib / 1024, inner, size, size / n
  }'
  bench_result scale "$name" "$n" "$wall" "$kib" "${baseline:--}"
}

# timed COMMAND...: wall seconds of COMMAND (a baseline), to the microsecond
# (/usr/bin/time's hundredths round fixity's sha256sum of a few hundred
# kilobytes to 0), or "-" when it fails.
timed() {
  start=$(date +%s%N)
  if "$@" >/dev/null 2>"$work/err"; then
    awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.6f\n", ns / 1e9 }'
  else
    echo "scale_bench.sh: baseline $* failed: $(tail -n 1 "$work/err")" >&2
    echo -
  fi
}

step populate driver "$seal" populate-catalogue "$store" "$n"
step seal driver "$seal" seal "$store" "$n"
step renew-ts driver "$seal" renew-ts "$store" "$n"
step renew-hash driver "$seal" renew-hash "$store" "$n"
step search - "$search" query "$store"
step list - "$preserve" --store "$store" --now "$now" list --organ "so tu phap" --type "cong van" \
  --issued-from 2019-01-01 --issued-to 2019-12-31 --limit 50

# fixity's baseline: sha256sum of as many packages' content, from a file.
sample=$(awk -v n="$n" 'BEGIN { k = n * 0.001; print (k < 1) ? 1 : int(k + 0.5) }')
fixity_baseline=-
if "$seal" content - "$sample" >"$work/content"; then
  fixity_baseline=$(timed sha256sum "$work/content")
fi
rm -f "$work/content"
step fixity "$fixity_baseline" "$preserve" --store "$store" --now "$now" fixity --sample 0.001
step check - "$preserve" --store "$store" --now "$now" check
step compact - "$preserve" --store "$store" --now "$now" compact

backup_baseline=$(timed sh -c 'tar -cf - -C "$1" . | cat >/dev/null' sh "$store")
step backup "$backup_baseline" "$preserve" --store "$store" --now "$now" backup "$work/backup"
if [ -d "$work/backup" ]; then
  size=$(du -sb "$work/backup" | cut -f1)
  printf '%-11s %9s %9s %9s %8s %9s %13d %8.0f\n' backup-size "$n" - - - - "$size" \
    "$(awk -v s="$size" -v n="$n" 'BEGIN { print s / n }')"
fi
echo "free space left in $dir at the end: $(df -Pk "$dir" | awk 'NR == 2 { printf "%.1f", $4 * 1024 / 1e9 }') GB"
[ -z "$failed" ] || echo "FAILED steps:$failed" >&2
bench_print_results
[ -z "$failed" ]
