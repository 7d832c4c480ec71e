// preserve's one outbound HTTP/1.1 client (Boost.Beast), shared by revocation
// fetching (CRLs and OCSP, RFC 5280 and RFC 6960 appendix A) and the RFC 3161
// TSA client. It carries one request and returns whatever answer came back;
// what an answer must be (status 200, a media type) is each caller's policy,
// checked on the Response.
//
// HTTPS goes through OpenSSL: TLS 1.2 or later, the server's certificate
// verified against the given trust anchors (or the system's CA store) and
// matched to the URL's host name or IP address.
//
// Failures are values, never exceptions. An answer that did not arrive
// (resolution, connection, a dropped connection, the deadline) is
// kUnavailable, worth retrying; a refused TLS certificate and an answer larger
// than the limit are kFailedPrecondition, which waiting does not cure.
// Messages name the server by HttpClientOptions::name and never carry the
// URL's path or an Authorization value.
//
// Thread safety: a client may be used by one thread at a time; each Send runs
// its own I/O loop, so separate clients run in parallel.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/util/bytes.h"
#include "preserve/util/status.h"

namespace preserve {

// An http:// or https:// URL, taken apart.
struct HttpUrl {
  bool tls = false;         // https
  std::string host;         // without brackets
  std::string port;         // the URL's, or the scheme's default
  std::string target;       // path and query; "/" when the URL has none
  std::string host_header;  // host[:port] as sent in Host:
  std::string origin;       // scheme://host:port, for messages: no path, whose query might hold a key
};

// kInvalidArgument for anything but http(s)://host[:port][/path...]; the
// messages begin "URL " and never echo user information ("user:pw@"), which
// is refused because it is a secret bound for logs.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

// How an HTTPS server is recognized and how the client shows itself.
struct HttpTlsOptions {
  std::vector<Bytes> trust_anchors;  // DER; with ca_file empty too: the system's default CA store
  std::string ca_file;               // PEM file of further trust anchors
  std::string client_cert_file;      // PEM chain, for TLS client authentication
  std::string client_key_file;       // PEM key (unencrypted) matching client_cert_file
};

struct HttpClientOptions {
  std::string name;                          // how messages name the server; empty: the URL's origin
  std::chrono::milliseconds timeout{15000};  // whole exchange: resolve, connect, handshake, write, read
  std::uint64_t max_response_bytes = 1 << 20;  // a larger body is refused, not read to its end
  HttpTlsOptions tls;                          // https URLs only
};

class HttpClient {
 public:
  enum class Method { kGet, kPost };

  struct Request {
    Method method = Method::kGet;
    std::string_view content_type;   // empty: no Content-Type
    std::string_view accept;         // empty: no Accept
    std::string_view authorization;  // empty: no Authorization; never shown in a message
    ByteView body;                   // kPost
  };

  struct Response {
    unsigned status = 0;
    std::string reason;        // the status line's text
    std::string content_type;  // the header's value, as sent
    Bytes body;
  };

  // Checks the options and, for https, loads the trust anchors and client
  // credentials once (kInvalidArgument when one cannot be loaded; the key
  // file's content appears in no message, only its name).
  static Result<std::unique_ptr<HttpClient>> Create(HttpUrl url, HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One exchange on a fresh connection ("Connection: close"), no retries.
  // Any HTTP status comes back as a Response.
  Result<Response> Send(const Request& request) const;

  // The server as messages name it.
  const std::string& name() const;

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve
