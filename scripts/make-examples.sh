#!/usr/bin/env bash
# Regenerates examples/: a sample provincial CA, three signed official letters
# and their signatures, for the README's quick start. Uses the openssl command
# line only. Everything here is SAMPLE material: the CA is not a real CA and
# its private keys sit in examples/pki-private/ so anyone can re-sign.
#
# File names are fixed; keys and signatures change on every run.
# Usage: scripts/make-examples.sh   (from anywhere; needs openssl 3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/pki-config.sh"
EX="$ROOT/examples"
TRUST="$EX/trust"
DOCS="$EX/documents"
PRIV="$EX/pki-private"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# About 40 years: the span an archive must keep signatures verifiable.
DAYS=14610

# The record metadata sidecars (*.metadata.json) are written by hand and kept.
rm -rf "$TRUST" "$PRIV"
[ -d "$DOCS" ] && find "$DOCS" -type f ! -name '*.metadata.json' -delete
mkdir -p "$TRUST" "$DOCS" "$PRIV"

{
  pki_ca_extensions
  pki_signer_extensions signer
} >"$WORK/ext.cnf"

openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$PRIV/root-ca.key"
openssl req -new -x509 -utf8 -key "$PRIV/root-ca.key" -days "$DAYS" -sha256 \
  -subj "/C=VN/ST=Đắk Nông/O=Tỉnh Đắk Nông - CA mẫu (SAMPLE, not a real CA)/CN=Preserve Sample Provincial Root CA" \
  -config "$WORK/ext.cnf" -extensions root_ca -out "$TRUST/ca.pem"

# issue NAME SUBJECT ISSUER_CERT ISSUER_KEY EXTENSIONS
issue() {
  openssl req -new -utf8 -key "$PRIV/$1.key" -subj "$2" -out "$WORK/$1.csr"
  openssl x509 -req -in "$WORK/$1.csr" -CA "$3" -CAkey "$4" -CAcreateserial -CAserial "$WORK/serial.srl" \
    -days "$DAYS" -sha256 -extfile "$WORK/ext.cnf" -extensions "$5" -out "$PRIV/$1.pem" 2>/dev/null
}

openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$PRIV/issuing-ca.key"
issue issuing-ca "/C=VN/ST=Đắk Nông/O=Tỉnh Đắk Nông - CA mẫu (SAMPLE, not a real CA)/CN=Preserve Sample Provincial Issuing CA" \
  "$TRUST/ca.pem" "$PRIV/root-ca.key" issuing_ca
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$PRIV/chu-tich-ubnd.key"
issue chu-tich-ubnd "/C=VN/ST=Đắk Nông/O=UBND tỉnh Đắk Nông/title=Chủ tịch (mẫu)/CN=Nguyễn Văn Mẫu" \
  "$PRIV/issuing-ca.pem" "$PRIV/issuing-ca.key" signer
openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PRIV/giam-doc-so-tttt.key"
issue giam-doc-so-tttt "/C=VN/ST=Đắk Nông/O=Sở Thông tin và Truyền thông tỉnh Đắk Nông/title=Giám đốc (mẫu)/CN=Trần Thị Mẫu" \
  "$PRIV/issuing-ca.pem" "$PRIV/issuing-ca.key" signer

cat >"$DOCS/cong-van-6587-UBND-CNXD.txt" <<'EOF'
ỦY BAN NHÂN DÂN TỈNH ĐẮK NÔNG                CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
                                                  Độc lập - Tự do - Hạnh phúc
Số: 6587/UBND-CNXD
V/v thực hiện nghiêm túc việc sử dụng
chứng thư số, chữ ký số                         Đắk Nông, ngày 22 tháng 11 năm 2017

Kính gửi:
- Các sở, ban, ngành;
- UBND các huyện, thị xã.

Nhằm thống nhất, chuẩn hóa trong quản lý, lưu trữ, vận hành và bảo mật hệ thống văn bản điện tử, UBND tỉnh Đắk Nông yêu cầu Thủ trưởng các sở, ban, ngành, Chủ tịch UBND các huyện, thị xã thực hiện một số nội dung sau:
1. Tiếp tục tổ chức phổ biến, quán triệt Quyết định số 35/2016/QĐ-UBND ngày 15/11/2016 của UBND tỉnh ban hành Quy định về việc sử dụng văn bản điện tử và hồ sơ điện tử trong các cơ quan nhà nước trên địa bàn Đắk Nông và Quyết định số 37/2016/QĐ-UBND ngày 28/11/2016 ban hành Quy chế quản lý và sử dụng chữ ký số, chứng thư số trong các cơ quan nhà nước tỉnh Đắk Nông tại cơ quan, địa phương.
2. Nêu gương đi đầu trong việc sử dụng chữ ký số trong việc ký số văn bản điện tử để gửi, nhận văn bản trên hệ thống phần mềm văn phòng điện tử của tỉnh.
3. Giao Sở Thông tin và Truyền thông chủ trì, phối hợp với Văn phòng UBND tỉnh thường xuyên theo dõi, báo cáo kịp thời UBND tỉnh kết quả sử dụng chứng thư số, chữ ký số trong việc ký số văn bản điện tử tại các cơ quan, đơn vị trên địa bàn tỉnh.

                                                  KT. CHỦ TỊCH
                                                  (văn bản mẫu - sample document)
                                                  Nguyễn Văn Mẫu
EOF

cat >"$DOCS/quyet-dinh-35-2016-QD-UBND-trich.txt" <<'EOF'
ỦY BAN NHÂN DÂN TỈNH ĐẮK NÔNG                CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
                                                  Độc lập - Tự do - Hạnh phúc
Số: 35/2016/QĐ-UBND                              Đắk Nông, ngày 15 tháng 11 năm 2016

QUYẾT ĐỊNH
Ban hành Quy định về việc sử dụng văn bản điện tử và hồ sơ điện tử
trong các cơ quan nhà nước trên địa bàn tỉnh Đắk Nông
(trích - bản mẫu / excerpt - sample document)

Nguyên tắc trao đổi văn bản điện tử trên môi trường mạng:
1. Văn bản điện tử phải được trao đổi rộng rãi thông qua phần mềm, thiết bị kỹ thuật và hạ tầng mạng đối với những cơ quan, đơn vị đã được cài đặt, thiết lập nhằm ứng dụng để khởi tạo, sử dụng, lưu trữ, gửi và nhận văn bản điện tử.
2. Cơ quan Nhà nước tham gia trao đổi văn bản điện tử phải thực hiện đúng nguyên tắc quy định theo Luật Giao dịch điện tử, Luật An toàn thông tin mạng và tuân theo các quy định khác của pháp luật về bảo vệ bí mật Nhà nước, công nghệ thông tin, viễn thông, văn thư, lưu trữ.
3. Cơ quan Nhà nước có quyền từ chối nhận văn bản điện tử trên môi trường mạng nếu độ tin cậy và bí mật thông tin của văn bản này không đảm bảo.
4. Phương thức trao đổi văn bản điện tử trên môi trường mạng phải bảo đảm độ tin cậy, tính kịp thời, tính chính xác và an toàn, an ninh thông tin.

                                                  TM. ỦY BAN NHÂN DÂN
                                                  CHỦ TỊCH
                                                  Nguyễn Văn Mẫu
EOF

cat >"$DOCS/bao-cao-su-dung-chu-ky-so-quy-4-2017.txt" <<'EOF'
UBND TỈNH ĐẮK NÔNG                               CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
SỞ THÔNG TIN VÀ TRUYỀN THÔNG                          Độc lập - Tự do - Hạnh phúc
Số: 01/BC-STTTT (số hiệu mẫu)                    Đắk Nông, ngày 29 tháng 12 năm 2017

BÁO CÁO
Kết quả sử dụng chứng thư số, chữ ký số trong việc ký số văn bản điện tử
quý IV năm 2017 (bản mẫu - số liệu minh họa / sample - illustrative figures)

Kính gửi: Ủy ban nhân dân tỉnh Đắk Nông.

Thực hiện Công văn số 6587/UBND-CNXD ngày 22/11/2017 của UBND tỉnh, Sở Thông tin và Truyền thông báo cáo kết quả sử dụng chứng thư số, chữ ký số như sau:

Cơ quan, đơn vị                 Văn bản đi   Đã ký số   Tỷ lệ
Văn phòng UBND tỉnh                    120        114     95%
Sở Thông tin và Truyền thông            80         80    100%
UBND thị xã Gia Nghĩa                   64         48     75%

Đề nghị các cơ quan, đơn vị có tỷ lệ ký số thấp khẩn trương khắc phục.

                                                  GIÁM ĐỐC
                                                  Trần Thị Mẫu
EOF

# sign DOCUMENT SIGNER OUT [extra openssl cms options...]
sign() {
  local doc="$1" signer="$2" out="$3"
  shift 3
  openssl cms -sign -binary -md sha256 -cades -in "$DOCS/$doc" -signer "$PRIV/$signer.pem" \
    -inkey "$PRIV/$signer.key" -certfile "$PRIV/issuing-ca.pem" -outform DER "$@" -out "$DOCS/$out"
}
sign cong-van-6587-UBND-CNXD.txt chu-tich-ubnd cong-van-6587-UBND-CNXD.txt.p7s
sign quyet-dinh-35-2016-QD-UBND-trich.txt chu-tich-ubnd quyet-dinh-35-2016-QD-UBND-trich.txt.p7s
sign bao-cao-su-dung-chu-ky-so-quy-4-2017.txt giam-doc-so-tttt bao-cao-su-dung-chu-ky-so-quy-4-2017.txt.p7s
sign bao-cao-su-dung-chu-ky-so-quy-4-2017.txt giam-doc-so-tttt bao-cao-su-dung-chu-ky-so-quy-4-2017.p7m -nodetach

cat >"$PRIV/README.md" <<'EOF'
# SAMPLE ONLY: private keys of the example CA

These keys belong to "Preserve Sample Provincial Root CA", a made-up CA that
`scripts/make-examples.sh` creates so the examples can be re-signed. They are
published on purpose and protect nothing. Never trust `examples/trust/ca.pem`
outside these examples, and never reuse this layout for real keys.

- `root-ca.key`: the sample root's key (its certificate is `../trust/ca.pem`)
- `issuing-ca.pem`, `issuing-ca.key`: the sample issuing CA (its certificate is also inside every signature)
- `chu-tich-ubnd.pem`, `chu-tich-ubnd.key`: sample signer "Nguyễn Văn Mẫu", RSA-3072
- `giam-doc-so-tttt.pem`, `giam-doc-so-tttt.key`: sample signer "Trần Thị Mẫu", ECDSA P-256
EOF

# Self-check: every example verifies with openssl against the sample root.
for sig in "$DOCS"/*.p7s; do
  openssl cms -verify -binary -inform DER -in "$sig" -content "${sig%.p7s}" -CAfile "$TRUST/ca.pem" \
    -purpose any -out /dev/null 2>/dev/null
done
openssl cms -verify -binary -inform DER -in "$DOCS/bao-cao-su-dung-chu-ky-so-quy-4-2017.p7m" \
  -CAfile "$TRUST/ca.pem" -purpose any -out /dev/null 2>/dev/null

echo "make-examples: wrote examples/trust, examples/documents and examples/pki-private"
