#include "report_view.h"

#include <string_view>

#include <boost/json.hpp>

#include "preserve/util/clock.h"
#include "view.h"
#include "words.h"

namespace preserve::web {

namespace {

namespace json = boost::json;

bool StartsWith(std::string_view text, std::string_view start) { return text.substr(0, start.size()) == start; }
bool Has(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

std::string SectionTitle(const Page& page, std::string_view section) {
  if (section == "data") return page.Text("report.section_data");
  if (section == "evidence") return page.Text("report.section_evidence");
  if (section == "signature") return page.Text("report.section_signature");
  return std::string(section);
}

// Checks shared by the evidence and signature sections: which certificates
// the verifier trusts, compared with what the package carries.
std::optional<std::string> TrustTitle(const Page& page, std::string_view section, std::string_view what) {
  if (StartsWith(what, "trust anchors for"))
    return page.Text(section == "signature" ? "report.trust_signers" : "report.trust_timestamps");
  if (StartsWith(what, "the package carries")) return page.Text("report.carried_certificate");
  if (StartsWith(what, "pinned fingerprint")) return page.Text("report.pinned_fingerprint");
  return std::nullopt;
}

// The kind of check a step is, from the verifier's words ("what"): the
// steps are made in audit/ and timestamp/ with fixed phrases, which these
// tests follow. A step of an unknown form gets its section's general title.
std::string CheckTitle(const Page& page, const audit::ReportStep& step) {
  const std::string_view what = step.what;
  if (auto trust = TrustTitle(page, step.section, what)) return *trust;
  if (step.section == "data")
    return page.Text(StartsWith(what, "manifest.json") ? "report.check_manifest" : "report.check_file");
  if (step.section == "signature") return page.Text("report.check_signature");
  if (StartsWith(what, "algorithm policy")) return page.Text("report.check_algorithm_policy");
  if (StartsWith(what, "earlier evidence record")) return page.Text("report.check_earlier_record");
  if (Has(what, ": token of")) return page.Text("report.check_token");
  if (Has(what, "covers the data")) return page.Text("report.check_covers");
  if (Has(what, "renewal")) return page.Text("report.check_renewal");
  if (Has(what, ": time") || Has(what, " is after ")) return page.Text("report.check_time_order");
  if (StartsWith(what, "chain ") || Has(what, "algorithm")) return page.Text("report.check_sound");
  return page.Text("report.check_record");
}

std::string VerdictMeaning(const Page& page, Verdict verdict) {
  switch (verdict) {
    case Verdict::kValid: return page.Text("report.meaning_valid");
    case Verdict::kInvalid: return page.Text("report.meaning_invalid");
    case Verdict::kIndeterminate: return page.Text("report.meaning_indeterminate");
  }
  return "";
}

}  // namespace

ReportView MakeReportView(const Page& page, const audit::PackageReport& report, std::string subject) {
  ReportView view;
  view.heading = page.Text("report.heading");
  view.subject = std::move(subject);
  view.verdict = report.verdict;
  view.verdict_label = std::string(VerdictLabel(page, report.verdict));
  view.verdict_meaning = VerdictMeaning(page, report.verdict);
  if (report.existence_time)
    view.existence = page.Text("report.existence", {{"time", page.DateTime(*report.existence_time)}});
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
  json::array sections;
  for (const auto& [section, checks] : view.sections) {
    json::array items;
    for (const ReportCheck& check : checks)
      items.push_back(json::object{{"verdict_class", VerdictClass(check.verdict)},
                                   {"verdict_label", VerdictLabel(page, check.verdict)},
                                   {"title", check.title},
                                   {"technical", check.technical}});
    sections.push_back(json::object{{"title", section}, {"checks", std::move(items)}});
  }
  return Render(page, "report_view",
                {{"verdict_class", VerdictClass(view.verdict)},
                 {"verdict_label", view.verdict_label},
                 {"verdict_meaning", view.verdict_meaning},
                 {"subject", view.subject},
                 {"checked_at", view.checked_at},
                 {"existence", view.existence},
                 {"pdf_link", pdf_link},
                 {"sections", std::move(sections)}});
}

}  // namespace preserve::web
