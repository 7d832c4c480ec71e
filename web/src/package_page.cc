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
#include "view.h"
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

// ---- Pieces of the page: each a member of the template's data ----

// The record metadata's facts, in the order shown; false when it has none.
boost::json::value MetadataData(const Page& page, const std::optional<package::RecordMetadata>& m) {
  if (!m) return false;
  boost::json::array facts;
  auto add = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) facts.push_back(boost::json::object{{"label", MetadataLabel(page, key)}, {"value", value}});
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
  if (m->page_amount) add("page_amount", page.Number(*m->page_amount));
  add("due_date", m->due_date.empty() ? "" : IssueDate(page, m->due_date));
  std::string recipients;
  for (const auto& r : m->recipients) recipients += (recipients.empty() ? "" : "; ") + r;
  add("recipients", recipients);
  add("retention", m->retention_years == 0 ? page.Text("package.permanent")
                                            : page.Text("package.years", {{"years", page.Number(m->retention_years)}}));
  return boost::json::object{{"facts", std::move(facts)}};
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

// The address of a data object (not HTML-escaped: the template does it).
std::string FileLink(const std::string& id, const std::string& path, bool view) {
  return PackagePath(id) + "/file?path=" + UrlEncode(path) + (view ? "&view=1" : "");
}

std::string SizeText(const Page& page, std::uint64_t bytes) {
  if (bytes < 10'000) return page.Text("package.size.bytes", {{"n", page.Number(bytes)}});
  if (bytes < 10'000'000) return page.Text("package.size.kib", {{"n", page.Number(bytes / 1024)}});
  return page.Text("package.size.mib", {{"n", page.Number(bytes >> 20)}});
}

boost::json::array DocumentsData(const Page& page, const std::string& id, const package::Manifest& manifest) {
  boost::json::array documents;
  for (const package::DataObjectEntry& o : manifest.objects) {
    if (o.path.rfind(package::kDocumentsDir, 0) != 0) continue;
    documents.push_back(boost::json::object{
        {"name", o.path.substr(std::string_view(package::kDocumentsDir).size())},
        {"size", SizeText(page, o.size)},
        {"view_href", InlineType(o.path).empty() ? std::string() : FileLink(id, o.path, true)},
        {"download_href", FileLink(id, o.path, false)},
    });
  }
  return documents;
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

boost::json::object SignatureData(const Page& page, const std::string& id, const package::SignatureEntry& s) {
  boost::json::array warnings;
  for (const std::string& w : s.warnings) warnings.push_back(boost::json::string(w));
  boost::json::object data{
      {"common_name", CommonName(s.signer_subject)},
      {"subject", s.signer_subject},
      {"organization", s.signer_organization},
      {"signed_at", std::string()},
      {"verdict_class", std::string(VerdictClass(s.verdict))},
      {"verdict", std::string(VerdictLabel(page, s.verdict))},
      {"problem", false},
      {"format", s.format},
      {"signature_algorithm", s.signature_algorithm},
      {"digest_algorithm", s.digest_algorithm},
      {"revocation", s.revocation},
      {"warnings", std::move(warnings)},
      {"file_href", FileLink(id, s.signature_path, false)},
      {"signature_path", s.signature_path},
  };
  if (s.signing_time)
    data["signed_at"] = page.Text(s.signing_time_claimed ? "package.time_claimed" : "package.time_proved",
                                  {{"time", page.DateTime(*s.signing_time)}});
  if (s.verdict != Verdict::kValid)
    data["problem"] = boost::json::object{{"what", ExplainRefusal(page, s.sub_indication).what},
                                          {"sub_indication", s.sub_indication},
                                          {"reason", s.reason}};
  return data;
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
  auto policy_end = [&page](const std::string& what) { return page.Text("package.ats.policy_end", {{"what", what}}); };
  const std::string hash(HashAlgorithmName(info.imprint_algorithm));
  consider(policy.HashEnd(info.imprint_algorithm), policy_end(hash));
  if (!info.tsa_certificate.empty())
    if (auto not_after = CertificateNotAfter(info.tsa_certificate); not_after.ok())
      consider(not_after.value(), page.Text("package.ats.tsa_expires"));
  if (auto key = policy::SignatureKeyTypeFromName(info.signature_algorithm); key.ok())
    consider(policy.SignatureEnd(key.value(), info.signature_key_bits),
             policy_end(info.signature_algorithm + " " + std::to_string(info.signature_key_bits)));
  if (auto digest = HashAlgorithmFromName(info.signature_digest); digest.ok())
    consider(policy.HashEnd(digest.value()), policy_end(info.signature_digest));
  return h;
}

boost::json::object TimelineEntry(const Page& page, const timestamp::ArchiveTimeStamp& ats, std::size_t chain,
                                  std::size_t index, bool last) {
  const char* kind = chain == 0 && index == 0 ? "package.ats.sealed"
                     : index == 0             ? "package.ats.hash_tree"
                                              : "package.ats.timestamp";
  boost::json::object entry{{"kind", page.Text(kind)}, {"unreadable", false}, {"covered", false},
                            {"holds", false},          {"no_end", false}};
  auto info = timestamp::ParseToken(ats.time_stamp);
  if (!info.ok()) {
    entry["unreadable"] = true;
    entry["reason"] = info.status().message();
    return entry;
  }
  const timestamp::TokenInfo& t = info.value();
  entry["time"] = page.DateTime(t.gen_time);
  entry["tsa"] = t.tsa_certificate.empty() ? std::string() : CertificateSubject(t.tsa_certificate);
  entry["hash"] = std::string(HashAlgorithmName(t.imprint_algorithm));
  entry["signature"] =
      t.signature_algorithm + " " + std::to_string(t.signature_key_bits) + ", " + t.signature_digest;
  if (!last) {
    entry["covered"] = true;
  } else if (const Holds h = HoldsUntil(page, t); h.until) {
    entry["holds"] = boost::json::object{{"until", page.Date(*h.until)}, {"because", h.because}};
  } else {
    entry["no_end"] = true;
  }
  return entry;
}

boost::json::object EvidenceData(const Page& page, const Stored& stored,
                                 const std::optional<archive::PackageSummary>& summary) {
  if (stored.evidence_record.empty()) return {{"awaiting", true}};
  auto record = timestamp::DecodeEvidenceRecord(stored.evidence_record);
  if (!record.ok())
    return {{"notice", Notice("error", Escape(page.Text("package.evidence_unreadable",
                                                        {{"reason", record.status().message()}})))}};
  boost::json::object data{{"notice", ""}, {"timeline", true}};
  if (summary && summary->next_renewal) data["next_renewal"] = page.Date(*summary->next_renewal);
  data["lapsed_notice"] =
      stored.lapsed == 0 ? std::string()
                         : Notice("warn", Escape(page.Text("package.lapsed", {{"count", page.Number(stored.lapsed)}})));
  boost::json::array entries;
  const auto& sequence = record.value().sequence;
  for (std::size_t c = 0; c < sequence.size(); ++c)
    for (std::size_t i = 0; i < sequence[c].size(); ++i)
      entries.push_back(
          TimelineEntry(page, sequence[c][i], c, i, c + 1 == sequence.size() && i + 1 == sequence[c].size()));
  data["entries"] = std::move(entries);
  return data;
}

// ---- Versions, retention and holds ----

// Sets `versions` (the table's rows) or `versions_notice` (why there is none).
void AddVersions(const Page& page, const std::string& base, const std::string& shown, boost::json::object& data) {
  auto versions = archive::Lifecycle(page.app.archive).Versions(base);
  if (!versions.ok()) {
    data["versions_notice"] = Notice("error", Escape(versions.status().message()));
    return;
  }
  boost::json::array rows;
  for (const archive::VersionSummary& v : versions.value()) {
    boost::json::object row{{"version", v.version},
                            {"version_id", v.id},
                            {"this_page", v.id == shown},
                            {"link", PackageLink(v.id)},
                            {"unreadable", !v.unreadable.empty()},
                            {"reason", v.unreadable}};
    if (v.unreadable.empty()) {
      row["created"] = page.Date(v.created);
      row["state"] = std::string(StateLabel(page, v.state));
      row["change"] = v.change;
    }
    rows.push_back(std::move(row));
  }
  data["versions"] = boost::json::object{{"rows", std::move(rows)}};
}

// Sets `retention` or `retention_notice` (why it cannot be shown).
void AddRetention(const Page& page, const std::string& base, boost::json::object& data) {
  auto life = archive::Lifecycle(page.app.archive).Of(base);
  if (!life.ok()) {
    data["retention_notice"] = Notice("error", Escape(life.status().message()));
    return;
  }
  const archive::PackageLifecycle& l = life.value();
  const std::string years = page.Number(static_cast<std::uint64_t>(std::max(l.retention.years, 0)));
  boost::json::array holds;
  for (const archive::Hold& h : l.holds)
    holds.push_back(boost::json::object{{"number", h.number},
                                        {"reason", h.reason},
                                        {"placed_by", h.placed_by},
                                        {"placed_at", page.Date(h.placed_at)}});
  boost::json::object retention{
      {"text", l.retention.permanent ? page.Text("package.permanent")
               : l.retain_until      ? page.Text("package.years_until",
                                                 {{"years", years}, {"until", page.Date(*l.retain_until)}})
                                     : page.Text("package.years", {{"years", years}})},
      {"holds", std::move(holds)},
      {"tombstone", false},
  };
  if (l.tombstone)
    retention["tombstone"] = boost::json::object{{"deleted_at", page.Date(l.tombstone->deleted_at)},
                                                 {"deleted_by", l.tombstone->deleted_by},
                                                 {"reason", l.tombstone->reason}};
  data["retention"] = std::move(retention);
}

// ---- The routes ----

service::HttpResponse Overview(Page& page, const std::string& id) {
  const std::string base = PackageOf(id);
  const std::optional<archive::PackageSummary> summary = SummaryOf(page, base);
  auto stored = LoadStored(page, id);
  // A whole id is taken as given (ResolvePackageId): it may name nothing.
  if (!summary && !stored.ok() && stored.status().code() == StatusCode::kNotFound)
    return ErrorPage(page, 404, page.Text("package.no_package"));
  boost::json::object data{{"id", id}};
  if (summary)
    data["summary"] = boost::json::object{
        {"created", page.DateTime(summary->created)},
        {"state", std::string(StateLabel(page, summary->state))},
        {"latest_link", summary->latest_id != id ? PackageLink(summary->latest_id) : std::string()},
    };
  if (stored.ok() && !stored.value().evidence_record.empty()) data["export_href"] = PackagePath(id) + "/export.zip";
  if (page.Is(archive::Role::kAuditor) || page.Is(archive::Role::kAdmin))
    data["report_href"] = "/report/" + UrlEncode(id);
  if (!stored.ok()) {
    data["content_notice"] =
        Notice("warn", Escape(page.Text("package.content_unreadable", {{"reason", stored.status().message()}})));
  } else {
    const package::Manifest& manifest = *stored.value().manifest;
    boost::json::array signatures;
    for (const package::SignatureEntry& s : manifest.signatures) signatures.push_back(SignatureData(page, id, s));
    data["content"] = boost::json::object{
        {"metadata", MetadataData(page, manifest.metadata)},
        {"documents", DocumentsData(page, id, manifest)},
        {"decision", manifest.decision},
        {"signatures", std::move(signatures)},
        {"evidence", EvidenceData(page, stored.value(), summary)},
    };
  }
  AddVersions(page, base, id, data);
  AddRetention(page, base, data);
  if (page.Is(archive::Role::kAdmin)) data["admin_panel"] = PackageAdminPanel(page, base);
  const std::string title = stored.ok() && stored.value().manifest->metadata
                                ? page.Text("package.title_with",
                                            {{"citation", stored.value().manifest->metadata->Citation()}})
                                : page.Text("package.title");
  return HtmlPage(page, title, Render(page, "package_page", data));
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
      return ErrorPage(page, 404, page.Text("package.no_file"));
    return ErrorPage(page, 500, page.Text("package.file_unreadable", {{"reason", bytes.status().message()}}));
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
      return HtmlPage(page, page.Text("package.export_later_title"),
                      Notice("warn", Escape(page.Text("package.export_later", {{"reason", s.message()}}))), 409);
    if (s.code() == StatusCode::kNotFound)
      return ErrorPage(page, 404, page.Text("package.no_package"));
    return ErrorPage(page, 500, page.Text("package.export_failed", {{"reason", s.message()}}));
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
    return ErrorPage(page, 404, page.Text("package.no_page"));
  auto id = archive::Catalogue(page.app.archive).ResolvePackageId(given);
  if (!id.ok()) {
    switch (id.status().code()) {
      case StatusCode::kNotFound:
        return ErrorPage(page, 404, page.Text("package.no_package"));
      case StatusCode::kInvalidArgument:
        return ErrorPage(page, 400, page.Text("package.bad_id", {{"reason", id.status().message()}}));
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
