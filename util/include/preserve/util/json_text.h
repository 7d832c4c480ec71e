// Positions in a JSON text that a person wrote (a store's config.json, an
// algorithm policy file, a record metadata sidecar), for messages that point
// at the line to fix. Only scans the text: parsing stays Boost.JSON's
// (json_reader.h), and nothing here depends on it.
//
// Why a scan of our own: Boost.JSON's DOM keeps no positions, and its SAX
// parser hands over keys without them. A JSON text's structure is simple
// enough (strings, the six punctuation characters, and bare words for numbers
// and literals) that one pass which follows it, skipping strings with their
// escapes, tells exactly where each key is; and, up to where a parser stopped,
// what it was waiting for. Searching the text for the key's spelling would be
// simpler, but wrong for a key that is also a string value or the key of
// another object ("name" in every TSA entry).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace preserve {

struct JsonTextPosition {
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based, in characters (UTF-8 code points), as editors count
};

// Where byte `offset` of `text` is (an offset past the end is the end).
JsonTextPosition JsonPositionOf(std::string_view text, std::size_t offset);

// Why a JSON parser that stopped at byte `offset` of `text` did, judged from
// the text before it, which must be what the parser accepted: "expected ','
// or '}', found '\"b\"'", "expected a value, found the end of the text". When
// the offset is inside a string or a word (a bad escape, "tru"), says so
// ("inside a string").
std::string JsonSyntaxProblem(std::string_view text, std::size_t offset);

// RFC 6901 JSON pointer token for a key: '~' as "~0", '/' as "~1".
std::string JsonPointerToken(std::string_view key);

struct JsonKeyLines {
  // The line of each object member's key, by JSON pointer ("/tsas/0/url").
  // A key given twice in one object maps to its first line.
  std::map<std::string, std::size_t> lines;
  // Each key given again in the same object: its pointer, and the line of
  // the repetition. JSON parsers differ on which one counts (Boost.JSON takes
  // the last), so a person's file should not have them.
  std::vector<std::pair<std::string, std::size_t>> repeated;
};

// The keys of `text`, which must be valid JSON (what a parser accepted).
JsonKeyLines ScanJsonKeys(std::string_view text);

}  // namespace preserve
