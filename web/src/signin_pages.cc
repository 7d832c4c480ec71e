// Sign-in, sign-out, the language switch and the home page.
#include "page.h"
#include "preserve/archive/accounts.h"
#include "session_cookies.h"
#include "view.h"

namespace preserve::web {

namespace {

// Where to go after signing in: a path on this site, never another site
// ("//evil.example" and "/\evil" are refused).
std::string SafeNext(const std::string& next) {
  if (next.empty() || next[0] != '/' || (next.size() > 1 && (next[1] == '/' || next[1] == '\\'))) return "/";
  for (char c : next)
    if (static_cast<unsigned char>(c) < 0x20) return "/";
  return next;
}

std::string HomeOf(archive::Role role) {
  switch (role) {
    case archive::Role::kAdmin: return "/dashboard";
    case archive::Role::kOfficer: return "/handin";
    case archive::Role::kAuditor: return "/search";
  }
  return "/search";
}

service::HttpResponse SignInForm(Page& page, std::string_view message, unsigned status,
                                 const std::string& name = "") {
  auto token = RandomToken();
  if (!token.ok()) return ErrorPage(page, 500, token.status().message());
  const std::string next = page.query.Get("next").empty() ? page.form.Get("next") : page.query.Get("next");
  const std::string body = Render(page, "signin", boost::json::object{{"message", message},
                                                                      {"token", token.value()},
                                                                      {"next", SafeNext(next)},
                                                                      {"name", name}});
  service::HttpResponse r = HtmlPage(page, page.Text("signin.title"), body, status);
  r.headers.emplace_back("Set-Cookie", SetCookie(kSignInCookie, token.value(), page.request.tls));
  return r;
}

service::HttpResponse SignInPage(Page& page) {
  if (page.session) return Redirect(HomeOf(page.session->role));
  return SignInForm(page, "", 200);
}

service::HttpResponse SignIn(Page& page) {
  AppState& app = page.app;
  const std::string name = page.form.Get("name");
  const std::string password = page.form.Get("password");
  auto record = [&](const std::string& outcome) {
    return app.hooks.record_access({name, "web sign-in", "", outcome, page.request.remote_address});
  };
  // Login CSRF: the form must be the one this browser was given.
  const std::string* cookie_header = page.request.Header("cookie");
  const std::string cookie = ParseCookies(cookie_header ? *cookie_header : "").Get(kSignInCookie);
  if (cookie.empty() || !ConstantTimeEquals(cookie, page.form.Get("signin"))) {
    return SignInForm(page, page.Text("signin.form_expired"), 403, name);
  }
  if (auto until = app.sign_in_guard.LockedUntil(name)) {
    if (Status s = record("RequesterError locked"); !s.ok()) return ErrorPage(page, 500, s.message());
    return SignInForm(page, page.Text("signin.locked_until", {{"until", page.DateTime(*until)}}), 429, name);
  }
  auto account = archive::Accounts(app.archive).AuthenticatePassword(name, password);
  if (!account.ok()) {
    if (account.status().code() != StatusCode::kNotFound) return ErrorPage(page, 500, account.status().message());
    const bool locked = app.sign_in_guard.Failed(name);
    if (Status s = record(locked ? "RequesterError locked" : "RequesterError signInFailed"); !s.ok()) return ErrorPage(page, 500, s.message());
    return SignInForm(page, page.Text(locked ? "signin.now_locked" : "signin.wrong"), 401, name);
  }
  app.sign_in_guard.Succeeded(name);
  auto session = app.sessions.Start(account.value().name, account.value().role);
  if (!session.ok()) return ErrorPage(page, 500, session.status().message());
  if (Status s = record("Success"); !s.ok()) return ErrorPage(page, 500, s.message());
  const std::string next = SafeNext(page.form.Get("next"));
  service::HttpResponse r = Redirect(next == "/" ? HomeOf(account.value().role) : next);
  r.headers.emplace_back("Set-Cookie",
                         SetCookie(SessionCookieName(page.request.tls), session.value().id, page.request.tls));
  r.headers.emplace_back("Set-Cookie", SetCookie(kSignInCookie, "", page.request.tls, std::chrono::seconds(0)));
  return r;
}

service::HttpResponse SignOut(Page& page) {
  // A sign-out needs the session's token too: another site must not sign people out.
  if (page.session && ConstantTimeEquals(page.form.Get("csrf"), page.session->csrf)) {
    page.app.sessions.End(page.session->id);
  }
  service::HttpResponse r = Redirect("/signin");
  r.headers.emplace_back("Set-Cookie",
                         SetCookie(SessionCookieName(page.request.tls), "", page.request.tls, std::chrono::seconds(0)));
  return r;
}

service::HttpResponse ChooseLanguage(Page& page) {
  const std::string to = page.query.Get("to") == "en" ? "en" : "vi";
  service::HttpResponse r = Redirect(SafeNext(page.query.Get("back")));
  // Not HttpOnly-sensitive, but kept so like the others; a year.
  r.headers.emplace_back("Set-Cookie", SetCookie(kLangCookie, to, page.request.tls, std::chrono::hours(24 * 365)));
  return r;
}

service::HttpResponse Home(Page& page) {
  return Redirect(page.session ? HomeOf(page.session->role) : "/signin");
}

}  // namespace

void AddSignInPages(Routes& routes) {
  routes.Add({"GET", "/signin", false, kNoSession, "web sign-in page", SignInPage});
  routes.Add({"POST", "/signin", false, kNoSession, "web sign-in", SignIn});
  routes.Add({"POST", "/signout", false, kNoSession, "web sign-out", SignOut});
  routes.Add({"GET", "/lang", false, kNoSession, "web language", ChooseLanguage});
  routes.Add({"GET", "/", false, kNoSession, "web home", Home});
}

}  // namespace preserve::web
