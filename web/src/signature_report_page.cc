// How signatures were used (/reports/signatures): documents handed in over a
// period, accepted or refused and why, per organ, month or signer
// organization (Catalogue::ReportSignatureUse), as a table with totals, a bar
// chart drawn on the server (inline SVG: no script, no chart library; the
// table is its text alternative), and a CSV file for spreadsheets.
#include <algorithm>

#include "auditor_pages.h"
#include "page.h"
#include "preserve/archive/catalogue.h"
#include "words.h"

namespace preserve::web {

namespace {

struct ReportQuery {
  std::string from_text, to_text, group;
  TimePoint from, to;
  archive::ReportGrouping grouping = archive::ReportGrouping::kNone;
};

Result<ReportQuery> ReadQuery(const Page& page) {
  ReportQuery q;
  q.from_text = page.query.Get("from");
  q.to_text = page.query.Get("to");
  q.group = page.query.Get("group");
  PRESERVE_ASSIGN_OR_RETURN(auto from, ParseLocalDay(page, q.from_text, false));
  PRESERVE_ASSIGN_OR_RETURN(auto to, ParseLocalDay(page, q.to_text, true));
  q.from = from.value_or(TimePoint{});  // no start: from the archive's beginning
  q.to = to.value_or(page.app.clock.Now() + std::chrono::hours(24));
  if (q.group == "organ") q.grouping = archive::ReportGrouping::kOrgan;
  else if (q.group == "month") q.grouping = archive::ReportGrouping::kMonth;
  else if (q.group == "signer") q.grouping = archive::ReportGrouping::kSignerOrganization;
  else q.group.clear();
  return q;
}

// The counted classes, in the order of the table, the chart and the CSV.
struct Column {
  std::string_view en, vi;
  std::size_t archive::SignatureUseRow::*count;
  std::string_view colour;  // in the chart
};
constexpr Column kColumns[] = {
    {"Accepted", "Được chấp nhận", &archive::SignatureUseRow::accepted, "#1b7a3a"},
    {"Handed in again", "Nộp trùng", &archive::SignatureUseRow::duplicate, "#5b7fa6"},
    {"Refused", "Bị từ chối", &archive::SignatureUseRow::refused, "#b3261e"},
    {"Refused, then accepted", "Bị từ chối, sau đó được chấp nhận", &archive::SignatureUseRow::refused_then_accepted,
     "#b26a00"},
    {"Not signed", "Không có chữ ký", &archive::SignatureUseRow::not_signed, "#7d7d7d"},
};

std::string GroupLabel(const Page& page, const archive::SignatureUseRow& row) {
  if (row.group.empty()) return std::string(page.T("All", "Tất cả"));
  if (row.group == "(none)") return std::string(page.T("(not known)", "(không rõ)"));
  // A month "2026-11" reads "11/2026" in Vietnamese.
  if (page.lang == Lang::kVi && row.group.size() == 7 && row.group[4] == '-')
    return row.group.substr(5) + "/" + row.group.substr(0, 4);
  return row.group;
}

std::string_view GroupHeading(const Page& page, const ReportQuery& q) {
  switch (q.grouping) {
    case archive::ReportGrouping::kOrgan: return page.T("Organ", "Cơ quan");
    case archive::ReportGrouping::kMonth: return page.T("Month", "Tháng");
    case archive::ReportGrouping::kSignerOrganization: return page.T("Signer's organization", "Tổ chức của người ký");
    case archive::ReportGrouping::kNone: break;
  }
  return page.T("Period", "Giai đoạn");
}

std::string ReasonsHtml(const Page& page, const archive::SignatureUseRow& row) {
  if (row.refused_by_reason.empty()) return "";
  std::string html = "<ul class=\"reasons\">";
  for (const auto& [reason, n] : row.refused_by_reason)
    html += "<li><abbr title=\"" + Escape(ExplainRefusal(page, reason).what) + "\">" + Escape(reason) +
            "</abbr>: " + std::to_string(n) + "</li>";
  return html + "</ul>";
}

std::string RowHtml(const Page& page, const archive::SignatureUseRow& row, std::string_view cell) {
  std::string html = "<tr><" + std::string(cell) + " scope=\"row\">" + Escape(GroupLabel(page, row)) + "</" +
                     std::string(cell) + "><td class=\"num\">" + std::to_string(row.submitted) + "</td>";
  for (const Column& c : kColumns) html += "<td class=\"num\">" + std::to_string(row.*c.count) + "</td>";
  return html + "<td>" + ReasonsHtml(page, row) + "</td></tr>\n";
}

std::string TableHtml(const Page& page, const ReportQuery& q, const archive::SignatureUseReport& report) {
  std::string html = "<div class=\"table-wrap\"><table id=\"signature-use\"><thead><tr><th scope=\"col\">" +
                     std::string(GroupHeading(page, q)) + "</th><th scope=\"col\" class=\"num\">" +
                     std::string(page.T("Handed in", "Đã nộp")) + "</th>";
  for (const Column& c : kColumns) html += "<th scope=\"col\" class=\"num\">" + std::string(page.T(c.en, c.vi)) + "</th>";
  html += "<th scope=\"col\">" + std::string(page.T("Refusals by reason", "Lý do từ chối")) + "</th></tr></thead><tbody>\n";
  if (q.grouping != archive::ReportGrouping::kNone)
    for (const archive::SignatureUseRow& row : report.rows) html += RowHtml(page, row, "th");
  html += "</tbody><tfoot>";
  archive::SignatureUseRow total = report.total;
  total.group = std::string(page.T("Total", "Tổng cộng"));
  html += RowHtml(page, total, "th");
  return html + "</tfoot></table></div>\n";
}

// One horizontal bar per group, its parts the counted classes, with a legend.
std::string ChartSvg(const Page& page, const ReportQuery& q, const archive::SignatureUseReport& report) {
  std::vector<archive::SignatureUseRow> rows = report.rows;
  if (q.grouping == archive::ReportGrouping::kNone || rows.empty()) {
    rows = {report.total};
    rows.front().group.clear();
  }
  std::size_t most = 1;
  for (const auto& row : rows) most = std::max(most, row.submitted);
  const int label_width = 220, bar_width = 560, bar_height = 22, gap = 10, legend_height = 30;
  const int height = legend_height + static_cast<int>(rows.size()) * (bar_height + gap) + gap;
  std::string svg = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 " +
                    std::to_string(label_width + bar_width + 60) + " " + std::to_string(height) +
                    "\" aria-labelledby=\"chart-title chart-desc\"><title id=\"chart-title\">" +
                    std::string(page.T("Documents handed in, by outcome", "Văn bản đã nộp, theo kết quả")) +
                    "</title><desc id=\"chart-desc\">" +
                    std::string(page.T("One bar per row of the table below, split into accepted, handed in again, "
                                       "refused, refused then accepted, and not signed; the table gives the numbers.",
                                       "Mỗi thanh là một dòng của bảng dưới đây, chia thành được chấp nhận, nộp trùng, "
                                       "bị từ chối, bị từ chối sau đó được chấp nhận, và không có chữ ký; bảng cho "
                                       "các con số.")) +
                    "</desc>\n";
  int x = 0;
  for (const Column& c : kColumns) {  // the legend
    const std::string label(page.T(c.en, c.vi));
    svg += "<rect x=\"" + std::to_string(x) + "\" y=\"4\" width=\"14\" height=\"14\" fill=\"" + std::string(c.colour) +
           "\"/><text x=\"" + std::to_string(x + 18) + "\" y=\"16\" font-size=\"12\">" + Escape(label) + "</text>";
    x += 26 + static_cast<int>(label.size()) * 6;
  }
  int y = legend_height;
  for (const auto& row : rows) {
    svg += "<text x=\"" + std::to_string(label_width - 8) + "\" y=\"" + std::to_string(y + 16) +
           "\" font-size=\"13\" text-anchor=\"end\">" + Escape(GroupLabel(page, row)) + "</text>";
    double left = label_width;
    for (const Column& c : kColumns) {
      const double w = static_cast<double>(bar_width) * static_cast<double>(row.*c.count) / static_cast<double>(most);
      if (w <= 0) continue;
      svg += "<rect x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(y) + "\" width=\"" + std::to_string(w) +
             "\" height=\"" + std::to_string(bar_height) + "\" fill=\"" + std::string(c.colour) + "\"><title>" +
             Escape(GroupLabel(page, row)) + ", " + std::string(page.T(c.en, c.vi)) + ": " +
             std::to_string(row.*c.count) + "</title></rect>";
      left += w;
    }
    svg += "<text x=\"" + std::to_string(left + 6) + "\" y=\"" + std::to_string(y + 16) + "\" font-size=\"13\">" +
           std::to_string(row.submitted) + "</text>\n";
    y += bar_height + gap;
  }
  return svg + "</svg>\n";
}

// A CSV field, quoted when it holds a separator, a quote or a line break.
std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string CsvRow(const Page& page, const archive::SignatureUseRow& row) {
  std::string line = CsvField(GroupLabel(page, row)) + "," + std::to_string(row.submitted);
  for (const Column& c : kColumns) line += "," + std::to_string(row.*c.count);
  std::string reasons;
  for (const auto& [reason, n] : row.refused_by_reason)
    reasons += (reasons.empty() ? "" : "; ") + reason + ": " + std::to_string(n);
  return line + "," + CsvField(reasons) + "\r\n";
}

// UTF-8 with a byte order mark: without it, spreadsheet programs read the
// Vietnamese as another code page.
std::string Csv(const Page& page, const ReportQuery& q, const archive::SignatureUseReport& report) {
  std::string csv = "\xEF\xBB\xBF" + CsvField(GroupHeading(page, q)) + "," + CsvField(page.T("Handed in", "Đã nộp"));
  for (const Column& c : kColumns) csv += "," + CsvField(page.T(c.en, c.vi));
  csv += "," + CsvField(page.T("Refusals by reason", "Lý do từ chối")) + "\r\n";
  if (q.grouping != archive::ReportGrouping::kNone)
    for (const auto& row : report.rows) csv += CsvRow(page, row);
  archive::SignatureUseRow total = report.total;
  total.group = std::string(page.T("Total", "Tổng cộng"));
  return csv + CsvRow(page, total);
}

std::string QueryForm(const Page& page, const ReportQuery& q) {
  const std::string date_hint = std::string(" placeholder=\"") + std::string(page.T("yyyy-mm-dd", "dd/mm/yyyy")) + "\"";
  std::string html = "<form class=\"card no-print\" method=\"get\" action=\"/reports/signatures\"><div class=\"grid\">"
                     "<div><label for=\"from\">" + std::string(page.T("From", "Từ ngày")) +
                     "</label><input id=\"from\" name=\"from\" value=\"" + Escape(q.from_text) + "\"" + date_hint +
                     "></div><div><label for=\"to\">" + std::string(page.T("To", "Đến ngày")) +
                     "</label><input id=\"to\" name=\"to\" value=\"" + Escape(q.to_text) + "\"" + date_hint +
                     "></div><div><label for=\"group\">" + std::string(page.T("Group by", "Nhóm theo")) +
                     "</label><select id=\"group\" name=\"group\">";
  const std::pair<std::string_view, std::string_view> groups[] = {
      {"", page.T("No grouping", "Không nhóm")},
      {"organ", page.T("Organ", "Cơ quan")},
      {"month", page.T("Month", "Tháng")},
      {"signer", page.T("Signer's organization", "Tổ chức của người ký")}};
  for (const auto& [value, label] : groups)
    html += "<option value=\"" + std::string(value) + "\"" + (q.group == value ? " selected" : "") + ">" +
            std::string(label) + "</option>";
  return html + "</select></div></div><p class=\"hint\">" +
         std::string(page.T("Empty dates: from the archive's beginning, up to today.",
                            "Để trống ngày: tính từ khi lập kho đến hôm nay.")) +
         "</p><button type=\"submit\">" + std::string(page.T("Show", "Xem báo cáo")) + "</button></form>\n";
}

service::HttpResponse SignatureReport(Page& page) {
  const std::string_view title = page.T("Signature use", "Báo cáo sử dụng chữ ký số");
  auto q = ReadQuery(page);
  if (!q.ok())
    return HtmlPage(page, title,
                    Notice("error", std::string(page.T("A date could not be read: write it as dd/mm/yyyy (or "
                                                       "yyyy-mm-dd). ",
                                                       "Không đọc được ngày: hãy viết theo dạng dd/mm/yyyy (hoặc "
                                                       "yyyy-mm-dd). ")) +
                                        Escape(q.status().message())) +
                        QueryForm(page, ReportQuery{}),
                    400);
  auto report = archive::Catalogue(page.app.archive).ReportSignatureUse(q->from, q->to, q->grouping);
  if (!report.ok()) return ErrorPage(page, 500, report.status().message());
  if (page.query.Get("format") == "csv")
    return Download("text/csv; charset=utf-8", std::string(page.T("signature-use", "su-dung-chu-ky")) + ".csv",
                    Csv(page, q.value(), report.value()));
  std::string body = QueryForm(page, q.value());
  for (const std::string& line : report->unreadable)
    body += Notice("warn", std::string(page.T("An audit event could not be read, and is not counted: ",
                                              "Một sự kiện kiểm toán không đọc được và không được tính: ")) +
                               Escape(line));
  std::string csv_query = "format=csv";
  for (const auto& [name, value] : {std::pair<std::string_view, const std::string&>{"from", q->from_text},
                                    {"to", q->to_text}, {"group", q->group}})
    if (!value.empty()) csv_query += "&" + std::string(name) + "=" + UrlEncode(value);
  body += "<p>" + std::string(page.T("Period: ", "Giai đoạn: ")) +
          (q->from_text.empty() ? std::string(page.T("the archive's beginning", "khi lập kho")) : page.Date(q->from)) +
          " – " +
          (q->to_text.empty() ? std::string(page.T("today", "hôm nay")) : page.Date(q->to - std::chrono::seconds(1))) +
          "</p>\n" + ChartSvg(page, q.value(), report.value()) +
          TableHtml(page, q.value(), report.value()) + "<p class=\"no-print\"><a class=\"button secondary\" " +
          "href=\"/reports/signatures?" + Escape(csv_query) + "\">" +
          std::string(page.T("Download as CSV (spreadsheet)", "Tải về tệp CSV (bảng tính)")) + "</a></p>";
  return HtmlPage(page, title, body);
}

}  // namespace

void AddSignatureReportPage(Routes& routes) {
  routes.Add({"GET", "/reports/signatures", false, kAuditor | kAdmin, "web signature report", SignatureReport});
}

}  // namespace preserve::web
