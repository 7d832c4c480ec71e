#include "preserve/web/web_app.h"

#include <exception>
#include <iostream>

#include "assets.h"
#include "page.h"
#include "preserve/archive/accounts.h"
#include "session_cookies.h"

namespace preserve::web {

namespace {

// The language: the cookie the switch sets, else the browser's first choice
// between Vietnamese and English, else Vietnamese.
Lang ChooseLanguage(const service::HttpRequest& request, const Fields& cookies) {
  const std::string chosen = cookies.Get(kLangCookie);
  if (chosen == "en") return Lang::kEn;
  if (chosen == "vi") return Lang::kVi;
  const std::string* accept = request.Header("accept-language");
  if (accept == nullptr) return Lang::kVi;
  // The first of vi/en in the list (browsers list by preference; a q of 0 is a refusal, rare enough to ignore).
  const std::size_t vi = accept->find("vi");
  const std::size_t en = accept->find("en");
  return en != std::string::npos && (vi == std::string::npos || en < vi) ? Lang::kEn : Lang::kVi;
}

// What the access trail says of an answer.
std::string OutcomeOf(unsigned status) {
  if (status < 400) return "Success";
  if (status == 401) return "RequesterError signInRequired";
  if (status == 403) return "RequesterError noPermission";
  if (status == 404) return "RequesterError notFound";
  if (status < 500) return "RequesterError";
  return "ResponderError";
}

// Headers on every answer: no framing, no sniffing, no referrer leaving the
// site, nothing but our own scripts and styles, pages never cached. The
// referrer policy is same-origin, not no-referrer: under no-referrer Chromium
// sends "Origin: null" with every form POST, which PostIsOurs refuses.
void AddSecurityHeaders(service::HttpResponse& r, bool tls) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                         "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "same-origin");
  if (tls) r.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
  bool cache_set = false;
  for (const auto& [name, value] : r.headers) cache_set |= name == "Cache-Control";
  if (!cache_set) r.headers.emplace_back("Cache-Control", "no-store");
}

// Whether a POST carries the session's CSRF token (a form field, or the
// X-CSRF-Token header of the page's script), and comes from this site when
// the browser says where it comes from.
bool PostIsOurs(const Page& page) {
  if (const std::string* origin = page.request.Header("origin")) {
    const std::string* host = page.request.Header("host");
    const std::string expected = std::string(page.request.tls ? "https://" : "http://") + (host ? *host : "");
    if (*origin != expected) return false;
  }
  std::string token = page.form.Get("csrf");
  if (token.empty())
    for (const FormPart& part : page.parts)
      if (part.name == "csrf" && !part.file_name) token = part.data;
  if (token.empty())
    if (const std::string* header = page.request.Header("x-csrf-token")) token = *header;
  return page.session && !token.empty() && ConstantTimeEquals(token, page.session->csrf);
}

// The request's session, with the account as it is now: one disabled,
// removed or given another role since sign-in is seen at once.
std::optional<Session> SessionOf(AppState& app, const service::HttpRequest& request, const Fields& cookies) {
  auto s = app.sessions.Find(cookies.Get(SessionCookieName(request.tls)));
  if (!s) return std::nullopt;
  auto account = archive::Accounts(app.archive).Get(s->account);
  if (!account.ok() || account.value().disabled) {
    app.sessions.End(s->id);
    return std::nullopt;
  }
  s->role = account.value().role;
  return s;
}

}  // namespace

struct WebApp::Impl {
  AppState state;
  Routes routes;
};

WebApp::WebApp(archive::Archive& archive, const Clock& clock, std::mutex& writer, WebHooks hooks,
               WebAppOptions options)
    : impl_(new Impl{AppState{archive, clock, writer, std::move(hooks), options,
                              SessionStore(clock, options.session_idle, options.session_lifetime),
                              SignInGuard(clock, options.lockout_after, options.lockout_for)},
                     Routes{}}) {
  AddSignInPages(impl_->routes);
  AddOfficerPages(impl_->routes);
  AddAuditorPages(impl_->routes);
  AddAdminPages(impl_->routes);
}

WebApp::~WebApp() = default;

bool WebApp::Serves(std::string_view target) {
  const std::string_view path = TargetPath(target);
  return !(path.rfind("/pres/", 0) == 0 || path.rfind("/api/", 0) == 0 || path == "/health");
}

std::optional<service::HttpResponse> WebApp::Screen(const service::HttpRequest& head) {
  // Refused whatever the body: no such page, or one that needs a session the
  // request does not have, or a role it does not have. Handle answers these
  // without reading the body.
  const Route* route = impl_->routes.Find(head.method, TargetPath(head.target));
  if (route == nullptr) return Handle(head);
  if ((route->roles & kNoSession) != 0) return std::nullopt;
  const std::string* cookie_header = head.Header("cookie");
  const std::optional<Session> session = SessionOf(impl_->state, head, ParseCookies(cookie_header ? *cookie_header : ""));
  if (!session || (route->roles & MaskOf(session->role)) == 0) return Handle(head);
  return std::nullopt;
}

service::HttpResponse WebApp::Handle(const service::HttpRequest& request) {
  AppState& app = impl_->state;
  const std::string path(TargetPath(request.target));
  if (path.rfind("/static/", 0) == 0 && (request.method == "GET" || request.method == "HEAD")) {
    service::HttpResponse r = ServeAsset(path, TargetQuery(request.target).Get("v"));
    AddSecurityHeaders(r, request.tls);
    return r;
  }

  const std::string* cookie_header = request.Header("cookie");
  const Fields cookies = ParseCookies(cookie_header ? *cookie_header : "");
  Page page{.request = request, .app = app, .path = path, .query = TargetQuery(request.target), .form = {},
            .parts = {}, .lang = Lang::kVi, .session = std::nullopt, .package_id = {}};
  page.lang = ChooseLanguage(request, cookies);
  page.session = SessionOf(app, request, cookies);

  service::HttpResponse response;
  const Route* route = impl_->routes.Find(request.method, path);
  std::string route_name = "web " + path;
  try {
    if (route == nullptr) {
      response = ErrorPage(page, impl_->routes.Knows(path) ? 405 : 404, page.Text("common.no_such_page"));
    } else {
      route_name = route->name;
      if (request.method == "POST") {
        const std::string* type = request.Header("content-type");
        if (type && type->rfind("multipart/form-data", 0) == 0) {
          auto parts = ParseMultipart(*type, request.body);
          if (parts.ok()) page.parts = std::move(parts).value();
        } else {
          page.form = ParseUrlEncoded(request.body);
        }
      }
      if ((route->roles & kNoSession) != 0) {
        response = route->handler(page);  // sign-in, sign-out, language: they check what they need
      } else if (!page.session) {
        // Signed out (or the session ended): sign in, then come back to a page that was asked for.
        response = Redirect("/signin" + (request.method == "GET" ? "?next=" + UrlEncode(request.target) : std::string()));
      } else if ((route->roles & MaskOf(page.session->role)) == 0) {
        response = ErrorPage(page, 403, page.Text("common.role_may_not"));
      } else if (request.method == "POST" && !PostIsOurs(page)) {
        response = ErrorPage(page, 403, page.Text("common.form_not_ours"));
      } else {
        response = route->handler(page);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "preserve serve: web " << path << ": " << e.what() << std::endl;
    response = ErrorPage(page, 500, page.Text("common.internal_error"));
  }

  // Every request of a signed-in account is in the access trail (sign-in
  // attempts record themselves, with the name tried).
  if (page.session && route_name != "web sign-in") {
    Status recorded = app.hooks.record_access(
        {page.session->account, route_name, page.package_id, OutcomeOf(response.status), request.remote_address});
    if (!recorded.ok()) {
      std::cerr << "preserve serve: the access trail: " << recorded.message() << std::endl;
      response = ErrorPage(page, 500, page.Text("common.trail_not_written"));
    }
  }
  AddSecurityHeaders(response, request.tls);
  return response;
}

}  // namespace preserve::web
