#include "http_server.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdio>
#include <ctime>
#include <exception>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <type_traits>
#include <variant>

#include "preserve/util/openssl_ptr.h"

namespace preserve::service {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwaitable = asio::as_tuple(asio::use_awaitable);
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Parser = http::request_parser<http::string_body>;
using WireResponse = http::response<http::string_body>;

// What the wait for a request's first bytes reads at once; the parser takes
// the rest of the request in reads of its own.
constexpr std::size_t kFirstReadBytes = 16u << 10;
// A connection closed after a response that announced it is drained this long
// (at most idle_timeout), and of at most this much, before the socket goes: a
// close with unread bytes sends a reset, which can destroy the response
// (a 413's) before the client has read it (RFC 9112 9.6).
constexpr std::chrono::milliseconds kLinger{1000};
constexpr std::size_t kLingerBytes = 1u << 20;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("listen address '" + listen + "' is not HOST:PORT");
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("listen address '" + host + "' is not an IP address");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535)
    return Status::InvalidArgument("listen port '" + port + "' is not a number from 0 to 65535");
  return tcp::endpoint(address, static_cast<unsigned short>(std::stoi(port)));
}

// Asio opens and accepts sockets without close-on-exec: a program the
// process starts (a Handler's, a test's curl) would hold a copy of every
// connection open then, and a connection the server closes would stay open
// for the client until that program ends.
void KeepFromChildren(int fd) {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

// A client reaching a dual-stack listener over IPv4 is named as IPv4.
std::string AddressText(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

struct X509NameStackFree {
  void operator()(STACK_OF(X509_NAME) * s) const { sk_X509_NAME_pop_free(s, X509_NAME_free); }
};
using X509NameStackPtr = std::unique_ptr<STACK_OF(X509_NAME), X509NameStackFree>;

// A key file is never asked a passphrase for: OpenSSL's default would prompt
// on the terminal of a server, which nobody watches.
int RefusePassphrase(char*, int, int, void*) { return 0; }

Status SetUpTls(ssl::context& context, const HttpTlsFiles& files) {
  SSL_CTX* ctx = context.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
    return Status::Internal(OpenSslFailure("cannot require TLS 1.2"));
  // A renegotiation costs the server a handshake and the client next to nothing.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  const std::string certificate = files.certificate.string();
  const std::string key = files.private_key.string();
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate.c_str()) != 1)
    return Status::InvalidArgument(OpenSslFailure("cannot load the TLS certificate (chain) " + certificate));
  // The key file's content may show up in no message: only its name.
  BioPtr key_file(BIO_new_file(key.c_str(), "r"));
  EvpPkeyPtr private_key(key_file ? PEM_read_bio_PrivateKey(key_file.get(), nullptr, RefusePassphrase, nullptr)
                                  : nullptr);
  ERR_clear_error();
  if (!private_key)
    return Status::InvalidArgument("cannot load the TLS private key " + key + " (a PEM key without a passphrase)");
  // OpenSSL checks here that the key is the certificate's.
  if (SSL_CTX_use_PrivateKey(ctx, private_key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("the TLS private key " + key + " does not match the certificate " + certificate);
  }
  if (!files.client_ca) return Status::Ok();

  const std::string ca = files.client_ca->string();
  // The names the server sends with its request for a certificate, so that a
  // client holding several picks one issued under them.
  X509NameStackPtr names(SSL_load_client_CA_file(ca.c_str()));
  if (!names || sk_X509_NAME_num(names.get()) == 0)
    return Status::InvalidArgument(OpenSslFailure("cannot read client CA certificates from " + ca));
  if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1)
    return Status::InvalidArgument(OpenSslFailure("cannot load the client CA certificates " + ca));
  SSL_CTX_set_client_CA_list(ctx, names.release());
  // "Issued under it" holds for an intermediate CA too: every certificate in
  // the file is a trust anchor, whether or not it is self-signed.
  if (X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN) != 1)
    return Status::Internal(OpenSslFailure("cannot set the client certificates' verification"));
  // Asked for, not required: a client without one is served, and the Handler
  // decides. One that sends a certificate that does not verify fails the
  // handshake (OpenSSL's verification stands), so the Handler never sees a
  // client that proved nothing but believes it did.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // With SSL_VERIFY_PEER, OpenSSL refuses to resume a session that has no
  // context; resumption keeps the verified certificate of the session.
  static constexpr unsigned char kSessionContext[] = "preserve serve";
  if (SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1) != 1)
    return Status::Internal(OpenSslFailure("cannot set the TLS session context"));
  return Status::Ok();
}

// RFC 9110 5.6.2: a field name is a token.
bool IsToken(std::string_view s) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kSymbols.find(c) != std::string_view::npos;
  });
}

// RFC 9110 5.5: no control characters but HTAB; above all no CR or LF, which
// would let a value add fields of its own to the response.
bool IsFieldValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// The fields the server writes itself: a Handler's would contradict them.
bool IsReserved(std::string_view name) {
  for (std::string_view reserved : {"content-length", "transfer-encoding", "connection", "date", "content-type"})
    if (beast::iequals(name, reserved)) return true;
  return false;
}

// IMF-fixdate (RFC 9110 5.6.7), written by hand: strftime's names follow the locale.
std::string HttpDate() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm t{};
  gmtime_r(&now, &t);
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[t.tm_wday % 7], t.tm_mday,
                kMonths[t.tm_mon % 12], t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec);
  return text;
}

// `response` as it goes on the wire, or nothing when it cannot be sent as it
// is (a Handler's bug: the caller answers 500 instead).
std::optional<WireResponse> ToWire(HttpResponse response) {
  // 1xx are not final answers; the range is what a status line can carry.
  if (response.status < 200 || response.status > 599) return std::nullopt;
  const bool bodiless = response.status == 204 || response.status == 304;
  if (bodiless && !response.body.empty()) return std::nullopt;
  WireResponse out{static_cast<http::status>(response.status), 11};
  out.set(http::field::date, HttpDate());
  if (!response.body.empty()) {
    if (!IsFieldValue(response.content_type)) return std::nullopt;
    if (!response.content_type.empty()) out.set(http::field::content_type, response.content_type);
  }
  for (const auto& [name, value] : response.headers) {
    if (!IsToken(name) || !IsFieldValue(value) || IsReserved(name)) return std::nullopt;
    out.insert(name, value);
  }
  out.body() = std::move(response.body);
  // A 204 or 304 carries no Content-Length (RFC 9110 8.6); prepare_payload would write 0.
  if (!bodiless) out.prepare_payload();
  return out;
}

// The last resort, when even the renderer failed.
WireResponse PlainText(unsigned status, const std::string& text) {
  WireResponse out{static_cast<http::status>(status), 11};
  out.set(http::field::date, HttpDate());
  out.set(http::field::content_type, "text/plain; charset=utf-8");
  out.body() = text + "\n";
  out.prepare_payload();
  return out;
}

// "64 MiB", "16 KiB", "1000 bytes": a limit as it was most likely set.
std::string ByteCount(std::uint64_t n) {
  if (n != 0 && n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
  if (n != 0 && n % (1u << 10) == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

// One client connection. It lives on one io_context, run by one thread, so
// nothing in it needs a lock.
struct Connection {
  static std::variant<PlainStream, TlsStream> MakeStream(tcp::socket socket, ssl::context* tls) {
    if (tls != nullptr)
      return std::variant<PlainStream, TlsStream>(std::in_place_type<TlsStream>, std::move(socket), *tls);
    return std::variant<PlainStream, TlsStream>(std::in_place_type<PlainStream>, std::move(socket));
  }

  Connection(asio::any_io_executor executor_in, tcp::socket socket, ssl::context* tls, std::string remote)
      : executor(std::move(executor_in)),
        stream(MakeStream(std::move(socket), tls)),
        watchdog(executor),
        remote_address(std::move(remote)) {}

  beast::tcp_stream& lowest() {
    return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); }, stream);
  }

  asio::any_io_executor executor;
  std::variant<PlainStream, TlsStream> stream;
  // Bounds the arrival of one request (request_timeout). The stream's own
  // timeout cannot: when it fires it closes the socket, and a 408 must still
  // be written. This one cancels the read instead.
  asio::steady_timer watchdog;
  std::uint64_t watch_serial = 0;  // which request the watchdog's wait is for
  bool timed_out = false;          // the watchdog cancelled the read of a request
  bool busy = false;               // a whole request is being answered: Stop lets it finish
  std::string remote_address;
  std::optional<Bytes> client_certificate;  // verified, from the handshake
};

}  // namespace

struct HttpServer::Impl {
  using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;

  Impl(const HttpServerOptions& options_in, HttpHandler handler_in, ProtocolErrorRenderer protocol_error_in,
       std::unique_ptr<ssl::context> tls_in)
      : options(options_in),
        handler(std::move(handler_in)),
        protocol_error(std::move(protocol_error_in)),
        contexts(MakeContexts(options.io_threads)),
        tls(std::move(tls_in)),
        workers(WorkerCount(options.worker_threads)),
        acceptor(*contexts.front()),
        slot_freed(*contexts.front()) {
    for (auto& context : contexts) work.emplace_back(context->get_executor());
  }

  // One io_context per thread, run by that thread alone, and a connection
  // stays on the one it was accepted into: its reads, writes and timers need
  // no strand.
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(unsigned count) {
    std::vector<std::unique_ptr<asio::io_context>> made;
    for (unsigned i = 0; i < count; ++i) made.push_back(std::make_unique<asio::io_context>(1));
    return made;
  }

  static std::size_t WorkerCount(unsigned asked) {
    if (asked != 0) return asked;
    return std::max(4u, 2 * std::thread::hardware_concurrency());
  }

  HttpServerOptions options;
  HttpHandler handler;
  ProtocolErrorRenderer protocol_error;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<WorkGuard> work;        // keeps each io thread running while it has no connection, until Stop
  std::unique_ptr<ssl::context> tls;  // none: plain HTTP
  asio::thread_pool workers;          // Handler calls
  tcp::acceptor acceptor;
  // Set never to expire while the accept loop waits at max_connections;
  // cancelled, on the acceptor's thread, when a connection closes.
  asio::steady_timer slot_freed;
  std::size_t next_context = 0;  // used by the accept loop only
  tcp::endpoint bound;
  std::vector<std::thread> io_threads;
  std::atomic<bool> stopping{false};
  std::mutex stop_mutex;  // one Stop at a time; a second waits for the first
  bool stopped = false;
  std::mutex mutex;  // guards connections, and `stopping` against Admit
  std::set<std::shared_ptr<Connection>> connections;

  // --- answers ---

  // A refusal the transport decided, in the API's format when the renderer
  // gives one that can be sent.
  WireResponse Refusal(unsigned status, const std::string& detail) const {
    try {
      if (auto out = ToWire(protocol_error(status, detail)); out && out->result_int() == status) return *out;
    } catch (...) {
      // The renderer failed: the plain answer below still tells the client.
    }
    return PlainText(status, detail);
  }

  // Runs on a worker thread. Whatever the Handler does, an answer comes back.
  WireResponse Answer(const HttpRequest& request) const {
    try {
      if (auto out = ToWire(handler(request))) return *out;
    } catch (...) {
      // A Handler's exception is its bug; the client gets a 500 and the
      // server goes on.
    }
    return Refusal(500, "the server failed to handle the request");
  }

  // Why a request that did not arrive whole is refused; nothing when the
  // client left, or Stop cancelled the read, so there is nobody to tell.
  std::optional<std::pair<unsigned, std::string>> WhyRefused(const beast::error_code& ec, bool timed_out) const {
    if (timed_out)
      return std::pair(408u,
                       "the request did not arrive within " + std::to_string(options.request_timeout.count()) + " ms");
    if (ec == http::error::body_limit) return std::pair(413u, "the body exceeds " + ByteCount(options.max_body_bytes));
    if (ec == http::error::header_limit)
      return std::pair(431u, "the request line and header fields exceed " + ByteCount(options.max_head_bytes));
    if (ec.category() == beast::error_code(http::error::bad_method).category() && ec != http::error::end_of_stream &&
        ec != http::error::partial_message)
      return std::pair(400u, "malformed HTTP request: " + ec.message());
    return std::nullopt;
  }

  // What a parsed request breaks of HTTP/1.1's framing rules beyond the
  // parser's (which refuses versions other than 1.0 and 1.1 as malformed).
  static std::optional<std::pair<unsigned, std::string>> FramingError(const Parser::value_type& request) {
    const auto hosts = request.count(http::field::host);
    // RFC 9112 3.2: a server MUST answer 400 to either.
    if (hosts > 1 || (hosts == 0 && request.version() == 11))
      return std::pair(400u, std::string("an HTTP/1.1 request carries exactly one Host field"));
    return std::nullopt;
  }

  static HttpRequest ToRequest(Parser::value_type& wire, Connection& c) {
    HttpRequest request;
    request.method = std::string(wire.method_string());
    request.target = std::string(wire.target());
    for (const auto& field : wire) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; });
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(wire.body());
    request.remote_address = c.remote_address;
    request.tls = std::holds_alternative<TlsStream>(c.stream);
    request.client_certificate = c.client_certificate;
    return request;
  }

  // --- one connection ---

  void Watch(const std::shared_ptr<Connection>& c) const {
    const std::uint64_t serial = ++c->watch_serial;
    c->timed_out = false;
    c->watchdog.expires_after(options.request_timeout);
    c->watchdog.async_wait([c, serial](const boost::system::error_code& ec) {
      // A wait that ran out just as its read completed finds the serial moved on.
      if (ec || serial != c->watch_serial) return;
      c->timed_out = true;
      c->lowest().cancel();
    });
  }

  // Ends the watch; true when it had cancelled the read.
  static bool Unwatch(Connection& c) {
    ++c.watch_serial;
    c.watchdog.cancel();
    return c.timed_out;
  }

  // What reading a request gave: an error, or the request (in the parser),
  // or the screen's answer to its head (the body left unread).
  struct ReadOutcome {
    beast::error_code ec;
    std::optional<WireResponse> screened;
  };

  // Runs on a worker thread: the screen's answer to a head, if any.
  std::optional<WireResponse> Screen(const HttpRequest& head) const {
    try {
      std::optional<HttpResponse> answer = options.screen(head);
      if (!answer) return std::nullopt;
      if (auto out = ToWire(*answer)) return out;
    } catch (...) {
      // As for a Handler: the client gets a 500 and the server goes on.
    }
    return Refusal(500, "the server failed to handle the request");
  }

  // The head, then (after the screen, and a 100 Continue when the client
  // waits for one) the body.
  template <typename Stream>
  asio::awaitable<ReadOutcome> ReadRequest(Stream& stream, beast::flat_buffer& buffer, Parser& parser,
                                           Connection& c) {
    auto [head_ec, head_bytes] = co_await http::async_read_header(stream, buffer, parser, kAwaitable);
    if (head_ec || parser.is_done()) co_return ReadOutcome{head_ec, std::nullopt};
    if (options.screen && !FramingError(parser.get())) {
      HttpRequest head = ToRequest(parser.get(), c);
      auto [thrown, answer] = co_await asio::co_spawn(
          workers, [this, &head]() -> asio::awaitable<std::optional<WireResponse>> { co_return Screen(head); },
          kAwaitable);
      if (thrown) co_return ReadOutcome{{}, PlainText(500, "the server failed to handle the request")};
      if (answer) co_return ReadOutcome{{}, std::move(answer)};
    }
    // The head is within its limit and Content-Length within the body's (the
    // parser checked both), so the client may send its body (RFC 9110 10.1.1).
    const auto& head = parser.get();
    if (head.version() == 11 && beast::iequals(head[http::field::expect], "100-continue")) {
      auto [continue_ec, sent] = co_await asio::async_write(stream, asio::buffer(kContinue), kAwaitable);
      if (continue_ec) co_return ReadOutcome{continue_ec, std::nullopt};
    }
    auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, kAwaitable);
    co_return ReadOutcome{body_ec, std::nullopt};
  }

  asio::awaitable<bool> Handshake(Connection& c, TlsStream& stream) const {
    // No 408 can be written before the handshake is done, so it gets the
    // shorter of the two limits, and the connection is just closed.
    c.lowest().expires_after(std::min(options.idle_timeout, options.request_timeout));
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kAwaitable);
    if (ec) co_return false;
    SSL* ssl = stream.native_handle();
    // Verification failures end the handshake (SetUpTls); the check here
    // keeps an unverified certificate out of requests whatever the settings.
    if (X509* peer = SSL_get0_peer_certificate(ssl); peer != nullptr && SSL_get_verify_result(ssl) == X509_V_OK)
      c.client_certificate = ToDer(i2d_X509, static_cast<const X509*>(peer));
    co_return true;
  }

  template <typename Stream>
  asio::awaitable<void> Serve(std::shared_ptr<Connection> c, Stream& stream) {
    beast::tcp_stream& lowest = c->lowest();
    beast::flat_buffer buffer;  // kept across requests: it may hold the start of the next (pipelining)
    bool announced_close = false;
    while (!stopping) {
      if (buffer.size() == 0) {
        // Between requests the client may be silent for idle_timeout; then
        // the stream closes the socket, and nobody is told (RFC 9112 9.5).
        lowest.expires_after(options.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kFirstReadBytes), kAwaitable);
        if (ec) break;
        buffer.commit(n);
      }
      // However steadily the rest comes, a request begun must be whole
      // within request_timeout: dribbling bytes does not extend it.
      lowest.expires_never();
      Parser parser;
      parser.header_limit(options.max_head_bytes);
      parser.body_limit(options.max_body_bytes);
      Watch(c);
      ReadOutcome read = co_await ReadRequest(stream, buffer, parser, *c);
      const beast::error_code ec = read.ec;
      const bool timed_out = Unwatch(*c) && ec;

      WireResponse response;
      bool keep_alive = false;  // a refusal closes: where the next request would begin is unknown
      bool http10 = false;
      bool head = false;
      if (ec) {
        auto refusal = WhyRefused(ec, timed_out);
        if (!refusal) break;
        response = Refusal(refusal->first, refusal->second);
      } else if (read.screened) {
        response = std::move(*read.screened);  // the body is unread: the connection closes after it
        head = parser.get().method() == http::verb::head;
      } else if (auto framing = FramingError(parser.get())) {
        response = Refusal(framing->first, framing->second);
      } else {
        auto& wire = parser.get();
        head = wire.method() == http::verb::head;
        http10 = wire.version() == 10;
        const bool client_keeps = wire.keep_alive();
        c->busy = true;
        HttpRequest request = ToRequest(wire, *c);
        // The Handler may block: it runs on a worker, and this coroutine
        // resumes on the connection's own thread to write the answer.
        auto [thrown, answer] = co_await asio::co_spawn(
            workers, [this, &request]() -> asio::awaitable<WireResponse> { co_return Answer(request); }, kAwaitable);
        // Answer catches what the Handler throws; this is the machinery's bad_alloc.
        response = thrown ? PlainText(500, "the server failed to handle the request") : std::move(answer);
        keep_alive = client_keeps && !stopping;
      }
      response.keep_alive(keep_alive);
      // An HTTP/1.0 client keeps the connection only when told (RFC 9112 9.3).
      if (keep_alive && http10) response.set(http::field::connection, "keep-alive");
      // After prepare_payload: a HEAD answer keeps the Content-Length of the GET's.
      if (head) response.body().clear();
      lowest.expires_after(options.request_timeout);
      auto [write_ec, written] = co_await http::async_write(stream, response, kAwaitable);
      c->busy = false;
      if (write_ec) break;
      if (!keep_alive) {
        announced_close = true;
        break;
      }
    }
    if (announced_close) co_await Linger(stream);
    c->lowest().close();
  }

  // Ends a connection whose close the last response announced: TLS's
  // close_notify, or a FIN, then what the client still sends is read and
  // dropped (see kLinger).
  template <typename Stream>
  asio::awaitable<void> Linger(Stream& stream) const {
    beast::tcp_stream& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(std::min(kLinger, options.idle_timeout));
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      // Sends close_notify and waits for the client's, dropping application data meanwhile.
      auto [ec] = co_await stream.async_shutdown(kAwaitable);
    } else {
      boost::system::error_code ignored;
      lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
      std::vector<char> sink(kFirstReadBytes);
      for (std::size_t drained = 0; drained < kLingerBytes;) {
        auto [ec, n] = co_await lowest.async_read_some(asio::buffer(sink), kAwaitable);
        if (ec) break;
        drained += n;
      }
    }
  }

  asio::awaitable<void> Run(std::shared_ptr<Connection> c) {
    if (auto* tls_stream = std::get_if<TlsStream>(&c->stream)) {
      if (co_await Handshake(*c, *tls_stream)) co_await Serve(c, *tls_stream);
    } else {
      co_await Serve(c, std::get<PlainStream>(c->stream));
    }
  }

  // --- accepting ---

  std::size_t ConnectionCount() {
    std::lock_guard lock(mutex);
    return connections.size();
  }

  void Admit(tcp::socket socket) {
    boost::system::error_code ec;
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    if (ec) return;  // gone already
    // A response is one write, but a pipelined one must not wait for the ACK
    // of the one before it (Nagle's algorithm with delayed ACKs).
    socket.set_option(tcp::no_delay(true), ec);
    KeepFromChildren(socket.native_handle());
    asio::any_io_executor executor = socket.get_executor();
    auto connection = std::make_shared<Connection>(executor, std::move(socket), tls.get(), AddressText(peer.address()));
    {
      // Under the lock Stop sets `stopping` under: a connection admitted is
      // one Stop will find.
      std::lock_guard lock(mutex);
      if (stopping) return;
      connections.insert(connection);
    }
    asio::co_spawn(executor, Run(connection), [this, connection](std::exception_ptr) {
      // Whatever ended the connection (even bad_alloc), it is gone, its timer
      // with it; the server goes on with the others.
      Unwatch(*connection);
      connection->lowest().close();
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

  asio::awaitable<void> Accept() {
    for (;;) {
      // At the limit, connections wait in the kernel's listen queue until one
      // here closes (or, once that is full, are dropped by the kernel).
      while (!stopping && ConnectionCount() >= options.max_connections) {
        slot_freed.expires_at(asio::steady_timer::time_point::max());
        co_await slot_freed.async_wait(kAwaitable);
      }
      if (stopping) co_return;
      asio::io_context& context = *contexts[next_context++ % contexts.size()];
      auto [ec, socket] = co_await acceptor.async_accept(context, kAwaitable);
      if (stopping || !acceptor.is_open()) co_return;
      bool pause = static_cast<bool>(ec);
      if (!ec) {
        try {
          Admit(std::move(socket));
        } catch (...) {
          pause = true;  // out of memory: the socket is closed with its owner
        }
      }
      if (pause) {
        // Out of descriptors or memory, most likely: give connections time to close.
        asio::steady_timer wait(acceptor.get_executor(), std::chrono::milliseconds(100));
        co_await wait.async_wait(kAwaitable);
      }
    }
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options, HttpHandler handler,
                                                      ProtocolErrorRenderer protocol_error) {
  if (!handler || !protocol_error) return Status::InvalidArgument("the HTTP server needs a handler and a renderer");
  PRESERVE_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ParseListen(options.listen));
  if (options.max_head_bytes == 0 || options.max_body_bytes == 0)
    return Status::InvalidArgument("the request size limits must be positive");
  if (options.max_connections == 0) return Status::InvalidArgument("the connection limit must be positive");
  if (options.io_threads == 0) return Status::InvalidArgument("the HTTP server needs at least one I/O thread");
  if (options.idle_timeout <= std::chrono::milliseconds::zero() ||
      options.request_timeout <= std::chrono::milliseconds::zero())
    return Status::InvalidArgument("the time limits must be positive");
  try {
    std::unique_ptr<ssl::context> tls;
    if (options.tls) {
      tls = std::make_unique<ssl::context>(ssl::context::tls_server);
      PRESERVE_RETURN_IF_ERROR(SetUpTls(*tls, *options.tls));
    }
    auto impl = std::make_unique<Impl>(options, std::move(handler), std::move(protocol_error), std::move(tls));
    boost::system::error_code ec;
    auto fail = [&](const std::string& what) {
      return Status::IOError("cannot " + what + " " + options.listen + ": " + ec.message());
    };
    if (impl->acceptor.open(endpoint.protocol(), ec)) return fail("open a socket for");
    // A restarted server must not wait for the old one's connections to leave TIME_WAIT.
    KeepFromChildren(impl->acceptor.native_handle());
    if (impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec)) return fail("set SO_REUSEADDR on");
    if (impl->acceptor.bind(endpoint, ec)) return fail("bind");
    if (impl->acceptor.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen on");
    impl->bound = impl->acceptor.local_endpoint(ec);
    if (ec) return fail("read the address bound for");

    // Owned by the server before any thread starts, so that a failure to
    // start one still ends (Stop, from the destructor) those that did.
    std::unique_ptr<HttpServer> server(new HttpServer(std::move(impl)));
    Impl& started = *server->impl_;
    asio::co_spawn(started.acceptor.get_executor(), started.Accept(), [](std::exception_ptr) {});
    for (auto& context : started.contexts)
      started.io_threads.emplace_back([&io = *context] {
        // A completion handler that throws (none should) must not end the
        // loop and leave its connections unserved.
        for (;;) {
          try {
            io.run();
            return;
          } catch (...) {
          }
        }
      });
    return server;
  } catch (const std::exception& e) {
    // Boost and the standard library throw (thread creation, TLS context); the edge of the module is here.
    return Status::Internal(std::string("cannot start the HTTP server: ") + e.what());
  }
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  std::lock_guard stop_lock(impl.stop_mutex);
  if (impl.stopped) return;
  {
    // A connection waiting for a request is closed now; one whose request is
    // being answered (busy) sees `stopping` once its answer is written, and
    // its answer says Connection: close. Both checks run on the connection's
    // thread, so none is missed.
    std::lock_guard lock(impl.mutex);
    impl.stopping = true;
    for (const auto& connection : impl.connections)
      asio::post(connection->executor, [connection] {
        if (!connection->busy) connection->lowest().cancel();
      });
  }
  asio::post(impl.acceptor.get_executor(), [&impl] {
    boost::system::error_code ignored;
    impl.acceptor.close(ignored);
    impl.slot_freed.cancel();
  });
  // Once the acceptor and every connection are done, each io_context runs
  // out of work and its thread returns; every Handler call has then
  // returned, since its connection waited for it.
  for (Impl::WorkGuard& guard : impl.work) guard.reset();
  for (std::thread& t : impl.io_threads)
    if (t.joinable()) t.join();
  impl.workers.join();
  impl.stopped = true;
}

std::string HttpServer::local_endpoint() const {
  const tcp::endpoint& e = impl_->bound;
  const std::string host = e.address().to_string();
  return (e.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(e.port());
}

}  // namespace preserve::service
