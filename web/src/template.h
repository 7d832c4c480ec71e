// The templates' language: a subset of Mustache (mustache.github.io), with
// escaping by default, so that page markup lives in web/templates/ and no
// page builds HTML by concatenating strings.
//
//   {{name}} {{a.b}}      the value, HTML-escaped (numbers printed, true/false)
//   {{{name}}}            the value unescaped: only HTML another Render made
//   {{#name}}..{{/name}}  an array: once per element; an object: once, with
//                         its members in scope; any other true value (true,
//                         a non-empty string, a non-zero number): once
//   {{^name}}..{{/name}}  only when the section above would not render
//   {{.}}                 the current element
//   {{t:key}}             the catalogue's text for `key`, escaped, its {name}
//                         placeholders filled (escaped) from the data in scope
//   {{>name}}             another template, with the same data
//   {{! comment }}
// Names are looked up from the innermost section outwards; an unknown name
// is "". A template that does not parse (a section never closed, a tag never
// ended) renders what it can and a visible marker, never crashes.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace preserve::web {

struct TemplateContext {
  // The catalogue's text for a key (placeholders not yet filled).
  std::function<std::string(std::string_view key)> text;
  // A template's source by name ("csrf", "notice"); nullopt when there is none.
  std::function<std::optional<std::string>(std::string_view name)> partial;
};

std::string RenderTemplate(std::string_view source, const boost::json::object& data, const TemplateContext& context);

// `text` with each {name} replaced by the value of `name` in `values` (as
// {{name}} prints it); `escape` escapes both the text and the values for HTML.
std::string FillPlaceholders(std::string_view text, const boost::json::object& values, bool escape);

}  // namespace preserve::web
