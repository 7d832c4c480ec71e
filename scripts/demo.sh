#!/usr/bin/env bash
# Quick start, first command: installs what is missing, builds, and runs the main
# job on the embedded defaults: a local RocksDB store with the embedded TSA,
# the sample signed letters from examples/ ingested, sealed, verified, exported
# and verified again offline from the zip alone; then `preserve serve` on the
# same store, called with curl, left running (Ctrl-C stops it; DEMO_NO_WAIT=1
# stops it at once, DEMO_PORT chooses its port).
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

# ---- The service: the same holdings over the ETSI TS 119 512 API ----
step "preserve trust add examples/trust/ca.pem; preserve user add (an officer, an auditor, an administrator) and their passwords"
"$BIN" trust add examples/trust/ca.pem --reason "the demo signers' CA" >/dev/null 2>&1 || true
officer=$("$BIN" user add vanthu --role officer --json | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
auditor=$("$BIN" user add thanhtra --role auditor --json | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
"$BIN" user add quantri --role admin >/dev/null 2>&1
# Demo passwords, printed below: a real archive's are chosen by their owners.
for account in vanthu thanhtra quantri; do
  echo "$account-demo-2026" | "$BIN" user passwd "$account" >/dev/null
done
echo "officer vanthu:   $officer"
echo "auditor thanhtra: $auditor"
PORT=${DEMO_PORT:-8443}
step "preserve serve --listen 127.0.0.1:$PORT"
"$BIN" serve --listen "127.0.0.1:$PORT" 2>"$WORK/serve.log" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "listening on" "$WORK/serve.log" && break; sleep 0.1; done
grep "listening on" "$WORK/serve.log" || { cat "$WORK/serve.log" >&2; exit 1; }
URL="http://127.0.0.1:$PORT"
step "curl $URL/pres/Search (auditor): the holdings of Đắk Nông"
curl -sS -H "Authorization: Bearer $auditor" "$URL/pres/Search" \
  --data-binary '{"optIn": {"lang": "vi"}, "fi": {"organ": "Đắk Nông"}}'
echo
step "curl $URL/pres/ValidateEvidence (auditor): $first"
curl -sS -H "Authorization: Bearer $auditor" "$URL/pres/ValidateEvidence" \
  --data-binary "{\"optIn\": {\"lang\": \"vi\"}, \"poId\": \"$first\"}" | head -c 400
echo " ..."
step "curl $URL/pres/DeletePO (officer): refused, officers may not delete"
curl -sS -H "Authorization: Bearer $officer" "$URL/pres/DeletePO" \
  --data-binary "{\"optIn\": {\"lang\": \"vi\"}, \"poId\": \"$first\", \"reason\": \"thử\"}"
echo
step "curl $URL/signin: the web application answers"
curl -sS "$URL/signin" | grep -o "<title>[^<]*</title>"
cat <<TEXT

The service runs at $URL with the demo store ($PRESERVE_STORE).
Open $URL/ in a browser (the web application, in Vietnamese; English at the top right)
and sign in as one of:
  vanthu   / vanthu-demo-2026     records officer: hand in, search, packages
  thanhtra / thanhtra-demo-2026   auditor: reports, verification, audit trail
  quantri  / quantri-demo-2026    administrator: dashboard, accounts, policy, retention
API tokens:
  officer token: $officer
  auditor token: $auditor
Try: curl -H "Authorization: Bearer \$TOKEN" $URL/pres/RetrieveInfo --data-binary '{}'
README.md, "The service" and "The web application", say more. Ctrl-C stops it.
TEXT
if [ "${DEMO_NO_WAIT:-0}" = 1 ]; then
  kill -TERM "$serve_pid"
  wait "$serve_pid"
  exit 0
fi
wait "$serve_pid"
