#!/usr/bin/env bash
# Regenerates the test PKI (tests/fixtures/pki/) and the signed sample documents
# (tests/fixtures/signed/) with the openssl command line only.
#
# File names are fixed; keys, serial numbers and signatures change on every run,
# so the tests read everything from these files and hard-code nothing that a
# run would change (subjects and key types are fixed, bytes are not).
# tests/fixtures/README.md says what each file is.
#
# Usage: scripts/make-test-fixtures.sh   (from anywhere; needs openssl 3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/pki-config.sh"
PKI="$ROOT/tests/fixtures/pki"
SIGNED="$ROOT/tests/fixtures/signed"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# About 40 years: the span an archive must keep signatures verifiable.
DAYS=14610

rm -rf "$PKI" "$SIGNED"
mkdir -p "$PKI" "$SIGNED"

{
  pki_ca_extensions
  pki_signer_extensions signer "extendedKeyUsage = emailProtection"
  # A certificate meant for encryption only: a signature made with it must fail
  # path validation on its key usage even though its chain is otherwise sound.
  cat <<'EOF'
[encryption_only]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
} >"$WORK/ext.cnf"

# key NAME rsa:BITS|ec
key() {
  case "$2" in
    rsa:*) openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa:}" -out "$PKI/$1.key" ;;
    ec) openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$1.key" ;;
  esac
}

# self_signed NAME SUBJECT
self_signed() {
  openssl req -new -x509 -utf8 -key "$PKI/$1.key" -subj "$2" -days "$DAYS" -sha256 \
    -config "$WORK/ext.cnf" -extensions root_ca -out "$PKI/$1.pem"
}

# issue NAME SUBJECT ISSUER EXTENSIONS
issue() {
  openssl req -new -utf8 -key "$PKI/$1.key" -subj "$2" -out "$WORK/$1.csr"
  openssl x509 -req -in "$WORK/$1.csr" -CA "$PKI/$3.pem" -CAkey "$PKI/$3.key" -CAcreateserial \
    -CAserial "$WORK/$3.srl" -days "$DAYS" -sha256 -extfile "$WORK/ext.cnf" -extensions "$4" \
    -out "$PKI/$1.pem" 2>/dev/null
}

key root-ca rsa:3072
self_signed root-ca "/C=VN/O=Preserve Test PKI/CN=Preserve Test Root CA"
key issuing-ca rsa:3072
issue issuing-ca "/C=VN/O=Preserve Test PKI/CN=Preserve Test Issuing CA" root-ca issuing_ca

key signer-rsa rsa:2048
issue signer-rsa "/C=VN/O=UBND tỉnh Đắk Nông/OU=Văn phòng UBND tỉnh/CN=Nguyễn Văn An" issuing-ca signer
# A twin of signer-rsa: same key, issuer and serial number, other validity, so
# other bytes. Only the signing-certificate-v2 attribute tells the two apart.
serial=$(openssl x509 -in "$PKI/signer-rsa.pem" -noout -serial | cut -d= -f2)
openssl x509 -req -in "$WORK/signer-rsa.csr" -CA "$PKI/issuing-ca.pem" -CAkey "$PKI/issuing-ca.key" \
  -set_serial "0x$serial" -days 3650 -sha256 -extfile "$WORK/ext.cnf" -extensions signer \
  -out "$PKI/signer-rsa-twin.pem" 2>/dev/null
key signer-ec ec
issue signer-ec "/C=VN/O=Sở Thông tin và Truyền thông tỉnh Đắk Nông/CN=Trần Thị Bình" issuing-ca signer
key signer-encryption-only rsa:2048
issue signer-encryption-only "/C=VN/O=UBND tỉnh Đắk Nông/CN=Encryption-only key" issuing-ca encryption_only

# The expired signer: `openssl x509 -req` cannot back-date, `openssl ca` can.
key signer-expired rsa:2048
pki_ca_dir "$WORK/ca"
{
  printf '[ca]\ndefault_ca = issuing\n\n'
  pki_ca_section issuing "$WORK/ca" "$PKI/issuing-ca.pem" "$PKI/issuing-ca.key"
  pki_any_dn_policy
} >"$WORK/ca.cnf"
openssl req -new -utf8 -key "$PKI/signer-expired.key" \
  -subj "/C=VN/O=UBND tỉnh Đắk Nông/CN=Lê Văn Cũ" -out "$WORK/signer-expired.csr"
openssl ca -batch -notext -utf8 -preserveDN -config "$WORK/ca.cnf" -in "$WORK/signer-expired.csr" \
  -startdate 20150101000000Z -enddate 20160101000000Z \
  -extfile "$WORK/ext.cnf" -extensions signer -out "$PKI/signer-expired.pem" 2>/dev/null

# A separate hierarchy that no test trusts.
key untrusted-root-ca rsa:2048
self_signed untrusted-root-ca "/C=VN/O=Unknown Issuer/CN=Untrusted Test Root CA"
key signer-untrusted rsa:2048
issue signer-untrusted "/C=VN/O=Unknown Agency/CN=Phạm Văn Lạ" untrusted-root-ca signer

# The letter: UTF-8 Vietnamese with diacritics and an official document number.
cat >"$SIGNED/letter.txt" <<'EOF'
ỦY BAN NHÂN DÂN TỈNH ĐẮK NÔNG
Số: 6587/UBND-CNXD
V/v thực hiện nghiêm túc việc sử dụng chứng thư số, chữ ký số

Đắk Nông, ngày 22 tháng 11 năm 2017

Kính gửi: Các sở, ban, ngành; UBND các huyện, thị xã.

Nhằm thống nhất, chuẩn hóa trong quản lý, lưu trữ, vận hành và bảo mật hệ thống văn bản điện tử, UBND tỉnh Đắk Nông yêu cầu Thủ trưởng các sở, ban, ngành, Chủ tịch UBND các huyện, thị xã thực hiện một số nội dung.
Thứ nhất, các cơ quan đơn vị cần tiếp tục tổ chức phổ biến, quán triệt Quyết định số 35/2016/QĐ-UBND ngày 15/11/2016 và Quyết định số 37/2016/QĐ-UBND ngày 28/11/2016 của UBND tỉnh.
Thứ hai, các cơ quan đơn vị cần nêu gương đi đầu trong việc sử dụng chữ ký số trong việc ký số văn bản điện tử để gửi, nhận văn bản trên hệ thống phần mềm văn phòng điện tử của tỉnh.
Cơ quan Nhà nước có quyền từ chối nhận văn bản điện tử trên môi trường mạng nếu độ tin cậy và bí mật thông tin của văn bản này không đảm bảo.
EOF

# The same letter with one word changed: the signature over letter.txt must not cover it.
sed 's/Thứ hai, các cơ quan/Thứ hai, một số cơ quan/' "$SIGNED/letter.txt" >"$SIGNED/letter-tampered.txt"
cmp -s "$SIGNED/letter.txt" "$SIGNED/letter-tampered.txt" && { echo "tampering changed nothing" >&2; exit 1; }

# sign SIGNER OUT [extra openssl cms options...]
sign() {
  local signer="$1" out="$2"
  shift 2
  openssl cms -sign -binary -md sha256 -in "$SIGNED/letter.txt" \
    -signer "$PKI/$signer.pem" -inkey "$PKI/$signer.key" "$@" -out "$SIGNED/$out"
}

sign signer-rsa letter.txt.p7s -cades -certfile "$PKI/issuing-ca.pem" -outform DER
sign signer-rsa letter.txt.p7s.pem -cades -certfile "$PKI/issuing-ca.pem" -outform PEM
sign signer-rsa letter.p7m -nodetach -cades -certfile "$PKI/issuing-ca.pem" -outform DER
sign signer-ec letter-ec.txt.p7s -cades -certfile "$PKI/issuing-ca.pem" -outform DER
sign signer-rsa letter-no-certificates.txt.p7s -nocerts -cades -outform DER
sign signer-rsa letter-no-attributes.txt.p7s -noattr -certfile "$PKI/issuing-ca.pem" -outform DER
sign signer-expired letter-expired-signer.txt.p7s -certfile "$PKI/issuing-ca.pem" -outform DER
sign signer-untrusted letter-untrusted-signer.txt.p7s -outform DER
sign signer-encryption-only letter-encryption-only-key.txt.p7s -certfile "$PKI/issuing-ca.pem" -outform DER

# Hostile and malformed inputs.
printf 'This is a plain text file, not a CMS signature.\n' >"$SIGNED/not-cms.p7s"
size=$(wc -c <"$SIGNED/letter.txt.p7s")
head -c $((size / 2)) "$SIGNED/letter.txt.p7s" >"$SIGNED/truncated.p7s"
openssl cms -data_create -binary -in "$SIGNED/letter.txt" -outform DER -out "$SIGNED/not-signed-data.p7m"

# Self-check: the good signatures verify with openssl against the test root.
openssl cms -verify -binary -inform DER -in "$SIGNED/letter.txt.p7s" -content "$SIGNED/letter.txt" \
  -CAfile "$PKI/root-ca.pem" -purpose any -out /dev/null 2>/dev/null
openssl cms -verify -binary -inform DER -in "$SIGNED/letter-ec.txt.p7s" -content "$SIGNED/letter.txt" \
  -CAfile "$PKI/root-ca.pem" -purpose any -out /dev/null 2>/dev/null
openssl cms -verify -binary -inform DER -in "$SIGNED/letter.p7m" \
  -CAfile "$PKI/root-ca.pem" -purpose any -out /dev/null 2>/dev/null

echo "make-test-fixtures: wrote $(ls "$PKI" | wc -l) files to tests/fixtures/pki and $(ls "$SIGNED" | wc -l) to tests/fixtures/signed"

# Fixtures signed with these keys are made again with them.
bash "$ROOT/scripts/make-pdf-fixtures.sh"
bash "$ROOT/scripts/make-container-fixtures.sh"
