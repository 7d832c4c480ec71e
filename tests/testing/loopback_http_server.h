// A loopback HTTP(S) server for client tests: one connection at a time, each
// answered by a handler, which may stall, fail or lie as the test needs.
// Header-only; includers link Boost::headers and OpenSSL::SSL.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include "preserve/util/bytes.h"

namespace preserve::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using HttpRequest = http::request<http::vector_body<std::uint8_t>>;

struct Reply {
  unsigned status = 200;
  std::string content_type = "application/timestamp-reply";
  Bytes body;
  std::chrono::milliseconds delay{0};
};
using Handler = std::function<Reply(const HttpRequest&)>;

// Serves on 127.0.0.1 (a free port) until destroyed; TLS when given a server context.
class TestServer {
 public:
  explicit TestServer(Handler handler, asio::ssl::context* tls = nullptr)
      : handler_(std::move(handler)), tls_(tls), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~TestServer() {
    stop_ = true;
    // Wakes the blocking accept.
    tcp::socket poke(io_);
    boost::system::error_code ignored;
    poke.connect(acceptor_.local_endpoint(), ignored);
    thread_.join();
  }

  std::string url() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) +
           "/tsa";
  }
  int requests() const { return requests_; }
  const std::string& last_authorization() const { return last_authorization_; }

 private:
  template <typename Stream>
  void Talk(Stream& stream) {
    beast::flat_buffer buffer;
    HttpRequest request;
    boost::system::error_code ec;
    http::read(stream, buffer, request, ec);
    if (ec) return;
    ++requests_;
    last_authorization_ = std::string(request[http::field::authorization]);
    Reply reply = handler_(request);
    std::this_thread::sleep_for(reply.delay);
    http::response<http::vector_body<std::uint8_t>> response{static_cast<http::status>(reply.status), 11};
    response.set(http::field::content_type, reply.content_type);
    response.body() = std::move(reply.body);
    response.prepare_payload();
    http::write(stream, response, ec);
  }

  void Loop() {
    while (!stop_) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) continue;
      if (tls_ == nullptr) {
        Talk(socket);
      } else {
        asio::ssl::stream<tcp::socket&> stream(socket, *tls_);
        stream.handshake(asio::ssl::stream_base::server, ec);
        if (!ec) Talk(stream);
      }
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  Handler handler_;
  asio::ssl::context* tls_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::string last_authorization_;
  std::thread thread_;
};

// A loopback port free now that no other test can be handed later: it lies
// below the kernel's ephemeral range, where binding to port 0 never lands.
// (A port from a bind to 0, once released, may go to the next test's server or
// to an outgoing connection while this test still expects it free, or while a
// spawned `openssl ocsp` has yet to bind it.) Picked at random from 10000 up to
// the range's start, so parallel tests rarely meet; bound once to check.
inline unsigned short QuietPort() {
  unsigned ephemeral_start = 32768;
  if (std::FILE* range = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(range, "%u", &ephemeral_start) != 1) ephemeral_start = 32768;
    std::fclose(range);
  }
  if (ephemeral_start <= 11000) ephemeral_start = 32768;
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<unsigned> pick(10000, ephemeral_start - 1);
  asio::io_context io;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto port = static_cast<unsigned short>(pick(random));
    tcp::acceptor probe(io);
    boost::system::error_code error;
    probe.open(tcp::v4(), error);
    if (!error) probe.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), error);
    if (!error) return port;
  }
  throw std::runtime_error("no free loopback port below the ephemeral range");
}

// A loopback URL nothing listens on, nor will while the test runs.
inline std::string DownUrl() { return "http://127.0.0.1:" + std::to_string(QuietPort()) + "/tsa"; }

}  // namespace preserve::testing
