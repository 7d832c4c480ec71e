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
#include <exception>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "http_media_type.h"

namespace preserve::timestamp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwaitable = asio::as_tuple(asio::use_awaitable);
using SteadyClock = std::chrono::steady_clock;
using Outcome = HttpRequestParser::Outcome;

// What one read may take from the socket. A request is parsed as it comes,
// so this bounds no request; it is a few time-stamp requests, pipelined.
constexpr std::size_t kReadBytes = 8192;

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
  Connection(tcp::socket socket_in, const HttpRequestLimits& limits)
      : socket(std::move(socket_in)), watchdog(socket.get_executor()), parser(limits), in(kReadBytes) {}

  // Ends the connection at `when` unless moved again. A later deadline
  // leaves the timer be (Watch finds it moved when it wakes); an earlier one
  // wakes Watch to set the timer anew.
  void SetDeadline(SteadyClock::time_point when) {
    deadline = when;
    if (when < armed) watchdog.cancel();
  }

  tcp::socket socket;
  // One timer per connection, set only when the deadline comes nearer or
  // passes, not per read or write: on the fast path `deadline` moves with
  // every request and the timer does not.
  asio::steady_timer watchdog;
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  SteadyClock::time_point armed = SteadyClock::time_point::max();  // what the timer is set to
  bool timed_out = false;  // the deadline passed: the read or write under way is cancelled
  bool busy = false;       // a request has been read and its answer is not yet written
  bool closed = false;     // Serve has finished with the socket
  HttpRequestParser parser;
  std::vector<char> in;      // what the last read received
  std::size_t received = 0;  // bytes of `in` that it received
  std::size_t parsed = 0;    // of those, the bytes given to the parser
  std::string reply;         // the response's status line and fields (and a text body)
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
        contexts(MakeContexts(thread_count)),
        acceptor(*contexts.front()),
        slot_freed(*contexts.front()) {
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
  // Set never to expire while the accept loop waits at max_connections;
  // cancelled, on the acceptor's thread, when a connection closes.
  asio::steady_timer slot_freed;
  tcp::endpoint bound;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::mutex mutex;  // guards connections
  std::set<std::shared_ptr<Connection>> connections;

  // Puts the answer to a complete request in `c.reply`, and its body in
  // `body` unless it is text (then in `c.reply` too).
  void Answer(Connection& c, bool keep_alive, Bytes& body) {
    const HttpRequestParser& request = c.parser;
    if (request.method() != "POST") {
      PutText(c.reply, "405 Method Not Allowed", "RFC 3161 time-stamp requests are POSTed", keep_alive,
              request.http10(), "Allow: POST\r\n");
      return;
    }
    if (!internal::HasMediaType(request.content_type(), "application/timestamp-query")) {
      PutText(c.reply, "415 Unsupported Media Type", "Content-Type must be application/timestamp-query", keep_alive,
              request.http10());
      return;
    }
    auto answer = tsa.Exchange(request.body());
    // The TSA answers bad requests itself; an error here is its own failure.
    if (!answer.ok()) {
      PutText(c.reply, "500 Internal Server Error", "the time-stamping authority failed", keep_alive,
              request.http10());
      return;
    }
    body = std::move(answer.value());
    PutHead(c.reply, "200 OK", "application/timestamp-reply", body.size(), keep_alive, request.http10());
  }

  // A refusal of what could not be framed; the connection is closed after it,
  // since where the next request would start is unknown.
  void Refuse(Connection& c, Outcome refusal) {
    switch (refusal) {
      case Outcome::kHeadTooLarge:
        PutText(c.reply, "431 Request Header Fields Too Large", "the request's header is too large", false, false);
        break;
      case Outcome::kBodyTooLarge:
        PutText(c.reply, "413 Content Too Large",
                "a time-stamp request's body may not exceed " +
                    std::to_string(options.request_limits.max_body_bytes) + " bytes, nor its chunk framing " +
                    std::to_string(options.request_limits.max_chunk_framing_bytes),
                false, false);
        break;
      case Outcome::kVersionNotSupported:
        PutText(c.reply, "505 HTTP Version Not Supported", "HTTP/1.1 only", false, false);
        break;
      case Outcome::kNotImplemented:
        PutText(c.reply, "501 Not Implemented", "a transfer coding other than chunked", false, false);
        break;
      default:
        PutText(c.reply, "400 Bad Request", "malformed HTTP request", false, false);
        break;
    }
  }

  // Reads until the parser has a whole request or refuses one: kIncomplete
  // when the connection ended first (closed by the client, timed out, or
  // cancelled by Stop).
  asio::awaitable<Outcome> ReadRequest(Connection& c) {
    HttpRequestParser& parser = c.parser;
    // Bytes after the last request are the start of the next (pipelining).
    auto progress = parser.Parse(std::string_view(c.in.data() + c.parsed, c.received - c.parsed));
    c.parsed += progress.consumed;
    if (progress.outcome != Outcome::kIncomplete) co_return progress.outcome;
    c.SetDeadline(SteadyClock::now() + (parser.started() ? options.request_timeout : options.idle_timeout));
    for (;;) {
      // The parser keeps what it needs of a request not yet whole, so each
      // read starts at the front of the buffer and nothing is moved.
      auto [ec, n] = co_await c.socket.async_read_some(asio::buffer(c.in), kAwaitable);
      if (ec || c.timed_out) co_return Outcome::kIncomplete;
      const bool was_started = parser.started();
      progress = parser.Parse(std::string_view(c.in.data(), n));
      c.received = n;
      c.parsed = progress.consumed;
      if (progress.outcome != Outcome::kIncomplete) co_return progress.outcome;
      // However steadily the rest comes, a request begun must be whole within
      // request_timeout: a client sending a byte now and then cannot hold
      // the connection for ever.
      if (!was_started) c.SetDeadline(SteadyClock::now() + options.request_timeout);
    }
  }

  // Writes `reply` (and `body`); false when it failed, or the client did not
  // take it within idle_timeout. That is no earlier than the deadline the
  // request was read under, so the timer is left as it is.
  asio::awaitable<bool> Write(Connection& c, const Bytes& body) {
    c.SetDeadline(SteadyClock::now() + options.idle_timeout);
    // Head and body in one write: one system call, one TCP segment.
    std::array<asio::const_buffer, 2> reply = {asio::buffer(c.reply), asio::buffer(body)};
    auto [ec, written] = co_await asio::async_write(c.socket, reply, kAwaitable);
    co_return !ec && !c.timed_out;
  }

  asio::awaitable<void> Serve(std::shared_ptr<Connection> connection) {
    Connection& c = *connection;
    asio::co_spawn(c.socket.get_executor(), Watch(connection), asio::detached);
    Bytes body;  // the TSA's answer
    while (!stopping) {
      const Outcome outcome = co_await ReadRequest(c);
      if (outcome == Outcome::kIncomplete) {
        // A request begun and not finished in time is told why; a connection
        // idle between requests is just closed (RFC 9112 9.5).
        if (c.timed_out && c.parser.started()) {
          c.timed_out = false;
          PutText(c.reply, "408 Request Timeout", "the request did not arrive in time", false, false);
          body.clear();
          co_await Write(c, body);
        }
        break;
      }
      c.busy = true;
      body.clear();
      const bool complete = outcome == Outcome::kComplete;
      const bool keep_alive = complete && c.parser.keep_alive() && !stopping;
      if (complete) {
        Answer(c, keep_alive, body);
      } else {
        Refuse(c, outcome);
      }
      const bool written = co_await Write(c, body);
      c.busy = false;
      if (!written || !keep_alive) break;
      c.parser.Reset();
    }
    c.closed = true;
    c.watchdog.cancel();
    boost::system::error_code ignored;
    c.socket.shutdown(tcp::socket::shutdown_both, ignored);
    c.socket.close(ignored);
  }

  // Ends the connection once its deadline passes: the read or write under
  // way is cancelled, and `timed_out` tells Serve why (and stops it should
  // that read or write have completed just before).
  static asio::awaitable<void> Watch(std::shared_ptr<Connection> connection) {
    Connection& c = *connection;
    while (!c.closed) {
      c.armed = c.deadline;
      c.watchdog.expires_at(c.armed);
      co_await c.watchdog.async_wait(kAwaitable);
      if (!c.closed && SteadyClock::now() >= c.deadline) {
        c.timed_out = true;
        // Until Serve sets another deadline (for a 408) or closes.
        c.deadline = SteadyClock::time_point::max();
        boost::system::error_code ignored;
        c.socket.cancel(ignored);
      }
    }
  }

  std::size_t ConnectionCount() {
    std::lock_guard lock(mutex);
    return connections.size();
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      // At the limit, connections wait in the kernel's listen queue until one
      // here closes (or, once it is full, are dropped by the kernel).
      while (!stopping && ConnectionCount() >= options.max_connections) {
        slot_freed.expires_at(SteadyClock::time_point::max());
        co_await slot_freed.async_wait(kAwaitable);
      }
      if (stopping) co_return;
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
      auto connection = std::make_shared<Connection>(std::move(socket), options.request_limits);
      {
        std::lock_guard lock(mutex);
        connections.insert(connection);
      }
      asio::co_spawn(connection->socket.get_executor(), Serve(connection), [this, connection](std::exception_ptr) {
        // Whatever ended the connection (even bad_alloc), it is gone; the
        // server goes on with the others.
        bool was_full = false;
        {
          std::lock_guard lock(mutex);
          was_full = connections.size() >= options.max_connections;
          connections.erase(connection);
        }
        // The accept loop checks the count and waits on one thread, the
        // acceptor's, so a wake-up posted there cannot come between the two.
        if (was_full) asio::post(acceptor.get_executor(), [this] { slot_freed.cancel(); });
      });
    }
  }
};

TsaServer::TsaServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TsaServer::~TsaServer() { Stop(); }

Result<std::unique_ptr<TsaServer>> TsaServer::Start(TsaTransport& tsa, const std::string& listen,
                                                    const TsaServerOptions& options) {
  PRESERVE_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseListen(listen));
  const HttpRequestLimits& limits = options.request_limits;
  if (limits.max_head_bytes == 0 || limits.max_body_bytes == 0 || limits.max_chunk_framing_bytes == 0)
    return Status::InvalidArgument("the request size limits must be positive");
  if (options.max_connections == 0) return Status::InvalidArgument("the connection limit must be positive");
  if (options.idle_timeout <= std::chrono::milliseconds::zero() ||
      options.request_timeout <= std::chrono::milliseconds::zero())
    return Status::InvalidArgument("the time limits must be positive");
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
    impl.slot_freed.cancel();
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
