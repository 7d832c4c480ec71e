#include "pres_api.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <set>
#include <utility>

#include <boost/json.hpp>

#include "preserve/archive/accounts.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/lifecycle.h"
#include "preserve/archive/maintenance.h"
#include "preserve/archive/verification.h"
#include "preserve/audit/package_archive.h"
#include "preserve/audit/package_verification.h"
#include "preserve/util/date.h"
#include "preserve/util/unicode.h"

namespace preserve::service {

namespace json = boost::json;

namespace {

// ---- Result codes (TS 119 512 clause 5.1; OASIS DSS major codes) ----

constexpr std::string_view kSuccess = "urn:oasis:names:tc:dss:1.0:resultmajor:Success";
constexpr std::string_view kRequesterError = "urn:oasis:names:tc:dss:1.0:resultmajor:RequesterError";
constexpr std::string_view kResponderError = "urn:oasis:names:tc:dss:1.0:resultmajor:ResponderError";
constexpr std::string_view kNoPermission = "http://uri.etsi.org/19512/error/noPermission";
constexpr std::string_view kInternalError = "http://uri.etsi.org/19512/error/internalError";
constexpr std::string_view kParameterError = "http://uri.etsi.org/19512/error/parameterError";
constexpr std::string_view kNotSupported = "http://uri.etsi.org/19512/error/notSupported";
constexpr std::string_view kTransferError = "http://uri.etsi.org/19512/error/transferError";
constexpr std::string_view kPoFormatError = "http://uri.etsi.org/19512/error/POFormatError";
constexpr std::string_view kExternalServiceUnavailable = "http://uri.etsi.org/19512/error/externalServiceUnavailable";
constexpr std::string_view kUnknownPoid = "http://uri.etsi.org/19512/error/unknownPOID";
constexpr std::string_view kUnknownVersionId = "http://uri.etsi.org/19512/error/unknownVersionID";
constexpr std::string_view kPartlySuccessful = "http://uri.etsi.org/19512/warning/requestOnlyPartlySuccessful";
// Not in TS 119 512, which has no code for a signature the ingest policy
// refuses (it is neither a format error nor a permission): preserve's own.
constexpr std::string_view kSignatureRefused = "urn:preserve:19512:error:signatureRefused";
constexpr std::string_view kTooManyRequests = "urn:preserve:19512:error:tooManyRequests";

// Bounds on what one request may make the service hold (beyond its body).
constexpr std::size_t kMaxJsonValues = 100000;
constexpr std::size_t kMaxObjects = 256;   // POs in one PreservePO
constexpr std::size_t kMaxIdBytes = 255;   // a PO's id, a poId

// ---- Identifiers ----

constexpr std::string_view kProfileId = "urn:preserve:profile:pds-pgd-wst-ers:1";
constexpr std::string_view kEvidenceRecordFormat = "urn:ietf:rfc:4998:EvidenceRecord";
constexpr std::string_view kCades = "http://uri.etsi.org/ades/CAdES";
constexpr std::string_view kPades = "http://uri.etsi.org/ades/PAdES";
constexpr std::string_view kAsicE = "http://uri.etsi.org/ades/ASiC/type/ASiC-E";
constexpr std::string_view kAsicS = "http://uri.etsi.org/ades/ASiC/type/ASiC-S";
// Decree 30 record metadata, as the JSON of a metadata sidecar (README).
constexpr std::string_view kRecordMetadataFormat = "urn:preserve:record-metadata";
// A package as `preserve export` writes it: data, evidence record and the
// certificates to check it, verifiable offline by `preserve verify-package`.
constexpr std::string_view kPackageZipFormat = "urn:preserve:package-zip";

// ---- Messages in the request's language ----

enum class Lang { kVi, kEn };
std::string_view LangName(Lang lang) { return lang == Lang::kEn ? "en" : "vi"; }

// One message in both languages; `detail` (the archive's own words, in
// English) is appended to either.
struct Text {
  std::string en;
  std::string vi;
  std::string In(Lang lang) const { return lang == Lang::kEn ? en : vi; }
};
Text Say(std::string en, std::string vi) { return Text{std::move(en), std::move(vi)}; }
Text WithDetail(Text text, const std::string& detail) {
  if (detail.empty()) return text;
  text.en += ": " + detail;
  text.vi += ": " + detail;
  return text;
}

std::string_view VerdictVi(Verdict v) {
  switch (v) {
    case Verdict::kValid: return "HỢP LỆ";
    case Verdict::kInvalid: return "KHÔNG HỢP LỆ";
    case Verdict::kIndeterminate: return "CHƯA XÁC ĐỊNH";
  }
  return "";
}

// What one operation answers.
struct Answer {
  std::string_view maj = kSuccess;
  std::string_view min;  // empty: none
  Text msg;
  unsigned http = 200;
  json::object fields;  // the operation's own members (poId, po, valRep...)
  // Set by an endpoint that is not TS 119 512 (the audit log): the body to
  // send instead of a response built from the fields above, which still give
  // the access trail its outcome.
  std::optional<std::string> raw_body;
};

Answer Success(Text msg, json::object fields = {}) { return Answer{kSuccess, {}, std::move(msg), 200, std::move(fields), std::nullopt}; }
Answer RequesterError(std::string_view min, Text msg, unsigned http = 400) {
  return Answer{kRequesterError, min, std::move(msg), http, {}, std::nullopt};
}
Answer ResponderError(std::string_view min, Text msg, unsigned http = 500) {
  return Answer{kResponderError, min, std::move(msg), http, {}, std::nullopt};
}
Answer ParameterError(Text msg) { return RequesterError(kParameterError, std::move(msg)); }

// A Status from the archive as an answer: the caller's mistake or ours.
Answer FromStatus(const Status& s, const std::string& package_id) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return RequesterError(kUnknownPoid, WithDetail(Say("unknown package " + package_id, "Không có gói " + package_id), s.message()));
    case StatusCode::kInvalidArgument:
      return ParameterError(WithDetail(Say("invalid request", "Yêu cầu không hợp lệ"), s.message()));
    case StatusCode::kFailedPrecondition:
      return RequesterError(kNoPermission, WithDetail(Say("not allowed now", "Hiện không được phép"), s.message()));
    case StatusCode::kUnavailable:
      return ResponderError(kExternalServiceUnavailable,
                            WithDetail(Say("a service it depends on is unavailable; try again later",
                                           "Một dịch vụ cần thiết đang không sẵn sàng; hãy thử lại sau"),
                                       s.message()),
                            503);
    default:
      return ResponderError(kInternalError, WithDetail(Say("internal error", "Lỗi nội bộ"), s.message()));
  }
}

// ---- Who may do what (TS 119 511: per-function rights) ----

bool RoleMay(archive::Role role, std::string_view operation) {
  using archive::Role;
  if (role == Role::kAdmin) return true;
  static const std::set<std::string_view> kEveryone = {"RetrieveInfo", "RetrievePO", "Search"};
  if (kEveryone.count(operation) != 0) return true;
  if (role == Role::kOfficer) return operation == "PreservePO" || operation == "UpdatePOC";
  // Auditors read, never change.
  return operation == "ValidateEvidence" || operation == "RetrieveTrace" || operation == "AuditLog";
}

// ---- Reading the request ----

const json::object* ObjectAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}
std::optional<std::string> StringAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// A member that must be a string, if present.
Result<std::optional<std::string>> OptionalString(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return Status::InvalidArgument("\"" + std::string(key) + "\" must be a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

Lang LanguageOf(const HttpRequest& request, const json::object* body) {
  if (body != nullptr)
    if (const json::object* opt_in = ObjectAt(*body, "optIn"))
      if (auto lang = StringAt(*opt_in, "lang")) return lang->rfind("en", 0) == 0 ? Lang::kEn : Lang::kVi;
  if (const std::string* accept = request.Header("accept-language")) {
    // The first language named decides: "en-US,en;q=0.9" is English.
    if (accept->rfind("en", 0) == 0) return Lang::kEn;
  }
  return Lang::kVi;
}

std::string Path(const std::string& target) { return target.substr(0, target.find('?')); }
std::string QueryValue(const std::string& target, std::string_view key) {
  const auto q = target.find('?');
  if (q == std::string::npos) return "";
  std::string_view query(target);
  query.remove_prefix(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, pair.find('=')) == key && pair.find('=') != std::string_view::npos)
      return std::string(pair.substr(pair.find('=') + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

// A name for a submitted object: the PO's id when it is a plain file name,
// else one made from its position and format.
std::string FileNameFor(const json::object& po, std::size_t index, std::string_view format, bool detached_signature) {
  if (auto id = StringAt(po, "id")) {
    const std::string& n = *id;
    const bool plain = !n.empty() && n.size() <= 200 && n != "." && n != ".." && n.find('/') == std::string::npos &&
                       n.find('\\') == std::string::npos && IsNfcUtf8(n) &&
                       std::none_of(n.begin(), n.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    if (plain) return n;
  }
  std::string ext = ".bin";
  if (format == kPades) ext = ".pdf";
  else if (format == kAsicE) ext = ".asice";
  else if (format == kAsicS) ext = ".asics";
  else if (format == kCades) ext = detached_signature ? ".p7s" : ".p7m";
  else if (auto mime = StringAt(po, "mimeType"); mime && *mime == "application/pdf") ext = ".pdf";
  return "po-" + std::to_string(index + 1) + ext;
}

json::object MessageJson(const Text& text, Lang lang) { return {{"value", text.In(lang)}, {"lang", LangName(lang)}}; }

// One request, as the operations see it.
struct Call {
  const HttpRequest& request;
  std::string operation;  // "PreservePO", "AuditLog"
  Lang lang = Lang::kVi;
  json::object body;
  std::string req_id;
  archive::Account account;
  std::string package_id;  // named by the request, for the access trail
};

// What the operations share.
struct Context {
  archive::Archive& archive;
  const Clock& clock;
  std::mutex& writer;
  IngestQueue& ingest;
  const PresApiOptions& options;
};

Answer Dispatch(Context& ctx, Call& call);

}  // namespace

PresApi::PresApi(archive::Archive& archive, const Clock& clock, std::mutex& writer, IngestQueue& ingest,
                 AccessTrail& trail, PresApiOptions options)
    : archive_(archive), clock_(clock), writer_(writer), ingest_(ingest), trail_(trail), options_(std::move(options)) {}

namespace {

HttpResponse Render(const Answer& a, Lang lang, const std::string& req_id) {
  HttpResponse r;
  r.status = a.http;
  if (a.raw_body) {
    r.body = *a.raw_body;
    return r;
  }
  json::object result{{"maj", a.maj}, {"msg", MessageJson(a.msg, lang)}};
  if (!a.min.empty()) result["min"] = a.min;
  json::object body{{"result", std::move(result)}};
  if (!req_id.empty()) body["reqId"] = req_id;
  for (const auto& member : a.fields) body[member.key()] = member.value();
  r.body = json::serialize(body);
  return r;
}

// The outcome as the access trail names it: "Success", "RequesterError noPermission".
std::string TrailOutcome(const Answer& a) {
  std::string out(a.maj.substr(a.maj.rfind(':') + 1));
  if (!a.min.empty()) out += " " + std::string(a.min.substr(a.min.find_last_of("/:") + 1));
  return out;
}

}  // namespace

HttpResponse PresApi::ProtocolError(unsigned status, const std::string& detail) {
  Text text = status == 413 ? Say("the request is too large", "Yêu cầu quá lớn")
              : status == 408 ? Say("the request did not arrive in time", "Yêu cầu không đến kịp thời hạn")
              : status == 431 ? Say("the request's header is too large", "Phần đầu yêu cầu quá lớn")
                              : Say("the request is not valid HTTP", "Yêu cầu không phải HTTP hợp lệ");
  return Render(RequesterError(status == 413 ? kTransferError : kParameterError, WithDetail(text, detail), status),
                Lang::kVi, "");
}

std::pair<std::string, std::string> PresApi::EndpointOf(const std::string& path) {
  static const std::set<std::string, std::less<>> kOperations = {
      "RetrieveInfo", "PreservePO", "RetrievePO", "ValidateEvidence", "RetrieveTrace",
      "Search",       "DeletePO",   "UpdatePOC",  "AuditLog"};
  if (path == "/api/audit-log") return {"AuditLog", "GET"};
  if (path.rfind("/pres/", 0) == 0 && path != "/pres/AuditLog" && kOperations.count(path.substr(6)) != 0)
    return {path.substr(6), "POST"};
  return {"", ""};
}

Result<archive::Account> PresApi::Authenticate(const HttpRequest& request) const {
  // A token wins over a certificate: it names one account exactly.
  const std::string* authorization = request.Header("authorization");
  if (authorization != nullptr && authorization->rfind("Bearer ", 0) == 0)
    return archive::Accounts(archive_).AuthenticateToken(std::string_view(*authorization).substr(7));
  if (request.client_certificate) return archive::Accounts(archive_).AuthenticateCertificate(*request.client_certificate);
  return Status::NotFound("no credentials");
}

std::optional<HttpResponse> PresApi::Screen(const HttpRequest& head) {
  // The refusals that need no body are answered as Handle answers them
  // (it reads no body for them), access event included.
  const auto [operation, expected_method] = EndpointOf(Path(head.target));
  if (operation.empty() || head.method != expected_method) return Handle(head);
  const Result<archive::Account> who = Authenticate(head);
  if (!who.ok() || !RoleMay(who.value().role, operation)) return Handle(head);
  return std::nullopt;
}

HttpResponse PresApi::Handle(const HttpRequest& request) {
  const std::string path = Path(request.target);
  if (path == "/health" && request.method == "GET") return HttpResponse{200, "application/json", R"({"ok":true})", {}};

  Lang lang = LanguageOf(request, nullptr);
  const auto [operation, expected_method] = EndpointOf(path);
  if (operation.empty())
    return Render(RequesterError(kParameterError, Say("no such endpoint: " + path, "Không có địa chỉ " + path), 404),
                  lang, "");
  if (request.method != expected_method) {
    HttpResponse r = Render(RequesterError(kParameterError,
                                           Say("use " + expected_method + " for " + path,
                                               "Hãy dùng " + expected_method + " cho " + path),
                                           405),
                            lang, "");
    r.headers.emplace_back("Allow", expected_method);
    return r;
  }

  const Result<archive::Account> who = Authenticate(request);

  Answer answer;
  std::string account_name;
  std::string package_id;
  std::string req_id;
  if (!who.ok() && who.status().code() != StatusCode::kNotFound) {
    // The accounts could not be read: the store's fault, not the caller's.
    answer = FromStatus(who.status(), "");
  } else if (!who.ok()) {
    answer = RequesterError(kNoPermission,
                            Say("no valid credentials: send 'Authorization: Bearer TOKEN' (a token from 'preserve user "
                                "add') or a client certificate mapped to an account",
                                "Chưa xác thực: hãy gửi 'Authorization: Bearer TOKEN' (mã do 'preserve user add' cấp) "
                                "hoặc chứng thư số máy khách đã gắn với một tài khoản"),
                            401);
  } else if (const std::string role(archive::RoleName(who.value().role)); !RoleMay(who.value().role, operation)) {
    account_name = who.value().name;
    answer = RequesterError(kNoPermission,
                            Say("the role '" + role + "' may not call " + operation,
                                "Vai trò '" + role + "' không được phép dùng " + operation),
                            403);
  } else {
    account_name = who.value().name;
    // At most max_requests_per_account in flight per account, so one
    // client cannot take every worker.
    bool admitted = false;
    {
      std::lock_guard<std::mutex> lock(in_flight_mutex_);
      unsigned& n = in_flight_[account_name];
      if (n < options_.max_requests_per_account) {
        ++n;
        admitted = true;
      }
    }
    if (!admitted) {
      const std::string limit = std::to_string(options_.max_requests_per_account);
      answer = RequesterError(kTooManyRequests,
                              Say("too many requests in flight for account " + account_name + " (at most " + limit +
                                      "); retry when one has been answered",
                                  "Tài khoản " + account_name + " đang có quá nhiều yêu cầu cùng lúc (tối đa " + limit +
                                      "); hãy thử lại khi có yêu cầu đã được trả lời"),
                              429);
    } else {
      struct Admitted {  // leaves the count however Dispatch ends
        PresApi& api;
        const std::string& name;
        ~Admitted() {
          std::lock_guard<std::mutex> lock(api.in_flight_mutex_);
          if (--api.in_flight_[name] == 0) api.in_flight_.erase(name);
        }
      } admitted_guard{*this, account_name};
      Call call{request, operation, lang, {}, "", who.value(), ""};
      Context ctx{archive_, clock_, writer_, ingest_, options_};
      answer = Dispatch(ctx, call);
      lang = call.lang;
      package_id = call.package_id;
      req_id = call.req_id;
    }
  }

  // The access trail: durable before the answer leaves.
  Status recorded = trail_.Record(
      archive::AccessEvent{account_name, operation, package_id, TrailOutcome(answer), request.remote_address});
  if (!recorded.ok())
    return Render(ResponderError(kInternalError, WithDetail(Say("the access trail could not be written",
                                                                "Không ghi được nhật ký truy cập"),
                                                            recorded.message())),
                  lang, req_id);
  HttpResponse response = Render(answer, lang, req_id);
  if (response.status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"preserve\"");
  return response;
}

namespace {

// ---- RetrieveInfo ----

json::object Profile(const archive::Archive& archive) {
  return {
      {"pid", kProfileId},
      {"spec", json::array{"http://uri.etsi.org/19512/v1.1.2#"}},
      {"description",
       json::array{
           json::object{{"value",
                         "Preservation of signed documents with storage: each is validated at submission "
                         "(signatures, certificates, revocation) and kept with RFC 4998 evidence records, "
                         "renewed before its algorithms or certificates weaken."},
                        {"lang", "en"}},
           json::object{{"value",
                         "Bảo quản tài liệu có chữ ký số kèm lưu trữ: mỗi tài liệu được kiểm tra khi tiếp nhận "
                         "(chữ ký, chứng thư số, tình trạng thu hồi) và được lưu cùng hồ sơ chứng cứ RFC 4998, "
                         "gia hạn trước khi thuật toán hoặc chứng thư số hết an toàn."},
                        {"lang", "vi"}}}},
      {"op", json::array{"RetrieveInfo", "PreservePO", "RetrievePO", "DeletePO", "ValidateEvidence", "RetrieveTrace",
                         "Search"}},
      {"pol", json::array{json::string(std::string("urn:preserve:algorithm-policy:") + archive.policy().name())}},
      {"pvp", json::object{{"vfrom", "2026-12-01T00:00:00Z"}}},
      {"psm", "WithStorage"},
      {"pg", json::array{"http://uri.etsi.org/19512/goal/pds", "http://uri.etsi.org/19512/goal/pgd"}},
      {"ef", json::array{json::object{{"formatId", kEvidenceRecordFormat}}}},
      {"sid", "http://uri.etsi.org/19512/scheme/pds+pgd+wst+ers"},
  };
}

Answer RetrieveInfo(Context& ctx, Call& call) {
  if (auto pro = StringAt(call.body, "pro"); pro && *pro != kProfileId)
    return Success(Say("no profile " + *pro, "Không có hồ sơ dịch vụ " + *pro), {{"pro", json::array{}}});
  if (auto stat = StringAt(call.body, "stat"); stat && *stat == "inactive")
    return Success(Say("no inactive profiles", "Không có hồ sơ dịch vụ ngừng hoạt động"), {{"pro", json::array{}}});
  return Success(Say("1 profile", "1 hồ sơ dịch vụ"), {{"pro", json::array{Profile(ctx.archive)}}});
}

// ---- PreservePO ----

// A temporary directory under the spool that is removed however the call ends.
struct SpoolDirectory {
  std::filesystem::path path;
  explicit SpoolDirectory(std::filesystem::path p) : path(std::move(p)) {}
  SpoolDirectory(SpoolDirectory&& other) noexcept : path(std::exchange(other.path, {})) {}
  SpoolDirectory(const SpoolDirectory&) = delete;
  SpoolDirectory& operator=(const SpoolDirectory&) = delete;
  SpoolDirectory& operator=(SpoolDirectory&&) = delete;
  ~SpoolDirectory() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

Status WriteBytes(const std::filesystem::path& path, ByteView bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Status::IOError("cannot write " + path.string());
  return Status::Ok();
}

// A name no other request's spool entry has.
std::string SpoolName() {
  static std::mutex random_mutex;
  static std::mt19937_64 random{std::random_device{}()};
  std::uint64_t n;
  {
    std::lock_guard<std::mutex> lock(random_mutex);
    n = random();
  }
  return ToHex(AsBytes(std::string_view(reinterpret_cast<const char*>(&n), sizeof n)));
}

// Files in the spool, removed however the call ends. Their names mean
// nothing: the package names its objects as the submission says. Plain files,
// not a directory per request: a directory costs an inode each, and
// PreservePO is the hot path.
class SpoolFiles {
 public:
  explicit SpoolFiles(const std::filesystem::path& spool) : prefix_(spool / SpoolName()) {}
  SpoolFiles(const SpoolFiles&) = delete;
  SpoolFiles& operator=(const SpoolFiles&) = delete;
  ~SpoolFiles() {
    std::error_code ec;
    for (const auto& f : files_) std::filesystem::remove(f, ec);
  }
  Result<std::filesystem::path> Write(ByteView bytes) {
    std::filesystem::path file = prefix_;
    file += "." + std::to_string(files_.size());
    files_.push_back(file);
    PRESERVE_RETURN_IF_ERROR(WriteBytes(file, bytes));
    return file;
  }

 private:
  std::filesystem::path prefix_;
  std::vector<std::filesystem::path> files_;
};

Result<SpoolDirectory> MakeSpoolDirectory(const std::filesystem::path& spool) {
  SpoolDirectory dir{spool / SpoolName()};
  std::error_code ec;
  std::filesystem::create_directories(dir.path, ec);
  if (ec) return Status::IOError("cannot make " + dir.path.string() + ": " + ec.message());
  return dir;
}


// One PO of a PreservePO request, decoded.
struct SubmittedObject {
  std::string id;  // as given, or "po[N]"
  std::string format;
  std::string file_name;
  std::vector<std::string> related;  // relObj
  Bytes bytes;
  bool is_metadata = false;
  std::size_t index = 0;               // in "po"
  const json::object* po = nullptr;  // as sent
};

// Categories of refusal that say the object is not what was announced, or
// not usable at all, rather than a signature that is not trustworthy.
bool IsFormatRefusal(const std::string& category) {
  static const std::set<std::string, std::less<>> kFormat = {
      "FORMAT_FAILURE", "NOT_SIGNED", "INPUT_UNUSABLE", "METADATA_INVALID", "NAME_INVALID"};
  return kFormat.count(category) != 0;
}

json::object OutcomeJson(const archive::IngestOutcome& o) {
  json::object out{{"id", o.input}, {"outcome", archive::OutcomeClass(o)}};
  if (!o.package_id.empty()) out["poId"] = o.package_id;
  if (!o.category.empty()) out["category"] = o.category;
  if (!o.reason.empty()) out["reason"] = o.reason;
  if (!o.format.empty()) out["format"] = o.format;
  json::array signatures;
  for (const auto& s : o.signatures) {
    json::object sig{{"label", s.label}, {"verdict", VerdictName(s.report.verdict)}};
    if (s.report.sub_indication != signature::SubIndication::kNone)
      sig["subIndication"] = signature::SubIndicationName(s.report.sub_indication);
    if (!s.report.signer_subject.empty()) sig["signer"] = s.report.signer_subject;
    if (!s.report.reason.empty()) sig["reason"] = s.report.reason;
    signatures.push_back(std::move(sig));
  }
  if (!signatures.empty()) out["signatures"] = std::move(signatures);
  return out;
}

// The answer for one submission's outcome, in plain words.
Answer AnswerFor(const archive::IngestOutcome& o) {
  const std::string cls(archive::OutcomeClass(o));
  if (o.accepted)
    return Success(Say("accepted and stored as package " + o.package_id + "; it is sealed with an archive time-stamp "
                                                                           "within minutes",
                       "Đã tiếp nhận và lưu thành gói " + o.package_id +
                           "; gói sẽ được niêm phong bằng dấu thời gian lưu trữ trong vài phút"));
  if (o.duplicate)
    return Success(Say("already archived as package " + o.package_id + "; nothing new was stored",
                       "Tài liệu đã được lưu trữ trong gói " + o.package_id + "; không lưu thêm bản mới"));
  if (o.error)
    return RequesterError(kPoFormatError, WithDetail(Say("could not be read", "Không đọc được tài liệu"), o.reason));
  if (o.category == "TRY_LATER")
    return ResponderError(kExternalServiceUnavailable,
                          WithDetail(Say("refused for now: revocation data could not be obtained; submit it again later",
                                         "Tạm thời chưa tiếp nhận: chưa lấy được thông tin thu hồi chứng thư số; hãy gửi "
                                         "lại sau"),
                                     o.reason),
                          503);
  if (o.category == archive::kNotSigned)
    return RequesterError(kPoFormatError, WithDetail(Say("not a signed document", "Không phải tài liệu có chữ ký số"), o.reason));
  if (IsFormatRefusal(o.category))
    return RequesterError(kPoFormatError,
                          WithDetail(Say("refused (" + o.category + ")", "Bị từ chối (" + o.category + ")"), o.reason));
  return RequesterError(kSignatureRefused,
                        WithDetail(Say("refused: the signature is not trustworthy (" + o.category + ")",
                                       "Bị từ chối: chữ ký số không đáng tin cậy (" + o.category + ")"),
                                   o.reason));
}

Result<std::vector<SubmittedObject>> DecodeObjects(const json::array& pos) {
  if (pos.size() > kMaxObjects)
    return Status::InvalidArgument("at most " + std::to_string(kMaxObjects) + " objects in one request, not " +
                                   std::to_string(pos.size()));
  std::vector<SubmittedObject> objects;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < pos.size(); ++i) {
    const std::string where = "po[" + std::to_string(i) + "]";
    if (!pos[i].is_object()) return Status::InvalidArgument(where + " must be an object");
    const json::object& po = pos[i].get_object();
    SubmittedObject o;
    o.index = i;
    o.po = &po;
    PRESERVE_ASSIGN_OR_RETURN(auto id, OptionalString(po, "id"));
    o.id = id.value_or(where);
    if (o.id.size() > kMaxIdBytes || !IsUtf8(o.id))
      return Status::InvalidArgument(where + ".id must be UTF-8 of at most " + std::to_string(kMaxIdBytes) + " bytes");
    if (!ids.insert(o.id).second) return Status::InvalidArgument(where + ": the id \"" + o.id + "\" is given twice");
    PRESERVE_ASSIGN_OR_RETURN(auto format, OptionalString(po, "formatId"));
    o.format = format.value_or("");
    o.is_metadata = o.format == kRecordMetadataFormat;
    if (po.contains("xmlData"))
      return Status::InvalidArgument(where + ": xmlData is not supported; send the object as binaryData");
    const json::object* binary = ObjectAt(po, "binaryData");
    const json::value* value = binary != nullptr ? binary->if_contains("value") : nullptr;
    if (value == nullptr || !value->is_string())
      return Status::InvalidArgument(where + ".binaryData.value (base64) is required");
    auto bytes = DecodeBase64(value->get_string());
    if (!bytes) return Status::InvalidArgument(where + ".binaryData.value is not base64");
    o.bytes = std::move(*bytes);
    if (const json::value* rel = po.if_contains("relObj")) {
      if (!rel->is_array()) return Status::InvalidArgument(where + ".relObj must be an array of ids");
      for (const json::value& r : rel->get_array()) {
        if (!r.is_string()) return Status::InvalidArgument(where + ".relObj must be an array of ids");
        o.related.emplace_back(r.get_string());
      }
    }
    objects.push_back(std::move(o));
  }
  return objects;
}

Answer PreservePO(Context& ctx, Call& call) {
  if (auto pro = StringAt(call.body, "pro"); pro && *pro != kProfileId)
    return ParameterError(Say("unknown profile " + *pro + " (RetrieveInfo lists the profiles)",
                              "Không có hồ sơ dịch vụ " + *pro + " (RetrieveInfo liệt kê các hồ sơ)"));
  const json::value* pos = call.body.if_contains("po");
  if (pos == nullptr || !pos->is_array() || pos->get_array().empty())
    return ParameterError(Say("\"po\" (one or more objects) is required", "Thiếu \"po\" (một hoặc nhiều đối tượng)"));
  auto decoded = DecodeObjects(pos->get_array());
  if (!decoded.ok())
    return ParameterError(WithDetail(Say("the objects could not be read", "Không đọc được các đối tượng gửi lên"),
                                     decoded.status().message()));
  std::vector<SubmittedObject>& objects = decoded.value();

  // Which objects are signed objects (each one submission), and which belong
  // to one: its detached document, its record metadata (named in relObj).
  std::set<std::string> referenced;
  for (const auto& o : objects)
    for (const auto& r : o.related) referenced.insert(r);
  std::map<std::string, const SubmittedObject*> by_id;
  for (const auto& o : objects) by_id[o.id] = &o;
  std::vector<const SubmittedObject*> signed_objects;
  std::vector<const SubmittedObject*> loose_metadata;
  for (const auto& o : objects) {
    if (referenced.count(o.id) != 0) continue;
    (o.is_metadata ? loose_metadata : signed_objects).push_back(&o);
  }
  if (signed_objects.empty())
    return ParameterError(Say("no signed object among \"po\"", "Không có đối tượng có chữ ký số nào trong \"po\""));
  if (!loose_metadata.empty() && signed_objects.size() != 1)
    return ParameterError(Say("record metadata must name its document in relObj when several documents are sent",
                              "Khi gửi nhiều tài liệu, siêu dữ liệu hồ sơ phải chỉ rõ tài liệu của nó trong relObj"));

  SpoolFiles spool(ctx.options.spool);
  std::vector<archive::Submission> submissions;
  auto place = [&](const SubmittedObject& o) { return spool.Write(o.bytes); };
  for (const SubmittedObject* s : signed_objects) {
    archive::Submission submission;
    submission.name = s->id;
    const SubmittedObject* content = nullptr;
    const SubmittedObject* metadata = loose_metadata.empty() ? nullptr : loose_metadata.front();
    for (const std::string& r : s->related) {
      auto it = by_id.find(r);
      if (it == by_id.end())
        return ParameterError(Say(s->id + ".relObj names \"" + r + "\", which is not among \"po\"",
                                  s->id + ".relObj nêu \"" + r + "\", không có trong \"po\""));
      const SubmittedObject*& slot = it->second->is_metadata ? metadata : content;
      if (slot != nullptr && slot != it->second)
        return ParameterError(Say(s->id + " names more than one document or metadata object",
                                  s->id + " nêu nhiều hơn một tài liệu hoặc một siêu dữ liệu"));
      slot = it->second;
    }
    submission.signature_name = FileNameFor(*s->po, s->index, s->format, content != nullptr);
    auto signature = place(*s);
    if (!signature.ok()) return FromStatus(signature.status(), "");
    submission.signature = signature.value();
    if (content != nullptr) {
      submission.content_name = FileNameFor(*content->po, content->index, content->format, false);
      auto path = place(*content);
      if (!path.ok()) return FromStatus(path.status(), "");
      submission.content = path.value();
    }
    if (metadata != nullptr) {
      auto path = place(*metadata);
      if (!path.ok()) return FromStatus(path.status(), "");
      submission.metadata = path.value();
    }
    submissions.push_back(std::move(submission));
  }

  auto outcomes = ctx.ingest.Ingest(std::move(submissions));
  if (!outcomes.ok()) return FromStatus(outcomes.status(), "");

  json::array results;
  std::size_t kept = 0;  // accepted or held already
  for (const auto& o : outcomes.value()) {
    results.push_back(OutcomeJson(o));
    if (o.accepted || o.duplicate) ++kept;
  }
  const auto& all = outcomes.value();
  if (call.package_id.empty())
    for (const auto& o : all)
      if (!o.package_id.empty()) {
        call.package_id = o.package_id;
        break;
      }
  json::object opt_out{{"other", json::array{json::object{{"type", "urn:preserve:submission-outcomes"},
                                                           {"value", std::move(results)}}}}};
  if (all.size() == 1) {
    Answer a = AnswerFor(all.front());
    if (!all.front().package_id.empty() && (all.front().accepted || all.front().duplicate))
      a.fields["poId"] = all.front().package_id;
    a.fields["optOut"] = std::move(opt_out);
    return a;
  }
  const std::string counts = std::to_string(kept) + "/" + std::to_string(all.size());
  Answer a;
  if (kept == all.size()) {
    a = Success(Say(counts + " documents archived (see optOut for each)",
                    counts + " tài liệu đã được lưu trữ (xem optOut cho từng tài liệu)"));
  } else if (kept > 0) {
    a = Success(Say("only " + counts + " documents archived; the others were refused (see optOut for each)",
                    "Chỉ " + counts + " tài liệu được lưu trữ; các tài liệu khác bị từ chối (xem optOut cho từng tài liệu)"));
    a.min = kPartlySuccessful;
  } else {
    const auto first = std::find_if(all.begin(), all.end(), [](const auto& o) { return !o.accepted && !o.duplicate; });
    a = AnswerFor(*first);
    a.msg = Say("no document archived (see optOut for each); the first: " + a.msg.en,
                "Không tài liệu nào được lưu trữ (xem optOut cho từng tài liệu); tài liệu đầu tiên: " + a.msg.vi);
  }
  a.fields["optOut"] = std::move(opt_out);
  return a;
}

}  // namespace
namespace {

// ---- Naming a package ----

// The package a request's "poId" names (a whole id or a unique prefix).
Result<std::string> RequiredPackage(Context& ctx, Call& call) {
  PRESERVE_ASSIGN_OR_RETURN(auto given, OptionalString(call.body, "poId"));
  if (!given || given->empty()) return Status::InvalidArgument("\"poId\" is required");
  if (given->size() > kMaxIdBytes || !IsUtf8(*given)) return Status::InvalidArgument("\"poId\" is not a package id");
  call.package_id = *given;
  PRESERVE_ASSIGN_OR_RETURN(std::string id, archive::Catalogue(ctx.archive).ResolvePackageId(*given));
  call.package_id = id;
  return id;
}

// An answer for a package that could not be named: unknown, or a bad request.
Answer UnnamedPackage(const Status& s, const Call& call) {
  if (s.code() == StatusCode::kNotFound)
    return RequesterError(kUnknownPoid, Say("no package " + call.package_id, "Không có gói " + call.package_id));
  return ParameterError(WithDetail(Say("invalid poId", "poId không hợp lệ"), s.message()));
}

std::string MimeTypeOf(const std::string& path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && std::equal(ext.rbegin(), ext.rend(), path.rbegin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           });
  };
  if (ends(".pdf")) return "application/pdf";
  if (ends(".p7s")) return "application/pkcs7-signature";
  if (ends(".p7m")) return "application/pkcs7-mime";
  if (ends(".asice") || ends(".sce")) return "application/vnd.etsi.asic-e+zip";
  if (ends(".asics") || ends(".scs")) return "application/vnd.etsi.asic-s+zip";
  if (ends(".json")) return "application/json";
  if (ends(".xml")) return "application/xml";
  if (ends(".crl")) return "application/pkix-crl";
  if (ends(".der") || ends(".cer")) return "application/pkix-cert";
  if (ends(".ocsp")) return "application/ocsp-response";
  if (ends(".txt")) return "text/plain";
  return "application/octet-stream";
}

// ---- RetrievePO ----

Answer RetrievePO(Context& ctx, Call& call) {
  auto id = RequiredPackage(ctx, call);
  if (!id.ok()) return UnnamedPackage(id.status(), call);
  auto sor = OptionalString(call.body, "sor");
  if (!sor.ok()) return ParameterError(Say(sor.status().message(), sor.status().message()));
  // TS 119 512: without "sor", the PO with its evidence embedded.
  const std::string subject = sor.value().value_or("POwithEmbeddedEvidence");
  if (subject != "PO" && subject != "Evidence" && subject != "POwithDetachedEvidence" &&
      subject != "POwithEmbeddedEvidence")
    return ParameterError(Say("unknown sor \"" + subject + "\" (PO, Evidence, POwithDetachedEvidence, "
                                                           "POwithEmbeddedEvidence)",
                              "sor \"" + subject + "\" không hợp lệ (PO, Evidence, POwithDetachedEvidence, "
                                                   "POwithEmbeddedEvidence)"));
  if (auto ev = StringAt(call.body, "evFormat"); ev && *ev != kEvidenceRecordFormat && *ev != "urn:ietf:rfc:4998")
    return RequesterError("http://uri.etsi.org/19512/error/unknownEvidenceFormat",
                          Say("evidence is kept only as " + std::string(kEvidenceRecordFormat),
                              "Chứng cứ chỉ được lưu dưới dạng " + std::string(kEvidenceRecordFormat)));

  // Which versions: none named is the latest; "all" is every one.
  auto versions = archive::Lifecycle(ctx.archive).Versions(id.value());
  if (!versions.ok()) return FromStatus(versions.status(), id.value());
  std::vector<archive::VersionSummary> chosen;
  const json::value* wanted = call.body.if_contains("versionId");
  if (wanted == nullptr || (wanted->is_array() && wanted->get_array().empty())) {
    chosen.push_back(versions.value().back());
  } else {
    if (!wanted->is_array())
      return ParameterError(Say("\"versionId\" must be an array", "\"versionId\" phải là một mảng"));
    for (const json::value& v : wanted->get_array()) {
      if (!v.is_string()) return ParameterError(Say("\"versionId\" must hold strings", "\"versionId\" phải chứa chuỗi"));
      const std::string name(v.get_string());
      if (name == "all") {
        chosen = versions.value();
        break;
      }
      auto it = std::find_if(versions.value().begin(), versions.value().end(), [&](const auto& s) {
        return s.id == name || std::to_string(s.version) == name;
      });
      if (it == versions.value().end())
        return RequesterError(kUnknownVersionId, Say("package " + id.value() + " has no version " + name,
                                                     "Gói " + id.value() + " không có phiên bản " + name));
      chosen.push_back(*it);
    }
  }

  json::array pos;
  std::uint64_t bytes = 0;
  auto too_large = [&]() {
    return RequesterError(kTransferError,
                          Say("the answer would exceed " + std::to_string(ctx.options.max_response_bytes >> 20) +
                                  " MiB; fetch the versions one at a time, or use 'preserve get'",
                              "Kết quả vượt quá " + std::to_string(ctx.options.max_response_bytes >> 20) +
                                  " MiB; hãy lấy từng phiên bản, hoặc dùng 'preserve get'"));
  };
  for (const archive::VersionSummary& version : chosen) {
    const std::string prefix = chosen.size() > 1 ? version.id + "/" : "";
    if (subject == "POwithEmbeddedEvidence") {
      auto dir = MakeSpoolDirectory(ctx.options.spool);
      if (!dir.ok()) return FromStatus(dir.status(), id.value());
      const std::filesystem::path zip = dir.value().path / (version.id + ".zip");
      if (Status s = archive::Verification(ctx.archive).Export(version.id, zip); !s.ok()) {
        if (s.code() == StatusCode::kFailedPrecondition)
          return RequesterError(kParameterError,
                                WithDetail(Say("package " + version.id + " cannot be exported now (not sealed yet, or "
                                                                         "deleted); sor PO gives its data objects",
                                               "Gói " + version.id + " hiện không xuất được (chưa niêm phong, hoặc đã "
                                                                     "xoá); sor PO trả về các đối tượng dữ liệu"),
                                           s.message()));
        return FromStatus(s, version.id);
      }
      std::error_code size_error;
      if ((bytes + std::filesystem::file_size(zip, size_error)) > ctx.options.max_response_bytes) return too_large();
      auto data = ReadFile(zip);
      if (!data.ok()) return FromStatus(data.status(), version.id);
      bytes += data.value().size();
      pos.push_back(json::object{{"binaryData", json::object{{"value", EncodeBase64(data.value())}}},
                                 {"formatId", kPackageZipFormat},
                                 {"mimeType", "application/zip"},
                                 {"id", version.id + ".zip"}});
      continue;
    }
    // The package's files as `preserve get` writes them: its data objects
    // and, once sealed, evidence.ers (a queued package has no evidence yet).
    auto dir = MakeSpoolDirectory(ctx.options.spool);
    if (!dir.ok()) return FromStatus(dir.status(), id.value());
    auto written = archive::Verification(ctx.archive).Get(version.id, dir.value().path);
    if (!written.ok()) return FromStatus(written.status(), version.id);
    std::map<std::string, std::filesystem::path> files;  // by path relative to the package, sorted
    for (const auto& path : written.value())
      files[std::filesystem::relative(path, dir.value().path).generic_string()] = path;
    const auto evidence = files.find("evidence.ers");
    if (subject == "PO" || subject == "POwithDetachedEvidence") {
      for (const auto& [name, path] : files) {
        if (name == "evidence.ers") continue;
        std::error_code ec;
        if ((bytes += std::filesystem::file_size(path, ec)) > ctx.options.max_response_bytes) return too_large();
        auto data = ReadFile(path);
        if (!data.ok()) return FromStatus(data.status(), version.id);
        pos.push_back(json::object{{"binaryData", json::object{{"value", EncodeBase64(data.value())}}},
                                   {"mimeType", MimeTypeOf(name)},
                                   {"id", prefix + name}});
      }
    }
    if (subject == "Evidence" || subject == "POwithDetachedEvidence") {
      if (evidence == files.end())
        return RequesterError(kParameterError,
                              Say("package " + version.id + " is not sealed yet; its evidence is made within minutes",
                                  "Gói " + version.id + " chưa được niêm phong; chứng cứ sẽ có trong vài phút"));
      auto record = ReadFile(evidence->second);
      if (!record.ok()) return FromStatus(record.status(), version.id);
      if ((bytes += record.value().size()) > ctx.options.max_response_bytes) return too_large();
      pos.push_back(json::object{{"binaryData", json::object{{"value", EncodeBase64(record.value())}}},
                                 {"formatId", kEvidenceRecordFormat},
                                 {"mimeType", "application/octet-stream"},
                                 {"id", prefix + "evidence.ers"},
                                 {"poId", id.value()},
                                 {"verId", version.id}});
    }
  }
  const std::string n = std::to_string(pos.size());
  return Success(Say(n + " objects of package " + id.value(), n + " đối tượng của gói " + id.value()),
                 {{"po", std::move(pos)}});
}

// ---- ValidateEvidence ----

Answer ReportAnswer(const audit::PackageReport& report) {
  boost::system::error_code ec;
  json::value rep = json::parse(audit::ReportToJson(report), ec);
  json::object fields{{"valRep", ec ? json::value(audit::ReportToJson(report)) : std::move(rep)}};
  if (report.existence_time) fields["poe"] = FormatUtcTime(*report.existence_time);
  const std::string reason = report.reasons.empty() ? "" : report.reasons.front();
  return Success(WithDetail(Say("the evidence is " + std::string(VerdictName(report.verdict)),
                                "Kết quả kiểm tra: " + std::string(VerdictVi(report.verdict))),
                            reason),
                 std::move(fields));
}

// The binaryData of a PO (or an Evidence), decoded.
Result<Bytes> BinaryOf(const json::value& po, const std::string& where) {
  if (!po.is_object()) return Status::InvalidArgument(where + " must be an object");
  const json::object* binary = ObjectAt(po.get_object(), "binaryData");
  const json::value* value = binary != nullptr ? binary->if_contains("value") : nullptr;
  if (value == nullptr || !value->is_string()) return Status::InvalidArgument(where + ".binaryData.value is required");
  auto bytes = DecodeBase64(value->get_string());
  if (!bytes) return Status::InvalidArgument(where + ".binaryData.value is not base64");
  return std::move(*bytes);
}

Answer ValidateEvidence(Context& ctx, Call& call) {
  if (call.body.contains("poId")) {
    auto id = RequiredPackage(ctx, call);
    if (!id.ok()) return UnnamedPackage(id.status(), call);
    auto report = archive::Verification(ctx.archive).Verify(id.value(), {});
    if (!report.ok()) return FromStatus(report.status(), id.value());
    return ReportAnswer(report.value());
  }
  audit::PackageVerifyOptions options;
  options.clock = &ctx.clock;
  audit::UsePolicy(ctx.archive.policy(), options);
  options.policy_source = "the archive's policy (" + ctx.archive.policy().name() + ")";
  options.tsa_trust.certificates = {ctx.archive.tsa_trust_anchor()};
  options.tsa_trust.source = "the archive's time-stamping CA";
  auto trust_list = archive::Catalogue(ctx.archive).TrustList();
  if (!trust_list.ok()) return FromStatus(trust_list.status(), "");
  for (const auto& entry : trust_list.value()) options.signer_trust.certificates.push_back(entry.certificate);
  options.signer_trust.source = "the archive's trust list";

  const json::value* po = call.body.if_contains("po");
  if (po != nullptr && !po->is_array())
    return ParameterError(Say("\"po\" must be an array", "\"po\" phải là một mảng"));
  const json::value* ev = call.body.if_contains("ev");
  if (ev == nullptr) {
    // An exported package alone: it carries its evidence.
    if (po == nullptr || po->get_array().size() != 1)
      return ParameterError(Say("give \"poId\", or \"ev\" with the data objects in \"po\", or one exported package "
                                "zip in \"po\"",
                                "Hãy gửi \"poId\", hoặc \"ev\" kèm các đối tượng dữ liệu trong \"po\", hoặc một tệp zip "
                                "gói đã xuất trong \"po\""));
    auto zip_bytes = BinaryOf(po->get_array().front(), "po[0]");
    if (!zip_bytes.ok()) return ParameterError(Say(zip_bytes.status().message(), zip_bytes.status().message()));
    auto dir = MakeSpoolDirectory(ctx.options.spool);
    if (!dir.ok()) return FromStatus(dir.status(), "");
    const std::filesystem::path zip = dir.value().path / "package.zip";
    if (Status s = WriteBytes(zip, zip_bytes.value()); !s.ok()) return FromStatus(s, "");
    auto contents = audit::ReadPackageZip(zip);
    if (!contents.ok())
      return RequesterError(kPoFormatError, WithDetail(Say("not an exported package", "Không phải gói đã xuất"),
                                                       contents.status().message()));
    return ReportAnswer(audit::VerifyPackage(contents.value(), options));
  }
  const json::value& evidence = ev->is_array() && ev->get_array().size() == 1 ? ev->get_array().front() : *ev;
  auto record = BinaryOf(evidence, "ev");
  if (!record.ok()) return ParameterError(Say(record.status().message(), record.status().message()));
  if (po == nullptr || po->get_array().empty())
    return ParameterError(Say("\"po\" must hold the data objects the evidence covers",
                              "\"po\" phải chứa các đối tượng dữ liệu mà chứng cứ bao phủ"));
  std::vector<Bytes> data;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < po->get_array().size(); ++i) {
    const std::string where = "po[" + std::to_string(i) + "]";
    auto bytes = BinaryOf(po->get_array()[i], where);
    if (!bytes.ok()) return ParameterError(Say(bytes.status().message(), bytes.status().message()));
    data.push_back(std::move(bytes).value());
    auto id = po->get_array()[i].is_object() ? StringAt(po->get_array()[i].get_object(), "id") : std::nullopt;
    names.push_back(id.value_or(where));
  }
  return ReportAnswer(audit::VerifyEvidenceOverFiles(record.value(), data, names, options));
}

// ---- RetrieveTrace ----

Answer RetrieveTrace(Context& ctx, Call& call) {
  auto id = RequiredPackage(ctx, call);
  if (!id.ok()) return UnnamedPackage(id.status(), call);
  auto versions = archive::Lifecycle(ctx.archive).Versions(id.value());
  if (!versions.ok()) return FromStatus(versions.status(), id.value());
  std::set<std::string, std::less<>> ids;
  for (const auto& v : versions.value()) ids.insert(v.id);
  json::array events;
  // The trail is read from its start: a package's events are spread over it.
  Status scanned = archive::Maintenance(ctx.archive).ScanAuditLog(0, [&](const archive::AuditLogEvent& e) {
    boost::system::error_code ec;
    json::value v = json::parse(e.json, ec);
    if (ec || !v.is_object()) return true;
    json::object& o = v.get_object();
    auto package = StringAt(o, "package");
    if (!package || ids.count(*package) == 0) return true;
    json::object event{{"time", o.contains("time") ? o["time"] : json::value("")},
                       {"op", o.contains("event") ? o["event"] : json::value("")},
                       {"obj", *package}};
    for (std::string_view who : {"account", "by", "actor", "placed_by", "deleted_by"})
      if (auto sub = StringAt(o, who)) {
        event["sub"] = *sub;
        break;
      }
    o.erase("time");
    o.erase("event");
    o.erase("package");
    event["det"] = json::serialize(o);
    event["seq"] = e.sequence;
    events.push_back(std::move(event));
    return true;
  });
  if (!scanned.ok()) return FromStatus(scanned, id.value());
  const std::string n = std::to_string(events.size());
  return Success(Say(n + " events of package " + id.value(), n + " sự kiện của gói " + id.value()),
                 {{"trace", json::object{{"poId", id.value()}, {"event", std::move(events)}}}});
}

// ---- Search ----

constexpr const char* kSearchFilters = "organ, type, number, subject, issuedFrom, issuedTo, signerOrg, after, limit";

Answer Search(Context& ctx, Call& call) {
  const json::value* fi = call.body.if_contains("fi");
  json::value parsed;
  if (fi != nullptr && fi->is_string()) {
    // The filter may come as a JSON text (the schema's type for it is a string).
    boost::system::error_code ec;
    parsed = json::parse(fi->get_string(), ec);
    if (ec) return ParameterError(Say("\"fi\" is not a JSON object", "\"fi\" không phải đối tượng JSON"));
    fi = &parsed;
  }
  if (fi != nullptr && !fi->is_object())
    return ParameterError(Say("\"fi\" must be an object", "\"fi\" phải là một đối tượng"));
  archive::ListFilter filter;
  std::string after;
  std::size_t limit = 100;
  if (fi != nullptr) {
    for (const auto& member : fi->get_object()) {
      const std::string key(member.key());
      const json::value& v = member.value();
      if (key == "limit") {
        if (!v.is_int64() || v.get_int64() < 1 || v.get_int64() > 1000)
          return ParameterError(Say("fi.limit must be a whole number from 1 to 1000",
                                    "fi.limit phải là số nguyên từ 1 đến 1000"));
        limit = static_cast<std::size_t>(v.get_int64());
        continue;
      }
      if (!v.is_string())
        return ParameterError(Say("fi." + key + " must be a string", "fi." + key + " phải là một chuỗi"));
      std::string text(v.get_string());
      if (key == "organ") filter.organ = text;
      else if (key == "type") filter.type_name = text;
      else if (key == "number") filter.number = text;
      else if (key == "subject") filter.subject = text;
      else if (key == "signerOrg") filter.signer_organization = text;
      else if (key == "after") after = text;
      else if (key == "issuedFrom" || key == "issuedTo") {
        auto day = ParseDate(text);
        if (!day.ok())
          return ParameterError(Say("fi." + key + " must be a date (" + kDateForms + ")",
                                    "fi." + key + " phải là ngày (" + kDateForms + ")"));
        (key == "issuedFrom" ? filter.issued_from : filter.issued_to) = FormatDate(day.value());
      } else {
        return ParameterError(Say("unknown filter fi." + key + " (" + kSearchFilters + ")",
                                  "Không có bộ lọc fi." + key + " (" + kSearchFilters + ")"));
      }
    }
  }
  auto found = archive::Catalogue(ctx.archive).List(after, limit, filter);
  if (!found.ok()) return FromStatus(found.status(), "");
  json::array ids;
  std::size_t unreadable = 0;
  for (const auto& p : found.value()) {
    if (!p.unreadable.empty()) ++unreadable;
    else ids.push_back(json::string(p.id));
  }
  const std::string n = std::to_string(ids.size());
  Answer a = Success(Say(n + " packages" + (unreadable ? " (" + std::to_string(unreadable) + " could not be read)" : ""),
                         n + " gói" + (unreadable ? " (" + std::to_string(unreadable) + " gói không đọc được)" : "")),
                     {{"poId", std::move(ids)}});
  // A full page: the next one starts after its last id.
  if (found.value().size() == limit && !found.value().back().id.empty())
    a.fields["optOut"] = json::object{
        {"other", json::array{json::object{{"type", "urn:preserve:search-next-after"}, {"value", found.value().back().id}}}}};
  return a;
}

// ---- DeletePO ----

Answer DeletePO(Context& ctx, Call& call) {
  auto id = RequiredPackage(ctx, call);
  if (!id.ok()) return UnnamedPackage(id.status(), call);
  // A prefix names a package well enough to read it, not to delete it.
  if (id.value() != *StringAt(call.body, "poId"))
    return ParameterError(Say("give the whole package id to delete it (" + id.value() + ")",
                              "Hãy ghi đủ mã gói để xoá (" + id.value() + ")"));
  auto reason = OptionalString(call.body, "reason");
  if (!reason.ok() || !reason.value() || reason.value()->empty())
    return ParameterError(Say("\"reason\" is required: why the package is deleted",
                              "Cần nêu \"reason\": lý do xoá gói"));
  if (auto mod = StringAt(call.body, "mod"); mod && *mod != "OnlySubDOs")
    return RequesterError(kNotSupported,
                          Say("only mod OnlySubDOs: a deleted package's evidence and tombstone are always kept",
                              "Chỉ hỗ trợ mod OnlySubDOs: chứng cứ và bản ghi xoá của gói luôn được giữ lại"));
  Result<archive::DeletionOutcome> deleted = Status::Internal("not run");
  {
    std::lock_guard<std::mutex> writing(ctx.writer);
    deleted = archive::Lifecycle(ctx.archive).Delete(id.value(), *reason.value(), call.account.name);
  }
  if (!deleted.ok()) {
    if (deleted.status().code() == StatusCode::kFailedPrecondition)
      return RequesterError(kNoPermission, WithDetail(Say("package " + id.value() + " may not be deleted",
                                                          "Không được xoá gói " + id.value()),
                                                      deleted.status().message()));
    return FromStatus(deleted.status(), id.value());
  }
  return Success(Say("package " + id.value() + " deleted; its tombstone and evidence are kept",
                     "Đã xoá gói " + id.value() + "; bản ghi xoá và chứng cứ của gói vẫn được giữ"));
}

// ---- The audit trail (GET /api/audit-log) ----

Answer AuditLog(Context& ctx, Call& call) {
  std::uint64_t from = 0;
  std::size_t limit = 100;
  try {
    if (std::string v = QueryValue(call.request.target, "from"); !v.empty()) from = std::stoull(v);
    if (std::string v = QueryValue(call.request.target, "limit"); !v.empty()) limit = std::stoul(v);
  } catch (const std::exception&) {
    return ParameterError(Say("from and limit must be whole numbers", "from và limit phải là số nguyên"));
  }
  if (limit < 1 || limit > 1000)
    return ParameterError(Say("limit must be from 1 to 1000", "limit phải từ 1 đến 1000"));
  json::array events;
  std::uint64_t next = from;
  Status scanned = archive::Maintenance(ctx.archive).ScanAuditLog(from, [&](const archive::AuditLogEvent& e) {
    boost::system::error_code ec;
    json::value v = json::parse(e.json, ec);
    events.push_back(json::object{{"sequence", e.sequence}, {"event", ec ? json::value(e.json) : std::move(v)},
                                  {"hash", ToHex(e.hash)}});
    next = e.sequence + 1;
    return events.size() < limit;
  });
  if (!scanned.ok()) return FromStatus(scanned, "");
  Answer a = Success(Say(std::to_string(events.size()) + " events", std::to_string(events.size()) + " sự kiện"));
  a.raw_body = json::serialize(json::object{{"events", std::move(events)}, {"next", next}});
  return a;
}

Answer Dispatch(Context& ctx, Call& call) {
  try {
    if (call.operation == "AuditLog") return AuditLog(ctx, call);
    // Parsed JSON takes tens of bytes per value: a body of 64 MiB of "0,0,0..."
    // would take gigabytes. Every value but the first follows a ',', ':', '['
    // or '{', so counting those bounds the values before anything is parsed.
    const std::size_t values = static_cast<std::size_t>(std::count_if(
        call.request.body.begin(), call.request.body.end(), [](char c) { return c == ',' || c == ':' || c == '[' || c == '{'; }));
    if (values > kMaxJsonValues)
      return ParameterError(Say("the request holds more than " + std::to_string(kMaxJsonValues) + " JSON values",
                                "Yêu cầu chứa hơn " + std::to_string(kMaxJsonValues) + " giá trị JSON"));
    boost::system::error_code ec;
    json::value parsed = json::parse(call.request.body, ec);
    if (ec || !parsed.is_object())
      return ParameterError(Say("the body must be a JSON object" + (ec ? ": " + ec.message() : std::string()),
                                "Nội dung yêu cầu phải là một đối tượng JSON" + (ec ? ": " + ec.message() : std::string())));
    call.body = std::move(parsed.get_object());
    call.lang = LanguageOf(call.request, &call.body);
    if (auto req_id = StringAt(call.body, "reqId")) call.req_id = *req_id;
    if (call.operation == "RetrieveInfo") return RetrieveInfo(ctx, call);
    if (call.operation == "PreservePO") return PreservePO(ctx, call);
    if (call.operation == "RetrievePO") return RetrievePO(ctx, call);
    if (call.operation == "ValidateEvidence") return ValidateEvidence(ctx, call);
    if (call.operation == "RetrieveTrace") return RetrieveTrace(ctx, call);
    if (call.operation == "Search") return Search(ctx, call);
    if (call.operation == "DeletePO") return DeletePO(ctx, call);
    return RequesterError(kNotSupported,
                          Say(call.operation + " is not supported; a new version is made with 'preserve ingest "
                                               "--new-version-of'",
                              call.operation + " chưa được hỗ trợ; phiên bản mới được tạo bằng 'preserve ingest "
                                               "--new-version-of'"));
  } catch (const std::exception& e) {
    return ResponderError(kInternalError, WithDetail(Say("internal error", "Lỗi nội bộ"), e.what()));
  }
}

}  // namespace

}  // namespace preserve::service
