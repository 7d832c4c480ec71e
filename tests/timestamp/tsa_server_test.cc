// The RFC 3161 HTTP service in process: what it answers to good and bad
// requests, concurrency, keep-alive, and a Stop that lets requests in flight
// finish. Its limits (CPU per request, time, connections) are in
// tsa_server_limits_test.cc; the command-line service and openssl/curl
// interop in tests/interop/tsa_http_test.cc.
#include "preserve/timestamp/tsa_server.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <array>
#include <cstdio>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/timestamp/http_tsa.h"
#include "preserve/util/openssl_ptr.h"
#include "recording_tsa.h"
#include "testing.h"

namespace preserve::timestamp {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using preserve::testing::TempDir;
using std::chrono::milliseconds;
using StringRequest = http::request<http::string_body>;
using StringResponse = http::response<http::string_body>;

constexpr HashAlgorithm kAlg = HashAlgorithm::kSha256;

StringRequest Post(const std::string& content_type, std::string body) {
  StringRequest request{http::verb::post, "/", 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, content_type);
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

// Raw HTTP over one connection, for what HttpTsaTransport never sends.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  StringResponse Send(const StringRequest& request) {
    http::write(socket_, request);
    return Receive();
  }
  // Bytes as they are, for framings Beast would not write.
  void SendRaw(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  StringResponse Receive() {
    StringResponse response;
    http::read(socket_, buffer_, response);
    return response;
  }
  // True when the server has closed the connection (after what was read).
  bool Closed() {
    boost::system::error_code ec;
    char byte = 0;
    socket_.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// Delegates to the embedded TSA after a pause: a request stays in flight.
class SlowTsa final : public TsaTransport {
 public:
  SlowTsa(TsaTransport& tsa, milliseconds delay) : tsa_(tsa), delay_(delay) {}
  Result<Bytes> Exchange(const Bytes& request_der) override {
    started_.set_value();
    std::this_thread::sleep_for(delay_);
    return tsa_.Exchange(request_der);
  }
  std::future<void> started() { return started_.get_future(); }

 private:
  TsaTransport& tsa_;
  milliseconds delay_;
  std::promise<void> started_;
};

class FailingTsa final : public TsaTransport {
 public:
  Result<Bytes> Exchange(const Bytes&) override { return Status::Internal("signing key unavailable"); }
};

// The token in a granted DER TimeStampResp; empty if there is none.
Bytes TokenOf(const std::string& response_der) {
  const auto* p = reinterpret_cast<const unsigned char*>(response_der.data());
  TsRespPtr response(d2i_TS_RESP(nullptr, &p, static_cast<long>(response_der.size())));
  if (!response || TS_RESP_get_token(response.get()) == nullptr) return {};
  return ToDer(i2d_PKCS7, TS_RESP_get_token(response.get()));
}

class TsaServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CreateEmbeddedTsa(tmp_ / "tsa", {}, clock_).ok());
    auto tsa = EmbeddedTsa::Open(tmp_ / "tsa", clock_);
    ASSERT_TRUE(tsa.ok()) << tsa.status().ToString();
    tsa_ = std::move(tsa.value());
  }

  std::unique_ptr<TsaServer> StartServer(TsaTransport& tsa, TsaServerOptions options = {}) {
    auto server = TsaServer::Start(tsa, "127.0.0.1:0", options);
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    return server.ok() ? std::move(server.value()) : nullptr;
  }

  HttpTsaConfig Client(const TsaServer& server) {
    HttpTsaConfig config;
    config.url = "http://" + server.address() + "/";
    config.tsa_trust_anchors = {tsa_->ca_certificate()};
    config.retries = 0;
    return config;
  }

  // A TimeStampReq as preserve's client makes it (with a nonce and certReq).
  Bytes RecordedRequest() {
    RecordingTsa recording(*tsa_);
    EXPECT_TRUE(RequestTimeStamp(recording, kAlg, imprint_).ok());
    return recording.request;
  }

  TempDir tmp_;
  SystemClock clock_;
  std::unique_ptr<EmbeddedTsa> tsa_;
  Bytes imprint_ = Digest(kAlg, AsBytes("Quyết định lưu trữ"));
};

TEST_F(TsaServerTest, AnswersTimeStampQueries) {
  auto server = StartServer(*tsa_);
  ASSERT_TRUE(server);
  EXPECT_NE(server->port(), 0);
  EXPECT_EQ(server->address(), "127.0.0.1:" + std::to_string(server->port()));
  auto stamper = FailoverTimeStamper::Create({Client(*server)}, clock_);
  ASSERT_TRUE(stamper.ok()) << stamper.status().ToString();
  auto stamped = stamper.value()->Stamp(kAlg, imprint_);
  ASSERT_TRUE(stamped.ok()) << stamped.status().ToString();
  EXPECT_EQ(stamped->info.tsa_certificate, tsa_->tsa_certificate());
}

TEST_F(TsaServerTest, RefusesWhatIsNotATimeStampQuery) {
  auto server = StartServer(*tsa_);
  ASSERT_TRUE(server);
  {
    RawClient client(server->port());
    StringRequest get{http::verb::get, "/", 11};
    get.set(http::field::host, "127.0.0.1");
    StringResponse response = client.Send(get);
    EXPECT_EQ(response.result(), http::status::method_not_allowed);
    EXPECT_EQ(response[http::field::allow], "POST");
  }
  EXPECT_EQ(RawClient(server->port()).Send(Post("text/plain", "hello")).result(), http::status::unsupported_media_type);
  EXPECT_EQ(RawClient(server->port()).Send(Post("application/timestamp-query", std::string(20000, 'x'))).result(),
            http::status::payload_too_large);

  // A malformed TimeStampReq is answered by the TSA itself: a rejection, sent with 200.
  StringResponse garbage = RawClient(server->port()).Send(Post("Application/TimeStamp-Query; x=y", "not DER"));
  EXPECT_EQ(garbage.result(), http::status::ok);
  EXPECT_EQ(garbage[http::field::content_type], "application/timestamp-reply");
  const auto* p = reinterpret_cast<const unsigned char*>(garbage.body().data());
  TsRespPtr reply(d2i_TS_RESP(nullptr, &p, static_cast<long>(garbage.body().size())));
  ASSERT_TRUE(reply);
  EXPECT_EQ(ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(reply.get()))), TS_STATUS_REJECTION);
}

TEST_F(TsaServerTest, TsaFailureIs500) {
  FailingTsa failing;
  auto server = StartServer(failing);
  ASSERT_TRUE(server);
  StringResponse response = RawClient(server->port()).Send(Post("application/timestamp-query", "x"));
  EXPECT_EQ(response.result(), http::status::internal_server_error);
  EXPECT_EQ(response.body().find("signing key"), std::string::npos) << "internal detail stays internal";
}

TEST_F(TsaServerTest, KeepsConnectionsAlive) {
  auto server = StartServer(*tsa_);
  ASSERT_TRUE(server);
  RawClient client(server->port());
  for (int i = 0; i < 3; ++i) {
    StringResponse response = client.Send(Post("application/timestamp-query", "still not DER"));
    EXPECT_EQ(response.result(), http::status::ok);
    EXPECT_TRUE(response.keep_alive());
  }
}

TEST_F(TsaServerTest, AnswersChunkedAndPipelinedRequests) {
  auto server = StartServer(*tsa_);
  ASSERT_TRUE(server);
  const std::string der = ToString(RecordedRequest());
  std::string chunked =
      "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/timestamp-query\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  std::array<char, 16> size{};
  std::snprintf(size.data(), size.size(), "%zx", der.size() - 10);
  chunked += "a;x=y\r\n" + der.substr(0, 10) + "\r\n" + size.data() + "\r\n" + der.substr(10) + "\r\n0\r\n\r\n";
  const std::string plain = "POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/timestamp-query\r\n"
                            "Content-Length: " + std::to_string(der.size()) + "\r\n\r\n" + der;
  RawClient client(server->port());
  // Both in one write: the second waits in the server's buffer for the first's answer.
  client.SendRaw(chunked + plain);
  for (int i = 0; i < 2; ++i) {
    StringResponse response = client.Receive();
    ASSERT_EQ(response.result(), http::status::ok) << i;
    EXPECT_TRUE(response.keep_alive());
    auto info = VerifyToken(TokenOf(response.body()), kAlg, imprint_, {{tsa_->ca_certificate()}, {}, std::nullopt});
    EXPECT_TRUE(info.ok()) << i << ": " << info.status().ToString();
  }
}

TEST_F(TsaServerTest, RefusesWhatItCannotFrameAndCloses) {
  auto server = StartServer(*tsa_);
  ASSERT_TRUE(server);
  const std::string type = "Content-Type: application/timestamp-query\r\n";
  const std::pair<std::string, http::status> cases[] = {
      {"POST / HTTP/1.1\r\n" + type + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
       http::status::bad_request},
      {"POST / HTTP/1.1\r\n" + type + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
       http::status::bad_request},
      {"POST / HTTP/1.1\r\nHost : t\r\n\r\n", http::status::bad_request},
      {"POST / HTTP/2.0\r\n\r\n", http::status::http_version_not_supported},
      {"POST / HTTP/1.1\r\n" + type + "Transfer-Encoding: gzip\r\n\r\n", http::status::not_implemented},
      {"POST / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n",
       http::status::request_header_fields_too_large},
      {"POST / HTTP/1.1\r\n" + type + "Transfer-Encoding: chunked\r\n\r\n4001\r\n",
       http::status::payload_too_large},
  };
  for (const auto& [request, status] : cases) {
    RawClient client(server->port());
    client.SendRaw(request);
    StringResponse response = client.Receive();
    EXPECT_EQ(response.result(), status) << request.substr(0, 80);
    EXPECT_FALSE(response.keep_alive());
    EXPECT_TRUE(client.Closed()) << request.substr(0, 80);
  }
}

TEST_F(TsaServerTest, Http10KeepsAliveOnlyWhenAsked) {
  auto server = StartServer(*tsa_);
  ASSERT_TRUE(server);
  const std::string post = "POST / HTTP/1.0\r\nContent-Type: application/timestamp-query\r\nContent-Length: 1\r\n";
  RawClient client(server->port());
  client.SendRaw(post + "Connection: keep-alive\r\n\r\nx");
  StringResponse kept = client.Receive();
  EXPECT_EQ(kept.result(), http::status::ok);
  EXPECT_EQ(kept[http::field::connection], "keep-alive");
  client.SendRaw(post + "\r\nx");
  EXPECT_EQ(client.Receive().result(), http::status::ok);
  EXPECT_TRUE(client.Closed());
}

TEST_F(TsaServerTest, ConcurrentRequestsGetDistinctSerials) {
  TsaServerOptions options;
  options.threads = 4;
  auto server = StartServer(*tsa_, options);
  ASSERT_TRUE(server);
  std::mutex mutex;
  std::set<std::string> serials;
  int failures = 0;
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&] {
      auto transport = HttpTsaTransport::Create(Client(*server));
      for (int i = 0; i < 20 && transport.ok(); ++i) {
        auto token = RequestTimeStamp(*transport.value(), kAlg, imprint_);
        auto info = token.ok() ? VerifyToken(*token, kAlg, imprint_, {{tsa_->ca_certificate()}, {}, std::nullopt})
                               : Result<TokenInfo>(token.status());
        std::lock_guard lock(mutex);
        if (info.ok()) {
          serials.insert(info->serial_hex);
        } else {
          ++failures;
          ADD_FAILURE() << info.status().ToString();
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(serials.size(), 160u);
}

TEST_F(TsaServerTest, StopAnswersRequestsInFlight) {
  SlowTsa slow(*tsa_, milliseconds(500));
  auto server = StartServer(slow);
  ASSERT_TRUE(server);
  auto started = slow.started();
  HttpTsaConfig config = Client(*server);
  auto answer = std::async(std::launch::async, [&] {
    auto transport = HttpTsaTransport::Create(config);
    return transport.ok() ? RequestTimeStamp(*transport.value(), kAlg, imprint_) : Result<Bytes>(transport.status());
  });
  ASSERT_EQ(started.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  server->Stop();
  auto token = answer.get();
  ASSERT_TRUE(token.ok()) << "the request in flight was dropped: " << token.status().ToString();
  // Nothing listens any more.
  auto transport = HttpTsaTransport::Create(config);
  ASSERT_TRUE(transport.ok());
  EXPECT_EQ(RequestTimeStamp(*transport.value(), kAlg, imprint_).status().code(), StatusCode::kUnavailable);
}

TEST_F(TsaServerTest, StopClosesIdleConnectionsAtOnce) {
  auto server = StartServer(*tsa_);  // idle_timeout 30 s
  ASSERT_TRUE(server);
  RawClient idle(server->port());
  EXPECT_EQ(idle.Send(Post("application/timestamp-query", "x")).result(), http::status::ok);
  RawClient silent(server->port());  // connected, never sends
  auto start = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  server->Stop();  // idempotent
}

TEST_F(TsaServerTest, BadListenAddresses) {
  EXPECT_EQ(TsaServer::Start(*tsa_, "localhost:0").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TsaServer::Start(*tsa_, "127.0.0.1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TsaServer::Start(*tsa_, "127.0.0.1:http").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TsaServer::Start(*tsa_, "127.0.0.1:70000").status().code(), StatusCode::kInvalidArgument);
  auto server = StartServer(*tsa_);
  ASSERT_TRUE(server);
  auto taken = TsaServer::Start(*tsa_, server->address());
  EXPECT_EQ(taken.status().code(), StatusCode::kIOError) << taken.status().ToString();
  auto v6 = TsaServer::Start(*tsa_, "[::1]:0");
  if (v6.ok()) {  // hosts without IPv6 loopback cannot bind it
    EXPECT_EQ(v6.value()->address().substr(0, 6), "[::1]:");
  }
}

}  // namespace
}  // namespace preserve::timestamp
