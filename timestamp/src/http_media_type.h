// The media type of a Content-Type header, shared by the RFC 3161 HTTP client
// and server: parameters dropped, compared case-insensitively (RFC 9110 8.3.1).
#pragma once

#include <algorithm>
#include <string_view>

namespace preserve::timestamp::internal {

inline bool HasMediaType(std::string_view content_type, std::string_view media) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  // ASCII only, as media types are: std::tolower would consult the locale
  // for every character of every request.
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return std::equal(type.begin(), type.end(), media.begin(), media.end(),
                    [&lower](char a, char b) { return lower(a) == lower(b); });
}

}  // namespace preserve::timestamp::internal
