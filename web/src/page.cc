#include "page.h"

#include <chrono>
#include <cstdio>

#include "assets.h"
#include "view.h"
#include "words.h"

namespace preserve::web {

namespace json = boost::json;

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
  return session ? RenderWithoutTexts("csrf_field", json::object{{"token", session->csrf}}) : "";
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
  const char* key;  // its label in the catalogues
  unsigned roles;
};
constexpr MenuItem kMenu[] = {
    {"/dashboard", "common.menu.dashboard", kAdmin},
    {"/handin", "common.menu.handin", kOfficer | kAdmin},
    {"/search", "common.menu.search", kAnyRole},
    {"/verify-zip", "common.menu.verify_zip", kAuditor | kAdmin},
    {"/audit-trail", "common.menu.audit_trail", kAuditor | kAdmin},
    {"/reports/signatures", "common.menu.signature_report", kAuditor | kAdmin},
    {"/accounts", "common.menu.accounts", kAdmin},
    {"/policy", "common.menu.policy", kAdmin},
};

}  // namespace

service::HttpResponse HtmlPage(const Page& page, std::string_view title, std::string_view body, unsigned status) {
  json::object data{{"lang", page.lang_code()}, {"title", title}, {"body", body}, {"assets_version", kAssets_version}};
  if (page.session) {
    json::array menu;
    const unsigned mask = MaskOf(page.session->role);
    for (const MenuItem& item : kMenu) {
      if ((item.roles & mask) == 0) continue;
      const bool here = page.path == item.href || page.path.rfind(std::string(item.href) + "/", 0) == 0;
      menu.push_back(json::object{{"href", item.href}, {"label", page.Text(item.key)}, {"current", here}});
    }
    data["signed_in"] = true;
    data["menu"] = std::move(menu);
    data["account"] = page.session->account;
    data["role"] = RoleLabel(page, page.session->role);
  }
  // The language switch keeps the page (and its query).
  const Lang other = page.lang == Lang::kEn ? Lang::kVi : Lang::kEn;
  const std::string other_code = other == Lang::kEn ? "en" : "vi";
  data["switch_href"] = "/lang?to=" + other_code + "&back=" + UrlEncode(page.request.target);
  data["switch_lang"] = other_code;
  data["switch_label"] = Catalogue::Of(other).Text("common.language_name");
  service::HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = Render(page, "layout", data);
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
  const bool known = status == 400 || status == 403 || status == 404 || status == 503;
  const std::string title = page.Text(known ? "common.error." + std::to_string(status) : "common.error.other");
  return HtmlPage(page, title, Notice(status >= 500 ? "error" : "warn", Escape(message)), status);
}

std::string PackageLink(std::string_view id) {
  return RenderWithoutTexts("package_link", json::object{{"href", "/package/" + UrlEncode(id)}, {"id", id}});
}

std::string Notice(std::string_view kind, std::string_view html) {
  return RenderWithoutTexts("notice", json::object{{"kind", kind}, {"role", kind == "error" ? "alert" : "status"},
                                                  {"html", html}});
}

}  // namespace preserve::web
