#!/bin/sh
# Content in S3 against content in RocksDB (issue 19 part 6), run on demand (not a test):
#   bench/s3_bench.sh BUILD_DIR [N]        (default N: 200)
# Builds nothing: uses BUILD_DIR/cli/preserve. Starts its own one-node Ceph
# (scripts/ceph-dev.sh, OSD on memstore: the objects live in the OSD's memory)
# in a work folder under ${TMPDIR:-/tmp}, and stops it and removes everything
# at the end.
#
# Setup (not timed): N distinct 10 KB documents and one 100 MB document
# (S3_BENCH_BIG_MB, default 100), each signed as detached CAdES with openssl
# by the test PKI's signer-rsa (tests/fixtures/pki).
#
# Timed, each `preserve ingest --no-seal` into a fresh store:
#   rocksdb-10KB   the N documents, content in RocksDB (the default)
#   s3-10KB        the same, content in Ceph (`init --content s3://preserve-locked/...`,
#                  COMPLIANCE retention): baseline rocksdb-10KB
#   rocksdb-100MB  the big document, content in RocksDB
#   s3-100MB       the same, content in Ceph (multipart, 16 MiB parts): baseline rocksdb-100MB
#   curl-put-10KB  the N documents PUT into the Object Lock bucket by one curl
#                  over one kept-alive connection, one after another: the
#                  gateway's own time per small object (for reference)
#   aws-put-100MB  `aws s3 cp` of the big file into the plain bucket: what a
#                  plain S3 client takes to move the same bytes (for reference;
#                  it uploads 8 MiB parts ten at a time)
# Columns: seconds (wall), docs/s, MB/s (10^6 bytes of documents), cpu_s (user
# + system of preserve), RSS_MiB (/usr/bin/time %M). Then where the time goes:
# the objects uploaded (each data object of a package is one PUT: document,
# signature, certificates not seen before, manifest) and the time per object
# S3 adds over RocksDB.
# Last, one result line per timed phase (bench/README.md).
set -eu
build=${1:?usage: s3_bench.sh BUILD_DIR [N]}
n=${2:-200}
cli="$build/cli/preserve"
src=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$cli" ] || { echo "s3_bench.sh: $cli missing (build it first)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "s3_bench.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/s3_bench.XXXXXX")
trap 'bash "$src/scripts/ceph-dev.sh" stop "$work/ceph" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
. "$src/bench/bench_lib.sh"
bench_results_to "$work/results"
pki="$src/tests/fixtures/pki"

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "build: $build, $(nproc) cores, load $(load) at start"

# timed PHASE N BYTES BASELINE_SECONDS COMMAND...: as in ingest_bench.sh.
timed() {
  phase=$1 count=$2 bytes=$3 baseline=$4
  shift 4
  start=$(date +%s%N)
  rc=0
  /usr/bin/time -f '%U %S %M' -o "$work/$phase.time" "$@" >"$work/$phase.out" 2>"$work/$phase.err" || rc=$?
  end=$(date +%s%N)
  if [ "$rc" -ne 0 ]; then
    echo "s3_bench.sh: $phase failed (exit $rc):" >&2
    tail -5 "$work/$phase.err" >&2
    exit 1
  fi
  seconds=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.6f", ns / 1e9 }')
  read -r user_s system_s rss_kib <"$work/$phase.time"
  awk -v phase="$phase" -v n="$count" -v bytes="$bytes" -v s="$seconds" -v user="$user_s" -v sys="$system_s" \
    -v kib="$rss_kib" 'BEGIN {
    printf "%-14s %6d %9.3f %9.1f %9.1f %8.2f %8.0f\n", phase, n, s, n / s, bytes / 1e6 / s, user + sys, kib / 1024 }'
  bench_result s3 "$phase" "$count" "$seconds" "$rss_kib" "$baseline"
}

sign() {
  openssl cms -sign -binary -cades -md sha256 -in "$1" -signer "$pki/signer-rsa.pem" -inkey "$pki/signer-rsa.key" \
    -certfile "$pki/issuing-ca.pem" -outform DER -out "$1.p7s"
}

# ---- Setup (not timed) ----
t0=$(date +%s%N)
bash "$src/scripts/ceph-dev.sh" start "$work/ceph" >/dev/null 2>"$work/ceph-start.err" || {
  cat "$work/ceph-start.err" >&2
  exit 1
}
echo "ceph: started in $(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.1f", ns / 1e9 }') s"
. "$work/ceph/s3.env"
mkdir -p "$work/docs"
i=0
while [ "$i" -lt "$n" ]; do
  head -c 10240 /dev/urandom >"$work/docs/doc-$i.bin"
  sign "$work/docs/doc-$i.bin"
  i=$((i + 1))
done
big_mb=${S3_BENCH_BIG_MB:-100}
big_bytes=$((big_mb * 1000000))
big="$work/big.bin"
head -c "$big_bytes" /dev/urandom >"$big"
sign "$big"
docs_bytes=$((n * 10240))

ingest_args="--trust $pki/root-ca.pem --no-seal --ids-only"  # (no spaces in the source path)
init_s3() {
  "$cli" init --store "$1" --content "s3://$S3_BUCKET_LOCKED/$2" --s3-endpoint "$S3_ENDPOINT" \
    --s3-region "$S3_REGION" >/dev/null 2>&1
}
objects() {  # objects PREFIX: how many objects the bucket holds under PREFIX/
  aws --endpoint-url "$S3_ENDPOINT" s3api list-objects-v2 --bucket "$S3_BUCKET_LOCKED" --prefix "$1/" \
    --query 'length(Contents)' --output text
}

{
  printf "%-14s %6s %9s %9s %9s %8s %8s\n" phase n seconds docs/s MB/s cpu_s RSS_MiB
  "$cli" init --store "$work/rocks-small" >/dev/null 2>&1
  timed rocksdb-10KB "$n" "$docs_bytes" - "$cli" ingest --store "$work/rocks-small" $ingest_args "$work/docs"
  rocks_small=$seconds
  init_s3 "$work/s3-small" small
  timed s3-10KB "$n" "$docs_bytes" "$rocks_small" "$cli" ingest --store "$work/s3-small" $ingest_args "$work/docs"
  echo "s3-10KB-objects $(objects small) $seconds $rocks_small"
  for f in "$work"/docs/*.bin; do
    printf 'upload-file = "%s"\nurl = "%s/%s/curl/%s"\n' "$f" "$S3_ENDPOINT" "$S3_BUCKET_LOCKED" "$(basename "$f")"
  done >"$work/curl.config"
  timed curl-put-10KB "$n" "$docs_bytes" - curl -sS --fail --aws-sigv4 "aws:amz:$S3_REGION:s3" \
    --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -o /dev/null -K "$work/curl.config"

  "$cli" init --store "$work/rocks-big" >/dev/null 2>&1
  timed rocksdb-100MB 1 "$big_bytes" - "$cli" ingest --store "$work/rocks-big" $ingest_args "$big" "$big.p7s"
  rocks_big=$seconds
  init_s3 "$work/s3-big" big
  timed s3-100MB 1 "$big_bytes" "$rocks_big" "$cli" ingest --store "$work/s3-big" $ingest_args "$big" "$big.p7s"
  timed aws-put-100MB 1 "$big_bytes" - aws --endpoint-url "$S3_ENDPOINT" s3 cp --only-show-errors "$big" \
    "s3://$S3_BUCKET_PLAIN/big.bin"
} | tee "$work/figures"
grep -q '^aws-put-100MB' "$work/figures" || exit 1

# ---- Where the time goes ----
echo
awk -v n="$n" '
  $1 == "s3-10KB-objects" { objs = $2; s3 = $3; rocks = $4 }
  $1 == "curl-put-10KB" { curl = $3 }
  $1 == "s3-100MB" { big = $3; bigcpu = $6 }
  $1 == "rocksdb-100MB" { rbig = $3; rbigcpu = $6 }
  $1 == "aws-put-100MB" { aws = $3 }
  END {
    printf "10 KB documents: S3 %.3f s, RocksDB %.3f s (%.1f times); %d objects uploaded for %d packages: %.1f ms more per object\n", s3, rocks, s3 / rocks, objs, n, 1000 * (s3 - rocks) / objs
    printf "the gateway alone: %.1f ms per 10 KB PUT into the Object Lock bucket (curl, one connection, one at a time)\n", 1000 * curl / n
    printf "100 MB document: S3 %.3f s (cpu %.2f s), RocksDB %.3f s (cpu %.2f s), aws s3 cp %.3f s\n", big, bigcpu, rbig, rbigcpu, aws
  }' "$work/figures"
echo "machine: $(nproc) cores, load $(load) at the end (shared: other builds may be running)"
bench_print_results
