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
#include "words.h"

namespace preserve::web {

std::string IssueDate(const Page& page, std::string_view iso) {
  auto day = ParseIsoDate(iso);
  if (!day.ok()) return std::string(iso);
  return page.Date(TimePoint(day.value()));
}

std::string_view MetadataLabel(const Page& page, std::string_view key) {
  struct Label {
    std::string_view key, en, vi;
  };
  static constexpr Label kLabels[] = {
      {"organ_name", "Issuing organ", "Tên cơ quan ban hành"},
      {"organ_id", "Organ identifier", "Mã định danh cơ quan"},
      {"type_name", "Document type", "Tên loại văn bản"},
      {"code_number", "Number", "Số của văn bản"},
      {"code_notation", "Symbol", "Ký hiệu văn bản"},
      {"issued_date", "Issue date", "Ngày ban hành"},
      {"subject", "Subject (summary)", "Trích yếu nội dung"},
      {"signer_full_name", "Signed by", "Người ký"},
      {"signer_position", "Signer's position", "Chức vụ người ký"},
      {"retention", "Retention", "Thời hạn bảo quản"},
      {"file_notation", "File code", "Mã hồ sơ"},
      {"language", "Language", "Ngôn ngữ"},
      {"page_amount", "Pages", "Số trang"},
      {"priority", "Urgency", "Mức độ khẩn"},
      {"secrecy", "Secrecy", "Độ mật"},
      {"due_date", "Due date", "Hạn xử lý"},
      {"recipients", "Recipients", "Nơi nhận"},
  };
  for (const Label& l : kLabels)
    if (l.key == key) return page.T(l.en, l.vi);
  return key;
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
  std::string_view hint_en, hint_vi;
};
constexpr FormField kFormFields[] = {
    {"organ_name", true, "UBND tỉnh Đắk Nông", "UBND tỉnh Đắk Nông"},
    {"organ_id", false, "000.00.12.H17", "000.00.12.H17"},
    {"type_name", false, "Công văn, Quyết định...", "Công văn, Quyết định..."},
    {"code_number", true, "6587", "6587"},
    {"code_notation", true, "UBND-CNXD", "UBND-CNXD"},
    {"issued_date", true, "dd/mm/yyyy", "dd/mm/yyyy"},
    {"subject", true, "", ""},
    {"signer_full_name", false, "", ""},
    {"signer_position", false, "Chủ tịch, Giám đốc...", "Chủ tịch, Giám đốc..."},
    {"retention", false, "Years (1 to 200); empty: permanent", "Số năm (1 đến 200); để trống: vĩnh viễn"},
};

std::string FieldInput(const Page& page, const FormField& f, const Fields& values) {
  const std::string id = "m-" + Str(f.key);
  std::string html = "<p><label for=\"" + id + "\">" + Str(MetadataLabel(page, f.key)) + (f.required ? " *" : "") +
                     "</label>";
  const std::string value = Escape(values.Get(f.key));
  if (f.key == "subject") {
    html += "<textarea id=\"" + id + "\" name=\"subject\" rows=\"3\" maxlength=\"1000\">" + value + "</textarea>";
  } else {
    const bool number = f.key == "retention";
    html += "<input id=\"" + id + "\" name=\"" + Str(f.key) + "\" value=\"" + value + "\"" +
            (number ? " inputmode=\"numeric\"" : "") +
            (f.hint_en.empty() ? "" : " placeholder=\"" + Escape(page.T(f.hint_en, f.hint_vi)) + "\"") + ">";
  }
  return html + "</p>\n";
}

service::HttpResponse HandInForm(const Page& page, const Fields& values, std::string_view problem = {},
                                 unsigned status = 200) {
  std::string body;
  if (!problem.empty()) body += Notice("error", problem);
  body += "<p>" +
          Str(page.T("Hand in documents that are signed digitally: a detached signature (.p7s) together with its "
                     "document, a .p7m, a signed PDF, or an ASiC container (.asice, .asics). A whole folder can be "
                     "handed in as a .zip (or .tar) bundle. Each document is checked; only trustworthy ones are "
                     "archived.",
                     "Nộp các văn bản đã ký số: chữ ký tách rời (.p7s) cùng với văn bản của nó, tệp .p7m, tệp PDF "
                     "đã ký, hoặc gói ASiC (.asice, .asics). Có thể nộp cả một thư mục dưới dạng tệp nén .zip "
                     "(hoặc .tar). Từng văn bản được kiểm tra; chỉ văn bản đáng tin cậy mới được lưu trữ.")) +
          "</p>\n";
  body += "<form method=\"post\" action=\"/handin\" enctype=\"multipart/form-data\" data-progress=\"handin-progress\" "
          "data-error=\"" +
          Escape(page.T("The upload failed. Check the connection and try again.",
                        "Tải lên không thành công. Hãy kiểm tra kết nối và thử lại.")) +
          "\">\n" + page.CsrfField() + "\n";
  body += "<div class=\"card\"><h2>" + Str(page.T("Files", "Tệp")) + "</h2>\n<p><label for=\"files\">" +
          Str(page.T("Signed documents, their signatures, sidecars, or bundles",
                     "Văn bản đã ký, tệp chữ ký, tệp siêu dữ liệu, hoặc tệp nén")) +
          "</label><input type=\"file\" id=\"files\" name=\"files\" multiple required "
          "aria-describedby=\"files-hint\"></p>\n<p class=\"hint\" id=\"files-hint\">" +
          Str(page.T("Choose several files at once. A detached signature is paired with its document by name "
                     "(letter.pdf with letter.pdf.p7s); DOCUMENT.metadata.json is that document's record metadata.",
                     "Có thể chọn nhiều tệp cùng lúc. Chữ ký tách rời được ghép với văn bản theo tên (letter.pdf với "
                     "letter.pdf.p7s); tệp TÊN-VĂN-BẢN.metadata.json là siêu dữ liệu của văn bản đó.")) +
          "</p></div>\n";
  body += "<div class=\"card\"><h2>" + Str(page.T("Record metadata (Decree 30/2020/NĐ-CP)", "Thông tin văn bản (Nghị định 30/2020/NĐ-CP)")) +
          "</h2>\n<p class=\"hint\">" +
          Str(page.T("Applied to every document handed in without a metadata sidecar of its own. Leave it all empty "
                     "to use the sidecars only. Fields marked * are required when you fill it in.",
                     "Áp dụng cho mọi văn bản nộp không kèm tệp siêu dữ liệu riêng. Để trống toàn bộ nếu chỉ dùng "
                     "tệp siêu dữ liệu. Các trường đánh dấu * là bắt buộc khi khai báo.")) +
          "</p>\n<div class=\"grid\">\n";
  for (const FormField& f : kFormFields) body += FieldInput(page, f, values);
  body += "</div></div>\n<p><progress id=\"handin-progress\" max=\"100\" value=\"0\" hidden></progress></p>\n";
  body += "<p><button type=\"submit\">" + Str(page.T("Hand in", "Nộp lưu")) + "</button></p>\n</form>\n";
  return HtmlPage(page, page.T("Hand in documents", "Nộp tài liệu"), body, status);
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
      problems.push_back(Str(MetadataLabel(page, f.key)) + Str(page.T(": required", ": bắt buộc")));
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
      problems.push_back(Str(MetadataLabel(page, "issued_date")) + ": '" + date +
                         Str(page.T("' is not a date (dd/mm/yyyy)", "' không phải là ngày hợp lệ (dd/mm/yyyy)")));
    }
  }
  if (const std::string years = values.Get("retention"); !years.empty()) {
    const bool digits = years.size() <= 3 && std::all_of(years.begin(), years.end(), [](char c) {
                          return std::isdigit(static_cast<unsigned char>(c)) != 0;
                        });
    const unsigned n = digits ? static_cast<unsigned>(std::stoul(years)) : 0;
    if (n < 1 || n > 200)
      problems.push_back(Str(MetadataLabel(page, "retention")) + ": '" + years +
                         Str(page.T("' is not a number of years from 1 to 200 (leave it empty for permanent)",
                                    "' không phải số năm từ 1 đến 200 (để trống nếu bảo quản vĩnh viễn)")));
    m.retention_years = n;
  }
  // The rest (lengths, characters) as ingest itself checks a sidecar.
  if (problems.empty())
    if (auto parsed = package::ParseRecordMetadata(AsBytes(package::RecordMetadataToJson(m))); !parsed.ok())
      problems.push_back(Str(page.T("The metadata is not valid: ", "Thông tin văn bản không hợp lệ: ")) +
                         parsed.status().message());
  if (!problems.empty()) {
    std::string joined;
    for (const std::string& p : problems) joined += (joined.empty() ? "" : "; ") + p;
    return Status::InvalidArgument(joined);
  }
  return std::optional<package::RecordMetadata>(std::move(m));
}

// ---- Hand in: the files ----

constexpr const char* kUnusableInput = "INPUT_UNUSABLE";
constexpr const char* kNoSignature =
    "no signature: neither a signed file (PDF, .p7m, ASiC) nor a document with DOCUMENT.p7s beside it";

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

archive::Submission Unusable(std::string name, std::string category, std::string reason) {
  archive::Submission s;
  s.name = std::move(name);
  s.unusable = archive::Submission::Unusable{std::move(category), std::move(reason)};
  return s;
}

// Submissions from a folder or a bundle, as `preserve ingest` makes them
// (cli/ingest_command.cc AddBundle); outcomes name them `shown`/path.
Status AddBulk(const std::filesystem::path& input, const std::filesystem::path& scratch, const std::string& shown,
               std::vector<archive::Submission>& out) {
  PRESERVE_ASSIGN_OR_RETURN(ingest::BulkInput bulk, ingest::ReadBulkInput(input, scratch));
  for (auto& s : bulk.submissions) {
    archive::Submission submission;
    submission.name = shown + s.name;
    if (s.detached_signature) {
      submission.signature = *s.detached_signature;
      submission.content = s.primary;
      submission.signature_name = s.signature_name;
      submission.content_name = s.name;
    } else {
      submission.signature = s.primary;
      submission.signature_name = s.name;
    }
    submission.metadata = s.metadata;
    out.push_back(std::move(submission));
  }
  for (const auto& file : bulk.unsigned_files)
    out.push_back(Unusable(shown + file, std::string(archive::kNotSigned), kNoSignature));
  for (const auto& problem : bulk.problems) {
    // "orphan.p7s: no document named orphan": the reasons hold no ": ", names may.
    const std::size_t colon = problem.rfind(": ");
    const std::string file = colon == std::string::npos ? problem : problem.substr(0, colon);
    const std::string why = colon == std::string::npos ? "not usable" : problem.substr(colon + 2);
    out.push_back(Unusable(shown + file, kUnusableInput, why));
  }
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
  const std::string not_stored(page.T("The upload could not be stored: ", "Không lưu được tệp tải lên: "));
  std::vector<archive::Submission> submissions;
  std::map<std::string, const FormPart*> loose;
  std::set<std::string> names;
  std::size_t bundles = 0;
  for (const FormPart* part : files) {
    const std::string name = UploadName(*part->file_name);
    if (name.empty())
      return Refusal{400, Str(page.T("This file name cannot be handed in (hidden, empty, or with control "
                                     "characters): ",
                                     "Không thể nộp tệp có tên này (ẩn, rỗng, hoặc có ký tự điều khiển): ")) +
                              EscapeForDisplay(*part->file_name)};
    if (!names.insert(name).second)
      return Refusal{400, Str(page.T("Two files have the same name: ", "Hai tệp trùng tên: ")) + name};
    if (!IsBundle(name)) {
      loose.emplace(name, part);
      continue;
    }
    const std::filesystem::path bundle = dir / ("bundle-" + std::to_string(++bundles));
    if (Status s = WriteUpload(bundle, part->data); !s.ok()) return Refusal{500, not_stored + s.message()};
    Status read = AddBulk(bundle, dir / ("unpacked-" + std::to_string(bundles)), name + "/", submissions);
    if (!read.ok()) {
      const StatusCode code = read.code();
      const bool refused = code == StatusCode::kInvalidArgument || code == StatusCode::kFailedPrecondition ||
                           code == StatusCode::kCorruption;
      return Refusal{refused ? 400u : 500u,
                     Str(page.T("The bundle was refused as a whole; nothing was handed in. The reason: ",
                                "Tệp nén bị từ chối toàn bộ; chưa có gì được nộp. Lý do: ")) +
                         name + ": " + read.message()};
    }
  }
  if (auto pair = LonePair(loose))
    if (Status s = AddLonePair(pair->first, pair->second, dir / "pair", loose, submissions); !s.ok())
      return Refusal{s.code() == StatusCode::kIOError ? 500u : 400u, not_stored + s.message()};
  if (loose.empty()) return submissions;
  const std::filesystem::path folder = dir / "files";
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return Refusal{500, not_stored + ec.message()};
  for (const auto& [name, part] : loose)
    if (Status s = WriteUpload(folder / name, part->data); !s.ok()) return Refusal{500, not_stored + s.message()};
  if (Status s = AddBulk(folder, dir / "unpacked-files", "", submissions); !s.ok())
    return Refusal{400, Str(page.T("The files could not be read: ", "Không đọc được các tệp: ")) + s.message()};
  return submissions;
}

// ---- Hand in: the outcomes ----

std::string Badge(std::string_view kind, std::string_view text) {
  return "<span class=\"badge " + Str(kind) + "\">" + Str(text) + "</span>";
}

std::string OutcomeRow(const Page& page, const archive::IngestOutcome& o) {
  const std::string_view cls = archive::OutcomeClass(o);
  std::string badge, details;
  if (cls == "accepted") {
    badge = Badge("ok", page.T("Archived", "Đã lưu trữ"));
    details = Str(page.T("Archived as package ", "Đã lưu thành gói ")) + PackageLink(o.package_id) + ".";
    if (o.metadata) details += "<br>" + Escape(o.metadata->Citation()) + " · " + Escape(o.metadata->subject);
  } else if (cls == "duplicate") {
    badge = Badge("ok", page.T("Already archived", "Đã có trong kho"));
    details = Str(page.T("The archive already holds this document, in package ",
                         "Kho đã lưu văn bản này, trong gói ")) +
              PackageLink(o.package_id) +
              Str(page.T(". Nothing was stored again.", ". Không lưu lại lần nữa."));
  } else if (cls == "error") {
    badge = Badge("warn", page.T("Unreadable", "Không đọc được"));
    details = Str(page.T("The file could not be read; nothing was decided or stored. Check the file and hand it in "
                         "again.",
                         "Không đọc được tệp; chưa có gì được quyết định hay lưu. Hãy kiểm tra tệp rồi nộp lại.")) +
              "<br><span class=\"hint\">" + Str(page.T("Reason: ", "Lý do: ")) + Escape(o.reason) + "</span>";
  } else {
    badge = Badge("error", page.T("Refused", "Bị từ chối"));
    const Explanation e = ExplainRefusal(page, o.category);
    details = "<strong>" + Escape(e.what) + "</strong><br>" + Escape(e.next) + "<br><span class=\"hint\">" +
              Str(page.T("Reason: ", "Lý do: ")) + Escape(o.category) + (o.reason.empty() ? "" : " — ") +
              Escape(o.reason) + "</span>";
  }
  return "<tr><td>" + Escape(o.input) + "</td><td>" + badge + "</td><td>" + details + "</td></tr>\n";
}

service::HttpResponse HandInResult(const Page& page, const std::vector<archive::IngestOutcome>& outcomes) {
  std::size_t kept = 0;
  for (const auto& o : outcomes) kept += (o.accepted || o.duplicate) ? 1 : 0;
  const std::string counts = std::to_string(kept) + "/" + std::to_string(outcomes.size());
  std::string body;
  if (kept == outcomes.size()) {
    body += Notice("ok", counts + Str(page.T(" documents are in the archive.", " văn bản đã có trong kho lưu trữ.")));
  } else {
    body += Notice(kept == 0 ? "error" : "warn",
                   counts + Str(page.T(" documents are in the archive; the others were not archived: see why below.",
                                       " văn bản đã có trong kho lưu trữ; các văn bản khác không được lưu: xem lý do "
                                       "bên dưới.")));
  }
  body += "<div class=\"table-wrap\"><table>\n<thead><tr><th scope=\"col\">" + Str(page.T("Document", "Văn bản")) +
          "</th><th scope=\"col\">" + Str(page.T("Outcome", "Kết quả")) + "</th><th scope=\"col\">" +
          Str(page.T("Details", "Chi tiết")) + "</th></tr></thead>\n<tbody>\n";
  for (const auto& o : outcomes) body += OutcomeRow(page, o);
  body += "</tbody></table></div>\n<p><a class=\"button\" href=\"/handin\">" +
          Str(page.T("Hand in more documents", "Nộp thêm tài liệu")) + "</a></p>";
  return HtmlPage(page, page.T("Hand-in result", "Kết quả nộp lưu"), body);
}

service::HttpResponse HandIn(Page& page) {
  const std::string* type = page.request.Header("content-type");
  if (type == nullptr || type->rfind("multipart/form-data", 0) != 0)
    return ErrorPage(page, 400,
                     page.T("Documents are handed in with the form of the hand-in page (a multipart upload).",
                            "Tài liệu phải được nộp bằng biểu mẫu của trang nộp tài liệu (tải lên dạng multipart)."));
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
    return HandInForm(page, values, page.T("Choose at least one file to hand in.", "Hãy chọn ít nhất một tệp để nộp."),
                      400);
  auto metadata = FormMetadata(page, values);
  if (!metadata.ok()) return HandInForm(page, values, Escape(metadata.status().message()), 400);

  auto dir = SpoolDirectory::Make(page.app.options.spool);
  if (!dir.ok()) return ErrorPage(page, 500, dir.status().message());
  auto read = ReadUploads(page, files, dir.value()->path());
  if (auto* refusal = std::get_if<Refusal>(&read))
    return refusal->status == 400 ? HandInForm(page, values, Escape(refusal->message), 400)
                                  : ErrorPage(page, refusal->status, refusal->message);
  auto& submissions = std::get<std::vector<archive::Submission>>(read);
  if (submissions.empty())
    return HandInForm(page, values,
                      page.T("None of the files is a document to hand in.", "Không có tệp nào là văn bản để nộp."), 400);
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
      return ErrorPage(page, 503, page.T("The archive is stopping; hand the documents in again in a moment.",
                                         "Kho lưu trữ đang dừng; hãy nộp lại sau ít phút."));
    return ErrorPage(page, 500, Str(page.T("The archive could not store the documents: ",
                                           "Kho lưu trữ không lưu được tài liệu: ")) +
                                    outcomes.status().message());
  }
  for (const auto& o : outcomes.value())
    if (!o.package_id.empty() && page.package_id.empty()) page.package_id = o.package_id;
  return HandInResult(page, outcomes.value());
}

// ---- Search ----

constexpr std::size_t kSearchPage = 25;

struct SearchField {
  std::string_view name, en, vi, hint_en, hint_vi;
};
constexpr SearchField kSearchFields[] = {
    {"organ", "Issuing organ (name or identifier)", "Cơ quan ban hành (tên hoặc mã định danh)", "", ""},
    {"type", "Document type", "Tên loại văn bản", "Công văn", "Công văn"},
    {"from", "Issued from", "Ban hành từ ngày", "dd/mm/yyyy", "dd/mm/yyyy"},
    {"to", "Issued until", "Ban hành đến ngày", "dd/mm/yyyy", "dd/mm/yyyy"},
    {"signer_org", "Signer's organization", "Tổ chức của người ký", "", ""},
};

std::string SearchForm(const Page& page) {
  std::string html = "<form method=\"get\" action=\"/search\" class=\"card\">\n<div class=\"grid\">\n";
  for (const SearchField& f : kSearchFields) {
    const std::string id = "s-" + Str(f.name);
    html += "<p><label for=\"" + id + "\">" + Str(page.T(f.en, f.vi)) + "</label><input id=\"" + id + "\" name=\"" +
            Str(f.name) + "\" value=\"" + Escape(page.query.Get(f.name)) + "\"" +
            (f.hint_en.empty() ? "" : " placeholder=\"" + Escape(page.T(f.hint_en, f.hint_vi)) + "\"") + "></p>\n";
  }
  html += "</div>\n<p class=\"hint\">" +
          Str(page.T("A package matches when each field filled in is part of its record metadata. The subject and the "
                     "number are not searchable yet.",
                     "Gói lưu trữ phù hợp khi mỗi trường đã nhập là một phần thông tin văn bản của gói. Chưa tra cứu "
                     "được theo trích yếu và số văn bản.")) +
          "</p>\n<p><button type=\"submit\">" + Str(page.T("Search", "Tra cứu")) + "</button> <a href=\"/search\">" +
          Str(page.T("Clear", "Xóa điều kiện")) + "</a></p>\n</form>\n";
  return html;
}

// A date field as ListFilter takes it (YYYY-MM-DD); false when it is not a date.
bool FilterDate(const std::string& text, std::string& out) {
  if (text.empty()) return true;
  auto day = ParseDate(text);
  if (!day.ok()) return false;
  out = FormatDate(day.value());
  return true;
}

std::string ResultRow(const Page& page, const archive::PackageSummary& p) {
  if (!p.unreadable.empty())
    return "<tr><td colspan=\"7\">" + (p.id.empty() ? std::string() : PackageLink(p.id) + ": ") +
           Badge("error", page.T("Unreadable", "Không đọc được")) + " " + Escape(p.unreadable) + "</td></tr>\n";
  std::string row = "<tr><td>";
  if (p.metadata) {
    const package::RecordMetadata& m = *p.metadata;
    row += "<a href=\"/package/" + UrlEncode(p.id) + "\">" + Escape(m.Citation()) + "</a></td><td>" +
           Escape(m.type_name) + "</td><td>" + Escape(m.subject) + "</td><td>" + Escape(m.organ_name) +
           "</td><td>" + Escape(IssueDate(page, m.issued_date)) + "</td>";
  } else {
    row += PackageLink(p.id) + "</td><td colspan=\"4\" class=\"hint\">" +
           Str(page.T("No record metadata", "Không có thông tin văn bản")) + "</td>";
  }
  return row + "<td>" + page.Date(p.created) + "</td><td>" + Str(StateLabel(page, p.state)) + "</td></tr>\n";
}

service::HttpResponse Search(Page& page) {
  const std::string_view title = page.T("Search holdings", "Tra cứu hồ sơ");
  archive::ListFilter filter;
  filter.organ = page.query.Get("organ");
  filter.type_name = page.query.Get("type");
  filter.signer_organization = page.query.Get("signer_org");
  if (!FilterDate(page.query.Get("from"), filter.issued_from) || !FilterDate(page.query.Get("to"), filter.issued_to))
    return HtmlPage(page, title,
                    Notice("error", page.T("A date is not valid: write it dd/mm/yyyy (or yyyy-mm-dd).",
                                           "Ngày không hợp lệ: hãy viết theo dạng dd/mm/yyyy (hoặc yyyy-mm-dd).")) +
                        SearchForm(page),
                    400);
  auto packages = archive::Catalogue(page.app.archive).List(page.query.Get("after"), kSearchPage, filter);
  if (!packages.ok())
    return ErrorPage(page, 500,
                     Str(page.T("The holdings could not be read: ", "Không đọc được kho: ")) + packages.status().message());

  std::string body = SearchForm(page);
  if (packages.value().empty()) {
    body += Notice("warn", page.T("No package matches.", "Không có gói lưu trữ nào phù hợp."));
    return HtmlPage(page, title, body);
  }
  body += "<div class=\"table-wrap\"><table>\n<thead><tr>";
  static constexpr std::pair<std::string_view, std::string_view> kColumns[] = {
      {"Number/symbol", "Số, ký hiệu"}, {"Type", "Loại văn bản"},   {"Subject", "Trích yếu"},
      {"Issuing organ", "Cơ quan ban hành"}, {"Issued", "Ngày ban hành"}, {"Archived", "Ngày lưu"},
      {"State", "Trạng thái"}};
  for (const auto& [en, vi] : kColumns) body += "<th scope=\"col\">" + Str(page.T(en, vi)) + "</th>";
  body += "</tr></thead>\n<tbody>\n";
  std::string last;
  for (const archive::PackageSummary& p : packages.value()) {
    body += ResultRow(page, p);
    if (!p.id.empty()) last = p.id;
  }
  body += "</tbody></table></div>\n";
  if (packages.value().size() == kSearchPage && !last.empty()) {
    std::string next = "/search?";
    for (const SearchField& f : kSearchFields)
      if (const std::string v = page.query.Get(f.name); !v.empty()) next += Str(f.name) + "=" + UrlEncode(v) + "&";
    next += "after=" + UrlEncode(last);
    body += "<nav class=\"pager\" aria-label=\"" + Str(page.T("Pages", "Trang")) + "\"><a href=\"" + Escape(next) +
            "\" rel=\"next\">" + Str(page.T("Next page", "Trang sau")) + " →</a></nav>";
  }
  return HtmlPage(page, title, body);
}

}  // namespace

void AddOfficerPages(Routes& routes) {
  routes.Add({"GET", "/handin", false, kOfficer | kAdmin, "web hand-in form", HandInPage});
  routes.Add({"POST", "/handin", false, kOfficer | kAdmin, "web hand-in", HandIn});
  routes.Add({"GET", "/search", false, kAnyRole, "web search", Search});
  routes.Add({"GET", "/package/", true, kAnyRole, "web package", PackagePages});
}

}  // namespace preserve::web
