// What every page of the web application is made with: the request being
// answered (Page), the routes table (who may open what), and the answers
// (an HTML page in the common layout, a redirect, a download, an error page).
//
// Pages are rendered from templates (view.h: web/templates/, escaping by
// default), and every text a person reads comes from the catalogues
// (web/i18n/vi.txt, en.txt) by key: Page::Text in C++, {{t:key}} in templates.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "forms.h"
#include "preserve/archive/accounts.h"
#include "preserve/service/http_message.h"
#include "preserve/web/web_app.h"
#include "sessions.h"

namespace preserve::web {

enum class Lang { kVi, kEn };

// What the whole application shares: the archive and the service's hooks.
struct AppState {
  archive::Archive& archive;
  const Clock& clock;
  std::mutex& writer;
  WebHooks hooks;
  WebAppOptions options;
  SessionStore sessions;
  SignInGuard sign_in_guard;
};

// Which roles may open a route (a bit per role).
enum RoleMask : unsigned {
  kOfficer = 1u << 0,
  kAuditor = 1u << 1,
  kAdmin = 1u << 2,
  kAnyRole = kOfficer | kAuditor | kAdmin,
  kNoSession = 1u << 3,  // the route is open without signing in (sign-in page, assets)
};
unsigned MaskOf(archive::Role role);

// One request being answered.
struct Page {
  const service::HttpRequest& request;
  AppState& app;
  std::string path;  // "/package/0190..." (the target without its query)
  Fields query;      // the target's query string
  Fields form;       // an application/x-www-form-urlencoded POST body
  std::vector<FormPart> parts;  // a multipart/form-data POST body (files)
  Lang lang = Lang::kVi;
  std::optional<Session> session;  // set on every route but kNoSession ones
  // Set by the handler when the request names a package: the access event says which.
  std::string package_id;

  // The catalogue's text of `key` in the page's language (view.h), not
  // escaped; with `values`, its {name} placeholders filled from them.
  std::string Text(std::string_view key) const;
  std::string Text(std::string_view key, const boost::json::object& values) const;
  // "1.234.567" (vi) or "1,234,567" (en).
  std::string Number(std::uint64_t n) const;
  std::string_view lang_code() const { return lang == Lang::kEn ? "en" : "vi"; }
  bool Is(archive::Role role) const { return session && session->role == role; }
  // "05/12/2026" (vi) or "2026-12-05" (en), in the configured offset from UTC.
  std::string Date(TimePoint t) const;
  // "05/12/2026 14:30" (vi) or "2026-12-05 14:30" (en).
  std::string DateTime(TimePoint t) const;
  // <input type="hidden" name="csrf" value="...">: every POST form carries it.
  std::string CsrfField() const;
};

using PageHandler = std::function<service::HttpResponse(Page&)>;

struct Route {
  std::string method;  // "GET" or "POST" (a GET route also answers HEAD)
  std::string path;    // "/search"; with `prefix`, "/package/" matches "/package/ID/report" too
  bool prefix = false;
  unsigned roles = kAnyRole;
  std::string name;  // for the access trail: "web search"
  PageHandler handler;
};

// The application's routes, added by each part of it (pages_*.cc).
class Routes {
 public:
  void Add(Route route) { routes_.push_back(std::move(route)); }
  // The route for a method and path: an exact path first, then the longest prefix.
  const Route* Find(std::string_view method, std::string_view path) const;
  // Whether any route, of any method, has that path.
  bool Knows(std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

// Each part of the application adds its routes.
void AddSignInPages(Routes& routes);   // sign-in, sign-out, language, home
void AddOfficerPages(Routes& routes);  // hand in, search, package pages
void AddAuditorPages(Routes& routes);  // reports, verification of an exported zip, the audit trail
void AddAdminPages(Routes& routes);    // dashboard, accounts, policy

// The administrator's panel on the package page (admin_pages.cc): retention,
// holds and deletion, each a form posting to /admin/package/<id>/...
std::string PackageAdminPanel(Page& page, const std::string& package_id);

// ---- Answers ----

// HTML text or attribute value: & < > " ' escaped.
std::string Escape(std::string_view text);
// The page in the common layout: header with the role's menu, the language
// switch and sign-out, `title` as <h1>, then `body` (HTML). `status` 200 by default.
service::HttpResponse HtmlPage(const Page& page, std::string_view title, std::string_view body, unsigned status = 200);
// 303 See Other to `location` (a path on this site).
service::HttpResponse Redirect(std::string_view location);
// A file to download (Content-Disposition: attachment) or, with `inline_view`, to view in the browser.
service::HttpResponse Download(std::string content_type, std::string_view file_name, std::string body,
                               bool inline_view = false);
// An error page in the layout: 400 bad request, 403, 404, 500... with a message for people.
service::HttpResponse ErrorPage(const Page& page, unsigned status, std::string_view message);

// ---- Pieces of pages ----

// <a href="/package/ID">ID</a>
std::string PackageLink(std::string_view id);
// A message box: kind "ok", "warn" or "error".
std::string Notice(std::string_view kind, std::string_view html);

}  // namespace preserve::web
