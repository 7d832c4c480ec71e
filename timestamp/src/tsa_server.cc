#include "preserve/timestamp/tsa_server.h"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "http_media_type.h"

namespace preserve::timestamp {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwaitable = asio::as_tuple(asio::use_awaitable);

using Request = http::request<http::vector_body<std::uint8_t>>;
using Response = http::response<http::vector_body<std::uint8_t>>;

Response TextResponse(http::status status, const std::string& text) {
  Response response{status, 11};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = ToBytes(text + "\n");
  return response;
}

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("listen address '" + listen + "' is not HOST:PORT");
  std::string host = listen.substr(0, colon);
  std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("listen address '" + host + "' is not an IP address");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535)
    return Status::InvalidArgument("listen port '" + port + "' is not a number from 0 to 65535");
  return tcp::endpoint(address, static_cast<unsigned short>(std::stoi(port)));
}

// One client connection. It lives on one thread's io_context, so `busy` needs no lock.
struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool busy = false;  // a request has been read and its answer is not yet written
};

}  // namespace

struct TsaServer::Impl {
  using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;

  Impl(TsaTransport& tsa_in, const TsaServerOptions& options_in, unsigned thread_count)
      : tsa(tsa_in), options(options_in), contexts(MakeContexts(thread_count)), acceptor(*contexts.front()) {
    for (auto& context : contexts) work.emplace_back(context->get_executor());
  }

  // One io_context per thread, each run by its thread alone, and a connection
  // stays on the one it was accepted into: a request is read, answered and
  // written by one thread, with no strand, no scheduler lock shared with
  // other threads, and no hand-over between cores.
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(unsigned count) {
    std::vector<std::unique_ptr<asio::io_context>> made;
    for (unsigned i = 0; i < count; ++i) made.push_back(std::make_unique<asio::io_context>(1));
    return made;
  }

  TsaTransport& tsa;
  TsaServerOptions options;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<WorkGuard> work;  // keeps each thread running while it has no connection, until Stop
  std::size_t next_context = 0;  // used by the accept loop only
  tcp::acceptor acceptor;
  tcp::endpoint bound;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::mutex mutex;  // guards connections
  std::set<std::shared_ptr<Connection>> connections;

  Response Answer(const Request& request) {
    if (request.method() != http::verb::post) {
      Response response = TextResponse(http::status::method_not_allowed, "RFC 3161 time-stamp requests are POSTed");
      response.set(http::field::allow, "POST");
      return response;
    }
    if (!internal::HasMediaType(request[http::field::content_type], "application/timestamp-query"))
      return TextResponse(http::status::unsupported_media_type, "Content-Type must be application/timestamp-query");
    auto answer = tsa.Exchange(request.body());
    // The TSA answers bad requests itself; an error here is its own failure.
    if (!answer.ok()) return TextResponse(http::status::internal_server_error, "the time-stamping authority failed");
    Response response{http::status::ok, 11};
    response.set(http::field::content_type, "application/timestamp-reply");
    response.body() = std::move(answer.value());
    return response;
  }

  asio::awaitable<void> Serve(std::shared_ptr<Connection> connection) {
    beast::flat_buffer buffer;
    while (!stopping) {
      http::request_parser<http::vector_body<std::uint8_t>> parser;
      parser.body_limit(options.max_request_bytes);
      connection->stream.expires_after(options.io_timeout);
      auto [read_ec, read] = co_await http::async_read(connection->stream, buffer, parser, kAwaitable);
      Response response;
      bool keep_alive = false;
      if (read_ec == http::error::body_limit) {
        response =
            TextResponse(http::status::payload_too_large,
                         "a time-stamp request may not exceed " + std::to_string(options.max_request_bytes) + " bytes");
      } else if (read_ec && read_ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
                 read_ec != http::error::end_of_stream) {
        response = TextResponse(http::status::bad_request, "malformed HTTP request");
      } else if (read_ec) {
        break;  // closed by the client, timed out, or cancelled by Stop
      } else {
        connection->busy = true;
        response = Answer(parser.get());
        keep_alive = parser.get().keep_alive();
      }
      response.keep_alive(keep_alive && !stopping);
      response.prepare_payload();
      connection->stream.expires_after(options.io_timeout);
      auto [write_ec, written] = co_await http::async_write(connection->stream, response, kAwaitable);
      connection->busy = false;
      if (write_ec || !response.keep_alive()) break;
    }
    boost::system::error_code ignored;
    connection->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      asio::io_context& context = *contexts[next_context++ % contexts.size()];
      auto [ec, socket] = co_await acceptor.async_accept(context, kAwaitable);
      if (stopping || !acceptor.is_open()) co_return;
      if (ec) {
        // Out of descriptors, most likely: give connections time to close.
        asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
        co_await pause.async_wait(kAwaitable);
        continue;
      }
      auto connection = std::make_shared<Connection>(std::move(socket));
      {
        std::lock_guard lock(mutex);
        connections.insert(connection);
      }
      asio::co_spawn(connection->stream.get_executor(), Serve(connection), [this, connection](std::exception_ptr) {
        // Whatever ended the connection (even bad_alloc), it is gone; the
        // server goes on with the others.
        std::lock_guard lock(mutex);
        connections.erase(connection);
      });
    }
  }
};

TsaServer::TsaServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TsaServer::~TsaServer() { Stop(); }

Result<std::unique_ptr<TsaServer>> TsaServer::Start(TsaTransport& tsa, const std::string& listen,
                                                    const TsaServerOptions& options) {
  PRESERVE_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseListen(listen));
  if (options.max_request_bytes == 0) return Status::InvalidArgument("the request size limit must be positive");
  const unsigned threads =
      options.threads != 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  auto impl = std::make_unique<Impl>(tsa, options, threads);
  boost::system::error_code ec;
  auto fail = [&](const std::string& what) {
    return Status::IOError("cannot " + what + " " + listen + ": " + ec.message());
  };
  if (impl->acceptor.open(endpoint.protocol(), ec)) return fail("open a socket for");
  // A restarted server must not wait for the old one's connections to leave TIME_WAIT.
  if (impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec)) return fail("set SO_REUSEADDR on");
  if (impl->acceptor.bind(endpoint, ec)) return fail("bind");
  if (impl->acceptor.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen on");
  impl->bound = impl->acceptor.local_endpoint(ec);
  if (ec) return fail("read the address bound for");

  Impl* raw = impl.get();
  asio::co_spawn(impl->acceptor.get_executor(), raw->Accept(), [](std::exception_ptr) {});
  for (auto& context : impl->contexts) impl->threads.emplace_back([&io = *context] { io.run(); });
  return std::unique_ptr<TsaServer>(new TsaServer(std::move(impl)));
}

void TsaServer::Stop() {
  Impl& impl = *impl_;
  if (impl.stopping.exchange(true)) {
    for (std::thread& t : impl.threads)
      if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    return;
  }
  asio::post(impl.acceptor.get_executor(), [&impl] {
    boost::system::error_code ignored;
    impl.acceptor.close(ignored);
  });
  {
    // A connection waiting for its next request is closed now; one whose
    // request is being answered sees `stopping` once its answer is written.
    // Both checks run on the connection's thread, so none is missed.
    std::lock_guard lock(impl.mutex);
    for (const auto& connection : impl.connections)
      asio::post(connection->stream.get_executor(), [connection] {
        if (!connection->busy) connection->stream.cancel();
      });
  }
  // Once the acceptor and every connection are done, each io_context runs
  // out of work and its thread returns.
  for (Impl::WorkGuard& guard : impl.work) guard.reset();
  for (std::thread& t : impl.threads) t.join();
}

std::string TsaServer::address() const {
  const tcp::endpoint& e = impl_->bound;
  std::string host = e.address().to_string();
  return (e.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(e.port());
}

std::uint16_t TsaServer::port() const { return impl_->bound.port(); }

}  // namespace preserve::timestamp
