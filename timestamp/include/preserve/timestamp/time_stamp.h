// RFC 3161 time-stamping: requests, responses, and token verification.
//
// A TSA is reached through a TsaTransport, which carries DER requests and
// responses: in-process for the embedded TSA, over HTTP for external ones.
// The client side never trusts the transport: every response is checked
// (status, nonce, imprint, policy) before its token is returned.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"
#include "preserve/util/digest.h"

namespace preserve::timestamp {

class TsaTransport {
 public:
  virtual ~TsaTransport() = default;
  // Sends a DER TimeStampReq; returns the DER TimeStampResp.
  virtual Result<Bytes> Exchange(const Bytes& request_der) = 0;
};

// What a token says, read without judging it.
struct TokenInfo {
  HashAlgorithm imprint_algorithm = HashAlgorithm::kSha256;
  Bytes imprint;
  TimePoint gen_time;
  std::string policy_oid;
  std::string serial_hex;
  Bytes nonce;                      // empty when the token has none
  Bytes tsa_certificate;            // DER of the signer's certificate, when the token carries it
  std::vector<Bytes> certificates;  // every certificate the token carries (DER)
  std::string signature_algorithm;  // "RSA" or "ECDSA" (key type of the signer)
  int signature_key_bits = 0;       // 3072, 256, ...
  std::string signature_digest;     // "SHA-256": the digest the token's signature uses
};

// Parses a DER TimeStampToken (CMS ContentInfo holding SignedData over TSTInfo).
Result<TokenInfo> ParseToken(ByteView token_der);

struct RequestOptions {
  std::string policy_oid;  // empty: the TSA's default policy, any accepted
};

// Builds a TimeStampReq (the imprint, a fresh 64-bit nonce, certReq = true),
// sends it through `transport`, checks the response (status granted, same
// nonce, same imprint, requested policy) and returns the token's DER.
// A rejection, a garbled response or a mismatch is an error; nothing is
// returned that has not passed those checks.
Result<Bytes> RequestTimeStamp(TsaTransport& transport, HashAlgorithm alg, ByteView imprint,
                               const RequestOptions& options = {});

struct TokenVerifyOptions {
  std::vector<Bytes> trust_anchors;  // DER; the TSA certificate must chain to one of them
  std::vector<Bytes> intermediates;  // DER; extra certificates for path building
  // The time at which the TSA certificate path must hold; default: the token's genTime.
  std::optional<TimePoint> validation_time;
};

// Verifies a token: the CMS signature, that the TSTInfo covers `imprint` under
// `alg`, the ESSCertID/ESSCertIDv2 binding to the signer certificate, the
// signer certificate's critical id-kp-timeStamping EKU, and its path to a
// trust anchor as of the validation time. On success returns what the token
// says; on failure the Status names the check that failed
// (kCorruption for a broken token, kFailedPrecondition for an untrusted path).
Result<TokenInfo> VerifyToken(ByteView token_der, HashAlgorithm alg, ByteView imprint,
                              const TokenVerifyOptions& options);

}  // namespace preserve::timestamp
