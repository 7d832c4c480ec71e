// Reading JSON the store holds. Private to archive/.
#pragma once

#include <string_view>

#include <boost/json.hpp>

#include "preserve/util/status.h"
#include "preserve/util/unicode.h"

namespace preserve::archive {

// Parses `text`, a JSON row of the store. Rows written before preserve
// refused (or escaped) bytes that are not UTF-8 can hold such bytes raw, which
// JSON does not allow: such a row is read as EscapeInvalidUtf8 shows it (each
// bad byte "%XX", inside the strings where alone it can stand), so that one
// bad name never makes a whole record, or a whole listing, unreadable. A
// repaired row ('preserve repair') reads the same. Rows that are UTF-8 take
// the strict parse alone, at no extra cost. `escaped`, when given, says
// whether the row needed that. kCorruption when it is not JSON either way.
inline Result<boost::json::value> ParseStoredJson(std::string_view text, const char* what, bool* escaped = nullptr,
                                                  boost::json::storage_ptr memory = {}) {
  boost::json::error_code ec;
  boost::json::value parsed = boost::json::parse(text, ec, memory);
  bool needed_escaping = false;
  if (ec && !IsUtf8(text)) {
    ec.clear();
    parsed = boost::json::parse(EscapeInvalidUtf8(text), ec, memory);
    needed_escaping = true;
  }
  if (escaped != nullptr) *escaped = needed_escaping;
  if (ec) return Status::Corruption(std::string(what) + " is not JSON: " + ec.message());
  return parsed;
}

// JSON text for a row of the store: serialized, with any byte that is not
// UTF-8 (from a name ingest did not refuse, or an operator's --reason)
// escaped as readers would show it, so no new row needs repair.
inline std::string SerializeForStore(const boost::json::value& v) {
  std::string text = boost::json::serialize(v);
  return IsUtf8(text) ? text : EscapeInvalidUtf8(text);
}

}  // namespace preserve::archive
