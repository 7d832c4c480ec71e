// The records officer's pages: hand in documents, search the holdings, and
// the package page.
#include "page.h"
#include "preserve/archive/catalogue.h"
#include "words.h"

namespace preserve::web {

namespace {

service::HttpResponse Search(Page& page) {
  archive::Catalogue catalogue(page.app.archive);
  auto packages = catalogue.List(page.query.Get("after"), 50);
  if (!packages.ok()) return ErrorPage(page, 500, packages.status().message());
  std::string body = "<div class=\"table-wrap\"><table>\n<thead><tr><th scope=\"col\">" +
                     std::string(page.T("Package", "Gói lưu trữ")) + "</th><th scope=\"col\">" +
                     std::string(page.T("Archived", "Ngày lưu")) + "</th><th scope=\"col\">" +
                     std::string(page.T("State", "Trạng thái")) + "</th></tr></thead>\n<tbody>\n";
  for (const archive::PackageSummary& p : packages.value()) {
    if (!p.unreadable.empty()) continue;
    body += "<tr><td>" + PackageLink(p.id) + "</td><td>" + page.Date(p.created) + "</td><td>" +
            std::string(StateLabel(page, p.state)) + "</td></tr>\n";
  }
  body += "</tbody></table></div>";
  return HtmlPage(page, page.T("Search holdings", "Tra cứu hồ sơ"), body);
}

}  // namespace

void AddOfficerPages(Routes& routes) {
  routes.Add({"GET", "/search", false, kAnyRole, "web search", Search});
}

}  // namespace preserve::web
