// The auditor's pages: the verification report of a package in the store
// (and its PDF), and the verification of an exported zip; the audit trail
// and the signature-use report have files of their own.
#include <fstream>
#include <string_view>

#include "auditor_pages.h"
#include "officer_pages.h"
#include "page.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/verification.h"
#include "preserve/audit/package_archive.h"
#include "report_pdf.h"
#include "report_view.h"
#include "view.h"

namespace preserve::web {

namespace {

// ---- /report/ID and /report/ID.pdf ----

// The answer when a package id from the address does not name one package.
service::HttpResponse UnknownPackage(const Page& page, const Status& status) {
  if (status.code() == StatusCode::kNotFound)
    return ErrorPage(page, 404, page.Text("auditor.unknown_package"));
  if (status.code() == StatusCode::kInvalidArgument)
    return ErrorPage(page, 400, page.Text("auditor.ambiguous_package", {{"detail", status.message()}}));
  return ErrorPage(page, 500, status.message());
}

service::HttpResponse Report(Page& page) {
  std::string_view rest = std::string_view(page.path).substr(std::string_view("/report/").size());
  // The form on /verify-zip names the package in the query.
  if (rest.empty() && page.query.Has("id")) return Redirect("/report/" + UrlEncode(page.query.Get("id")));
  const bool pdf = rest.ends_with(".pdf");
  if (pdf) rest.remove_suffix(4);
  auto id = archive::Catalogue(page.app.archive).ResolvePackageId(rest);
  if (!id.ok()) return UnknownPackage(page, id.status());
  page.package_id = id.value();
  auto report = archive::Verification(page.app.archive).Verify(id.value(), {});
  if (!report.ok()) return ErrorPage(page, 500, report.status().message());
  const ReportView view = MakeReportView(page, report.value(), id.value());
  if (pdf) {
    auto document = ReportPdf(page, view);
    if (!document.ok()) return ErrorPage(page, 500, document.status().message());
    return Download("application/pdf", "report-" + id.value() + ".pdf", std::move(document).value());
  }
  return HtmlPage(page, view.heading, ReportHtml(page, view, "/report/" + id.value() + ".pdf"));
}

// ---- /verify-zip ----

// The upload in a spool directory of its own for as long as it is read, then
// removed: nothing uploaded to this page is kept.
Result<std::filesystem::path> Spool(const SpoolDirectory& dir, std::string_view data) {
  const std::filesystem::path file = dir.path() / "upload.zip";
  std::ofstream out(file, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return Status::IOError("cannot write " + file.string());
  return file;
}

service::HttpResponse VerifyZipPage(Page& page) {
  return HtmlPage(page, page.Text("auditor.verify_title"), Render(page, "verify_form", {}));
}

// The form again, under a message saying why the upload was refused.
service::HttpResponse RefuseZip(const Page& page, std::string_view message, std::string_view detail) {
  return HtmlPage(page, page.Text("auditor.verify_title"),
                  Render(page, "verify_refused", {{"message", message}, {"detail", detail}}), 400);
}

// What an exported package is verified with: this archive's policy, its
// time-stamping CA and its signers' trust list, as the API's ValidateEvidence
// and `preserve verify-package --store` do.
Result<audit::PackageVerifyOptions> StoreTrust(Page& page) {
  archive::Archive& archive = page.app.archive;
  audit::PackageVerifyOptions options;
  options.clock = &page.app.clock;
  audit::UsePolicy(archive.policy(), options);
  options.policy_source = "the archive's policy (" + archive.policy().name() + ")";
  options.tsa_trust.certificates = {archive.tsa_trust_anchor()};
  options.tsa_trust.source = "the archive's time-stamping CA";
  auto trust_list = archive::Catalogue(archive).TrustList();
  if (!trust_list.ok()) return trust_list.status();
  for (const auto& entry : trust_list.value()) options.signer_trust.certificates.push_back(entry.certificate);
  options.signer_trust.source = "the archive's trust list";
  return options;
}

service::HttpResponse VerifyZip(Page& page) {
  const FormPart* upload = nullptr;
  for (const FormPart& part : page.parts)
    if (part.name == "zip" && part.file_name) upload = &part;
  if (upload == nullptr || upload->data.empty())
    return RefuseZip(page, page.Text("auditor.verify_choose"), "");
  auto options = StoreTrust(page);
  if (!options.ok()) return ErrorPage(page, 500, options.status().message());
  auto dir = SpoolDirectory::Make(page.app.options.spool);
  if (!dir.ok()) return ErrorPage(page, 500, dir.status().message());
  auto spooled = Spool(*dir.value(), upload->data);
  if (!spooled.ok()) return ErrorPage(page, 500, spooled.status().message());
  auto contents = audit::ReadPackageZip(spooled.value());
  if (!contents.ok())
    return RefuseZip(page, page.Text("auditor.verify_not_package"), contents.status().message());
  const audit::PackageReport report = audit::VerifyPackage(contents.value(), options.value());
  const ReportView view = MakeReportView(page, report, *upload->file_name);
  return HtmlPage(page, view.heading, Render(page, "verify_result", {{"report", ReportHtml(page, view, "")}}));
}

}  // namespace

void AddAuditorPages(Routes& routes) {
  routes.Add({"GET", "/report/", true, kAuditor | kAdmin, "web report", Report});
  routes.Add({"GET", "/verify-zip", false, kAuditor | kAdmin, "web verify zip", VerifyZipPage});
  routes.Add({"POST", "/verify-zip", false, kAuditor | kAdmin, "web verify zip", VerifyZip});
  AddAuditTrailPage(routes);
  AddSignatureReportPage(routes);
}

}  // namespace preserve::web
