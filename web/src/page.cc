#include "page.h"

#include <chrono>
#include <cstdio>

#include "words.h"

namespace preserve::web {

unsigned MaskOf(archive::Role role) {
  switch (role) {
    case archive::Role::kOfficer: return kOfficer;
    case archive::Role::kAuditor: return kAuditor;
    case archive::Role::kAdmin: return kAdmin;
  }
  return 0;
}

namespace {

// The calendar fields of `t` shifted by `offset`.
struct LocalTime {
  int year;
  unsigned month, day, hour, minute;
};
LocalTime ToLocal(TimePoint t, std::chrono::minutes offset) {
  const auto local = std::chrono::time_point_cast<std::chrono::minutes>(t) + offset;
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(local - day);
  return {int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()), unsigned(hms.hours().count()),
          unsigned(hms.minutes().count())};
}

}  // namespace

std::string Page::Date(TimePoint t) const {
  const LocalTime l = ToLocal(t, app.options.utc_offset);
  char out[32];
  if (lang == Lang::kVi) {
    std::snprintf(out, sizeof out, "%02u/%02u/%04d", l.day, l.month, l.year);
  } else {
    std::snprintf(out, sizeof out, "%04d-%02u-%02u", l.year, l.month, l.day);
  }
  return out;
}

std::string Page::DateTime(TimePoint t) const {
  const LocalTime l = ToLocal(t, app.options.utc_offset);
  char out[16];
  std::snprintf(out, sizeof out, " %02u:%02u", l.hour, l.minute);
  return Date(t) + out;
}

std::string Page::CsrfField() const {
  return session ? "<input type=\"hidden\" name=\"csrf\" value=\"" + session->csrf + "\">" : "";
}

const Route* Routes::Find(std::string_view method, std::string_view path) const {
  const Route* best = nullptr;
  for (const Route& r : routes_) {
    if (r.method != method && !(method == "HEAD" && r.method == "GET")) continue;
    if (!r.prefix && r.path == path) return &r;
    if (r.prefix && path.substr(0, r.path.size()) == r.path && (!best || r.path.size() > best->path.size())) best = &r;
  }
  return best;
}

bool Routes::Knows(std::string_view path) const {
  for (const Route& r : routes_)
    if (r.prefix ? path.substr(0, r.path.size()) == r.path : r.path == path) return true;
  return false;
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

struct MenuItem {
  const char* href;
  const char* en;
  const char* vi;
  unsigned roles;
};
constexpr MenuItem kMenu[] = {
    {"/dashboard", "Overview", "Tổng quan", kAdmin},
    {"/handin", "Hand in documents", "Nộp tài liệu", kOfficer | kAdmin},
    {"/search", "Search holdings", "Tra cứu hồ sơ", kAnyRole},
    {"/verify-zip", "Verify an exported package", "Kiểm tra gói đã xuất", kAuditor | kAdmin},
    {"/audit-trail", "Audit trail", "Nhật ký kiểm toán", kAuditor | kAdmin},
    {"/reports/signatures", "Signature use", "Báo cáo sử dụng chữ ký số", kAuditor | kAdmin},
    {"/accounts", "Accounts", "Tài khoản", kAdmin},
    {"/policy", "Algorithm policy", "Chính sách thuật toán", kAdmin},
};

std::string Layout(const Page& page, std::string_view title, std::string_view body) {
  std::string html;
  html.reserve(body.size() + 4096);
  html += "<!doctype html>\n<html lang=\"";
  html += page.lang_code();
  html += "\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  html += Escape(title);
  html += " · Preserve</title>\n<link rel=\"stylesheet\" href=\"/static/app.css\">\n"
          "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n"
          "<script src=\"/static/app.js\" defer></script>\n</head>\n<body>\n<a class=\"skip\" href=\"#main\">";
  html += page.T("Skip to the content", "Bỏ qua, đến nội dung");
  html += "</a>\n<header class=\"top\">\n<a class=\"brand\" href=\"/\">Preserve <span>";
  html += page.T("Digital records archive", "Kho lưu trữ tài liệu số");
  html += "</span></a>\n";
  if (page.session) {
    html += "<nav aria-label=\"";
    html += page.T("Main menu", "Trình đơn chính");
    html += "\"><ul>";
    const unsigned mask = MaskOf(page.session->role);
    for (const MenuItem& item : kMenu) {
      if ((item.roles & mask) == 0) continue;
      const bool here = page.path == item.href || page.path.rfind(std::string(item.href) + "/", 0) == 0;
      html += "<li><a href=\"";
      html += item.href;
      html += here ? "\" aria-current=\"page\">" : "\">";
      html += page.T(item.en, item.vi);
      html += "</a></li>";
    }
    html += "</ul></nav>\n";
  }
  html += "<div class=\"who\">";
  if (page.session) {
    html += "<span class=\"account\">" + Escape(page.session->account) + " · " +
            std::string(RoleLabel(page, page.session->role)) + "</span> ";
  }
  // The language switch keeps the page (and its query).
  const std::string back = UrlEncode(page.request.target);
  html += page.lang == Lang::kEn ? "<a href=\"/lang?to=vi&amp;back=" + back + "\" lang=\"vi\" hreflang=\"vi\">Tiếng Việt</a>"
                                 : "<a href=\"/lang?to=en&amp;back=" + back + "\" lang=\"en\" hreflang=\"en\">English</a>";
  if (page.session) {
    html += " <form class=\"inline\" method=\"post\" action=\"/signout\">" + page.CsrfField() +
            "<button type=\"submit\" class=\"link\">" + std::string(page.T("Sign out", "Đăng xuất")) + "</button></form>";
  }
  html += "</div>\n</header>\n<main id=\"main\">\n<h1>";
  html += Escape(title);
  html += "</h1>\n";
  html += body;
  html += "\n</main>\n<footer>";
  html += page.T("Times are Vietnam time (UTC+7). Every action is recorded in the audit trail.",
                 "Thời gian theo giờ Việt Nam (UTC+7). Mọi thao tác đều được ghi vào nhật ký kiểm toán.");
  html += "</footer>\n</body>\n</html>\n";
  return html;
}

}  // namespace

service::HttpResponse HtmlPage(const Page& page, std::string_view title, std::string_view body, unsigned status) {
  service::HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = Layout(page, title, body);
  return r;
}

service::HttpResponse Redirect(std::string_view location) {
  service::HttpResponse r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.headers.emplace_back("Location", std::string(location));
  return r;
}

service::HttpResponse Download(std::string content_type, std::string_view file_name, std::string body,
                               bool inline_view) {
  service::HttpResponse r;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  // RFC 6266: an ASCII fallback and the UTF-8 name (RFC 8187).
  std::string ascii;
  for (char c : file_name) ascii += (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '"' || c == '\\') ? '_' : c;
  r.headers.emplace_back("Content-Disposition", std::string(inline_view ? "inline" : "attachment") + "; filename=\"" +
                                                    ascii + "\"; filename*=UTF-8''" + UrlEncode(file_name));
  return r;
}

service::HttpResponse ErrorPage(const Page& page, unsigned status, std::string_view message) {
  std::string_view title;
  switch (status) {
    case 400: title = page.T("The request is not valid", "Yêu cầu không hợp lệ"); break;
    case 403: title = page.T("Not allowed", "Không được phép"); break;
    case 404: title = page.T("Not found", "Không tìm thấy"); break;
    case 503: title = page.T("Try again later", "Hãy thử lại sau"); break;
    default: title = page.T("Something went wrong", "Đã có lỗi xảy ra");
  }
  return HtmlPage(page, title, Notice(status >= 500 ? "error" : "warn", Escape(message)), status);
}

std::string PackageLink(std::string_view id) {
  return "<a class=\"id\" href=\"/package/" + UrlEncode(id) + "\">" + Escape(id) + "</a>";
}

std::string Notice(std::string_view kind, std::string_view html) {
  return "<div class=\"notice " + std::string(kind) + "\" role=\"" + (kind == "error" ? "alert" : "status") + "\">" +
         std::string(html) + "</div>";
}

}  // namespace preserve::web
