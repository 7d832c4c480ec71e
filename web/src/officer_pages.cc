// The records officer's pages: hand in documents (signed files, or a folder
// as a zip or tar bundle, with Decree 30 record metadata typed into the form
// or in sidecars), and search the holdings by that metadata. The package
// page is in package_page.cc.
//
// A hand-in is read as `preserve ingest` reads a directory or a bundle
// (ingest::ReadBulkInput: detached signatures paired with their documents,
// DOCUMENT.metadata.json sidecars with theirs, hostile bundles refused as a
// whole), from a spool directory of its own, and goes through the service's
// ingest queue like a PreservePO.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <variant>

#include "officer_pages.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/ingestion.h"
#include "preserve/ingest/bulk_input.h"
#include "preserve/package/record_metadata.h"
#include "preserve/util/date.h"
#include "preserve/util/unicode.h"
#include "view.h"
#include "words.h"

namespace preserve::web {

std::string IssueDate(const Page& page, std::string_view iso) {
  auto day = ParseIsoDate(iso);
  if (!day.ok()) return std::string(iso);
  return page.Date(TimePoint(day.value()));
}

std::string MetadataLabel(const Page& page, std::string_view key) {
  struct Label {
    std::string_view key, text;  // the sidecar's key, the catalogue's
  };
  static constexpr Label kLabels[] = {
      {"organ_name", "officer.field.organ_name"},
      {"organ_id", "officer.field.organ_id"},
      {"type_name", "officer.field.type_name"},
      {"code_number", "officer.field.code_number"},
      {"code_notation", "officer.field.code_notation"},
      {"issued_date", "officer.field.issued_date"},
      {"subject", "officer.field.subject"},
      {"signer_full_name", "officer.field.signer_full_name"},
      {"signer_position", "officer.field.signer_position"},
      {"retention", "officer.field.retention"},
      {"file_notation", "officer.field.file_notation"},
      {"language", "officer.field.language"},
      {"page_amount", "officer.field.page_amount"},
      {"priority", "officer.field.priority"},
      {"secrecy", "officer.field.secrecy"},
      {"due_date", "officer.field.due_date"},
      {"recipients", "officer.field.recipients"},
  };
  for (const Label& l : kLabels)
    if (l.key == key) return page.Text(l.text);
  return std::string(key);
}

Result<std::unique_ptr<SpoolDirectory>> SpoolDirectory::Make(const std::filesystem::path& spool) {
  PRESERVE_ASSIGN_OR_RETURN(std::string token, RandomToken());
  std::unique_ptr<SpoolDirectory> dir(new SpoolDirectory(spool / ("web-" + token.substr(0, 32))));
  std::error_code ec;
  std::filesystem::create_directories(dir->path(), ec);
  if (ec) return Status::IOError("cannot make " + dir->path().string() + ": " + ec.message());
  return dir;
}

SpoolDirectory::~SpoolDirectory() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

std::string Str(std::string_view s) { return std::string(s); }

// ---- Hand in: the form ----

// The record metadata fields of the form, in the order shown. The required
// ones are required only when any field is filled in: without metadata the
// documents go in with their sidecars, or none.
struct FormField {
  std::string_view key;
  bool required;
  std::string_view hint;  // the catalogue's key of its placeholder, if it has one
};
constexpr FormField kFormFields[] = {
    {"organ_name", true, "officer.hint.organ_name"},
    {"organ_id", false, "officer.hint.organ_id"},
    {"type_name", false, "officer.hint.type_name"},
    {"code_number", true, "officer.hint.code_number"},
    {"code_notation", true, "officer.hint.code_notation"},
    {"issued_date", true, "officer.hint.issued_date"},
    {"subject", true, ""},
    {"signer_full_name", false, ""},
    {"signer_position", false, "officer.hint.signer_position"},
    {"retention", false, "officer.hint.retention"},
};

// `problem` is text (escaped here), shown above the form.
service::HttpResponse HandInForm(const Page& page, const Fields& values, std::string_view problem = {},
                                 unsigned status = 200) {
  boost::json::array fields;
  for (const FormField& f : kFormFields)
    fields.push_back(boost::json::object{
        {"key", f.key},
        {"label", MetadataLabel(page, f.key)},
        {"required", f.required},
        {"value", values.Get(f.key)},
        {"textarea", f.key == "subject"},
        {"numeric", f.key == "retention"},
        {"hint", f.hint.empty() ? std::string() : page.Text(f.hint)},
    });
  const boost::json::object data{
      {"notice", problem.empty() ? std::string() : Notice("error", Escape(problem))},
      {"fields", std::move(fields)},
  };
  return HtmlPage(page, page.Text("officer.handin.title"), Render(page, "officer_handin", data), status);
}

service::HttpResponse HandInPage(Page& page) { return HandInForm(page, {}); }

// ---- Hand in: the record metadata typed in ----

// The form's metadata as a sidecar would give it; std::nullopt when every
// field is empty. kInvalidArgument lists what to correct, in the page's language.
Result<std::optional<package::RecordMetadata>> FormMetadata(const Page& page, const Fields& values) {
  bool any = false;
  for (const FormField& f : kFormFields) any = any || !values.Get(f.key).empty();
  if (!any) return std::optional<package::RecordMetadata>();

  std::vector<std::string> problems;
  for (const FormField& f : kFormFields)
    if (f.required && values.Get(f.key).empty())
      problems.push_back(page.Text("officer.handin.required", {{"field", MetadataLabel(page, f.key)}}));
  package::RecordMetadata m;
  m.organ_name = values.Get("organ_name");
  m.organ_id = values.Get("organ_id");
  m.type_name = values.Get("type_name");
  m.code_number = values.Get("code_number");
  m.code_notation = values.Get("code_notation");
  m.subject = values.Get("subject");
  m.signer_full_name = values.Get("signer_full_name");
  m.signer_position = values.Get("signer_position");
  if (const std::string date = values.Get("issued_date"); !date.empty()) {
    auto day = ParseDate(date);
    if (day.ok()) {
      m.issued_date = FormatDate(day.value());
    } else {
      problems.push_back(
          page.Text("officer.handin.not_a_date", {{"field", MetadataLabel(page, "issued_date")}, {"value", date}}));
    }
  }
  if (const std::string years = values.Get("retention"); !years.empty()) {
    const bool digits = years.size() <= 3 && std::all_of(years.begin(), years.end(), [](char c) {
                          return std::isdigit(static_cast<unsigned char>(c)) != 0;
                        });
    const unsigned n = digits ? static_cast<unsigned>(std::stoul(years)) : 0;
    if (n < 1 || n > 200)
      problems.push_back(
          page.Text("officer.handin.not_years", {{"field", MetadataLabel(page, "retention")}, {"value", years}}));
    m.retention_years = n;
  }
  // The rest (lengths, characters) as ingest itself checks a sidecar.
  if (problems.empty())
    if (auto parsed = package::ParseRecordMetadata(AsBytes(package::RecordMetadataToJson(m))); !parsed.ok())
      problems.push_back(page.Text("officer.handin.metadata_invalid", {{"reason", parsed.status().message()}}));
  if (!problems.empty()) {
    std::string joined;
    for (const std::string& p : problems) joined += (joined.empty() ? "" : "; ") + p;
    return Status::InvalidArgument(joined);
  }
  return std::optional<package::RecordMetadata>(std::move(m));
}

// ---- Hand in: the files ----

bool EndsWithNoCase(std::string_view text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), text.end() - static_cast<std::ptrdiff_t>(suffix.size()),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

// A folder handed in as a bundle (by its name: an ASiC container is a zip too, and is a document).
bool IsBundle(std::string_view name) {
  for (std::string_view ext : {".zip", ".tar", ".tgz", ".tar.gz", ".txz", ".tar.xz", ".tbz2", ".tar.bz2"})
    if (EndsWithNoCase(name, ext)) return true;
  return false;
}

// The name of an uploaded file as it is written to the spool: its last part
// (old browsers send a whole Windows path). Empty when it cannot be a file's
// name there.
std::string UploadName(std::string_view sent) {
  const std::size_t slash = sent.find_last_of("/\\");
  const std::string name(slash == std::string_view::npos ? sent : sent.substr(slash + 1));
  if (name.empty() || name[0] == '.' || !IsUtf8(name)) return "";
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "";
  return name;
}

Status WriteUpload(const std::filesystem::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return Status::IOError("cannot write " + path.string());
  return Status::Ok();
}

// Submissions from a folder or a bundle, as `preserve ingest` makes them
// (archive::SubmissionsOf); outcomes name them `shown`/path.
Status AddBulk(const std::filesystem::path& input, const std::filesystem::path& scratch, const std::string& shown,
               std::vector<archive::Submission>& out) {
  PRESERVE_ASSIGN_OR_RETURN(ingest::BulkInput bulk, ingest::ReadBulkInput(input, scratch));
  for (archive::Submission& s : archive::SubmissionsOf(bulk, [&](const std::string& path) { return shown + path; }))
    out.push_back(std::move(s));
  return Status::Ok();
}

// A hand-in that cannot go on, and the page that says so.
struct Refusal {
  unsigned status;
  std::string message;  // in the page's language
};

bool IsDetachedSignature(std::string_view name) { return EndsWithNoCase(name, ".p7s"); }
bool IsSidecar(std::string_view name) { return EndsWithNoCase(name, ".metadata.json"); }
// Files that may be signed on their own (ReadBulkInput's pairing rules).
bool MaySignItself(std::string_view name) {
  for (std::string_view ext : {".pdf", ".p7m", ".asice", ".asics", ".sce", ".scs"})
    if (EndsWithNoCase(name, ext)) return true;
  return false;
}

// One detached signature and one document whose names do not pair them
// (letter.txt with "ky-so-cong-van.p7s", as signing tools often name their
// output) are a pair when nothing else is handed in loose beside them, as
// `preserve ingest DOCUMENT --signature FILE` makes one. Returns the two
// names; std::nullopt otherwise.
std::optional<std::pair<std::string, std::string>> LonePair(const std::map<std::string, const FormPart*>& loose) {
  std::vector<std::string> signatures, documents;
  for (const auto& [name, part] : loose) {
    if (IsSidecar(name)) continue;
    if (IsDetachedSignature(name)) {
      if (!loose.contains(name.substr(0, name.size() - 4))) signatures.push_back(name);
    } else if (!loose.contains(name + ".p7s") && !MaySignItself(name)) {
      documents.push_back(name);
    }
  }
  if (signatures.size() != 1 || documents.size() != 1) return std::nullopt;
  return std::pair{documents.front(), signatures.front()};
}

// Writes the lone pair into `pair_dir` and makes its submission (with the
// document's sidecar, when handed in), taking the three files out of `loose`.
Status AddLonePair(const std::string& document, const std::string& signature, const std::filesystem::path& pair_dir,
                   std::map<std::string, const FormPart*>& loose, std::vector<archive::Submission>& out) {
  std::error_code ec;
  std::filesystem::create_directories(pair_dir, ec);
  if (ec) return Status::IOError("cannot make " + pair_dir.string() + ": " + ec.message());
  archive::Submission s;
  s.name = document;
  s.content = pair_dir / "document";
  s.signature = pair_dir / "signature";
  // The names the package records: UTF-8 in NFC, as ReadBulkInput makes them.
  PRESERVE_ASSIGN_OR_RETURN(s.content_name, ToNfc(document));
  PRESERVE_ASSIGN_OR_RETURN(s.signature_name, ToNfc(signature));
  PRESERVE_RETURN_IF_ERROR(WriteUpload(*s.content, loose.at(document)->data));
  PRESERVE_RETURN_IF_ERROR(WriteUpload(s.signature, loose.at(signature)->data));
  if (auto sidecar = loose.find(document + ".metadata.json"); sidecar != loose.end()) {
    s.metadata = pair_dir / "metadata.json";
    PRESERVE_RETURN_IF_ERROR(WriteUpload(*s.metadata, sidecar->second->data));
    loose.erase(sidecar);
  }
  loose.erase(document);
  loose.erase(signature);
  out.push_back(std::move(s));
  return Status::Ok();
}

// Writes the uploaded files into `dir` (each bundle apart, loose files in
// files/) and reads them into submissions.
std::variant<std::vector<archive::Submission>, Refusal> ReadUploads(const Page& page,
                                                                   const std::vector<const FormPart*>& files,
                                                                   const std::filesystem::path& dir) {
  auto not_stored = [&page](const std::string& reason) {
    return page.Text("officer.handin.not_stored", {{"reason", reason}});
  };
  std::vector<archive::Submission> submissions;
  std::map<std::string, const FormPart*> loose;
  std::set<std::string> names;
  std::size_t bundles = 0;
  for (const FormPart* part : files) {
    const std::string name = UploadName(*part->file_name);
    if (name.empty())
      return Refusal{400, page.Text("officer.handin.bad_name", {{"name", EscapeForDisplay(*part->file_name)}})};
    if (!names.insert(name).second)
      return Refusal{400, page.Text("officer.handin.same_name", {{"name", name}})};
    if (!IsBundle(name)) {
      loose.emplace(name, part);
      continue;
    }
    const std::filesystem::path bundle = dir / ("bundle-" + std::to_string(++bundles));
    if (Status s = WriteUpload(bundle, part->data); !s.ok()) return Refusal{500, not_stored(s.message())};
    Status read = AddBulk(bundle, dir / ("unpacked-" + std::to_string(bundles)), name + "/", submissions);
    if (!read.ok()) {
      const StatusCode code = read.code();
      const bool refused = code == StatusCode::kInvalidArgument || code == StatusCode::kFailedPrecondition ||
                           code == StatusCode::kCorruption;
      return Refusal{refused ? 400u : 500u,
                     page.Text("officer.handin.bundle_refused", {{"name", name}, {"reason", read.message()}})};
    }
  }
  if (auto pair = LonePair(loose))
    if (Status s = AddLonePair(pair->first, pair->second, dir / "pair", loose, submissions); !s.ok())
      return Refusal{s.code() == StatusCode::kIOError ? 500u : 400u, not_stored(s.message())};
  if (loose.empty()) return submissions;
  const std::filesystem::path folder = dir / "files";
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return Refusal{500, not_stored(ec.message())};
  for (const auto& [name, part] : loose)
    if (Status s = WriteUpload(folder / name, part->data); !s.ok()) return Refusal{500, not_stored(s.message())};
  if (Status s = AddBulk(folder, dir / "unpacked-files", "", submissions); !s.ok())
    return Refusal{400, page.Text("officer.handin.unreadable_files", {{"reason", s.message()}})};
  return submissions;
}

// ---- Hand in: the outcomes ----

boost::json::object OutcomeRow(const Page& page, const archive::IngestOutcome& o) {
  const std::string_view cls = archive::OutcomeClass(o);
  boost::json::object row{{"input", o.input},       {"accepted", false}, {"duplicate", false},
                          {"unreadable", false},    {"refused", false},  {"reason", o.reason},
                          {"metadata", false},
                          {"package_link", o.package_id.empty() ? std::string() : PackageLink(o.package_id)}};
  if (cls == "accepted") {
    row["accepted"] = true;
    if (o.metadata)
      row["metadata"] = boost::json::object{{"citation", o.metadata->Citation()}, {"subject", o.metadata->subject}};
  } else if (cls == "duplicate") {
    row["duplicate"] = true;
  } else if (cls == "error") {
    row["unreadable"] = true;
  } else {
    const Explanation e = ExplainRefusal(page, o.category);
    row["refused"] = true;
    row["what"] = e.what;
    row["next"] = e.next;
    row["category"] = o.category;
  }
  return row;
}

service::HttpResponse HandInResult(const Page& page, const std::vector<archive::IngestOutcome>& outcomes) {
  std::size_t kept = 0;
  for (const auto& o : outcomes) kept += (o.accepted || o.duplicate) ? 1 : 0;
  const boost::json::object counts{{"counts", page.Number(kept) + "/" + page.Number(outcomes.size())}};
  const std::string notice = kept == outcomes.size()
                                 ? Notice("ok", Escape(page.Text("officer.result.all_in", counts)))
                                 : Notice(kept == 0 ? "error" : "warn", Escape(page.Text("officer.result.some_in", counts)));
  boost::json::array rows;
  for (const auto& o : outcomes) rows.push_back(OutcomeRow(page, o));
  const boost::json::object data{{"notice", notice}, {"rows", std::move(rows)}};
  return HtmlPage(page, page.Text("officer.result.title"), Render(page, "officer_handin_result", data));
}

service::HttpResponse HandIn(Page& page) {
  const std::string* type = page.request.Header("content-type");
  if (type == nullptr || type->rfind("multipart/form-data", 0) != 0)
    return ErrorPage(page, 400,
                     page.Text("officer.handin.not_multipart"));
  Fields values;
  std::vector<const FormPart*> files;
  for (const FormPart& part : page.parts) {
    if (!part.file_name) {
      values.Add(part.name, part.data);
    } else if (part.name == "files" && !(part.file_name->empty() && part.data.empty())) {
      files.push_back(&part);
    }
  }
  if (files.empty())
    return HandInForm(page, values, page.Text("officer.handin.no_file"), 400);
  auto metadata = FormMetadata(page, values);
  if (!metadata.ok()) return HandInForm(page, values, metadata.status().message(), 400);

  auto dir = SpoolDirectory::Make(page.app.options.spool);
  if (!dir.ok()) return ErrorPage(page, 500, dir.status().message());
  auto read = ReadUploads(page, files, dir.value()->path());
  if (auto* refusal = std::get_if<Refusal>(&read))
    return refusal->status == 400 ? HandInForm(page, values, refusal->message, 400)
                                  : ErrorPage(page, refusal->status, refusal->message);
  auto& submissions = std::get<std::vector<archive::Submission>>(read);
  if (submissions.empty())
    return HandInForm(page, values, page.Text("officer.handin.no_document"), 400);
  if (metadata.value()) {
    const std::filesystem::path sidecar = dir.value()->path() / "form.metadata.json";
    if (Status s = WriteUpload(sidecar, package::RecordMetadataToJson(*metadata.value())); !s.ok())
      return ErrorPage(page, 500, s.message());
    for (archive::Submission& s : submissions)
      if (!s.unusable && !s.metadata) s.metadata = sidecar;
  }

  auto outcomes = page.app.hooks.ingest(std::move(submissions));
  if (!outcomes.ok()) {
    if (outcomes.status().code() == StatusCode::kUnavailable)
      return ErrorPage(page, 503, page.Text("officer.handin.stopping"));
    return ErrorPage(page, 500, page.Text("officer.handin.not_stored_archive", {{"reason", outcomes.status().message()}}));
  }
  for (const auto& o : outcomes.value())
    if (!o.package_id.empty() && page.package_id.empty()) page.package_id = o.package_id;
  return HandInResult(page, outcomes.value());
}

// ---- Search ----

constexpr std::size_t kSearchPage = 25;

// The search form's fields: the query parameter, the catalogue's keys of its
// label and of its placeholder (if it has one).
struct SearchField {
  std::string_view name, label, hint;
};
constexpr SearchField kSearchFields[] = {
    {"organ", "officer.search.organ", ""},
    {"type", "officer.search.type", "officer.search.hint.type"},
    {"number", "officer.search.number", "officer.search.hint.number"},
    {"subject", "officer.search.subject", "officer.search.hint.subject"},
    {"from", "officer.search.from", "officer.search.hint.from"},
    {"to", "officer.search.to", "officer.search.hint.to"},
    {"signer_org", "officer.search.signer_org", ""},
};

// A date field as ListFilter takes it (YYYY-MM-DD); false when it is not a date.
bool FilterDate(const std::string& text, std::string& out) {
  if (text.empty()) return true;
  auto day = ParseDate(text);
  if (!day.ok()) return false;
  out = FormatDate(day.value());
  return true;
}

boost::json::object ResultRow(const Page& page, const archive::PackageSummary& p) {
  boost::json::object row{{"id", p.id},
                          {"unreadable", p.unreadable},
                          {"package_link", p.id.empty() ? std::string() : PackageLink(p.id)},
                          {"url_id", UrlEncode(p.id)},
                          {"metadata", false}};
  if (!p.unreadable.empty()) return row;
  if (p.metadata) {
    const package::RecordMetadata& m = *p.metadata;
    row["metadata"] = boost::json::object{{"citation", m.Citation()},     {"type_name", m.type_name},
                                          {"subject", m.subject},         {"organ_name", m.organ_name},
                                          {"issued", IssueDate(page, m.issued_date)}};
  }
  row["created"] = page.Date(p.created);
  row["state"] = std::string(StateLabel(page, p.state));
  return row;
}

// The search page: the form, then `notice` (HTML) above it or the results below it.
boost::json::object SearchData(const Page& page) {
  boost::json::array fields;
  for (const SearchField& f : kSearchFields)
    fields.push_back(boost::json::object{
        {"name", f.name},
        {"label", page.Text(f.label)},
        {"value", page.query.Get(f.name)},
        {"hint", f.hint.empty() ? std::string() : page.Text(f.hint)},
    });
  return {{"fields", std::move(fields)}};
}

service::HttpResponse Search(Page& page) {
  const std::string title = page.Text("officer.search.title");
  archive::ListFilter filter;
  filter.organ = page.query.Get("organ");
  filter.type_name = page.query.Get("type");
  filter.number = page.query.Get("number");
  filter.subject = page.query.Get("subject");
  filter.signer_organization = page.query.Get("signer_org");
  boost::json::object data = SearchData(page);
  if (!FilterDate(page.query.Get("from"), filter.issued_from) || !FilterDate(page.query.Get("to"), filter.issued_to)) {
    data["notice"] = Notice("error", Escape(page.Text("officer.search.bad_date")));
    return HtmlPage(page, title, Render(page, "officer_search", data), 400);
  }
  auto packages = archive::Catalogue(page.app.archive).List(page.query.Get("after"), kSearchPage, filter);
  if (!packages.ok())
    return ErrorPage(page, 500, page.Text("officer.search.unreadable_holdings", {{"reason", packages.status().message()}}));

  if (packages.value().empty()) {
    data["none_notice"] = Notice("warn", Escape(page.Text("officer.search.none")));
    return HtmlPage(page, title, Render(page, "officer_search", data));
  }
  boost::json::array rows;
  std::string last;
  for (const archive::PackageSummary& p : packages.value()) {
    rows.push_back(ResultRow(page, p));
    if (!p.id.empty()) last = p.id;
  }
  data["results"] = true;
  data["rows"] = std::move(rows);
  if (packages.value().size() == kSearchPage && !last.empty()) {
    std::string next = "/search?";
    for (const SearchField& f : kSearchFields)
      if (const std::string v = page.query.Get(f.name); !v.empty()) next += Str(f.name) + "=" + UrlEncode(v) + "&";
    data["next"] = next + "after=" + UrlEncode(last);
  }
  return HtmlPage(page, title, Render(page, "officer_search", data));
}

}  // namespace

void AddOfficerPages(Routes& routes) {
  routes.Add({"GET", "/handin", false, kOfficer | kAdmin, "web hand-in form", HandInPage});
  routes.Add({"POST", "/handin", false, kOfficer | kAdmin, "web hand-in", HandIn});
  routes.Add({"GET", "/search", false, kAnyRole, "web search", Search});
  routes.Add({"GET", "/package/", true, kAnyRole, "web package", PackagePages});
}

}  // namespace preserve::web
