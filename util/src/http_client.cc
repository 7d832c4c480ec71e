#include "preserve/util/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <exception>
#include <utility>

#include "preserve/util/openssl_ptr.h"

namespace preserve {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwaitable = asio::as_tuple(asio::use_awaitable);
// How long past the configured timeout the I/O loop may run: the sockets time
// out by themselves, so this only bounds a name lookup that hangs.
constexpr std::chrono::milliseconds kLookupGrace{250};

Status SetUpTls(asio::ssl::context& tls, const HttpTlsOptions& options) {
  SSL_CTX* ctx = tls.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
    return Status::Internal(OpenSslFailure("cannot require TLS 1.2"));
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const Bytes& der : options.trust_anchors) {
    const unsigned char* p = der.data();
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert) return Status::InvalidArgument(OpenSslFailure("a TLS trust anchor is not a DER certificate"));
    if (X509_STORE_add_cert(store, cert.get()) != 1)
      return Status::Internal(OpenSslFailure("cannot add a TLS trust anchor"));
  }
  if (!options.ca_file.empty() && SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1)
    return Status::InvalidArgument(OpenSslFailure("cannot load TLS trust anchors from " + options.ca_file));
  if (options.trust_anchors.empty() && options.ca_file.empty() && SSL_CTX_set_default_verify_paths(ctx) != 1)
    return Status::Internal(OpenSslFailure("cannot load the system's CA store"));
  if (options.client_cert_file.empty() != options.client_key_file.empty())
    return Status::InvalidArgument("a TLS client certificate needs both client_cert_file and client_key_file");
  if (!options.client_cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.client_cert_file.c_str()) != 1)
      return Status::InvalidArgument(
          OpenSslFailure("cannot load the TLS client certificate " + options.client_cert_file));
    // The key file's content may show up in no message: only its name.
    if (SSL_CTX_use_PrivateKey_file(ctx, options.client_key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      return Status::InvalidArgument("cannot load the TLS client key " + options.client_key_file +
                                     " or it does not match the certificate");
    }
  }
  return Status::Ok();
}

// What one exchange came to; written by the coroutine, read after the loop ends.
struct Outcome {
  bool done = false;
  Status status;
  HttpClient::Response response;

  void Fail(Status s) {
    done = true;
    status = std::move(s);
  }
};

bool IsTimeout(const beast::error_code& ec) { return ec == beast::error::timeout; }

}  // namespace

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl out;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    out.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return Status::InvalidArgument("URL must start with http:// or https://");
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  // Not echoed: the part before '@' is a secret.
  if (authority.find('@') != std::string_view::npos) return Status::InvalidArgument("URL carries credentials");
  std::string_view port;
  if (authority.starts_with("[")) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("URL has an unclosed '[' in its host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) return Status::InvalidArgument("URL has a malformed host");
    if (!after.empty()) port = after.substr(1);
  } else {
    std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return Status::InvalidArgument("URL has no host");
  if (!port.empty() &&
      (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
       std::stoi(std::string(port)) > 65535))
    return Status::InvalidArgument("URL has a bad port '" + std::string(port) + "'");
  out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
  std::string bracketed = out.host.find(':') != std::string::npos ? "[" + out.host + "]" : out.host;
  out.host_header = port.empty() ? bracketed : bracketed + ":" + out.port;
  out.origin = std::string(out.tls ? "https://" : "http://") + bracketed + ":" + out.port;
  return out;
}

struct HttpClient::Impl {
  HttpUrl url;
  HttpClientOptions options;
  std::unique_ptr<asio::ssl::context> tls;

  std::string TimeoutMessage() const {
    return "no answer from " + options.name + " within " + std::to_string(options.timeout.count()) + " ms";
  }

  std::string NetworkMessage(const std::string& what, const beast::error_code& ec) const {
    return IsTimeout(ec) ? TimeoutMessage() : what + " " + options.name + ": " + ec.message();
  }

  template <typename Stream>
  asio::awaitable<void> Talk(Stream& stream, const Request& in, Outcome& out) const {
    http::request<http::vector_body<std::uint8_t>> request{
        in.method == Method::kPost ? http::verb::post : http::verb::get, url.target, 11};
    request.set(http::field::host, url.host_header);
    request.set(http::field::user_agent, "preserve");
    if (!in.content_type.empty()) request.set(http::field::content_type, in.content_type);
    if (!in.accept.empty()) request.set(http::field::accept, in.accept);
    request.set(http::field::connection, "close");
    if (!in.authorization.empty()) request.set(http::field::authorization, in.authorization);
    if (in.method == Method::kPost) request.body().assign(in.body.begin(), in.body.end());
    request.prepare_payload();
    auto [write_ec, written] = co_await http::async_write(stream, request, kAwaitable);
    if (write_ec) co_return out.Fail(Status::Unavailable(NetworkMessage("cannot send the request to", write_ec)));

    beast::flat_buffer buffer;
    http::response_parser<http::vector_body<std::uint8_t>> parser;
    parser.body_limit(options.max_response_bytes);
    auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kAwaitable);
    if (read_ec == http::error::body_limit)
      co_return out.Fail(Status::FailedPrecondition("answer from " + options.name + " exceeds " +
                                                    std::to_string(options.max_response_bytes) + " bytes"));
    if (read_ec) co_return out.Fail(Status::Unavailable(NetworkMessage("no complete HTTP answer from", read_ec)));

    auto& response = parser.get();
    out.done = true;
    out.response.status = response.result_int();
    out.response.reason = std::string(response.reason());
    out.response.content_type = std::string(response[http::field::content_type]);
    out.response.body = std::move(response.body());
  }

  asio::awaitable<void> Run(const Request& request, Outcome& out) const {
    auto executor = co_await asio::this_coro::executor;
    auto deadline = std::chrono::steady_clock::now() + options.timeout;
    tcp::resolver resolver(executor);
    auto [resolve_ec, endpoints] = co_await resolver.async_resolve(url.host, url.port, kAwaitable);
    if (resolve_ec)
      co_return out.Fail(Status::Unavailable("cannot resolve " + options.name + ": " + resolve_ec.message()));

    if (!tls) {
      beast::tcp_stream stream(executor);
      stream.expires_at(deadline);
      auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kAwaitable);
      if (connect_ec) co_return out.Fail(Status::Unavailable(NetworkMessage("cannot connect to", connect_ec)));
      co_await Talk(stream, request, out);
      co_return;
    }

    beast::ssl_stream<beast::tcp_stream> stream(executor, *tls);
    beast::get_lowest_layer(stream).expires_at(deadline);
    auto [connect_ec, endpoint] = co_await beast::get_lowest_layer(stream).async_connect(endpoints, kAwaitable);
    if (connect_ec) co_return out.Fail(Status::Unavailable(NetworkMessage("cannot connect to", connect_ec)));
    SSL* ssl = stream.native_handle();
    boost::system::error_code not_ip;
    asio::ip::make_address(url.host, not_ip);
    // An IP literal is matched against the certificate's IP addresses and sent
    // without SNI (RFC 6066 allows host names only).
    bool named = not_ip
                     ? SSL_set_tlsext_host_name(ssl, url.host.c_str()) == 1 && SSL_set1_host(ssl, url.host.c_str()) == 1
                     : X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str()) == 1;
    if (!named) co_return out.Fail(Status::Internal(OpenSslFailure("cannot set the TLS peer name")));
    auto [handshake_ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kAwaitable);
    if (handshake_ec) {
      std::string message = NetworkMessage("TLS handshake failed with", handshake_ec);
      long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) message += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
      ERR_clear_error();
      // A refused certificate does not pass by waiting; a dropped connection may.
      bool refused = handshake_ec.category() == asio::error::get_ssl_category();
      co_return out.Fail(refused ? Status::FailedPrecondition(message) : Status::Unavailable(message));
    }
    co_await Talk(stream, request, out);
    // The answer is complete (Content-Length or chunked); a TLS close_notify
    // would only add a round trip to a connection the request asked to close.
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(HttpUrl url, HttpClientOptions options) {
  if (options.timeout <= std::chrono::milliseconds::zero()) return Status::InvalidArgument("timeout must be positive");
  auto impl = std::make_unique<Impl>();
  impl->url = std::move(url);
  impl->options = std::move(options);
  if (impl->options.name.empty()) impl->options.name = impl->url.origin;
  if (impl->url.tls) {
    try {
      impl->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    } catch (const boost::system::system_error& e) {
      return Status::Internal(std::string("cannot set up TLS: ") + e.what());
    }
    PRESERVE_RETURN_IF_ERROR(SetUpTls(*impl->tls, impl->options.tls));
  }
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

const std::string& HttpClient::name() const { return impl_->options.name; }

Result<HttpClient::Response> HttpClient::Send(const Request& request) const {
  // Declared before the loop so that it outlives the coroutine frame, which
  // the loop destroys when it is abandoned mid-flight.
  Outcome outcome;
  try {
    asio::io_context io;
    asio::co_spawn(io, impl_->Run(request, outcome), [&outcome](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        outcome.Fail(Status::Internal(std::string("HTTP exchange failed: ") + ex.what()));
      }
    });
    io.run_for(impl_->options.timeout + kLookupGrace);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("HTTP exchange failed: ") + e.what());
  }
  if (!outcome.done) return Status::Unavailable(impl_->TimeoutMessage());
  if (!outcome.status.ok()) return outcome.status;
  return std::move(outcome.response);
}

}  // namespace preserve
