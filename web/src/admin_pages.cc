// The administrator's pages: the dashboard (what `preserve status` says, and
// when the scheduled jobs run next) and the algorithm policy with the
// signers' trust list. Accounts are in account_pages.cc; retention, holds and
// deletion of a package in package_admin.cc.
#include <chrono>
#include <cstdio>

#include "admin_pages.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/jobs.h"
#include "preserve/policy/algorithm_catalogue.h"

namespace preserve::web {

std::string Number(const Page& page, std::uint64_t n) {
  std::string digits = std::to_string(n);
  const char separator = page.lang == Lang::kEn ? ',' : '.';
  for (std::size_t i = digits.size(); i > 3; i -= 3) digits.insert(i - 3, 1, separator);
  return digits;
}

std::size_t CodePoints(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::vector<std::string> PathParts(std::string_view path, std::string_view prefix) {
  std::vector<std::string> parts;
  if (path.substr(0, prefix.size()) != prefix) return parts;
  std::string_view rest = path.substr(prefix.size());
  while (true) {
    const std::size_t slash = rest.find('/');
    parts.emplace_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return parts;
}

namespace {

// "1,5 GB" (vi) or "1.5 GB" (en): the store's size as people read it.
std::string Size(const Page& page, std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char out[32];
  std::snprintf(out, sizeof out, unit == 0 ? "%.0f %s" : "%.1f %s", value, kUnits[unit]);
  std::string text = out;
  if (page.lang == Lang::kVi)
    for (char& c : text)
      if (c == '.') c = ',';
  return text;
}

std::string Badge(std::string_view kind, std::string_view text) {
  return "<span class=\"badge " + std::string(kind) + "\">" + std::string(text) + "</span>";
}

std::string Fact(std::string_view term, std::string_view value_html) {
  return "<dt>" + std::string(term) + "</dt><dd>" + std::string(value_html) + "</dd>";
}

// ---- Dashboard ----

// What an evidence deadline is for: a package (a link to it), or the audit
// trail's head sealed by a batch (subject ids "audit-head:<batch>", as
// `preserve restart-evidence` takes them).
std::string SubjectHtml(const Page& page, const std::string& subject) {
  constexpr std::string_view kHead = "audit-head:";
  if (subject.rfind(kHead, 0) != 0) return Say(page, "package ", "gói ") + PackageLink(subject);
  return Say(page, "the audit trail, sealed by batch ", "nhật ký kiểm toán, niêm phong theo đợt ") +
         "<span class=\"id\">" + Escape(subject.substr(kHead.size())) + "</span>";
}

std::string Holdings(const Page& page, const archive::StoreStatus& s) {
  std::string html = "<section class=\"card\"><h2>" + Say(page, "Holdings", "Tài liệu đang lưu giữ") +
                     "</h2><dl class=\"facts\">";
  html += Fact(page.T("Packages", "Gói lưu trữ"), Number(page, s.packages));
  html += Fact(page.T("Further versions", "Phiên bản bổ sung"), Number(page, s.versions));
  html += Fact(page.T("Sealed with evidence", "Đã có bằng chứng lưu trữ"), Number(page, s.sealed));
  html += Fact(page.T("Awaiting a time-stamp", "Đang chờ gắn dấu thời gian"), Number(page, s.queued));
  html += Fact(page.T("Deleted (record kept)", "Đã xóa (giữ hồ sơ)"), Number(page, s.deleted));
  return html + "</dl></section>";
}

// Lapsed evidence, as an error that says what to do; "" when none lapsed.
std::string LapsedNotice(const Page& page, const archive::StoreStatus& s) {
  if (s.lapsed == 0) return "";
  std::string what =
        "<strong>" +
        Say(page, "Evidence has lapsed for ", "Bằng chứng đã quá hạn gia hạn đối với ") + Number(page, s.lapsed) +
        Say(page, " subject(s)", " đối tượng") + "</strong>: " +
        Say(page,
            "their renewal came too late, so their evidence no longer proves existence by itself from the start. ",
            "việc gia hạn đã không kịp, nên bằng chứng không còn tự chứng minh được sự tồn tại từ ban đầu. ") +
        Say(page,
            "What to do: check that the time-stamping authority answers; then, with the service stopped, run the "
            "renewal (preserve renew) and start new evidence chains for what lapsed (preserve restart-evidence "
            "--all-lapsed).",
            "Cần làm: kiểm tra dịch vụ cấp dấu thời gian có trả lời không; sau đó, khi đã dừng dịch vụ, chạy gia hạn "
            "(preserve renew) và tạo chuỗi bằng chứng mới cho các đối tượng quá hạn (preserve restart-evidence "
            "--all-lapsed).") +
        "<ul>";
  for (const auto& d : s.first_lapsed)
    what += "<li>" + SubjectHtml(page, d.subject) + " — " +
            Say(page, "lapsed ", "quá hạn từ ") + page.DateTime(d.due) + "</li>";
  return Notice("error", what + "</ul>");
}

// The deadlines ahead.
std::string Renewals(const Page& page, const archive::StoreStatus& s) {
  std::string html = "<section class=\"card\"><h2>" + Say(page, "Evidence renewal", "Gia hạn bằng chứng") + "</h2><p>" +
          Say(page, "Lapsed evidence: ", "Bằng chứng quá hạn: ") +
          (s.lapsed == 0 ? Badge("ok", page.T("none", "không có")) : Badge("error", Number(page, s.lapsed))) + "</p>";
  if (s.next_deadlines.empty()) {
    html += "<p class=\"hint\">" +
            Say(page, "No renewal deadline yet: nothing is sealed.",
                "Chưa có hạn gia hạn nào: chưa có gì được niêm phong.") +
            "</p>";
  } else {
    html += "<div class=\"table-wrap\"><table><caption>" +
            Say(page, "Next renewal deadlines", "Các hạn gia hạn sắp tới") + "</caption><thead><tr><th scope=\"col\">" +
            Say(page, "Due", "Hạn") + "</th><th scope=\"col\">" + Say(page, "Evidence of", "Bằng chứng của") +
            "</th></tr></thead><tbody>";
    for (const auto& d : s.next_deadlines)
      html += "<tr><td>" + page.DateTime(d.due) + "</td><td>" + SubjectHtml(page, d.subject) + "</td></tr>";
    html += "</tbody></table></div>";
  }
  return html + "</section>";
}

std::string JobRow(const Page& page, std::string_view name, const std::optional<archive::JobRun>& run,
                   const Result<TimePoint>& next) {
  std::string html = "<tr><th scope=\"row\">" + std::string(name) + "</th>";
  if (!run) {
    html += "<td>" + Say(page, "never", "chưa chạy") + "</td><td></td><td></td>";
  } else {
    html += "<td>" + page.DateTime(run->time) + "</td><td>" + Escape(run->outcome) + "</td><td>" +
            (run->failed ? Badge("error", page.T("failed", "thất bại"))
             : run->ok   ? Badge("ok", page.T("ok", "tốt"))
                         : Badge("warn", page.T("found problems", "phát hiện vấn đề"))) +
            "</td>";
  }
  html += "<td>" + (next.ok() ? page.DateTime(next.value()) : Escape(next.status().message())) + "</td></tr>";
  return html;
}

std::string Jobs(const Page& page, const archive::StoreStatus& s) {
  archive::ScheduledJobs jobs(page.app.archive);
  std::string html = "<section class=\"card\"><h2>" + Say(page, "Scheduled jobs", "Tác vụ định kỳ") +
                     "</h2><div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">" + Say(page, "Job", "Tác vụ") +
                     "</th><th scope=\"col\">" + Say(page, "Last run", "Lần chạy gần nhất") + "</th><th scope=\"col\">" +
                     Say(page, "Outcome", "Kết quả") + "</th><th scope=\"col\">" + Say(page, "State", "Tình trạng") +
                     "</th><th scope=\"col\">" + Say(page, "Next due", "Lần chạy tới") + "</th></tr></thead><tbody>";
  html += JobRow(page, page.T("Sealing (time-stamps)", "Niêm phong (gắn dấu thời gian)"), s.last_seal,
                 jobs.NextDue("seal"));
  html += JobRow(page, page.T("Evidence renewal", "Gia hạn bằng chứng"), s.last_renewal, jobs.NextDue("renew"));
  html += JobRow(page, page.T("Fixity check", "Kiểm tra toàn vẹn"), s.last_fixity, jobs.NextDue("fixity"));
  return html + "</tbody></table></div></section>";
}

std::string Store(const Page& page, const archive::StoreStatus& s) {
  std::string tsa = "—";
  if (s.tsa_certificate_not_after) {
    const bool soon = *s.tsa_certificate_not_after - page.app.clock.Now() < std::chrono::days(90);
    tsa = page.Date(*s.tsa_certificate_not_after);
    if (soon)
      tsa += " " + Badge("warn", page.T("renew the TSA certificate soon", "cần sớm thay chứng thư của dịch vụ TSA"));
  }
  std::string html = "<section class=\"card\"><h2>" + Say(page, "The store", "Kho dữ liệu") + "</h2><dl class=\"facts\">";
  html += Fact(page.T("Size on disk", "Dung lượng trên đĩa"), Size(page, s.store_bytes));
  html += Fact(page.T("Time-stamping certificate valid until", "Chứng thư dấu thời gian hiệu lực đến"), tsa);
  html += Fact(page.T("Algorithm policy", "Chính sách thuật toán"), "<a href=\"/policy\">" + Escape(s.policy) + "</a>");
  html += Fact(page.T("Trusted certification authorities", "Tổ chức chứng thực được tin cậy"),
               Number(page, s.trust_anchors));
  return html + "</dl></section>";
}

service::HttpResponse Dashboard(Page& page) {
  auto overview = archive::Catalogue(page.app.archive).Overview();
  if (!overview.ok()) return ErrorPage(page, 500, overview.status().message());
  const archive::StoreStatus& s = overview.value();
  const std::string body = LapsedNotice(page, s) + "<div class=\"grid\">" + Holdings(page, s) + Store(page, s) +
                           "</div>" + Renewals(page, s) + Jobs(page, s);
  return HtmlPage(page, page.T("Overview", "Tổng quan"), body);
}

// ---- Policy ----

// An algorithm's end as the catalogue gives it: none known, not approved (the epoch), or a date.
std::string EndCell(const Page& page, const std::optional<TimePoint>& end) {
  if (!end) return "<td>" + Say(page, "no end known", "chưa xác định thời hạn") + "</td><td>" +
                   Badge("ok", page.T("in force", "đang áp dụng")) + "</td>";
  if (*end == TimePoint{})
    return "<td>—</td><td>" + Badge("error", page.T("not approved", "không được chấp nhận")) + "</td>";
  const bool retired = page.app.clock.Now() >= *end;
  return "<td>" + page.Date(*end) + "</td><td>" +
         (retired ? Badge("warn", page.T("retired", "đã ngừng dùng")) : Badge("ok", page.T("in force", "đang áp dụng"))) +
         "</td>";
}

std::string Algorithms(const Page& page, const policy::AlgorithmCatalogue& catalogue) {
  const std::string head_end = "</th><th scope=\"col\">" + Say(page, "New evidence until", "Dùng cho bằng chứng mới đến") +
                               "</th><th scope=\"col\">" + Say(page, "State", "Tình trạng") + "</th><th scope=\"col\">" +
                               Say(page, "Source", "Căn cứ") + "</th></tr></thead><tbody>";
  std::string html = "<h2>" + Say(page, "Hash algorithms", "Thuật toán băm") +
                     "</h2><div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">" +
                     Say(page, "Algorithm", "Thuật toán") + head_end;
  for (const policy::HashRule& r : catalogue.hash_rules())
    html += "<tr><th scope=\"row\">" + Escape(HashAlgorithmName(r.algorithm)) + "</th>" + EndCell(page, r.end) +
            "<td>" + Escape(r.source) + "</td></tr>";
  html += "</tbody></table></div>";
  auto preferred = catalogue.PreferredHash(page.app.clock.Now());
  html += "<p>" + Say(page, "New hash trees use: ", "Cây băm mới dùng: ") +
          (preferred.ok() ? Escape(HashAlgorithmName(preferred.value()))
                          : Badge("error", page.T("no usable hash", "không có thuật toán băm dùng được"))) +
          "</p>";
  html += "<h2>" + Say(page, "Signature keys of time-stamping authorities", "Khóa ký của dịch vụ cấp dấu thời gian") +
          "</h2><div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">" + Say(page, "Key", "Loại khóa") +
          "</th><th scope=\"col\" class=\"num\">" + Say(page, "Bits", "Số bit") + head_end;
  const auto& rules = catalogue.signature_rules();
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const policy::SignatureRule& r = rules[i];
    const bool last_of_key = i + 1 == rules.size() || rules[i + 1].key != r.key;
    const std::string bits =
        std::to_string(r.min_bits) + (last_of_key ? "+" : "–" + std::to_string(rules[i + 1].min_bits - 1));
    html += "<tr><th scope=\"row\">" + Escape(policy::SignatureKeyTypeName(r.key)) + "</th><td class=\"num\">" + bits +
            "</td>" + EndCell(page, r.end) + "<td>" + Escape(r.source) + "</td></tr>";
  }
  html += "</tbody></table></div><p class=\"hint\">" +
          Say(page,
              "Algorithms, keys and key sizes not listed are not approved for new evidence. An algorithm's date "
              "limits only new evidence: evidence made before it stays verifiable, because renewal covers it with "
              "newer time-stamps.",
              "Thuật toán, loại khóa và độ dài khóa không có trong danh sách không được dùng cho bằng chứng mới. Thời "
              "hạn chỉ áp dụng cho bằng chứng mới: bằng chứng tạo trước đó vẫn kiểm tra được, vì việc gia hạn đã bao "
              "phủ nó bằng các dấu thời gian mới hơn.") +
          "</p>";
  return html;
}

std::string TrustList(const Page& page) {
  auto anchors = archive::Catalogue(page.app.archive).TrustList();
  std::string html = "<h2>" + Say(page, "Trusted certification authorities", "Tổ chức chứng thực được tin cậy") + "</h2>";
  if (!anchors.ok()) return html + Notice("error", Escape(anchors.status().message()));
  html += "<p class=\"hint\">" +
          Say(page, "Documents are accepted only when their signers' certificates lead to one of these.",
              "Văn bản chỉ được nhận khi chứng thư số của người ký dẫn về một trong các tổ chức này.") +
          "</p><div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">" +
          Say(page, "Subject", "Chủ thể") + "</th><th scope=\"col\">" +
          Say(page, "SHA-256 fingerprint", "Dấu vân tay SHA-256") +
          "</th><th scope=\"col\">" + Say(page, "Added", "Ngày thêm") + "</th><th scope=\"col\">" +
          Say(page, "By", "Người thêm") + "</th><th scope=\"col\">" + Say(page, "Reason", "Lý do") +
          "</th></tr></thead><tbody>";
  for (const archive::TrustListEntry& a : anchors.value())
    html += "<tr><td>" + Escape(a.subject) + "</td><td class=\"id\">" + Escape(a.fingerprint) + "</td><td>" +
            page.Date(a.added) + "</td><td>" + Escape(a.added_by) + "</td><td>" + Escape(a.reason) + "</td></tr>";
  return html + "</tbody></table></div>";
}

// Why the policy is not changed from here, and how it is.
std::string ChangingThePolicy(const Page& page) {
  std::string profiles;
  for (std::string_view p : policy::AlgorithmCatalogue::BuiltinProfiles())
    profiles += (profiles.empty() ? "" : ", ") + std::string("<code>") + std::string(p) + "</code>";
  return "<h2>" + Say(page, "Changing the policy", "Thay đổi chính sách") + "</h2><p>" +
         Say(page,
             "This page only shows the policy. The running service reads the policy while it seals, renews and "
             "verifies, so it is changed with the service stopped, on the server: ",
             "Trang này chỉ hiển thị chính sách. Dịch vụ đang chạy đọc chính sách khi niêm phong, gia hạn và kiểm "
             "tra, nên chính sách được thay đổi khi dịch vụ đã dừng, trên máy chủ: ") +
         "<code>preserve policy set --store DIR PROFILE</code>. " +
         Say(page, "Built-in profiles: ", "Các bộ quy tắc có sẵn: ") + profiles + ". " +
         Say(page, "Every sealed package's renewal is then rescheduled, and the change is in the audit trail.",
             "Khi đó lịch gia hạn của mọi gói đã niêm phong được tính lại, và thay đổi được ghi vào nhật ký kiểm toán.") +
         "</p>";
}

service::HttpResponse Policy(Page& page) {
  const policy::AlgorithmCatalogue& catalogue = page.app.archive.policy();
  std::string body = "<p>" + Say(page, "Policy in force: ", "Chính sách đang áp dụng: ") + "<strong>" +
                     Escape(catalogue.name()) + "</strong></p>";
  body += Algorithms(page, catalogue) + TrustList(page) + ChangingThePolicy(page);
  return HtmlPage(page, page.T("Algorithm policy", "Chính sách thuật toán"), body);
}

}  // namespace

void AddAdminPages(Routes& routes) {
  routes.Add({"GET", "/dashboard", false, kAdmin, "web dashboard", Dashboard});
  routes.Add({"GET", "/policy", false, kAdmin, "web policy", Policy});
  AddAccountPages(routes);
  AddPackageAdminPages(routes);
}

}  // namespace preserve::web
