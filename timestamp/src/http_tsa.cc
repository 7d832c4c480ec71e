#include "preserve/timestamp/http_tsa.h"

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <utility>

#include "http_media_type.h"
#include "preserve/util/http_client.h"
#include "preserve/util/openssl_ptr.h"

namespace preserve::timestamp {

namespace {

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


}  // namespace

struct HttpTsaTransport::Impl {
  HttpTsaConfig config;
  std::unique_ptr<HttpClient> client;
  std::string authorization;  // "Basic ..." or empty

  ~Impl() { OPENSSL_cleanse(authorization.data(), authorization.size()); }
};

HttpTsaTransport::HttpTsaTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpTsaTransport::~HttpTsaTransport() = default;

Result<std::unique_ptr<HttpTsaTransport>> HttpTsaTransport::Create(const HttpTsaConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  auto url = ParseHttpUrl(config.url);
  if (!url.ok()) return Status::InvalidArgument("TSA " + url.status().message());
  if (impl->config.name.empty()) impl->config.name = url->origin;
  if (config.timeout <= std::chrono::milliseconds::zero())
    return Status::InvalidArgument("TSA timeout must be positive");
  if (config.retries < 0 || config.backoff < std::chrono::milliseconds::zero())
    return Status::InvalidArgument("TSA retries and backoff must not be negative");
  if (!config.basic_auth_user.empty()) {
    if (config.basic_auth_user.find(':') != std::string::npos)
      return Status::InvalidArgument("a Basic-auth user name may not contain ':' (RFC 7617)");
    PRESERVE_ASSIGN_OR_RETURN(std::string password, ReadPassword(config));
    std::string credentials = config.basic_auth_user + ":" + password;
    impl->authorization = "Basic " + EncodeBase64(AsBytes(credentials));
    OPENSSL_cleanse(password.data(), password.size());
    OPENSSL_cleanse(credentials.data(), credentials.size());
  }
  // options.name stays empty: the client's messages name the URL's origin,
  // whose path is left out because its query might hold a key.
  HttpClientOptions options;
  options.timeout = config.timeout;
  options.max_response_bytes = config.max_response_bytes;
  options.tls = {config.tls_trust_anchors, config.tls_ca_file, config.client_cert_file, config.client_key_file};
  auto client = HttpClient::Create(std::move(*url), std::move(options));
  if (!client.ok()) return client.status().WithContext(impl->config.name);
  impl->client = std::move(*client);
  return std::unique_ptr<HttpTsaTransport>(new HttpTsaTransport(std::move(impl)));
}

const std::string& HttpTsaTransport::name() const { return impl_->config.name; }

Result<Bytes> HttpTsaTransport::Exchange(const Bytes& request_der) {
  HttpClient::Request request;
  request.method = HttpClient::Method::kPost;
  request.content_type = "application/timestamp-query";
  request.accept = "application/timestamp-reply";
  request.authorization = impl_->authorization;
  request.body = request_der;
  PRESERVE_ASSIGN_OR_RETURN(HttpClient::Response response, impl_->client->Send(request));
  const std::string& origin = impl_->client->name();
  if (response.status != 200) {
    std::string message = origin + " answered HTTP " + std::to_string(response.status) + " " + response.reason;
    // Server trouble and throttling pass; anything else is how this TSA is set up.
    bool transient = response.status >= 500 || response.status == 408 || response.status == 429;
    return transient ? Status::Unavailable(message) : Status::FailedPrecondition(message);
  }
  if (!internal::HasMediaType(response.content_type, "application/timestamp-reply"))
    return Status::FailedPrecondition(origin + " answered with content type '" + response.content_type +
                                      "', not application/timestamp-reply");
  return std::move(response.body);
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
  std::vector<TsaFailure> failed;
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
          stamped->failed_over = std::move(failed);
          return stamped;
        }
        failure = stamped.status().message();
        if (stamped.status().code() != StatusCode::kUnavailable || attempt >= tsa.config.retries) {
          if (attempt > 0) failure += " (after " + std::to_string(attempt + 1) + " attempts)";
          break;
        }
      }
      failed.push_back(TsaFailure{tsa.config.name, failure});
    }
    failures += (failures.empty() ? "" : "; ") + tsa.config.name + ": " + failure;
  }
  return Status::Unavailable("no TSA gave a valid time-stamp: " + failures);
}

}  // namespace preserve::timestamp
