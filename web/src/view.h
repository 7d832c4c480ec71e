// Pages from templates (web/templates/*.html, template.h's language) and
// texts from the catalogues (web/i18n/vi.txt, en.txt: "key = text" lines),
// both compiled into the binary. A translation is one catalogue file.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "page.h"

namespace preserve::web {

// Renders web/templates/<name> with `data` in the page's language: {{t:key}}
// from its catalogue, {{>csrf}} the page's CSRF field.
std::string Render(const Page& page, std::string_view name, const boost::json::object& data = {});

// A template that has no texts of its own (notice.html), for helpers that
// have no page at hand.
std::string RenderWithoutTexts(std::string_view name, const boost::json::object& data);

// One language's texts.
class Catalogue {
 public:
  // Parses "key = text" lines; '#' lines and blank lines are skipped.
  static Catalogue Parse(std::string_view source);
  // The catalogue of a language, from the embedded files.
  static const Catalogue& Of(Lang lang);
  // The text of `key`; the key itself when there is none (a test checks there is).
  std::string Text(std::string_view key) const;
  // The same, as a view into the catalogue (which lives as long as the
  // program); "" when there is none.
  std::string_view View(std::string_view key) const;
  const std::map<std::string, std::string, std::less<>>& texts() const { return texts_; }

 private:
  std::map<std::string, std::string, std::less<>> texts_;
};

}  // namespace preserve::web
