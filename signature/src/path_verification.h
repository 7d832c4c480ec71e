// The signature and validity checks of X509_verify_cert, with the certificate
// signatures that verified once remembered. Internal to preserve_ingest.
//
// A bulk ingest validates thousands of signatures from a few signers under a
// few CAs: OpenSSL verifies every certificate signature of every path again
// (an ECDSA or RSA verification each, most of the cost of validating a small
// document). X509_verify's outcome depends on the certificate's DER (the signed
// TBSCertificate, both signature algorithm fields and the signature value are
// all in it) and on the issuer's public key alone, so a verification that
// succeeded answers for exactly those bytes and no others: any other
// certificate or key, a tampered copy included, is verified afresh. What
// depends on the validation (validity periods at the signing time, key usage,
// revocation) is checked every time.
//
// Thread-safety: VerifiedSignatures may be shared by threads (its own lock).
#pragma once

#include <openssl/x509_vfy.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_set>

namespace preserve::signature::internal {

class VerifiedSignatures {
 public:
  // Whether the signature of `cert` verifies with the public key of `issuer`:
  // a verification with the same certificate DER and issuer key that
  // succeeded before, or X509_verify now (kept when it succeeds, unless the
  // cache is full). False too when `issuer` has no usable key.
  bool Verify(X509* cert, X509* issuer);

  std::size_t size() const;  // verifications kept

 private:
  // Submissions are untrusted: the bound is on bytes as well as on count.
  static constexpr std::size_t kCapacity = 4096;
  static constexpr std::size_t kCapacityBytes = 8u << 20;
  mutable std::mutex mutex_;
  // The certificate's DER (after its length, 8 bytes) and the issuer's
  // SubjectPublicKeyInfo DER.
  std::unordered_set<std::string> verified_;
  std::size_t bytes_ = 0;
};

// Uses `verified` for the certificate signatures of the paths `ctx` validates
// (X509_STORE_CTX_set_verify), instead of OpenSSL's own internal_verify, which
// it otherwise follows check for check (OpenSSL 3.0: issuer key usage, issuer
// key, signature, then validity at the verification time, from the top of the
// path down; each failure reported at its depth through the verify callback,
// which is not told the current issuer). Requires what preserve's path
// validation sets: an explicit verification time and X509_V_FLAG_PARTIAL_CHAIN
// (the top certificate is an anchor as given, its own signature unchecked);
// without them the path fails (X509_V_ERR_UNSPECIFIED). `verified` must
// outlive `ctx`. False when `ctx` cannot take it.
bool UseVerifiedSignatures(X509_STORE_CTX* ctx, VerifiedSignatures& verified);

}  // namespace preserve::signature::internal
