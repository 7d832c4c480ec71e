// The auditor's pages: the verification report, verifying an exported zip,
// the audit trail, and the signature-use report.
#include "page.h"
#include "preserve/archive/maintenance.h"

namespace preserve::web {

namespace {

service::HttpResponse AuditTrail(Page& page) {
  archive::Maintenance maintenance(page.app.archive);
  std::string rows;
  Status scanned = maintenance.ScanAuditLog(0, [&](const archive::AuditLogEvent& e) {
    rows += "<tr><td class=\"num\">" + std::to_string(e.sequence) + "</td><td class=\"id\">" + Escape(e.json) +
            "</td></tr>\n";
    return true;
  });
  if (!scanned.ok()) return ErrorPage(page, 500, scanned.message());
  return HtmlPage(page, page.T("Audit trail", "Nhật ký kiểm toán"),
                  "<div class=\"table-wrap\"><table><tbody>" + rows + "</tbody></table></div>");
}

}  // namespace

void AddAuditorPages(Routes& routes) {
  routes.Add({"GET", "/audit-trail", false, kAuditor | kAdmin, "web audit trail", AuditTrail});
}

}  // namespace preserve::web
