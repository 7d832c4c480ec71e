// HttpRequestParser: the HTTP/1.1 requests it frames, the hostile or malformed
// ones it refuses (smuggling vectors among them), that neither depends on how
// the bytes are split into reads, and that its cost per byte is bounded.
#include "preserve/util/http_request_parser.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdio>
#include <string>

namespace preserve {
namespace {

using Outcome = HttpRequestParser::Outcome;

constexpr HttpRequestLimits kLimits{};  // 8 KiB head, 16 KiB body, 16 KiB chunk framing

// What parsing `data` whole said, and the bytes it read.
struct Parsed {
  Outcome outcome;
  std::size_t consumed;
};

Parsed ParseWhole(HttpRequestParser& parser, std::string_view data) {
  const auto progress = parser.Parse(data);
  return {progress.outcome, progress.consumed};
}

Outcome Whole(std::string_view data, const HttpRequestLimits& limits = kLimits) {
  HttpRequestParser parser(limits);
  return parser.Parse(data).outcome;
}

// Feeds `data` in pieces of `piece` bytes until the parser stops reading.
Parsed ParsePieces(HttpRequestParser& parser, std::string_view data, std::size_t piece) {
  std::size_t at = 0;
  while (at < data.size()) {
    const std::string_view next = data.substr(at, piece);
    const auto progress = parser.Parse(next);
    if (progress.outcome != Outcome::kIncomplete) return {progress.outcome, at + progress.consumed};
    EXPECT_EQ(progress.consumed, next.size()) << "an incomplete request takes every byte";
    at += next.size();
  }
  return {parser.outcome(), at};
}

// Every way of splitting `data` in two, and one byte at a time, says what
// parsing it whole says; a request complete ends at the same byte.
void ExpectSplitsAgree(std::string_view data, const HttpRequestLimits& limits = kLimits) {
  HttpRequestParser whole(limits);
  const Parsed expected = ParseWhole(whole, data);
  for (std::size_t split = 0; split <= data.size(); ++split) {
    HttpRequestParser parser(limits);
    Parsed got{Outcome::kIncomplete, 0};
    const auto first = parser.Parse(data.substr(0, split));
    got = {first.outcome, first.consumed};
    if (first.outcome == Outcome::kIncomplete) {
      const auto second = parser.Parse(data.substr(split));
      got = {second.outcome, split + second.consumed};
    }
    EXPECT_EQ(got.outcome, expected.outcome) << "split at " << split << ": " << data.substr(0, 60);
    if (expected.outcome == Outcome::kComplete) {
      EXPECT_EQ(got.consumed, expected.consumed) << "split at " << split;
    }
  }
  HttpRequestParser bytewise(limits);
  const Parsed got = ParsePieces(bytewise, data, 1);
  EXPECT_EQ(got.outcome, expected.outcome) << "byte by byte: " << data.substr(0, 60);
  if (expected.outcome == Outcome::kComplete) {
    EXPECT_EQ(got.consumed, expected.consumed) << "byte by byte";
    EXPECT_EQ(bytewise.body(), whole.body());
    EXPECT_EQ(bytewise.method(), whole.method());
    EXPECT_EQ(bytewise.content_type(), whole.content_type());
  }
}

std::string BodyOf(const HttpRequestParser& parser) { return std::string(parser.body().begin(), parser.body().end()); }

TEST(HttpRequestParser, ParsesATimeStampPost) {
  const std::string request =
      "POST /tsa HTTP/1.1\r\nHost: tsa\r\ncontent-type:  application/timestamp-query \r\n"
      "Content-Length: 5\r\n\r\nhelloNEXT";
  HttpRequestParser parser;
  EXPECT_FALSE(parser.started());
  const auto progress = parser.Parse(request);
  ASSERT_EQ(progress.outcome, Outcome::kComplete);
  EXPECT_EQ(request.substr(progress.consumed), "NEXT") << "stops at the request's end";
  EXPECT_TRUE(parser.started());
  EXPECT_EQ(parser.method(), "POST");
  EXPECT_EQ(parser.content_type(), "application/timestamp-query");
  EXPECT_EQ(BodyOf(parser), "hello");
  EXPECT_TRUE(parser.keep_alive());
  EXPECT_FALSE(parser.http10());
  EXPECT_EQ(parser.Parse("more").consumed, 0u) << "reads nothing more until Reset";
  ExpectSplitsAgree(request);
}

TEST(HttpRequestParser, WaitsForTheWholeRequest) {
  const std::string request = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  for (std::size_t n = 0; n < request.size(); ++n) EXPECT_EQ(Whole(request.substr(0, n)), Outcome::kIncomplete) << n;
  EXPECT_EQ(Whole(request), Outcome::kComplete);
  HttpRequestParser parser;
  EXPECT_EQ(parser.Parse("").outcome, Outcome::kIncomplete);
  EXPECT_FALSE(parser.started()) << "no byte, no request begun";
  EXPECT_EQ(parser.Parse("P").outcome, Outcome::kIncomplete);
  EXPECT_TRUE(parser.started());
}

TEST(HttpRequestParser, ResetReadsTheNextRequest) {
  const std::string pipelined =
      "POST /a HTTP/1.1\r\nContent-Type: a/b\r\nContent-Length: 3\r\n\r\none"
      "GET /b HTTP/1.1\r\nConnection: close\r\n\r\n"
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n";
  HttpRequestParser parser;
  std::string_view rest = pipelined;
  auto progress = parser.Parse(rest);
  ASSERT_EQ(progress.outcome, Outcome::kComplete);
  EXPECT_EQ(BodyOf(parser), "one");
  EXPECT_EQ(parser.content_type(), "a/b");
  rest.remove_prefix(progress.consumed);
  parser.Reset();
  EXPECT_FALSE(parser.started());
  progress = parser.Parse(rest);
  ASSERT_EQ(progress.outcome, Outcome::kComplete);
  EXPECT_EQ(parser.method(), "GET");
  EXPECT_EQ(parser.content_type(), "") << "nothing left from the request before";
  EXPECT_TRUE(parser.body().empty());
  EXPECT_FALSE(parser.keep_alive());
  rest.remove_prefix(progress.consumed);
  parser.Reset();
  progress = parser.Parse(rest);
  ASSERT_EQ(progress.outcome, Outcome::kComplete);
  EXPECT_EQ(BodyOf(parser), "two");
  EXPECT_EQ(progress.consumed, rest.size());
}

TEST(HttpRequestParser, KeepAliveFollowsVersionAndConnection) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.Parse("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").outcome, Outcome::kComplete);
  EXPECT_FALSE(parser.keep_alive());
  parser.Reset();
  ASSERT_EQ(parser.Parse("GET / HTTP/1.0\r\n\r\n").outcome, Outcome::kComplete);
  EXPECT_FALSE(parser.keep_alive());
  EXPECT_TRUE(parser.http10());
  parser.Reset();
  ASSERT_EQ(parser.Parse("GET / HTTP/1.0\r\nConnection: TE, keep-alive\r\n\r\n").outcome, Outcome::kComplete);
  EXPECT_TRUE(parser.keep_alive());
}

TEST(HttpRequestParser, SkipsEmptyLinesBeforeTheRequest) {
  HttpRequestParser parser;
  const auto progress = parser.Parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(progress.outcome, Outcome::kComplete);
  EXPECT_EQ(parser.method(), "GET");
  EXPECT_EQ(progress.consumed, 22u);
  ExpectSplitsAgree("\r\n\r\nGET / HTTP/1.1\r\n\r\n");
}

TEST(HttpRequestParser, RefusesMalformedHeads) {
  for (const char* bad : {
           "POST HTTP/1.1\r\n\r\n",                                 // no target
           "POST  / HTTP/1.1\r\n\r\n",                              // empty target
           "PO(ST / HTTP/1.1\r\n\r\n",                              // not a token
           "POST / HTTP/1.1 \r\n\r\n",                              // trailing space
           "POST / HTTP/1\r\n\r\n",                                 // version
           "POST / http/1.1\r\n\r\n",                               // version is case-sensitive
           "POST / HTTP/1.1\r\nHost tsa\r\n\r\n",                   // no colon
           "POST / HTTP/1.1\r\nHost : tsa\r\n\r\n",                 // space before the colon
           "POST / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",                 // obs-fold
           "POST / HTTP/1.1\nHost: tsa\r\n\r\n",                    // bare LF
           "\nPOST / HTTP/1.1\r\n\r\n",                             // bare LF before the request
           "POST / HTTP/1.1\r\nX: a\rb\r\n\r\n",                    // bare CR
           "POST / HTTP/1.1\r\nX: a\x01\r\n\r\n",                   // control character
           "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",         // not digits
           "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n",       // not decimal
           "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",            // empty
           "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",  // overflow
           "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",  // disagree
           "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n",                    // disagree
           "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",  // both
           "POST / HTTP/1.1\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n\r\n",
       }) {
    EXPECT_EQ(Whole(bad), Outcome::kBadRequest) << bad;
    ExpectSplitsAgree(bad);
  }
  // Repeated, the same length is one length.
  HttpRequestParser parser;
  ASSERT_EQ(parser.Parse("POST / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 7, 7\r\n\r\n1234567").outcome,
            Outcome::kComplete);
  EXPECT_EQ(BodyOf(parser), "1234567");
}

TEST(HttpRequestParser, RefusesOtherVersionsAndCodings) {
  EXPECT_EQ(Whole("POST / HTTP/2.0\r\n\r\n"), Outcome::kVersionNotSupported);
  EXPECT_EQ(Whole("POST / HTTP/0.9\r\n\r\n"), Outcome::kVersionNotSupported);
  EXPECT_EQ(Whole("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), Outcome::kNotImplemented);
  EXPECT_EQ(Whole("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Outcome::kNotImplemented);
  EXPECT_EQ(Whole("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n"), Outcome::kComplete);
}

TEST(HttpRequestParser, RefusesAChunkedHttp10Request) {
  EXPECT_EQ(Whole("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), Outcome::kBadRequest);
}

TEST(HttpRequestParser, BoundsTheHead) {
  const std::string big = "POST / HTTP/1.1\r\nX: " + std::string(kLimits.max_head_bytes, 'a') + "\r\n\r\n";
  EXPECT_EQ(Whole(big), Outcome::kHeadTooLarge);
  EXPECT_EQ(Whole(big.substr(0, kLimits.max_head_bytes + 1)), Outcome::kHeadTooLarge) << "refused before its end";
  ExpectSplitsAgree(big.substr(0, kLimits.max_head_bytes + 100));
  // Exactly at the limit, empty line included, it is a head.
  const std::string request_line = "GET / HTTP/1.1\r\n";
  const std::string at_limit =
      request_line + "X: " + std::string(kLimits.max_head_bytes - request_line.size() - 7, 'a') + "\r\n\r\n";
  ASSERT_EQ(at_limit.size(), kLimits.max_head_bytes);
  EXPECT_EQ(Whole(at_limit), Outcome::kComplete);
  EXPECT_EQ(Whole("\r\n" + at_limit), Outcome::kHeadTooLarge) << "empty lines before it count";
}

TEST(HttpRequestParser, BoundsTheBody) {
  HttpRequestLimits limits;
  limits.max_body_bytes = 15;
  const std::string post = "POST / HTTP/1.1\r\nContent-Length: 16\r\n\r\n";
  EXPECT_EQ(Whole(post, limits), Outcome::kBodyTooLarge) << "refused as the head ends";
  const std::string chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(Whole(chunked + "10\r\n", limits), Outcome::kBodyTooLarge) << "refused on its size line";
  EXPECT_EQ(Whole(chunked + "8\r\n12345678\r\n8\r\n", limits), Outcome::kBodyTooLarge);
  EXPECT_EQ(Whole(chunked + "8\r\n12345678\r\n7\r\n1234567\r\n0\r\n\r\n", limits), Outcome::kComplete);
}

TEST(HttpRequestParser, BoundsChunkFraming) {
  HttpRequestLimits limits;
  limits.max_chunk_framing_bytes = 100;
  const std::string chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  // One-byte chunks take five bytes of framing each ("1\r\n", "\r\n"); the
  // last chunk and the empty line end five more.
  std::string nineteen;
  for (int i = 0; i < 19; ++i) nineteen += "1\r\nx\r\n";
  EXPECT_EQ(Whole(chunked + nineteen + "0\r\n\r\n", limits), Outcome::kComplete);
  EXPECT_EQ(Whole(chunked + nineteen + "1\r\nx\r\n0\r\n\r\n", limits), Outcome::kBodyTooLarge);
  EXPECT_EQ(Whole(chunked + "1;" + std::string(200, 'e') + "\r\n", limits), Outcome::kBodyTooLarge)
      << "a long extension";
  EXPECT_EQ(Whole(chunked + "0\r\nX: " + std::string(200, 't') + "\r\n\r\n", limits), Outcome::kBodyTooLarge)
      << "a long trailer";
  ExpectSplitsAgree(chunked + nineteen + "1\r\nx\r\n0\r\n\r\n", limits);
}

TEST(HttpRequestParser, DecodesChunkedBodies) {
  const std::string request =
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\nA\r\n, 01234567\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  HttpRequestParser parser;
  const auto progress = parser.Parse(request);
  ASSERT_EQ(progress.outcome, Outcome::kComplete);
  EXPECT_EQ(BodyOf(parser), "hello, 01234567");
  EXPECT_EQ(request.substr(progress.consumed), "NEXT");
  for (std::size_t n = 0; n + 4 < request.size(); ++n)
    EXPECT_EQ(Whole(request.substr(0, n)), Outcome::kIncomplete) << n;
  ExpectSplitsAgree(request);
}

TEST(HttpRequestParser, RefusesBadChunks) {
  const std::string chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const char* bad : {
           "ffffffffff\r\n",          // size too long
           "x\r\n",                   // not hex
           "\r\n",                    // no size
           "3\r\nabcd\r\n",           // data overruns its size
           "3\r\nabc\n0\r\n\r\n",     // bare LF after the data
           "0\r\nno colon\r\n\r\n",   // trailer without a name
           "3;x\ny\r\nabc\r\n0\r\n\r\n",  // bare LF in an extension
           "3;x\x01\r\nabc\r\n0\r\n\r\n",  // control character in an extension
           " 3\r\nabc\r\n0\r\n\r\n",  // whitespace before the size
           "3 \r\nabc\r\n0\r\n\r\n",  // whitespace without extensions
       }) {
    EXPECT_EQ(Whole(chunked + bad), Outcome::kBadRequest) << bad;
    ExpectSplitsAgree(chunked + bad);
  }
  EXPECT_EQ(Whole(chunked + "3 ;x\r\nabc\r\n0\r\n\r\n"), Outcome::kComplete) << "whitespace before extensions";
}

double ThreadCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Issue 13: the server parsed the whole request received so far again at
// every read, so a request at the limits sent a byte per segment cost the
// square of its size. Byte by byte, this one (a head of 200 fields, 3,200
// one-byte chunks: 24 KB) took that reading about 30 us per byte, 0.7 s in all.
TEST(HttpRequestParser, ByteByByteCostsLinearTime) {
  std::string request = "POST / HTTP/1.1\r\nContent-Type: application/timestamp-query\r\n";
  for (int i = 0; i < 200; ++i) request += "X-Field-" + std::to_string(i) + ": some value\r\n";
  request += "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3200; ++i) request += "1\r\nx\r\n";
  request += "0\r\n\r\n";
  ASSERT_EQ(Whole(request), Outcome::kComplete);
  HttpRequestParser parser;
  const double start = ThreadCpuSeconds();
  for (int round = 0; round < 10; ++round) {
    parser.Reset();
    ASSERT_EQ(ParsePieces(parser, request, 1).outcome, Outcome::kComplete);
  }
  const double per_byte = (ThreadCpuSeconds() - start) / 10 / static_cast<double>(request.size());
  EXPECT_EQ(parser.body().size(), 3200u);
  std::printf("%zu bytes one at a time: %.0f ns per byte\n", request.size(), per_byte * 1e9);
  // Generous for a loaded machine or an instrumented build.
  EXPECT_LT(per_byte, 2e-6);
}

}  // namespace
}  // namespace preserve
