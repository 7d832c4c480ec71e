// Text that names things: the file names that enter package records,
// manifests, reports and the audit trail are UTF-8 in Normalization Form C
// (NFC), so that they parse back as JSON forever and one name has one byte
// form (a name typed on Linux and the same name unzipped on macOS, which
// writes NFD, compare equal).
//
// Bytes that are not UTF-8 have one way to be shown. Stores written before
// ingest refused such names can hold them raw inside JSON records, manifests
// and audit events (JSON must be UTF-8). Such bytes are read, shown and
// compared through EscapeInvalidUtf8, everywhere: a record repaired by
// `preserve repair` holds exactly what readers showed for it before, and a
// sealed manifest or audit event, which can never be rewritten, still agrees
// with it.
//
// Normalization and folding go through ICU; legacy code pages through glibc's
// iconv; the UTF-8 checks and escapes need neither. Every function is
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "preserve/util/status.h"

namespace preserve {

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF, no truncated sequence).
bool IsUtf8(std::string_view text);

// `text` with every byte that is not part of a well-formed UTF-8 sequence
// written as '%' and two upper-case hex digits ("r\xe9sum\xe9" -> "r%E9sum%E9").
// The result is UTF-8; UTF-8 text comes back unchanged, so escaping twice is
// escaping once. JSON text stays JSON with the same structure: such bytes can
// only stand inside its strings.
std::string EscapeInvalidUtf8(std::string_view text);

// True when `text` is valid UTF-8 and in NFC.
bool IsNfcUtf8(std::string_view text);

// `text` in NFC. kInvalidArgument when it is not valid UTF-8.
Result<std::string> ToNfc(std::string_view text);

// Decodes `bytes` from the legacy code page `code_page` (any name glibc's
// iconv knows: "CP1258", "cp437", "windows-1258") to UTF-8 in NFC.
// kInvalidArgument for an unknown code page, or for bytes the code page does
// not define (the message gives their offset).
Result<std::string> DecodeCodePage(std::string_view bytes, std::string_view code_page);

// Ok when iconv can decode from `code_page`; kInvalidArgument naming it otherwise.
Status CheckCodePage(std::string_view code_page);

// `bytes` shown to people, in messages and refusal reasons: as
// EscapeInvalidUtf8 shows them (every byte outside a well-formed sequence as
// %XX: "C%F4ng.txt"), and every control character (C0, DEL, C1) the same way,
// so that a name cannot forge a line or steer a terminal. The result is UTF-8
// and can go into JSON; it is for display only (a literal '%' is not escaped).
std::string EscapeForDisplay(std::string_view bytes);

// A name shown to people: in NFC when it is UTF-8, else as EscapeForDisplay
// shows it (controls escaped either way).
std::string NameForDisplay(std::string_view bytes);

// `text` folded for search, insensitive to case and diacritics: "Đắk Nông"
// and "DAK NONG" both give "dak nong". Marks are dropped after canonical
// decomposition, and the letters whose diacritic is not a combining mark
// (Vietnamese đ, and ø, ł, ħ) become their base letter. kInvalidArgument when
// `text` is not valid UTF-8.
Result<std::string> FoldForSearch(std::string_view text);

}  // namespace preserve
