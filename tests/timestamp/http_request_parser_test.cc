// The RFC 3161 service's HTTP/1.1 request framing: what it accepts, and the
// hostile or malformed requests it refuses (smuggling vectors among them).
#include "http_request_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace preserve::timestamp::internal {
namespace {

constexpr std::size_t kMaxHead = 8192;

HttpParse Head(std::string_view data, HttpRequestHead& head) { return ParseRequestHead(data, kMaxHead, head); }

HttpParse Head(std::string_view data) {
  HttpRequestHead head;
  return Head(data, head);
}

TEST(HttpRequestParser, ParsesATimeStampPost) {
  const std::string request =
      "POST /tsa HTTP/1.1\r\nHost: tsa\r\ncontent-type:  application/timestamp-query \r\n"
      "Content-Length: 5\r\n\r\nhello";
  HttpRequestHead head;
  ASSERT_EQ(Head(request, head), HttpParse::kComplete);
  EXPECT_EQ(head.method, "POST");
  EXPECT_EQ(head.content_type, "application/timestamp-query");
  EXPECT_EQ(head.content_length, 5u);
  EXPECT_FALSE(head.chunked);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_FALSE(head.http10);
  EXPECT_EQ(request.substr(head.size), "hello");
}

TEST(HttpRequestParser, WaitsForTheWholeHead) {
  const std::string request = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
  for (std::size_t n = 0; n < request.size(); ++n) EXPECT_EQ(Head(request.substr(0, n)), HttpParse::kIncomplete) << n;
  EXPECT_EQ(Head(request), HttpParse::kComplete);
}

TEST(HttpRequestParser, KeepAliveFollowsVersionAndConnection) {
  HttpRequestHead head;
  ASSERT_EQ(Head("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", head), HttpParse::kComplete);
  EXPECT_FALSE(head.keep_alive);
  ASSERT_EQ(Head("GET / HTTP/1.0\r\n\r\n", head), HttpParse::kComplete);
  EXPECT_FALSE(head.keep_alive);
  EXPECT_TRUE(head.http10);
  ASSERT_EQ(Head("GET / HTTP/1.0\r\nConnection: TE, keep-alive\r\n\r\n", head), HttpParse::kComplete);
  EXPECT_TRUE(head.keep_alive);
}

TEST(HttpRequestParser, SkipsEmptyLinesBeforeTheRequest) {
  HttpRequestHead head;
  ASSERT_EQ(Head("\r\n\r\nGET / HTTP/1.1\r\n\r\n", head), HttpParse::kComplete);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.size, 22u);
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
       })
    EXPECT_EQ(Head(bad), HttpParse::kBadRequest) << bad;
  // Repeated, the same length is one length.
  HttpRequestHead head;
  ASSERT_EQ(Head("POST / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 7, 7\r\n\r\n", head), HttpParse::kComplete);
  EXPECT_EQ(head.content_length, 7u);
}

TEST(HttpRequestParser, RefusesOtherVersionsAndCodings) {
  EXPECT_EQ(Head("POST / HTTP/2.0\r\n\r\n"), HttpParse::kVersionNotSupported);
  EXPECT_EQ(Head("POST / HTTP/0.9\r\n\r\n"), HttpParse::kVersionNotSupported);
  EXPECT_EQ(Head("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), HttpParse::kNotImplemented);
  EXPECT_EQ(Head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
            HttpParse::kNotImplemented);
  HttpRequestHead head;
  ASSERT_EQ(Head("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", head), HttpParse::kComplete);
  EXPECT_TRUE(head.chunked);
}

TEST(HttpRequestParser, BoundsTheHead) {
  const std::string big = "POST / HTTP/1.1\r\nX: " + std::string(kMaxHead, 'a') + "\r\n\r\n";
  EXPECT_EQ(Head(big), HttpParse::kHeadTooLarge);
  EXPECT_EQ(Head(big.substr(0, kMaxHead + 1)), HttpParse::kHeadTooLarge) << "refused before its end arrives";
}

TEST(HttpRequestParser, DecodesChunkedBodies) {
  Bytes body;
  std::size_t consumed = 0;
  const std::string chunked = "5;ext=1\r\nhello\r\nA\r\n, 01234567\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  ASSERT_EQ(DecodeChunkedBody(chunked, 100, body, consumed), HttpParse::kComplete);
  EXPECT_EQ(std::string(body.begin(), body.end()), "hello, 01234567");
  EXPECT_EQ(chunked.substr(consumed), "NEXT");
  for (std::size_t n = 0; n + 4 < chunked.size(); ++n)
    EXPECT_EQ(DecodeChunkedBody(chunked.substr(0, n), 100, body, consumed), HttpParse::kIncomplete) << n;
}

TEST(HttpRequestParser, RefusesBadOrOversizedChunks) {
  Bytes body;
  std::size_t consumed = 0;
  EXPECT_EQ(DecodeChunkedBody("10\r\n", 15, body, consumed), HttpParse::kBodyTooLarge) << "refused on its size line";
  EXPECT_EQ(DecodeChunkedBody("8\r\n12345678\r\n8\r\n", 15, body, consumed), HttpParse::kBodyTooLarge);
  EXPECT_EQ(DecodeChunkedBody("ffffffffff\r\n", 15, body, consumed), HttpParse::kBadRequest);
  EXPECT_EQ(DecodeChunkedBody("x\r\n", 15, body, consumed), HttpParse::kBadRequest);
  EXPECT_EQ(DecodeChunkedBody("\r\n", 15, body, consumed), HttpParse::kBadRequest);
  EXPECT_EQ(DecodeChunkedBody("3\r\nabcd\r\n", 15, body, consumed), HttpParse::kBadRequest) << "data overruns its size";
  EXPECT_EQ(DecodeChunkedBody("0\r\nno colon\r\n\r\n", 15, body, consumed), HttpParse::kBadRequest);
  // Extensions are ignored but must be clean; whitespace only before them.
  EXPECT_EQ(DecodeChunkedBody("3;x\ny\r\nabc\r\n0\r\n\r\n", 15, body, consumed), HttpParse::kBadRequest)
      << "bare LF in an extension";
  EXPECT_EQ(DecodeChunkedBody(" 3\r\nabc\r\n0\r\n\r\n", 15, body, consumed), HttpParse::kBadRequest);
  EXPECT_EQ(DecodeChunkedBody("3 \r\nabc\r\n0\r\n\r\n", 15, body, consumed), HttpParse::kBadRequest);
  EXPECT_EQ(DecodeChunkedBody("3 ;x\r\nabc\r\n0\r\n\r\n", 15, body, consumed), HttpParse::kComplete);
}

TEST(HttpRequestParser, RefusesAChunkedHttp10Request) {
  EXPECT_EQ(Head("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), HttpParse::kBadRequest);
}

}  // namespace
}  // namespace preserve::timestamp::internal
