// The trust material of CmsValidationOptions parsed once (PrepareTrust), for
// many validations. Internal to preserve_ingest; the public header only
// declares the type.
//
// Thread-safety: shared by every thread validating with the same options.
// Immutable once built but for its caches of parsed certificates and of
// verified certificate signatures, each with its own lock; OpenSSL takes its
// own locks where a shared X509, X509_CRL or X509_STORE caches something on
// first use (extension flags, store lookups).
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "path_verification.h"
#include "preserve/signature/signature_validation.h"
#include "preserve/util/openssl_ptr.h"

namespace preserve::signature {

namespace internal {

// A CRL the caller gave (RevocationOptions::crls).
struct LocalCrl {
  X509CrlPtr crl;
  Bytes der;  // re-encoded, as a CRL met elsewhere: what a package keeps when this one settles a status
  // The trust anchors and pool certificates whose key verifies this CRL's
  // signature, found once: for an issuer that is one of them (same DER) the
  // signature need not be verified again for every document.
  X509StackPtr verified_by;
};

// An OCSP response the caller gave (RevocationOptions::ocsp_responses).
struct LocalOcspResponse {
  OcspResponsePtr response;
  Bytes der;  // as given, kept in the package as it is for any response
};

// Certificates parsed before, by their DER. A signature carries its signer's
// certificate and often its CA's, the same ones from one document to the
// next; parsing one decodes its public key, which in OpenSSL 3.0 costs more
// than verifying a signature with it. A parsed certificate depends on its DER
// alone, so one object can serve every signature carrying those bytes.
class CertificateCache {
 public:
  // The certificate parsed from `der` (a new reference), or null.
  X509Ptr Find(ByteView der) const {
    std::lock_guard lock(mutex_);
    auto it = certificates_.find(ToString(der));
    if (it == certificates_.end()) return nullptr;
    X509_up_ref(it->second.get());
    return X509Ptr(it->second.get());
  }

  // Keeps `cert`, parsed from `der`, unless the cache is full. Submissions
  // are untrusted: the bound is on bytes as well as on count, so that huge
  // certificates cannot make it hold much memory.
  void Add(ByteView der, X509* cert) {
    std::lock_guard lock(mutex_);
    if (certificates_.size() >= kCapacity || bytes_ + der.size() > kCapacityBytes ||
        certificates_.count(ToString(der)) != 0)
      return;
    X509_up_ref(cert);
    certificates_.emplace(ToString(der), X509Ptr(cert));
    bytes_ += der.size();
  }

 private:
  // The signers of a bulk ingest and their CAs: a few MB at most.
  static constexpr std::size_t kCapacity = 4096;
  static constexpr std::size_t kCapacityBytes = 8u << 20;  // of DER; parsed, about twice that
  mutable std::mutex mutex_;
  std::unordered_map<std::string, X509Ptr> certificates_;
  std::size_t bytes_ = 0;
};

}  // namespace internal

class PreparedTrust {
 public:
  X509StorePtr anchors;                           // CmsValidationOptions::trust_anchors
  std::size_t anchor_count = 0;                   // how many: X509_STORE does not say
  X509StackPtr intermediates;                     // CmsValidationOptions::intermediates
  std::vector<internal::LocalCrl> crls;           // RevocationOptions::crls, in order
  std::vector<internal::LocalOcspResponse> ocsp;  // RevocationOptions::ocsp_responses, in order
  // The certificates signatures carried, for the signatures after them.
  mutable internal::CertificateCache certificates;
  // The certificate signatures paths were found to have, for the paths after them.
  mutable internal::VerifiedSignatures signatures;
};

}  // namespace preserve::signature
