// The inside of RevocationCache (revocation_cache.h): what revocation.cc asks
// of it. Internal to preserve_signature.
#pragma once

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "preserve/signature/revocation_cache.h"
#include "preserve/util/openssl_ptr.h"
#include "preserve/util/status.h"

namespace preserve::signature::internal {

// Clocks of CAs and responders drift; a few minutes ahead is not "the future".
inline constexpr std::chrono::minutes kClockSkew{5};
// RFC 6960 lets a response omit nextUpdate ("newer information is always
// available"); such a response, or CRL, counts as fresh for a day.
inline constexpr std::chrono::hours kMaxAgeWithoutNextUpdate{24};

// A CRL or an OCSP response as one fetch brought it, parsed once; shared,
// read-only, by every validation that uses it (OpenSSL locks what a shared
// X509_CRL sorts on first lookup).
struct FetchedData {
  std::string key;           // RevocationCache::Item::key
  Bytes der;                 // what a package keeps
  Bytes sha256;              // of der: with the issuer's key, what a CRL's signature check is memoised by
  X509CrlPtr crl;            // a CRL
  OcspResponsePtr response;  // an OCSP response
  // The request an OCSP response fetched by this process answered: its nonce
  // is checked by every validation that uses it. Null for a loaded item.
  OcspRequestPtr request;
  TimePoint fetched;
  // The window it may be reused in (see revocation_cache.h); unset when it
  // has none (an OCSP response that says nothing of the certificate, a time
  // that does not read): it is then never reused.
  std::optional<TimePoint> issued;
  std::optional<TimePoint> fresh_until;
  // Set by the first validation that finds it authentic: only then is it
  // worth keeping in the store.
  mutable std::atomic<bool> authentic{false};
};

// One fetch's outcome: the data, or why there is none.
using FetchOutcome = Result<std::shared_ptr<const FetchedData>>;

std::string CrlKey(const std::string& url);
// "ocsp URL CERTID"; empty when the CertID cannot be made.
std::string OcspKey(const std::string& url, X509* cert, X509* issuer);

// Parses a fetched CRL (DER, or PEM as some servers publish) into data under
// `key`; kCorruption "`what` is not a CRL" when it is not one.
Result<std::shared_ptr<FetchedData>> CrlData(const std::string& key, ByteView body, TimePoint fetched,
                                             const std::string& what);
// Parses a fetched OCSP response into data under `key` (whose CertID sets the
// reuse window); kCorruption "`what` is not a DER OCSP response".
Result<std::shared_ptr<FetchedData>> OcspData(const std::string& key, ByteView body, TimePoint fetched,
                                              const std::string& what);

class RevocationCacheImpl {
 public:
  // The data under `key` reusable at `now`; else the outcome of a fetch: the
  // one another thread has in flight for `key`, waited for, or `fetch` run on
  // this thread. A fetched item reusable at `now` replaces what `key` held.
  FetchOutcome Get(const std::string& key, TimePoint now, std::chrono::seconds ocsp_max_age,
                   const std::function<FetchOutcome()>& fetch);

  // Whether `data`'s CRL is signed with the key of `issuer`: X509_CRL_verify,
  // or its earlier outcome for the same CRL bytes and issuer key.
  bool VerifyCrl(const FetchedData& data, X509* issuer);

  bool Add(const RevocationCache::Item& item, TimePoint now, std::chrono::seconds ocsp_max_age);
  std::vector<RevocationCache::Item> TakeNew(TimePoint now, std::chrono::seconds ocsp_max_age);
  RevocationCache::Stats stats() const;

 private:
  static bool Reusable(const FetchedData& data, TimePoint now, std::chrono::seconds ocsp_max_age);

  // Bounds, against hostile certificates naming endless distinct URLs.
  static constexpr std::size_t kCapacity = 4096;
  static constexpr std::size_t kCapacityBytes = 256u << 20;  // of DER: a few national CAs' CRLs
  static constexpr std::size_t kVerdictCapacity = 4096;

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const FetchedData>> held_;
  std::size_t held_bytes_ = 0;
  std::map<std::string, std::shared_future<FetchOutcome>> in_flight_;
  std::map<std::string, std::shared_ptr<const FetchedData>> new_;  // fetched, not yet taken (TakeNew)
  // CRL SHA-256 + issuer SubjectPublicKeyInfo DER -> whether it verified.
  std::unordered_map<std::string, bool> crl_verdicts_;
  RevocationCache::Stats stats_;
};

struct RevocationCacheAccess {
  static RevocationCacheImpl& Of(RevocationCache& cache) { return *cache.impl_; }
};

}  // namespace preserve::signature::internal
