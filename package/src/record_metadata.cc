#include "preserve/package/record_metadata.h"

#include <boost/json.hpp>

#include "preserve/util/json_reader.h"

#include <chrono>
#include <set>

#include "preserve/util/date.h"

namespace preserve::package {

namespace json = boost::json;

namespace {

// Unicode characters in valid UTF-8, or nullopt when the bytes are not valid
// UTF-8 (overlong forms, surrogates and truncated sequences included).
std::optional<std::size_t> Utf8Length(std::string_view s) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return std::nullopt;
    std::uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
    i += len;
  }
  return count;
}

// Collects every problem, so an officer fixes a sidecar in one pass.
class Checker {
 public:
  // `doc`: the sidecar, for the line of each problem's key.
  Checker(const UserJson& doc, const json::object& root) : doc_(doc), root_(root) {}

  void Text(std::string_view key, std::size_t max, bool required, std::string& out) {
    seen_.insert(std::string(key));
    const json::value* v = root_.if_contains(key);
    if (v == nullptr || v->is_null()) {
      if (required) Problem(key, "required");
      return;
    }
    if (!v->is_string()) return Problem(key, "must be text");
    CheckText(key, std::string_view(v->as_string()), max, required, out);
  }

  void CheckText(std::string_view key, std::string_view s, std::size_t max, bool required, std::string& out) {
    auto length = Utf8Length(s);
    if (!length) return Problem(key, "is not valid UTF-8");
    for (char c : s)
      if (static_cast<unsigned char>(c) < 0x20) return Problem(key, "contains a control character");
    if (*length > max) return Problem(key, "longer than " + std::to_string(max) + " characters");
    if (required && s.find_first_not_of(' ') == std::string_view::npos) return Problem(key, "required");
    out = std::string(s);
  }

  void Date(std::string_view key, bool required, std::string& out) {
    std::string text;
    Text(key, 10, required, text);
    // One form in a sidecar, the one records are exchanged and compared in (see preserve/util/date.h).
    if (!text.empty() && !ParseIsoDate(text).ok()) return Problem(key, "'" + text + "' is not a date YYYY-MM-DD");
    out = text;
  }

  void Choice(std::string_view key, std::initializer_list<std::string_view> allowed, std::string& out) {
    std::string text;
    Text(key, 20, false, text);
    if (text.empty()) return;
    for (auto a : allowed)
      if (text == a) {
        out = text;
        return;
      }
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    Problem(key, "'" + text + "' is not one of " + list);
  }

  std::optional<std::int64_t> Integer(std::string_view key, std::int64_t low, std::int64_t high) {
    seen_.insert(std::string(key));
    const json::value* v = root_.if_contains(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (!v->is_int64() && !v->is_uint64()) {
      Problem(key, "must be a whole number");
      return std::nullopt;
    }
    std::int64_t n = v->is_int64() ? v->as_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(
                                                          v->as_uint64(), static_cast<std::uint64_t>(high) + 1));
    if (n < low || n > high) {
      Problem(key, "must be between " + std::to_string(low) + " and " + std::to_string(high));
      return std::nullopt;
    }
    return n;
  }

  const json::value* Raw(std::string_view key) {
    seen_.insert(std::string(key));
    const json::value* v = root_.if_contains(key);
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  // "key: what (line N)"; `pointer` is the key's JSON pointer, by default
  // the top-level member `key` names ("signer.position" -> /signer/position,
  // "recipients[1]" -> /recipients).
  void Problem(std::string_view key, const std::string& what, std::string pointer = "") {
    if (pointer.empty()) {
      const std::size_t dot = key.find('.');
      pointer = "/" + JsonPointerToken(key.substr(0, std::min(dot, key.find('['))));
      if (dot != std::string_view::npos) pointer += "/" + JsonPointerToken(key.substr(dot + 1));
    }
    const std::size_t line = doc_.LineOf(pointer);
    problems_ += (problems_.empty() ? "" : "; ") + std::string(key) + ": " + what +
                 (line != 0 ? " (line " + std::to_string(line) + ")" : "");
  }

  void UnknownKeys() {
    for (const auto& [key, value] : root_)
      if (seen_.count(std::string(key)) == 0) Problem(key, "unknown field", "/" + JsonPointerToken(key));
  }

  // JSON parsers differ on which of two values for one key counts (Boost.JSON
  // takes the last): a sidecar that gives one twice is refused.
  void RepeatedKeys() {
    for (const auto& [pointer, line] : doc_.keys().repeated)
      problems_ += (problems_.empty() ? "" : "; ") + pointer.substr(1) + ": given twice (line " +
                   std::to_string(doc_.LineOf(pointer)) + " and line " + std::to_string(line) + ")";
  }

  const std::string& problems() const { return problems_; }

 private:
  const UserJson& doc_;
  const json::object& root_;
  std::set<std::string> seen_;
  std::string problems_;
};

void ReadSigner(Checker& check, RecordMetadata& m) {
  const json::value* v = check.Raw("signer");
  if (v == nullptr) return;
  if (!v->is_object()) return check.Problem("signer", "must be an object {\"position\", \"full_name\"}");
  for (const auto& [key, value] : v->as_object()) {
    std::string name = "signer." + std::string(key);
    std::string* out = key == "position" ? &m.signer_position : key == "full_name" ? &m.signer_full_name : nullptr;
    if (out == nullptr) {
      check.Problem(name, "unknown field", "/signer/" + JsonPointerToken(key));
    } else if (!value.is_string()) {
      check.Problem(name, "must be text");
    } else {
      check.CheckText(name, std::string_view(value.as_string()), 100, false, *out);
    }
  }
}

void ReadRecipients(Checker& check, RecordMetadata& m) {
  const json::value* v = check.Raw("recipients");
  if (v == nullptr) return;
  if (!v->is_array()) return check.Problem("recipients", "must be an array of text");
  if (v->as_array().size() > 500) return check.Problem("recipients", "more than 500 entries");
  std::size_t i = 0;
  for (const auto& r : v->as_array()) {
    std::string name = "recipients[" + std::to_string(i++) + "]";
    if (!r.is_string()) {
      check.Problem(name, "must be text");
      continue;
    }
    std::string text;
    check.CheckText(name, std::string_view(r.as_string()), 200, true, text);
    if (!text.empty()) m.recipients.push_back(std::move(text));
  }
}

void ReadRetention(Checker& check, RecordMetadata& m) {
  const json::value* v = check.Raw("retention");
  if (v == nullptr) return;
  if (v->is_string() && v->as_string() == "permanent") {
    m.retention_years = 0;
  } else if ((v->is_int64() && v->as_int64() >= 1 && v->as_int64() <= 200) ||
             (v->is_uint64() && v->as_uint64() >= 1 && v->as_uint64() <= 200)) {
    m.retention_years = static_cast<std::uint32_t>(v->to_number<std::int64_t>());
  } else {
    check.Problem("retention", "must be \"permanent\" or a number of years from 1 to 200");
  }
}

Result<RecordMetadata> FromObject(const UserJson& doc, const json::object& root) {
  RecordMetadata m;
  Checker check(doc, root);
  check.RepeatedKeys();
  check.Text("organ_id", 13, false, m.organ_id);
  check.Text("file_notation", 50, false, m.file_notation);
  check.Text("code_number", 11, true, m.code_number);
  check.Text("code_notation", 50, true, m.code_notation);
  check.Date("issued_date", true, m.issued_date);
  check.Text("type_name", 100, false, m.type_name);
  check.Text("organ_name", 200, true, m.organ_name);
  check.Text("subject", 1000, true, m.subject);
  check.Text("language", 50, false, m.language);
  if (m.language.empty()) m.language = "vi";
  if (auto pages = check.Integer("page_amount", 1, 100000)) m.page_amount = static_cast<std::uint32_t>(*pages);
  ReadSigner(check, m);
  ReadRecipients(check, m);
  check.Choice("priority", {"normal", "urgent", "very-urgent", "flash"}, m.priority);
  check.Choice("secrecy", {"normal", "confidential", "secret", "top-secret"}, m.secrecy);
  check.Date("due_date", false, m.due_date);
  ReadRetention(check, m);
  check.UnknownKeys();
  if (!check.problems().empty()) return Status::InvalidArgument("record metadata: " + check.problems());
  return m;
}

}  // namespace

std::string RecordMetadata::Citation() const { return code_number + "/" + code_notation; }

Result<RecordMetadata> ParseRecordMetadata(ByteView bytes) {
  if (bytes.size() > 1024 * 1024) return Status::InvalidArgument("record metadata: larger than 1 MiB");
  PRESERVE_ASSIGN_OR_RETURN(
      const UserJson doc,
      UserJson::Parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), "record metadata"));
  if (!doc.root().is_object())
    return Status::InvalidArgument("record metadata: not a JSON object, but " + JsonKindName(doc.root()));
  return FromObject(doc, doc.root().get_object());
}

std::string RecordMetadataToJson(const RecordMetadata& m) {
  json::object o;
  auto put = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) o[key] = value;
  };
  put("organ_id", m.organ_id);
  put("file_notation", m.file_notation);
  put("code_number", m.code_number);
  put("code_notation", m.code_notation);
  put("issued_date", m.issued_date);
  put("type_name", m.type_name);
  put("organ_name", m.organ_name);
  put("subject", m.subject);
  put("language", m.language);
  if (m.page_amount) o["page_amount"] = *m.page_amount;
  if (!m.signer_position.empty() || !m.signer_full_name.empty()) {
    json::object signer;
    if (!m.signer_position.empty()) signer["position"] = m.signer_position;
    if (!m.signer_full_name.empty()) signer["full_name"] = m.signer_full_name;
    o["signer"] = std::move(signer);
  }
  if (!m.recipients.empty()) {
    json::array r;
    for (const auto& s : m.recipients) r.emplace_back(s);
    o["recipients"] = std::move(r);
  }
  put("priority", m.priority);
  put("secrecy", m.secrecy);
  put("due_date", m.due_date);
  if (m.retention_years == 0) {
    o["retention"] = "permanent";
  } else {
    o["retention"] = m.retention_years;
  }
  return json::serialize(o);
}

}  // namespace preserve::package
