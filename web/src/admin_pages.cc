// The administrator's pages: the dashboard, accounts, the algorithm policy;
// retention, holds and deletion are on the package page, for this role.
#include "page.h"
#include "preserve/archive/catalogue.h"

namespace preserve::web {

namespace {

service::HttpResponse Dashboard(Page& page) {
  auto overview = archive::Catalogue(page.app.archive).Overview();
  if (!overview.ok()) return ErrorPage(page, 500, overview.status().message());
  const archive::StoreStatus& s = overview.value();
  std::string body = "<dl class=\"facts\"><dt>" + std::string(page.T("Packages", "Số gói lưu trữ")) + "</dt><dd>" +
                     std::to_string(s.packages) + "</dd><dt>" +
                     std::string(page.T("Awaiting a time-stamp", "Đang chờ dấu thời gian")) + "</dt><dd>" +
                     std::to_string(s.queued) + "</dd></dl>";
  return HtmlPage(page, page.T("Overview", "Tổng quan"), body);
}

}  // namespace

std::string PackageAdminPanel(Page& page, const std::string& package_id) {
  (void)page;
  (void)package_id;
  return "";  // filled by the admin pages' work: retention, holds, deletion
}

void AddAdminPages(Routes& routes) {
  routes.Add({"GET", "/dashboard", false, kAdmin, "web dashboard", Dashboard});
}

}  // namespace preserve::web
