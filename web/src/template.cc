#include "template.h"

#include <cstdio>
#include <vector>

#include "page.h"

namespace preserve::web {

namespace json = boost::json;

namespace {

constexpr int kMaxPartialDepth = 16;

// The scopes a name is looked up in, innermost last.
using Scopes = std::vector<const json::value*>;

const json::value* Lookup(const Scopes& scopes, std::string_view name) {
  if (name == ".") return scopes.empty() ? nullptr : scopes.back();
  const std::size_t dot = name.find('.');
  const std::string_view first = name.substr(0, dot);
  const json::value* found = nullptr;
  for (auto it = scopes.rbegin(); it != scopes.rend() && found == nullptr; ++it) {
    if (const json::object* o = (*it)->if_object())
      if (auto m = o->find(first); m != o->end()) found = &m->value();
  }
  std::string_view rest = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  while (found != nullptr && !rest.empty()) {
    const std::size_t next = rest.find('.');
    const json::object* o = found->if_object();
    if (o == nullptr) return nullptr;
    auto m = o->find(rest.substr(0, next));
    found = m == o->end() ? nullptr : &m->value();
    rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
  }
  return found;
}

std::string ToText(const json::value* v) {
  if (v == nullptr) return "";
  switch (v->kind()) {
    case json::kind::string: return std::string(v->get_string());
    case json::kind::int64: return std::to_string(v->get_int64());
    case json::kind::uint64: return std::to_string(v->get_uint64());
    case json::kind::double_: {
      char out[32];
      std::snprintf(out, sizeof out, "%g", v->get_double());
      return out;
    }
    case json::kind::bool_: return v->get_bool() ? "true" : "false";
    default: return "";
  }
}

bool Truthy(const json::value* v) {
  if (v == nullptr) return false;
  switch (v->kind()) {
    case json::kind::null: return false;
    case json::kind::bool_: return v->get_bool();
    case json::kind::string: return !v->get_string().empty();
    case json::kind::int64: return v->get_int64() != 0;
    case json::kind::uint64: return v->get_uint64() != 0;
    case json::kind::double_: return v->get_double() != 0;
    case json::kind::array: return !v->get_array().empty();
    case json::kind::object: return true;
  }
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// `text` with each {name} replaced by value_of(name); `escape`: both HTML-escaped.
std::string Fill(std::string_view text, const std::function<std::string(std::string_view)>& value_of, bool escape) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find('{', pos);
    const std::size_t close = open == std::string_view::npos ? open : text.find('}', open);
    if (close == std::string_view::npos) {
      out += escape ? Escape(text.substr(pos)) : std::string(text.substr(pos));
      break;
    }
    const std::string_view literal = text.substr(pos, open - pos);
    const std::string value = value_of(text.substr(open + 1, close - open - 1));
    out += escape ? Escape(literal) + Escape(value) : std::string(literal) + value;
    pos = close + 1;
  }
  return out;
}

struct Tag {
  std::size_t begin = 0;  // of "{{"
  std::size_t end = 0;    // just after "}}" (or "}}}")
  bool triple = false;
  std::string_view body;  // trimmed, without the braces
};

// The next tag at or after `from`; nullopt when there is none (or it never ends).
std::optional<Tag> NextTag(std::string_view s, std::size_t from) {
  const std::size_t open = s.find("{{", from);
  if (open == std::string_view::npos) return std::nullopt;
  Tag tag;
  tag.begin = open;
  tag.triple = s.substr(open, 3) == "{{{";
  const std::size_t inner = open + (tag.triple ? 3 : 2);
  const std::size_t close = s.find(tag.triple ? "}}}" : "}}", inner);
  if (close == std::string_view::npos) return std::nullopt;
  tag.body = Trim(s.substr(inner, close - inner));
  tag.end = close + (tag.triple ? 3 : 2);
  return tag;
}

// The {{/name}} closing the section whose content starts at `from`.
std::optional<Tag> SectionEnd(std::string_view s, std::size_t from, std::string_view name) {
  int depth = 1;
  for (auto tag = NextTag(s, from); tag; tag = NextTag(s, tag->end)) {
    if (tag->triple || tag->body.size() < 2) continue;
    const char kind = tag->body.front();
    if ((kind == '#' || kind == '^') && Trim(tag->body.substr(1)) == name) ++depth;
    if (kind == '/' && Trim(tag->body.substr(1)) == name && --depth == 0) return tag;
  }
  return std::nullopt;
}

class Renderer {
 public:
  explicit Renderer(const TemplateContext& context) : context_(context) {}

  void Render(std::string_view s, Scopes& scopes, std::string& out, int depth) {
    std::size_t pos = 0;
    while (pos < s.size()) {
      auto tag = NextTag(s, pos);
      if (!tag) {
        const std::size_t unended = s.find("{{", pos);
        out.append(s.substr(pos, unended == std::string_view::npos ? std::string_view::npos : unended - pos));
        if (unended != std::string_view::npos) out += "[template error: a tag never ends]";
        return;
      }
      out.append(s.substr(pos, tag->begin - pos));
      pos = tag->end;
      if (tag->triple) {
        out += ToText(Lookup(scopes, tag->body));
        continue;
      }
      const std::string_view body = tag->body;
      const char kind = body.empty() ? ' ' : body.front();
      if (kind == '!') continue;
      if (kind == '#' || kind == '^') {
        const std::string_view name = Trim(body.substr(1));
        auto end = SectionEnd(s, pos, name);
        if (!end) {
          out += "[template error: {{" + std::string(body) + "}} never closed]";
          return;
        }
        RenderSection(s.substr(pos, end->begin - pos), name, kind == '^', scopes, out, depth);
        pos = end->end;
      } else if (kind == '>') {
        const std::string_view name = Trim(body.substr(1));
        auto source = context_.partial ? context_.partial(name) : std::nullopt;
        if (!source || depth >= kMaxPartialDepth) {
          out += "[template error: no template " + Escape(name) + "]";
          continue;
        }
        Render(*source, scopes, out, depth + 1);
      } else if (body.substr(0, 2) == "t:") {
        const std::string text = context_.text ? context_.text(Trim(body.substr(2))) : std::string(body);
        out += FillFromScopes(text, scopes);
      } else if (kind != '/') {
        out += Escape(ToText(Lookup(scopes, body)));
      }
    }
  }

 private:
  void RenderSection(std::string_view inner, std::string_view name, bool inverted, Scopes& scopes, std::string& out,
                     int depth) {
    const json::value* v = Lookup(scopes, name);
    if (inverted) {
      if (!Truthy(v)) Render(inner, scopes, out, depth);
      return;
    }
    if (!Truthy(v)) return;
    if (const json::array* a = v->if_array()) {
      for (const json::value& element : *a) {
        scopes.push_back(&element);
        Render(inner, scopes, out, depth);
        scopes.pop_back();
      }
    } else {
      scopes.push_back(v);
      Render(inner, scopes, out, depth);
      scopes.pop_back();
    }
  }

  // The catalogue text, escaped, with {name} placeholders from the scopes (escaped).
  static std::string FillFromScopes(std::string_view text, const Scopes& scopes) {
    return Fill(text, [&](std::string_view name) { return ToText(Lookup(scopes, name)); }, true);
  }

  const TemplateContext& context_;
};

}  // namespace

std::string RenderTemplate(std::string_view source, const json::object& data, const TemplateContext& context) {
  const json::value root(data);
  Scopes scopes{&root};
  std::string out;
  out.reserve(source.size() * 2);
  Renderer(context).Render(source, scopes, out, 0);
  return out;
}

std::string FillPlaceholders(std::string_view text, const json::object& values, bool escape) {
  const json::value root(values);
  const Scopes scopes{&root};
  return Fill(text, [&](std::string_view name) { return ToText(Lookup(scopes, name)); }, escape);
}

}  // namespace preserve::web
