#include "preserve/util/json_text.h"

#include <algorithm>
#include <optional>
#include <set>

#include "preserve/util/unicode.h"

namespace preserve {

JsonTextPosition JsonPositionOf(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  JsonTextPosition at;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++at.line;
      at.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {  // not a UTF-8 continuation byte
      ++at.column;
    }
  }
  return at;
}

std::string JsonPointerToken(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool EndsWord(char c) { return IsSpace(c) || c == ',' || c == ']' || c == '}' || c == ':' || c == '"'; }

// A string's value, from the byte after its opening quote; `end` is set past
// its closing quote, or to npos when the text ends first. Escapes are decoded
// (\uXXXX as UTF-8, surrogate pairs joined) so that keys compare as parsed.
std::string ReadString(std::string_view text, std::size_t start, std::size_t& end) {
  std::string out;
  auto hex4 = [&](std::size_t at) -> std::optional<unsigned> {
    if (at + 4 > text.size()) return std::nullopt;
    unsigned v = 0;
    for (std::size_t k = at; k < at + 4; ++k) {
      const char c = text[k];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else return std::nullopt;
    }
    return v;
  };
  auto put = [&out](unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  };
  std::size_t i = start;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"') {
      end = i + 1;
      return out;
    }
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 >= text.size()) break;
    const char e = text[i + 1];
    i += 2;
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        std::optional<unsigned> cp = hex4(i);
        if (!cp) break;
        i += 4;
        if (*cp >= 0xD800 && *cp < 0xDC00 && i + 1 < text.size() && text[i] == '\\' && text[i + 1] == 'u') {
          if (std::optional<unsigned> low = hex4(i + 2); low && *low >= 0xDC00 && *low < 0xE000) {
            cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
            i += 6;
          }
        }
        put(*cp);
        break;
      }
      default: out += e;  // '"', '\\', '/'
    }
  }
  end = std::string_view::npos;
  return out;
}

// One pass over a JSON text, following its structure up to `limit`.
class Scanner {
 public:
  enum class Expect { kValue, kValueOrClose, kKey, kKeyOrClose, kColon, kCommaOrClose, kEnd };

  explicit Scanner(std::string_view text) : text_(text) {
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') newlines_.push_back(i);
  }

  // Walks up to `limit`; false when `limit` falls inside a string or a word
  // (`inside` then says which).
  bool Run(std::size_t limit) {
    std::size_t i = 0;
    while (true) {
      while (i < limit && IsSpace(text_[i])) ++i;
      if (i >= limit) return true;
      const char c = text_[i];
      switch (expect_) {
        case Expect::kKey:
        case Expect::kKeyOrClose:
          if (c == '}' && expect_ == Expect::kKeyOrClose) {
            Close();
            ++i;
            continue;
          }
          if (c != '"') return true;  // the parser stopped here
          {
            std::size_t end = 0;
            std::string key = ReadString(text_, i + 1, end);
            if (end == std::string_view::npos || end > limit) return Inside("a string");
            Frame& f = frames_.back();
            f.key = std::move(key);
            const std::string pointer = f.pointer + "/" + JsonPointerToken(f.key);
            const std::size_t line = LineAt(i);
            if (!f.keys.insert(f.key).second) {
              keys_.repeated.emplace_back(pointer, line);
            } else {
              keys_.lines.emplace(pointer, line);
            }
            i = end;
            expect_ = Expect::kColon;
          }
          continue;
        case Expect::kColon:
          if (c != ':') return true;
          ++i;
          expect_ = Expect::kValue;
          continue;
        case Expect::kCommaOrClose:
          if (c == ',') {
            Frame& f = frames_.back();
            if (f.object) {
              expect_ = Expect::kKey;
            } else {
              ++f.index;
              expect_ = Expect::kValue;
            }
            ++i;
            continue;
          }
          if ((c == '}' && frames_.back().object) || (c == ']' && !frames_.back().object)) {
            Close();
            ++i;
            continue;
          }
          return true;
        case Expect::kEnd:
          return true;
        case Expect::kValue:
        case Expect::kValueOrClose:
          if (c == ']' && expect_ == Expect::kValueOrClose) {
            Close();
            ++i;
            continue;
          }
          if (c == '{' || c == '[') {
            frames_.push_back(Frame{c == '{', ValuePointer(), {}, 0, {}});
            expect_ = c == '{' ? Expect::kKeyOrClose : Expect::kValueOrClose;
            ++i;
            continue;
          }
          if (c == '"') {
            std::size_t end = 0;
            ReadString(text_, i + 1, end);
            if (end == std::string_view::npos || end > limit) return Inside("a string");
            i = end;
          } else if (c == ',' || c == ':' || c == '}' || c == ']') {
            return true;
          } else {
            std::size_t end = i;
            while (end < text_.size() && !EndsWord(text_[end])) ++end;
            if (end > limit) return Inside("a number or a literal");
            i = end;
          }
          AfterValue();
          continue;
      }
    }
  }

  Expect expect() const { return expect_; }
  bool in_object() const { return !frames_.empty() && frames_.back().object; }
  const std::string& inside() const { return inside_; }
  JsonKeyLines& keys() { return keys_; }

 private:
  struct Frame {
    bool object;
    std::string pointer;
    std::string key;      // objects: the current member's
    std::size_t index;    // arrays: the current element's
    std::set<std::string> keys;  // objects: the keys seen
  };

  std::size_t LineAt(std::size_t offset) const {
    return 1 + static_cast<std::size_t>(std::lower_bound(newlines_.begin(), newlines_.end(), offset) - newlines_.begin());
  }
  std::string ValuePointer() const {
    if (frames_.empty()) return "";
    const Frame& f = frames_.back();
    return f.pointer + "/" + (f.object ? JsonPointerToken(f.key) : std::to_string(f.index));
  }
  void Close() {
    frames_.pop_back();
    AfterValue();
  }
  void AfterValue() { expect_ = frames_.empty() ? Expect::kEnd : Expect::kCommaOrClose; }
  bool Inside(std::string what) {
    inside_ = std::move(what);
    return false;
  }

  std::string_view text_;
  std::vector<std::size_t> newlines_;  // their offsets, for LineAt
  std::vector<Frame> frames_;
  Expect expect_ = Expect::kValue;
  std::string inside_;
  JsonKeyLines keys_;
};

// What stands at `offset`, for "found ...": a word, a string's start, or a character.
std::string Found(std::string_view text, std::size_t offset) {
  while (offset < text.size() && IsSpace(text[offset])) ++offset;
  if (offset >= text.size()) return "the end of the text";
  const char c = text[offset];
  if (c == '"') {
    const std::size_t close = text.find('"', offset + 1);
    if (close != std::string_view::npos && close - offset <= 40 &&
        text.substr(offset, close - offset).find('\n') == std::string_view::npos)
      return EscapeForDisplay(text.substr(offset, close - offset + 1));
    return "a string";
  }
  if (c == '/' && offset + 1 < text.size() && (text[offset + 1] == '/' || text[offset + 1] == '*'))
    return "a comment (JSON has none)";
  if (EndsWord(c)) return std::string("'") + c + "'";
  std::size_t end = offset;
  while (end < text.size() && !EndsWord(text[end]) && end - offset < 40) ++end;
  while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;  // whole characters
  // Escaped as the store's readers show names: a control character or a byte
  // that is not UTF-8 must not reach a terminal raw.
  return "'" + EscapeForDisplay(text.substr(offset, end - offset)) + "'";
}

}  // namespace

std::string JsonSyntaxProblem(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  Scanner scanner(text);
  if (!scanner.Run(offset)) return "inside " + scanner.inside();
  std::string expected;
  switch (scanner.expect()) {
    case Scanner::Expect::kValue: expected = "a value"; break;
    case Scanner::Expect::kValueOrClose: expected = "a value or ']'"; break;
    case Scanner::Expect::kKey: expected = "a key in double quotes"; break;
    case Scanner::Expect::kKeyOrClose: expected = "a key in double quotes or '}'"; break;
    case Scanner::Expect::kColon: expected = "':' after the key"; break;
    case Scanner::Expect::kCommaOrClose: expected = scanner.in_object() ? "',' or '}'" : "',' or ']'"; break;
    case Scanner::Expect::kEnd: expected = "the end of the text"; break;
  }
  return "expected " + expected + ", found " + Found(text, offset);
}

JsonKeyLines ScanJsonKeys(std::string_view text) {
  Scanner scanner(text);
  scanner.Run(text.size());
  return std::move(scanner.keys());
}

}  // namespace preserve
