// The audit trail for people (/audit-trail): newest first, 50 events a page,
// filtered by event type, account, package and dates.
//
// The trail is read forwards only (Maintenance::ScanAuditLog from a sequence
// number), so a page is read backwards in windows: the newest sequence is
// found by a few probing seeks (about 2 log2 N: some 40 at a million events),
// then windows of the trail before the page's end are read, each twice the
// last, until a page of matching events is found, the trail's start is
// reached, or the events are older than the "from" date. Without a filter a
// page reads about 50 events; a filter that matches rarely (an account that
// did little, over a long trail with no dates given) may read the whole
// trail: a million events are a few seconds.
#include <algorithm>
#include <optional>

#include <boost/json.hpp>

#include "auditor_pages.h"
#include "page.h"
#include "preserve/archive/maintenance.h"
#include "preserve/util/clock.h"
#include "preserve/util/date.h"

namespace preserve::web {

namespace {

namespace json = boost::json;

constexpr std::size_t kPageSize = 50;
// Where an event names who did it; the first present is shown.
constexpr std::string_view kWhoFields[] = {"account", "by", "actor", "placed_by", "deleted_by"};
// Fields shown in columns of their own, so not again under "what".
constexpr std::string_view kShownFields[] = {"event", "time", "package", "outcome", "account", "by",
                                             "actor", "placed_by", "deleted_by", "operation"};

struct TrailFilter {
  std::string type;
  std::string account;
  std::string package;  // a prefix of the package id
  std::optional<TimePoint> from, to;  // [from, to)
  std::optional<std::uint64_t> before;  // the page ends before this sequence number
  std::string from_text, to_text;     // as typed
};

struct TrailEvent {
  std::uint64_t sequence = 0;
  std::string json;  // as stored
  json::object fields;
  std::optional<TimePoint> time;
};

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string WhoOf(const json::object& o) {
  for (std::string_view key : kWhoFields)
    if (std::string who = StringField(o, key); !who.empty()) return who;
  return "";
}

bool Matches(const TrailFilter& f, const TrailEvent& e) {
  if (!f.type.empty() && StringField(e.fields, "event") != f.type) return false;
  if (!f.account.empty() && WhoOf(e.fields) != f.account) return false;
  if (!f.package.empty() && StringField(e.fields, "package").rfind(f.package, 0) != 0) return false;
  if (f.from && (!e.time || *e.time < *f.from)) return false;
  if (f.to && (!e.time || *e.time >= *f.to)) return false;
  return true;
}

Result<TrailFilter> ReadFilter(const Page& page) {
  TrailFilter f;
  f.type = page.query.Get("type");
  f.account = page.query.Get("account");
  f.package = page.query.Get("package");
  f.from_text = page.query.Get("from");
  f.to_text = page.query.Get("to");
  PRESERVE_ASSIGN_OR_RETURN(f.from, ParseLocalDay(page, f.from_text, false));
  PRESERVE_ASSIGN_OR_RETURN(f.to, ParseLocalDay(page, f.to_text, true));
  if (const std::string before = page.query.Get("before"); !before.empty()) {
    std::uint64_t n = 0;
    for (char c : before) {
      if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) return Status::InvalidArgument("before: not a number");
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    f.before = n;
  }
  return f;
}

// Reads the trail through Maintenance, collecting what cannot be read.
class TrailReader {
 public:
  explicit TrailReader(archive::Archive& archive) : maintenance_(archive) {}

  // Whether any event has a sequence number at or after `sequence`.
  Result<bool> AnyFrom(std::uint64_t sequence) {
    bool any = false;
    PRESERVE_RETURN_IF_ERROR(maintenance_.ScanAuditLog(
        sequence, [&](const archive::AuditLogEvent&) { return !(any = true); }, Gaps()));
    return any;
  }

  // One past the newest event's sequence number (0 for an empty trail).
  Result<std::uint64_t> End() {
    PRESERVE_ASSIGN_OR_RETURN(bool any, AnyFrom(0));
    if (!any) return std::uint64_t{0};
    std::uint64_t low = 0, high = 1;  // AnyFrom(low) holds; find a `high` where it does not
    for (;;) {
      PRESERVE_ASSIGN_OR_RETURN(bool more, AnyFrom(high));
      if (!more) break;
      low = high;
      high *= 2;
    }
    while (high - low > 1) {
      const std::uint64_t mid = low + (high - low) / 2;
      PRESERVE_ASSIGN_OR_RETURN(bool more, AnyFrom(mid));
      (more ? low : high) = mid;
    }
    return low + 1;
  }

  // The events in [first, end), in order.
  Status Read(std::uint64_t first, std::uint64_t end, const std::function<void(TrailEvent)>& each) {
    return maintenance_.ScanAuditLog(
        first,
        [&](const archive::AuditLogEvent& stored) {
          if (stored.sequence >= end) return false;
          TrailEvent e{stored.sequence, stored.json, {}, std::nullopt};
          boost::system::error_code ec;
          json::value v = json::parse(stored.json, ec);
          if (!ec && v.is_object()) e.fields = std::move(v.get_object());
          if (auto t = ParseUtcTime(StringField(e.fields, "time")); t.ok()) e.time = t.value();
          each(std::move(e));
          return true;
        },
        Gaps());
  }

  const std::vector<std::string>& unreadable() const { return unreadable_; }

 private:
  std::function<void(const std::string&)> Gaps() {
    return [this](const std::string& gap) {
      if (std::find(unreadable_.begin(), unreadable_.end(), gap) == unreadable_.end()) unreadable_.push_back(gap);
    };
  }
  archive::Maintenance maintenance_;
  std::vector<std::string> unreadable_;
};

struct TrailPage {
  std::vector<TrailEvent> events;  // newest first, at most kPageSize
  bool more = false;               // older matching events exist
};

Result<TrailPage> FindPage(TrailReader& reader, const TrailFilter& filter) {
  std::uint64_t end = 0;
  if (filter.before) {
    end = *filter.before;
  } else {
    PRESERVE_ASSIGN_OR_RETURN(end, reader.End());
  }
  std::vector<TrailEvent> found;  // oldest first
  std::uint64_t window = 256;
  bool older_than_from = false;
  while (end > 0 && found.size() <= kPageSize && !older_than_from) {
    const std::uint64_t first = end > window ? end - window : 0;
    std::vector<TrailEvent> read;
    PRESERVE_RETURN_IF_ERROR(reader.Read(first, end, [&](TrailEvent e) {
      // Events are appended in time order: nothing before this one is newer than `from`.
      if (filter.from && e.time && *e.time < *filter.from) older_than_from = true;
      if (Matches(filter, e)) read.push_back(std::move(e));
    }));
    found.insert(found.begin(), std::make_move_iterator(read.begin()), std::make_move_iterator(read.end()));
    end = first;
    window = std::min<std::uint64_t>(window * 2, 1u << 16);
  }
  TrailPage page;
  page.more = found.size() > kPageSize;
  const std::size_t skip = page.more ? found.size() - kPageSize : 0;
  for (auto it = found.rbegin(); it != found.rend() - static_cast<std::ptrdiff_t>(skip); ++it)
    page.events.push_back(std::move(*it));
  return page;
}

std::string_view TypeLabel(const Page& page, std::string_view type) {
  static constexpr std::pair<std::string_view, std::pair<std::string_view, std::string_view>> kTypes[] = {
      {"access", {"Request", "Truy cập"}},       {"account", {"Account change", "Thay đổi tài khoản"}},
      {"backup", {"Backup", "Sao lưu"}},         {"delete", {"Deletion", "Xóa gói"}},
      {"duplicate", {"Handed in again", "Nộp trùng"}}, {"export", {"Export", "Xuất gói"}},
      {"fixity", {"Fixity check", "Kiểm tra toàn vẹn"}}, {"gc", {"Clean-up", "Dọn dữ liệu thừa"}},
      {"hold", {"Legal hold", "Phong tỏa"}},      {"ingest", {"Archived", "Lưu trữ"}},
      {"init", {"Archive created", "Khởi tạo kho"}}, {"job", {"Scheduled job", "Tác vụ định kỳ"}},
      {"lapse", {"Evidence lapsed", "Chứng cứ hết hiệu lực"}}, {"policy", {"Policy change", "Đổi chính sách"}},
      {"producer", {"Producer change", "Đổi đơn vị nộp"}}, {"refused", {"Refused", "Bị từ chối"}},
      {"release", {"Hold released", "Gỡ phong tỏa"}}, {"renew", {"Evidence renewed", "Gia hạn chứng cứ"}},
      {"repair", {"Repair", "Sửa dữ liệu"}},      {"restore", {"Restore", "Khôi phục"}},
      {"retention", {"Retention change", "Đổi thời hạn bảo quản"}}, {"seal", {"Sealed", "Niêm phong"}},
      {"trust", {"Trust list change", "Đổi danh sách tin cậy"}}, {"verify", {"Verified", "Kiểm tra xác thực"}},
      {"version", {"New version", "Phiên bản mới"}},
  };
  for (const auto& [name, labels] : kTypes)
    if (name == type) return page.T(labels.first, labels.second);
  return type;
}

// What the event was about, beyond its columns: "operation" for a request,
// else its other fields, briefly.
std::string WhatOf(const TrailEvent& e) {
  if (std::string op = StringField(e.fields, "operation"); !op.empty()) return op;
  std::string what;
  for (const auto& [key, value] : e.fields) {
    if (std::find(std::begin(kShownFields), std::end(kShownFields), key) != std::end(kShownFields)) continue;
    std::string text = value.is_string() ? std::string(value.get_string()) : json::serialize(value);
    what += (what.empty() ? "" : "; ") + std::string(key) + ": " + text;
    if (what.size() > 160) return what.substr(0, 157) + "...";
  }
  return what;
}

std::string OutcomeBadge(const Page& page, const TrailEvent& e) {
  const std::string outcome = StringField(e.fields, "outcome");
  if (outcome.empty()) return "";
  const bool ok = outcome == "Success";
  return "<span class=\"badge " + std::string(ok ? "ok" : "warn") + "\">" +
         (ok ? std::string(page.T("Success", "Thành công")) : Escape(outcome)) + "</span>";
}

std::string EventRow(const Page& page, const TrailEvent& e) {
  const std::string package = StringField(e.fields, "package");
  return "<tr><td class=\"num\">" + std::to_string(e.sequence) + "</td><td>" +
         (e.time ? page.DateTime(*e.time) : std::string()) + "</td><td>" +
         Escape(TypeLabel(page, StringField(e.fields, "event"))) + "</td><td>" + Escape(WhoOf(e.fields)) +
         "</td><td>" + Escape(WhatOf(e)) + "</td><td>" + (package.empty() ? "" : PackageLink(package)) + "</td><td>" +
         OutcomeBadge(page, e) + "</td></tr>\n<tr class=\"raw\"><td></td><td colspan=\"6\"><details><summary>" +
         std::string(page.T("As recorded (JSON)", "Bản ghi gốc (JSON)")) + "</summary><pre class=\"id\">" +
         Escape(e.json) + "</pre></details></td></tr>\n";
}

std::string FilterQuery(const TrailFilter& f) {
  std::string q;
  const std::pair<std::string_view, const std::string*> fields[] = {
      {"type", &f.type}, {"account", &f.account}, {"package", &f.package}, {"from", &f.from_text}, {"to", &f.to_text}};
  for (const auto& [name, value] : fields)
    if (!value->empty()) q += "&" + std::string(name) + "=" + UrlEncode(*value);
  return q;
}

std::string FilterForm(const Page& page, const TrailFilter& f) {
  auto input = [&](std::string_view name, std::string_view label, const std::string& value, std::string_view extra) {
    return "<div><label for=\"" + std::string(name) + "\">" + std::string(label) + "</label><input id=\"" +
           std::string(name) + "\" name=\"" + std::string(name) + "\" value=\"" + Escape(value) + "\"" +
           std::string(extra) + "></div>";
  };
  const std::string date_hint = std::string(" placeholder=\"") + std::string(page.T("yyyy-mm-dd", "dd/mm/yyyy")) + "\"";
  std::string types = "<datalist id=\"event-types\">";
  for (std::string_view t : {"access", "ingest", "refused", "duplicate", "seal", "renew", "verify", "export", "delete",
                             "hold", "release", "retention", "account", "trust", "policy", "fixity"})
    types += "<option value=\"" + std::string(t) + "\">" + Escape(TypeLabel(page, t)) + "</option>";
  types += "</datalist>";
  return "<form class=\"card no-print\" method=\"get\" action=\"/audit-trail\"><div class=\"grid\">" +
         input("type", page.T("Event type", "Loại sự kiện"), f.type, " list=\"event-types\"") + types +
         input("account", page.T("Account", "Tài khoản"), f.account, "") +
         input("package", page.T("Package id (or its start)", "Mã gói (hoặc phần đầu)"), f.package, "") +
         input("from", page.T("From", "Từ ngày"), f.from_text, date_hint) +
         input("to", page.T("To", "Đến ngày"), f.to_text, date_hint) + "</div><p><button type=\"submit\">" +
         std::string(page.T("Show", "Lọc")) + "</button> <a href=\"/audit-trail\">" +
         std::string(page.T("Clear the filters", "Bỏ lọc")) + "</a></p></form>\n";
}

service::HttpResponse AuditTrail(Page& page) {
  const std::string_view title = page.T("Audit trail", "Nhật ký kiểm toán");
  auto filter = ReadFilter(page);
  if (!filter.ok())
    return HtmlPage(page, title,
                    Notice("error", std::string(page.T("A date could not be read: write it as dd/mm/yyyy (or "
                                                       "yyyy-mm-dd). ",
                                                       "Không đọc được ngày: hãy viết theo dạng dd/mm/yyyy (hoặc "
                                                       "yyyy-mm-dd). ")) +
                                        Escape(filter.status().message())) +
                        FilterForm(page, TrailFilter{}),
                    400);
  TrailReader reader(page.app.archive);
  auto found = FindPage(reader, filter.value());
  if (!found.ok()) return ErrorPage(page, 500, found.status().message());
  std::string body = FilterForm(page, filter.value());
  for (const std::string& gap : reader.unreadable())
    body += Notice("warn", std::string(page.T("Part of the trail cannot be read: ", "Một phần nhật ký không đọc được: ")) +
                               Escape(gap));
  if (found.value().events.empty())
    return HtmlPage(page, title, body + "<p>" + std::string(page.T("No event matches.", "Không có sự kiện nào phù hợp.")) + "</p>");
  body += "<div class=\"table-wrap\"><table class=\"trail\"><thead><tr><th scope=\"col\" class=\"num\">#</th>";
  for (std::string_view h : {page.T("Time", "Thời gian"), page.T("Event", "Sự kiện"), page.T("Who", "Người thực hiện"),
                             page.T("What", "Nội dung"), page.T("Package", "Gói lưu trữ"), page.T("Outcome", "Kết quả")})
    body += "<th scope=\"col\">" + std::string(h) + "</th>";
  body += "</tr></thead><tbody>\n";
  for (const TrailEvent& e : found.value().events) body += EventRow(page, e);
  body += "</tbody></table></div>\n<nav class=\"pager\" aria-label=\"" + std::string(page.T("Pages", "Trang")) + "\">";
  if (filter.value().before) {
    const std::string query = FilterQuery(filter.value());
    body += "<a href=\"/audit-trail" + (query.empty() ? "" : "?" + query.substr(1)) + "\">" +
            std::string(page.T("Newest", "Mới nhất")) + "</a>";
  }
  if (found.value().more)
    body += "<a rel=\"next\" href=\"/audit-trail?before=" + std::to_string(found.value().events.back().sequence) +
            FilterQuery(filter.value()) + "\">" + std::string(page.T("Older events", "Sự kiện cũ hơn")) + "</a>";
  body += "</nav>";
  return HtmlPage(page, title, body);
}

}  // namespace

Result<std::optional<TimePoint>> ParseLocalDay(const Page& page, const std::string& text, bool day_after) {
  if (text.empty()) return std::optional<TimePoint>();
  auto day = ParseDate(text);
  if (!day.ok()) return day.status();
  const TimePoint start = TimePoint(day.value() + std::chrono::days(day_after ? 1 : 0)) - page.app.options.utc_offset;
  return std::optional<TimePoint>(start);
}

void AddAuditTrailPage(Routes& routes) {
  routes.Add({"GET", "/audit-trail", false, kAuditor | kAdmin, "web audit trail", AuditTrail});
}

}  // namespace preserve::web
