// The administrator's accounts pages: the list of accounts with the form to
// add one (/accounts), and one account's page (/accounts/<name>) with its
// forms: disable, enable, set a password, issue a new API token. Each change
// goes through archive::Accounts under the writer mutex and is in the audit
// trail as the signed-in administrator's. A token is shown once, on the page
// that answers the form, never in an address.
#include "admin_pages.h"
#include "view.h"
#include "preserve/archive/accounts.h"
#include "words.h"

namespace preserve::web {

namespace {

constexpr std::size_t kMinPassword = 12;   // as Accounts::SetPassword (code points)
constexpr std::size_t kMaxPassword = 1024;  // as Accounts::SetPassword (bytes)

std::string AccountPath(const std::string& name) { return "/accounts/" + UrlEncode(name); }

// Why a password is refused, in plain words; "" when it may be set.
std::string PasswordRefusal(const Page& page, const std::string& password) {
  if (CodePoints(password) < kMinPassword) return page.Text("accounts.password_short");
  if (password.size() > kMaxPassword) return page.Text("accounts.password_long");
  return "";
}

// A notice of `kind` whose text (from the catalogue or the archive) is not HTML.
std::string TextNotice(std::string_view kind, std::string_view text) { return Notice(kind, Escape(text)); }

// ---- The list ----

// The list with the add form; `notice` (HTML) above them when a form was refused.
service::HttpResponse AccountsView(Page& page, const std::string& notice, unsigned status, const std::string& name = "",
                                   const std::string& role = "officer") {
  auto accounts = archive::Accounts(page.app.archive).List();
  if (!accounts.ok()) return ErrorPage(page, 500, accounts.status().message());
  boost::json::array rows;
  for (const archive::Account& a : accounts.value())
    rows.push_back(boost::json::object{{"url", AccountPath(a.name)},
                                       {"name", a.name},
                                       {"role", std::string(RoleLabel(page, a.role))},
                                       {"disabled", a.disabled},
                                       {"has_password", a.has_password},
                                       {"created", page.Date(a.created)},
                                       {"created_by", a.created_by},
                                       {"token_issued", page.DateTime(a.token_issued)}});
  boost::json::array roles;
  for (archive::Role r : {archive::Role::kOfficer, archive::Role::kAuditor, archive::Role::kAdmin}) {
    const std::string value(archive::RoleName(r));
    roles.push_back(boost::json::object{
        {"value", value}, {"selected", value == role}, {"label", std::string(RoleLabel(page, r))}});
  }
  const boost::json::object data{
      {"notice", notice}, {"accounts", std::move(rows)}, {"form_name", name}, {"roles", std::move(roles)}};
  return HtmlPage(page, page.Text("accounts.title"), Render(page, "accounts_list", data), status);
}

service::HttpResponse AccountsPage(Page& page) { return AccountsView(page, "", 200); }

// The page that shows a new token, once.
service::HttpResponse TokenShown(Page& page, const std::string& name, const std::string& token,
                                 const std::string& notice) {
  const boost::json::object data{{"notice", notice}, {"name", name}, {"token", token}, {"url", AccountPath(name)}};
  return HtmlPage(page, page.Text("accounts.token_title"), Render(page, "accounts_token", data));
}

service::HttpResponse AddAccount(Page& page) {
  const std::string name = page.form.Get("name");
  const std::string role_name = page.form.Get("role");
  const std::string password = page.form.Get("password");
  auto refuse = [&](const std::string& why, unsigned status) {
    return AccountsView(page, TextNotice("error", why), status, name, role_name);
  };
  const std::optional<archive::Role> role = archive::RoleFromName(role_name);
  if (!role) return refuse(page.Text("accounts.choose_role"), 400);
  // Checked before anything is made, so that a refused password leaves no account behind.
  if (!password.empty())
    if (std::string why = PasswordRefusal(page, password); !why.empty()) return refuse(why, 400);
  const std::string& actor = page.session->account;
  Result<std::string> token = Status::Internal("not run");
  Status password_set = Status::Ok();
  {
    std::lock_guard<std::mutex> writing(page.app.writer);
    archive::Accounts accounts(page.app.archive);
    token = accounts.Add(name, *role, actor);
    if (token.ok() && !password.empty()) password_set = accounts.SetPassword(name, password, actor);
  }
  if (!token.ok()) {
    switch (token.status().code()) {
      case StatusCode::kAlreadyExists: return refuse(page.Text("accounts.exists"), 409);
      case StatusCode::kInvalidArgument: return refuse(page.Text("accounts.name_invalid"), 400);
      default: return ErrorPage(page, 500, token.status().message());
    }
  }
  std::string done = TextNotice(
      "ok", page.Text("accounts.added", {{"name", name}, {"role", std::string(RoleLabel(page, *role))}}));
  if (!password_set.ok())
    done += TextNotice("error", page.Text("accounts.password_not_set", {{"why", password_set.message()}}));
  return TokenShown(page, name, token.value(), done);
}

// ---- One account ----

service::HttpResponse AccountView(Page& page, const std::string& name, const std::string& notice, unsigned status) {
  auto account = archive::Accounts(page.app.archive).Get(name);
  if (!account.ok()) {
    if (account.status().code() == StatusCode::kNotFound)
      return ErrorPage(page, 404, page.Text("accounts.no_account"));
    return ErrorPage(page, 500, account.status().message());
  }
  const archive::Account& a = account.value();
  const boost::json::object data{{"notice", notice},
                                 {"url", AccountPath(a.name)},
                                 {"role", std::string(RoleLabel(page, a.role))},
                                 {"disabled", a.disabled},
                                 {"has_password", a.has_password},
                                 {"created", page.DateTime(a.created)},
                                 {"created_by", a.created_by},
                                 {"token_issued", page.DateTime(a.token_issued)}};
  return HtmlPage(page, page.Text("accounts.account_title", {{"name", a.name}}),
                  Render(page, "accounts_account", data), status);
}

service::HttpResponse AccountPage(Page& page) {
  const std::vector<std::string> parts = PathParts(page.path, "/accounts/");
  if (parts.size() != 1) return ErrorPage(page, 404, page.Text("common.no_such_page"));
  return AccountView(page, parts[0], "", 200);
}

// A change made under the writer mutex, answered on the account's page;
// `done` is the catalogue key of what was done.
service::HttpResponse Changed(Page& page, const std::string& name, const Status& status, std::string_view done) {
  if (status.ok()) return AccountView(page, name, TextNotice("ok", page.Text(done)), 200);
  if (status.code() == StatusCode::kNotFound) return ErrorPage(page, 404, page.Text("accounts.no_account"));
  if (status.code() == StatusCode::kInvalidArgument)
    return AccountView(page, name, TextNotice("error", status.message()), 400);
  return ErrorPage(page, 500, status.message());
}

service::HttpResponse AccountAction(Page& page) {
  const std::vector<std::string> parts = PathParts(page.path, "/accounts/");
  if (parts.size() != 2) return ErrorPage(page, 404, page.Text("common.no_such_page"));
  const std::string& name = parts[0];
  const std::string& action = parts[1];
  const std::string& actor = page.session->account;
  archive::Accounts accounts(page.app.archive);
  if (action == "disable") {
    if (name == actor)
      return AccountView(page, name, TextNotice("error", page.Text("accounts.not_yourself")), 400);
    Status s;
    {
      std::lock_guard<std::mutex> writing(page.app.writer);
      s = accounts.Disable(name, actor);
    }
    if (s.ok()) page.app.sessions.EndAllOf(name);
    return Changed(page, name, s, "accounts.disabled_done");
  }
  if (action == "enable") {
    Status s;
    {
      std::lock_guard<std::mutex> writing(page.app.writer);
      s = accounts.Enable(name, actor);
    }
    return Changed(page, name, s, "accounts.enabled_done");
  }
  if (action == "password") {
    const std::string password = page.form.Get("password");
    if (std::string why = PasswordRefusal(page, password); !why.empty())
      return AccountView(page, name, TextNotice("error", why), 400);
    Status s;
    {
      std::lock_guard<std::mutex> writing(page.app.writer);
      s = accounts.SetPassword(name, password, actor);
    }
    if (s.ok()) page.app.sessions.EndAllOf(name);
    return Changed(page, name, s, "accounts.password_done");
  }
  if (action == "token") {
    Result<std::string> token = Status::Internal("not run");
    {
      std::lock_guard<std::mutex> writing(page.app.writer);
      token = accounts.NewToken(name, actor);
    }
    if (!token.ok()) return Changed(page, name, token.status(), "");
    return TokenShown(page, name, token.value(), TextNotice("ok", page.Text("accounts.token_done")));
  }
  return ErrorPage(page, 404, page.Text("common.no_such_page"));
}

}  // namespace

void AddAccountPages(Routes& routes) {
  routes.Add({"GET", "/accounts", false, kAdmin, "web accounts", AccountsPage});
  routes.Add({"POST", "/accounts/add", false, kAdmin, "web account add", AddAccount});
  routes.Add({"GET", "/accounts/", true, kAdmin, "web account", AccountPage});
  routes.Add({"POST", "/accounts/", true, kAdmin, "web account change", AccountAction});
}

}  // namespace preserve::web
