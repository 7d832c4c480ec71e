#include "forms.h"

#include <algorithm>
#include <cctype>

namespace preserve::web {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The value of `parameter` in a header value's parameters ("form-data; name="x"; filename="y"").
std::optional<std::string> HeaderParameter(std::string_view value, std::string_view parameter) {
  std::size_t pos = value.find(';');
  while (pos != std::string_view::npos) {
    value.remove_prefix(pos + 1);
    std::string_view item = Trim(value.substr(0, value.find(';')));
    const std::size_t eq = item.find('=');
    if (eq != std::string_view::npos && EqualsIgnoreCase(Trim(item.substr(0, eq)), parameter)) {
      std::string_view raw = Trim(item.substr(eq + 1));
      if (!raw.empty() && raw.front() == '"') {
        // A quoted string may hold ';': read to the closing quote in the whole value.
        const std::size_t start = value.find('"');
        std::string out;
        for (std::size_t i = start + 1; i < value.size(); ++i) {
          if (value[i] == '\\' && i + 1 < value.size()) {
            out += value[++i];
          } else if (value[i] == '"') {
            return out;
          } else {
            out += value[i];
          }
        }
        return std::nullopt;  // no closing quote
      }
      return std::string(raw);
    }
    pos = value.find(';');
  }
  return std::nullopt;
}

}  // namespace

std::string Fields::Get(std::string_view name) const {
  for (const auto& [n, v] : fields_)
    if (n == name) return v;
  return "";
}

bool Fields::Has(std::string_view name) const {
  return std::any_of(fields_.begin(), fields_.end(), [&](const auto& f) { return f.first == name; });
}

std::vector<std::string> Fields::All(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : fields_)
    if (n == name) out.push_back(v);
  return out;
}

std::optional<std::string> UrlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Fields ParseUrlEncoded(std::string_view text, std::size_t max_fields) {
  Fields fields;
  std::size_t count = 0;
  while (!text.empty() && count < max_fields) {
    const std::size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto name = UrlDecode(pair.substr(0, eq));
    auto value = UrlDecode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) continue;
    fields.Add(std::move(*name), std::move(*value));
    ++count;
  }
  return fields;
}

std::string_view TargetPath(std::string_view target) { return target.substr(0, target.find('?')); }

Fields TargetQuery(std::string_view target) {
  const std::size_t q = target.find('?');
  return q == std::string_view::npos ? Fields{} : ParseUrlEncoded(target.substr(q + 1));
}

Fields ParseCookies(std::string_view header) {
  Fields cookies;
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    std::string_view item = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string_view value = Trim(item.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    cookies.Add(std::string(Trim(item.substr(0, eq))), std::string(value));
  }
  return cookies;
}

Result<std::vector<FormPart>> ParseMultipart(std::string_view content_type, std::string_view body,
                                             std::size_t max_parts) {
  const std::string_view type = Trim(content_type.substr(0, content_type.find(';')));
  if (!EqualsIgnoreCase(type, "multipart/form-data")) return Status::InvalidArgument("not a multipart/form-data body");
  const std::optional<std::string> boundary = HeaderParameter(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 200) return Status::InvalidArgument("no multipart boundary");
  const std::string delimiter = "--" + *boundary;

  // The body: preamble, then each part after "\r\n--boundary\r\n", closed by "\r\n--boundary--".
  std::size_t pos = body.substr(0, delimiter.size()) == delimiter ? 0 : body.find("\r\n" + delimiter);
  if (pos == std::string_view::npos) return Status::InvalidArgument("the multipart body has no delimiter");
  pos += pos == 0 ? delimiter.size() : delimiter.size() + 2;
  std::vector<FormPart> parts;
  const std::string next_delimiter = "\r\n" + delimiter;
  while (true) {
    if (body.substr(pos, 2) == "--") return parts;  // the closing delimiter
    if (body.substr(pos, 2) != "\r\n") return Status::InvalidArgument("a malformed multipart delimiter line");
    pos += 2;
    const std::size_t end = body.find(next_delimiter, pos);
    if (end == std::string_view::npos) return Status::InvalidArgument("the multipart body is not closed");
    if (parts.size() == max_parts) return Status::InvalidArgument("more than " + std::to_string(max_parts) + " form parts");
    std::string_view part = body.substr(pos, end - pos);
    const std::size_t head_end = part.find("\r\n\r\n");
    if (head_end == std::string_view::npos) return Status::InvalidArgument("a multipart part without its head");
    FormPart out;
    bool has_disposition = false;
    std::string_view head = part.substr(0, head_end);
    while (!head.empty()) {
      const std::size_t eol = head.find("\r\n");
      std::string_view line = head.substr(0, eol);
      head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view name = Trim(line.substr(0, colon));
      const std::string_view value = Trim(line.substr(colon + 1));
      if (EqualsIgnoreCase(name, "content-disposition")) {
        if (!EqualsIgnoreCase(Trim(value.substr(0, value.find(';'))), "form-data")) continue;
        auto field = HeaderParameter(value, "name");
        if (!field) return Status::InvalidArgument("a multipart part without a name");
        out.name = *field;
        out.file_name = HeaderParameter(value, "filename");
        has_disposition = true;
      } else if (EqualsIgnoreCase(name, "content-type")) {
        out.content_type = std::string(value);
      }
    }
    if (!has_disposition) return Status::InvalidArgument("a multipart part without Content-Disposition: form-data");
    out.data = std::string(part.substr(head_end + 4));
    parts.push_back(std::move(out));
    pos = end + next_delimiter.size();
  }
}

}  // namespace preserve::web
