// The HTTP/1.1 request framing the RFC 3161 service needs (RFC 9112), and no
// more: a request line, header fields, and a body delimited by Content-Length
// or the chunked transfer coding. Strict and bounded: whatever it does not
// understand is refused with the status to answer, never guessed at, so a
// request cannot be framed differently here and by a proxy in front.
//
// It works on the bytes received so far and keeps no state between calls:
// the server reads more and calls again until a call says kComplete or
// refuses. A time-stamp request is about 100 bytes, so parsing it again from
// the start costs less than keeping state would.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "preserve/util/bytes.h"

namespace preserve::timestamp::internal {

enum class HttpParse {
  kIncomplete,           // need more bytes
  kComplete,             // done; see the result's fields
  kBadRequest,           // 400: malformed
  kHeadTooLarge,         // 431: request line and fields over the limit
  kBodyTooLarge,         // 413
  kVersionNotSupported,  // 505: not HTTP/1.x
  kNotImplemented,       // 501: a transfer coding other than chunked
};

struct HttpRequestHead {
  std::string_view method;
  std::string_view content_type;  // empty when absent
  std::size_t content_length = 0;
  bool chunked = false;     // Transfer-Encoding: chunked (content_length unused)
  bool http10 = false;      // HTTP/1.0: the reply says keep-alive explicitly
  bool keep_alive = false;  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "keep-alive"
  std::size_t size = 0;     // bytes of `data` the head takes, empty line included
};

namespace http_detail {

inline bool IsTokenChar(char c) {
  // tchar (RFC 9110 5.6.2)
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

inline bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!IsTokenChar(c)) return false;
  return true;
}

// Field values: visible characters, spaces, tabs, and obs-text (bytes >= 0x80).
inline bool IsFieldValue(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

inline std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

inline bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Calls `each` with every element of a comma-separated list, trimmed, empty ones skipped.
template <typename F>
void ForEachListElement(std::string_view list, F each) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view element = TrimOws(list.substr(0, comma));
    if (!element.empty()) each(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// Digits only, no sign, no overflow.
inline bool ParseDecimal(std::string_view s, std::size_t& value) {
  if (s.empty() || s.size() > 18) return false;
  value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  return true;
}

}  // namespace http_detail

// Parses the head of the request at the start of `data`: empty lines before
// the request line are skipped (RFC 9112 2.2), lines end with CRLF, fields
// may not be folded, and Content-Length and Transfer-Encoding may not both
// appear. A head longer than `max_head` bytes is kHeadTooLarge.
inline HttpParse ParseRequestHead(std::string_view data, std::size_t max_head, HttpRequestHead& head) {
  using namespace http_detail;
  std::size_t start = 0;
  while (data.substr(start, 2) == "\r\n") start += 2;
  const std::size_t end = data.find("\r\n\r\n", start);
  if (end == std::string_view::npos)
    return data.size() > max_head ? HttpParse::kHeadTooLarge : HttpParse::kIncomplete;
  if (end + 4 > max_head) return HttpParse::kHeadTooLarge;
  head = HttpRequestHead{};
  head.size = end + 4;
  std::string_view lines = data.substr(start, end + 2 - start);  // each line with its CRLF

  auto next_line = [&lines](std::string_view& line) {
    const std::size_t crlf = lines.find("\r\n");
    line = lines.substr(0, crlf);
    lines.remove_prefix(crlf + 2);
    // A bare CR or LF inside a line is how requests get smuggled past proxies.
    return line.find_first_of("\r\n") == std::string_view::npos;
  };

  // request-line = method SP request-target SP HTTP-version
  std::string_view line;
  if (!next_line(line)) return HttpParse::kBadRequest;
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return HttpParse::kBadRequest;
  head.method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(head.method) || target.empty()) return HttpParse::kBadRequest;
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return HttpParse::kBadRequest;
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return HttpParse::kBadRequest;
  if (version[5] != '1') return HttpParse::kVersionNotSupported;
  head.http10 = version[7] == '0';

  bool connection_close = false;
  bool connection_keep_alive = false;
  bool have_length = false;
  bool have_transfer_encoding = false;
  bool have_content_type = false;
  while (!lines.empty()) {
    if (!next_line(line)) return HttpParse::kBadRequest;
    const std::size_t colon = line.find(':');
    // No space before the colon, no obs-fold (RFC 9112 5.1, 5.2).
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) return HttpParse::kBadRequest;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (!IsFieldValue(value)) return HttpParse::kBadRequest;
    if (EqualsIgnoringCase(name, "content-length")) {
      // Repeated, or as a list, it must say the same length each time (RFC 9110 8.6).
      bool valid = true;
      int lengths = 0;
      ForEachListElement(value, [&](std::string_view element) {
        std::size_t length = 0;
        if (!ParseDecimal(element, length) || (have_length && length != head.content_length)) valid = false;
        head.content_length = length;
        have_length = true;
        ++lengths;
      });
      if (!valid || lengths == 0) return HttpParse::kBadRequest;
    } else if (EqualsIgnoringCase(name, "transfer-encoding")) {
      // Only "chunked", once: any other coding would have to be undone first.
      bool only_chunked = !have_transfer_encoding;
      int codings = 0;
      ForEachListElement(value, [&](std::string_view element) {
        ++codings;
        only_chunked = only_chunked && EqualsIgnoringCase(element, "chunked");
      });
      if (codings == 0) return HttpParse::kBadRequest;
      if (!only_chunked || codings != 1) return HttpParse::kNotImplemented;
      have_transfer_encoding = true;
      head.chunked = true;
    } else if (EqualsIgnoringCase(name, "content-type")) {
      if (have_content_type) return HttpParse::kBadRequest;  // which one would the TSA be sent?
      have_content_type = true;
      head.content_type = value;
    } else if (EqualsIgnoringCase(name, "connection")) {
      ForEachListElement(value, [&](std::string_view element) {
        if (EqualsIgnoringCase(element, "close")) connection_close = true;
        if (EqualsIgnoringCase(element, "keep-alive")) connection_keep_alive = true;
      });
    }
  }
  // Both framings at once is the classic request-smuggling vector, and an
  // HTTP/1.0 request cannot be chunked: faulty framing (RFC 9112 6.1).
  if (have_length && have_transfer_encoding) return HttpParse::kBadRequest;
  if (have_transfer_encoding && head.http10) return HttpParse::kBadRequest;
  head.keep_alive = !connection_close && (!head.http10 || connection_keep_alive);
  return HttpParse::kComplete;
}

// Decodes the chunked body at the start of `data` into `body` (replacing what
// it held); on kComplete `consumed` is the bytes it took, trailer fields
// included (they are read and dropped). Chunk extensions are checked and
// ignored. A body that would exceed `max_body` bytes is kBodyTooLarge.
inline HttpParse DecodeChunkedBody(std::string_view data, std::size_t max_body, Bytes& body,
                                   std::size_t& consumed) {
  using namespace http_detail;
  body.clear();
  std::size_t at = 0;
  for (;;) {
    const std::size_t crlf = data.find("\r\n", at);
    if (crlf == std::string_view::npos) return HttpParse::kIncomplete;
    std::string_view size_line = data.substr(at, crlf - at);
    const std::size_t semicolon = size_line.find(';');
    if (semicolon != std::string_view::npos) {
      // Extensions are ignored, but must be clean: a bare LF or a control
      // character there is how a proxy and this parser would come to disagree.
      if (!IsFieldValue(size_line.substr(semicolon + 1))) return HttpParse::kBadRequest;
      // BWS may stand before the extensions (RFC 9112 7.1.1), never before the size.
      size_line = size_line.substr(0, semicolon);
      while (!size_line.empty() && (size_line.back() == ' ' || size_line.back() == '\t')) size_line.remove_suffix(1);
    }
    if (size_line.empty() || size_line.size() > 8) return HttpParse::kBadRequest;
    std::size_t size = 0;
    for (char c : size_line) {
      int digit = -1;
      if (c >= '0' && c <= '9') digit = c - '0';
      if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
      if (digit < 0) return HttpParse::kBadRequest;
      size = size * 16 + static_cast<std::size_t>(digit);
    }
    at = crlf + 2;
    if (size == 0) break;
    if (size > max_body - body.size()) return HttpParse::kBodyTooLarge;
    if (data.size() < at + size + 2) return HttpParse::kIncomplete;
    if (data.substr(at + size, 2) != "\r\n") return HttpParse::kBadRequest;
    body.insert(body.end(), data.begin() + static_cast<std::ptrdiff_t>(at),
                data.begin() + static_cast<std::ptrdiff_t>(at + size));
    at += size + 2;
  }
  // trailer-section, then the empty line that ends the message
  for (;;) {
    const std::size_t crlf = data.find("\r\n", at);
    if (crlf == std::string_view::npos) return HttpParse::kIncomplete;
    const std::string_view trailer = data.substr(at, crlf - at);
    at = crlf + 2;
    if (trailer.empty()) break;
    const std::size_t colon = trailer.find(':');
    if (colon == std::string_view::npos || !IsToken(trailer.substr(0, colon)) ||
        !IsFieldValue(trailer.substr(colon + 1)))
      return HttpParse::kBadRequest;
  }
  consumed = at;
  return HttpParse::kComplete;
}

}  // namespace preserve::timestamp::internal
