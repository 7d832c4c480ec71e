#!/usr/bin/env bash
# Quick start, first command: installs what is missing, builds, and runs the main
# job on the embedded defaults: a local RocksDB store with the embedded TSA,
# the sample signed letters from examples/ ingested, sealed, verified, exported
# and verified again offline from the zip alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
BIN=${BUILD_DIR:-build}/cli/preserve
WORK=${DEMO_DIR:-demo}
rm -rf "$WORK" && mkdir -p "$WORK"
export PRESERVE_STORE="$WORK/store"

step() { printf '\n== %s\n' "$*"; }
step "preserve init"
"$BIN" init
step "preserve ingest examples/documents (a folder: detached .p7s, enveloping .p7m, record metadata sidecars; validated against examples/trust/ca.pem)"
ids=$("$BIN" ingest --ids-only --trust examples/trust/ca.pem examples/documents 2>"$WORK/ingest.log" || true)
cat "$WORK/ingest.log"
echo "$ids"
[ -n "$ids" ] || { echo "demo: nothing was ingested" >&2; exit 1; }
step "preserve list"
"$BIN" list
step "preserve list --type 'Công văn' --organ 'Đắk Nông'"
"$BIN" list --type "Công văn" --organ "Đắk Nông"
step "preserve report signatures --by organ"
"$BIN" report signatures --by organ
first=$(echo "$ids" | head -n 1)
step "preserve verify $first"
"$BIN" verify "$first"
step "preserve export $first $WORK/$first.zip"
"$BIN" export "$first" "$WORK/$first.zip"
step "preserve verify-package $WORK/$first.zip --tsa-trust $PRESERVE_STORE/tsa/ca.pem --trust examples/trust/ca.pem"
echo "(an auditor brings the archive's CA and the signers' root: a zip's own copies prove nothing)"
"$BIN" verify-package "$WORK/$first.zip" --tsa-trust "$PRESERVE_STORE/tsa/ca.pem" --trust examples/trust/ca.pem
step "outcome"
for id in $ids; do
  verdict=$("$BIN" verify --json "$id" | sed -n 's/.*"verdict":"\([A-Z]*\)".*/\1/p' | head -n 1)
  echo "$id $verdict"
done
