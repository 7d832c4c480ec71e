// UTF-8 checks, and the one way preserve shows bytes that are not UTF-8.
//
// Stores written before ingest refused such names can hold them raw inside
// JSON records, manifests and audit events (JSON must be UTF-8). Such bytes
// are read, shown and compared through EscapeInvalidUtf8, everywhere: a
// record repaired by `preserve repair` holds exactly what readers showed for
// it before, and a sealed manifest or audit event, which can never be
// rewritten, still agrees with it.
#pragma once

#include <string>
#include <string_view>

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

}  // namespace preserve
