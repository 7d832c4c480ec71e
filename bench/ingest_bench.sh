#!/bin/sh
# Ingest benchmark (issue 4 part 10), run on demand (not a test):
#   bench/ingest_bench.sh BUILD_DIR [N]        (default N: 10000)
# Builds nothing: uses BUILD_DIR/bench/ingest_bench (-DPRESERVE_BUILD_BENCH=ON)
# and BUILD_DIR/cli/preserve. Everything goes under ${TMPDIR:-/tmp} and is
# removed afterwards (about 3 GB at the 1 GB phase).
#
# Setup (not timed): a PKI from scripts/make-revocation-pki.sh (root CA,
# issuing CA with a CRL distribution point, signers; root.crl and issuing.crl
# written as files), N distinct 10 KB documents signed as detached CAdES by
# signer-crl-only on every core, and one 1 GiB file with its detached signature.
#
# Timed:
#   ingest       Ingestion::IngestAll of the N documents into a fresh store: trust
#                anchor root-ca, intermediates pool issuing-ca, local CRLs, offline
#   seal         Sealing::Seal of them (separately)
#   cli-ingest   `preserve ingest --trust ROOT --crl CRL... --offline --no-seal DIR`
#                (what officers run), into another fresh store
#   cli-seal     `preserve seal` of those
#   cli-online   the same documents, CRLs fetched over HTTP instead (issue 15):
#                `preserve ingest --trust ROOT --intermediates CA --no-seal DIR` into
#                a fresh store, the distribution points served on loopback by
#                `python3 -m http.server`, whose log counts the GETs per CRL
#   cli-online2  again, into the same store (--allow-duplicate, so validated and
#                stored again): the CRLs it kept (0 GETs while fresh)
#   sha256sum    `sha256sum FILE` over the 1 GiB file (baseline; page cache warm)
#   copy-sync    `cp FILE COPY && sync COPY`: the file written once, durable (baseline)
#   openssl-sha  `openssl dgst -sha256 FILE`, for reference (coreutils' sha256sum may
#                not use the CPU's SHA instructions; OpenSSL, which preserve uses, does)
#   proc-1GB     ingest_bench ingest-one: a fresh store, then Ingestion::Ingest of that
#                file, in its own process (wall time includes Archive::Init)
#   ingest-1GB   within it, the Ingestion::Ingest call alone
#   cli-1GB      `preserve ingest --no-seal FILE FILE.p7s` into another fresh store
# Columns: seconds (wall), docs/s, MB/s (10^6 bytes of documents, plus
# signatures for the N-document phases), cpu_s (user + system, all threads),
# RSS_MiB (the process's peak resident set: VmHWM for ingest_bench phases,
# /usr/bin/time %M for the command-line ones). Targets (issue 4): at least
# 2,000 docs/s on 2 cores; 1 GiB ingest at least 80% of sha256sum's MB/s with
# peak RSS under 100 MB; issue 15: one GET per CRL per run, and cli-online at
# least 90% of cli-ingest's docs/s.
# Last, one result line per timed phase (bench/README.md); baseline: none for
# the N-document phases but cli-online and cli-online2 (cli-ingest), the larger
# of sha256sum and copy-sync for the big-file ingests.
# INGEST_BENCH_DOCS_ONLY=1 skips the 1 GiB phases; INGEST_BENCH_BIG_ONLY=1 runs
# only them. INGEST_BENCH_BIG_MB sets the big file's size in MiB (default 1024)
# and INGEST_BENCH_ROUNDS how many times its phases run, in turn, so that the
# baselines and preserve share the machine's moods (issue 18: preserve ingest
# within 1.1 times the larger of sha256sum and copy-sync, round by round).
set -eu
build=${1:?usage: ingest_bench.sh BUILD_DIR [N]}
n=${2:-10000}
bench="$build/bench/ingest_bench"
cli="$build/cli/preserve"
src=$(cd "$(dirname "$0")/.." && pwd)
for exe in "$bench" "$cli"; do
  [ -x "$exe" ] || { echo "ingest_bench.sh: $exe missing (build it first)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "ingest_bench.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ingest_bench.XXXXXX")
http_pid=
trap 'if [ -n "$http_pid" ]; then kill "$http_pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
pki="$work/pki"
. "$src/bench/bench_lib.sh"
bench_results_to "$work/results"

load() { cut -d' ' -f1-3 /proc/loadavg; }
type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
echo "build: $build (${type:-RelWithDebInfo, the default}), $(nproc) cores, load $(load) at start"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"

# timed PHASE N BYTES BASELINE_SECONDS COMMAND...: runs COMMAND under
# /usr/bin/time, prints a line in ingest_bench's format and keeps the phase's
# result line (BASELINE_SECONDS "-": none); sets $seconds. COMMAND's stdout
# goes to $work/PHASE.out, stderr to $work/PHASE.err; fails when COMMAND does.
timed() {
  phase=$1 count=$2 bytes=$3 baseline=$4
  shift 4
  start=$(date +%s%N)
  rc=0
  /usr/bin/time -f '%U %S %M' -o "$work/$phase.time" "$@" >"$work/$phase.out" 2>"$work/$phase.err" || rc=$?
  end=$(date +%s%N)
  if [ "$rc" -ne 0 ]; then
    echo "ingest_bench.sh: $phase failed (exit $rc):" >&2
    tail -5 "$work/$phase.err" >&2
    exit 1
  fi
  seconds=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.6f", ns / 1e9 }')
  read -r user_s system_s rss_kib <"$work/$phase.time"
  awk -v phase="$phase" -v n="$count" -v bytes="$bytes" -v s="$seconds" -v user="$user_s" -v sys="$system_s" \
    -v kib="$rss_kib" 'BEGIN {
    printf "%-12s %7d %9.3f %9.0f %9.1f %8.2f %8.0f\n", phase, n, s, n / s, bytes / 1e6 / s, user + sys, kib / 1024 }'
  bench_result ingest "$phase" "$count" "$seconds" "$rss_kib" "$baseline"
}

# ---- Setup (not timed) ----
# The CRL distribution points name a loopback port that python3's http.server
# serves the PKI folder on (the offline phases never ask it).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$src/scripts/make-revocation-pki.sh" "$pki" 9 "$port" >/dev/null
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$pki" >/dev/null 2>"$work/http.log" &
http_pid=$!
gets() { grep -c "\"GET /$1 " "$work/http.log" || true; }
{
  "$bench" header
  [ "${INGEST_BENCH_BIG_ONLY:-0}" = 1 ] || {
  "$bench" sign "$pki" "$work/docs" "$n"

  # ---- N documents ----
  bench_run "$bench" ingest "$pki" "$work/docs" "$work/store-lib"
  rm -rf "$work/store-lib"
  docs_bytes=$(du -sb "$work/docs" | cut -f1)
  "$cli" init --store "$work/store-cli" >/dev/null 2>&1
  timed cli-ingest "$n" "$docs_bytes" - "$cli" ingest --store "$work/store-cli" --trust "$pki/root-ca.pem" \
    --intermediates "$pki/issuing-ca.pem" --crl "$pki/root.crl" --crl "$pki/issuing.crl" --offline --no-seal --ids-only \
    "$work/docs"
  accepted=$(wc -l <"$work/cli-ingest.out")
  [ "$accepted" -eq "$n" ] || { echo "ingest_bench.sh: preserve ingest accepted $accepted of $n" >&2; exit 1; }
  offline_seconds=$seconds
  timed cli-seal "$n" 0 - "$cli" seal --store "$work/store-cli"
  rm -rf "$work/store-cli"

  # ---- The same N documents, CRLs over HTTP (issue 15) ----
  "$cli" init --store "$work/store-online" >/dev/null 2>&1
  for run in cli-online cli-online2; do
    timed "$run" "$n" "$docs_bytes" "$offline_seconds" "$cli" ingest --store "$work/store-online" --trust "$pki/root-ca.pem" \
      --intermediates "$pki/issuing-ca.pem" --no-seal --allow-duplicate "$work/docs"
    accepted=$(wc -l <"$work/$run.out")
    [ "$accepted" -eq "$n" ] || { echo "ingest_bench.sh: $run accepted $accepted of $n" >&2; exit 1; }
    echo "$run-gets issuing.crl $(gets issuing.crl) root.crl $(gets root.crl) (cumulative)"
  done
  rm -rf "$work/store-online" "$work/docs"
  echo "load $(load) after the $n-document phases" >&2
  }
  [ "${INGEST_BENCH_DOCS_ONLY:-0}" = 1 ] && exit 0

  # ---- One big file (1 GiB unless INGEST_BENCH_BIG_MB says otherwise) ----
  big="$work/big.bin"
  big_bytes=$((${INGEST_BENCH_BIG_MB:-1024} * 1048576))
  head -c "$big_bytes" /dev/urandom >"$big"
  "$bench" sign-file "$pki" "$big"
  sha256sum "$big" >/dev/null  # the page cache is warm for every reader below
  round=0
  while [ "$round" -lt "${INGEST_BENCH_ROUNDS:-1}" ]; do
    round=$((round + 1))
    timed sha256sum 1 "$big_bytes" - sha256sum "$big"
    sha_seconds=$seconds
    timed copy-sync 1 "$big_bytes" - sh -c 'cp "$1" "$2" && sync "$2"' copy "$big" "$work/copy.bin"
    rm -f "$work/copy.bin"
    larger=$(awk -v a="$sha_seconds" -v b="$seconds" 'BEGIN { print (a > b ? a : b) }')
    timed openssl-sha 1 "$big_bytes" - openssl dgst -sha256 "$big"  # for reference: OpenSSL's SHA-256, as preserve uses
    timed proc-1GB 1 "$big_bytes" "$larger" "$bench" ingest-one "$pki" "$big" "$work/store-big" "$larger"
    bench_show "$work/proc-1GB.out"  # ingest_bench's own lines: RSS once the store is open; the Ingest call alone
    rm -rf "$work/store-big"
    "$cli" init --store "$work/store-cli-big" >/dev/null 2>&1
    timed cli-1GB 1 "$big_bytes" "$larger" "$cli" ingest --store "$work/store-cli-big" --trust "$pki/root-ca.pem" \
      --intermediates "$pki/issuing-ca.pem" --crl "$pki/root.crl" --crl "$pki/issuing.crl" --offline --no-seal \
      "$big" "$big.p7s"
    rm -rf "$work/store-cli-big"
  done
} | tee "$work/figures"
if [ "${INGEST_BENCH_DOCS_ONLY:-0}" = 1 ]; then
  grep -q '^cli-online2-gets' "$work/figures" || exit 1  # a phase failed (said above)
else
  grep -q '^cli-1GB' "$work/figures" || exit 1
fi

# ---- Against the targets ----
echo
awk -v n="$n" '
  function max(a, b) { return a > b ? a : b }
  $1 == "ingest"     { printf "ingest: %.0f docs/s for %d documents (target >= 2000/s on 2 cores), %.2f CPU s\n", $4, n, $6 }
  $1 == "cli-ingest" { printf "preserve ingest: %.0f docs/s, %.2f CPU s, peak RSS %.0f MiB\n", $4, $6, $7; offline = $4 }
  $1 == "cli-online" { online = $4 }
  $1 == "cli-online2" { online2 = $4 }
  $1 == "cli-online-gets" { g1 = $3 "/" $5 }
  $1 == "cli-online2-gets" { g2 = $3 "/" $5 }
  $1 == "sha256sum"  { sha = $5; sha_s = $3 }
  $1 == "copy-sync"  { copy_s = $3 }
  $1 == "openssl-sha" { ossl = $5 }
  $1 == "ingest-1GB" { lib = $5 }
  $1 == "proc-1GB"   { librss = $7 }
  $1 == "cli-1GB"    {
    cli = $5; clirss = $7; rounds++
    printf "round %d: preserve ingest %.3f s, sha256sum %.3f s, copy-sync %.3f s: %.2f times the larger (target <= 1.1), peak RSS %.0f MiB\n", rounds, $3, sha_s, copy_s, $3 / max(sha_s, copy_s), clirss
  }
  END {
    if (offline > 0) {
      printf "online CRLs: %.0f docs/s = %.0f%% of offline (target >= 90%%); GETs issuing.crl/root.crl after run 1: %s, after run 2: %s (target 1/1, 1/1)\n", online, 100 * online / offline, g1, g2
      printf "online CRLs, second run on the store: %.0f docs/s = %.0f%% of offline\n", online2, 100 * online2 / offline
    }
    if (sha == 0) exit
    printf "big file: sha256sum %.1f MB/s; Ingestion::Ingest %.1f MB/s = %.0f%% of it (target >= 80%%), peak RSS %.0f MiB (target < 100 MB)\n", sha, lib, 100 * lib / sha, librss
    printf "big file: preserve ingest %.1f MB/s = %.0f%% of sha256sum, peak RSS %.0f MiB\n", cli, 100 * cli / sha, clirss
    printf "big file: (openssl dgst -sha256 %.1f MB/s: Ingestion::Ingest is %.0f%% of it)\n", ossl, 100 * lib / ossl
  }
' "$work/figures"
echo "machine: $(nproc) cores, load $(load) at the end (shared: other builds may be running; cpu_s says what the phases used)"
bench_print_results
