#!/usr/bin/env bash
# Regenerates the signed PDF fixtures (tests/fixtures/pdf/) from the test PKI
# (tests/fixtures/pki/, made by scripts/make-test-fixtures.sh).
#
# Tools: openssl 3, poppler's pdfsig (poppler-utils 22.12) with an NSS
# database made by certutil/pk12util (libnss3-tools), qpdf, iconv, od, dd. The
# unsigned letter is written by hand below (no PDF library needed); signatures
# pdfsig cannot make (ETSI.CAdES.detached: "-etsi is not supported yet with
# -add-signature"; document time-stamps) are appended as incremental updates
# by hand here too, signed by `openssl cms` and `openssl ts -reply`.
# tests/fixtures/README.md says what each file is and what verdict it expects.
#
# Keys, times and signatures change on every run, so the tests read these
# files and hard-code nothing a run would change.
#
# Usage: scripts/make-pdf-fixtures.sh   (from anywhere)
set -euo pipefail
export LC_ALL=C.UTF-8

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKI="$ROOT/tests/fixtures/pki"
OUT="$ROOT/tests/fixtures/pdf"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

rm -rf "$OUT"
mkdir -p "$OUT"

# Byte length of a string (the PDF offsets count bytes, not characters).
bytes() { LC_ALL=C; printf '%s' "$1" | wc -c; }
# UTF-16BE hex of UTF-8 text: how the letter's Vietnamese is written in the PDF.
utf16_hex() { printf '%s' "$1" | iconv -f UTF-8 -t UTF-16BE | od -An -v -tx1 | tr -d ' \n' | tr a-f A-F; }
size() { stat -c %s "$1"; }

# --- The unsigned letter -----------------------------------------------------
# One A4 page of the Vietnamese letter. The text is shown through a Type0 font
# whose character codes are the Unicode code points, with an identity
# ToUnicode map, so text extraction (pdftotext) gives the exact Vietnamese. The
# font is not embedded, to keep the file small (viewers substitute one).
# The AcroForm is an indirect object with a Helvetica in its default resources:
# pdfsig then reuses that font for its (empty) signature appearance instead of
# embedding a whole system font (about 1 MB) into every signed fixture, and
# registers its fields in /Fields (it leaves a direct AcroForm's /Fields empty).
# pdfsig 22.12 looks the font up by "family style" with an empty style, hence
# the BaseFont "Helvetica " (#20 is the space).
make_letter() {
  local out="$1" content cmap line
  local lines=("ỦY BAN NHÂN DÂN TỈNH ĐẮK NÔNG" "Số: 6587/UBND-CNXD"
    "V/v thực hiện nghiêm túc việc sử dụng chứng thư số, chữ ký số"
    "Đắk Nông, ngày 22 tháng 11 năm 2017"
    "Kính gửi: Các sở, ban, ngành; UBND các huyện, thị xã.")
  content="BT /F1 12 Tf 16 TL 50 780 Td"
  for line in "${lines[@]}"; do content+=" <$(utf16_hex "$line")> Tj T*"; done
  content+=" ET"
  cmap="/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def 1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfrange <0000> <FFFF> <0000> endbfrange endcmap CMapName currentdict /CMap defineresource pop end end"
  local objs=()
  objs[1]="<< /Type /Catalog /Pages 2 0 R /AcroForm 11 0 R >>"
  objs[2]="<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
  objs[3]="<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
  objs[4]="<< /Length $(bytes "$content") >>
stream
$content
endstream"
  objs[5]="<< /Type /Font /Subtype /Type0 /BaseFont /DejaVuSans /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>"
  objs[6]="<< /Type /Font /Subtype /CIDFontType2 /BaseFont /DejaVuSans /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R /DW 600 >>"
  objs[7]="<< /Length $(bytes "$cmap") >>
stream
$cmap
endstream"
  objs[8]="<< /Type /FontDescriptor /FontName /DejaVuSans /Flags 32 /FontBBox [-1021 -463 1793 1232] /ItalicAngle 0 /Ascent 928 /Descent -236 /CapHeight 729 /StemV 80 >>"
  objs[9]="<< /Title <FEFF$(utf16_hex "Công văn số 6587/UBND-CNXD")> /Author <FEFF$(utf16_hex "UBND tỉnh Đắk Nông")> /Producer (preserve scripts/make-pdf-fixtures.sh) >>"
  objs[10]="<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica#20 /Encoding /WinAnsiEncoding >>"
  objs[11]="<< /Fields [] /DR << /Font << /popplerfont 10 0 R >> >> >>"
  local offsets=() i xref
  printf '%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n' >"$out"
  for i in $(seq 1 11); do
    offsets[i]=$(size "$out")
    printf '%d 0 obj\n%s\nendobj\n' "$i" "${objs[i]}" >>"$out"
  done
  xref=$(size "$out")
  {
    printf 'xref\n0 12\n0000000000 65535 f \n'
    for i in $(seq 1 11); do printf '%010d 00000 n \n' "${offsets[i]}"; done
    printf 'trailer\n<< /Size 12 /Root 1 0 R /Info 9 0 R >>\nstartxref\n%d\n%%%%EOF\n' "$xref"
  } >>"$out"
}

# --- Incremental updates written by hand ---------------------------------------
# pdfsig ends its lines with CR LF, hence the tr -d '\r'.
# The newest definition of object N in FILE (the text between "N 0 obj" and endobj, one line).
latest_object() { grep -a -A1 "^$2 0 obj" "$1" | tr -d '\r' | grep -a -v -- '^--$' | grep -a -v " obj$" | tail -1; }
last_startxref() { grep -a -A1 '^startxref' "$1" | tail -1 | tr -d '\r'; }
trailer_size() { grep -a -o '/Size [0-9]*' "$1" | tail -1 | cut -d' ' -f2; }
page_annots() { latest_object "$1" 3 | { grep -a -o '/Annots [0-9]* 0 R' || true; } | cut -d' ' -f2; }

# append_revision FILE "N|DICT..." ...: appends one revision redefining or adding
# objects (each argument "NUMBER|TEXT"), with a classic xref section and /Prev.
append_revision() {
  local file="$1" prev size_before entries=() spec num text xref
  shift
  prev=$(last_startxref "$file")
  size_before=$(trailer_size "$file")
  local max=$((size_before - 1))
  printf '\n' >>"$file"
  for spec in "$@"; do
    num="${spec%%|*}"
    text="${spec#*|}"
    entries+=("$num $(size "$file")")
    printf '%d 0 obj\n%s\nendobj\n' "$num" "$text" >>"$file"
    ((num > max)) && max=$num
  done
  xref=$(size "$file")
  {
    printf 'xref\n'
    for spec in "${entries[@]}"; do printf '%d 1\n%010d 00000 n \n' "${spec% *}" "${spec#* }"; done
    printf 'trailer\n<< /Size %d /Root 1 0 R /Info 9 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n' \
      "$((max + 1))" "$prev" "$xref"
  } >>"$file"
}

# Overwrites bytes of FILE at OFFSET with TEXT, in place.
patch_at() { printf '%s' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

CONTENTS_HEX_DIGITS=16384  # room for a CMS signature or token with its certificates

# field_bookkeeping FILE WIDGET: the two updates (as append_revision arguments,
# one a line) that put widget object WIDGET into page 1's /Annots (an indirect
# array, a direct one, or one made when the page has none) and into the
# AcroForm's /Fields, /SigFlags 3 set once.
field_bookkeeping() {
  local file="$1" widget="$2" annots page fields
  annots=$(page_annots "$file")
  page=$(latest_object "$file" 3)
  if [ -n "$annots" ]; then
    echo "$annots|$(latest_object "$file" "$annots" | sed "s/\]/$widget 0 R ]/")"
  elif grep -q '/Annots \[' <<<"$page"; then
    echo "3|$(sed "s/\/Annots \[\([^]]*\)\]/\/Annots [\1 $widget 0 R]/" <<<"$page")"
  else
    echo "3|$(sed "s/>>\$/\/Annots [$widget 0 R] >>/" <<<"$page")"
  fi
  fields=$(latest_object "$file" 11 | sed "s/\/Fields \[\([^]]*\)\]/\/Fields [\1 $widget 0 R ]/")
  grep -q /SigFlags <<<"$fields" || fields=$(sed "s/>>\$/\/SigFlags 3 >>/" <<<"$fields")
  echo "11|$fields"
}

# form_xobject WIDTH HEIGHT CONTENT: an appearance stream drawing CONTENT (the
# letter's font is F1) in a WIDTH x HEIGHT box.
form_xobject() {
  printf '<< /Type /XObject /Subtype /Form /BBox [0 0 %s %s] /Resources << /Font << /F1 5 0 R >> >> /Length %d >>\nstream\n%s\nendstream' \
    "$1" "$2" "$(bytes "$3")" "$3"
}

# append_signature IN OUT TYPE SUBFILTER FIELD SIGN_COMMAND...: appends a
# revision with a new signature field (TYPE /Sig or /DocTimeStamp) on page 1,
# placeholder /ByteRange and /Contents, then fills them: the ranges cover the
# whole file but the /Contents hex string, SIGN_COMMAND reads those bytes on
# stdin and writes the DER signature (or token) to stdout.
# The field is invisible unless SIGNATURE_RECT ("x1 y1 x2 y2") and
# SIGNATURE_APPEARANCE (content drawn in that box) are set. CERTIFY_P=1|2|3
# makes it a certification signature (DocMDP, ISO 32000 12.8.2.2) with that P,
# referenced from the catalog's /Perms in the same revision.
append_signature() {
  local in="$1" out="$2" type="$3" subfilter="$4" field="$5"
  shift 5
  cp "$in" "$out"
  local n placeholder zeros widget="/Rect [0 0 0 0] /F 132" extra=() book
  n=$(trailer_size "$out")
  placeholder="/ByteRange [0 0000000000 0000000000 0000000000]"
  zeros=$(head -c "$CONTENTS_HEX_DIGITS" /dev/zero | tr '\0' 0)
  local sig="<< /Type $type /Filter /Adobe.PPKLite /SubFilter $subfilter"
  [ "$type" = /Sig ] && sig+=" /M (D:$(date -u +%Y%m%d%H%M%S)Z)"
  if [ -n "${CERTIFY_P:-}" ]; then
    sig+=" /Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P $CERTIFY_P /V /1.2 >> >>]"
    extra+=("1|$(latest_object "$out" 1 | sed "s/>>\$/\/Perms << \/DocMDP $n 0 R >> >>/")")
  fi
  sig+=" $placeholder /Contents <$zeros> >>"
  if [ -n "${SIGNATURE_APPEARANCE:-}" ]; then
    local r
    read -r -a r <<<"$SIGNATURE_RECT"
    widget="/Rect [$SIGNATURE_RECT] /F 4 /AP << /N $((n + 2)) 0 R >>"
    extra+=("$((n + 2))|$(form_xobject $((r[2] - r[0])) $((r[3] - r[1])) "$SIGNATURE_APPEARANCE")")
  fi
  mapfile -t book < <(field_bookkeeping "$out" $((n + 1)))
  append_revision "$out" \
    "$n|$sig" \
    "$((n + 1))|<< /Type /Annot /Subtype /Widget /FT /Sig /T ($field) /V $n 0 R /P 3 0 R $widget >>" \
    "${extra[@]}" "${book[@]}"
  # The /Contents of the last signature dictionary in the file: ours.
  local lt gt total
  lt=$(grep -a -b -o "/Contents <$zeros>" "$out" | tail -1 | cut -d: -f1)
  lt=$((lt + 10))  # the "<" after "/Contents "
  gt=$((lt + CONTENTS_HEX_DIGITS + 1))
  total=$(size "$out")
  local range
  range=$(printf '/ByteRange [0 %010d %010d %010d]' "$lt" "$((gt + 1))" "$((total - gt - 1))")
  patch_at "$out" "$(grep -a -b -o -F "$placeholder" "$out" | tail -1 | cut -d: -f1)" "$range"
  { head -c "$lt" "$out"; tail -c "+$((gt + 2))" "$out"; } >"$WORK/signed-bytes"
  "$@" <"$WORK/signed-bytes" >"$WORK/signature.der"
  local hex
  hex=$(od -An -v -tx1 "$WORK/signature.der" | tr -d ' \n')
  [ "${#hex}" -le "$CONTENTS_HEX_DIGITS" ] || { echo "signature larger than its placeholder" >&2; exit 1; }
  patch_at "$out" "$((lt + 1))" "$hex"
}

cms_sign() {  # SIGNER: CAdES detached CMS over stdin, as ETSI.CAdES.detached wants
  openssl cms -sign -binary -md sha256 -cades -signer "$PKI/$1.pem" -inkey "$PKI/$1.key" \
    -certfile "$PKI/issuing-ca.pem" -outform DER
}
timestamp_token() {  # an RFC 3161 token over stdin from the fixtures' TSA
  openssl ts -query -data /dev/stdin -sha256 -cert -out "$WORK/tsq" 2>/dev/null
  openssl ts -reply -config "$WORK/tsa.cnf" -section tsa -queryfile "$WORK/tsq" -token_out -out /dev/stdout 2>/dev/null
}

# --- An NSS database holding the signers, for pdfsig ---------------------------
NSS="$WORK/nss"
mkdir -p "$NSS"
certutil -N -d "sql:$NSS" --empty-password
for signer in signer-rsa signer-ec signer-expired signer-untrusted; do
  ca=issuing-ca
  [ "$signer" = signer-untrusted ] && ca=untrusted-root-ca
  openssl pkcs12 -export -inkey "$PKI/$signer.key" -in "$PKI/$signer.pem" -certfile "$PKI/$ca.pem" \
    -name "$signer" -passout pass:fixture -out "$WORK/$signer.p12"
  pk12util -i "$WORK/$signer.p12" -d "sql:$NSS" -W fixture >/dev/null
done

# pdf_sign IN OUT SIGNER FIELD: pdfsig adds an adbe.pkcs7.detached signature as
# an incremental update. (pdfsig prints "NSS_Shutdown failed" on exit; harmless.)
# With an ECDSA key pdfsig 22.12 fails most attempts with "unable update
# signature" (the signature came out larger than the room it reserved), so a
# failed attempt is retried, up to 30 times.
pdf_sign() {
  local attempt
  for attempt in $(seq 1 30); do
    rm -f "$2"
    if pdfsig -add-signature -nssdir "sql:$NSS" -nick "$3" -digest SHA256 -new-signature-field-name "$4" \
      -reason "Phê duyệt công văn" "$1" "$2" 2>"$WORK/pdfsig.err"; then
      return 0
    fi
  done
  grep -v NSS_Shutdown "$WORK/pdfsig.err" >&2
  echo "pdfsig could not sign $2 with $3" >&2
  exit 1
}

# --- A time-stamping authority for document time-stamps ------------------------
openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$OUT/tsa.key"
openssl req -new -utf8 -key "$OUT/tsa.key" -subj "/C=VN/O=Preserve Test PKI/CN=Preserve Test PDF TSA" \
  -out "$WORK/tsa.csr"
cat >"$WORK/tsa-ext.cnf" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
openssl x509 -req -in "$WORK/tsa.csr" -CA "$PKI/issuing-ca.pem" -CAkey "$PKI/issuing-ca.key" \
  -CAcreateserial -CAserial "$WORK/issuing.srl" -days 14610 -sha256 -extfile "$WORK/tsa-ext.cnf" \
  -out "$OUT/tsa.pem" 2>/dev/null
echo 01 >"$WORK/tsa-serial"
cat >"$WORK/tsa.cnf" <<EOF
[tsa]
serial = $WORK/tsa-serial
crypto_device = builtin
signer_cert = $OUT/tsa.pem
certs = $PKI/issuing-ca.pem
signer_key = $OUT/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
EOF

# --- The fixtures ----------------------------------------------------------------
make_letter "$OUT/unsigned.pdf"
pdf_sign "$OUT/unsigned.pdf" "$OUT/signed.pdf" signer-rsa Signature1
# pdfsig 22.12 fails ("unable update signature") to add an ECDSA signature to
# a PDF that already holds one, so the second signer is RSA too.
pdf_sign "$OUT/signed.pdf" "$OUT/signed-twice.pdf" signer-rsa Signature2
# The letter rewritten by qpdf with object streams, so its cross-reference is a
# stream; pdfsig then writes each update with a cross-reference stream too.
qpdf --object-streams=generate "$OUT/unsigned.pdf" "$WORK/unsigned-xref-stream.pdf"
pdf_sign "$WORK/unsigned-xref-stream.pdf" "$WORK/signed-xref-stream.pdf" signer-rsa Signature1
pdf_sign "$WORK/signed-xref-stream.pdf" "$OUT/signed-twice-xref-stream.pdf" signer-rsa Signature2
pdf_sign "$OUT/unsigned.pdf" "$OUT/signed-ec.pdf" signer-ec Signature1
pdf_sign "$OUT/unsigned.pdf" "$OUT/signed-untrusted.pdf" signer-untrusted Signature1
pdf_sign "$OUT/unsigned.pdf" "$OUT/signed-expired.pdf" signer-expired Signature1

# Changed after signing: a revision that replaces the page's content stream
# ("Số: 6587" becomes "Số: 9999"), the signed bytes left untouched.
cp "$OUT/signed.pdf" "$OUT/signed-then-content-changed.pdf"
content=$(sed -n '/^4 0 obj$/,/^endstream$/p' "$OUT/unsigned.pdf" | sed -n 's/^BT /BT /p' |
  sed "s/$(utf16_hex "6587")/$(utf16_hex "9999")/")
append_revision "$OUT/signed-then-content-changed.pdf" "4|<< /Length $(bytes "$content") >>
stream
$content
endstream"

# Annotated after signing: a revision that adds a text note to the page.
cp "$OUT/signed.pdf" "$OUT/signed-then-annotated.pdf"
n=$(trailer_size "$OUT/signed.pdf")
annots=$(page_annots "$OUT/signed.pdf")
append_revision "$OUT/signed-then-annotated.pdf" \
  "$n|<< /Type /Annot /Subtype /Text /Rect [400 700 420 720] /Contents <FEFF$(utf16_hex "Đã sửa sau khi ký")> /P 3 0 R >>" \
  "$annots|$(latest_object "$OUT/signed.pdf" "$annots" | sed "s/\]/$n 0 R ]/")"

# One byte changed inside the signed range: the "6" of "Số: 6587" in the page's
# content stream (its UTF-16BE hex 0036 becomes 0039, a "9").
cp "$OUT/signed.pdf" "$OUT/signed-byte-changed.pdf"
at=$(grep -a -b -o "$(utf16_hex "6587")" "$OUT/signed.pdf" | head -1 | cut -d: -f1)
patch_at "$OUT/signed-byte-changed.pdf" "$((at + 3))" 9
cmp -s "$OUT/signed.pdf" "$OUT/signed-byte-changed.pdf" && { echo "the byte change changed nothing" >&2; exit 1; }

# ETSI.CAdES.detached (PAdES baseline) by openssl cms, and a document time-stamp over it.
append_signature "$OUT/unsigned.pdf" "$OUT/signed-cades.pdf" /Sig /ETSI.CAdES.detached Signature1 cms_sign signer-rsa
append_signature "$OUT/signed.pdf" "$OUT/signed-timestamped.pdf" /DocTimeStamp /ETSI.RFC3161 DocTimeStamp1 \
  timestamp_token

# append_field IN OUT ENTRIES [CONTENT]: appends a revision that adds an unsigned
# signature field on page 1 (a widget with ENTRIES: its /T, /Rect, /F), with an
# appearance (/AP /N) drawing CONTENT over the whole page when given. With
# FIELD_VALUE set, that text is added as an object too and becomes the field's /V.
append_field() {
  local in="$1" out="$2" entries="$3" n objects=() book
  cp "$in" "$out"
  n=$(trailer_size "$out")
  if [ -n "${FIELD_VALUE:-}" ]; then
    objects+=("$n|$FIELD_VALUE")
    entries+=" /V $n 0 R"
    n=$((n + 1))
  fi
  if [ $# -gt 3 ]; then
    objects+=("$n|$(form_xobject 595 842 "$4")")
    entries+=" /AP << /N $n 0 R >>"
    n=$((n + 1))
  fi
  mapfile -t book < <(field_bookkeeping "$out" "$n")
  append_revision "$out" "${objects[@]}" "$n|<< /Type /Annot /Subtype /Widget /FT /Sig $entries /P 3 0 R >>" "${book[@]}"
}

# Forgeries after signing that add no visible content of their own, only fields and bytes
# (Mainka et al., "Breaking the Specification: PDF Certification", 2021: the sneaky
# signature attack; and an object readers see only when they rebuild the cross-reference
# table). Each must be refused, naming the change.
# The sneaky signature: an unsigned signature field over the whole page whose opaque
# appearance paints the page white and writes the letter again with "9999" for "6587".
sneaky="q 1 1 1 rg 0 0 595 842 re f Q $content"
append_field "$OUT/signed.pdf" "$OUT/signed-then-sneaky-field.pdf" "/T (Signature9) /Rect [0 0 595 842] /F 4" "$sneaky"
# The same field whose /V is Signature1's signature dictionary, referenced (one dictionary,
# two fields) or copied into a new object: both "signatures" then sign only bytes before them.
signature1_field=$(latest_object "$OUT/signed.pdf" 11 | grep -a -o '/Fields \[[0-9]*' | cut -d[ -f2)
signature1_value=$(latest_object "$OUT/signed.pdf" "$signature1_field" | grep -a -o '/V [0-9]* 0 R' | cut -d' ' -f2)
append_field "$OUT/signed.pdf" "$OUT/signed-then-sneaky-field-sharing-value.pdf" \
  "/T (Signature9) /Rect [0 0 595 842] /F 4 /V $signature1_value 0 R" "$sneaky"
FIELD_VALUE=$(latest_object "$OUT/signed.pdf" "$signature1_value") append_field "$OUT/signed.pdf" \
  "$OUT/signed-then-sneaky-field-copying-value.pdf" "/T (Signature9) /Rect [0 0 595 842] /F 4" "$sneaky"
# The page's content stream (object 4) again, with "9999", after the last %%EOF: no
# cross-reference section, trailer or startxref, then %%EOF.
cp "$OUT/signed.pdf" "$OUT/signed-then-object-after-eof.pdf"
printf '4 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n%%%%EOF\n' "$(bytes "$content")" "$content" \
  >>"$OUT/signed-then-object-after-eof.pdf"

# What may follow a signature: an empty, invisible signature field for a later signer,
# and a second signature with a visible appearance (openssl cms, ECDSA), which signs
# the revision that adds it.
append_field "$OUT/signed.pdf" "$OUT/signed-then-empty-field.pdf" "/T (Signature2) /Rect [0 0 0 0] /F 132"
SIGNATURE_RECT="380 40 560 100" \
  SIGNATURE_APPEARANCE="0 0 0.6 RG 1 w 1 1 178 58 re S BT /F1 9 Tf 8 36 Td <$(utf16_hex "Đã ký: Trần Thị Bình")> Tj ET" \
  append_signature "$OUT/signed.pdf" "$OUT/signed-then-visibly-signed.pdf" /Sig /ETSI.CAdES.detached Signature2 \
  cms_sign signer-ec

# A certification signature that permits no change (DocMDP P=1), then a second signature
# (a change it forbids) or a document time-stamp (validation data, which it allows).
CERTIFY_P=1 append_signature "$OUT/unsigned.pdf" "$OUT/certified.pdf" /Sig /ETSI.CAdES.detached Signature1 \
  cms_sign signer-rsa
append_signature "$OUT/certified.pdf" "$OUT/certified-then-signed.pdf" /Sig /ETSI.CAdES.detached Signature2 \
  cms_sign signer-ec
append_signature "$OUT/certified.pdf" "$OUT/certified-then-timestamped.pdf" /DocTimeStamp /ETSI.RFC3161 \
  DocTimeStamp1 timestamp_token

# Damaged files.
head -c $(($(size "$OUT/signed.pdf") / 2)) "$OUT/signed.pdf" >"$OUT/truncated.pdf"

# Self-check: pdfsig (trusting root-ca) accepts the good signatures.
certutil -A -d "sql:$NSS" -n root-ca -t "CT,C,C" -i "$PKI/root-ca.pem"
for f in signed signed-twice signed-twice-xref-stream signed-ec signed-cades signed-then-visibly-signed certified; do
  pdfsig -nssdir "sql:$NSS" "$OUT/$f.pdf" 2>/dev/null | grep -q "Signature is Valid" ||
    { echo "pdfsig does not accept $f.pdf" >&2; exit 1; }
done

echo "make-pdf-fixtures: wrote $(ls "$OUT" | wc -l) files to tests/fixtures/pdf"
