// The one outbound HTTP client (util/src/http_client.cc) and its URL parser,
// against a loopback server: what goes out, what comes back, and the two
// bounds every caller relies on, the deadline and the size limit.
#include "preserve/util/http_client.h"

#include <gtest/gtest.h>

#include "loopback_http_server.h"

namespace preserve {
namespace {

using std::chrono::milliseconds;
using testing::DownUrl;
using testing::Reply;
using testing::TestServer;
namespace http = boost::beast::http;

TEST(HttpUrl, TakesAUrlApart) {
  auto plain = ParseHttpUrl("http://ocsp.example.vn/ca1?x=1");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->host, "ocsp.example.vn");
  EXPECT_EQ(plain->port, "80");
  EXPECT_EQ(plain->target, "/ca1?x=1");
  EXPECT_EQ(plain->host_header, "ocsp.example.vn");
  EXPECT_EQ(plain->origin, "http://ocsp.example.vn:80");

  auto v6 = ParseHttpUrl("https://[::1]:8443");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_TRUE(v6->tls);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "8443");
  EXPECT_EQ(v6->target, "/");
  EXPECT_EQ(v6->host_header, "[::1]:8443");
  EXPECT_EQ(v6->origin, "https://[::1]:8443");

  EXPECT_EQ(ParseHttpUrl("https://tsa.example").value().port, "443");
}

TEST(HttpUrl, RefusesWhatIsNotAnHttpUrlWithoutEchoingCredentials) {
  for (std::string_view bad : {"ftp://tsa.example/", "ldap://ldap.example/cn=CA", "http://", "http://:80/",
                               "http://[::1/", "http://[::1]x/", "http://host:99999/", "http://host:8o/"}) {
    auto parsed = ParseHttpUrl(bad);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  auto secret = ParseHttpUrl("https://user:s3cret-42@tsa.example/");
  EXPECT_EQ(secret.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(secret.status().message().find("s3cret-42"), std::string::npos) << secret.status().ToString();
}

std::unique_ptr<HttpClient> Client(const std::string& url, HttpClientOptions options = {}) {
  auto client = HttpClient::Create(ParseHttpUrl(url).value(), std::move(options));
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(*client) : nullptr;
}

TEST(HttpClient, PostsTheBodyAndReturnsTheAnswer) {
  std::string method, target, content_type, accept, host;
  Bytes received;
  TestServer server([&](const testing::HttpRequest& r) {
    method = std::string(r.method_string());
    target = std::string(r.target());
    content_type = std::string(r[http::field::content_type]);
    accept = std::string(r[http::field::accept]);
    host = std::string(r[http::field::host]);
    received = r.body();
    return Reply{200, "application/ocsp-response", ToBytes("answer"), milliseconds(0)};
  });
  auto client = Client(server.url());
  ASSERT_NE(client, nullptr);
  HttpClient::Request request;
  request.method = HttpClient::Method::kPost;
  request.content_type = "application/ocsp-request";
  request.accept = "application/ocsp-response";
  Bytes body = ToBytes("question");
  request.body = body;
  auto response = client->Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->content_type, "application/ocsp-response");
  EXPECT_EQ(ToString(response->body), "answer");
  EXPECT_EQ(method, "POST");
  EXPECT_EQ(target, "/tsa");
  EXPECT_EQ(content_type, "application/ocsp-request");
  EXPECT_EQ(accept, "application/ocsp-response");
  EXPECT_EQ(host, ParseHttpUrl(server.url()).value().host_header);
  EXPECT_EQ(ToString(received), "question");
}

TEST(HttpClient, AnyStatusIsAnAnswerForTheCallerToJudge) {
  TestServer server([](const testing::HttpRequest&) { return Reply{404, "text/plain", ToBytes("gone"), {}}; });
  auto client = Client(server.url());
  ASSERT_NE(client, nullptr);
  auto response = client->Send({});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 404u);
  EXPECT_EQ(response->reason, "Not Found");
  EXPECT_EQ(ToString(response->body), "gone");
}

TEST(HttpClient, GivesUpAtItsDeadline) {
  TestServer server(
      [](const testing::HttpRequest&) { return Reply{200, "text/plain", ToBytes("late"), milliseconds(1500)}; });
  HttpClientOptions options;
  options.timeout = milliseconds(300);
  auto client = Client(server.url(), options);
  ASSERT_NE(client, nullptr);
  auto start = std::chrono::steady_clock::now();
  auto response = client->Send({});
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("within 300 ms"), std::string::npos) << response.status().ToString();
  EXPECT_GE(waited, milliseconds(300));
  EXPECT_LT(waited, milliseconds(1400)) << "waited for the server instead of the deadline";
}

TEST(HttpClient, RefusesAnAnswerOverTheLimit) {
  TestServer server([](const testing::HttpRequest&) { return Reply{200, "text/plain", Bytes(5000, 'x'), {}}; });
  HttpClientOptions options;
  options.max_response_bytes = 1000;
  auto client = Client(server.url(), options);
  ASSERT_NE(client, nullptr);
  auto response = client->Send({});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(response.status().message().find("exceeds 1000 bytes"), std::string::npos)
      << response.status().ToString();

  options.max_response_bytes = 5000;
  auto roomy = Client(server.url(), options);
  ASSERT_NE(roomy, nullptr);
  auto whole = roomy->Send({});
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->body.size(), 5000u);
}

TEST(HttpClient, NamesTheServerAsToldAndNotItsPath) {
  const std::string url = DownUrl() + "?key=s3cret";
  auto by_origin = Client(url);
  ASSERT_NE(by_origin, nullptr);
  auto refused = by_origin->Send({});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("cannot connect to " + ParseHttpUrl(url).value().origin),
            std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(refused.status().message().find("s3cret"), std::string::npos) << refused.status().ToString();

  HttpClientOptions options;
  options.name = "CRL " + url;
  auto named = Client(url, options);
  ASSERT_NE(named, nullptr);
  EXPECT_NE(named->Send({}).status().message().find("cannot connect to CRL " + url), std::string::npos);
}

TEST(HttpClient, RefusesANonPositiveTimeout) {
  HttpClientOptions options;
  options.timeout = milliseconds(0);
  EXPECT_EQ(HttpClient::Create(ParseHttpUrl("http://127.0.0.1/").value(), options).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace preserve
