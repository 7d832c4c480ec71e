// preserve's own RFC 3161 time-stamping authority.
//
// `preserve init` makes, in the store's tsa/ directory, a local CA (the trust
// anchor auditors are given) and a TSA certificate it issues with the critical
// id-kp-timeStamping EKU. Tokens are signed with ECDSA P-256/P-384 or RSA
// 2048/3072, carry ESSCertIDv2 (RFC 5816), the TSA certificate, the request's
// nonce, and a random 128-bit serial number (unique across restarts).
//
// The token's signature digest follows the request's imprint: SHA-256 for a
// SHA-256 imprint, otherwise the imprint's own algorithm (SHA-384, SHA-512,
// SHA3-*), for the signature and the ESSCertIDv2 alike. A hash-tree renewal
// made because SHA-256 weakened must not lean on SHA-256 in its own token.
//
// Rollover: when the TSA certificate nears its end or its key type is retired
// by policy, RollOverEmbeddedTsa gives the TSA a new key and certificate from
// the same CA. Tokens made before stay verifiable against the CA; the retired
// certificates are kept for auditors, the retired keys are destroyed.
//
// Directory layout:
//   ca.pem, ca.key         the local CA (key 0600)
//   tsa.pem, tsa.key       the active TSA (key 0600)
//   retired/tsa-<serial hex>.pem   every TSA certificate rolled over from
//   tsa.pem.new, tsa.key.new       only during a rollover (see RollOverEmbeddedTsa)
//
// Times come from the Clock. When the clock is simulated (--now), tokens use
// kSimulatedTimePolicyOid, so a simulated token is never mistaken for a real one.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/policy/algorithm_catalogue.h"
#include "preserve/timestamp/time_stamp.h"

namespace preserve::timestamp {

// OIDs under 2.25 (UUID-derived, ITU-T X.667): no registration needed.
inline constexpr const char* kEmbeddedTsaPolicyOid = "2.25.216831584370121342779447185317366372961.1";
inline constexpr const char* kSimulatedTimePolicyOid = "2.25.216831584370121342779447185317366372961.2";

// RSA keys sign with RSASSA-PKCS1-v1_5. kRsa2048 is there to simulate a TSA
// whose key a policy retires (ETSI TS 119 312 ends RSA below 3000 bits).
enum class TsaKeyType { kEcdsaP256, kEcdsaP384, kRsa2048, kRsa3072 };

std::string_view TsaKeyTypeName(TsaKeyType type);  // "ec-p256", "ec-p384", "rsa-2048", "rsa-3072"
// The names above, case-insensitive; anything else is InvalidArgument.
Result<TsaKeyType> TsaKeyTypeFromName(std::string_view name);

// What the algorithm catalogue dates for tokens signed with such a key.
struct TsaKeySignatureAlgorithm {
  policy::SignatureKeyType key;
  int bits;
};
TsaKeySignatureAlgorithm TsaKeySignature(TsaKeyType type);

struct EmbeddedTsaOptions {
  // The TSA's key type; the CA gets the same, except that rsa-2048 gets an
  // RSA-3072 CA (a CA meant to outlive its TSAs must not be retired with them).
  TsaKeyType key_type = TsaKeyType::kEcdsaP256;
  std::string organization = "preserve local archive";
  int ca_validity_years = 100;  // the trust anchor must outlive decades of renewals
  int tsa_validity_years = 10;
};

// Creates dir/ca.pem, dir/ca.key, dir/tsa.pem, dir/tsa.key (keys mode 0600).
// Fails with kAlreadyExists rather than overwrite an existing TSA.
Status CreateEmbeddedTsa(const std::filesystem::path& dir, const EmbeddedTsaOptions& options,
                         const Clock& clock);

// Gives the TSA in `dir` a new `key_type` key and a certificate from the same
// CA, valid for `validity_years` from the clock's now (cut short at the CA's
// notAfter, never beyond it), and makes it the active TSA. The previous
// certificate moves to dir/retired/; the previous key is destroyed: tokens it
// signed verify with the certificate alone, and a retired key kept on disk
// could only ever serve to forge back-dated tokens.
//
// Crash-safe: the new pair is written in full as tsa.key.new and tsa.pem.new
// (each fsynced) and the old certificate copied to retired/ before anything
// active changes; then tsa.key.new is renamed over tsa.key, then tsa.pem.new
// over tsa.pem. A crash leaves either the old pair (with at most a partial
// .new set, discarded) or a new key whose certificate is tsa.pem.new, which
// EmbeddedTsa::Open detects and completes. Not safe against a concurrent
// rollover or Open of the same directory by another process.
Status RollOverEmbeddedTsa(const std::filesystem::path& dir, TsaKeyType key_type, int validity_years,
                           const Clock& clock);

class EmbeddedTsa final : public TsaTransport {
 public:
  // Loads the CA and the active TSA made by CreateEmbeddedTsa or
  // RollOverEmbeddedTsa, first completing a rollover a crash interrupted
  // (which writes to `dir`). Fails with kCorruption when the key does not
  // match the certificate or the certificate is not the CA's.
  static Result<std::unique_ptr<EmbeddedTsa>> Open(const std::filesystem::path& dir, const Clock& clock);
  ~EmbeddedTsa() override;

  // Answers a DER TimeStampReq with a DER TimeStampResp, as a TSA server would:
  // a malformed or unsupported request gets a rejection response, not an error.
  Result<Bytes> Exchange(const Bytes& request_der) override;

  const Bytes& ca_certificate() const;   // DER: the trust anchor
  const Bytes& tsa_certificate() const;  // DER: the active TSA's
  // The active TSA certificate first, then the retired ones, newest first
  // (DER): what an auditor needs to check every token this TSA ever made.
  const std::vector<Bytes>& all_tsa_certificates() const;
  TsaKeyType key_type() const;                 // the active TSA's
  TimePoint certificate_not_after() const;     // the active TSA certificate's

 private:
  struct Impl;
  explicit EmbeddedTsa(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve::timestamp
