// HttpServer: HTTP/1.1 (and HTTPS) on Boost.Beast for `preserve serve`.
// Knows nothing of the archive or of TS 119 512: it frames requests, enforces
// the transport's limits and hands each whole request to a Handler, which may
// block (it runs on a worker pool, never on the event loop).
//
// Private to service/. The contract the API layer (pres_api.h) relies on:
//  - keep-alive per RFC 9112; requests on one connection answered in order;
//  - TLS 1.2 or later when `tls` is set; a client certificate is asked for
//    when `client_ca` is set, and verified against it (a client that sends
//    none is still served: the Handler decides, from `client_certificate`;
//    one whose certificate does not verify fails the handshake, with TLS's
//    unknown_ca alert, and never reaches the Handler);
//  - a request with a body is first shown, head only, to `screen` (when set),
//    whose answer, if any, is sent instead of reading the body;
//  - a body over max_body_bytes is answered 413, a head over max_head_bytes
//    431, a request that does not parse 400, each through `protocol_error`,
//    and the connection is closed; a client silent for idle_timeout, or whose
//    request takes longer than request_timeout to arrive, is closed (408 when
//    a request had begun); none of these ever reaches the Handler;
//  - a Handler that throws, or answers what cannot be sent (a status outside
//    200-599, a field it may not set, a line break in a value), is answered
//    500 through `protocol_error`; the connection and the server go on;
//  - Stop(): no new connections; requests already received are answered
//    (their Handler calls finish); idle connections are closed; then returns.
//    Not to be called from a Handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "preserve/service/http_message.h"
#include "preserve/util/bytes.h"
#include "preserve/util/status.h"

namespace preserve::service {

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Looks at a request's head (everything but the body, which is empty here)
// when a body follows, before the body is read: an answer refuses the
// request at once, and the body is never read or held (the connection then
// closes, since the next request's start is unknown). Runs on a worker, like
// the Handler. This is how requests without valid credentials are refused
// before they can make the server hold max_body_bytes each.
using HeadScreen = std::function<std::optional<HttpResponse>(const HttpRequest& head)>;
// Renders a refusal the transport decided (400, 408, 413, 431, and 500 for a
// failed Handler) in the API's format; `detail` says what was wrong in
// English ("the body exceeds 64 MiB"). Called on any of the server's
// threads, at once on several; when it throws, or returns another status, a
// text/plain answer goes instead.
using ProtocolErrorRenderer = std::function<HttpResponse(unsigned status, const std::string& detail)>;

struct HttpTlsFiles {
  std::filesystem::path certificate;  // PEM, the server's certificate (chain)
  std::filesystem::path private_key;  // PEM
  std::optional<std::filesystem::path> client_ca;  // PEM: ask for client certificates issued under it
};

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8443";  // HOST:PORT, an IP address; port 0 picks a free port
  std::optional<HttpTlsFiles> tls;         // none: plain HTTP
  unsigned io_threads = 1;                 // event loops
  unsigned worker_threads = 0;             // Handler calls at once; 0: 2 per hardware thread, at least 4
  std::uint64_t max_body_bytes = 64ull << 20;
  std::uint32_t max_head_bytes = 16u << 10;
  std::size_t max_connections = 1024;
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds request_timeout = std::chrono::seconds(120);
  HeadScreen screen;  // none: every body is read
};

class HttpServer {
 public:
  // Binds and starts serving; kInvalidArgument for a malformed address or
  // unreadable TLS files (naming the file), kIOError when it cannot bind.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options, HttpHandler handler,
                                                   ProtocolErrorRenderer protocol_error);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // "127.0.0.1:8443": the bound address, with the port picked when 0 was asked.
  std::string local_endpoint() const;
  // See the contract above. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve::service
