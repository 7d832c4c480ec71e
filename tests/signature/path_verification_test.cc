// The certificate signatures path validation remembers (ingest/src/
// path_verification.h): a verification is reused only for the very same
// certificate bytes and issuer key, so a tampered certificate is rejected
// after its genuine original was verified; paths come out as OpenSSL's own
// verification judges them; and validity is judged at each validation's time.
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <ctime>
#include <string>

#include <gtest/gtest.h>

#include "path_verification.h"
#include "preserve/signature/signature_validation.h"
#include "preserve/util/openssl_ptr.h"
#include "testing.h"

namespace preserve::signature {
namespace {

using internal::UseVerifiedSignatures;
using internal::VerifiedSignatures;
using preserve::testing::PkiCertificate;
using preserve::testing::SignedFixture;

X509Ptr Parse(const Bytes& der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_NE(cert, nullptr);
  return cert;
}

// `cert` with the last byte of its signature value changed: the same
// TBSCertificate, a signature that no longer verifies.
Bytes WithDamagedSignature(Bytes cert) {
  cert.back() ^= 0x01;
  return cert;
}

// `cert` with the last digit of its notAfter changed: a TBSCertificate its
// issuer never signed, under the original signature.
Bytes WithChangedNotAfter(const Bytes& cert) {
  X509Ptr parsed = Parse(cert);
  const ASN1_TIME* not_after = X509_get0_notAfter(parsed.get());
  const unsigned char* text = ASN1_STRING_get0_data(not_after);
  auto at = std::search(cert.begin(), cert.end(), text, text + ASN1_STRING_length(not_after));
  EXPECT_NE(at, cert.end());
  Bytes changed = cert;
  const auto offset =
      static_cast<std::size_t>(at - cert.begin()) + static_cast<std::size_t>(ASN1_STRING_length(not_after)) - 2;
  changed[offset] = changed[offset] == '0' ? '1' : '0';  // the last digit of the seconds, before the 'Z'
  return changed;
}

// `haystack` with `needle` (which it holds) replaced by `replacement` of the same size.
Bytes Replaced(const Bytes& haystack, const Bytes& needle, const Bytes& replacement) {
  auto at = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end());
  EXPECT_NE(at, haystack.end());
  EXPECT_EQ(needle.size(), replacement.size());
  Bytes out = haystack;
  std::copy(replacement.begin(), replacement.end(), out.begin() + (at - haystack.begin()));
  return out;
}

TEST(VerifiedSignatures, KeepsAVerificationForTheSameCertificateAndKeyOnly) {
  const Bytes signer_der = PkiCertificate("signer-rsa");
  X509Ptr signer = Parse(signer_der);
  X509Ptr issuer = Parse(PkiCertificate("issuing-ca"));
  X509Ptr other_key = Parse(PkiCertificate("untrusted-root-ca"));
  X509Ptr damaged = Parse(WithDamagedSignature(signer_der));
  X509Ptr changed = Parse(WithChangedNotAfter(signer_der));
  VerifiedSignatures verified;

  EXPECT_TRUE(verified.Verify(signer.get(), issuer.get()));
  EXPECT_EQ(verified.size(), 1u);
  EXPECT_TRUE(verified.Verify(signer.get(), issuer.get()));  // from the cache
  EXPECT_EQ(verified.size(), 1u);
  // The good one is kept; none of these is the same certificate and key.
  for (int round = 0; round < 2; ++round) {
    EXPECT_FALSE(verified.Verify(damaged.get(), issuer.get())) << round;
    EXPECT_FALSE(verified.Verify(changed.get(), issuer.get())) << round;
    EXPECT_FALSE(verified.Verify(signer.get(), other_key.get())) << round;
  }
  EXPECT_EQ(verified.size(), 1u);  // failures are not kept
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(VerifiedSignatures, ACertificateParsedAgainFromTheSameBytesIsTheSameEntry) {
  X509Ptr issuer = Parse(PkiCertificate("issuing-ca"));
  VerifiedSignatures verified;
  EXPECT_TRUE(verified.Verify(Parse(PkiCertificate("signer-rsa")).get(), issuer.get()));
  EXPECT_TRUE(verified.Verify(Parse(PkiCertificate("signer-rsa")).get(), issuer.get()));
  EXPECT_TRUE(verified.Verify(Parse(PkiCertificate("signer-ec")).get(), issuer.get()));
  EXPECT_EQ(verified.size(), 2u);
}

// What X509_verify_cert says about a path: its result, error, depth and the
// certificate it names.
std::string PathOutcome(const Bytes& leaf, const std::vector<Bytes>& untrusted, std::time_t at,
                        VerifiedSignatures* verified) {
  X509StorePtr anchors(X509_STORE_new());
  X509Ptr root = Parse(PkiCertificate("root-ca"));
  EXPECT_EQ(X509_STORE_add_cert(anchors.get(), root.get()), 1);
  X509StackPtr pool(sk_X509_new_null());
  for (const Bytes& der : untrusted) EXPECT_GT(sk_X509_push(pool.get(), Parse(der).release()), 0);
  X509Ptr cert = Parse(leaf);
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  EXPECT_EQ(X509_STORE_CTX_init(ctx.get(), anchors.get(), cert.get(), pool.get()), 1);
  if (verified != nullptr) {
    EXPECT_TRUE(UseVerifiedSignatures(ctx.get(), *verified));
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, at);
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_ANY);
  const int ok = X509_verify_cert(ctx.get());
  ERR_clear_error();
  X509* current = X509_STORE_CTX_get_current_cert(ctx.get());
  char name[256] = "-";
  if (current != nullptr) X509_NAME_oneline(X509_get_subject_name(current), name, sizeof name);
  return std::to_string(ok) + " " + X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())) + " at " +
         std::to_string(X509_STORE_CTX_get_error_depth(ctx.get())) + " " + name;
}

TEST(UseVerifiedSignatures, JudgesPathsAsOpenSslDoes) {
  const Bytes signer = PkiCertificate("signer-rsa");
  const Bytes issuing = PkiCertificate("issuing-ca");
  const std::time_t now = std::time(nullptr);
  const std::time_t long_ago = 0;            // 1970: before every certificate
  const std::time_t far_ahead = 7258118400;  // 2200: after every certificate
  struct Case {
    const char* what;
    Bytes leaf;
    std::vector<Bytes> untrusted;
    std::time_t at;
  };
  const std::vector<Case> cases = {
      {"good", signer, {issuing}, now},
      {"not yet valid", signer, {issuing}, long_ago},
      {"expired", signer, {issuing}, far_ahead},
      {"expired signer", PkiCertificate("signer-expired"), {issuing}, now},
      {"damaged signer signature", WithDamagedSignature(signer), {issuing}, now},
      {"changed signer", WithChangedNotAfter(signer), {issuing}, now},
      {"damaged CA signature", signer, {WithDamagedSignature(issuing)}, now},
      {"no path", PkiCertificate("signer-untrusted"), {issuing}, now},
      {"anchor itself", PkiCertificate("root-ca"), {}, now},
  };
  VerifiedSignatures verified;
  for (int round = 0; round < 2; ++round) {  // the second time with the good signatures cached
    for (const Case& c : cases) {
      EXPECT_EQ(PathOutcome(c.leaf, c.untrusted, c.at, &verified), PathOutcome(c.leaf, c.untrusted, c.at, nullptr))
          << c.what << ", round " << round;
    }
  }
  // Kept: the issuing CA's signature by the root, and the signatures of
  // signer-rsa and signer-expired by the issuing CA (expiry is no part of it).
  EXPECT_EQ(verified.size(), 3u);
}

TEST(UseVerifiedSignatures, RefusesAPathValidatedWithoutAnExplicitTime) {
  X509StorePtr anchors(X509_STORE_new());
  X509Ptr root = Parse(PkiCertificate("root-ca"));
  ASSERT_EQ(X509_STORE_add_cert(anchors.get(), root.get()), 1);
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  ASSERT_EQ(X509_STORE_CTX_init(ctx.get(), anchors.get(), root.get(), nullptr), 1);
  VerifiedSignatures verified;
  ASSERT_TRUE(UseVerifiedSignatures(ctx.get(), verified));
  X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx.get()), X509_V_FLAG_PARTIAL_CHAIN);
  EXPECT_NE(X509_verify_cert(ctx.get()), 1);
  ERR_clear_error();
  EXPECT_EQ(X509_STORE_CTX_get_error(ctx.get()), X509_V_ERR_UNSPECIFIED);
}

class CachedPathValidationTest : public ::testing::Test {
 protected:
  CachedPathValidationTest() : clock_(SystemClock().Now()) {
    options_.trust_anchors = {PkiCertificate("root-ca")};
    options_.clock = &clock_;
    options_.revocation.check = false;
    unprepared_ = options_;
    EXPECT_TRUE(PrepareTrust(options_).ok());
  }

  // No signed attributes: no signing-certificate attribute that would refuse
  // a changed certificate before its path is validated, and the path is
  // judged at the validation time (the clock).
  static Bytes Signature() { return SignedFixture("letter-no-attributes.txt.p7s"); }

  static std::string Judge(const Bytes& signature, const CmsValidationOptions& options) {
    auto v = ValidateCms(signature, ByteView(SignedFixture("letter.txt")), options);
    if (!v.ok()) return v.status().ToString();
    EXPECT_EQ(v->signers.size(), 1u);
    const SignatureReport& r = v->signers.at(0);
    return std::string(VerdictName(r.verdict)) + " " + std::string(SubIndicationName(r.sub_indication)) + " " +
           r.reason;
  }

  ManualClock clock_;
  CmsValidationOptions options_;     // prepared: the cache is shared by every validation
  CmsValidationOptions unprepared_;  // each validation on its own
};

TEST_F(CachedPathValidationTest, ATamperedCertificateIsRejectedAfterTheGenuineOneWasCached) {
  const Bytes signer = PkiCertificate("signer-rsa");
  const Bytes issuing = PkiCertificate("issuing-ca");
  ASSERT_EQ(Judge(Signature(), options_), "VALID  ");
  const std::vector<std::pair<std::string, Bytes>> tampered = {
      {"signer signature damaged", Replaced(Signature(), signer, WithDamagedSignature(signer))},
      {"signer notAfter changed", Replaced(Signature(), signer, WithChangedNotAfter(signer))},
      {"CA signature damaged", Replaced(Signature(), issuing, WithDamagedSignature(issuing))},
      {"CA notAfter changed", Replaced(Signature(), issuing, WithChangedNotAfter(issuing))},
  };
  for (const auto& [what, signature] : tampered) {
    const std::string judged = Judge(signature, options_);
    EXPECT_NE(judged.find("INDETERMINATE CHAIN_CONSTRAINTS_FAILURE"), std::string::npos) << what << ": " << judged;
    EXPECT_NE(judged.find("certificate signature failure"), std::string::npos) << what << ": " << judged;
    EXPECT_EQ(judged, Judge(signature, unprepared_)) << what;
  }
  EXPECT_EQ(Judge(Signature(), options_), "VALID  ");
}

TEST_F(CachedPathValidationTest, ValidityIsJudgedAtEachValidationTime) {
  const TimePoint now = clock_.Now();
  ASSERT_EQ(Judge(Signature(), options_), "VALID  ");  // every signature of the path cached
  clock_.Set(TimePoint(std::chrono::sys_days(std::chrono::year(2200) / 1 / 1)));
  const std::string later = Judge(Signature(), options_);
  EXPECT_EQ(later.rfind("INVALID EXPIRED ", 0), 0u) << later;
  EXPECT_EQ(later, Judge(Signature(), unprepared_));
  clock_.Set(TimePoint(std::chrono::sys_days(std::chrono::year(1990) / 1 / 1)));
  const std::string earlier = Judge(Signature(), options_);
  EXPECT_EQ(earlier.rfind("INVALID NOT_YET_VALID ", 0), 0u) << earlier;
  EXPECT_EQ(earlier, Judge(Signature(), unprepared_));
  clock_.Set(now);
  EXPECT_EQ(Judge(Signature(), options_), "VALID  ");
}

}  // namespace
}  // namespace preserve::signature
