// ObjectStore over S3's REST API through libcurl, which signs each request
// with AWS Signature V4 itself (CURLOPT_AWS_SIGV4): no signer of our own.
//
// curl 7.88 signs the query string as it is given, while the gateway signs
// its canonical form (parameters sorted, values percent-encoded, "name=" for
// an empty value): every query here is therefore written in that form.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "concurrently.h"
#include "preserve/storage/object_store.h"
#include "preserve/util/digest.h"
#include "preserve/util/fault_point.h"

namespace preserve::storage {

std::string_view ObjectLockModeName(ObjectLockMode mode) {
  switch (mode) {
    case ObjectLockMode::kNone: return "NONE";
    case ObjectLockMode::kGovernance: return "GOVERNANCE";
    case ObjectLockMode::kCompliance: return "COMPLIANCE";
  }
  return "NONE";
}

Result<ObjectLockMode> ObjectLockModeFromName(std::string_view name) {
  for (ObjectLockMode m : {ObjectLockMode::kNone, ObjectLockMode::kGovernance, ObjectLockMode::kCompliance})
    if (name == ObjectLockModeName(m)) return m;
  return Status::InvalidArgument("an object lock mode is COMPLIANCE, GOVERNANCE or NONE, not \"" + std::string(name) +
                                 "\"");
}

std::string DescribeS3Location(const S3Location& location) {
  return "s3://" + location.bucket + (location.prefix.empty() ? "" : "/" + location.prefix);
}

Status ParseS3Url(std::string_view url, S3Location& location) {
  constexpr std::string_view kScheme = "s3://";
  if (url.substr(0, kScheme.size()) != kScheme)
    return Status::InvalidArgument("content location \"" + std::string(url) + "\" is not s3://BUCKET[/PREFIX]");
  std::string_view rest = url.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  location.bucket = std::string(rest.substr(0, slash));
  location.prefix = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
  while (!location.prefix.empty() && location.prefix.front() == '/') location.prefix.erase(0, 1);
  if (!location.prefix.empty() && location.prefix.back() != '/') location.prefix += '/';
  if (location.bucket.empty())
    return Status::InvalidArgument("content location \"" + std::string(url) + "\" names no bucket");
  return Status::Ok();
}

namespace {

// Parts of one multipart upload in flight at once: the gateway takes each
// part's bytes while the next is read and hashed, and the memory stays at
// this many parts.
constexpr std::size_t kConcurrentParts = 3;

struct CurlEasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlEasyDeleter>;
struct CurlListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlListPtr = std::unique_ptr<curl_slist, CurlListDeleter>;

// libcurl's global state, set up once per process before the first handle.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// RFC 3986 percent-encoding of everything but the unreserved characters, as
// SigV4's canonical query wants it.
std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string Md5Base64(ByteView data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), md, &size, EVP_md5(), nullptr);
  return EncodeBase64(ByteView(md, size));
}

// The text of the first <tag>...</tag> in `xml` from `from` on; nullopt when none.
std::optional<std::string> XmlText(std::string_view xml, std::string_view tag, std::size_t from = 0) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const std::size_t start = xml.find(open, from);
  if (start == std::string_view::npos) return std::nullopt;
  const std::size_t end = xml.find(close, start + open.size());
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(xml.substr(start + open.size(), end - start - open.size()));
}

// Each <tag>...</tag> element of `xml`, whole.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  std::vector<std::string_view> out;
  for (std::size_t at = xml.find(open); at != std::string_view::npos; at = xml.find(open, at)) {
    const std::size_t end = xml.find(close, at);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(at, end + close.size() - at));
    at = end + close.size();
  }
  return out;
}

// An S3 date: "2027-01-01T00:00:00Z" (ISO 8601, UTC, whole seconds).
std::string S3Date(TimePoint t) { return FormatUtcTime(t); }
Result<TimePoint> ParseS3Date(std::string_view text) {
  // The gateway adds milliseconds ("...T00:00:00.000Z"): whole seconds are enough.
  if (text.size() < 19) return Status::IOError("unreadable date \"" + std::string(text) + "\" from the object store");
  return ParseUtcTime(std::string(text.substr(0, 19)) + "Z");
}

// Reads "NAME=value" lines (comments with #, an optional "export ").
Result<std::pair<std::string, std::string>> ReadCredentialsFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Status::InvalidArgument("S3 credentials file " + path + ": " + std::strerror(errno));
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    return Status::InvalidArgument("S3 credentials file " + path +
                                   " may be read by its group or others: make it readable by its owner only "
                                   "(chmod 600)");
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("S3 credentials file " + path + " cannot be read");
  std::string access, secret, line;
  while (std::getline(in, line)) {
    if (line.rfind("export ", 0) == 0) line.erase(0, 7);
    const std::size_t eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    std::string name = line.substr(0, eq), value = line.substr(eq + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    if (name == "AWS_ACCESS_KEY_ID") access = value;
    if (name == "AWS_SECRET_ACCESS_KEY") secret = value;
  }
  if (access.empty() || secret.empty())
    return Status::InvalidArgument("S3 credentials file " + path +
                                   " lacks an AWS_ACCESS_KEY_ID=... or AWS_SECRET_ACCESS_KEY=... line");
  return std::pair{access, secret};
}

struct Reply {
  long status = 0;
  std::string headers;
  std::string body;  // unless streamed to a sink
};

class S3ObjectStore final : public ObjectStore {
 public:
  // `no_credentials`: why there are none; every request then fails with it.
  S3ObjectStore(S3Location location, std::string access_key, std::string secret_key, Status no_credentials)
      : location_(std::move(location)),
        user_(std::move(access_key) + ":" + std::move(secret_key)),
        no_credentials_(std::move(no_credentials)) {
    while (!location_.endpoint.empty() && location_.endpoint.back() == '/') location_.endpoint.pop_back();
  }

  std::string Describe() const override {
    return DescribeS3Location(location_) + " at " + location_.endpoint;
  }

  std::uint64_t part_size() const override { return location_.part_size; }

  Status Put(ByteView digest, ByteView data, std::optional<TimePoint> retain_until) override {
    std::vector<std::string> headers = LockHeaders(retain_until);
    PRESERVE_ASSIGN_OR_RETURN(Reply r, Send("PUT", Key(digest), "", std::move(headers), data));
    return Expect(r, 200, "uploading " + Name(digest));
  }

  Status PutParts(ByteView digest, std::uint64_t size,
                  const std::function<Status(std::uint64_t, Bytes&)>& read,
                  std::optional<TimePoint> retain_until) override {
    const std::string key = Key(digest);
    PRESERVE_ASSIGN_OR_RETURN(Reply started, Send("POST", key, "uploads=", LockHeaders(retain_until), {}));
    PRESERVE_RETURN_IF_ERROR(Expect(started, 200, "starting the multipart upload of " + Name(digest)));
    const std::optional<std::string> upload_id = XmlText(started.body, "UploadId");
    if (!upload_id) return Status::IOError(Describe() + ": no UploadId in the answer to starting an upload");
    const std::string id_query = "uploadId=" + UrlEncode(*upload_id);
    Status uploaded = [&]() -> Status {
      const std::uint64_t count = (size + location_.part_size - 1) / location_.part_size;
      std::vector<std::string> etags(static_cast<std::size_t>(count));
      const Status sent = Concurrently(etags.size(), kConcurrentParts, [&](std::size_t i) -> Status {
        const std::uint64_t at = i * location_.part_size;
        Bytes part(static_cast<std::size_t>(std::min(location_.part_size, size - at)));
        PRESERVE_RETURN_IF_ERROR(read(at, part));
        PRESERVE_FAULT_POINT("s3.upload.part");
        const std::string number = std::to_string(i + 1);
        // partNumber sorts before uploadId: the query is in canonical order.
        PRESERVE_ASSIGN_OR_RETURN(Reply r, Send("PUT", key, "partNumber=" + number + "&" + id_query, {}, part));
        PRESERVE_RETURN_IF_ERROR(Expect(r, 200, "uploading part " + number + " of " + Name(digest)));
        etags[i] = Header(r.headers, "etag");
        if (etags[i].empty()) return Status::IOError(Describe() + ": no ETag for part " + number);
        return Status::Ok();
      });
      PRESERVE_RETURN_IF_ERROR(sent);
      std::string parts;
      for (std::size_t i = 0; i < etags.size(); ++i)
        parts += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] + "</ETag></Part>";
      const std::string complete = "<CompleteMultipartUpload>" + parts + "</CompleteMultipartUpload>";
      PRESERVE_ASSIGN_OR_RETURN(Reply done, Send("POST", key, id_query, {}, AsBytes(complete)));
      PRESERVE_RETURN_IF_ERROR(Expect(done, 200, "completing the upload of " + Name(digest)));
      // Completion can fail inside a 200 answer (S3 sends the status before the work ends).
      if (done.body.find("<Error>") != std::string::npos)
        return Status::IOError(Describe() + ": completing the upload of " + Name(digest) + ": " +
                               XmlText(done.body, "Code").value_or("error"));
      return Status::Ok();
    }();
    if (!uploaded.ok()) {
      // Parts left behind cost space until aborted; the abort's own failure changes nothing for the caller.
      auto aborted = Send("DELETE", key, id_query, {}, {});
      (void)aborted;
    }
    return uploaded;
  }

  Status Read(ByteView digest, const std::function<Status(ByteView)>& sink) const override {
    Status sunk = Status::Ok();
    PRESERVE_ASSIGN_OR_RETURN(Reply r, Send("GET", Key(digest), "", {}, {}, &sink, &sunk));
    PRESERVE_RETURN_IF_ERROR(sunk);
    if (r.status == 404) return Status::NotFound("content " + ToHex(digest) + ": not in " + Describe());
    return Expect(r, 200, "reading " + Name(digest));
  }

  Result<std::optional<std::uint64_t>> Size(ByteView digest) const override {
    PRESERVE_ASSIGN_OR_RETURN(Reply r, Send("HEAD", Key(digest), "", {}, {}));
    if (r.status == 404) return std::optional<std::uint64_t>();
    PRESERVE_RETURN_IF_ERROR(Expect(r, 200, "looking up " + Name(digest)));
    return std::optional<std::uint64_t>(std::strtoull(Header(r.headers, "content-length").c_str(), nullptr, 10));
  }

  Status Delete(ByteView digest) override {
    const std::string key = Key(digest);
    // A versioned bucket (Object Lock needs one) keeps every version; a DELETE
    // without a version would only lay a delete marker over them.
    PRESERVE_ASSIGN_OR_RETURN(Reply listing,
                              Send("GET", "", "prefix=" + UrlEncode(key) + "&versions=", {}, {}));
    PRESERVE_RETURN_IF_ERROR(Expect(listing, 200, "listing the versions of " + Name(digest)));
    std::vector<std::string> versions;
    for (std::string_view tag : {"Version", "DeleteMarker"}) {
      for (std::string_view element : XmlElements(listing.body, tag)) {
        if (XmlText(element, "Key") != key) continue;
        versions.push_back(XmlText(element, "VersionId").value_or("null"));
      }
    }
    for (const std::string& version : versions) {
      PRESERVE_ASSIGN_OR_RETURN(Reply r, Send("DELETE", key, "versionId=" + UrlEncode(version), {}, {}));
      if (r.status == 403)
        return Status::FailedPrecondition(Describe() + " refuses to delete " + Name(digest) +
                                          " (Object Lock: its retention date has not passed, or a legal hold)");
      if (r.status != 404) PRESERVE_RETURN_IF_ERROR(Expect(r, 204, "deleting " + Name(digest)));
    }
    return Status::Ok();
  }

  Status List(const std::function<bool(ByteView, std::uint64_t)>& visit) const override {
    std::string token;
    while (true) {
      // continuation-token, list-type, prefix: canonical order.
      std::string query = (token.empty() ? "" : "continuation-token=" + UrlEncode(token) + "&") +
                          "list-type=2&prefix=" + UrlEncode(location_.prefix);
      PRESERVE_ASSIGN_OR_RETURN(Reply r, Send("GET", "", query, {}, {}));
      PRESERVE_RETURN_IF_ERROR(Expect(r, 200, "listing " + DescribeS3Location(location_)));
      for (std::string_view element : XmlElements(r.body, "Contents")) {
        const std::string key = XmlText(element, "Key").value_or("");
        const std::string name = key.substr(std::min(key.size(), location_.prefix.size()));
        Result<Bytes> digest = name.size() == 64 ? FromHex(name) : Result<Bytes>(Status::NotFound(name));
        if (!digest.ok()) continue;  // not one of ours
        if (!visit(digest.value(), std::strtoull(XmlText(element, "Size").value_or("0").c_str(), nullptr, 10)))
          return Status::Ok();
      }
      if (XmlText(r.body, "IsTruncated") != "true") return Status::Ok();
      token = XmlText(r.body, "NextContinuationToken").value_or("");
      if (token.empty()) return Status::IOError(Describe() + ": a truncated listing without a continuation token");
    }
  }

  Status Retain(ByteView digest, TimePoint until) override {
    if (location_.lock_mode == ObjectLockMode::kNone) return Status::Ok();
    const std::string key = Key(digest);
    PRESERVE_ASSIGN_OR_RETURN(Reply current, Send("GET", key, "retention=", {}, {}));
    if (current.status == 200) {
      if (auto date = XmlText(current.body, "RetainUntilDate")) {
        PRESERVE_ASSIGN_OR_RETURN(TimePoint set, ParseS3Date(*date));
        if (set >= until) return Status::Ok();  // a later date stays: another package may need it
      }
    } else if (current.status != 404) {  // 404: no retention yet
      PRESERVE_RETURN_IF_ERROR(Expect(current, 200, "reading the retention of " + Name(digest)));
    }
    const std::string body = "<Retention><Mode>" + std::string(ObjectLockModeName(location_.lock_mode)) +
                             "</Mode><RetainUntilDate>" + S3Date(until) + "</RetainUntilDate></Retention>";
    PRESERVE_ASSIGN_OR_RETURN(Reply r, Send("PUT", key, "retention=", {"Content-MD5: " + Md5Base64(AsBytes(body))},
                                            AsBytes(body)));
    return Expect(r, 200, "extending the retention of " + Name(digest) + " to " + S3Date(until));
  }

  Status SetLegalHold(ByteView digest, bool on) override {
    if (location_.lock_mode == ObjectLockMode::kNone) return Status::Ok();
    const std::string body = std::string("<LegalHold><Status>") + (on ? "ON" : "OFF") + "</Status></LegalHold>";
    PRESERVE_ASSIGN_OR_RETURN(Reply r, Send("PUT", Key(digest), "legal-hold=",
                                            {"Content-MD5: " + Md5Base64(AsBytes(body))}, AsBytes(body)));
    return Expect(r, 200, std::string(on ? "placing" : "lifting") + " a legal hold on " + Name(digest));
  }

 private:
  std::string Key(ByteView digest) const { return location_.prefix + ToHex(digest); }
  std::string Name(ByteView digest) const { return "object " + Key(digest) + " in " + Describe(); }

  std::vector<std::string> LockHeaders(std::optional<TimePoint> retain_until) const {
    if (location_.lock_mode == ObjectLockMode::kNone || !retain_until) return {};
    return {"x-amz-object-lock-mode: " + std::string(ObjectLockModeName(location_.lock_mode)),
            "x-amz-object-lock-retain-until-date: " + S3Date(*retain_until)};
  }

  std::string Url(const std::string& key, const std::string& query) const {
    std::string base;
    if (location_.path_style) {
      base = location_.endpoint + "/" + location_.bucket;
    } else {
      const std::size_t scheme_end = location_.endpoint.find("://");
      base = scheme_end == std::string::npos
                 ? location_.bucket + "." + location_.endpoint
                 : location_.endpoint.substr(0, scheme_end + 3) + location_.bucket + "." +
                       location_.endpoint.substr(scheme_end + 3);
    }
    return base + "/" + key + (query.empty() ? "" : "?" + query);
  }

  static std::string Header(const std::string& headers, std::string_view name) {
    std::istringstream in(headers);
    std::string line;
    while (std::getline(in, line)) {
      const std::size_t colon = line.find(':');
      if (colon != name.size()) continue;
      std::string lower = line.substr(0, colon);
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      if (lower != name) continue;
      std::string value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
      while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
      return value;
    }
    return "";
  }

  // The answer's status against what was expected; an error answer's S3 code and message.
  Status Expect(const Reply& r, long wanted, const std::string& what) const {
    if (r.status == wanted || (wanted == 200 && r.status == 204)) return Status::Ok();
    std::string detail = "HTTP " + std::to_string(r.status);
    if (auto code = XmlText(r.body, "Code")) detail += " " + *code;
    if (auto message = XmlText(r.body, "Message"); message && !message->empty()) detail += ": " + *message;
    const std::string text = Describe() + ": " + what + " failed (" + detail + ")";
    if (r.status == 403) return Status::FailedPrecondition(text);
    if (r.status == 404) return Status::NotFound(text);
    // The bytes that arrived do not match the MD5 or SHA-256 sent with them.
    if (r.status == 400 && (detail.find("BadDigest") != std::string::npos ||
                            detail.find("XAmzContentSHA256Mismatch") != std::string::npos))
      return Status::Corruption(text);
    if (r.status >= 500) return Status::Unavailable(text);
    return Status::IOError(text);
  }

  struct Transfer {
    ByteView body;
    std::size_t sent = 0;
    Reply* reply = nullptr;
    CURL* curl = nullptr;
    const std::function<Status(ByteView)>* sink = nullptr;
    Status* sunk = nullptr;
    bool sank = false;  // the sink has taken a piece of the object
  };

  static std::size_t OnRead(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = std::min(size * count, t->body.size() - t->sent);
    std::memcpy(buffer, t->body.data() + t->sent, n);
    t->sent += n;
    return n;
  }
  // curl rewinds a body to send it again on a kept connection the gateway had closed.
  static int OnSeek(void* user, curl_off_t offset, int origin) {
    auto* t = static_cast<Transfer*>(user);
    if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > t->body.size())
      return CURL_SEEKFUNC_CANTSEEK;
    t->sent = static_cast<std::size_t>(offset);
    return CURL_SEEKFUNC_OK;
  }
  static std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
    static_cast<Transfer*>(user)->reply->headers.append(data, size * count);
    return size * count;
  }
  static std::size_t OnWrite(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    // Only a successful answer's body is the object; an error's is kept for its message.
    if (t->sink == nullptr || status != 200) {
      t->reply->body.append(data, size * count);
      return size * count;
    }
    t->sank = true;
    *t->sunk = (*t->sink)(ByteView(reinterpret_cast<const std::uint8_t*>(data), size * count));
    return t->sunk->ok() ? size * count : 0;  // 0 aborts the transfer
  }

  // A libcurl handle for one request: each thread keeps one, so that its
  // connection to the gateway stays open from request to request (a new TCP
  // connection per object cost about as much as the upload of a small one).
  // A request made while the thread's handle is busy (from a Read's sink)
  // gets a handle of its own.
  class HandleLease {
   public:
    HandleLease() {
      if (!busy_) {
        busy_ = leased_ = true;
        if (!kept_) {
          kept_.reset(curl_easy_init());
        } else {
          curl_easy_reset(kept_.get());  // options cleared; open connections kept
        }
      } else {
        own_.reset(curl_easy_init());
      }
    }
    ~HandleLease() {
      if (leased_) busy_ = false;
    }
    HandleLease(const HandleLease&) = delete;
    HandleLease& operator=(const HandleLease&) = delete;
    CURL* get() const { return leased_ ? kept_.get() : own_.get(); }

   private:
    static thread_local CurlPtr kept_;
    static thread_local bool busy_;
    bool leased_ = false;
    CurlPtr own_;
  };

  // One signed request, tried again when it failed for a passing reason: the
  // gateway busy or restarting (HTTP 500, 502, 503, 504; a connection
  // refused, or dropped before any answer), twice more, after 0.2 and 0.8 s,
  // as the AWS SDKs do. Not a POST (starting or completing a multipart
  // upload is not idempotent), not a request that timed out (a silent
  // gateway would hold the caller three times as long), and not a read
  // whose sink has taken part of the object already.
  Result<Reply> Send(const std::string& method, const std::string& key, const std::string& query,
                     const std::vector<std::string>& headers, ByteView body,
                     const std::function<Status(ByteView)>* sink = nullptr, Status* sunk = nullptr) const {
    constexpr int kAttempts = 3;
    for (int attempt = 1;; ++attempt) {
      bool passing = false;
      Result<Reply> r = SendOnce(method, key, query, headers, body, sink, sunk, passing);
      if (r.ok()) passing = r->status == 500 || r->status == 502 || r->status == 503 || r->status == 504;
      if (!passing || method == "POST" || attempt == kAttempts) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(200) * (1 << (2 * (attempt - 1))));
    }
  }

  // One signed request, once. `key` empty: the bucket itself. The payload's SHA-256
  // and MD5 travel with every body, so the gateway refuses one that changed
  // on the way (and Object Lock puts require Content-MD5).
  // `passing`: set when it failed before any answer, in a way that another
  // try may not (the connection refused or dropped, not timed out), and the
  // sink has taken nothing.
  Result<Reply> SendOnce(const std::string& method, const std::string& key, const std::string& query,
                         std::vector<std::string> headers, ByteView body, const std::function<Status(ByteView)>* sink,
                         Status* sunk, bool& passing) const {
    PRESERVE_RETURN_IF_ERROR(no_credentials_);
    InitCurlOnce();
    HandleLease curl;
    if (curl.get() == nullptr) return Status::Internal("curl_easy_init failed");
    Reply reply;
    Transfer transfer{body, 0, &reply, curl.get(), sink, sunk, false};
    const std::string url = Url(key, query);
    const std::string sigv4 = "aws:amz:" + location_.region + ":s3";
    headers.push_back("x-amz-content-sha256: " + ToHex(Digest(HashAlgorithm::kSha256, body)));
    const bool has_body = method == "PUT" || method == "POST";
    if (has_body && !body.empty()) {
      bool has_md5 = std::any_of(headers.begin(), headers.end(),
                                 [](const std::string& h) { return h.rfind("Content-MD5:", 0) == 0; });
      if (!has_md5) headers.push_back("Content-MD5: " + Md5Base64(body));
    }
    // No "Expect:" to drop curl's 100-continue wait: curl 7.88 signs the empty
    // header it then does not send, and the gateway rejects the signature.
    CurlListPtr list;
    for (const std::string& h : headers) {
      curl_slist* appended = curl_slist_append(list.get(), h.c_str());
      if (appended == nullptr) return Status::Internal("curl_slist_append failed");
      (void)list.release();
      list.reset(appended);
    }
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(c, CURLOPT_USERPWD, user_.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(location_.timeout.count()));
    // A transfer that moves nothing for the timeout fails, however large it is.
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(location_.timeout.count()));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnWrite);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
    if (method == "PUT") {
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_READFUNCTION, &OnRead);
      curl_easy_setopt(c, CURLOPT_READDATA, &transfer);
      curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, &OnSeek);
      curl_easy_setopt(c, CURLOPT_SEEKDATA, &transfer);
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else if (method == "POST") {
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, reinterpret_cast<const char*>(body.data()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else if (method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (method != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    const CURLcode done = curl_easy_perform(c);
    if (done != CURLE_OK) {
      if (sunk != nullptr && !sunk->ok()) return reply;  // the sink stopped it: its error is the caller's
      passing = !transfer.sank && (done == CURLE_COULDNT_CONNECT || done == CURLE_SEND_ERROR ||
                                   done == CURLE_RECV_ERROR || done == CURLE_GOT_NOTHING);
      return Status::Unavailable(Describe() + ": " + method + " " + (key.empty() ? "(bucket)" : key) +
                                 " did not complete: " + curl_easy_strerror(done));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    return reply;
  }

  S3Location location_;
  std::string user_;  // ACCESS:SECRET for CURLOPT_USERPWD; never in a message
  Status no_credentials_;
};

thread_local CurlPtr S3ObjectStore::HandleLease::kept_;
thread_local bool S3ObjectStore::HandleLease::busy_ = false;

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenS3ObjectStore(const S3Location& location) {
  if (location.bucket.empty()) return Status::InvalidArgument("the S3 content location names no bucket");
  if (location.endpoint.rfind("http://", 0) != 0 && location.endpoint.rfind("https://", 0) != 0)
    return Status::InvalidArgument("the S3 endpoint must be an http:// or https:// URL, not \"" + location.endpoint +
                                   "\"");
  if (location.part_size < (5u << 20)) return Status::InvalidArgument("S3 parts must be at least 5 MiB");
  std::string access, secret;
  Status no_credentials = Status::Ok();
  if (!location.credentials_file.empty()) {
    PRESERVE_ASSIGN_OR_RETURN(auto keys, ReadCredentialsFile(location.credentials_file));
    access = std::move(keys.first);
    secret = std::move(keys.second);
  } else {
    const char* a = std::getenv("AWS_ACCESS_KEY_ID");
    const char* s = std::getenv("AWS_SECRET_ACCESS_KEY");
    if (a == nullptr || s == nullptr || *a == '\0' || *s == '\0') {
      // Commands that read no content (list, audit-log) still work.
      no_credentials = Status::InvalidArgument(
          "no S3 credentials for " + DescribeS3Location(location) +
          ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give a credentials file (content.credentials_file "
          "in config.json)");
    } else {
      access = a;
      secret = s;
    }
  }
  return std::unique_ptr<ObjectStore>(
      std::make_unique<S3ObjectStore>(location, std::move(access), std::move(secret), std::move(no_credentials)));
}

}  // namespace preserve::storage
