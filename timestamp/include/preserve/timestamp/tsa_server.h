// An RFC 3161 time-stamping service over HTTP/1.1 (RFC 3161 section 3.4), so
// an organization can run preserve's embedded TSA for its other systems.
//
// A POST to any path with Content-Type application/timestamp-query is handed
// to the TsaTransport (the embedded TSA) and its DER TimeStampResp returned as
// application/timestamp-reply. Another method gets 405, another content type
// 415, a body over the limit 413, a malformed HTTP request 400, a failure of
// the TSA itself 500. A malformed TimeStampReq is the TSA's business: it
// answers with a rejection, sent with 200 as RFC 3161 asks.
//
// Requests are framed strictly (RFC 9112): a body by Content-Length or the
// chunked coding, never both; no folded or bare-LF header lines; a request
// line and fields within 8 KiB (else 431), HTTP/1.x only (else 505), no
// transfer coding but chunked (else 501). A refused framing closes the
// connection after its answer. A request's head and chunk framing share
// 16 KiB beyond the body limit.
//
// Connections are kept alive (HTTP/1.0 ones when they ask), and pipelined
// requests are answered in order. Each thread runs its own event loop, and a
// connection is served by the thread it was handed to on accept (round
// robin), so requests run on several threads at once and the transport must
// be thread-safe (EmbeddedTsa is). Serial numbers are the
// TSA's: the embedded TSA draws 128 random bits per token, so they stay unique
// across restarts and across servers sharing a key without any saved state.
//
// Plain HTTP only: put a TLS-terminating proxy in front when the network is
// not trusted (the tokens are signed either way; TLS adds confidentiality).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "preserve/timestamp/time_stamp.h"

namespace preserve::timestamp {

struct TsaServerOptions {
  unsigned threads = 0;                   // 0: one per hardware thread
  std::size_t max_request_bytes = 16384;  // a TimeStampReq is about 100 bytes
  // A request must arrive in full, and its answer be written, within this;
  // a connection idle for as long is closed.
  std::chrono::seconds io_timeout{30};
};

class TsaServer {
 public:
  // Binds `listen` ("127.0.0.1:3161", "[::1]:3161"; port 0 picks a free port)
  // and serves until Stop. `tsa` must outlive the server.
  // Fails (kInvalidArgument, kIOError) when the address is malformed or cannot be bound.
  static Result<std::unique_ptr<TsaServer>> Start(TsaTransport& tsa, const std::string& listen,
                                                  const TsaServerOptions& options = {});
  ~TsaServer();  // Stop()
  TsaServer(const TsaServer&) = delete;
  TsaServer& operator=(const TsaServer&) = delete;

  // Stops accepting, lets every request already received be answered, closes
  // idle connections, and returns when every thread has finished. Idempotent.
  void Stop();

  std::string address() const;  // as bound: "127.0.0.1:40123"
  std::uint16_t port() const;

 private:
  struct Impl;
  explicit TsaServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve::timestamp
