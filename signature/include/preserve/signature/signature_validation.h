// Validating CMS/CAdES signatures (detached and enveloping) with OpenSSL.
//
// Each signer is judged as ETSI EN 319 102-1 would: its content digest, its
// signature value, and its certificate path to a configured trust anchor *at
// the signing time*. The result is a report per signer, with an indication
// and sub-indication and a sentence a records officer can act on, plus the
// certificates used (the validation material kept with the package).
// A signature that fails is an expected outcome, reported, not an error; only
// input that is not CMS at all (or is truncated) is an error Status.
//
// The signing time is, in this order: the earliest valid signature time-stamp
// (CAdES-T, id-aa-signatureTimeStampToken), proven; the signing-time attribute,
// claimed; the validation time. A signature time-stamp that does not verify is
// left aside with a warning, as EN 319 102-1 5.5 drops such tokens from the set
// it takes the best-signature-time from; the signature is then judged on its
// claimed time.
//
// Per signer the checks run in EN 319 102-1's order and the first failure is
// reported: format, content digest, signature value, signing-certificate
// binding, path at the signing time, algorithm strength at the signing time
// (options.catalogue), revocation of every certificate of the path but the
// anchor (options.revocation). Revocation is fetched over plain HTTP only when
// options.revocation.online is set; with it, one call may block for up to
// options.revocation.timeout per responder or distribution point asked.
//
// Thread-safety: ValidateCms and ValidateCmsDetached may be called concurrently with distinct options.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"
#include "preserve/util/content_stream.h"
#include "preserve/util/digest.h"
#include "preserve/util/verdict.h"

namespace preserve::policy {
class AlgorithmCatalogue;
}

namespace preserve::signature {

class RevocationCache;  // revocation_cache.h

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
  kRevoked,                   // TOTAL-FAILED: the signer's certificate was revoked at or before
                              // the signing time the signature itself claims
  kRevokedNoPoe,              // the signer's certificate was revoked, but neither the claimed
                              // time (after it) nor a time-stamp (before it) settles which came first
  kRevokedCaNoPoe,            // a CA certificate of the path was revoked, and no signature
                              // time-stamp proves the signature existed before that
  kTryLater,                  // revocation status could not be obtained (responder down or
                              // "unknown", no CRL, only stale or unverifiable data, on hold)
  kCryptoConstraintsFailure,  // an algorithm or key size was no longer allowed at the signing
                              // time (the algorithm catalogue)
  kCertificateChainGeneralFailure,  // path trouble not covered above (revocation data that is
                                    // stale or does not verify is set aside: TRY_LATER)
};
std::string_view SubIndicationName(SubIndication s);  // "HASH_FAILURE"
// EN 319 102-1's indication for a sub-indication: TOTAL-FAILED (kInvalid) for
// FORMAT_FAILURE, HASH_FAILURE, SIG_CRYPTO_FAILURE, EXPIRED, NOT_YET_VALID and
// REVOKED, which prove the signature wrong; INDETERMINATE for the others,
// which only mean validity could not be established; kValid for kNone.
Verdict VerdictFor(SubIndication s);

struct SignatureReport {
  // VALID = TOTAL-PASSED, INVALID = TOTAL-FAILED (FORMAT, HASH, SIG_CRYPTO, EXPIRED,
  // NOT_YET_VALID, REVOKED), INDETERMINATE for the rest, as EN 319 102-1 sorts them.
  Verdict verdict = Verdict::kInvalid;
  SubIndication sub_indication = SubIndication::kNone;
  std::string reason;  // one sentence, empty when VALID
  std::string signer_subject;       // RFC 2253
  std::string signer_common_name;
  std::string signer_organization;
  std::optional<TimePoint> signing_time;
  // "signature time-stamp (TSA: CN=...)", "signing-time attribute (claimed)" or
  // "validation time (none in signature)".
  std::string signing_time_source;
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
  std::vector<Bytes> ocsp_responses;  // DER OCSPResponse
  std::chrono::milliseconds timeout{10000};  // per HTTP exchange
  // Online answers kept and reused while fresh, by every validation given the
  // same cache (revocation_cache.h); null: each validation fetches its own.
  std::shared_ptr<RevocationCache> cache;
  // How long after it was fetched (validation time) a cached OCSP response
  // may still be reused, within its own nextUpdate. CRLs are reused until
  // their nextUpdate. 0: an OCSP response is not reused (validations that
  // wait for the same request in flight still share its answer).
  std::chrono::seconds ocsp_max_age{3600};
};

// The trust anchors, intermediates and local revocation data of
// CmsValidationOptions, parsed once by PrepareTrust. Opaque; may be shared
// by threads.
class PreparedTrust;

struct CmsValidationOptions {
  std::vector<Bytes> trust_anchors;  // DER
  std::vector<Bytes> intermediates;  // DER: a pool for path building, besides the signature's own
  const Clock* clock = nullptr;      // "now" (when a signature has no signing time); required unless validation_time
  // Validation as of this time instead of `clock`'s now: an auditor judges a
  // signature as of the first archive time-stamp.
  std::optional<TimePoint> validation_time;
  RevocationOptions revocation;
  // Trust anchors for signature time-stamps' TSAs; empty: `trust_anchors`.
  std::vector<Bytes> timestamp_trust_anchors;
  // Algorithm strength at the signing time: the signer's digest and signature
  // algorithm with its key size, and each certificate signature of the path
  // below the anchor, must not have ended (for new signatures) by then, else
  // CRYPTO_CONSTRAINTS_FAILURE. Null: not checked. Must outlive the call.
  const policy::AlgorithmCatalogue* catalogue = nullptr;
  // trust_anchors, intermediates, revocation.crls and revocation.ocsp_responses
  // parsed once, set by PrepareTrust. Null: each call parses them itself.
  std::shared_ptr<const PreparedTrust> prepared;
};

// Parses options.trust_anchors, options.intermediates and the local CRLs and
// OCSP responses of options.revocation, checks which of the given certificates
// sign each local CRL, and sets options.prepared: the calls that validate many
// signatures with these options (and with copies of them, on any thread) then
// neither parse that material nor check those CRL signatures again for each,
// parse a certificate that signatures carry only the first time it comes
// (4096 at most are kept), and verify a certificate's signature in a path
// only the first time it is met with the same bytes under the same issuer
// key (4096 at most; validity periods and revocation are still judged for
// every signature). Prepare again after changing any of those four
// vectors (ValidateCms fails with kInvalidArgument when their sizes no longer
// match). Fails (kInvalidArgument) as ValidateCms would when an item is not DER
// of its kind; options.prepared is then left as it was.
Status PrepareTrust(CmsValidationOptions& options);

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

// A digest of the detached content that the caller computes anyway while its
// ContentSource pushes the content (the content's address in a store, say),
// so that the content is hashed once, not once for the caller and once more
// for the signature. `value` is called once the content was pushed; its error
// is ValidateCmsDetached's.
struct CallerContentDigest {
  HashAlgorithm algorithm;
  std::function<Result<Bytes>()> value;
};

// ValidateCms for a detached signature whose content comes from `content`
// piece by piece (a file, the store), so content of any size is never held
// in memory; the same verdicts as ValidateCms over the same bytes. Fails as
// ValidateCms does, with kInvalidArgument for an enveloping signature, and
// with `content`'s own error when reading it fails.
//
// With `caller_digest`, when every signer uses its algorithm and has signed
// attributes (whose messageDigest is then compared with it), the content is
// not hashed here at all; otherwise it is, as without (a signer without
// signed attributes signs the content's digest itself, which OpenSSL checks
// over the content).
Result<CmsValidation> ValidateCmsDetached(ByteView signature, const ContentSource& content,
                                          const CmsValidationOptions& options,
                                          const CallerContentDigest* caller_digest = nullptr);

}  // namespace preserve::signature
