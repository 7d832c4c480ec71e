// External RFC 3161 time-stamping authorities over HTTP and HTTPS (RFC 3161
// section 3.4: a POST of application/timestamp-query answered with
// application/timestamp-reply), and failover across several of them.
//
// HttpTsaTransport carries one request to one TSA and checks only the HTTP
// layer (status 200, content type, size). FailoverTimeStamper is what a sealer
// uses: it tries the configured TSAs in priority order, retries transient
// failures with exponential backoff, and returns a token only after
// RequestTimeStamp's checks (granted, nonce, imprint, policy) and VerifyToken's
// (signature, ESSCertID binding, timeStamping EKU, path to the TSA's trust
// anchors) and the configured accuracy and clock-skew bounds all pass. On any
// failure nothing is returned but an error naming each TSA and what went wrong
// with it, so a caller commits no evidence and simply tries again later.
//
// Secrets (the Basic-auth password, the TLS client key) are read once when a
// transport is created and never appear in an error message. A URL that
// carries credentials ("https://user:pw@host/") is refused for that reason.
//
// Thread safety: a transport or a stamper may be used by one thread at a time;
// each exchange runs its own I/O loop, so separate objects run in parallel.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "preserve/timestamp/time_stamp.h"

namespace preserve::timestamp {

struct HttpTsaConfig {
  std::string name;  // for messages and for TimeStampFromTsa::tsa; default: the URL
  std::string url;   // "http://host[:port]/path" or "https://host[:port]/path"

  // What is asked of the TSA and what its tokens must satisfy.
  std::string policy_oid;                // empty: the TSA's default policy, any accepted
  std::optional<HashAlgorithm> hash;     // set: this TSA is only asked for imprints under this algorithm
  std::vector<Bytes> tsa_trust_anchors;  // DER; the TSA certificate must chain to one (required)
  std::vector<Bytes> tsa_intermediates;  // DER; extra certificates for that path
  // Set: the token must state an accuracy no coarser than this (absent accuracy fails).
  std::optional<std::chrono::milliseconds> max_accuracy;
  // Set: the token's genTime must lie within this of the local clock when it arrives.
  std::optional<std::chrono::seconds> max_clock_skew;

  // HTTP Basic authentication: the password comes from a file (its first line)
  // or an environment variable, never from the configuration itself.
  std::string basic_auth_user;  // empty: no Authorization header
  std::string basic_auth_password_file;
  std::string basic_auth_password_env;

  // TLS (https URLs only).
  std::vector<Bytes> tls_trust_anchors;  // DER; empty: the system's default CA store
  std::string tls_ca_file;               // PEM file of further TLS trust anchors
  std::string client_cert_file;          // PEM chain, for TLS client authentication
  std::string client_key_file;           // PEM key (unencrypted) matching client_cert_file

  std::chrono::milliseconds timeout{15000};  // whole exchange: resolve, connect, handshake, write, read
  int retries = 2;                           // further attempts after a transient failure
  std::chrono::milliseconds backoff{1000};   // wait before the first retry; doubles each retry
  std::size_t max_response_bytes = 1 << 20;  // a larger answer is refused unread
};

// One TSA reached over HTTP(S). Exchange is one POST, no retries: a refused
// connection, a timeout, an HTTP 5xx, 408 or 429 is kUnavailable (worth
// retrying); another HTTP status, a wrong content type or an oversized body is
// kFailedPrecondition.
class HttpTsaTransport final : public TsaTransport {
 public:
  // Parses the URL, reads the password and the TLS client credentials, and
  // sets up TLS. Fails (kInvalidArgument, kNotFound) on a bad configuration.
  static Result<std::unique_ptr<HttpTsaTransport>> Create(const HttpTsaConfig& config);
  ~HttpTsaTransport() override;
  HttpTsaTransport(const HttpTsaTransport&) = delete;
  HttpTsaTransport& operator=(const HttpTsaTransport&) = delete;

  Result<Bytes> Exchange(const Bytes& request_der) override;

  const std::string& name() const;

 private:
  struct Impl;
  explicit HttpTsaTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A TSA that was asked and failed, and why (its last failure, with the
// attempts made when it was retried).
struct TsaFailure {
  std::string tsa;  // HttpTsaConfig::name
  std::string reason;
};

struct TimeStampFromTsa {
  Bytes token;       // DER TimeStampToken, verified
  TokenInfo info;    // what it says
  std::string tsa;   // the name of the TSA that answered
  int attempts = 0;  // requests sent, over every TSA tried
  // The TSAs of higher priority that were asked and failed before `tsa`
  // answered, in order: a failover, which callers report. TSAs skipped
  // because they are configured for another hash algorithm are not listed.
  std::vector<TsaFailure> failed_over;
};

class FailoverTimeStamper {
 public:
  // `tsas` in priority order; each is checked as HttpTsaTransport::Create does.
  // `clock` is read for max_clock_skew and must outlive the stamper.
  static Result<std::unique_ptr<FailoverTimeStamper>> Create(std::vector<HttpTsaConfig> tsas, const Clock& clock);
  ~FailoverTimeStamper();
  FailoverTimeStamper(const FailoverTimeStamper&) = delete;
  FailoverTimeStamper& operator=(const FailoverTimeStamper&) = delete;

  // A verified token over `imprint` (a digest under `alg`) from the first TSA
  // that gives one. A failure that may pass (kUnavailable: TSA down, slow,
  // HTTP 5xx, status waiting or systemFailure) is retried on the same TSA after
  // the backoff; any other failure (rejection, grantedWithMods, garbage, wrong
  // nonce or imprint, untrusted certificate) moves on to the next TSA at once.
  // When none succeeds: kUnavailable, the message listing every TSA's last failure.
  Result<TimeStampFromTsa> Stamp(HashAlgorithm alg, ByteView imprint);

 private:
  struct Impl;
  explicit FailoverTimeStamper(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve::timestamp
