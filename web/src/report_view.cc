#include "report_view.h"

#include <string_view>

#include "preserve/util/clock.h"
#include "words.h"

namespace preserve::web {

namespace {

bool StartsWith(std::string_view text, std::string_view start) { return text.substr(0, start.size()) == start; }
bool Has(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

std::string SectionTitle(const Page& page, std::string_view section) {
  if (section == "data") return std::string(page.T("Documents and files", "Tài liệu và tệp trong gói"));
  if (section == "evidence")
    return std::string(page.T("Time-stamps and the evidence record", "Dấu thời gian và hồ sơ chứng cứ"));
  if (section == "signature") return std::string(page.T("Digital signatures", "Chữ ký số"));
  return std::string(section);
}

// Checks shared by the evidence and signature sections: which certificates
// the verifier trusts, compared with what the package carries.
std::optional<std::string_view> TrustTitle(const Page& page, std::string_view section, std::string_view what) {
  if (StartsWith(what, "trust anchors for"))
    return section == "signature" ? page.T("Whom the signers are trusted through", "Nguồn tin cậy của người ký")
                                  : page.T("Whom the time-stamps are trusted through", "Nguồn tin cậy của dấu thời gian");
  if (StartsWith(what, "the package carries"))
    return page.T("A certificate the package carries", "Chứng thư số đi kèm gói");
  if (StartsWith(what, "pinned fingerprint"))
    return page.T("A certificate fingerprint named by the verifier", "Dấu vân tay chứng thư do người kiểm tra chỉ định");
  return std::nullopt;
}

// The kind of check a step is, from the verifier's words ("what"): the
// steps are made in audit/ and timestamp/ with fixed phrases, which these
// tests follow. A step of an unknown form gets its section's general title.
std::string CheckTitle(const Page& page, const audit::ReportStep& step) {
  const std::string_view what = step.what;
  if (auto trust = TrustTitle(page, step.section, what)) return std::string(*trust);
  if (step.section == "data") {
    if (StartsWith(what, "manifest.json"))
      return std::string(page.T("The list of the package's files (manifest)", "Danh mục tệp của gói (manifest)"));
    return std::string(page.T("A file is intact: its fingerprint matches", "Tệp còn nguyên vẹn: mã băm khớp"));
  }
  if (step.section == "signature") return std::string(page.T("A document's digital signature", "Chữ ký số của văn bản"));
  if (StartsWith(what, "algorithm policy"))
    return std::string(page.T("The algorithm rules applied", "Quy định về thuật toán được áp dụng"));
  if (StartsWith(what, "earlier evidence record"))
    return std::string(page.T("An earlier evidence record", "Hồ sơ chứng cứ trước đây"));
  if (Has(what, ": token of"))
    return std::string(page.T("A time-stamp's signature and the authority that gave it",
                              "Chữ ký của dấu thời gian và đơn vị cấp dấu"));
  if (Has(what, "covers the data"))
    return std::string(page.T("A time-stamp covers exactly these files", "Dấu thời gian bao phủ đúng các tệp này"));
  if (Has(what, "renewal"))
    return std::string(page.T("A renewal covers the earlier evidence", "Lần gia hạn bao phủ chứng cứ trước đó"));
  if (Has(what, ": time") || Has(what, " is after "))
    return std::string(page.T("The time-stamps are in time order", "Các dấu thời gian theo đúng trình tự thời gian"));
  if (StartsWith(what, "chain ") || Has(what, "algorithm"))
    return std::string(page.T("Algorithms and certificates were still sound at the time",
                              "Thuật toán và chứng thư còn an toàn tại thời điểm đó"));
  return std::string(page.T("The evidence record (RFC 4998)", "Hồ sơ chứng cứ (RFC 4998)"));
}

std::string VerdictMeaning(const Page& page, Verdict verdict) {
  switch (verdict) {
    case Verdict::kValid:
      return std::string(page.T("Every check passed: the files are as they were archived, the time-stamps prove "
                                "when they existed, and the signatures are valid.",
                                "Mọi bước kiểm tra đều đạt: các tệp còn nguyên như khi lưu, dấu thời gian chứng minh "
                                "thời điểm tồn tại, và các chữ ký số hợp lệ."));
    case Verdict::kInvalid:
      return std::string(page.T("At least one check failed: see the checks marked not valid below. Do not rely on "
                                "this package as proof until the cause is known.",
                                "Có ít nhất một bước kiểm tra không đạt: xem các bước được đánh dấu không hợp lệ bên "
                                "dưới. Chưa nên dùng gói này làm bằng chứng cho đến khi rõ nguyên nhân."));
    case Verdict::kIndeterminate:
      return std::string(page.T("Nothing failed, but some checks could not be completed (for example, the package "
                                "is not sealed yet, or a trust anchor is missing): see below.",
                                "Không có bước nào sai, nhưng một số bước chưa thể kết luận (ví dụ gói chưa được "
                                "niêm phong, hoặc thiếu chứng thư gốc tin cậy): xem bên dưới."));
  }
  return "";
}

}  // namespace

ReportView MakeReportView(const Page& page, const audit::PackageReport& report, std::string subject) {
  ReportView view;
  view.heading = page.T("Verification report", "Báo cáo kiểm tra tính xác thực");
  view.subject = std::move(subject);
  view.verdict = report.verdict;
  view.verdict_label = VerdictLabel(page, report.verdict);
  view.verdict_meaning = VerdictMeaning(page, report.verdict);
  if (report.existence_time)
    view.existence = std::string(page.T("The files existed, as they are now, on ", "Các tệp đã tồn tại, đúng như hiện "
                                                                                  "nay, vào ")) +
                     page.DateTime(*report.existence_time);
  view.checked_at = page.DateTime(page.app.clock.Now());
  for (const audit::ReportStep& step : report.steps) {
    std::string section = SectionTitle(page, step.section);
    if (view.sections.empty() || view.sections.back().first != section) view.sections.push_back({section, {}});
    view.sections.back().second.push_back(
        {CheckTitle(page, step), step.verdict, step.detail.empty() ? step.what : step.what + ": " + step.detail});
  }
  view.reasons = report.reasons;
  return view;
}

std::string ReportHtml(const Page& page, const ReportView& view, const std::string& pdf_link) {
  const std::string cls(VerdictClass(view.verdict));
  std::string html = "<section class=\"card report-verdict\" aria-labelledby=\"verdict\"><h2 id=\"verdict\">" +
                     std::string(page.T("Result", "Kết luận")) + ": <span class=\"badge " + cls + "\">" +
                     Escape(view.verdict_label) + "</span></h2>\n<p>" + Escape(view.verdict_meaning) + "</p>\n";
  html += "<dl class=\"facts\"><dt>" + std::string(page.T("Checked", "Đối tượng kiểm tra")) + "</dt><dd class=\"id\">" +
          Escape(view.subject) + "</dd><dt>" + std::string(page.T("Checked on", "Thời điểm kiểm tra")) + "</dt><dd>" +
          Escape(view.checked_at) + "</dd></dl>\n";
  if (!view.existence.empty()) html += "<p>" + Escape(view.existence) + ".</p>\n";
  if (!pdf_link.empty())
    html += "<p class=\"no-print\"><a class=\"button secondary\" href=\"" + Escape(pdf_link) + "\">" +
            std::string(page.T("Download as PDF", "Tải về dạng PDF")) + "</a></p>\n";
  html += "</section>\n";
  for (const auto& [section, checks] : view.sections) {
    html += "<h2>" + Escape(section) + "</h2>\n<ol class=\"steps report-checks\">\n";
    for (const ReportCheck& check : checks) {
      html += "<li><span class=\"badge " + std::string(VerdictClass(check.verdict)) + "\">" +
              std::string(VerdictLabel(page, check.verdict)) + "</span> <strong>" + Escape(check.title) +
              "</strong><br><span class=\"hint id\">" + Escape(check.technical) + "</span></li>\n";
    }
    html += "</ol>\n";
  }
  return html;
}

}  // namespace preserve::web
