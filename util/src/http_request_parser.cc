#include "preserve/util/http_request_parser.h"

#include <algorithm>
#include <cstring>

namespace preserve {

namespace {

using Outcome = HttpRequestParser::Outcome;

bool IsTokenChar(char c) {
  // tchar (RFC 9110 5.6.2)
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

// Field values: visible characters, spaces, tabs, and obs-text (bytes >= 0x80).
bool IsFieldValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  // ASCII only, as field names are: std::tolower would consult the locale.
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [&lower](char x, char y) { return lower(x) == lower(y); });
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
bool ParseDecimal(std::string_view s, std::size_t& value) {
  if (s.empty() || s.size() > 18) return false;
  value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  return true;
}

}  // namespace

HttpRequestParser::HttpRequestParser(const HttpRequestLimits& limits)
    : limits_(limits), head_budget_(limits.max_head_bytes), framing_budget_(limits.max_chunk_framing_bytes) {}

void HttpRequestParser::Reset() {
  phase_ = Phase::kHead;
  outcome_ = Outcome::kIncomplete;
  started_ = false;
  head_budget_ = limits_.max_head_bytes;
  framing_budget_ = limits_.max_chunk_framing_bytes;
  data_left_ = 0;
  line_.clear();
  have_request_line_ = false;
  have_length_ = false;
  have_transfer_encoding_ = false;
  have_content_type_ = false;
  connection_close_ = false;
  connection_keep_alive_ = false;
  content_length_ = 0;
  method_.clear();
  content_type_.clear();
  http10_ = false;
  keep_alive_ = false;
  body_.clear();
}

HttpRequestParser::Progress HttpRequestParser::Finish(Outcome outcome, std::size_t consumed) {
  outcome_ = outcome;
  if (outcome != Outcome::kIncomplete) phase_ = Phase::kDone;
  return {outcome, consumed};
}

// The next line from data[at], without its CRLF, in `line`: a view of `data`
// itself when all of the line is there, else of line_, which holds what came
// before (the caller clears it once it has used the line). Advances `at` past
// what it read, and takes that from `budget`. Each byte is searched once: what
// is held back is never searched again.
HttpRequestParser::LineStep HttpRequestParser::NextLine(std::string_view data, std::size_t& at, std::size_t& budget,
                                                       std::string_view& line) {
  const std::string_view rest = data.substr(at);
  const std::size_t window = std::min(rest.size(), budget);
  const auto* lf = static_cast<const char*>(std::memchr(rest.data(), '\n', window));
  if (lf == nullptr) {
    // Had the line ended within the budget, its LF would be in the window.
    if (rest.size() >= budget) return LineStep::kTooLong;
    line_.append(rest);
    budget -= rest.size();
    at = data.size();
    return LineStep::kIncomplete;
  }
  const auto length = static_cast<std::size_t>(lf - rest.data());  // without the LF
  budget -= length + 1;
  at += length + 1;
  if (line_.empty()) {
    line = rest.substr(0, length);
  } else {
    line_.append(rest.substr(0, length));
    line = line_;
  }
  // A bare CR or LF inside a line is how requests get smuggled past proxies.
  if (line.empty() || line.back() != '\r') return LineStep::kMalformed;
  line.remove_suffix(1);
  if (line.find('\r') != std::string_view::npos) return LineStep::kMalformed;
  return LineStep::kLine;
}

HttpRequestParser::Progress HttpRequestParser::Parse(std::string_view data) {
  if (phase_ == Phase::kDone) return {outcome_, 0};
  if (!data.empty()) started_ = true;
  std::size_t at = 0;
  while (at < data.size()) {
    switch (phase_) {
      case Phase::kHead:
      case Phase::kChunkSize:
      case Phase::kTrailer: {
        const bool head = phase_ == Phase::kHead;
        std::string_view line;
        switch (NextLine(data, at, head ? head_budget_ : framing_budget_, line)) {
          case LineStep::kIncomplete:
            return Finish(Outcome::kIncomplete, at);
          case LineStep::kTooLong:
            return Finish(head ? Outcome::kHeadTooLarge : Outcome::kBodyTooLarge, at);
          case LineStep::kMalformed:
            return Finish(Outcome::kBadRequest, at);
          case LineStep::kLine:
            break;
        }
        Outcome outcome = Outcome::kIncomplete;
        if (phase_ == Phase::kHead) {
          outcome = HeadLine(line);
        } else if (phase_ == Phase::kChunkSize) {
          outcome = ChunkSizeLine(line);
        } else if (line.empty()) {
          outcome = Outcome::kComplete;  // the empty line that ends the message
        } else {
          const std::size_t colon = line.find(':');
          if (colon == std::string_view::npos || !IsToken(line.substr(0, colon)) ||
              !IsFieldValue(line.substr(colon + 1)))
            outcome = Outcome::kBadRequest;
        }
        line_.clear();
        if (outcome != Outcome::kIncomplete) return Finish(outcome, at);
        break;
      }
      case Phase::kContentLengthBody:
      case Phase::kChunkData: {
        const std::size_t n = std::min(data_left_, data.size() - at);
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data() + at);
        body_.insert(body_.end(), bytes, bytes + n);
        at += n;
        data_left_ -= n;
        if (data_left_ == 0) {
          if (phase_ == Phase::kContentLengthBody) return Finish(Outcome::kComplete, at);
          phase_ = Phase::kChunkDataCr;
        }
        break;
      }
      case Phase::kChunkDataCr:
      case Phase::kChunkDataLf: {
        if (framing_budget_ == 0) return Finish(Outcome::kBodyTooLarge, at);
        const char expected = phase_ == Phase::kChunkDataCr ? '\r' : '\n';
        // Data longer than its chunk's size: the sizes cannot be trusted.
        if (data[at] != expected) return Finish(Outcome::kBadRequest, at);
        ++at;
        --framing_budget_;
        phase_ = phase_ == Phase::kChunkDataCr ? Phase::kChunkDataLf : Phase::kChunkSize;
        break;
      }
      case Phase::kDone:
        return {outcome_, at};
    }
  }
  return Finish(Outcome::kIncomplete, at);
}

HttpRequestParser::Outcome HttpRequestParser::HeadLine(std::string_view line) {
  if (!have_request_line_) {
    if (line.empty()) return Outcome::kIncomplete;  // empty lines before the request (RFC 9112 2.2)
    have_request_line_ = true;
    return RequestLine(line);
  }
  return line.empty() ? EndOfHead() : Field(line);
}

// request-line = method SP request-target SP HTTP-version
HttpRequestParser::Outcome HttpRequestParser::RequestLine(std::string_view line) {
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return Outcome::kBadRequest;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method) || target.empty()) return Outcome::kBadRequest;
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return Outcome::kBadRequest;
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return Outcome::kBadRequest;
  if (version[5] != '1') return Outcome::kVersionNotSupported;
  http10_ = version[7] == '0';
  method_.assign(method);
  return Outcome::kIncomplete;
}

HttpRequestParser::Outcome HttpRequestParser::Field(std::string_view line) {
  const std::size_t colon = line.find(':');
  // No space before the colon, no obs-fold (RFC 9112 5.1, 5.2).
  if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) return Outcome::kBadRequest;
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = TrimOws(line.substr(colon + 1));
  if (!IsFieldValue(value)) return Outcome::kBadRequest;
  if (EqualsIgnoringCase(name, "content-length")) {
    // Repeated, or as a list, it must say the same length each time (RFC 9110 8.6).
    bool valid = true;
    int lengths = 0;
    ForEachListElement(value, [&](std::string_view element) {
      std::size_t length = 0;
      if (!ParseDecimal(element, length) || (have_length_ && length != content_length_)) valid = false;
      content_length_ = length;
      have_length_ = true;
      ++lengths;
    });
    if (!valid || lengths == 0) return Outcome::kBadRequest;
  } else if (EqualsIgnoringCase(name, "transfer-encoding")) {
    // Only "chunked", once: any other coding would have to be undone first.
    bool only_chunked = !have_transfer_encoding_;
    int codings = 0;
    ForEachListElement(value, [&](std::string_view element) {
      ++codings;
      only_chunked = only_chunked && EqualsIgnoringCase(element, "chunked");
    });
    if (codings == 0) return Outcome::kBadRequest;
    if (!only_chunked || codings != 1) return Outcome::kNotImplemented;
    have_transfer_encoding_ = true;
  } else if (EqualsIgnoringCase(name, "content-type")) {
    if (have_content_type_) return Outcome::kBadRequest;  // which one would the server act on?
    have_content_type_ = true;
    content_type_.assign(value);
  } else if (EqualsIgnoringCase(name, "connection")) {
    ForEachListElement(value, [&](std::string_view element) {
      if (EqualsIgnoringCase(element, "close")) connection_close_ = true;
      if (EqualsIgnoringCase(element, "keep-alive")) connection_keep_alive_ = true;
    });
  }
  return Outcome::kIncomplete;
}

HttpRequestParser::Outcome HttpRequestParser::EndOfHead() {
  // Both framings at once is the classic request-smuggling vector, and an
  // HTTP/1.0 request cannot be chunked: faulty framing (RFC 9112 6.1).
  if (have_length_ && have_transfer_encoding_) return Outcome::kBadRequest;
  if (have_transfer_encoding_ && http10_) return Outcome::kBadRequest;
  keep_alive_ = !connection_close_ && (!http10_ || connection_keep_alive_);
  if (have_transfer_encoding_) {
    phase_ = Phase::kChunkSize;
    return Outcome::kIncomplete;
  }
  // Refused before the body is read: there is no point receiving it.
  if (content_length_ > limits_.max_body_bytes) return Outcome::kBodyTooLarge;
  if (content_length_ == 0) return Outcome::kComplete;
  body_.reserve(content_length_);
  data_left_ = content_length_;
  phase_ = Phase::kContentLengthBody;
  return Outcome::kIncomplete;
}

// chunk-size [ chunk-ext ], the line before each chunk's data.
HttpRequestParser::Outcome HttpRequestParser::ChunkSizeLine(std::string_view line) {
  const std::size_t semicolon = line.find(';');
  if (semicolon != std::string_view::npos) {
    // Extensions are ignored, but must be clean: a control character there
    // is how a proxy and this parser would come to disagree.
    if (!IsFieldValue(line.substr(semicolon + 1))) return Outcome::kBadRequest;
    // BWS may stand before the extensions (RFC 9112 7.1.1), never before the size.
    line = line.substr(0, semicolon);
    while (!line.empty() && IsOws(line.back())) line.remove_suffix(1);
  }
  if (line.empty() || line.size() > 8) return Outcome::kBadRequest;
  std::size_t size = 0;
  for (char c : line) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) return Outcome::kBadRequest;
    size = size * 16 + static_cast<std::size_t>(digit);
  }
  if (size == 0) {
    phase_ = Phase::kTrailer;
    return Outcome::kIncomplete;
  }
  if (size > limits_.max_body_bytes - body_.size()) return Outcome::kBodyTooLarge;
  data_left_ = size;
  phase_ = Phase::kChunkData;
  return Outcome::kIncomplete;
}

}  // namespace preserve
