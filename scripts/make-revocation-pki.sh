#!/usr/bin/env bash
# Makes a throw-away PKI for the revocation tests (tests/signature/revocation_test.cc),
# with the openssl command line only. Its certificates name an OCSP responder
# and CRL distribution points on loopback ports the test has chosen, so it is
# made at test time and never committed; tests/fixtures/pki/ is untouched.
#
# Usage: scripts/make-revocation-pki.sh OUTDIR OCSP_PORT HTTP_PORT
#
# Time line, relative to now (T): every certificate is valid from T-365d for
# ten years; the tests claim signing times around T-30d.
#   root-ca                 EC P-256, self-signed: the trust anchor
#   issuing-ca              under root-ca; CRL DP http://127.0.0.1:HTTP_PORT/root.crl
#   ocsp-responder          under issuing-ca; id-kp-OCSPSigning, id-pkix-ocsp-nocheck: a delegated responder
#   signer-good             under issuing-ca; OCSP http://127.0.0.1:OCSP_PORT/ and CRL DP .../issuing.crl
#   signer-revoked-before   like signer-good; revoked (keyCompromise) at T-60d
#   signer-revoked-after    like signer-good; revoked (keyCompromise) at T-10d
#   signer-on-hold          like signer-good; suspended (certificateHold) at T-10d
#   signer-ocsp-only        OCSP only
#   signer-unknown          OCSP only, and missing from the CA's database: the responder answers "unknown"
#   signer-crl-only         CRL DP only
#   signer-no-pointers      neither: revocation only from local CRLs
# Written beside them: issuing/index.txt (what `openssl ocsp -index` serves),
# root.crl and issuing.crl (DER, next update in 24 hours), issuing-stale.crl
# (DER, issued T-3d, next update T-1d).
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 OUTDIR OCSP_PORT HTTP_PORT" >&2
  exit 64
fi
OUT="$1"
OCSP="http://127.0.0.1:$2/"
HTTP="http://127.0.0.1:$3"
mkdir -p "$OUT"
. "$(dirname "${BASH_SOURCE[0]}")/pki-config.sh"
OUT="$(cd "$OUT" && pwd)"

at() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
utc() { date -u -d "$1" +%y%m%d%H%M%SZ; }  # the UTCTime form index.txt holds
START="$(at '365 days ago')"
END="$(at '10 years')"

for ca in root issuing; do
  pki_ca_dir "$OUT/$ca"
done

{
  printf '[ca]\ndefault_ca = issuing\n\n'
  pki_ca_section root "$OUT/root" "$OUT/root-ca.pem" "$OUT/root-ca.key" "default_crl_hours = 24"
  pki_ca_section issuing "$OUT/issuing" "$OUT/issuing-ca.pem" "$OUT/issuing-ca.key" "default_crl_hours = 24"
  pki_any_dn_policy
  printf '[req]\ndistinguished_name = dn\n[dn]\n\n'
  pki_ca_extensions "crlDistributionPoints = URI:$HTTP/root.crl"
  cat <<EOF
[responder]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

EOF
  pki_signer_extensions signer_both "authorityInfoAccess = OCSP;URI:$OCSP" "crlDistributionPoints = URI:$HTTP/issuing.crl"
  pki_signer_extensions signer_ocsp "authorityInfoAccess = OCSP;URI:$OCSP"
  pki_signer_extensions signer_crl "crlDistributionPoints = URI:$HTTP/issuing.crl"
  pki_signer_extensions signer_none
} >"$OUT/ca.cnf"

key() { openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$OUT/$1.key"; }

# issue NAME SUBJECT CA EXTENSIONS
issue() {
  key "$1"
  openssl req -new -utf8 -config "$OUT/ca.cnf" -key "$OUT/$1.key" -subj "$2" -out "$OUT/$1.csr"
  openssl ca -batch -notext -utf8 -preserveDN -config "$OUT/ca.cnf" -name "$3" $4 -in "$OUT/$1.csr" \
    -startdate "$START" -enddate "$END" -out "$OUT/$1.pem" 2>/dev/null
  rm "$OUT/$1.csr"
}

issue root-ca "/C=VN/O=Preserve Revocation Test/CN=Revocation Test Root CA" root "-selfsign -extensions root_ca"
issue issuing-ca "/C=VN/O=Preserve Revocation Test/CN=Revocation Test Issuing CA" root "-extensions issuing_ca"
issue ocsp-responder "/C=VN/O=Preserve Revocation Test/CN=Revocation Test OCSP Responder" issuing "-extensions responder"
issue signer-good "/C=VN/O=UBND tỉnh Đắk Nông/CN=Good Signer" issuing "-extensions signer_both"
issue signer-revoked-before "/C=VN/O=UBND tỉnh Đắk Nông/CN=Signer Revoked Before" issuing "-extensions signer_both"
issue signer-revoked-after "/C=VN/O=UBND tỉnh Đắk Nông/CN=Signer Revoked After" issuing "-extensions signer_both"
issue signer-on-hold "/C=VN/O=UBND tỉnh Đắk Nông/CN=Signer On Hold" issuing "-extensions signer_both"
issue signer-ocsp-only "/C=VN/O=UBND tỉnh Đắk Nông/CN=OCSP-only Signer" issuing "-extensions signer_ocsp"
issue signer-unknown "/C=VN/O=UBND tỉnh Đắk Nông/CN=Unknown Signer" issuing "-extensions signer_ocsp"
issue signer-crl-only "/C=VN/O=UBND tỉnh Đắk Nông/CN=CRL-only Signer" issuing "-extensions signer_crl"
issue signer-no-pointers "/C=VN/O=UBND tỉnh Đắk Nông/CN=Signer Without Pointers" issuing "-extensions signer_none"

serial() { openssl x509 -in "$OUT/$1.pem" -noout -serial | cut -d= -f2; }

# set_status NAME STATUS [REVOCATION_FIELD]: rewrites the certificate's line in the
# issuing CA's database ("R" with "time,reason", or "" to drop the line), which
# both `openssl ca -gencrl` and `openssl ocsp -index` read.
set_status() {
  local s
  s="$(serial "$1")"
  awk -F'\t' -v OFS='\t' -v serial="$s" -v status="$2" -v revoked="${3:-}" \
    '$4 == serial { if (status == "") next; $1 = status; $3 = revoked } { print }' \
    "$OUT/issuing/index.txt" >"$OUT/issuing/index.new"
  mv "$OUT/issuing/index.new" "$OUT/issuing/index.txt"
}
set_status signer-revoked-before R "$(utc '60 days ago'),keyCompromise"
set_status signer-revoked-after R "$(utc '10 days ago'),keyCompromise"
set_status signer-on-hold R "$(utc '10 days ago'),certificateHold,holdInstructionReject"
set_status signer-unknown ""

# crl CA OUT [openssl ca options...]
crl() {
  local ca="$1" out="$2"
  shift 2
  openssl ca -gencrl -config "$OUT/ca.cnf" -name "$ca" "$@" -out "$OUT/$out.pem" 2>/dev/null
  openssl crl -in "$OUT/$out.pem" -outform DER -out "$OUT/$out"
  rm "$OUT/$out.pem"
}
crl root root.crl
crl issuing issuing.crl
crl issuing issuing-stale.crl -crl_lastupdate "$(at '3 days ago')" -crl_nextupdate "$(at '1 day ago')"
