// The administrator's panel of a package: its retention, its holds and its
// deletion, each a form posting to /admin/package/<id>/... The panel is shown
// on the package page and on /admin/package/<id>, which also answers every
// form (with what was done, or why it was refused). The archive decides what
// is allowed (Lifecycle::Delete refuses before the retention date and under
// a hold, as for the CLI and DeletePO); these pages say it in plain words.
#include <charconv>

#include "admin_pages.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/lifecycle.h"

namespace preserve::web {

namespace {

constexpr std::string_view kPrefix = "/admin/package/";

std::string AdminPath(const std::string& id) { return std::string(kPrefix) + UrlEncode(id); }

std::string ReasonInput(const Page& page, const std::string& id) {
  return "<p><label for=\"" + id + "\">" +
         Say(page, "Reason (recorded in the audit trail)", "Lý do (ghi vào nhật ký kiểm toán)") +
         "</label><input id=\"" + id + "\" name=\"reason\" required maxlength=\"1000\"></p>";
}

std::string RetentionText(const Page& page, const archive::PackageLifecycle& l) {
  if (l.retention.permanent || !l.retain_until) return Say(page, "Kept permanently.", "Bảo quản vĩnh viễn.");
  std::string text = Say(page, "Kept for ", "Bảo quản ") + std::to_string(l.retention.years) +
                     Say(page, " years, until ", " năm, đến ngày ") + page.Date(*l.retain_until) + ".";
  if (page.app.clock.Now() >= *l.retain_until)
    text += " " + Say(page, "The retention period has passed.", "Đã hết thời hạn bảo quản.");
  return text;
}

std::string RetentionSection(const Page& page, const archive::PackageLifecycle& l) {
  const std::string& id = l.package_id;
  std::string html = "<h3>" + Say(page, "Retention", "Thời hạn bảo quản") + "</h3><p>" + RetentionText(page, l) + "</p>";
  html += "<form method=\"post\" action=\"" + AdminPath(id) + "/retention\" class=\"card narrow\">" + page.CsrfField();
  html += "<fieldset><legend>" + Say(page, "Set the retention", "Đặt thời hạn bảo quản") + "</legend>";
  html += "<p><label><input type=\"radio\" name=\"retention\" value=\"permanent\"" +
          std::string(l.retention.permanent ? " checked" : "") + "> " + Say(page, "Permanently", "Vĩnh viễn") +
          "</label><label><input type=\"radio\" name=\"retention\" value=\"years\"" +
          std::string(l.retention.permanent ? "" : " checked") + "> " +
          Say(page, "For a number of years from its archiving", "Một số năm kể từ ngày lưu") + "</label></p>";
  html += "<p><label for=\"retention-years\">" + Say(page, "Years (1 to 1000)", "Số năm (1 đến 1000)") +
          "</label><input id=\"retention-years\" name=\"years\" type=\"number\" min=\"1\" max=\"1000\" value=\"" +
          (l.retention.permanent ? std::string() : std::to_string(l.retention.years)) + "\"></p></fieldset>";
  html += ReasonInput(page, "retention-reason") + "<p><button type=\"submit\">" +
          Say(page, "Set the retention", "Đặt thời hạn") + "</button></p></form>";
  return html;
}

std::string HoldsSection(const Page& page, const archive::PackageLifecycle& l) {
  const std::string& id = l.package_id;
  std::string html = "<h3>" + Say(page, "Holds", "Lệnh tạm giữ") + "</h3>";
  if (l.holds.empty()) {
    html += "<p>" + Say(page, "No hold is in force.", "Không có lệnh tạm giữ nào.") + "</p>";
  } else {
    html += "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\" class=\"num\">" + Say(page, "No.", "Số") +
            "</th><th scope=\"col\">" + Say(page, "Placed", "Ngày đặt") + "</th><th scope=\"col\">" +
            Say(page, "By", "Người đặt") + "</th><th scope=\"col\">" + Say(page, "Reason", "Lý do") +
            "</th><th scope=\"col\">" + Say(page, "Lift it", "Gỡ lệnh") + "</th></tr></thead><tbody>";
    for (const archive::Hold& h : l.holds) {
      const std::string n = std::to_string(h.number);
      html += "<tr><td class=\"num\">" + n + "</td><td>" + page.DateTime(h.placed_at) + "</td><td>" +
              Escape(h.placed_by) + "</td><td>" + Escape(h.reason) + "</td><td><form method=\"post\" action=\"" +
              AdminPath(id) + "/hold/" + n + "/remove\">" + page.CsrfField() + "<label for=\"lift-" + n + "\">" +
              Say(page, "Reason", "Lý do") + "</label><input id=\"lift-" + n +
              "\" name=\"reason\" required maxlength=\"1000\"> <button type=\"submit\" class=\"secondary\">" +
              Say(page, "Lift the hold", "Gỡ lệnh tạm giữ") + "</button></form></td></tr>";
    }
    html += "</tbody></table></div>";
  }
  html += "<form method=\"post\" action=\"" + AdminPath(id) + "/hold\" class=\"card narrow\">" + page.CsrfField() +
          "<p class=\"hint\">" +
          Say(page, "While a hold is in force the package may not be deleted, whatever its retention.",
              "Khi có lệnh tạm giữ, gói không được xóa, bất kể thời hạn bảo quản.") +
          "</p>" + ReasonInput(page, "hold-reason") + "<p><button type=\"submit\">" +
          Say(page, "Place a hold", "Đặt lệnh tạm giữ") + "</button></p></form>";
  return html;
}

std::string DeletionSection(const Page& page, const archive::PackageLifecycle& l) {
  std::string html = "<h3>" + Say(page, "Deletion", "Xóa gói") + "</h3>";
  if (l.tombstone) {
    return html + "<p>" + Say(page, "Deleted on ", "Đã xóa ngày ") + page.DateTime(l.tombstone->deleted_at) +
           Say(page, " by ", " bởi ") + Escape(l.tombstone->deleted_by) + ": " + Escape(l.tombstone->reason) + ". " +
           Say(page, "Its record, evidence and the digests of its content are kept.",
               "Hồ sơ, bằng chứng và giá trị băm của nội dung gói vẫn được giữ.") +
           "</p>";
  }
  html += "<form method=\"post\" action=\"" + AdminPath(l.package_id) + "/delete\" class=\"card narrow\">" +
          page.CsrfField() + "<p class=\"hint\">" +
          Say(page,
              "Allowed only once the retention period has passed and no hold is in force. The content is erased; "
              "the package's record, its evidence and the digests of its content stay as proof that it existed and "
              "was deleted lawfully.",
              "Chỉ được xóa khi đã hết thời hạn bảo quản và không có lệnh tạm giữ. Nội dung bị xóa; hồ sơ, bằng chứng "
              "và giá trị băm của nội dung được giữ lại làm bằng chứng gói đã tồn tại và được xóa đúng quy định.") +
          "</p>" + ReasonInput(page, "delete-reason") +
          "<p><label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> " +
          Say(page, "I confirm that this package is to be deleted.", "Tôi xác nhận xóa gói này.") +
          "</label></p><p><button type=\"submit\" class=\"danger\">" + Say(page, "Delete the package", "Xóa gói") +
          "</button></p></form>";
  return html;
}

// Why Delete refused, from what the package's lifecycle says: every hold and
// a retention not yet passed; the archive's own words when neither explains it.
std::string WhyNotDeleted(const Page& page, const archive::PackageLifecycle& l, const std::string& archive_says) {
  std::string why;
  if (!l.holds.empty()) {
    why += "<li>" + Say(page, "It is under a hold: ", "Gói đang bị tạm giữ: ");
    for (const archive::Hold& h : l.holds)
      why += Say(page, "hold ", "lệnh ") + std::to_string(h.number) + " (" + Escape(h.reason) + ") ";
    why += Say(page, "— lift the holds first, if their reason no longer applies.",
               "— cần gỡ các lệnh tạm giữ trước, nếu lý do của chúng không còn.") +
           "</li>";
  }
  if (l.retention.permanent || !l.retain_until)
    why += "<li>" + Say(page, "It is kept permanently.", "Gói được bảo quản vĩnh viễn.") + "</li>";
  else if (page.app.clock.Now() < *l.retain_until)
    why += "<li>" + Say(page, "Its retention period runs until ", "Thời hạn bảo quản của gói kéo dài đến ") +
           page.Date(*l.retain_until) + ".</li>";
  if (why.empty()) why = "<li>" + Escape(archive_says) + "</li>";
  return "<strong>" + Say(page, "The package may not be deleted:", "Không được xóa gói này:") + "</strong><ul>" + why +
         "</ul>";
}

}  // namespace

std::string PackageAdminPanel(Page& page, const std::string& package_id) {
  auto lifecycle = archive::Lifecycle(page.app.archive).Of(package_id);
  std::string html = "<section class=\"card\"><h2>" + Say(page, "Administration", "Quản trị") + "</h2>";
  if (!lifecycle.ok()) return html + Notice("error", Escape(lifecycle.status().message())) + "</section>";
  const archive::PackageLifecycle& l = lifecycle.value();
  return html + RetentionSection(page, l) + HoldsSection(page, l) + DeletionSection(page, l) + "</section>";
}

namespace {

// The package's own page on this side: a link to it, `notice` (what a form
// did), and the panel.
service::HttpResponse AdminView(Page& page, const std::string& id, const std::string& notice, unsigned status) {
  page.package_id = id;
  const std::string body = notice + "<p>" + Say(page, "Package ", "Gói ") + PackageLink(id) + "</p>" +
                           PackageAdminPanel(page, id);
  return HtmlPage(page, page.T("Retention, holds and deletion", "Bảo quản, tạm giữ và xóa gói"), body, status);
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
    return ErrorPage(page, 404, page.T("There is no package with that id.", "Không có gói nào mang mã này."));
  if (s.code() == StatusCode::kInvalidArgument)
    return ErrorPage(page, 400, page.T("The address does not name one package by its whole id.",
                                       "Địa chỉ không ghi đủ mã của một gói."));
  return ErrorPage(page, 500, s.message());
}

service::HttpResponse AdminPage(Page& page) {
  const std::vector<std::string> parts = PathParts(page.path, kPrefix);
  if (parts.size() != 1) return ErrorPage(page, 404, page.T("There is no such page.", "Không có trang này."));
  auto id = NamedPackage(page, parts[0], false);
  if (!id.ok()) return NoPackage(page, id.status());
  return AdminView(page, id.value(), "", 200);
}

// A change that the archive refused as not allowed now (kFailedPrecondition,
// kInvalidArgument) is the person's to correct; anything else is the store's.
service::HttpResponse Answer(Page& page, const std::string& id, const Status& s, const std::string& done) {
  if (s.ok()) return AdminView(page, id, Notice("ok", done), 200);
  if (s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kInvalidArgument ||
      s.code() == StatusCode::kNotFound)
    return AdminView(page, id,
                     Notice("error", Say(page, "The archive refused it: ", "Hệ thống từ chối: ") + Escape(s.message())),
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
                       Notice("error", Say(page, "Give the number of years, from 1 to 1000.",
                                           "Hãy ghi số năm, từ 1 đến 1000.")),
                       400);
  }
  Status s;
  {
    std::lock_guard<std::mutex> writing(page.app.writer);
    s = archive::Lifecycle(page.app.archive).SetRetention(id, retention, reason, page.session->account);
  }
  return Answer(page, id, s, Say(page, "The retention is set.", "Đã đặt thời hạn bảo quản."));
}

service::HttpResponse AddHold(Page& page, const std::string& id, const std::string& reason) {
  Result<archive::Hold> hold = Status::Internal("not run");
  {
    std::lock_guard<std::mutex> writing(page.app.writer);
    hold = archive::Lifecycle(page.app.archive).AddHold(id, reason, page.session->account);
  }
  if (!hold.ok()) return Answer(page, id, hold.status(), "");
  return Answer(page, id, Status::Ok(),
                Say(page, "Hold ", "Đã đặt lệnh tạm giữ số ") + std::to_string(hold->number) +
                    Say(page, " is placed: the package may not be deleted while it is in force.",
                        ": gói không được xóa khi lệnh còn hiệu lực."));
}

service::HttpResponse RemoveHold(Page& page, const std::string& id, const std::string& number,
                                 const std::string& reason) {
  std::uint32_t n = 0;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (error != std::errc() || end != number.data() + number.size() || n == 0)
    return ErrorPage(page, 404, page.T("There is no such hold.", "Không có lệnh tạm giữ này."));
  Result<archive::Hold> lifted = Status::Internal("not run");
  {
    std::lock_guard<std::mutex> writing(page.app.writer);
    lifted = archive::Lifecycle(page.app.archive).RemoveHold(id, n, reason, page.session->account);
  }
  if (!lifted.ok()) return Answer(page, id, lifted.status(), "");
  return Answer(page, id, Status::Ok(),
                Say(page, "Hold ", "Đã gỡ lệnh tạm giữ số ") + std::to_string(lifted->number) +
                    Say(page, " is lifted.", "."));
}

service::HttpResponse Delete(Page& page, const std::string& id, const std::string& reason) {
  if (page.form.Get("confirm") != "yes")
    return AdminView(page, id,
                     Notice("error", Say(page, "Tick the box to confirm the deletion.", "Hãy đánh dấu ô xác nhận xóa.")),
                     400);
  Result<archive::DeletionOutcome> deleted = Status::Internal("not run");
  {
    std::lock_guard<std::mutex> writing(page.app.writer);
    deleted = archive::Lifecycle(page.app.archive).Delete(id, reason, page.session->account);
  }
  if (deleted.ok())
    return Answer(page, id, Status::Ok(),
                  Say(page, "The package is deleted; its record, evidence and the digests of its content are kept.",
                      "Đã xóa gói; hồ sơ, bằng chứng và giá trị băm của nội dung được giữ lại."));
  if (deleted.status().code() != StatusCode::kFailedPrecondition) return Answer(page, id, deleted.status(), "");
  auto lifecycle = archive::Lifecycle(page.app.archive).Of(id);
  if (!lifecycle.ok()) return Answer(page, id, lifecycle.status(), "");
  return AdminView(page, id, Notice("error", WhyNotDeleted(page, lifecycle.value(), deleted.status().message())), 409);
}

service::HttpResponse AdminAction(Page& page) {
  const std::vector<std::string> parts = PathParts(page.path, kPrefix);
  if (parts.empty()) return ErrorPage(page, 404, page.T("There is no such page.", "Không có trang này."));
  auto id = NamedPackage(page, parts[0], true);
  if (!id.ok()) return NoPackage(page, id.status());
  page.package_id = id.value();
  const std::string reason = page.form.Get("reason");
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos)
    return AdminView(page, id.value(),
                     Notice("error", Say(page, "Give a reason: it is recorded in the audit trail.",
                                         "Hãy nêu lý do: lý do được ghi vào nhật ký kiểm toán.")),
                     400);
  if (parts.size() == 2 && parts[1] == "retention") return SetRetention(page, id.value(), reason);
  if (parts.size() == 2 && parts[1] == "hold") return AddHold(page, id.value(), reason);
  if (parts.size() == 4 && parts[1] == "hold" && parts[3] == "remove")
    return RemoveHold(page, id.value(), parts[2], reason);
  if (parts.size() == 2 && parts[1] == "delete") return Delete(page, id.value(), reason);
  return ErrorPage(page, 404, page.T("There is no such page.", "Không có trang này."));
}

}  // namespace

void AddPackageAdminPages(Routes& routes) {
  routes.Add({"GET", std::string(kPrefix), true, kAdmin, "web package administration", AdminPage});
  routes.Add({"POST", std::string(kPrefix), true, kAdmin, "web package administration change", AdminAction});
}

}  // namespace preserve::web
