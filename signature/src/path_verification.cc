#include "path_verification.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <ctime>

namespace preserve::signature::internal {

namespace {

// Appends the DER of `obj` to `out`; false when it has none.
template <typename T>
bool AppendDer(std::string& out, int (*i2d)(const T*, unsigned char**), const T* obj) {
  const int length = i2d(obj, nullptr);
  if (length <= 0) return false;
  const std::size_t at = out.size();
  out.resize(at + static_cast<std::size_t>(length));
  auto* p = reinterpret_cast<unsigned char*>(out.data() + at);
  return i2d(obj, &p) == length;
}

// What a verification of `cert`'s signature with `issuer`'s key depends on;
// empty when either cannot be encoded (the verification is then not kept).
std::string EntryFor(X509* cert, X509* issuer) {
  std::string entry(8, '\0');
  if (!AppendDer(entry, i2d_X509, cert)) return "";
  // The certificate's length first: no certificate and key can make the
  // entry of another pair.
  std::uint64_t length = entry.size() - 8;
  for (int i = 7; i >= 0; --i, length >>= 8) entry[static_cast<std::size_t>(i)] = static_cast<char>(length & 0xff);
  if (!AppendDer(entry, i2d_X509_PUBKEY, static_cast<const X509_PUBKEY*>(X509_get_X509_PUBKEY(issuer)))) return "";
  return entry;
}

// OpenSSL's verify_cb_cert: `cert` at `depth` fails with `error`; true when
// the verify callback carries on regardless.
bool Fails(X509_STORE_CTX* ctx, X509* cert, int depth, int error) {
  X509_STORE_CTX_set_error_depth(ctx, depth);
  X509_STORE_CTX_set_current_cert(ctx, cert);
  X509_STORE_CTX_set_error(ctx, error);
  return X509_STORE_CTX_get_verify_cb(ctx)(0, ctx) == 0;
}

// RFC 5280 6.1.4 (n), as OpenSSL checks it before a certificate signature:
// an issuer key usage, when there is one, must allow signing certificates
// (digitalSignature, for a proxy certificate).
int IssuerKeyUsageError(X509* issuer, X509* subject) {
  if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) == 0) return X509_V_OK;
  const bool proxy = (X509_get_extension_flags(subject) & EXFLAG_PROXY) != 0;
  if ((X509_get_key_usage(issuer) & (proxy ? KU_DIGITAL_SIGNATURE : KU_KEY_CERT_SIGN)) != 0) return X509_V_OK;
  return proxy ? X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE : X509_V_ERR_KEYUSAGE_NO_CERTSIGN;
}

int VerifySignaturesAndTimes(X509_STORE_CTX* ctx) {
  auto* verified = static_cast<VerifiedSignatures*>(X509_STORE_CTX_get_app_data(ctx));
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  const unsigned long flags = X509_VERIFY_PARAM_get_flags(param);
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx);
  const int top = sk_X509_num(chain) - 1;
  if (verified == nullptr || top < 0 || (flags & X509_V_FLAG_PARTIAL_CHAIN) == 0 ||
      (flags & X509_V_FLAG_USE_CHECK_TIME) == 0 || (flags & X509_V_FLAG_CHECK_SS_SIGNATURE) != 0) {
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_UNSPECIFIED);
    return 0;
  }
  std::time_t at = X509_VERIFY_PARAM_get_time(param);  // X509_cmp_time takes it non-const
  for (int depth = top; depth >= 0; --depth) {
    X509* subject = sk_X509_value(chain, depth);
    // The top certificate is an anchor as given: OpenSSL checks no signature
    // of it either (X509_V_FLAG_CHECK_SS_SIGNATURE, refused above, would).
    if (depth < top) {
      X509* issuer = sk_X509_value(chain, depth + 1);
      const int usage = IssuerKeyUsageError(issuer, subject);
      if (usage != X509_V_OK && Fails(ctx, issuer, depth + 1, usage)) return 0;
      if (X509_get0_pubkey(issuer) == nullptr) {
        if (Fails(ctx, issuer, depth + 1, X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY)) return 0;
      } else if (!verified->Verify(subject, issuer) && Fails(ctx, subject, depth, X509_V_ERR_CERT_SIGNATURE_FAILURE)) {
        return 0;
      }
    }
    // Validity at the verification time, for every certificate: 0 from
    // X509_cmp_time is a malformed time.
    int cmp = X509_cmp_time(X509_get0_notBefore(subject), &at);
    if (cmp == 0 && Fails(ctx, subject, depth, X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD)) return 0;
    if (cmp > 0 && Fails(ctx, subject, depth, X509_V_ERR_CERT_NOT_YET_VALID)) return 0;
    cmp = X509_cmp_time(X509_get0_notAfter(subject), &at);
    if (cmp == 0 && Fails(ctx, subject, depth, X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD)) return 0;
    if (cmp < 0 && Fails(ctx, subject, depth, X509_V_ERR_CERT_HAS_EXPIRED)) return 0;
    // Success at this depth; an earlier error the callback let pass stays.
    X509_STORE_CTX_set_current_cert(ctx, subject);
    X509_STORE_CTX_set_error_depth(ctx, depth);
    if (X509_STORE_CTX_get_verify_cb(ctx)(1, ctx) == 0) return 0;
  }
  return 1;
}

}  // namespace

bool VerifiedSignatures::Verify(X509* cert, X509* issuer) {
  const std::string entry = EntryFor(cert, issuer);
  if (!entry.empty()) {
    std::lock_guard lock(mutex_);
    if (verified_.count(entry) != 0) return true;
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr || X509_verify(cert, key) != 1) {
    ERR_clear_error();
    return false;
  }
  if (entry.empty()) return true;
  std::lock_guard lock(mutex_);
  if (verified_.size() < kCapacity && bytes_ + entry.size() <= kCapacityBytes && verified_.insert(entry).second)
    bytes_ += entry.size();
  return true;
}

std::size_t VerifiedSignatures::size() const {
  std::lock_guard lock(mutex_);
  return verified_.size();
}

bool UseVerifiedSignatures(X509_STORE_CTX* ctx, VerifiedSignatures& verified) {
  if (X509_STORE_CTX_set_app_data(ctx, &verified) != 1) return false;
  X509_STORE_CTX_set_verify(ctx, VerifySignaturesAndTimes);
  return true;
}

}  // namespace preserve::signature::internal
