// Validating CMS/CAdES signatures (detached and enveloping) with OpenSSL.
//
// Each signer is judged as ETSI EN 319 102-1 would: its content digest, its
// signature value, and its certificate path to a configured trust anchor *at
// the signing time*. The result is a report per signer, with an indication
// and sub-indication and a sentence a records officer can act on, plus the
// certificates used (the validation material kept with the package).
// A signature that fails is an expected outcome, reported, not an error; only
// input that is not CMS at all (or is truncated) is an error Status.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"
#include "preserve/util/verdict.h"

namespace preserve::timestamp {
class AlgorithmCatalogue;
}

namespace preserve::ingest {

// ETSI EN 319 102-1 section 5.1.3 (the subset preserve reports today).
enum class SubIndication {
  kNone,
  kFormatFailure,
  kHashFailure,               // the content digest does not match
  kSigCryptoFailure,          // the signature value does not verify
  kNoCertificateChainFound,   // no path to a trust anchor
  kExpired,                   // the signer certificate had expired at the signing time
  kNotYetValid,               // the signer certificate was not yet valid at the signing time
  kChainConstraintsFailure,   // a path was found but violates a constraint (key usage, CA flag)
  kSignedDataNotFound,        // detached signature without its content
  kNoSigningCertificateFound, // the signer's certificate is not at hand, or is not the one the
                              // signing-certificate(-v2) attribute names
  kRevoked,                   // TOTAL-FAILED: a certificate of the path was revoked before the
                              // (proven) signing time
  kRevokedNoPoe,              // revoked after the claimed signing time, but nothing proves the
                              // signature existed before the revocation
  kTryLater,                  // revocation status could not be obtained (responder down, no CRL)
  kCryptoConstraintsFailure,  // an algorithm or key size was no longer allowed at the signing
                              // time (the algorithm catalogue)
  kCertificateChainGeneralFailure,  // revocation data unusable (bad signature, stale) or other
                                    // path trouble not covered above
};
std::string_view SubIndicationName(SubIndication s);  // "HASH_FAILURE"

struct SignatureReport {
  // VALID = TOTAL-PASSED, INVALID = TOTAL-FAILED (FORMAT, HASH, SIG_CRYPTO, EXPIRED,
  // NOT_YET_VALID), INDETERMINATE for the rest, as EN 319 102-1 sorts them.
  Verdict verdict = Verdict::kInvalid;
  SubIndication sub_indication = SubIndication::kNone;
  std::string reason;  // one sentence, empty when VALID
  std::string signer_subject;       // RFC 2253
  std::string signer_common_name;
  std::string signer_organization;
  std::optional<TimePoint> signing_time;
  std::string signing_time_source;  // "signing-time attribute (claimed)" or "validation time (none in signature)"
  // false only when a signature time-stamp (or a PDF document time-stamp)
  // proves the signing time; the claimed sources are flagged as such.
  bool signing_time_claimed = true;
  std::string digest_algorithm;     // "SHA-256"
  std::string signature_algorithm;  // "RSA", "ECDSA"
  std::string revocation;           // one line on how revocation was settled, e.g.
                                    // "OCSP good for every certificate (http://127.0.0.1:8080)"
  std::vector<std::string> warnings;  // what did not fail the signature but a reader should know
  // Validation material, all DER, kept with the package so later verification
  // needs no network: the signer certificate first, then its path up to and
  // including the anchor, then any other certificate used (signature
  // time-stamp TSA, OCSP responder); the CRLs and OCSP responses used.
  std::vector<Bytes> certificates;
  std::vector<Bytes> crls;
  std::vector<Bytes> ocsp_responses;
};

// Where revocation data comes from. Material carried by the signature (or the
// package) is always used first; then these local files; then, when online,
// the certificate's OCSP responder (AIA) and CRL distribution points over HTTP.
struct RevocationOptions {
  bool check = true;    // false: revocation is not checked (said so in SignatureReport::revocation)
  bool online = true;   // fetch OCSP / CRLs over HTTP (Boost.Beast)
  std::vector<Bytes> crls;            // DER
  std::vector<Bytes> ocsp_responses;  // DER
  std::chrono::milliseconds timeout{10000};  // per HTTP exchange
};

struct CmsValidationOptions {
  std::vector<Bytes> trust_anchors;  // DER
  std::vector<Bytes> intermediates;  // DER: a pool for path building, besides the signature's own
  const Clock* clock = nullptr;      // required: "now" when a signature has no signing time
  RevocationOptions revocation;
  // Trust anchors for signature time-stamps' TSAs; empty: `trust_anchors`.
  std::vector<Bytes> timestamp_trust_anchors;
  // Algorithm strength at the signing time (digest, signature algorithm, key
  // size); null: not checked.
  const timestamp::AlgorithmCatalogue* catalogue = nullptr;
};

struct CmsValidation {
  Verdict verdict = Verdict::kInvalid;  // the worst over the signers
  std::vector<SignatureReport> signers;
  std::optional<Bytes> encapsulated_content;  // the signed content of an enveloping signature
};

// Validates a CMS SignedData given as DER or PEM. For a detached signature pass
// the signed content; an enveloping one carries its own (passing content for it
// is an error). Fails (kInvalidArgument) only when the input is not a CMS
// SignedData or is truncated; every other problem is in the report.
Result<CmsValidation> ValidateCms(ByteView signature, std::optional<ByteView> detached_content,
                                  const CmsValidationOptions& options);

}  // namespace preserve::ingest
