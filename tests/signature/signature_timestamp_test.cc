// CAdES-T: signature time-stamps (id-aa-signatureTimeStampToken) in
// ValidateCms, with tokens from `openssl ts -reply` (an independent TSA) and
// from preserve's embedded TSA on a chosen clock, over signatures made with
// the committed test PKI (tests/fixtures/pki).
#include <openssl/ts.h>

#include <algorithm>
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "cms_test_signer.h"
#include "openssl_tsa.h"
#include "preserve/signature/signature_validation.h"
#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"
#include "preserve/util/openssl_ptr.h"
#include "testing.h"

namespace preserve::signature {
namespace {

using namespace std::chrono_literals;
using preserve::testing::ReadFileOrDie;
using preserve::testing::SourceDir;
using preserve::testing::TempDir;

std::filesystem::path Pki(const std::string& file) { return SourceDir() / "tests/fixtures/pki" / file; }

Bytes Certificate(const std::filesystem::path& pem) {
  auto certs = LoadCertificates(pem);
  EXPECT_TRUE(certs.ok()) << certs.status().ToString();
  return certs.ok() ? certs->front() : Bytes{};
}

bool AnyContains(const std::vector<std::string>& texts, const std::string& part) {
  return std::any_of(texts.begin(), texts.end(),
                     [&](const std::string& t) { return t.find(part) != std::string::npos; });
}

std::string Joined(const std::vector<std::string>& texts) {
  std::string out;
  for (const std::string& t : texts) out += t + "\n";
  return out;
}

class SignatureTimeStampTest : public ::testing::Test {
 protected:
  SignatureTimeStampTest() : clock_(SystemClock().Now()) {
    options_.trust_anchors = {Certificate(Pki("root-ca.pem"))};
    options_.clock = &clock_;
  }

  Bytes Sign(const std::string& signer, preserve::testing::TestSignOptions sign = {}) {
    sign.certificates.push_back(Certificate(Pki("issuing-ca.pem")));
    return preserve::testing::SignDetached(letter_, Pki(signer + ".pem"), Pki(signer + ".key"), sign);
  }

  // A token from `openssl ts -reply` over SHA-256 of `data`.
  Bytes OpenSslToken(ByteView data) {
    if (!tsa_made_) {
      preserve::testing::MakeOpenSslTsa(dir_.path());
      tsa_made_ = true;
    }
    const std::string query = (dir_ / "query.tsq").string();
    auto asked = preserve::testing::Run({"openssl", "ts", "-query", "-sha256", "-cert", "-digest",
                                         ToHex(Digest(HashAlgorithm::kSha256, data)), "-out", query});
    EXPECT_EQ(asked.exit_code, 0) << asked.err;
    auto replied = preserve::testing::OpenSslTsReply(dir_.path(), query, dir_ / "reply.tsr");
    EXPECT_EQ(replied.exit_code, 0) << replied.err;
    Bytes reply = ReadFileOrDie(dir_ / "reply.tsr");
    const unsigned char* p = reply.data();
    TsRespPtr response(d2i_TS_RESP(nullptr, &p, static_cast<long>(reply.size())));
    if (!response || TS_RESP_get_token(response.get()) == nullptr) {
      ADD_FAILURE() << "openssl ts gave no token";
      return {};
    }
    return ToDer(i2d_PKCS7, TS_RESP_get_token(response.get()));
  }
  Bytes OpenSslTsaCa() { return Certificate(dir_ / "ca.pem"); }

  // A signature time-stamp from preserve's embedded TSA with its clock at `at`.
  Bytes EmbeddedToken(ByteView data, TimePoint at) {
    ManualClock tsa_clock(ParseUtcTime("2010-01-01").value());
    timestamp::EmbeddedTsaOptions tsa_options;
    tsa_options.tsa_validity_years = 40;
    EXPECT_TRUE(timestamp::CreateEmbeddedTsa(dir_ / "embedded", tsa_options, tsa_clock).ok());
    tsa_clock.Set(at);
    auto tsa = timestamp::EmbeddedTsa::Open(dir_ / "embedded", tsa_clock);
    EXPECT_TRUE(tsa.ok()) << tsa.status().ToString();
    if (!tsa.ok()) return {};
    options_.timestamp_trust_anchors = {(*tsa)->ca_certificate()};
    return preserve::testing::TimeStampToken(**tsa, data);
  }

  // `signature` with a signature time-stamp from the openssl TSA over its value.
  Bytes WithOpenSslToken(const Bytes& signature) {
    return preserve::testing::WithSignatureTimeStamp(signature,
                                                     OpenSslToken(preserve::testing::SignatureValue(signature)));
  }

  SignatureReport Validate(const Bytes& signature) {
    return preserve::testing::ValidateOneSigner(signature, letter_, options_);
  }

  TempDir dir_;
  bool tsa_made_ = false;
  ManualClock clock_;
  Bytes letter_ = ReadFileOrDie(SourceDir() / "tests/fixtures/signed/letter.txt");
  CmsValidationOptions options_;
};

TEST_F(SignatureTimeStampTest, OpenSslTokenProvesTheSigningTime) {
  preserve::testing::TestSignOptions sign;
  sign.signing_time = clock_.Now() - 1h;
  Bytes signature = WithOpenSslToken(Sign("signer-rsa", sign));
  options_.timestamp_trust_anchors = {OpenSslTsaCa()};
  SignatureReport r = Validate(signature);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_FALSE(r.signing_time_claimed);
  EXPECT_EQ(r.signing_time_source, "signature time-stamp (TSA: CN=openssl test TSA,O=Interop)");
  ASSERT_TRUE(r.signing_time.has_value());
  EXPECT_GE(*r.signing_time, clock_.Now() - 5min);
  EXPECT_LE(*r.signing_time, clock_.Now() + 5min);
  EXPECT_EQ(r.warnings.size(), 2u) << "only the fixtures' unnamed revocation sources:\n" << Joined(r.warnings);
  // The TSA's certificate is validation material too.
  Bytes tsa = Certificate(dir_ / "tsa.pem");
  EXPECT_NE(std::find(r.certificates.begin(), r.certificates.end(), tsa), r.certificates.end());
}

TEST_F(SignatureTimeStampTest, TsaTrustFallsBackToTheTrustAnchors) {
  Bytes signature = WithOpenSslToken(Sign("signer-rsa"));
  options_.trust_anchors.push_back(OpenSslTsaCa());
  SignatureReport r = Validate(signature);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_FALSE(r.signing_time_claimed);
}

TEST_F(SignatureTimeStampTest, UntrustedTsaIsLeftAsideWithAWarning) {
  Bytes signature = WithOpenSslToken(Sign("signer-rsa"));
  SignatureReport r = Validate(signature);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_TRUE(r.signing_time_claimed);
  EXPECT_EQ(r.signing_time_source, "signing-time attribute (claimed)");
  EXPECT_TRUE(AnyContains(r.warnings, "Signature time-stamp #1 does not verify")) << Joined(r.warnings);
}

TEST_F(SignatureTimeStampTest, TokenOverOtherDataIsLeftAside) {
  Bytes signature = Sign("signer-rsa");
  // Over the document instead of the signature value: a content time-stamp put in the wrong place.
  signature = preserve::testing::WithSignatureTimeStamp(signature, OpenSslToken(letter_));
  options_.timestamp_trust_anchors = {OpenSslTsaCa()};
  SignatureReport r = Validate(signature);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_TRUE(r.signing_time_claimed);
  EXPECT_TRUE(AnyContains(r.warnings, "imprint")) << Joined(r.warnings);
}

TEST_F(SignatureTimeStampTest, GarbageInTheAttributeIsLeftAside) {
  Bytes signature = preserve::testing::WithSignatureTimeStamp(Sign("signer-rsa"), {0x30, 0x03, 0x02, 0x01, 0x01});
  SignatureReport r = Validate(signature);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_TRUE(r.signing_time_claimed);
  EXPECT_TRUE(AnyContains(r.warnings, "does not verify"));
}

// Validated in 2070, after the fixtures' certificates expire (2066): without
// a signing time the path is judged then (EXPIRED); a time-stamp from today
// proves the signature was made while they held.
TEST_F(SignatureTimeStampTest, TimeStampProvesASignatureMadeBeforeTheCertificatesExpired) {
  preserve::testing::TestSignOptions sign;
  sign.signed_attributes = false;
  Bytes signature = Sign("signer-rsa", sign);
  const TimePoint today = clock_.Now();
  clock_.Set(ParseUtcTime("2070-01-01").value());
  EXPECT_EQ(Validate(signature).sub_indication, SubIndication::kExpired);
  signature = preserve::testing::WithSignatureTimeStamp(
      signature, EmbeddedToken(preserve::testing::SignatureValue(signature), today));
  SignatureReport r = Validate(signature);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_EQ(r.signing_time, today);
  EXPECT_FALSE(r.signing_time_claimed);
}

TEST_F(SignatureTimeStampTest, EarliestValidTimeStampCounts) {
  preserve::testing::TestSignOptions sign;
  sign.signing_time = clock_.Now() - 1h;
  Bytes signature = Sign("signer-rsa", sign);
  Bytes value = preserve::testing::SignatureValue(signature);
  signature = preserve::testing::WithSignatureTimeStamp(signature, OpenSslToken(value));
  TimePoint earlier = clock_.Now() - 10min;
  signature = preserve::testing::WithSignatureTimeStamp(signature, EmbeddedToken(value, earlier));
  options_.timestamp_trust_anchors.push_back(OpenSslTsaCa());
  SignatureReport r = Validate(signature);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_EQ(r.signing_time, earlier);
  EXPECT_FALSE(AnyContains(r.warnings, "does not verify")) << Joined(r.warnings);
}

TEST_F(SignatureTimeStampTest, ClaimedTimeAfterTheTimeStampIsAWarning) {
  preserve::testing::TestSignOptions sign;
  sign.signing_time = clock_.Now() + 24h;
  Bytes signature = WithOpenSslToken(Sign("signer-rsa", sign));
  options_.timestamp_trust_anchors = {OpenSslTsaCa()};
  SignatureReport r = Validate(signature);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_TRUE(AnyContains(r.warnings, "after its signature time-stamp"));
}

}  // namespace
}  // namespace preserve::signature
