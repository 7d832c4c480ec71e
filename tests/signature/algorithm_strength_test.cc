// Algorithm strength at the signing time (CmsValidationOptions::catalogue):
// CRYPTO_CONSTRAINTS_FAILURE for a digest, signature key or certificate
// signature the algorithm catalogue had ended by then.
#include <string>

#include <gtest/gtest.h>

#include "cms_test_signer.h"
#include "preserve/signature/signature_validation.h"
#include "preserve/policy/algorithm_catalogue.h"
#include "preserve/util/certificates.h"
#include "testing.h"

namespace preserve::signature {
namespace {

using preserve::testing::ReadFileOrDie;
using preserve::testing::SourceDir;

std::filesystem::path Fixture(const std::string& file) { return SourceDir() / "tests/fixtures" / file; }

class AlgorithmStrengthTest : public ::testing::Test {
 protected:
  AlgorithmStrengthTest() : clock_(SystemClock().Now()) {
    auto anchors = LoadCertificates(Fixture("pki/root-ca.pem"));
    EXPECT_TRUE(anchors.ok());
    if (anchors.ok()) options_.trust_anchors = *anchors;
    options_.clock = &clock_;
    options_.catalogue = &catalogue_;
  }

  SignatureReport Validate(const Bytes& signature) {
    return preserve::testing::ValidateOneSigner(signature, letter_, options_);
  }

  void UsePolicy(const std::string& json) {
    auto parsed = policy::AlgorithmCatalogue::Parse(json, "test policy");
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    catalogue_ = std::move(parsed).value();
  }

  ManualClock clock_;
  policy::AlgorithmCatalogue catalogue_ = policy::AlgorithmCatalogue::Default();
  Bytes letter_ = ReadFileOrDie(Fixture("signed/letter.txt"));
  CmsValidationOptions options_;
};

TEST_F(AlgorithmStrengthTest, CurrentAlgorithmsPass) {
  EXPECT_EQ(Validate(ReadFileOrDie(Fixture("signed/letter.txt.p7s"))).verdict, Verdict::kValid);
  EXPECT_EQ(Validate(ReadFileOrDie(Fixture("signed/letter-ec.txt.p7s"))).verdict, Verdict::kValid);
}

TEST_F(AlgorithmStrengthTest, Sha1SignatureAfter2012IsCryptoConstraintsFailure) {
  preserve::testing::TestSignOptions sign;
  sign.digest = "SHA1";
  sign.certificates = {LoadCertificates(Fixture("pki/issuing-ca.pem")).value().front()};
  Bytes signature = preserve::testing::SignDetached(letter_, Fixture("pki/signer-rsa.pem"),
                                                    Fixture("pki/signer-rsa.key"), sign);
  SignatureReport r = Validate(signature);
  EXPECT_EQ(r.verdict, Verdict::kIndeterminate);
  EXPECT_EQ(r.sub_indication, SubIndication::kCryptoConstraintsFailure) << r.reason;
  EXPECT_NE(r.reason.find("SHA-1, which the algorithm catalogue allows only until 2012-08-01T00:00:00Z"),
            std::string::npos)
      << r.reason;
  // Without a catalogue nothing is said about it.
  options_.catalogue = nullptr;
  EXPECT_EQ(Validate(signature).verdict, Verdict::kValid);
}

TEST_F(AlgorithmStrengthTest, RetiredRsaKeySizeIsCryptoConstraintsFailure) {
  UsePolicy(R"({"base": "etsi", "signature": [{"key": "RSA", "min_bits": 1900, "end": "2020-01-01"}]})");
  SignatureReport r = Validate(ReadFileOrDie(Fixture("signed/letter.txt.p7s")));
  EXPECT_EQ(r.sub_indication, SubIndication::kCryptoConstraintsFailure) << r.reason;
  EXPECT_NE(r.reason.find("RSA-2048"), std::string::npos) << r.reason;
}

// The ECDSA signer is fine; the RSA-3072 CAs that signed its path are not.
TEST_F(AlgorithmStrengthTest, CertificateSignaturesOfThePathAreCheckedToo) {
  UsePolicy(R"({"base": "etsi", "signature": [{"key": "RSA", "min_bits": 3000, "end": "2020-01-01"}]})");
  SignatureReport r = Validate(ReadFileOrDie(Fixture("signed/letter-ec.txt.p7s")));
  EXPECT_EQ(r.sub_indication, SubIndication::kCryptoConstraintsFailure) << r.reason;
  EXPECT_NE(r.reason.find("The certificate CN=Trần Thị Bình"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("RSA-3072"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace preserve::signature
