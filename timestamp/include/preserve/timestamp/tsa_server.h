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
// Requests are framed strictly and incrementally by HttpRequestParser (see
// preserve/util/http_request_parser.h): a body by Content-Length or the
// chunked coding, never both; no folded or bare-LF header lines; a request
// line and fields within the head limit (else 431), HTTP/1.x only (else 505),
// no transfer coding but chunked (else 501), a body and a chunked body's
// framing within theirs (else 413). A refused framing closes the connection
// after its answer. Each byte received is examined a bounded number of times however
// the request is split into segments, so a client sending one byte at a time
// costs the server a read per byte and no more.
//
// Time and connections are bounded too (TsaServerOptions): a connection
// waiting for the first byte of a request (new, or kept alive), or for the
// client to take an answer, is closed after idle_timeout; a request must be
// received whole within request_timeout of its first byte, however steadily
// its bytes come, or is answered 408 and its connection closed.
// At max_connections the server stops accepting: further connections wait in
// the kernel's listen queue (their handshake done, their bytes unread) and are
// taken, in order, as others close; once that queue is full the kernel drops
// new ones.
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
#include "preserve/util/http_request_parser.h"

namespace preserve::timestamp {

struct TsaServerOptions {
  unsigned threads = 0;  // 0: one per hardware thread
  // A TimeStampReq is about 100 bytes; the body limit is 16 KiB.
  HttpRequestLimits request_limits;
  // Connections open at once, idle ones included. Each holds a descriptor
  // and up to about 50 KiB of buffers at the size limits.
  std::size_t max_connections = 1024;
  // How long a connection may wait for the first byte of its next request,
  // and the client take to read an answer.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
  // How long a request may take to arrive whole after its first byte.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
};

class TsaServer {
 public:
  // Binds `listen` ("127.0.0.1:3161", "[::1]:3161"; port 0 picks a free port)
  // and serves until Stop. `tsa` must outlive the server.
  // Fails (kInvalidArgument, kIOError) when the address is malformed or
  // cannot be bound, or an option is zero.
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
