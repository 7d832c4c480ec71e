// Text that names things: the file names that enter package records,
// manifests, reports and the audit trail are UTF-8 in Normalization Form C
// (NFC), so that they parse back as JSON forever and one name has one byte
// form (a name typed on Linux and the same name unzipped on macOS, which
// writes NFD, compare equal).
//
// Normalization and folding go through ICU; legacy code pages through glibc's
// iconv. Every function is thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "preserve/util/status.h"
#include "preserve/util/utf8.h"  // IsUtf8, EscapeInvalidUtf8

namespace preserve {

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
