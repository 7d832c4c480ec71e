// Revocation status of a validated certificate path: RFC 5280 CRLs and RFC
// 6960 OCSP, judged as ETSI EN 319 102-1 does. Internal to preserve_ingest.
//
// For every certificate of the path but the trust anchor, the sources are
// asked in order until one settles its status: the CRLs carried by the
// signature, the caller's local CRLs and OCSP responses, then (online) the
// OCSP responders its AIA names and the CRLs its distribution points name,
// over plain HTTP. Every answer is checked before it counts: a CRL must be
// signed by the certificate's issuer (for a local CRL and an issuer among the
// anchors and pool, checked once, when the options were prepared) and cover
// it; an OCSP response must be signed by the issuer or by a responder the
// issuer certified with id-kp-OCSPSigning, cover the certificate's serial,
// and carry the request's nonce when it was asked online. "Good" needs fresh
// data (thisUpdate not in the future; nextUpdate, or without one thisUpdate
// within a day, not before the validation time); "revoked" counts from any
// authentic data, stale or not, since a revocation is final. A
// certificateHold is not final: it gives TRY_LATER.
//
// With options->cache (revocation_cache.h), an online source is asked only
// when the cache holds nothing fresh from it, and once for all the threads
// that need it at the same time; what it lends is checked as above for every
// certificate, only a CRL's signature check being memoised.
#pragma once

#include <openssl/x509.h>

#include <optional>
#include <string>
#include <vector>

#include "prepared_trust.h"
#include "preserve/signature/signature_validation.h"

namespace preserve::signature::internal {

struct RevocationInput {
  STACK_OF(X509) * path = nullptr;  // signer first, the trust anchor last (X509_STORE_CTX_get1_chain)
  STACK_OF(X509_CRL) * carried_crls = nullptr;  // the signature's RevocationInfoChoices; may be null
  const PreparedTrust* local = nullptr;          // options->crls and ocsp_responses, parsed
  const RevocationOptions* options = nullptr;
  TimePoint now;                     // the validation time: what freshness is judged against
  std::optional<TimePoint> claimed;  // the signing-time attribute
  std::optional<TimePoint> proven;   // the signature time-stamp's genTime
};

struct RevocationOutcome {
  SubIndication sub_indication = SubIndication::kNone;  // kNone: no certificate is in the way
  std::string reason;                                   // one sentence when it is
  std::string summary;                                  // SignatureReport::revocation
  std::vector<std::string> warnings;
  // The material that settled each status (DER), for the package.
  std::vector<Bytes> crls;
  std::vector<Bytes> ocsp_responses;
  std::vector<Bytes> certificates;  // OCSP responder certificates
};

RevocationOutcome CheckRevocation(const RevocationInput& input);

// Shared with signature_validation.cc.
std::optional<TimePoint> Asn1TimeToTimePoint(const ASN1_TIME* t);  // nullopt when unreadable
std::string SubjectText(X509* cert);  // RFC 2253, UTF-8 unescaped; "" when unprintable

}  // namespace preserve::signature::internal
