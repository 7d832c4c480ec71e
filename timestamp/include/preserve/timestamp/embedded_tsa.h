// preserve's own RFC 3161 time-stamping authority.
//
// `preserve init` makes, in the store's tsa/ directory, a local CA (the trust
// anchor auditors are given) and a TSA certificate it issues with the critical
// id-kp-timeStamping EKU. Tokens are signed with ECDSA P-256 or RSA-3072,
// carry ESSCertIDv2 (RFC 5816, SHA-256), the TSA certificate, the request's
// nonce, and a random 128-bit serial number (unique across restarts).
//
// Times come from the Clock. When the clock is simulated (--now), tokens use
// kSimulatedTimePolicyOid, so a simulated token is never mistaken for a real one.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "preserve/timestamp/time_stamp.h"

namespace preserve::timestamp {

// OIDs under 2.25 (UUID-derived, ITU-T X.667): no registration needed.
inline constexpr const char* kEmbeddedTsaPolicyOid = "2.25.216831584370121342779447185317366372961.1";
inline constexpr const char* kSimulatedTimePolicyOid = "2.25.216831584370121342779447185317366372961.2";

enum class TsaKeyType { kEcdsaP256, kRsa3072 };

struct EmbeddedTsaOptions {
  TsaKeyType key_type = TsaKeyType::kEcdsaP256;
  std::string organization = "preserve local archive";
  int ca_validity_years = 50;
  int tsa_validity_years = 10;
};

// Creates dir/ca.pem, dir/ca.key, dir/tsa.pem, dir/tsa.key (keys mode 0600).
// Fails with kAlreadyExists rather than overwrite an existing TSA.
Status CreateEmbeddedTsa(const std::filesystem::path& dir, const EmbeddedTsaOptions& options,
                         const Clock& clock);

class EmbeddedTsa final : public TsaTransport {
 public:
  // Loads the CA and TSA made by CreateEmbeddedTsa.
  static Result<std::unique_ptr<EmbeddedTsa>> Open(const std::filesystem::path& dir, const Clock& clock);
  ~EmbeddedTsa() override;

  // Answers a DER TimeStampReq with a DER TimeStampResp, as a TSA server would:
  // a malformed or unsupported request gets a rejection response, not an error.
  Result<Bytes> Exchange(const Bytes& request_der) override;

  const Bytes& ca_certificate() const;   // DER: the trust anchor
  const Bytes& tsa_certificate() const;  // DER

 private:
  struct Impl;
  explicit EmbeddedTsa(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve::timestamp
