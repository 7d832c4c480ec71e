// A package verification report (audit::PackageReport) as people read it:
// each check the verifier made, in order, under a plain title in the page's
// language, with its verdict and, as a second line, the verifier's own
// technical words (English, as every verifier of the archive prints them).
// The web page (/report/ID, /verify-zip) and the PDF are made from it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "page.h"
#include "preserve/audit/package_verification.h"

namespace preserve::web {

struct ReportCheck {
  std::string title;      // "Chữ ký số của văn bản": what kind of check, in the page's language
  Verdict verdict = Verdict::kValid;
  std::string technical;  // the step's "what", then its detail when it has one
};

struct ReportView {
  std::string heading;   // "Báo cáo kiểm tra gói lưu trữ"
  std::string subject;   // the package id, or the name of the uploaded zip
  Verdict verdict = Verdict::kInvalid;
  std::string verdict_label;    // "Hợp lệ"
  std::string verdict_meaning;  // what the verdict means, in a sentence
  std::string existence;        // "the documents existed on ...", or ""
  std::string checked_at;       // when the report was made
  std::vector<std::pair<std::string, std::vector<ReportCheck>>> sections;  // "Dữ liệu" -> its checks, in order
  std::vector<std::string> reasons;  // the report's failing or undetermined steps, technical
};

ReportView MakeReportView(const Page& page, const audit::PackageReport& report, std::string subject);

// The report's HTML (no layout; templates/report_view.html): verdict first,
// then each section's checks. `pdf_link`, when not empty, is offered as
// "Download as PDF".
std::string ReportHtml(const Page& page, const ReportView& view, const std::string& pdf_link);

}  // namespace preserve::web
