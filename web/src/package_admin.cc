// The administrator's panel of a package: its retention, its holds and its
// deletion, each a form posting to /admin/package/<id>/... The panel is shown
// on the package page and on /admin/package/<id>, which also answers every
// form (with what was done, or why it was refused). The archive decides what
// is allowed (Lifecycle::Delete refuses before the retention date and under
// a hold, as for the CLI and DeletePO); these pages say it in plain words.
#include <charconv>

#include "admin_pages.h"
#include "view.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/lifecycle.h"

namespace preserve::web {

namespace {

constexpr std::string_view kPrefix = "/admin/package/";

std::string AdminPath(const std::string& id) { return std::string(kPrefix) + UrlEncode(id); }

// Why Delete refused, from what the package's lifecycle says: every hold and
// a retention not yet passed; the archive's own words when neither explains it.
std::string WhyNotDeleted(const Page& page, const archive::PackageLifecycle& l, const std::string& archive_says) {
  boost::json::array holds;
  for (const archive::Hold& h : l.holds)
    holds.push_back(boost::json::object{{"number", std::to_string(h.number)}, {"reason", h.reason}});
  boost::json::object data{{"held", !l.holds.empty()}, {"holds", std::move(holds)}};
  const bool permanent = l.retention.permanent || !l.retain_until;
  const bool running = !permanent && page.app.clock.Now() < *l.retain_until;
  data["permanent"] = permanent;
  data["until"] = running ? page.Date(*l.retain_until) : std::string();
  data["archive_says"] = l.holds.empty() && !permanent && !running ? archive_says : std::string();
  return Render(page, "admin_not_deleted", data);
}

// A notice of `kind` whose text (from the catalogue or the archive) is not HTML.
std::string TextNotice(std::string_view kind, std::string_view text) { return Notice(kind, Escape(text)); }

}  // namespace

std::string PackageAdminPanel(Page& page, const std::string& package_id) {
  auto lifecycle = archive::Lifecycle(page.app.archive).Of(package_id);
  if (!lifecycle.ok())
    return Render(page, "admin_package_panel", {{"error", std::string(lifecycle.status().message())}});
  const archive::PackageLifecycle& l = lifecycle.value();
  const bool permanent = l.retention.permanent || !l.retain_until;
  boost::json::object data{{"error", ""},
                           {"base", AdminPath(l.package_id)},
                           {"permanent", permanent},
                           {"permanent_choice", l.retention.permanent},
                           {"years_value", l.retention.permanent ? std::string() : std::to_string(l.retention.years)},
                           {"has_holds", !l.holds.empty()}};
  if (!permanent) {
    data["years"] = std::to_string(l.retention.years);
    data["until"] = page.Date(*l.retain_until);
    data["passed"] = page.app.clock.Now() >= *l.retain_until;
  }
  boost::json::array holds;
  for (const archive::Hold& h : l.holds)
    holds.push_back(boost::json::object{{"number", std::to_string(h.number)},
                                        {"placed_at", page.DateTime(h.placed_at)},
                                        {"placed_by", h.placed_by},
                                        {"reason", h.reason}});
  data["holds"] = std::move(holds);
  if (l.tombstone)
    data["tombstone"] = boost::json::object{{"date", page.DateTime(l.tombstone->deleted_at)},
                                            {"by", l.tombstone->deleted_by},
                                            {"reason", l.tombstone->reason}};
  return Render(page, "admin_package_panel", data);
}

namespace {

// The package's own page on this side: a link to it, `notice` (what a form
// did), and the panel.
service::HttpResponse AdminView(Page& page, const std::string& id, const std::string& notice, unsigned status) {
  page.package_id = id;
  const boost::json::object data{{"notice", notice}, {"link", PackageLink(id)}, {"panel", PackageAdminPanel(page, id)}};
  return HtmlPage(page, page.Text("admin.title"), Render(page, "admin_package_page", data), status);
}

// The whole id of the package a path names; a prefix is taken to show it,
// never to change it (as DeletePO).
Result<std::string> NamedPackage(Page& page, const std::string& named, bool exact) {
  PRESERVE_ASSIGN_OR_RETURN(std::string id, archive::Catalogue(page.app.archive).ResolvePackageId(named));
  if (exact && id != named) return Status::InvalidArgument("the whole id is needed: " + id);
  return id;
}

service::HttpResponse NoPackage(Page& page, const Status& s) {
  if (s.code() == StatusCode::kNotFound)
    return ErrorPage(page, 404, page.Text("admin.no_package"));
  if (s.code() == StatusCode::kInvalidArgument)
    return ErrorPage(page, 400, page.Text("admin.not_whole_id"));
  return ErrorPage(page, 500, s.message());
}

service::HttpResponse AdminPage(Page& page) {
  const std::vector<std::string> parts = PathParts(page.path, kPrefix);
  if (parts.size() != 1) return ErrorPage(page, 404, page.Text("common.no_such_page"));
  auto id = NamedPackage(page, parts[0], false);
  if (!id.ok()) return NoPackage(page, id.status());
  return AdminView(page, id.value(), "", 200);
}

// A change that the archive refused as not allowed now (kFailedPrecondition,
// kInvalidArgument) is the person's to correct; anything else is the store's.
service::HttpResponse Answer(Page& page, const std::string& id, const Status& s, const std::string& done) {
  if (s.ok()) return AdminView(page, id, TextNotice("ok", done), 200);
  if (s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kInvalidArgument ||
      s.code() == StatusCode::kNotFound)
    return AdminView(page, id,
                     TextNotice("error", page.Text("admin.refused", {{"why", s.message()}})),
                     s.code() == StatusCode::kNotFound ? 404 : 409);
  return ErrorPage(page, 500, s.message());
}

service::HttpResponse SetRetention(Page& page, const std::string& id, const std::string& reason) {
  archive::Retention retention;
  retention.permanent = page.form.Get("retention") != "years";
  if (!retention.permanent) {
    const std::string years = page.form.Get("years");
    const auto [end, error] = std::from_chars(years.data(), years.data() + years.size(), retention.years);
    if (error != std::errc() || end != years.data() + years.size() || retention.years < 1 || retention.years > 1000)
      return AdminView(page, id,
                       TextNotice("error", page.Text("admin.years_invalid")),
                       400);
  }
  Status s;
  {
    std::lock_guard<std::mutex> writing(page.app.writer);
    s = archive::Lifecycle(page.app.archive).SetRetention(id, retention, reason, page.session->account);
  }
  return Answer(page, id, s, page.Text("admin.retention_done"));
}

service::HttpResponse AddHold(Page& page, const std::string& id, const std::string& reason) {
  Result<archive::Hold> hold = Status::Internal("not run");
  {
    std::lock_guard<std::mutex> writing(page.app.writer);
    hold = archive::Lifecycle(page.app.archive).AddHold(id, reason, page.session->account);
  }
  if (!hold.ok()) return Answer(page, id, hold.status(), "");
  return Answer(page, id, Status::Ok(),
                page.Text("admin.hold_placed_done", {{"number", std::to_string(hold->number)}}));
}

service::HttpResponse RemoveHold(Page& page, const std::string& id, const std::string& number,
                                 const std::string& reason) {
  std::uint32_t n = 0;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (error != std::errc() || end != number.data() + number.size() || n == 0)
    return ErrorPage(page, 404, page.Text("admin.no_hold_number"));
  Result<archive::Hold> lifted = Status::Internal("not run");
  {
    std::lock_guard<std::mutex> writing(page.app.writer);
    lifted = archive::Lifecycle(page.app.archive).RemoveHold(id, n, reason, page.session->account);
  }
  if (!lifted.ok()) return Answer(page, id, lifted.status(), "");
  return Answer(page, id, Status::Ok(),
                page.Text("admin.hold_lifted_done", {{"number", std::to_string(lifted->number)}}));
}

service::HttpResponse Delete(Page& page, const std::string& id, const std::string& reason) {
  if (page.form.Get("confirm") != "yes")
    return AdminView(page, id,
                     TextNotice("error", page.Text("admin.confirm_needed")),
                     400);
  Result<archive::DeletionOutcome> deleted = Status::Internal("not run");
  {
    std::lock_guard<std::mutex> writing(page.app.writer);
    deleted = archive::Lifecycle(page.app.archive).Delete(id, reason, page.session->account);
  }
  if (deleted.ok())
    return Answer(page, id, Status::Ok(),
                  page.Text("admin.deleted_done"));
  if (deleted.status().code() != StatusCode::kFailedPrecondition) return Answer(page, id, deleted.status(), "");
  auto lifecycle = archive::Lifecycle(page.app.archive).Of(id);
  if (!lifecycle.ok()) return Answer(page, id, lifecycle.status(), "");
  return AdminView(page, id, Notice("error", WhyNotDeleted(page, lifecycle.value(), deleted.status().message())), 409);
}

service::HttpResponse AdminAction(Page& page) {
  const std::vector<std::string> parts = PathParts(page.path, kPrefix);
  if (parts.empty()) return ErrorPage(page, 404, page.Text("common.no_such_page"));
  auto id = NamedPackage(page, parts[0], true);
  if (!id.ok()) return NoPackage(page, id.status());
  page.package_id = id.value();
  const std::string reason = page.form.Get("reason");
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos)
    return AdminView(page, id.value(),
                     TextNotice("error", page.Text("admin.reason_needed")),
                     400);
  if (parts.size() == 2 && parts[1] == "retention") return SetRetention(page, id.value(), reason);
  if (parts.size() == 2 && parts[1] == "hold") return AddHold(page, id.value(), reason);
  if (parts.size() == 4 && parts[1] == "hold" && parts[3] == "remove")
    return RemoveHold(page, id.value(), parts[2], reason);
  if (parts.size() == 2 && parts[1] == "delete") return Delete(page, id.value(), reason);
  return ErrorPage(page, 404, page.Text("common.no_such_page"));
}

}  // namespace

void AddPackageAdminPages(Routes& routes) {
  routes.Add({"GET", std::string(kPrefix), true, kAdmin, "web package administration", AdminPage});
  routes.Add({"POST", std::string(kPrefix), true, kAdmin, "web package administration change", AdminAction});
}

}  // namespace preserve::web
