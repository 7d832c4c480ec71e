// The administrator's accounts pages: the list of accounts with the form to
// add one (/accounts), and one account's page (/accounts/<name>) with its
// forms: disable, enable, set a password, issue a new API token. Each change
// goes through archive::Accounts under the writer mutex and is in the audit
// trail as the signed-in administrator's. A token is shown once, on the page
// that answers the form, never in an address.
#include "admin_pages.h"
#include "preserve/archive/accounts.h"
#include "words.h"

namespace preserve::web {

namespace {

constexpr std::size_t kMinPassword = 12;   // as Accounts::SetPassword (code points)
constexpr std::size_t kMaxPassword = 1024;  // as Accounts::SetPassword (bytes)

std::string AccountPath(const std::string& name) { return "/accounts/" + UrlEncode(name); }

// Why a password is refused, in plain words; "" when it may be set.
std::string PasswordRefusal(const Page& page, const std::string& password) {
  if (CodePoints(password) < kMinPassword)
    return Say(page, "The password is too short: it needs at least 12 characters. A few words are easy to remember.",
               "Mật khẩu quá ngắn: cần ít nhất 12 ký tự. Một cụm vài từ sẽ dễ nhớ.");
  if (password.size() > kMaxPassword)
    return Say(page, "The password is too long: at most 1024 bytes.", "Mật khẩu quá dài: tối đa 1024 byte.");
  return "";
}

std::string PasswordInput(const Page& page, const std::string& id, bool required) {
  return "<p><label for=\"" + id + "\">" +
         (required ? Say(page, "New password", "Mật khẩu mới")
                   : Say(page, "Password (optional)", "Mật khẩu (không bắt buộc)")) +
         "</label><input id=\"" + id + "\" name=\"password\" type=\"password\" autocomplete=\"new-password\"" +
         (required ? " required" : "") + "><span class=\"hint\">" +
         Say(page, "At least 12 characters.", "Ít nhất 12 ký tự.") + "</span></p>";
}

// ---- The list ----

std::string AccountsTable(const Page& page, const std::vector<archive::Account>& accounts) {
  std::string html = "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">" +
                     Say(page, "Account", "Tài khoản") + "</th><th scope=\"col\">" + Say(page, "Role", "Vai trò") +
                     "</th><th scope=\"col\">" + Say(page, "State", "Trạng thái") + "</th><th scope=\"col\">" +
                     Say(page, "Password", "Mật khẩu") + "</th><th scope=\"col\">" + Say(page, "Created", "Ngày tạo") +
                     "</th><th scope=\"col\">" + Say(page, "Created by", "Người tạo") + "</th><th scope=\"col\">" +
                     Say(page, "API token issued", "Ngày cấp mã API") + "</th></tr></thead><tbody>";
  for (const archive::Account& a : accounts) {
    html += "<tr><td><a href=\"" + AccountPath(a.name) + "\">" + Escape(a.name) + "</a></td><td>" +
            std::string(RoleLabel(page, a.role)) + "</td><td>" +
            (a.disabled ? "<span class=\"badge error\">" + Say(page, "disabled", "đã khóa") + "</span>"
                        : "<span class=\"badge ok\">" + Say(page, "active", "đang hoạt động") + "</span>") +
            "</td><td>" + (a.has_password ? Say(page, "set", "đã đặt") : Say(page, "none", "chưa có")) + "</td><td>" +
            page.Date(a.created) + "</td><td>" + Escape(a.created_by) + "</td><td>" + page.DateTime(a.token_issued) +
            "</td></tr>";
  }
  return html + "</tbody></table></div>";
}

std::string AddForm(const Page& page, const std::string& name, const std::string& role) {
  std::string html = "<h2>" + Say(page, "Add an account", "Thêm tài khoản") +
                     "</h2><form method=\"post\" action=\"/accounts/add\" class=\"card narrow\">" + page.CsrfField();
  html += "<p><label for=\"name\">" + Say(page, "Account name", "Tên tài khoản") +
          "</label><input id=\"name\" name=\"name\" required maxlength=\"64\" pattern=\"[A-Za-z0-9._\\-]+\" value=\"" +
          Escape(name) + "\"><span class=\"hint\">" +
          Say(page, "Letters without accents, digits, '.', '_' and '-'.", "Chữ cái không dấu, chữ số, '.', '_' và '-'.") +
          "</span></p>";
  html += "<p><label for=\"role\">" + Say(page, "Role", "Vai trò") + "</label><select id=\"role\" name=\"role\">";
  for (archive::Role r : {archive::Role::kOfficer, archive::Role::kAuditor, archive::Role::kAdmin}) {
    const std::string value(archive::RoleName(r));
    html += "<option value=\"" + value + "\"" + (value == role ? " selected" : "") + ">" +
            std::string(RoleLabel(page, r)) + "</option>";
  }
  html += "</select></p>" + PasswordInput(page, "password", false);
  html += "<p class=\"hint\">" +
          Say(page, "Without a password the account can use only the API, with its token.",
              "Không có mật khẩu thì tài khoản chỉ dùng được API, bằng mã API của nó.") +
          "</p><p><button type=\"submit\">" + Say(page, "Add the account", "Thêm tài khoản") + "</button></p></form>";
  return html;
}

// The list with the add form; `notice` (HTML) above them when a form was refused.
service::HttpResponse AccountsView(Page& page, const std::string& notice, unsigned status, const std::string& name = "",
                                   const std::string& role = "officer") {
  auto accounts = archive::Accounts(page.app.archive).List();
  if (!accounts.ok()) return ErrorPage(page, 500, accounts.status().message());
  return HtmlPage(page, page.T("Accounts", "Tài khoản"),
                  notice + AccountsTable(page, accounts.value()) + AddForm(page, name, role), status);
}

service::HttpResponse AccountsPage(Page& page) { return AccountsView(page, "", 200); }

// The page that shows a new token, once.
service::HttpResponse TokenShown(Page& page, const std::string& name, const std::string& token, std::string notice) {
  std::string body = std::move(notice);
  body += Notice("warn", "<strong>" +
                             Say(page, "Copy this API token now: it is shown only this once.",
                                 "Hãy sao chép mã API này ngay: mã chỉ hiển thị một lần này.") +
                             "</strong> " +
                             Say(page,
                                 "Programs use it to call the archive's API (Authorization: Bearer …). If it is lost, "
                                 "issue a new one: the old one then stops working.",
                                 "Các chương trình dùng mã này để gọi API của kho (Authorization: Bearer …). Nếu làm "
                                 "mất, hãy cấp mã mới: mã cũ sẽ hết hiệu lực."));
  body += "<p><label for=\"token\">" + Say(page, "API token of ", "Mã API của ") + Escape(name) +
          "</label><input id=\"token\" class=\"id\" readonly value=\"" + Escape(token) + "\"></p>";
  body += "<p><a href=\"" + AccountPath(name) + "\">" + Say(page, "Back to the account", "Quay lại tài khoản") +
          "</a> · <a href=\"/accounts\">" + Say(page, "All accounts", "Tất cả tài khoản") + "</a></p>";
  return HtmlPage(page, page.T("API token", "Mã API"), body);
}

service::HttpResponse AddAccount(Page& page) {
  const std::string name = page.form.Get("name");
  const std::string role_name = page.form.Get("role");
  const std::string password = page.form.Get("password");
  auto refuse = [&](const std::string& why, unsigned status) {
    return AccountsView(page, Notice("error", Escape(why)), status, name, role_name);
  };
  const std::optional<archive::Role> role = archive::RoleFromName(role_name);
  if (!role) return refuse(Say(page, "Choose the account's role.", "Hãy chọn vai trò của tài khoản."), 400);
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
      case StatusCode::kAlreadyExists:
        return refuse(Say(page, "An account with that name exists already: choose another name.",
                          "Đã có tài khoản mang tên này: hãy chọn tên khác."),
                      409);
      case StatusCode::kInvalidArgument:
        return refuse(Say(page,
                          "The name is not valid: 1 to 64 characters, only letters without accents, digits, '.', '_' "
                          "and '-'.",
                          "Tên không hợp lệ: từ 1 đến 64 ký tự, chỉ gồm chữ cái không dấu, chữ số, '.', '_' và '-'."),
                      400);
      default: return ErrorPage(page, 500, token.status().message());
    }
  }
  std::string done = Notice("ok", Say(page, "The account ", "Đã thêm tài khoản ") + "<strong>" + Escape(name) +
                                      "</strong>" + Say(page, " was added, as ", ", vai trò ") +
                                      std::string(RoleLabel(page, *role)) + ".");
  if (!password_set.ok())
    done += Notice("error", Say(page, "The password could not be set: ", "Không đặt được mật khẩu: ") +
                                Escape(password_set.message()));
  return TokenShown(page, name, token.value(), done);
}

// ---- One account ----

std::string AccountForms(const Page& page, const archive::Account& a) {
  const std::string base = AccountPath(a.name);
  std::string html = "<div class=\"grid\">";
  html += "<form method=\"post\" action=\"" + base + "/password\" class=\"card\">" + page.CsrfField() + "<h2>" +
          Say(page, "Set the password", "Đặt mật khẩu") + "</h2>" + PasswordInput(page, "password", true) +
          "<p class=\"hint\">" +
          Say(page, "The account's open sessions end: it signs in again with the new password.",
              "Các phiên đang mở của tài khoản sẽ kết thúc: cần đăng nhập lại bằng mật khẩu mới.") +
          "</p><p><button type=\"submit\">" + Say(page, "Set the password", "Đặt mật khẩu") + "</button></p></form>";
  html += "<form method=\"post\" action=\"" + base + "/token\" class=\"card\">" + page.CsrfField() + "<h2>" +
          Say(page, "New API token", "Cấp mã API mới") + "</h2><p class=\"hint\">" +
          Say(page, "The token in use stops working at once.", "Mã đang dùng sẽ hết hiệu lực ngay.") +
          "</p><p><button type=\"submit\" class=\"secondary\">" + Say(page, "Issue a new token", "Cấp mã mới") +
          "</button></p></form>";
  if (a.disabled) {
    html += "<form method=\"post\" action=\"" + base + "/enable\" class=\"card\">" + page.CsrfField() + "<h2>" +
            Say(page, "Enable", "Mở khóa") + "</h2><p class=\"hint\">" +
            Say(page, "Its password and token work again.", "Mật khẩu và mã API của tài khoản dùng lại được.") +
            "</p><p><button type=\"submit\">" + Say(page, "Enable the account", "Mở khóa tài khoản") +
            "</button></p></form>";
  } else {
    html += "<form method=\"post\" action=\"" + base + "/disable\" class=\"card\">" + page.CsrfField() + "<h2>" +
            Say(page, "Disable", "Khóa tài khoản") + "</h2><p class=\"hint\">" +
            Say(page, "Its password, token and certificate stop working at once, and its sessions end.",
                "Mật khẩu, mã API và chứng thư của tài khoản hết hiệu lực ngay, các phiên đang mở kết thúc.") +
            "</p><p><button type=\"submit\" class=\"danger\">" + Say(page, "Disable the account", "Khóa tài khoản") +
            "</button></p></form>";
  }
  return html + "</div>";
}

service::HttpResponse AccountView(Page& page, const std::string& name, const std::string& notice, unsigned status) {
  auto account = archive::Accounts(page.app.archive).Get(name);
  if (!account.ok()) {
    if (account.status().code() == StatusCode::kNotFound)
      return ErrorPage(page, 404, page.T("There is no account of that name.", "Không có tài khoản mang tên này."));
    return ErrorPage(page, 500, account.status().message());
  }
  const archive::Account& a = account.value();
  std::string body = notice + "<dl class=\"facts\">";
  body += "<dt>" + Say(page, "Role", "Vai trò") + "</dt><dd>" + std::string(RoleLabel(page, a.role)) + "</dd>";
  body += "<dt>" + Say(page, "State", "Trạng thái") + "</dt><dd>" +
          (a.disabled ? Say(page, "disabled", "đã khóa") : Say(page, "active", "đang hoạt động")) + "</dd>";
  body += "<dt>" + Say(page, "Password", "Mật khẩu") + "</dt><dd>" +
          (a.has_password ? Say(page, "set", "đã đặt") : Say(page, "none", "chưa có")) + "</dd>";
  body += "<dt>" + Say(page, "Created", "Ngày tạo") + "</dt><dd>" + page.DateTime(a.created) + " · " +
          Escape(a.created_by) + "</dd>";
  body += "<dt>" + Say(page, "API token issued", "Ngày cấp mã API") + "</dt><dd>" + page.DateTime(a.token_issued) +
          "</dd></dl>";
  body += AccountForms(page, a) + "<p><a href=\"/accounts\">" + Say(page, "All accounts", "Tất cả tài khoản") + "</a></p>";
  return HtmlPage(page, Say(page, "Account ", "Tài khoản ") + a.name, body, status);
}

service::HttpResponse AccountPage(Page& page) {
  const std::vector<std::string> parts = PathParts(page.path, "/accounts/");
  if (parts.size() != 1) return ErrorPage(page, 404, page.T("There is no such page.", "Không có trang này."));
  return AccountView(page, parts[0], "", 200);
}

// A change made under the writer mutex, answered on the account's page.
service::HttpResponse Changed(Page& page, const std::string& name, const Status& status, const std::string& done) {
  if (status.ok()) return AccountView(page, name, Notice("ok", done), 200);
  if (status.code() == StatusCode::kNotFound)
    return ErrorPage(page, 404, page.T("There is no account of that name.", "Không có tài khoản mang tên này."));
  if (status.code() == StatusCode::kInvalidArgument)
    return AccountView(page, name, Notice("error", Escape(status.message())), 400);
  return ErrorPage(page, 500, status.message());
}

service::HttpResponse AccountAction(Page& page) {
  const std::vector<std::string> parts = PathParts(page.path, "/accounts/");
  if (parts.size() != 2) return ErrorPage(page, 404, page.T("There is no such page.", "Không có trang này."));
  const std::string& name = parts[0];
  const std::string& action = parts[1];
  const std::string& actor = page.session->account;
  archive::Accounts accounts(page.app.archive);
  if (action == "disable") {
    if (name == actor)
      return AccountView(page, name,
                         Notice("error", Say(page,
                                             "You cannot disable your own account: you would lock yourself out. Ask "
                                             "another administrator to do it.",
                                             "Không thể tự khóa tài khoản của chính mình: bạn sẽ không vào được nữa. "
                                             "Hãy nhờ một quản trị viên khác.")),
                         400);
    Status s;
    {
      std::lock_guard<std::mutex> writing(page.app.writer);
      s = accounts.Disable(name, actor);
    }
    if (s.ok()) page.app.sessions.EndAllOf(name);
    return Changed(page, name, s,
                   Say(page, "The account is disabled and its sessions have ended.",
                       "Tài khoản đã bị khóa và các phiên của nó đã kết thúc."));
  }
  if (action == "enable") {
    Status s;
    {
      std::lock_guard<std::mutex> writing(page.app.writer);
      s = accounts.Enable(name, actor);
    }
    return Changed(page, name, s, Say(page, "The account is enabled again.", "Tài khoản đã được mở khóa."));
  }
  if (action == "password") {
    const std::string password = page.form.Get("password");
    if (std::string why = PasswordRefusal(page, password); !why.empty())
      return AccountView(page, name, Notice("error", Escape(why)), 400);
    Status s;
    {
      std::lock_guard<std::mutex> writing(page.app.writer);
      s = accounts.SetPassword(name, password, actor);
    }
    if (s.ok()) page.app.sessions.EndAllOf(name);
    return Changed(page, name, s,
                   Say(page, "The password is set; the account's open sessions have ended.",
                       "Đã đặt mật khẩu; các phiên đang mở của tài khoản đã kết thúc."));
  }
  if (action == "token") {
    Result<std::string> token = Status::Internal("not run");
    {
      std::lock_guard<std::mutex> writing(page.app.writer);
      token = accounts.NewToken(name, actor);
    }
    if (!token.ok()) return Changed(page, name, token.status(), "");
    return TokenShown(page, name, token.value(),
                      Notice("ok", Say(page, "A new token is issued; the previous one no longer works.",
                                       "Đã cấp mã mới; mã trước đó không còn dùng được.")));
  }
  return ErrorPage(page, 404, page.T("There is no such page.", "Không có trang này."));
}

}  // namespace

void AddAccountPages(Routes& routes) {
  routes.Add({"GET", "/accounts", false, kAdmin, "web accounts", AccountsPage});
  routes.Add({"POST", "/accounts/add", false, kAdmin, "web account add", AddAccount});
  routes.Add({"GET", "/accounts/", true, kAdmin, "web account", AccountPage});
  routes.Add({"POST", "/accounts/", true, kAdmin, "web account change", AccountAction});
}

}  // namespace preserve::web
