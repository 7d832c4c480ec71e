#include "preserve/timestamp/http_tsa.h"

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
#include <cstdlib>
#include <exception>
#include <thread>
#include <utility>

#include "http_media_type.h"
#include "preserve/util/openssl_ptr.h"

namespace preserve::timestamp {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwaitable = asio::as_tuple(asio::use_awaitable);
// How long past the configured timeout the I/O loop may run: the sockets time
// out by themselves, so this only bounds a name lookup that hangs.
constexpr std::chrono::milliseconds kLookupGrace{250};

struct Url {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
  std::string target;
  std::string host_header;  // host[:port] as sent in Host:
  std::string origin;       // scheme://host:port, for messages: no path, whose query might hold a key
};

Result<Url> ParseUrl(const std::string& url) {
  Url out;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    out.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return Status::InvalidArgument("TSA URL must start with http:// or https://");
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  // Not echoed: the part before '@' is a secret.
  if (authority.find('@') != std::string_view::npos)
    return Status::InvalidArgument("TSA URL carries credentials; use basic_auth_user and a password file or variable");
  std::string_view port;
  if (authority.starts_with("[")) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("TSA URL has an unclosed '[' in its host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) return Status::InvalidArgument("TSA URL has a malformed host");
    if (!after.empty()) port = after.substr(1);
  } else {
    std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return Status::InvalidArgument("TSA URL has no host");
  if (!port.empty() &&
      (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
       std::stoi(std::string(port)) > 65535))
    return Status::InvalidArgument("TSA URL has a bad port '" + std::string(port) + "'");
  out.port = port.empty() ? (out.tls ? "443" : "80") : std::string(port);
  std::string bracketed = out.host.find(':') != std::string::npos ? "[" + out.host + "]" : out.host;
  out.host_header = port.empty() ? bracketed : bracketed + ":" + out.port;
  out.origin = std::string(out.tls ? "https://" : "http://") + bracketed + ":" + out.port;
  return out;
}

// The first line of a password file, or a variable's value.
Result<std::string> ReadPassword(const HttpTsaConfig& config) {
  if (!config.basic_auth_password_file.empty() && !config.basic_auth_password_env.empty())
    return Status::InvalidArgument("give the Basic-auth password in a file or a variable, not both");
  if (!config.basic_auth_password_file.empty()) {
    auto bytes = ReadFile(config.basic_auth_password_file);
    if (!bytes.ok()) return bytes.status().WithContext("Basic-auth password file");
    std::string text = ToString(*bytes);
    OPENSSL_cleanse(bytes->data(), bytes->size());
    text.resize(std::min(text.size(), text.find_first_of("\r\n")));
    return text;
  }
  if (!config.basic_auth_password_env.empty()) {
    const char* value = std::getenv(config.basic_auth_password_env.c_str());
    if (value == nullptr)
      return Status::NotFound("Basic-auth password variable " + config.basic_auth_password_env + " is not set");
    return std::string(value);
  }
  return Status::InvalidArgument("Basic-auth user given without a password file or variable");
}

std::string Base64(std::string_view text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

Status SetUpTls(asio::ssl::context& tls, const HttpTsaConfig& config) {
  SSL_CTX* ctx = tls.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
    return Status::Internal(OpenSslFailure("cannot require TLS 1.2"));
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const Bytes& der : config.tls_trust_anchors) {
    const unsigned char* p = der.data();
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert) return Status::InvalidArgument(OpenSslFailure("a TLS trust anchor is not a DER certificate"));
    if (X509_STORE_add_cert(store, cert.get()) != 1)
      return Status::Internal(OpenSslFailure("cannot add a TLS trust anchor"));
  }
  if (!config.tls_ca_file.empty() && SSL_CTX_load_verify_locations(ctx, config.tls_ca_file.c_str(), nullptr) != 1)
    return Status::InvalidArgument(OpenSslFailure("cannot load TLS trust anchors from " + config.tls_ca_file));
  if (config.tls_trust_anchors.empty() && config.tls_ca_file.empty() && SSL_CTX_set_default_verify_paths(ctx) != 1)
    return Status::Internal(OpenSslFailure("cannot load the system's CA store"));
  if (config.client_cert_file.empty() != config.client_key_file.empty())
    return Status::InvalidArgument("a TLS client certificate needs both client_cert_file and client_key_file");
  if (!config.client_cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, config.client_cert_file.c_str()) != 1)
      return Status::InvalidArgument(
          OpenSslFailure("cannot load the TLS client certificate " + config.client_cert_file));
    // The key file's content may show up in no message: only its name.
    if (SSL_CTX_use_PrivateKey_file(ctx, config.client_key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      return Status::InvalidArgument("cannot load the TLS client key " + config.client_key_file +
                                     " or it does not match the certificate");
    }
  }
  return Status::Ok();
}

// What one exchange came to; written by the coroutine, read after the loop ends.
struct Outcome {
  bool done = false;
  Status status;
  Bytes body;

  void Fail(Status s) {
    done = true;
    status = std::move(s);
  }
};

bool IsTimeout(const beast::error_code& ec) { return ec == beast::error::timeout; }

}  // namespace

struct HttpTsaTransport::Impl {
  HttpTsaConfig config;
  Url url;
  std::string authorization;  // "Basic ..." or empty
  std::unique_ptr<asio::ssl::context> tls;

  ~Impl() { OPENSSL_cleanse(authorization.data(), authorization.size()); }

  std::string TimeoutMessage() const {
    return "no answer from " + url.origin + " within " + std::to_string(config.timeout.count()) + " ms";
  }

  std::string NetworkMessage(const std::string& what, const beast::error_code& ec) const {
    return IsTimeout(ec) ? TimeoutMessage() : what + " " + url.origin + ": " + ec.message();
  }

  template <typename Stream>
  asio::awaitable<void> Talk(Stream& stream, const Bytes& request_der, Outcome& out) const {
    http::request<http::vector_body<std::uint8_t>> request{http::verb::post, url.target, 11};
    request.set(http::field::host, url.host_header);
    request.set(http::field::user_agent, "preserve");
    request.set(http::field::content_type, "application/timestamp-query");
    request.set(http::field::accept, "application/timestamp-reply");
    request.set(http::field::connection, "close");
    if (!authorization.empty()) request.set(http::field::authorization, authorization);
    request.body() = request_der;
    request.prepare_payload();
    auto [write_ec, written] = co_await http::async_write(stream, request, kAwaitable);
    if (write_ec) co_return out.Fail(Status::Unavailable(NetworkMessage("cannot send the request to", write_ec)));

    beast::flat_buffer buffer;
    http::response_parser<http::vector_body<std::uint8_t>> parser;
    parser.body_limit(config.max_response_bytes);
    auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kAwaitable);
    if (read_ec == http::error::body_limit)
      co_return out.Fail(Status::FailedPrecondition("answer from " + url.origin + " exceeds " +
                                                    std::to_string(config.max_response_bytes) + " bytes"));
    if (read_ec) co_return out.Fail(Status::Unavailable(NetworkMessage("no complete HTTP answer from", read_ec)));

    const auto& response = parser.get();
    unsigned code = response.result_int();
    if (code != 200) {
      std::string message =
          url.origin + " answered HTTP " + std::to_string(code) + " " + std::string(response.reason());
      // Server trouble and throttling pass; anything else is how this TSA is set up.
      bool transient = code >= 500 || code == 408 || code == 429;
      co_return out.Fail(transient ? Status::Unavailable(message) : Status::FailedPrecondition(message));
    }
    std::string_view type = response[http::field::content_type];
    if (!internal::HasMediaType(type, "application/timestamp-reply"))
      co_return out.Fail(Status::FailedPrecondition(url.origin + " answered with content type '" + std::string(type) +
                                                    "', not application/timestamp-reply"));
    out.done = true;
    out.body = std::move(parser.get().body());
  }

  asio::awaitable<void> Run(const Bytes& request_der, Outcome& out) const {
    auto executor = co_await asio::this_coro::executor;
    auto deadline = std::chrono::steady_clock::now() + config.timeout;
    tcp::resolver resolver(executor);
    auto [resolve_ec, endpoints] = co_await resolver.async_resolve(url.host, url.port, kAwaitable);
    if (resolve_ec)
      co_return out.Fail(Status::Unavailable("cannot resolve " + url.origin + ": " + resolve_ec.message()));

    if (!tls) {
      beast::tcp_stream stream(executor);
      stream.expires_at(deadline);
      auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kAwaitable);
      if (connect_ec) co_return out.Fail(Status::Unavailable(NetworkMessage("cannot connect to", connect_ec)));
      co_await Talk(stream, request_der, out);
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
    co_await Talk(stream, request_der, out);
    // The answer is complete (Content-Length or chunked); a TLS close_notify
    // would only add a round trip to a connection the request asked to close.
  }
};

HttpTsaTransport::HttpTsaTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpTsaTransport::~HttpTsaTransport() = default;

Result<std::unique_ptr<HttpTsaTransport>> HttpTsaTransport::Create(const HttpTsaConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  PRESERVE_ASSIGN_OR_RETURN(impl->url, ParseUrl(config.url));
  if (impl->config.name.empty()) impl->config.name = impl->url.origin;
  if (config.timeout <= std::chrono::milliseconds::zero())
    return Status::InvalidArgument("TSA timeout must be positive");
  if (config.retries < 0 || config.backoff < std::chrono::milliseconds::zero())
    return Status::InvalidArgument("TSA retries and backoff must not be negative");
  if (!config.basic_auth_user.empty()) {
    if (config.basic_auth_user.find(':') != std::string::npos)
      return Status::InvalidArgument("a Basic-auth user name may not contain ':' (RFC 7617)");
    PRESERVE_ASSIGN_OR_RETURN(std::string password, ReadPassword(config));
    std::string credentials = config.basic_auth_user + ":" + password;
    impl->authorization = "Basic " + Base64(credentials);
    OPENSSL_cleanse(password.data(), password.size());
    OPENSSL_cleanse(credentials.data(), credentials.size());
  }
  if (impl->url.tls) {
    try {
      impl->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    } catch (const boost::system::system_error& e) {
      return Status::Internal(std::string("cannot set up TLS: ") + e.what());
    }
    PRESERVE_RETURN_IF_ERROR(SetUpTls(*impl->tls, config).WithContext(impl->config.name));
  }
  return std::unique_ptr<HttpTsaTransport>(new HttpTsaTransport(std::move(impl)));
}

const std::string& HttpTsaTransport::name() const { return impl_->config.name; }

Result<Bytes> HttpTsaTransport::Exchange(const Bytes& request_der) {
  // Declared before the loop so that it outlives the coroutine frame, which
  // the loop destroys when it is abandoned mid-flight.
  Outcome outcome;
  try {
    asio::io_context io;
    asio::co_spawn(io, impl_->Run(request_der, outcome), [&outcome](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        outcome.Fail(Status::Internal(std::string("HTTP exchange failed: ") + ex.what()));
      }
    });
    io.run_for(impl_->config.timeout + kLookupGrace);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("HTTP exchange failed: ") + e.what());
  }
  if (!outcome.done) return Status::Unavailable(impl_->TimeoutMessage());
  if (!outcome.status.ok()) return outcome.status;
  return std::move(outcome.body);
}

// --- failover ---

namespace {

using TsAccuracyMicros = std::chrono::microseconds;

// The accuracy the token states, or nothing when it states none.
Result<std::optional<TsAccuracyMicros>> TokenAccuracy(const Bytes& token_der) {
  const unsigned char* p = token_der.data();
  Pkcs7Ptr pkcs7(d2i_PKCS7(nullptr, &p, static_cast<long>(token_der.size())));
  if (!pkcs7) return Status::Corruption(OpenSslFailure("time-stamp token is not DER CMS"));
  TsTstInfoPtr tst_info(PKCS7_to_TS_TST_INFO(pkcs7.get()));
  if (!tst_info) return Status::Corruption(OpenSslFailure("time-stamp token holds no TSTInfo"));
  const TS_ACCURACY* accuracy = TS_TST_INFO_get_accuracy(tst_info.get());
  if (accuracy == nullptr) return std::optional<TsAccuracyMicros>();
  auto part = [](const ASN1_INTEGER* n) { return n == nullptr ? 0L : ASN1_INTEGER_get(n); };
  long seconds = part(TS_ACCURACY_get_seconds(accuracy));
  long millis = part(TS_ACCURACY_get_millis(accuracy));
  long micros = part(TS_ACCURACY_get_micros(accuracy));
  if (seconds < 0 || millis < 0 || micros < 0) return Status::Corruption("time-stamp token has a malformed accuracy");
  return std::optional<TsAccuracyMicros>(std::chrono::seconds(seconds) + std::chrono::milliseconds(millis) +
                                         std::chrono::microseconds(micros));
}

struct Tsa {
  HttpTsaConfig config;
  std::unique_ptr<HttpTsaTransport> transport;
};

}  // namespace

struct FailoverTimeStamper::Impl {
  std::vector<Tsa> tsas;
  const Clock& clock;

  Result<TimeStampFromTsa> StampOnce(Tsa& tsa, HashAlgorithm alg, ByteView imprint) {
    RequestOptions request;
    request.policy_oid = tsa.config.policy_oid;
    PRESERVE_ASSIGN_OR_RETURN(Bytes token, RequestTimeStamp(*tsa.transport, alg, imprint, request));
    TokenVerifyOptions verify;
    verify.trust_anchors = tsa.config.tsa_trust_anchors;
    verify.intermediates = tsa.config.tsa_intermediates;
    PRESERVE_ASSIGN_OR_RETURN(TokenInfo info, VerifyToken(token, alg, imprint, verify));
    if (tsa.config.max_accuracy) {
      PRESERVE_ASSIGN_OR_RETURN(std::optional<TsAccuracyMicros> accuracy, TokenAccuracy(token));
      if (!accuracy) return Status::FailedPrecondition("token states no accuracy");
      if (*accuracy > *tsa.config.max_accuracy)
        return Status::FailedPrecondition("token accuracy " + std::to_string(accuracy->count()) +
                                          " us is coarser than the " +
                                          std::to_string(tsa.config.max_accuracy->count()) + " ms required");
    }
    if (tsa.config.max_clock_skew) {
      auto skew = info.gen_time - clock.Now();
      if (skew > *tsa.config.max_clock_skew || -skew > *tsa.config.max_clock_skew)
        return Status::FailedPrecondition("token genTime " + FormatUtcTime(info.gen_time) + " is " +
                                          std::to_string(skew.count()) + " s from the local clock (" +
                                          FormatUtcTime(clock.Now()) + ")");
    }
    TimeStampFromTsa out;
    out.token = std::move(token);
    out.info = std::move(info);
    out.tsa = tsa.config.name;
    return out;
  }
};

FailoverTimeStamper::FailoverTimeStamper(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FailoverTimeStamper::~FailoverTimeStamper() = default;

Result<std::unique_ptr<FailoverTimeStamper>> FailoverTimeStamper::Create(std::vector<HttpTsaConfig> tsas,
                                                                         const Clock& clock) {
  if (tsas.empty()) return Status::InvalidArgument("no TSA configured");
  auto impl = std::make_unique<Impl>(Impl{{}, clock});
  for (HttpTsaConfig& config : tsas) {
    PRESERVE_ASSIGN_OR_RETURN(std::unique_ptr<HttpTsaTransport> transport, HttpTsaTransport::Create(config));
    config.name = transport->name();
    if (config.tsa_trust_anchors.empty())
      return Status::InvalidArgument("TSA " + config.name + " has no TSA trust anchors to check its tokens against");
    impl->tsas.push_back(Tsa{std::move(config), std::move(transport)});
  }
  return std::unique_ptr<FailoverTimeStamper>(new FailoverTimeStamper(std::move(impl)));
}

Result<TimeStampFromTsa> FailoverTimeStamper::Stamp(HashAlgorithm alg, ByteView imprint) {
  if (imprint.size() != HashAlgorithmSize(alg))
    return Status::InvalidArgument("a " + std::string(HashAlgorithmName(alg)) + " imprint has " +
                                   std::to_string(HashAlgorithmSize(alg)) + " bytes, not " +
                                   std::to_string(imprint.size()));
  std::string failures;
  int attempts = 0;
  for (Tsa& tsa : impl_->tsas) {
    std::string failure;
    if (tsa.config.hash && *tsa.config.hash != alg) {
      failure = "not used for " + std::string(HashAlgorithmName(alg)) + " (configured for " +
                std::string(HashAlgorithmName(*tsa.config.hash)) + ")";
    } else {
      for (int attempt = 0;; ++attempt) {
        if (attempt > 0) {
          // Doubling, capped so that a long retry list does not overflow.
          std::this_thread::sleep_for(tsa.config.backoff * (1 << std::min(attempt - 1, 10)));
        }
        ++attempts;
        auto stamped = impl_->StampOnce(tsa, alg, imprint);
        if (stamped.ok()) {
          stamped->attempts = attempts;
          return stamped;
        }
        failure = stamped.status().message();
        if (stamped.status().code() != StatusCode::kUnavailable || attempt >= tsa.config.retries) {
          if (attempt > 0) failure += " (after " + std::to_string(attempt + 1) + " attempts)";
          break;
        }
      }
    }
    failures += (failures.empty() ? "" : "; ") + tsa.config.name + ": " + failure;
  }
  return Status::Unavailable("no TSA gave a valid time-stamp: " + failures);
}

}  // namespace preserve::timestamp
