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
#include "view.h"

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

// Event types with a label in the catalogues (trail.type.<name>); others show as they are.
constexpr std::string_view kTypes[] = {"access",   "account", "backup",    "delete",   "duplicate", "export",  "fixity",
                                       "gc",       "hold",    "ingest",    "init",     "job",       "lapse",   "policy",
                                       "producer", "refused", "release",   "renew",    "repair",    "restore", "retention",
                                       "seal",     "trust",   "verify",    "version"};
// The types offered in the filter's list, most used first.
constexpr std::string_view kOffered[] = {"access", "ingest", "refused", "duplicate", "seal",    "renew",
                                         "verify", "export", "delete",  "hold",      "release", "retention",
                                         "account", "trust", "policy",  "fixity"};

std::string TypeLabel(const Page& page, std::string_view type) {
  if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes)) return std::string(type);
  const std::string key = "trail.type." + std::string(type);
  return page.Text(key);
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

json::object EventData(const Page& page, const TrailEvent& e) {
  const std::string package = StringField(e.fields, "package");
  const std::string outcome = StringField(e.fields, "outcome");
  const bool ok = outcome == "Success";
  return {{"sequence", e.sequence},
          {"time", e.time ? page.DateTime(*e.time) : std::string()},
          {"type", TypeLabel(page, StringField(e.fields, "event"))},
          {"who", WhoOf(e.fields)},
          {"what", WhatOf(e)},
          {"package_link", package.empty() ? std::string() : PackageLink(package)},
          {"outcome", outcome},
          {"outcome_ok", ok},
          {"outcome_class", ok ? "ok" : "warn"},
          {"json", e.json}};
}

std::string FilterQuery(const TrailFilter& f) {
  std::string q;
  const std::pair<std::string_view, const std::string*> fields[] = {
      {"type", &f.type}, {"account", &f.account}, {"package", &f.package}, {"from", &f.from_text}, {"to", &f.to_text}};
  for (const auto& [name, value] : fields)
    if (!value->empty()) q += "&" + std::string(name) + "=" + UrlEncode(*value);
  return q;
}

// The data of trail_filter.html: the filter as typed, and the offered event types.
json::object FilterData(const Page& page, const TrailFilter& f) {
  json::array types;
  for (std::string_view t : kOffered) types.push_back(json::object{{"value", t}, {"label", TypeLabel(page, t)}});
  return {{"filter", json::object{{"type", f.type},
                                  {"account", f.account},
                                  {"package", f.package},
                                  {"from", f.from_text},
                                  {"to", f.to_text}}},
          {"types", std::move(types)}};
}

service::HttpResponse AuditTrail(Page& page) {
  const std::string title = page.Text("trail.title");
  auto filter = ReadFilter(page);
  if (!filter.ok()) {
    json::object data = FilterData(page, TrailFilter{});
    data["bad_date"] = json::object{{"detail", filter.status().message()}};
    return HtmlPage(page, title, Render(page, "trail_page", data), 400);
  }
  TrailReader reader(page.app.archive);
  auto found = FindPage(reader, filter.value());
  if (!found.ok()) return ErrorPage(page, 500, found.status().message());
  json::object data = FilterData(page, filter.value());
  json::array unreadable;
  for (const std::string& gap : reader.unreadable()) unreadable.push_back(json::object{{"gap", gap}});
  data["unreadable"] = std::move(unreadable);
  json::array events;
  for (const TrailEvent& e : found.value().events) events.push_back(EventData(page, e));
  data["has_events"] = !events.empty();
  data["events"] = std::move(events);
  const std::string query = FilterQuery(filter.value());
  if (filter.value().before) data["newest_link"] = "/audit-trail" + (query.empty() ? "" : "?" + query.substr(1));
  if (found.value().more)
    data["older_link"] = "/audit-trail?before=" + std::to_string(found.value().events.back().sequence) + query;
  return HtmlPage(page, title, Render(page, "trail_page", data));
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
