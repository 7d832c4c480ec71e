// HttpRequestParser: the framing of HTTP/1.1 requests (RFC 9112), read
// incrementally as bytes arrive, strict and bounded.
//
// What it reads: a request line, header fields, and a body delimited by
// Content-Length or the chunked transfer coding. Whatever it does not
// understand is refused with the status to answer, never guessed at, so a
// request cannot be framed differently here and by a proxy in front: lines end
// in CRLF (a bare CR or LF is refused), fields may not be folded or have space
// before the colon, Content-Length and Transfer-Encoding may not both appear,
// an HTTP/1.0 request may not be chunked, and no transfer coding but chunked
// is understood. Empty lines before the request line are skipped (RFC 9112
// 2.2). Chunk extensions and trailer fields are checked and dropped.
//
// Cost: each byte is examined a bounded number of times whatever the
// segmentation (a request sent one byte per segment costs what it costs sent
// whole, plus the calls), and kept only if it is part of the body, the method,
// the Content-Type, or a line not yet whole. Nothing received is scanned or
// copied again on the next call. Memory is bounded by the limits.
//
// Limits (HttpRequestLimits), each checked as the bytes arrive, so a request
// over one is refused before the rest of it is received:
//  - the head (request line, fields, the empty line, and any empty lines
//    before it) at most max_head_bytes: else kHeadTooLarge (431);
//  - the body at most max_body_bytes: else kBodyTooLarge (413), for
//    Content-Length as soon as the head ends;
//  - a chunked body's framing (chunk-size lines with their extensions, the
//    CRLF after each chunk's data, the trailer section) at most
//    max_chunk_framing_bytes: else kBodyTooLarge (413). Tiny chunks carry
//    more framing than data; this bounds the bytes, and so the work, a body
//    of at most max_body_bytes can be made to take.
//
// Use: Parse the bytes of a connection as they are received, until it says
// kComplete or refuses; then read the request, and Reset before parsing the
// bytes after it (the next request, when pipelined). After a refusal the
// connection cannot be read on, since where the next request would start is
// unknown: answer and close it. Not thread-safe; one per connection.
//
// The parser knows nothing of methods, targets or media types beyond their
// syntax: what a server accepts is the server's business.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "preserve/util/bytes.h"

namespace preserve {

struct HttpRequestLimits {
  // Request line and fields are a few hundred bytes; Beast's default limit.
  std::size_t max_head_bytes = 8192;
  std::size_t max_body_bytes = 16384;
  // Room for a body of max_body_bytes in chunks of a few bytes each.
  std::size_t max_chunk_framing_bytes = 16384;
};

class HttpRequestParser {
 public:
  enum class Outcome {
    kIncomplete,           // need more bytes
    kComplete,             // a whole request: see the accessors
    kBadRequest,           // 400: malformed, or ambiguous framing
    kHeadTooLarge,         // 431: request line and fields over the limit
    kBodyTooLarge,         // 413: body, or a chunked body's framing, over the limit
    kVersionNotSupported,  // 505: not HTTP/1.x
    kNotImplemented,       // 501: a transfer coding other than chunked
  };

  struct Progress {
    Outcome outcome = Outcome::kIncomplete;
    // Bytes of `data` read: all of them while kIncomplete; on kComplete, up
    // to the request's end (what follows is the next request's); after a
    // refusal, some of them, and the connection is not to be read on.
    std::size_t consumed = 0;
  };

  explicit HttpRequestParser(const HttpRequestLimits& limits = {});

  // Reads the next bytes received. Once the request is complete or refused,
  // reads nothing more and says so again, until Reset.
  Progress Parse(std::string_view data);

  // Ready for the connection's next request. Buffers keep their capacity,
  // so a kept-alive connection's next request allocates nothing here.
  void Reset();

  // True once a byte of the current request has been read: a server gives a
  // request begun a different deadline from a connection waiting idle.
  bool started() const { return started_; }
  Outcome outcome() const { return outcome_; }

  // The request, once Parse has said kComplete.
  std::string_view method() const { return method_; }
  std::string_view content_type() const { return content_type_; }  // empty when absent
  bool http10() const { return http10_; }  // an HTTP/1.0 client keeps alive only when told so
  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive() const { return keep_alive_; }
  const Bytes& body() const { return body_; }

 private:
  enum class Phase {
    kHead,
    kContentLengthBody,
    kChunkSize,
    kChunkData,
    kChunkDataCr,  // the CRLF after a chunk's data
    kChunkDataLf,
    kTrailer,
    kDone,  // complete or refused
  };
  enum class LineStep { kLine, kIncomplete, kTooLong, kMalformed };

  LineStep NextLine(std::string_view data, std::size_t& at, std::size_t& budget, std::string_view& line);
  Outcome HeadLine(std::string_view line);
  Outcome RequestLine(std::string_view line);
  Outcome Field(std::string_view line);
  Outcome EndOfHead();
  Outcome ChunkSizeLine(std::string_view line);
  Progress Finish(Outcome outcome, std::size_t consumed);

  const HttpRequestLimits limits_;

  Phase phase_ = Phase::kHead;
  Outcome outcome_ = Outcome::kIncomplete;
  bool started_ = false;
  std::size_t head_budget_;     // bytes the head may still take
  std::size_t framing_budget_;  // bytes a chunked body's framing may still take
  std::size_t data_left_ = 0;   // of the Content-Length body, or of the current chunk
  std::string line_;            // the part of a line received so far, when a read ended inside it

  // What the head said.
  bool have_request_line_ = false;
  bool have_length_ = false;
  bool have_transfer_encoding_ = false;
  bool have_content_type_ = false;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  std::size_t content_length_ = 0;
  std::string method_;
  std::string content_type_;
  bool http10_ = false;
  bool keep_alive_ = false;
  Bytes body_;
};

}  // namespace preserve
