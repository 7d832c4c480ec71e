// The package page (every role): a package's record metadata, documents,
// signatures as ingest found them, versions, retention and holds, and its
// evidence as a timeline of archive time-stamps; its data objects to view or
// download, and the package exported as a zip.
//
// What is shown comes from the package itself (its manifest and evidence
// record, read as audit/ reads them) and from Lifecycle and Catalogue: the
// page judges nothing anew. Proving the package authentic is the
// verification report's work (/report/ID, for auditors and administrators).
#include <algorithm>
#include <cctype>

#include "officer_pages.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/lifecycle.h"
#include "preserve/archive/verification.h"
#include "preserve/package/manifest.h"
#include "preserve/timestamp/evidence_record.h"
#include "preserve/util/certificates.h"
#include "words.h"

namespace preserve::web {

namespace {

std::string Str(std::string_view s) { return std::string(s); }

constexpr std::string_view kPrefix = "/package/";

// "ID.v0002" -> "ID": the package a version belongs to.
std::string PackageOf(const std::string& id) {
  const std::size_t v = id.find(".v");
  return v == std::string::npos ? id : id.substr(0, v);
}

std::string PackagePath(const std::string& id) { return Str(kPrefix) + UrlEncode(id); }

// ---- Reading what the package holds ----

// The bytes of data object `path` ("documents/letter.txt") from a package's
// contents; kNotFound when it has no such object.
Result<std::string> ObjectOf(const audit::PackageContents& contents, const std::string& path) {
  if (auto it = contents.data.find(path); it != contents.data.end()) return ToString(it->second);
  auto streamed = contents.streamed.find(path);
  if (streamed == contents.streamed.end()) return Status::NotFound("no data object " + path);
  std::string out;
  out.reserve(streamed->second.size);
  PRESERVE_RETURN_IF_ERROR(streamed->second.read([&out](ByteView piece) {
    out.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    return Status::Ok();
  }));
  return out;
}

// A data object of a package that has no evidence yet (Contents refuses it):
// the package's files as Get writes them, in a spool directory of the request.
Result<std::string> UnsealedObject(const Page& page, const std::string& id, const std::string& path) {
  PRESERVE_ASSIGN_OR_RETURN(auto dir, SpoolDirectory::Make(page.app.options.spool));
  PRESERVE_ASSIGN_OR_RETURN(auto written, archive::Verification(page.app.archive).Get(id, dir->path()));
  for (const auto& file : written)
    if (std::filesystem::relative(file, dir->path()).generic_string() == path) {
      PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, ReadFile(file));
      return ToString(bytes);
    }
  return Status::NotFound("no data object " + path);
}

// What the page shows of the stored package: its manifest and, once sealed,
// its evidence record.
struct Stored {
  std::optional<package::Manifest> manifest;
  Bytes evidence_record;  // empty while queued
  std::size_t lapsed = 0;  // earlier evidence records that lapsed
};

Result<Stored> LoadStored(const Page& page, const std::string& id) {
  Stored stored;
  std::string manifest_json;
  auto contents = archive::Verification(page.app.archive).Contents(id);
  if (contents.ok()) {
    PRESERVE_ASSIGN_OR_RETURN(manifest_json, ObjectOf(contents.value(), package::kManifestPath));
    stored.evidence_record = std::move(contents.value().evidence_record);
    stored.lapsed = contents.value().lapsed_evidence.size();
  } else if (contents.status().code() == StatusCode::kFailedPrecondition) {
    PRESERVE_ASSIGN_OR_RETURN(manifest_json, UnsealedObject(page, id, package::kManifestPath));
  } else {
    return contents.status();
  }
  PRESERVE_ASSIGN_OR_RETURN(stored.manifest, package::ManifestFromJson(AsBytes(manifest_json)));
  return stored;
}

// The catalogue's summary of package `base` (its state, next renewal): a
// listing from just before it, since a prefix sorts first and at most 16
// ids share all of its characters but the last.
std::optional<archive::PackageSummary> SummaryOf(const Page& page, const std::string& base) {
  if (base.size() < 2) return std::nullopt;
  auto list = archive::Catalogue(page.app.archive).List(base.substr(0, base.size() - 1), 17);
  if (!list.ok()) return std::nullopt;
  for (auto& p : list.value())
    if (p.id == base) return std::move(p);
  return std::nullopt;
}

// ---- Pieces of the page ----

std::string Fact(std::string_view label, const std::string& html) {
  return "<dt>" + Str(label) + "</dt><dd>" + html + "</dd>";
}

std::string MetadataSection(const Page& page, const std::optional<package::RecordMetadata>& m) {
  std::string html = "<h2>" + Str(page.T("Record metadata", "Thông tin văn bản")) + "</h2>\n";
  if (!m)
    return html + "<p class=\"hint\">" +
           Str(page.T("No record metadata was handed in with this package.",
                      "Gói này được nộp không kèm thông tin văn bản.")) +
           "</p>\n";
  html += "<dl class=\"facts\">";
  auto add = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) html += Fact(MetadataLabel(page, key), Escape(value));
  };
  add("code_number", m->code_number);
  add("code_notation", m->code_notation);
  add("type_name", m->type_name);
  add("subject", m->subject);
  add("organ_name", m->organ_name);
  add("organ_id", m->organ_id);
  add("issued_date", IssueDate(page, m->issued_date));
  add("signer_full_name", m->signer_full_name);
  add("signer_position", m->signer_position);
  add("file_notation", m->file_notation);
  if (m->page_amount) add("page_amount", std::to_string(*m->page_amount));
  add("due_date", m->due_date.empty() ? "" : IssueDate(page, m->due_date));
  std::string recipients;
  for (const auto& r : m->recipients) recipients += (recipients.empty() ? "" : "; ") + r;
  add("recipients", recipients);
  add("retention", m->retention_years == 0
                       ? Str(page.T("Permanent", "Vĩnh viễn"))
                       : std::to_string(m->retention_years) + Str(page.T(" years", " năm")));
  return html + "</dl>\n";
}

// Content types a browser may show inline without danger; everything else is downloaded.
std::string InlineType(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() &&
           std::equal(ext.begin(), ext.end(), path.end() - static_cast<std::ptrdiff_t>(ext.size()),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  };
  if (ends(".txt")) return "text/plain; charset=utf-8";
  if (ends(".pdf")) return "application/pdf";
  return "";
}

std::string FileLink(const std::string& id, const std::string& path, bool view) {
  return PackagePath(id) + "/file?path=" + UrlEncode(path) + (view ? "&amp;view=1" : "");
}

std::string SizeText(const Page& page, std::uint64_t bytes) {
  if (bytes < 10'000) return std::to_string(bytes) + Str(page.T(" bytes", " byte"));
  if (bytes < 10'000'000) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes >> 20) + " MiB";
}

std::string DocumentsSection(const Page& page, const std::string& id, const package::Manifest& manifest) {
  std::string html = "<h2>" + Str(page.T("Documents", "Văn bản")) + "</h2>\n<div class=\"table-wrap\"><table>\n" +
                     "<thead><tr><th scope=\"col\">" + Str(page.T("File", "Tệp")) + "</th><th scope=\"col\" class=\"num\">" +
                     Str(page.T("Size", "Dung lượng")) + "</th><th scope=\"col\">" + Str(page.T("Open", "Mở")) +
                     "</th></tr></thead>\n<tbody>\n";
  for (const package::DataObjectEntry& o : manifest.objects) {
    if (o.path.rfind(package::kDocumentsDir, 0) != 0) continue;
    const std::string name = o.path.substr(std::string_view(package::kDocumentsDir).size());
    html += "<tr><td>" + Escape(name) + "</td><td class=\"num\">" + SizeText(page, o.size) + "</td><td>";
    if (!InlineType(o.path).empty())
      html += "<a href=\"" + FileLink(id, o.path, true) + "\">" + Str(page.T("View", "Xem")) + "</a> · ";
    html += "<a href=\"" + FileLink(id, o.path, false) + "\">" + Str(page.T("Download", "Tải về")) + "</a></td></tr>\n";
  }
  return html + "</tbody></table></div>\n";
}

// "Nguyễn Văn A" from "CN=Nguyễn Văn A,O=UBND tỉnh,C=VN" (RFC 2253); the whole subject when it has no CN.
std::string CommonName(const std::string& subject) {
  for (std::size_t i = 0; i + 3 <= subject.size(); ++i) {
    if (subject.compare(i, 3, "CN=") != 0 || (i > 0 && subject[i - 1] != ',')) continue;
    std::string cn;
    for (std::size_t j = i + 3; j < subject.size() && subject[j] != ','; ++j) {
      if (subject[j] == '\\' && j + 1 < subject.size()) ++j;
      cn += subject[j];
    }
    return cn;
  }
  return subject;
}

std::string SignatureCard(const Page& page, const std::string& id, const package::SignatureEntry& s) {
  std::string html = "<div class=\"card\"><dl class=\"facts\">";
  html += Fact(page.T("Signed by", "Người ký"), Escape(CommonName(s.signer_subject)) + "<br><span class=\"hint\">" +
                                                    Escape(s.signer_subject) + "</span>");
  if (!s.signer_organization.empty()) html += Fact(page.T("Organization", "Tổ chức"), Escape(s.signer_organization));
  if (s.signing_time)
    html += Fact(page.T("Signed at", "Thời điểm ký"),
                 page.DateTime(*s.signing_time) +
                     (s.signing_time_claimed ? Str(page.T(" (as the signer's computer claims)",
                                                          " (theo máy tính của người ký)"))
                                             : Str(page.T(" (proved by a time-stamp)", " (được chứng minh bằng dấu thời gian)"))));
  std::string verdict = "<span class=\"badge " + Str(VerdictClass(s.verdict)) + "\">" +
                        Str(VerdictLabel(page, s.verdict)) + "</span>";
  if (s.verdict != Verdict::kValid)
    verdict += " " + Escape(ExplainRefusal(page, s.sub_indication).what) + "<br><span class=\"hint\">" +
               Escape(s.sub_indication) + (s.reason.empty() ? "" : " — " + Escape(s.reason)) + "</span>";
  html += Fact(page.T("Verdict at hand-in", "Kết quả kiểm tra khi nộp"), verdict);
  html += Fact(page.T("Kind", "Loại chữ ký"),
               Escape(s.format) + " · " + Escape(s.signature_algorithm) + ", " + Escape(s.digest_algorithm));
  if (!s.revocation.empty()) html += Fact(page.T("Revocation", "Tình trạng thu hồi"), Escape(s.revocation));
  for (const std::string& w : s.warnings) html += Fact(page.T("Note", "Ghi chú"), Escape(w));
  html += Fact(page.T("Signature file", "Tệp chữ ký"), "<a href=\"" + FileLink(id, s.signature_path, false) + "\">" +
                                                          Escape(s.signature_path) + "</a>");
  return html + "</dl></div>\n";
}

std::string SignaturesSection(const Page& page, const std::string& id, const package::Manifest& manifest) {
  std::string html = "<h2>" + Str(page.T("Signatures", "Chữ ký số")) + "</h2>\n";
  if (!manifest.decision.empty())
    html += "<p class=\"hint\">" + Str(page.T("Ingest decision: ", "Quyết định khi tiếp nhận: ")) +
            Escape(manifest.decision) + "</p>\n";
  for (const package::SignatureEntry& s : manifest.signatures) html += SignatureCard(page, id, s);
  return html;
}

// ---- The evidence timeline ----

// Until when an archive time-stamp holds under the policy: the earliest end
// of what it relies on (its hash algorithm, its TSA certificate, its
// signature's algorithm and digest), and which that is.
struct Holds {
  std::optional<TimePoint> until;
  std::string because;
};
Holds HoldsUntil(const Page& page, const timestamp::TokenInfo& info) {
  const policy::AlgorithmCatalogue& policy = page.app.archive.policy();
  Holds h;
  auto consider = [&h](std::optional<TimePoint> end, std::string why) {
    if (end && (!h.until || *end < *h.until)) h = {end, std::move(why)};
  };
  const std::string hash(HashAlgorithmName(info.imprint_algorithm));
  consider(policy.HashEnd(info.imprint_algorithm),
           Str(page.T("the policy's end for ", "hết hạn theo chính sách của ")) + hash);
  if (!info.tsa_certificate.empty())
    if (auto not_after = CertificateNotAfter(info.tsa_certificate); not_after.ok())
      consider(not_after.value(), Str(page.T("the TSA certificate expires", "chứng thư của TSA hết hạn")));
  if (auto key = policy::SignatureKeyTypeFromName(info.signature_algorithm); key.ok())
    consider(policy.SignatureEnd(key.value(), info.signature_key_bits),
             Str(page.T("the policy's end for ", "hết hạn theo chính sách của ")) + info.signature_algorithm + " " +
                 std::to_string(info.signature_key_bits));
  if (auto digest = HashAlgorithmFromName(info.signature_digest); digest.ok())
    consider(policy.HashEnd(digest.value()),
             Str(page.T("the policy's end for ", "hết hạn theo chính sách của ")) + info.signature_digest);
  return h;
}

std::string TimelineEntry(const Page& page, const timestamp::ArchiveTimeStamp& ats, std::size_t chain,
                          std::size_t index, bool last) {
  std::string_view kind = chain == 0 && index == 0 ? page.T("Sealed: the first archive time-stamp",
                                                            "Niêm phong: dấu thời gian lưu trữ đầu tiên")
                          : index == 0 ? page.T("Hash-tree renewal", "Gia hạn cây băm (thuật toán băm mới)")
                                       : page.T("Time-stamp renewal", "Gia hạn dấu thời gian");
  auto info = timestamp::ParseToken(ats.time_stamp);
  if (!info.ok())
    return "<li><strong>" + Str(kind) + "</strong><br>" + Str(page.T("The time-stamp cannot be read: ",
                                                                      "Không đọc được dấu thời gian: ")) +
           Escape(info.status().message()) + "</li>\n";
  const timestamp::TokenInfo& t = info.value();
  std::string html = "<li><strong>" + Str(kind) + "</strong> — " + page.DateTime(t.gen_time) + "<br>";
  const std::string tsa = t.tsa_certificate.empty() ? "" : CertificateSubject(t.tsa_certificate);
  html += Str(page.T("Time-stamping authority: ", "Đơn vị cấp dấu thời gian: ")) +
          (tsa.empty() ? Str(page.T("not named in the token", "không ghi trong dấu thời gian")) : Escape(tsa)) + "<br>";
  html += Str(page.T("Hash algorithm: ", "Thuật toán băm: ")) + Str(HashAlgorithmName(t.imprint_algorithm)) + " · " +
          Str(page.T("signature: ", "chữ ký: ")) + Escape(t.signature_algorithm) + " " +
          std::to_string(t.signature_key_bits) + ", " + Escape(t.signature_digest) + "<br>";
  if (!last) {
    html += "<span class=\"hint\">" +
            Str(page.T("Covered by the next time-stamp before anything it relies on ended.",
                       "Được dấu thời gian tiếp theo bao phủ trước khi những gì nó dựa vào hết hiệu lực.")) +
            "</span>";
  } else if (const Holds h = HoldsUntil(page, t); h.until) {
    html += Str(page.T("Holds under the policy until ", "Có hiệu lực theo chính sách đến ")) + page.Date(*h.until) +
            " (" + Escape(h.because) + ")";
  } else {
    html += Str(page.T("No end is known under the policy.", "Chính sách chưa xác định thời điểm hết hiệu lực."));
  }
  return html + "</li>\n";
}

std::string EvidenceSection(const Page& page, const Stored& stored, const std::optional<archive::PackageSummary>& summary) {
  std::string html = "<h2>" + Str(page.T("Evidence of integrity", "Bằng chứng toàn vẹn")) + "</h2>\n";
  if (stored.evidence_record.empty())
    return html + "<p>" +
           Str(page.T("Awaiting its first archive time-stamp: the archive seals new packages within minutes.",
                      "Đang chờ dấu thời gian lưu trữ đầu tiên: kho niêm phong gói mới trong vài phút.")) +
           "</p>\n";
  auto record = timestamp::DecodeEvidenceRecord(stored.evidence_record);
  if (!record.ok())
    return html + Notice("error", Str(page.T("The evidence record cannot be read: ", "Không đọc được hồ sơ bằng chứng: ")) +
                                      Escape(record.status().message()));
  if (summary && summary->next_renewal)
    html += "<p>" + Str(page.T("Next renewal due: ", "Lần gia hạn tiếp theo: ")) + page.Date(*summary->next_renewal) +
            "</p>\n";
  if (stored.lapsed > 0)
    html += Notice("warn", std::to_string(stored.lapsed) +
                               Str(page.T(" earlier evidence record(s) lapsed and a new one was started: existence "
                                          "before its first time-stamp is not proven by them.",
                                          " hồ sơ bằng chứng trước đã mất hiệu lực và một hồ sơ mới đã được lập: "
                                          "chúng không chứng minh sự tồn tại trước dấu thời gian đầu tiên của hồ sơ mới.")));
  html += "<ol class=\"timeline\">\n";
  const auto& sequence = record.value().sequence;
  for (std::size_t c = 0; c < sequence.size(); ++c)
    for (std::size_t i = 0; i < sequence[c].size(); ++i)
      html += TimelineEntry(page, sequence[c][i], c, i, c + 1 == sequence.size() && i + 1 == sequence[c].size());
  return html + "</ol>\n";
}

// ---- Versions, retention and holds ----

std::string VersionsSection(const Page& page, const std::string& base, const std::string& shown) {
  std::string html = "<h2>" + Str(page.T("Versions", "Các phiên bản")) + "</h2>\n";
  auto versions = archive::Lifecycle(page.app.archive).Versions(base);
  if (!versions.ok())
    return html + Notice("error", Escape(versions.status().message()));
  html += "<div class=\"table-wrap\"><table>\n<thead><tr><th scope=\"col\" class=\"num\">" +
          Str(page.T("Version", "Phiên bản")) + "</th><th scope=\"col\">" + Str(page.T("Stored as", "Mã lưu trữ")) +
          "</th><th scope=\"col\">" + Str(page.T("Archived", "Ngày lưu")) + "</th><th scope=\"col\">" +
          Str(page.T("State", "Trạng thái")) + "</th><th scope=\"col\">" + Str(page.T("Change", "Thay đổi")) +
          "</th></tr></thead>\n<tbody>\n";
  for (const archive::VersionSummary& v : versions.value()) {
    html += "<tr><td class=\"num\">" + std::to_string(v.version) + "</td><td>" +
            (v.id == shown ? Escape(v.id) + " " + Str(page.T("(this page)", "(trang này)")) : PackageLink(v.id)) +
            "</td>";
    if (!v.unreadable.empty()) {
      html += "<td colspan=\"3\">" + Str(page.T("Unreadable: ", "Không đọc được: ")) + Escape(v.unreadable) + "</td></tr>\n";
      continue;
    }
    html += "<td>" + page.Date(v.created) + "</td><td>" + Str(StateLabel(page, v.state)) + "</td><td>" +
            Escape(v.change) + "</td></tr>\n";
  }
  return html + "</tbody></table></div>\n";
}

std::string RetentionSection(const Page& page, const std::string& base) {
  std::string html = "<h2>" + Str(page.T("Retention and holds", "Thời hạn bảo quản và lệnh giữ")) + "</h2>\n";
  auto life = archive::Lifecycle(page.app.archive).Of(base);
  if (!life.ok()) return html + Notice("error", Escape(life.status().message()));
  const archive::PackageLifecycle& l = life.value();
  html += "<dl class=\"facts\">";
  html += Fact(page.T("Retention", "Thời hạn bảo quản"),
               l.retention.permanent ? Str(page.T("Permanent", "Vĩnh viễn"))
                                     : std::to_string(l.retention.years) + Str(page.T(" years", " năm")) +
                                           (l.retain_until ? Str(page.T(", until ", ", đến ngày ")) + page.Date(*l.retain_until)
                                                           : ""));
  if (l.holds.empty())
    html += Fact(page.T("Holds", "Lệnh giữ"), Str(page.T("None in force", "Không có")));
  for (const archive::Hold& h : l.holds)
    html += Fact(page.T("Hold", "Lệnh giữ") , "#" + std::to_string(h.number) + " · " + Escape(h.reason) + " · " +
                                                 Escape(h.placed_by) + ", " + page.Date(h.placed_at));
  if (l.tombstone)
    html += Fact(page.T("Deleted", "Đã xóa"), page.Date(l.tombstone->deleted_at) + " · " + Escape(l.tombstone->deleted_by) +
                                               " · " + Escape(l.tombstone->reason));
  return html + "</dl>\n";
}

// ---- The routes ----

service::HttpResponse Overview(Page& page, const std::string& id) {
  const std::string base = PackageOf(id);
  const std::optional<archive::PackageSummary> summary = SummaryOf(page, base);
  auto stored = LoadStored(page, id);
  // A whole id is taken as given (ResolvePackageId): it may name nothing.
  if (!summary && !stored.ok() && stored.status().code() == StatusCode::kNotFound)
    return ErrorPage(page, 404, page.T("The archive holds no package with this id.", "Kho không có gói nào mang mã này."));
  std::string body = "<dl class=\"facts\">" + Fact(page.T("Package", "Gói lưu trữ"), "<span class=\"id\">" + Escape(id) + "</span>");
  if (summary) {
    body += Fact(page.T("Archived", "Ngày lưu"), page.DateTime(summary->created));
    body += Fact(page.T("State", "Trạng thái"), Str(StateLabel(page, summary->state)));
    if (summary->latest_id != id)
      body += Fact(page.T("Latest version", "Phiên bản mới nhất"), PackageLink(summary->latest_id));
  }
  body += "</dl>\n<p class=\"no-print\">";
  const bool sealed = stored.ok() && !stored.value().evidence_record.empty();
  if (sealed)
    body += "<a class=\"button\" href=\"" + PackagePath(id) + "/export.zip\">" +
            Str(page.T("Export as zip", "Xuất gói (.zip)")) + "</a> ";
  if (page.Is(archive::Role::kAuditor) || page.Is(archive::Role::kAdmin))
    body += "<a class=\"button secondary\" href=\"/report/" + UrlEncode(id) + "\">" +
            Str(page.T("Verification report", "Báo cáo kiểm tra")) + "</a>";
  body += "</p>\n";
  if (!stored.ok()) {
    body += Notice("warn", Str(page.T("The package's content cannot be shown: ", "Không hiển thị được nội dung gói: ")) +
                               Escape(stored.status().message()));
  } else {
    const package::Manifest& manifest = *stored.value().manifest;
    body += MetadataSection(page, manifest.metadata);
    body += DocumentsSection(page, id, manifest);
    body += SignaturesSection(page, id, manifest);
    body += EvidenceSection(page, stored.value(), summary);
  }
  body += VersionsSection(page, base, id);
  body += RetentionSection(page, base);
  if (page.Is(archive::Role::kAdmin)) body += PackageAdminPanel(page, base);
  std::string title = Str(page.T("Package", "Gói lưu trữ"));
  if (stored.ok() && stored.value().manifest->metadata) title += " " + stored.value().manifest->metadata->Citation();
  return HtmlPage(page, title, body);
}

service::HttpResponse File(Page& page, const std::string& id) {
  const std::string path = page.query.Get("path");
  // The package's own objects only: documents/, signatures/, validation/ and the manifest.
  auto contents = archive::Verification(page.app.archive).Contents(id);
  Result<std::string> bytes = contents.ok() ? ObjectOf(contents.value(), path)
                              : contents.status().code() == StatusCode::kFailedPrecondition
                                  ? UnsealedObject(page, id, path)
                                  : Result<std::string>(contents.status());
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound)
      return ErrorPage(page, 404, page.T("The package has no such file.", "Gói không có tệp này."));
    return ErrorPage(page, 500, Str(page.T("The file cannot be read: ", "Không đọc được tệp: ")) + bytes.status().message());
  }
  const std::string name = path.substr(path.rfind('/') + 1);
  const std::string inline_type = InlineType(path);
  if (page.query.Has("view") && !inline_type.empty()) return Download(inline_type, name, std::move(bytes).value(), true);
  return Download(inline_type.empty() ? "application/octet-stream" : inline_type, name, std::move(bytes).value());
}

service::HttpResponse ExportZip(Page& page, const std::string& id) {
  auto dir = SpoolDirectory::Make(page.app.options.spool);
  if (!dir.ok()) return ErrorPage(page, 500, dir.status().message());
  const std::filesystem::path zip = dir.value()->path() / "package.zip";
  if (Status s = archive::Verification(page.app.archive).Export(id, zip); !s.ok()) {
    if (s.code() == StatusCode::kFailedPrecondition)
      return HtmlPage(page, page.T("The package cannot be exported now", "Hiện chưa xuất được gói này"),
                      Notice("warn", Str(page.T("It is not sealed yet (try again in a few minutes), or it was deleted. ",
                                                "Gói chưa được niêm phong (hãy thử lại sau ít phút), hoặc đã bị xóa. ")) +
                                         Escape(s.message())),
                      409);
    if (s.code() == StatusCode::kNotFound)
      return ErrorPage(page, 404, page.T("The archive holds no package with this id.", "Kho không có gói nào mang mã này."));
    return ErrorPage(page, 500, Str(page.T("The package could not be exported: ", "Không xuất được gói: ")) + s.message());
  }
  auto bytes = ReadFile(zip);
  if (!bytes.ok()) return ErrorPage(page, 500, bytes.status().message());
  return Download("application/zip", id + ".zip", ToString(bytes.value()));
}

}  // namespace

service::HttpResponse PackagePages(Page& page) {
  const std::string rest = page.path.substr(kPrefix.size());
  const std::size_t slash = rest.find('/');
  const std::string given = rest.substr(0, slash);
  const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (action != "" && action != "file" && action != "export.zip")
    return ErrorPage(page, 404, page.T("There is no such page.", "Không có trang này."));
  auto id = archive::Catalogue(page.app.archive).ResolvePackageId(given);
  if (!id.ok()) {
    switch (id.status().code()) {
      case StatusCode::kNotFound:
        return ErrorPage(page, 404, page.T("The archive holds no package with this id.", "Kho không có gói nào mang mã này."));
      case StatusCode::kInvalidArgument:
        return ErrorPage(page, 400, Str(page.T("This package id is not valid: ", "Mã gói không hợp lệ: ")) +
                                        id.status().message());
      default:
        return ErrorPage(page, 500, id.status().message());
    }
  }
  page.package_id = id.value();
  if (action == "file") return File(page, id.value());
  if (action == "export.zip") return ExportZip(page, id.value());
  if (id.value() != given) return Redirect(PackagePath(id.value()));  // one address per package
  return Overview(page, id.value());
}

}  // namespace preserve::web
