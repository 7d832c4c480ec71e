#!/bin/sh
# Web application page times (issue 17 part 6), run on demand (not a test):
#   bench/web_bench.sh BUILD_DIR [N...]        (default N: 10000 100000)
# Uses BUILD_DIR/cli/preserve and BUILD_DIR/bench/seal_bench (built with
# -DPRESERVE_BUILD_BENCH=ON). Per N: a fresh store under ${TMPDIR:-/tmp} with
# N synthetic packages with record metadata (seal_bench populate-catalogue), sealed (seal_bench seal), one
# real signed letter ingested, an admin account with a password, then
# `preserve serve --no-jobs`. Signed in with curl, each page is fetched 5
# times; the median of curl's time_total on loopback is the page's time
# (the server's time plus a loopback round trip). Baseline: GET /health,
# which does nothing, over the same connection setup.
# Last, one result line per page and N (bench/README.md; rss_mib: the
# service's peak RSS so far; baseline: GET /health).
set -eu
build=${1:?usage: web_bench.sh BUILD_DIR [N...]}
shift
[ $# -gt 0 ] || set -- 10000 100000
cli="$build/cli/preserve"
seal="$build/bench/seal_bench"
src=$(cd "$(dirname "$0")/.." && pwd)
for exe in "$cli" "$seal"; do
  [ -x "$exe" ] || { echo "web_bench.sh: $exe missing (build with -DPRESERVE_BUILD_BENCH=ON)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/web_bench.XXXXXX")
serve_pid=
cleanup() {
  [ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
. "$src/bench/bench_lib.sh"
bench_results_to "$work/results"

# The median of curl's time_total over 5 fetches of URL (with the session cookie).
page_time() {
  for i in 1 2 3 4 5; do
    curl -s -o /dev/null -b "$work/cookies" -w '%{time_total}\n' "$1"
  done | sort -n | sed -n 3p
}

echo "build: $build, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in "$@"; do
  store="$work/store-$n"
  "$seal" populate-catalogue "$store" "$n" >/dev/null
  "$seal" seal "$store" "$n" >/dev/null
  id=$("$cli" ingest --ids-only --no-seal --store "$store" --trust "$src/tests/fixtures/pki/root-ca.pem" \
    --signature "$src/tests/fixtures/signed/letter.txt.p7s" "$src/tests/fixtures/signed/letter.txt")
  "$cli" user add bench-admin --role admin --store "$store" >/dev/null 2>&1
  echo "web bench password" | "$cli" user passwd bench-admin --store "$store" >/dev/null

  "$cli" serve --store "$store" --listen 127.0.0.1:0 --no-jobs 2>"$work/serve.log" &
  serve_pid=$!
  url=
  for i in $(seq 1 100); do
    url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/serve.log")
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$work/serve.log"; exit 1; }
  rm -f "$work/cookies"
  token=$(curl -s -c "$work/cookies" "$url/signin" | sed -n 's/.*name="signin" value="\([0-9a-f]*\)".*/\1/p')
  curl -s -o /dev/null -b "$work/cookies" -c "$work/cookies" \
    --data "signin=$token&name=bench-admin&password=web+bench+password&next=%2F" "$url/signin"

  baseline=$(page_time "$url/health")
  printf '%-22s %9s %9s %9s\n' page N ms health_ms
  for page in dashboard search "search?organ=nothing-matches" "package/$id" "report/$id" \
              audit-trail reports/signatures accounts policy; do
    t=$(page_time "$url/$page")
    rss_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$serve_pid/status")
    name=$(echo "$page" | sed "s|$id|ID|; s|?.*|-filtered|")
    awk -v p="$name" -v n="$n" -v t="$t" -v b="$baseline" 'BEGIN { printf "%-22s %9s %9.1f %9.1f\n", p, n, t * 1000, b * 1000 }'
    bench_result web "$name" "$n" "$t" "$rss_kib" "$baseline"
  done
  kill "$serve_pid"
  wait "$serve_pid" 2>/dev/null || true
  serve_pid=
  rm -rf "$store"
done
bench_print_results
