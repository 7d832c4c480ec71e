#!/usr/bin/env bash
# Regenerates the container fixtures: ASiC containers (tests/fixtures/asic/),
# hostile archives (tests/fixtures/hostile/), a bulk-ingest tree with its
# zip and tar.gz (tests/fixtures/bulk/) and bundles whose entry names are not
# UTF-8 (tests/fixtures/names/). tests/fixtures/README.md says what
# each file is and what the tests expect of it.
#
# Signatures are made with the openssl command line and the test PKI in
# tests/fixtures/pki/ (run scripts/make-test-fixtures.sh first, and this script
# again whenever that one has run: the signatures name its keys). Zips and tars
# are built with Python's zipfile and tarfile, which write exactly the entries
# asked for (stored mimetype first, duplicate names, links, devices, '..'),
# with fixed dates so that only the signatures change between runs.
#
# Usage: scripts/make-container-fixtures.sh   (from anywhere; needs openssl 3, python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PKI="$ROOT/tests/fixtures/pki"
export LETTER="$ROOT/tests/fixtures/signed/letter.txt"
export ASIC="$ROOT/tests/fixtures/asic"
export HOSTILE="$ROOT/tests/fixtures/hostile"
export BULK="$ROOT/tests/fixtures/bulk"
export NAMES="$ROOT/tests/fixtures/names"
export WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

for f in "$PKI/signer-rsa.pem" "$PKI/signer-ec.pem" "$PKI/signer-untrusted.pem" "$LETTER"; do
  [ -f "$f" ] || { echo "missing $f: run scripts/make-test-fixtures.sh first" >&2; exit 1; }
done
rm -rf "$ASIC" "$HOSTILE" "$BULK" "$NAMES"
mkdir -p "$ASIC" "$HOSTILE" "$BULK" "$NAMES"

python3 - <<'PY'
import base64, hashlib, io, json, os, subprocess, tarfile, unicodedata, urllib.parse, warnings, zipfile

warnings.filterwarnings("ignore", "Duplicate name")  # duplicate.zip wants one

PKI, LETTER, WORK = os.environ["PKI"], os.environ["LETTER"], os.environ["WORK"]
ASIC, HOSTILE, BULK, NAMES = os.environ["ASIC"], os.environ["HOSTILE"], os.environ["BULK"], os.environ["NAMES"]
DATE = (2026, 1, 15, 9, 30, 0)
MTIME = 1768469400  # the same moment, for tar

def sign(content, signer="signer-rsa", detached=True):
    """A CAdES-BES CMS (DER) over `content` by a key of the test PKI."""
    src = os.path.join(WORK, "content.bin")
    with open(src, "wb") as f:
        f.write(content)
    args = ["openssl", "cms", "-sign", "-binary", "-md", "sha256", "-cades", "-in", src,
            "-signer", f"{PKI}/{signer}.pem", "-inkey", f"{PKI}/{signer}.key", "-outform", "DER"]
    if signer != "signer-untrusted":
        args += ["-certfile", f"{PKI}/issuing-ca.pem"]
    if not detached:
        args.append("-nodetach")
    return subprocess.run(args, check=True, capture_output=True).stdout

class RawName(zipfile.ZipInfo):
    """An entry whose name is written as the bytes given, with the UTF-8 flag
    (general purpose bit 11) set or not as asked: zipfile itself writes only
    ASCII unflagged and UTF-8 flagged."""
    def __init__(self, raw, utf8_flag, date=DATE):
        super().__init__(raw.decode("latin-1"), date)
        self.raw, self.utf8_flag = raw, utf8_flag
    def _encodeFilenameFlags(self):
        return self.raw, (self.flag_bits | 0x800) if self.utf8_flag else (self.flag_bits & ~0x800)

def write_zip(path, entries):
    """entries: (name, bytes[, compress]); a name is a str (ASCII unflagged, else
    UTF-8 flagged, as zipfile writes it) or a RawName. Written in order."""
    with zipfile.ZipFile(path, "w") as z:
        for name, data, *rest in entries:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name, DATE)
            info.compress_type = zipfile.ZIP_DEFLATED if (rest[0] if rest else True) else zipfile.ZIP_STORED
            z.writestr(info, data)

def asic(path, media_type, entries):
    head = [("mimetype", media_type.encode(), False)] if media_type else []
    write_zip(os.path.join(ASIC, path), head + entries)

def manifest(signature, objects):
    """An ASiCManifest (EN 319 162-1 A.4) over (uri, bytes) pairs, SHA-256."""
    refs = "".join(
        f'  <asic:DataObjectReference URI="{uri}" MimeType="text/plain">\n'
        f'    <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>\n'
        f'    <ds:DigestValue>{base64.b64encode(hashlib.sha256(data).digest()).decode()}</ds:DigestValue>\n'
        f'  </asic:DataObjectReference>\n' for uri, data in objects)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#" '
            'xmlns:ds="http://www.w3.org/2000/09/xmldsig#">\n'
            f'  <asic:SigReference URI="{signature}" MimeType="application/x-pkcs7-signature"/>\n'
            f'{refs}</asic:ASiCManifest>\n').encode()

letter = open(LETTER, "rb").read()
appendix = "PHỤ LỤC\nDanh sách các cơ quan, đơn vị sử dụng chữ ký số năm 2017.\n".encode()
appendix_name = "phụ lục.txt"
appendix_uri = "ph%E1%BB%A5%20l%E1%BB%A5c.txt"  # percent-encoded, as the URI attribute wants it
S, E = "application/vnd.etsi.asic-s+zip", "application/vnd.etsi.asic-e+zip"

# ASiC-S
simple_sig = sign(letter)
asic("simple.asics", S, [("letter.txt", letter), ("META-INF/signature.p7s", simple_sig)])
asic("simple-no-mimetype.asics", None, [("letter.txt", letter), ("META-INF/signature.p7s", simple_sig)])
asic("untrusted.asics", S, [("letter.txt", letter), ("META-INF/signature.p7s", sign(letter, "signer-untrusted"))])
asic("wrong-mimetype.asice", "application/vnd.oasis.opendocument.text",
     [("letter.txt", letter), ("META-INF/signature.p7s", simple_sig)])

# ASiC-E: one manifest, signed by signer-ec, over two documents.
good_manifest = manifest("META-INF/signature001.p7s", [("letter.txt", letter), (appendix_uri, appendix)])
good_sig = sign(good_manifest, "signer-ec")
signed_part = [("META-INF/ASiCManifest001.xml", good_manifest), ("META-INF/signature001.p7s", good_sig)]
asic("extended.asice", E, [("letter.txt", letter), (appendix_name, appendix)] + signed_part)
asic("extended-unlisted.asice", E, [("letter.txt", letter), (appendix_name, appendix),
                                    ("unlisted.txt", b"Not listed in any manifest.\n")] + signed_part)
tampered = appendix.replace("năm 2017".encode(), "năm 2018".encode())
assert tampered != appendix
asic("extended-tampered.asice", E, [("letter.txt", letter), (appendix_name, tampered)] + signed_part)

# Names (issue 13). An unsigned data file whose name is CP1258 bytes without
# the UTF-8 flag, as a Windows tool would add it after signing: its name is
# read as the zip standard's CP437 (no code page is taken for ASiC), and the
# file, which no signature covers, leaves the container INDETERMINATE.
cp1258_memo_name = "Công văn.txt".encode("cp1258")
asic("extended-unsigned-non-utf8.asice", E, [("letter.txt", letter), (appendix_name, appendix),
                                            (RawName(cp1258_memo_name, False), b"Added after signing.\n")] + signed_part)
# The covered names stored and referenced in NFD, as macOS writes names: the
# signature covers those bytes and stays VALID; reports show the names in NFC.
nfd_name = unicodedata.normalize("NFD", appendix_name)
nfd_manifest = manifest("META-INF/signature001.p7s",
                        [("letter.txt", letter), (urllib.parse.quote(nfd_name), appendix)])
asic("extended-nfd-names.asice", E, [("letter.txt", letter), (nfd_name, appendix),
                                     ("META-INF/ASiCManifest001.xml", nfd_manifest),
                                     ("META-INF/signature001.p7s", sign(nfd_manifest, "signer-ec"))])

# Manifests that attack the XML parser; each is signed, so only the parser can refuse it.
laughs = "".join(f'  <!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">\n' for i in range(1, 10))
bomb = ('<?xml version="1.0"?>\n<!DOCTYPE asic:ASiCManifest [\n  <!ENTITY lol0 "lol">\n' + laughs + ']>\n' +
        good_manifest.decode().split("\n", 1)[1].replace('MimeType="text/plain"', 'MimeType="&lol9;"', 1)).encode()
asic("xml-bomb.asice", E, [("letter.txt", letter), (appendix_name, appendix),
                           ("META-INF/ASiCManifest001.xml", bomb), ("META-INF/signature001.p7s", sign(bomb))])
xxe = ('<?xml version="1.0"?>\n<!DOCTYPE asic:ASiCManifest [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n' +
       good_manifest.decode().split("\n", 1)[1].replace('MimeType="text/plain"', 'MimeType="&xxe;"', 1)).encode()
asic("xxe.asice", E, [("letter.txt", letter), (appendix_name, appendix),
                      ("META-INF/ASiCManifest001.xml", xxe), ("META-INF/signature001.p7s", sign(xxe))])

# Hostile archives.
def hostile_zip(name, entries):
    write_zip(os.path.join(HOSTILE, name), [("readme.txt", b"harmless\n")] + entries)
hostile_zip("dotdot.zip", [("../../escaped.txt", b"outside\n")])
hostile_zip("absolute.zip", [("/tmp/preserve-escaped.txt", b"outside\n")])
hostile_zip("duplicate.zip", [("letter.txt", b"first\n"), ("letter.txt", b"second\n")])
hostile_zip("file-and-directory.zip", [("letter.txt", b"a file\n"), ("letter.txt/inner.txt", b"under it\n")])
with zipfile.ZipFile(os.path.join(HOSTILE, "symlink.zip"), "w") as z:
    z.writestr(zipfile.ZipInfo("readme.txt", DATE), b"harmless\n")
    link = zipfile.ZipInfo("passwd", DATE)
    link.create_system = 3  # Unix: the mode in external_attr counts
    link.external_attr = (0o120777 << 16)
    z.writestr(link, "/etc/passwd")
# 200 MiB of zeros deflated to about 200 KB: a 1000:1 ratio, with honest headers.
with zipfile.ZipFile(os.path.join(HOSTILE, "bomb.zip"), "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    info = zipfile.ZipInfo("zeros.bin", DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    with z.open(info, "w", force_zip64=True) as f:
        chunk = bytes(1 << 20)
        for _ in range(200):
            f.write(chunk)
# 20 MiB of zeros whose headers claim 1000 bytes: only the running limits can catch it.
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.writestr(zipfile.ZipInfo("zeros.bin", DATE), bytes(20 << 20), zipfile.ZIP_DEFLATED)
lying = bytearray(buffer.getvalue())
central = lying.index(b"PK\x01\x02")
for offset in (22, central + 24):  # uncompressed size: local header, central directory
    lying[offset:offset + 4] = (1000).to_bytes(4, "little")
open(os.path.join(HOSTILE, "bomb-lying-size.zip"), "wb").write(lying)

def hostile_tar(name, mode, members):
    with tarfile.open(os.path.join(HOSTILE, name), mode, format=tarfile.PAX_FORMAT) as t:
        for info, data in [(tarfile.TarInfo("readme.txt"), b"harmless\n")] + members:
            info.mtime = MTIME
            if data is not None:
                info.size = len(data)
            t.addfile(info, io.BytesIO(data) if data is not None else None)
def tar_entry(name, kind, **fields):
    info = tarfile.TarInfo(name)
    info.type = kind
    for k, v in fields.items():
        setattr(info, k, v)
    return info
hostile_tar("device.tar", "w", [(tar_entry("null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666), None)])
hostile_tar("hardlink.tar", "w", [(tar_entry("passwd", tarfile.LNKTYPE, linkname="/etc/passwd"), None)])
hostile_tar("dotdot.tar.gz", "w:gz", [(tarfile.TarInfo("../../escaped.txt"), b"outside\n")])

# The bulk tree, and the same as .zip and .tar.gz.
notice = b"%PDF-1.4\n% Not a real PDF: bulk pairing goes by name only.\n%%EOF\n"
memo = "CÔNG VĂN\nSố: 15/STTTT-BCVT\nV/v báo cáo tình hình sử dụng chữ ký số.\n".encode()
tree = {
    "letter.txt": letter,
    "letter.txt.p7s": sign(letter),
    # Record metadata sidecars (Decree 30/2020 fields: package/include/preserve/package/record_metadata.h).
    "letter.txt.metadata.json": json.dumps({
        "code_number": "6587", "code_notation": "UBND-CNXD", "issued_date": "2017-11-22",
        "organ_name": "UBND tỉnh Đắk Nông", "type_name": "Công văn",
        "subject": "Tăng cường sử dụng chữ ký số", "retention": "permanent"}, ensure_ascii=False).encode() + b"\n",
    "công văn 15.txt": memo,
    "công văn 15.txt.p7s": sign(memo, "signer-ec"),
    "2024/report.p7m": sign(memo, detached=False),
    "2024/report.p7m.metadata.json": json.dumps({
        "code_number": "15", "code_notation": "STTTT-BCVT", "issued_date": "2024-03-15",
        "organ_name": "Sở Thông tin và Truyền thông tỉnh Đắk Nông", "type_name": "Báo cáo",
        "subject": "Báo cáo tình hình sử dụng chữ ký số", "retention": 10}, ensure_ascii=False).encode() + b"\n",
    "2024/notice.pdf": notice,
    "2024/notice.pdf.p7s": sign(notice),
    "2024/scan.pdf": notice,
    "2024/container.asics": open(os.path.join(ASIC, "simple.asics"), "rb").read(),
    "orphan.p7s": sign(b"a document that is not here\n"),
    "unsigned.txt": b"No signature for this one.\n",
    "stray.metadata.json": b'{"code_number": "1", "code_notation": "XX"}\n',
    ".hidden.txt": b"skipped: dot files are not records\n",
}
root = os.path.join(BULK, "tree")
for name, data in tree.items():
    os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
    with open(os.path.join(root, name), "wb") as f:
        f.write(data)
with zipfile.ZipFile(os.path.join(BULK, "tree.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo("2024/", DATE), b"")
    z.writestr(zipfile.ZipInfo("__MACOSX/._letter.txt", DATE), b"resource fork\n")
    for name in sorted(tree):
        z.writestr(zipfile.ZipInfo(name, DATE), tree[name])
with tarfile.open(os.path.join(BULK, "tree.tar.gz"), "w:gz", format=tarfile.PAX_FORMAT) as t:
    for name in sorted(tree):
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(tree[name]), MTIME, 0o644
        t.addfile(info, io.BytesIO(tree[name]))

# Bundles whose names are not UTF-8 (issue 13). A zip from Vietnamese Windows:
# CP1258 names without the UTF-8 flag ("Công văn Đắk Nông.txt": ô
# precomposed, ắ as ă and a combining acute), beside an ASCII pair.
dak_nong = "Công văn Đă\u0301k Nông.txt".encode("cp1258")  # Python's cp1258 codec composes nothing
assert dak_nong == b"C\xf4ng v\xe3n \xd0\xe3\xeck N\xf4ng.txt", dak_nong
dak_nong_metadata = json.dumps({
    "code_number": "15", "code_notation": "STTTT-BCVT", "issued_date": "2024-03-15",
    "organ_name": "Sở Thông tin và Truyền thông tỉnh Đắk Nông", "type_name": "Công văn",
    "subject": "Báo cáo tình hình sử dụng chữ ký số"}, ensure_ascii=False).encode() + b"\n"
write_zip(os.path.join(NAMES, "cp1258-no-flag.zip"), [
    ("letter.txt", letter), ("letter.txt.p7s", tree["letter.txt.p7s"]),
    (RawName(dak_nong, False), memo), (RawName(dak_nong + b".p7s", False), tree["công văn 15.txt.p7s"]),
    (RawName(dak_nong + b".metadata.json", False), dak_nong_metadata)])
# The UTF-8 flag set on a name that is not UTF-8 ("báo cáo.txt" in CP1258).
bao_cao = "báo cáo.txt".encode("cp1258")
write_zip(os.path.join(NAMES, "utf8-flag-invalid.zip"), [
    ("letter.txt", letter), ("letter.txt.p7s", tree["letter.txt.p7s"]),
    (RawName(bao_cao, True), memo), (RawName(bao_cao + b".p7s", True), tree["công văn 15.txt.p7s"])])
PY

# Self-check: the good containers' signatures verify with openssl against the test root.
unzip -p "$ASIC/simple.asics" META-INF/signature.p7s >"$WORK/s.p7s"
openssl cms -verify -binary -inform DER -in "$WORK/s.p7s" -content "$LETTER" \
  -CAfile "$PKI/root-ca.pem" -purpose any -out /dev/null 2>/dev/null
unzip -p "$ASIC/extended.asice" META-INF/signature001.p7s >"$WORK/e.p7s"
unzip -p "$ASIC/extended.asice" META-INF/ASiCManifest001.xml >"$WORK/e.xml"
openssl cms -verify -binary -inform DER -in "$WORK/e.p7s" -content "$WORK/e.xml" \
  -CAfile "$PKI/root-ca.pem" -purpose any -out /dev/null 2>/dev/null

echo "make-container-fixtures: wrote $(ls "$ASIC" | wc -l) to tests/fixtures/asic, $(ls "$HOSTILE" | wc -l) to" \
  "tests/fixtures/hostile, the bulk tree and its zip and tar.gz to tests/fixtures/bulk"
