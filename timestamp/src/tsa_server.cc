#include "preserve/timestamp/tsa_server.h"

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "http_media_type.h"
#include "http_request_parser.h"

namespace preserve::timestamp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwaitable = asio::as_tuple(asio::use_awaitable);
using SteadyClock = std::chrono::steady_clock;

// A request line and fields are a few hundred bytes; Beast's default limit.
constexpr std::size_t kMaxHeadBytes = 8192;

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

// One client connection. It lives on one thread's io_context, so nothing in
// it needs a lock. Its buffers are kept from one request to the next: a
// request on a kept-alive connection allocates nothing here.
struct Connection {
  explicit Connection(tcp::socket socket_in) : socket(std::move(socket_in)), watchdog(socket.get_executor()) {}
  tcp::socket socket;
  // One timer per connection, armed when it is due rather than per read or
  // write: `deadline` moves with every request, the timer only when it fires.
  asio::steady_timer watchdog;
  SteadyClock::time_point deadline;
  bool busy = false;    // a request has been read and its answer is not yet written
  bool closed = false;  // Serve has finished with the socket
  std::vector<char> in;  // received, from the start of the request being read
  std::size_t received = 0;
  Bytes body;         // the request's body, as the TSA is given it
  std::string reply;  // the response's status line and fields (and a text body)
};

// The status line, fields and empty line of a response with `body_size`
// bytes of `content_type`; `extra` is more fields, each ending in CRLF.
void PutHead(std::string& out, std::string_view status, std::string_view content_type, std::size_t body_size,
             bool keep_alive, bool http10, std::string_view extra = {}) {
  std::array<char, 24> length{};
  char* length_end = std::to_chars(length.data(), length.data() + length.size(), body_size).ptr;
  out.assign("HTTP/1.1 ");
  out.append(status).append("\r\nContent-Type: ").append(content_type).append("\r\nContent-Length: ");
  out.append(length.data(), static_cast<std::size_t>(length_end - length.data())).append("\r\n").append(extra);
  // HTTP/1.1 connections persist unless closed; an HTTP/1.0 client only
  // keeps one open when told so (RFC 9112 9.3).
  if (!keep_alive) out.append("Connection: close\r\n");
  if (keep_alive && http10) out.append("Connection: keep-alive\r\n");
  out.append("\r\n");
}

// A text/plain response, its body in `out` after the head.
void PutText(std::string& out, std::string_view status, std::string_view text, bool keep_alive, bool http10,
             std::string_view extra = {}) {
  PutHead(out, status, "text/plain; charset=utf-8", text.size() + 1, keep_alive, http10, extra);
  out.append(text).append("\n");
}

}  // namespace

struct TsaServer::Impl {
  using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;

  Impl(TsaTransport& tsa_in, const TsaServerOptions& options_in, unsigned thread_count)
      : tsa(tsa_in),
        options(options_in),
        // Room for a head and a body at their limits, and for the framing of
        // a chunked body.
        buffer_limit(2 * kMaxHeadBytes + options_in.max_request_bytes),
        contexts(MakeContexts(thread_count)),
        acceptor(*contexts.front()) {
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
  std::size_t buffer_limit;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<WorkGuard> work;  // keeps each thread running while it has no connection, until Stop
  std::size_t next_context = 0;  // used by the accept loop only
  tcp::acceptor acceptor;
  tcp::endpoint bound;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::mutex mutex;  // guards connections
  std::set<std::shared_ptr<Connection>> connections;

  // Frames the request at the start of `c.in`; on kComplete its body is in
  // `c.body` and `size` is the bytes it took.
  internal::HttpParse ParseRequest(Connection& c, internal::HttpRequestHead& head, std::size_t& size) const {
    using internal::HttpParse;
    const std::string_view data(c.in.data(), c.received);
    HttpParse parsed = internal::ParseRequestHead(data, kMaxHeadBytes, head);
    if (parsed != HttpParse::kComplete) return parsed;
    if (head.chunked) {
      std::size_t consumed = 0;
      parsed = internal::DecodeChunkedBody(data.substr(head.size), options.max_request_bytes, c.body, consumed);
      size = head.size + consumed;
      return parsed;
    }
    // Refused before the body is read: there is no point receiving it.
    if (head.content_length > options.max_request_bytes) return HttpParse::kBodyTooLarge;
    if (data.size() - head.size < head.content_length) return HttpParse::kIncomplete;
    const auto body = c.in.begin() + static_cast<std::ptrdiff_t>(head.size);
    c.body.assign(body, body + static_cast<std::ptrdiff_t>(head.content_length));
    size = head.size + head.content_length;
    return HttpParse::kComplete;
  }

  // Puts the answer to a complete request in `c.reply`, and its body in
  // `body` unless it is text (then in `c.reply` too).
  void Answer(Connection& c, const internal::HttpRequestHead& head, bool keep_alive, Bytes& body) {
    if (head.method != "POST") {
      PutText(c.reply, "405 Method Not Allowed", "RFC 3161 time-stamp requests are POSTed", keep_alive, head.http10,
              "Allow: POST\r\n");
      return;
    }
    if (!internal::HasMediaType(head.content_type, "application/timestamp-query")) {
      PutText(c.reply, "415 Unsupported Media Type", "Content-Type must be application/timestamp-query", keep_alive,
              head.http10);
      return;
    }
    auto answer = tsa.Exchange(c.body);
    // The TSA answers bad requests itself; an error here is its own failure.
    if (!answer.ok()) {
      PutText(c.reply, "500 Internal Server Error", "the time-stamping authority failed", keep_alive, head.http10);
      return;
    }
    body = std::move(answer.value());
    PutHead(c.reply, "200 OK", "application/timestamp-reply", body.size(), keep_alive, head.http10);
  }

  // A refusal of what could not be framed; the connection is closed after it,
  // since where the next request would start is unknown.
  void Refuse(Connection& c, internal::HttpParse parsed) {
    using internal::HttpParse;
    switch (parsed) {
      case HttpParse::kHeadTooLarge:
        PutText(c.reply, "431 Request Header Fields Too Large", "the request's header is too large", false, false);
        break;
      case HttpParse::kBodyTooLarge:
        PutText(c.reply, "413 Content Too Large",
                "a time-stamp request may not exceed " + std::to_string(options.max_request_bytes) + " bytes", false,
                false);
        break;
      case HttpParse::kVersionNotSupported:
        PutText(c.reply, "505 HTTP Version Not Supported", "HTTP/1.1 only", false, false);
        break;
      case HttpParse::kNotImplemented:
        PutText(c.reply, "501 Not Implemented", "a transfer coding other than chunked", false, false);
        break;
      default:
        PutText(c.reply, "400 Bad Request", "malformed HTTP request", false, false);
        break;
    }
  }

  asio::awaitable<void> Serve(std::shared_ptr<Connection> connection) {
    using internal::HttpParse;
    Connection& c = *connection;
    c.deadline = SteadyClock::now() + options.io_timeout;
    asio::co_spawn(c.socket.get_executor(), Watch(connection), asio::detached);
    Bytes body;  // the TSA's answer
    while (!stopping) {
      // The whole of a request must arrive within io_timeout (as must the
      // next one on a kept-alive connection): a client sending a byte now and
      // then cannot hold the connection for ever.
      c.deadline = SteadyClock::now() + options.io_timeout;
      internal::HttpRequestHead head;
      std::size_t size = 0;
      HttpParse parsed = c.received != 0 ? ParseRequest(c, head, size) : HttpParse::kIncomplete;
      bool read_failed = false;
      while (parsed == HttpParse::kIncomplete) {
        if (c.received == c.in.size()) {
          // The head's and the body's limits are checked as bytes arrive;
          // a full buffer means chunked framing beyond its allowance.
          if (c.in.size() == buffer_limit) {
            parsed = HttpParse::kBodyTooLarge;
            break;
          }
          c.in.resize(std::min(buffer_limit, std::max<std::size_t>(4096, 2 * c.in.size())));
        }
        auto [ec, n] = co_await c.socket.async_read_some(
            asio::buffer(c.in.data() + c.received, c.in.size() - c.received), kAwaitable);
        if (ec) {
          read_failed = true;  // closed by the client, timed out, or cancelled by Stop
          break;
        }
        c.received += n;
        parsed = ParseRequest(c, head, size);
      }
      if (read_failed) break;

      c.busy = true;
      body.clear();
      const bool complete = parsed == HttpParse::kComplete;
      const bool keep_alive = complete && head.keep_alive && !stopping;
      if (complete) {
        Answer(c, head, keep_alive, body);
      } else {
        Refuse(c, parsed);
      }
      // Head and body in one write: one system call, one TCP segment.
      c.deadline = SteadyClock::now() + options.io_timeout;
      std::array<asio::const_buffer, 2> reply = {asio::buffer(c.reply), asio::buffer(body)};
      auto [write_ec, written] = co_await asio::async_write(c.socket, reply, kAwaitable);
      c.busy = false;
      if (write_ec || !keep_alive) break;
      // Bytes after the request are the start of the next one (pipelining).
      std::memmove(c.in.data(), c.in.data() + size, c.received - size);
      c.received -= size;
    }
    c.closed = true;
    c.watchdog.cancel();
    boost::system::error_code ignored;
    c.socket.shutdown(tcp::socket::shutdown_both, ignored);
    c.socket.close(ignored);
  }

  // Ends the connection once its deadline passes. Serve moves the deadline
  // with every request and write; this wakes at the old one and waits on.
  static asio::awaitable<void> Watch(std::shared_ptr<Connection> connection) {
    Connection& c = *connection;
    while (!c.closed) {
      c.watchdog.expires_at(c.deadline);
      co_await c.watchdog.async_wait(kAwaitable);
      if (!c.closed && SteadyClock::now() >= c.deadline) {
        // Serve's pending read or write fails, and Serve closes the socket.
        // Had it already completed, Serve goes on, and is watched on: its
        // next read or write past the deadline is cancelled in turn.
        boost::system::error_code ignored;
        c.socket.cancel(ignored);
      }
    }
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
      // A response is one write, but a pipelined one must not wait for the
      // ACK of the one before it (Nagle's algorithm with delayed ACKs).
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto connection = std::make_shared<Connection>(std::move(socket));
      {
        std::lock_guard lock(mutex);
        connections.insert(connection);
      }
      asio::co_spawn(connection->socket.get_executor(), Serve(connection), [this, connection](std::exception_ptr) {
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
      asio::post(connection->socket.get_executor(), [connection] {
        boost::system::error_code ignored;
        if (!connection->busy) connection->socket.cancel(ignored);
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
