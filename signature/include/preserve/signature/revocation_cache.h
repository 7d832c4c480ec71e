// Revocation data fetched online, reused while fresh (issue 15).
//
// A bulk ingest validates thousands of signatures under a few CAs: without a
// cache every certificate's CRL distribution point is fetched again for every
// document. Given to validation through RevocationOptions::cache, this object
// keeps what the online sources answered (a CRL per distribution point URL,
// an OCSP response per responder URL and certificate) and lends it to every
// later validation that would ask the same source, while it is fresh as of
// that validation's time:
//   a CRL          from its thisUpdate (less a few minutes of clock skew) to its
//                  nextUpdate (thisUpdate plus a day when it has none);
//   an OCSP answer the same window of its single response about the
//                  certificate, and no longer than RevocationOptions::
//                  ocsp_max_age after the validation time it was fetched at.
// Data that is not fresh when it comes is handed to the validations that
// waited for it but not kept: the next one asks again. Failures (a server
// down, garbage) are not kept either.
//
// A cached item is evidence like any other: every validation that uses one
// still checks, as for a fresh download, that it is signed by the
// certificate's issuer (or its authorized responder), covers the certificate
// and is fresh at its own validation time; the material goes into that
// signature's report (and so into its package) as if it had been fetched for
// it. Only a CRL's signature check is memoised, by the CRL's SHA-256 and the
// issuer's public key, so a CRL is verified once per issuer key, not once per
// document. An OCSP response reused from the cache carries the nonce of the
// request it answered, not of a new one: it is accepted as a response given
// locally is (RFC 6960 makes nonces optional; freshness is what counts), which
// ocsp_max_age bounds.
//
// One fetch per source at a time: validations that need a source being
// fetched by another thread wait for that fetch and use its outcome.
//
// Between runs the archive keeps the items in its store (Items, Add): a run
// within a CRL's validity then fetches nothing. Only items a validation found
// authentic are offered for keeping.
//
// Thread-safety: every member may be called from any thread at any time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"

namespace preserve::signature {

namespace internal {
class RevocationCacheImpl;
struct RevocationCacheAccess;
}  // namespace internal

class RevocationCache {
 public:
  // One item as it is kept between runs.
  struct Item {
    // What it answers: "crl URL", or "ocsp URL CERTID" with the hex DER of the
    // request's CertID (SHA-1, RFC 5019), which names issuer and serial.
    std::string key;
    Bytes der;         // the CRL (DER, re-encoded if it came as PEM) or the OCSPResponse as fetched
    TimePoint fetched;  // the validation time it was fetched at (ocsp_max_age counts from it)
  };

  struct Stats {
    std::uint64_t fetches = 0;  // sources asked over the network
    std::uint64_t reused = 0;   // answers lent from the cache instead
    std::uint64_t waited = 0;   // answers taken from another thread's fetch, waited for
    std::uint64_t crl_signature_checks = 0;  // CRL signatures verified (the rest were memoised)
  };

  RevocationCache();
  ~RevocationCache();
  RevocationCache(const RevocationCache&) = delete;
  RevocationCache& operator=(const RevocationCache&) = delete;

  // Takes an item an earlier run kept, replacing any held under its key.
  // False, with nothing taken, when its key or DER does not read, or when it
  // would not be reused at `now` (past its nextUpdate, or an OCSP response
  // fetched more than `ocsp_max_age` before): the caller may drop it.
  bool Add(const Item& item, TimePoint now, std::chrono::seconds ocsp_max_age);

  // The items fetched since the last call that a validation found authentic
  // and that would still be reused at `now`: what is worth keeping. Each
  // item is handed out once.
  std::vector<Item> TakeNew(TimePoint now, std::chrono::seconds ocsp_max_age);

  Stats stats() const;

 private:
  friend struct internal::RevocationCacheAccess;
  std::unique_ptr<internal::RevocationCacheImpl> impl_;
};

}  // namespace preserve::signature
