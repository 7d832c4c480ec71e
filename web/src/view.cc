#include "view.h"

#include <cstdio>

#include "assets.h"
#include "template.h"

namespace preserve::web {

namespace json = boost::json;

namespace {

std::optional<std::string_view> EmbeddedTemplate(std::string_view name) {
  for (std::size_t i = 0; i < kTemplates_count; ++i)
    if (kTemplates[i].path == name) return kTemplates[i].body;
  return std::nullopt;
}

std::string_view EmbeddedCatalogue(std::string_view file) {
  for (std::size_t i = 0; i < kCatalogues_count; ++i)
    if (kCatalogues[i].path == file) return kCatalogues[i].body;
  return {};
}

}  // namespace

Catalogue Catalogue::Parse(std::string_view source) {
  Catalogue c;
  while (!source.empty()) {
    const std::size_t eol = source.find('\n');
    std::string_view line = source.substr(0, eol);
    source = eol == std::string_view::npos ? std::string_view{} : source.substr(eol + 1);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t eq = line.find(" = ");
    if (eq == std::string_view::npos) continue;
    c.texts_.emplace(std::string(line.substr(0, eq)), std::string(line.substr(eq + 3)));
  }
  return c;
}

const Catalogue& Catalogue::Of(Lang lang) {
  static const Catalogue vi = Parse(EmbeddedCatalogue("vi.txt"));
  static const Catalogue en = Parse(EmbeddedCatalogue("en.txt"));
  return lang == Lang::kEn ? en : vi;
}

std::string Catalogue::Text(std::string_view key) const {
  auto it = texts_.find(key);
  return it == texts_.end() ? std::string(key) : it->second;
}

std::string_view Catalogue::View(std::string_view key) const {
  auto it = texts_.find(key);
  return it == texts_.end() ? std::string_view{} : std::string_view(it->second);
}

namespace {

// Renders template `name` ("layout" or "layout.html") with `context`.
std::string RenderNamed(std::string_view name, const json::object& data, const TemplateContext& context) {
  const std::string file = std::string(name).find('.') == std::string::npos ? std::string(name) + ".html"
                                                                            : std::string(name);
  auto source = EmbeddedTemplate(file);
  if (!source) return "[template error: no template " + Escape(name) + "]";
  return RenderTemplate(*source, data, context);
}

std::optional<std::string> Partial(std::string_view name) {
  auto source = EmbeddedTemplate(std::string(name) + ".html");
  return source ? std::optional<std::string>(*source) : std::nullopt;
}

}  // namespace

std::string Render(const Page& page, std::string_view name, const json::object& data) {
  const Catalogue& catalogue = Catalogue::Of(page.lang);
  TemplateContext context;
  context.text = [&](std::string_view key) { return catalogue.Text(key); };
  context.partial = [&](std::string_view partial) -> std::optional<std::string> {
    if (partial == "csrf") return page.CsrfField();
    return Partial(partial);
  };
  return RenderNamed(name, data, context);
}

std::string RenderWithoutTexts(std::string_view name, const json::object& data) {
  TemplateContext context;
  context.partial = Partial;
  return RenderNamed(name, data, context);
}

std::string Page::Text(std::string_view key) const { return Catalogue::Of(lang).Text(key); }

std::string Page::Text(std::string_view key, const json::object& values) const {
  return FillPlaceholders(Catalogue::Of(lang).Text(key), values, false);
}

std::string Page::Number(std::uint64_t n) const {
  std::string digits = std::to_string(n);
  const char separator = lang == Lang::kEn ? ',' : '.';
  for (std::size_t i = digits.size(); i > 3; i -= 3) digits.insert(i - 3, 1, separator);
  return digits;
}

}  // namespace preserve::web
