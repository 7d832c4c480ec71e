// How signatures were used (/reports/signatures): documents handed in over a
// period, accepted or refused and why, per organ, month or signer
// organization (Catalogue::ReportSignatureUse), as a table with totals, a bar
// chart drawn on the server (inline SVG from templates/sigreport_chart.html:
// no script, no chart library; the table is its text alternative), and a CSV
// file for spreadsheets. Markup in templates/sigreport_*.html, texts under
// sigreport.* in the catalogues.
#include <algorithm>

#include <boost/json.hpp>

#include "auditor_pages.h"
#include "page.h"
#include "preserve/archive/catalogue.h"
#include "view.h"
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

namespace json = boost::json;

// The counted classes, in the order of the table, the chart and the CSV.
struct Column {
  std::string_view key;  // its label in the catalogues
  std::size_t archive::SignatureUseRow::*count;
  std::string_view colour;  // in the chart
};
constexpr Column kColumns[] = {
    {"sigreport.accepted", &archive::SignatureUseRow::accepted, "#1b7a3a"},
    {"sigreport.duplicate", &archive::SignatureUseRow::duplicate, "#5b7fa6"},
    {"sigreport.refused", &archive::SignatureUseRow::refused, "#b3261e"},
    {"sigreport.refused_then_accepted", &archive::SignatureUseRow::refused_then_accepted, "#b26a00"},
    {"sigreport.not_signed", &archive::SignatureUseRow::not_signed, "#7d7d7d"},
};

std::string GroupLabel(const Page& page, const archive::SignatureUseRow& row) {
  if (row.group.empty()) return page.Text("sigreport.all");
  if (row.group == "(none)") return page.Text("sigreport.not_known");
  // A month "2026-11" reads "11/2026" in Vietnamese.
  if (page.lang == Lang::kVi && row.group.size() == 7 && row.group[4] == '-')
    return row.group.substr(5) + "/" + row.group.substr(0, 4);
  return row.group;
}

std::string GroupHeading(const Page& page, const ReportQuery& q) {
  switch (q.grouping) {
    case archive::ReportGrouping::kOrgan: return page.Text("sigreport.group_organ");
    case archive::ReportGrouping::kMonth: return page.Text("sigreport.group_month");
    case archive::ReportGrouping::kSignerOrganization: return page.Text("sigreport.group_signer");
    case archive::ReportGrouping::kNone: break;
  }
  return page.Text("sigreport.group_period");
}

// The data of sigreport_row.html: the group, its counts and its refusals by reason.
json::object RowData(const Page& page, const archive::SignatureUseRow& row) {
  json::array counts;
  for (const Column& c : kColumns) counts.push_back(json::object{{"n", page.Number(row.*c.count)}});
  json::array reasons;
  for (const auto& [reason, n] : row.refused_by_reason)
    reasons.push_back(json::object{{"reason", reason}, {"what", ExplainRefusal(page, reason).what}, {"n", page.Number(n)}});
  return {{"label", GroupLabel(page, row)},
          {"submitted", page.Number(row.submitted)},
          {"counts", std::move(counts)},
          {"has_reasons", !reasons.empty()},
          {"reasons", std::move(reasons)}};
}

// The data of sigreport_chart.html: one horizontal bar per group, its parts
// the counted classes, with a legend. Coordinates are given as text, as SVG reads them.
json::object ChartData(const Page& page, const ReportQuery& q, const archive::SignatureUseReport& report) {
  std::vector<archive::SignatureUseRow> rows = report.rows;
  if (q.grouping == archive::ReportGrouping::kNone || rows.empty()) {
    rows = {report.total};
    rows.front().group.clear();
  }
  std::size_t most = 1;
  for (const auto& row : rows) most = std::max(most, row.submitted);
  const int label_width = 220, bar_width = 560, bar_height = 22, gap = 10, legend_height = 30;
  const int height = legend_height + static_cast<int>(rows.size()) * (bar_height + gap) + gap;
  json::array legend;
  int x = 0;
  for (const Column& c : kColumns) {
    const std::string label = page.Text(c.key);
    legend.push_back(json::object{
        {"x", std::to_string(x)}, {"text_x", std::to_string(x + 18)}, {"colour", c.colour}, {"label", label}});
    x += 26 + static_cast<int>(label.size()) * 6;
  }
  json::array bars;
  int y = legend_height;
  for (const auto& row : rows) {
    const std::string label = GroupLabel(page, row);
    json::array parts;
    double left = label_width;
    for (const Column& c : kColumns) {
      const double w = static_cast<double>(bar_width) * static_cast<double>(row.*c.count) / static_cast<double>(most);
      if (w <= 0) continue;
      parts.push_back(json::object{{"x", std::to_string(left)},
                                   {"y", std::to_string(y)},
                                   {"width", std::to_string(w)},
                                   {"bar_height", std::to_string(bar_height)},
                                   {"colour", c.colour},
                                   {"label", label},
                                   {"column", page.Text(c.key)},
                                   {"count", page.Number(row.*c.count)}});
      left += w;
    }
    bars.push_back(json::object{{"label", label},
                                {"label_x", std::to_string(label_width - 8)},
                                {"text_y", std::to_string(y + 16)},
                                {"parts", std::move(parts)},
                                {"total_x", std::to_string(left + 6)},
                                {"submitted", page.Number(row.submitted)}});
    y += bar_height + gap;
  }
  return {{"width", std::to_string(label_width + bar_width + 60)},
          {"height", std::to_string(height)},
          {"legend", std::move(legend)},
          {"bars", std::move(bars)}};
}

// A CSV field, quoted when it holds a separator, a quote or a line break.
std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Numbers are written plainly (no thousands separator): a spreadsheet reads them as numbers.
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
  std::string csv = "\xEF\xBB\xBF" + CsvField(GroupHeading(page, q)) + "," + CsvField(page.Text("sigreport.handed_in"));
  for (const Column& c : kColumns) csv += "," + CsvField(page.Text(c.key));
  csv += "," + CsvField(page.Text("sigreport.reasons")) + "\r\n";
  if (q.grouping != archive::ReportGrouping::kNone)
    for (const auto& row : report.rows) csv += CsvRow(page, row);
  archive::SignatureUseRow total = report.total;
  total.group = page.Text("sigreport.total");
  return csv + CsvRow(page, total);
}

// The data of sigreport_form.html: the query as typed, and the groupings offered.
json::object FormData(const Page& page, const ReportQuery& q) {
  const std::pair<std::string_view, std::string_view> groups[] = {{"", "sigreport.group_none"},
                                                                  {"organ", "sigreport.group_organ"},
                                                                  {"month", "sigreport.group_month"},
                                                                  {"signer", "sigreport.group_signer"}};
  json::array options;
  for (const auto& [value, key] : groups)
    options.push_back(json::object{{"value", value}, {"label", page.Text(key)}, {"selected", q.group == value}});
  return {{"query", json::object{{"from", q.from_text}, {"to", q.to_text}}}, {"groups", std::move(options)}};
}

service::HttpResponse SignatureReport(Page& page) {
  const std::string title = page.Text("sigreport.title");
  auto q = ReadQuery(page);
  if (!q.ok()) {
    json::object data = FormData(page, ReportQuery{});
    data["bad_date"] = json::object{{"detail", q.status().message()}};
    return HtmlPage(page, title, Render(page, "sigreport_page", data), 400);
  }
  auto report = archive::Catalogue(page.app.archive).ReportSignatureUse(q->from, q->to, q->grouping);
  if (!report.ok()) return ErrorPage(page, 500, report.status().message());
  if (page.query.Get("format") == "csv")
    return Download("text/csv; charset=utf-8", page.Text("sigreport.csv_name") + ".csv",
                    Csv(page, q.value(), report.value()));
  json::object data = FormData(page, q.value());
  json::array unreadable;
  for (const std::string& line : report->unreadable) unreadable.push_back(json::object{{"line", line}});
  data["unreadable"] = std::move(unreadable);
  std::string csv_query = "format=csv";
  for (const auto& [name, value] : {std::pair<std::string_view, const std::string&>{"from", q->from_text},
                                    {"to", q->to_text}, {"group", q->group}})
    if (!value.empty()) csv_query += "&" + std::string(name) + "=" + UrlEncode(value);
  data["csv_link"] = "/reports/signatures?" + csv_query;
  data["from"] = q->from_text.empty() ? page.Text("sigreport.beginning") : page.Date(q->from);
  data["to"] = q->to_text.empty() ? page.Text("sigreport.today") : page.Date(q->to - std::chrono::seconds(1));
  data["chart"] = ChartData(page, q.value(), report.value());
  data["group_heading"] = GroupHeading(page, q.value());
  json::array columns;
  for (const Column& c : kColumns) columns.push_back(json::object{{"label", page.Text(c.key)}});
  data["columns"] = std::move(columns);
  json::array rows;
  if (q->grouping != archive::ReportGrouping::kNone)
    for (const archive::SignatureUseRow& row : report->rows) rows.push_back(RowData(page, row));
  data["rows"] = std::move(rows);
  archive::SignatureUseRow total = report->total;
  total.group = page.Text("sigreport.total");
  data["total"] = RowData(page, total);
  return HtmlPage(page, title, Render(page, "sigreport_page", data));
}

}  // namespace

void AddSignatureReportPage(Routes& routes) {
  routes.Add({"GET", "/reports/signatures", false, kAuditor | kAdmin, "web signature report", SignatureReport});
}

}  // namespace preserve::web
