// Reading JSON that a person wrote (a store's config.json, an algorithm
// policy file, a record metadata sidecar) strictly: a syntax error names its
// line and column and what was expected there; a key given twice, an unknown
// key or a value of the wrong type names the key and its line. A misspelt key
// must never be ignored: "tsa_list" for "tsas" would silently seal with
// another TSA.
//
// Boost.JSON's types appear in this header, which is inline for that reason:
// include it only from the .cc files of modules that link Boost::json
// PRIVATE, never from a public header. Nothing here throws.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "preserve/util/json_text.h"
#include "preserve/util/status.h"
#include "preserve/util/unicode.h"

namespace preserve {

// "a number", "a string", ...: what a value is, for "must be X, not Y".
inline std::string JsonKindName(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "true or false";
    case boost::json::kind::int64:
    case boost::json::kind::uint64: return "a whole number";
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "an array";
    case boost::json::kind::object: return "an object";
  }
  return "a value";
}

// A parsed JSON text and where its keys are. Errors are kInvalidArgument and
// start with `origin` ("/srv/store/config.json: line 4: ...").
class UserJson {
 public:
  static Result<UserJson> Parse(std::string_view text, std::string origin) {
    boost::json::stream_parser parser;
    boost::system::error_code ec;
    const std::size_t consumed = parser.write(text.data(), text.size(), ec);
    if (!ec) parser.finish(ec);
    if (ec) {
      const std::size_t at = ec == boost::json::error::incomplete ? text.size() : consumed;
      const JsonTextPosition where = JsonPositionOf(text, at);
      return Status::InvalidArgument(origin + ": line " + std::to_string(where.line) + ", column " +
                                     std::to_string(where.column) + ": not valid JSON: " +
                                     JsonSyntaxProblem(text, at) + " (" + ec.message() + ")");
    }
    UserJson doc;
    doc.origin_ = std::move(origin);
    doc.root_ = parser.release();
    doc.keys_ = ScanJsonKeys(text);
    return doc;
  }

  const boost::json::value& root() const { return root_; }
  const std::string& origin() const { return origin_; }

  // The line of the key at `pointer` ("/tsas/0/url"), or of the nearest key
  // that holds it (an array element is on its array's key's line); 0 when
  // there is none (the root).
  std::size_t LineOf(std::string pointer) const {
    while (!pointer.empty()) {
      if (auto it = keys_.lines.find(pointer); it != keys_.lines.end()) return it->second;
      pointer.erase(pointer.rfind('/'));
    }
    return 0;
  }

  // kInvalidArgument: "ORIGIN: line N: WHAT" (no line for the root).
  Status Error(const std::string& pointer, const std::string& what) const {
    const std::size_t line = LineOf(pointer);
    return Status::InvalidArgument(origin_ + ": " + (line != 0 ? "line " + std::to_string(line) + ": " : "") + what);
  }

  // An error for the first key given twice in one object.
  Status CheckRepeatedKeys() const {
    if (keys_.repeated.empty()) return Status::Ok();
    const auto& [pointer, line] = keys_.repeated.front();
    return Status::InvalidArgument(origin_ + ": line " + std::to_string(line) + ": \"" + KeyOf(pointer) +
                                   "\" is given twice (first on line " + std::to_string(LineOf(pointer)) + ")");
  }
  const JsonKeyLines& keys() const { return keys_; }

  // The last token of `pointer`, unescaped: the key it names.
  static std::string KeyOf(const std::string& pointer) {
    std::string key;
    const std::string token = pointer.substr(pointer.rfind('/') + 1);
    for (std::size_t i = 0; i < token.size(); ++i) {
      if (token[i] == '~' && i + 1 < token.size()) {
        key += token[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        key += token[i];
      }
    }
    return key;
  }

 private:
  std::string origin_;
  boost::json::value root_;
  JsonKeyLines keys_;
};

// One object of a UserJson, read member by member. `pointer` is the object's
// JSON pointer ("" for the root, "/tsas/1"), `name` how messages call it
// ("", "tsas[1]"): a member is named "tsas[1].url".
class JsonObjectReader {
 public:
  JsonObjectReader(const UserJson& doc, const boost::json::object& object, std::string pointer, std::string name)
      : doc_(doc), object_(object), pointer_(std::move(pointer)), name_(std::move(name)) {}

  const boost::json::object& object() const { return object_; }
  std::string PointerTo(std::string_view key) const { return pointer_ + "/" + JsonPointerToken(key); }
  std::string NameOf(std::string_view key) const { return name_.empty() ? std::string(key) : name_ + "." + std::string(key); }

  // An error about member `key`, on its line: "line 7: \"tsas[0].url\" WHAT".
  Status Error(std::string_view key, const std::string& what) const {
    return doc_.Error(PointerTo(key), "\"" + NameOf(key) + "\" " + what);
  }

  // Every member must be one of `known`.
  Status OnlyKeys(std::initializer_list<std::string_view> known) const {
    for (const auto& member : object_) {
      const std::string_view key(member.key().data(), member.key().size());
      bool found = false;
      for (std::string_view k : known) found = found || k == key;
      if (found) continue;
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return doc_.Error(PointerTo(key), "unknown key \"" + EscapeForDisplay(NameOf(key)) + "\" (known: " + list + ")");
    }
    return Status::Ok();
  }

  const boost::json::value* Find(std::string_view key) const { return object_.if_contains(key); }

  Result<std::optional<std::string>> String(std::string_view key) const {
    const boost::json::value* v = Find(key);
    if (v == nullptr) return std::optional<std::string>();
    if (!v->is_string()) return Error(key, "must be a string, not " + JsonKindName(*v));
    return std::optional<std::string>(std::string(v->get_string()));
  }

  // A whole number within [low, high].
  Result<std::optional<std::int64_t>> Integer(std::string_view key, std::int64_t low, std::int64_t high) const {
    const boost::json::value* v = Find(key);
    if (v == nullptr) return std::optional<std::int64_t>();
    const std::string range = "between " + std::to_string(low) + " and " + std::to_string(high);
    if (v->is_uint64()) return Error(key, "must be " + range);  // beyond int64
    if (!v->is_int64()) return Error(key, "must be a whole number " + range + ", not " + JsonKindName(*v));
    if (v->get_int64() < low || v->get_int64() > high) return Error(key, "must be " + range);
    return std::optional<std::int64_t>(v->get_int64());
  }

  Result<const boost::json::array*> Array(std::string_view key) const {
    const boost::json::value* v = Find(key);
    if (v == nullptr) return static_cast<const boost::json::array*>(nullptr);
    if (!v->is_array()) return Error(key, "must be an array, not " + JsonKindName(*v));
    return &v->get_array();
  }

 private:
  const UserJson& doc_;
  const boost::json::object& object_;
  std::string pointer_;
  std::string name_;
};

}  // namespace preserve
