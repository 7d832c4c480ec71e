#!/bin/sh
# Service benchmark (issue 16 part 7), run on demand (not a test):
#   bench/serve_bench.sh BUILD_DIR [N]        (default N: 2000)
# Builds nothing: uses BUILD_DIR/cli/preserve, BUILD_DIR/bench/ingest_bench
# (to sign the documents) and BUILD_DIR/bench/serve_load (the clients), built
# with -DPRESERVE_BUILD_BENCH=ON. Everything goes under ${TMPDIR:-/tmp}.
#
# Setup (not timed): the PKI of scripts/make-revocation-pki.sh, whose signer
# certificates name a CRL distribution point served on loopback by
# `python3 -m http.server`; N distinct 10 KB documents signed as detached
# CAdES; one PreservePO request body per document (signature and document,
# base64).
#
# Timed, each into a fresh store, CRLs fetched over HTTP as an officer's
# ingest would:
#   cli-ingest      `preserve ingest --trust ROOT --intermediates CA --no-seal DIR`
#   serve-8         PreservePO of the same N documents by 8 keep-alive clients
#                   (bench/serve_load) against `preserve serve --no-jobs`
#   serve-32        the same with 32 clients
#   validate-8      ValidateEvidence {"poId": ...} of one sealed package, N
#                   times over 8 clients
# Per phase: documents (or requests)/s, p50 and p99 latency, the peak RSS of
# the process measured (VmHWM of `preserve serve`; /usr/bin/time for the CLI),
# and the ratio to the CLI's rate (goal: at least 80%). Last, one result line
# per phase (bench/README.md; baseline: cli-ingest of the same documents, for
# serve-8 and serve-32).
set -eu
build=${1:?usage: serve_bench.sh BUILD_DIR [N]}
n=${2:-2000}
cli="$build/cli/preserve"
signer="$build/bench/ingest_bench"
load="$build/bench/serve_load"
src=$(cd "$(dirname "$0")/.." && pwd)
for exe in "$cli" "$signer" "$load"; do
  [ -x "$exe" ] || { echo "serve_bench.sh: $exe missing (build with -DPRESERVE_BUILD_BENCH=ON)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "serve_bench.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/serve_bench.XXXXXX")
http_pid= serve_pid=
cleanup() {
  for pid in $serve_pid $http_pid; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pki="$work/pki"
. "$src/bench/bench_lib.sh"
bench_results_to "$work/results"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "build: $build, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at start"

# ---- Setup (not timed) ----
port=$(free_port)
bash "$src/scripts/make-revocation-pki.sh" "$pki" 9 "$port" >/dev/null
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$pki" >/dev/null 2>&1 &
http_pid=$!
"$signer" sign "$pki" "$work/docs" "$n" >/dev/null
python3 - "$work/docs" "$work/bodies" <<'PY'
import base64, json, os, sys
docs, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
for name in sorted(os.listdir(docs)):
    if not name.endswith(".txt"):
        continue
    def po(path, id, **extra):
        with open(os.path.join(docs, path), "rb") as f:
            return dict(binaryData={"value": base64.b64encode(f.read()).decode()}, id=id, **extra)
    body = {"po": [po(name + ".p7s", name + ".p7s", formatId="http://uri.etsi.org/ades/CAdES", relObj=[name]),
                   po(name, name)]}
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(body, f)
PY

# A fresh store with the signers' anchor on its trust list and one account.
fresh_store() {
  rm -rf "$work/store"
  "$cli" init --store "$work/store" >/dev/null 2>&1
  "$cli" trust add "$pki/root-ca.pem" --store "$work/store" --reason benchmark >/dev/null
  "$cli" user add "$1" --role "$2" --store "$work/store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# Starts `preserve serve` on the fresh store; sets serve_pid and serve_port.
start_serve() {
  serve_port=$(free_port)
  "$cli" serve --store "$work/store" --listen "127.0.0.1:$serve_port" --intermediates "$pki/issuing-ca.pem" "$@" \
    2>"$work/serve.err" &
  serve_pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/serve.err" && return 0; sleep 0.1; done
  echo "serve_bench.sh: preserve serve did not start:" >&2
  cat "$work/serve.err" >&2
  exit 1
}
stop_serve() {
  rss_kib=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$serve_pid/status")
  kill -TERM "$serve_pid"
  wait "$serve_pid" || { echo "serve_bench.sh: preserve serve did not stop cleanly" >&2; exit 1; }
  serve_pid=
}

# line PHASE N SECONDS RSS_KIB P50 P99 BASELINE_SECONDS: a row of the table and the phase's result line
line() {
  awk -v p="$1" -v n="$2" -v s="$3" -v rss="$4" -v p50="$5" -v p99="$6" -v base="$7" 'BEGIN {
    ratio = base != "-" ? sprintf("%5.0f%%", 100 * base / s) : "     -"
    printf "%-12s %7d %9.3f %9.1f %9s %9s %8.0f %s\n", p, n, s, n / s, p50, p99, rss / 1024, ratio }'
  bench_result serve "$1" "$2" "$3" "$4" "$7"
}

printf "%-12s %7s %9s %9s %9s %9s %8s %s\n" phase n seconds per_s p50_ms p99_ms RSS_MiB "vs cli"

# ---- The CLI, the baseline ----
fresh_store officer officer >/dev/null
start=$(date +%s%N)
/usr/bin/time -f '%M' -o "$work/cli.time" "$cli" ingest --store "$work/store" --trust "$pki/root-ca.pem" \
  --intermediates "$pki/issuing-ca.pem" --no-seal --ids-only "$work/docs" >"$work/cli.out" 2>"$work/cli.err"
end=$(date +%s%N)
accepted=$(wc -l <"$work/cli.out")
[ "$accepted" -eq "$n" ] || { echo "serve_bench.sh: preserve ingest accepted $accepted of $n" >&2; tail -3 "$work/cli.err" >&2; exit 1; }
baseline=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.6f", ns / 1e9 }')
line cli-ingest "$n" "$baseline" "$(cat "$work/cli.time")" - - -

# ---- The service, 8 and 32 clients ----
for clients in 8 32; do
  token=$(fresh_store officer officer)
  start_serve --no-jobs --max-requests-per-account "$clients"
  out=$("$load" 127.0.0.1 "$serve_port" "$token" /pres/PreservePO "$clients" "$work/bodies") || {
    echo "serve_bench.sh: serve-$clients: $out" >&2; tail -5 "$work/serve.err" >&2; exit 1; }
  stop_serve
  seconds=$(echo "$out" | sed 's/.*seconds=\([0-9.]*\).*/\1/')
  p50=$(echo "$out" | sed 's/.*p50_ms=\([0-9.]*\).*/\1/')
  p99=$(echo "$out" | sed 's/.*p99_ms=\([0-9.]*\).*/\1/')
  line "serve-$clients" "$n" "$seconds" "$rss_kib" "$p50" "$p99" "$baseline"
done

# ---- ValidateEvidence of a sealed package ----
token=$(fresh_store auditor1 auditor)
"$cli" user add officer1 --role officer --store "$work/store" >/dev/null 2>&1
officer=$("$cli" user token officer1 --store "$work/store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
printf '{"jobs": {"seal_every": "1s"}}\n' >"$work/store/config.json"
start_serve
first=$(ls "$work/bodies" | head -1)
curl -sS -H "Authorization: Bearer $officer" --data-binary "@$work/bodies/$first" \
  "http://127.0.0.1:$serve_port/pres/PreservePO" >"$work/submitted.json"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["poId"])' "$work/submitted.json")
for _ in $(seq 100); do
  curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" --data-binary "{\"poId\":\"$id\",\"sor\":\"Evidence\"}" \
    "http://127.0.0.1:$serve_port/pres/RetrievePO" | grep -q 200 && break
  sleep 0.2
done
printf '{"poId": "%s"}\n' "$id" >"$work/validate.json"
out=$("$load" 127.0.0.1 "$serve_port" "$token" /pres/ValidateEvidence 8 "$work/validate.json:$n") || {
  echo "serve_bench.sh: validate-8: $out" >&2; tail -5 "$work/serve.err" >&2; exit 1; }
stop_serve
line validate-8 "$n" "$(echo "$out" | sed 's/.*seconds=\([0-9.]*\).*/\1/')" "$rss_kib" \
  "$(echo "$out" | sed 's/.*p50_ms=\([0-9.]*\).*/\1/')" "$(echo "$out" | sed 's/.*p99_ms=\([0-9.]*\).*/\1/')" -
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
bench_print_results
