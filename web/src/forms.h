// What browsers send: query strings, url-encoded and multipart forms, and
// cookies, parsed into plain values. Every parser is bounded and total: bad
// input gives an error or nothing, never a crash.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "preserve/util/status.h"

namespace preserve::web {

// Name-value pairs in the order sent; a name may come several times.
class Fields {
 public:
  void Add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  // The first value of `name`, or "" when absent.
  std::string Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  std::vector<std::string> All(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// "%C4%90%E1%BA%AFk+N%C3%B4ng" -> "Đắk Nông" ('+' is a space). nullopt for a
// broken escape.
std::optional<std::string> UrlDecode(std::string_view text);
// "%2F" for '/': everything but unreserved characters escaped (RFC 3986).
std::string UrlEncode(std::string_view text);

// "a=1&b=x%20y" (a query string, or an application/x-www-form-urlencoded
// body). Pairs that do not decode are dropped. At most `max_fields`.
Fields ParseUrlEncoded(std::string_view text, std::size_t max_fields = 1000);
// The path of a request target ("/package/x?y=1" -> "/package/x") and its query.
std::string_view TargetPath(std::string_view target);
Fields TargetQuery(std::string_view target);

// The Cookie header: "a=1; b=2".
Fields ParseCookies(std::string_view header);

// One part of a multipart/form-data body (RFC 7578).
struct FormPart {
  std::string name;                      // the form field's name
  std::optional<std::string> file_name;  // set for a file input (possibly "")
  std::string content_type;              // as sent, "" when absent
  std::string data;
};

// Parses a multipart/form-data body, given the request's Content-Type
// ("multipart/form-data; boundary=..."). kInvalidArgument for a body that
// is not one (no boundary, no closing delimiter, a part without its
// Content-Disposition), or with more than `max_parts` parts.
Result<std::vector<FormPart>> ParseMultipart(std::string_view content_type, std::string_view body,
                                             std::size_t max_parts = 1000);

}  // namespace preserve::web
