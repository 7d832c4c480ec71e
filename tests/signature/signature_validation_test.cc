// ValidateCms against the committed test PKI and signed letters
// (tests/fixtures/README.md; regenerate with scripts/make-test-fixtures.sh).
#include "preserve/signature/signature_validation.h"

#include <openssl/cms.h>

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "preserve/util/openssl_ptr.h"
#include "testing.h"

namespace preserve::signature {
namespace {

using preserve::testing::PkiCertificate;
using preserve::testing::SignedFixture;

class SignatureValidationTest : public ::testing::Test {
 protected:
  SignatureValidationTest() : clock_(SystemClock().Now()) {
    options_.trust_anchors = {PkiCertificate("root-ca")};
    options_.clock = &clock_;
  }

  CmsValidation Validate(const Bytes& signature, std::optional<Bytes> content) {
    std::optional<ByteView> view;
    if (content) view = ByteView(*content);
    auto result = ValidateCms(signature, view, options_);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(result).value() : CmsValidation{};
  }

  // The one signer's report, failing the test when there is not exactly one.
  SignatureReport ValidateOne(const std::string& signature, std::optional<std::string> content = "letter.txt") {
    CmsValidation v =
        Validate(SignedFixture(signature), content ? std::optional<Bytes>(SignedFixture(*content)) : std::nullopt);
    EXPECT_EQ(v.signers.size(), 1u);
    if (v.signers.empty()) return {};
    EXPECT_EQ(v.verdict, v.signers.front().verdict);
    return v.signers.front();
  }

  ManualClock clock_;
  CmsValidationOptions options_;
};

TEST_F(SignatureValidationTest, GoodDetachedSignatureIsValid) {
  SignatureReport r = ValidateOne("letter.txt.p7s");
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_EQ(r.sub_indication, SubIndication::kNone);
  EXPECT_EQ(r.reason, "");
  EXPECT_EQ(r.signer_common_name, "Nguyễn Văn An");
  EXPECT_EQ(r.signer_organization, "UBND tỉnh Đắk Nông");
  EXPECT_EQ(r.signer_subject, "CN=Nguyễn Văn An,OU=Văn phòng UBND tỉnh,O=UBND tỉnh Đắk Nông,C=VN");
  EXPECT_EQ(r.digest_algorithm, "SHA-256");
  EXPECT_EQ(r.signature_algorithm, "RSA");
  ASSERT_TRUE(r.signing_time.has_value());
  EXPECT_EQ(r.signing_time_source, "signing-time attribute (claimed)");
  EXPECT_GT(*r.signing_time, ParseUtcTime("2024-01-01").value());
  EXPECT_LE(*r.signing_time, clock_.Now());
  // The validated path, signer first and anchor last: the validation material to keep.
  ASSERT_EQ(r.certificates.size(), 3u);
  EXPECT_EQ(r.certificates[0], PkiCertificate("signer-rsa"));
  EXPECT_EQ(r.certificates[1], PkiCertificate("issuing-ca"));
  EXPECT_EQ(r.certificates[2], PkiCertificate("root-ca"));
}

TEST_F(SignatureValidationTest, EnvelopingSignatureIsValidAndReturnsItsContent) {
  CmsValidation v = Validate(SignedFixture("letter.p7m"), std::nullopt);
  EXPECT_EQ(v.verdict, Verdict::kValid);
  ASSERT_EQ(v.signers.size(), 1u);
  EXPECT_EQ(v.signers[0].signer_common_name, "Nguyễn Văn An");
  EXPECT_EQ(v.signers[0].certificates.size(), 3u);
  ASSERT_TRUE(v.encapsulated_content.has_value());
  EXPECT_EQ(*v.encapsulated_content, SignedFixture("letter.txt"));
}

TEST_F(SignatureValidationTest, DetachedSignatureReturnsNoEncapsulatedContent) {
  CmsValidation v = Validate(SignedFixture("letter.txt.p7s"), SignedFixture("letter.txt"));
  EXPECT_FALSE(v.encapsulated_content.has_value());
}

TEST_F(SignatureValidationTest, EcdsaSignerIsValid) {
  SignatureReport r = ValidateOne("letter-ec.txt.p7s");
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_EQ(r.signature_algorithm, "ECDSA");
  EXPECT_EQ(r.signer_common_name, "Trần Thị Bình");
  EXPECT_EQ(r.signer_organization, "Sở Thông tin và Truyền thông tỉnh Đắk Nông");
}

TEST_F(SignatureValidationTest, PemInputIsAccepted) {
  SignatureReport r = ValidateOne("letter.txt.p7s.pem");
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
}

TEST_F(SignatureValidationTest, PemWithPkcs7LabelIsAccepted) {
  std::string pem = ToString(SignedFixture("letter.txt.p7s.pem"));
  for (const std::string& edge : {std::string("BEGIN"), std::string("END")}) {
    std::string from = "-----" + edge + " CMS-----";
    auto at = pem.find(from);
    ASSERT_NE(at, std::string::npos);
    pem.replace(at, from.size(), "-----" + edge + " PKCS7-----");
  }
  CmsValidation v = Validate(ToBytes(pem), SignedFixture("letter.txt"));
  EXPECT_EQ(v.verdict, Verdict::kValid);
}

TEST_F(SignatureValidationTest, ExpiredSignerCertificateIsExpired) {
  SignatureReport r = ValidateOne("letter-expired-signer.txt.p7s");
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.sub_indication, SubIndication::kExpired);
  EXPECT_NE(r.reason.find("Lê Văn Cũ"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("2016-01-01T00:00:00Z"), std::string::npos) << r.reason;
  ASSERT_FALSE(r.certificates.empty());
  EXPECT_EQ(r.certificates.front(), PkiCertificate("signer-expired"));
}

TEST_F(SignatureValidationTest, UntrustedIssuerHasNoCertificateChain) {
  SignatureReport r = ValidateOne("letter-untrusted-signer.txt.p7s");
  EXPECT_EQ(r.verdict, Verdict::kIndeterminate);
  EXPECT_EQ(r.sub_indication, SubIndication::kNoCertificateChainFound);
  EXPECT_NE(r.reason.find("Phạm Văn Lạ"), std::string::npos) << r.reason;
  // Whatever the signature carried is still reported.
  ASSERT_EQ(r.certificates.size(), 1u);
  EXPECT_EQ(r.certificates[0], PkiCertificate("signer-untrusted"));
}

TEST_F(SignatureValidationTest, NoTrustAnchorsMeansNoCertificateChain) {
  options_.trust_anchors.clear();
  SignatureReport r = ValidateOne("letter.txt.p7s");
  EXPECT_EQ(r.sub_indication, SubIndication::kNoCertificateChainFound);
  // The signature's own certificates, not a validated path.
  ASSERT_EQ(r.certificates.size(), 2u);
  EXPECT_EQ(r.certificates[0], PkiCertificate("signer-rsa"));
}

TEST_F(SignatureValidationTest, SubordinateCaCanBeTheTrustAnchor) {
  options_.trust_anchors = {PkiCertificate("issuing-ca")};
  SignatureReport r = ValidateOne("letter.txt.p7s");
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  ASSERT_EQ(r.certificates.size(), 2u);
  EXPECT_EQ(r.certificates[1], PkiCertificate("issuing-ca"));
}

TEST_F(SignatureValidationTest, TamperedContentIsHashFailure) {
  SignatureReport r = ValidateOne("letter.txt.p7s", "letter-tampered.txt");
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.sub_indication, SubIndication::kHashFailure);
  EXPECT_FALSE(r.reason.empty());
}

// Flips one byte in the middle of the SignerInfo's signature OCTET STRING, leaving
// every other byte (and so the content digest) intact.
Bytes WithDamagedSignatureValue(const Bytes& der) {
  const unsigned char* p = der.data();
  CmsContentInfoPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms) return {};
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
  ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(si);
  const unsigned char* sig_data = ASN1_STRING_get0_data(sig);
  auto at = std::search(der.begin(), der.end(), sig_data, sig_data + ASN1_STRING_length(sig));
  if (at == der.end()) return {};
  Bytes damaged = der;
  auto offset = static_cast<std::size_t>(at - der.begin()) + static_cast<std::size_t>(ASN1_STRING_length(sig) / 2);
  damaged[offset] ^= 0x01;
  return damaged;
}

TEST_F(SignatureValidationTest, DamagedSignatureValueIsSigCryptoFailure) {
  for (const std::string name : {"letter.txt.p7s", "letter-ec.txt.p7s"}) {
    SCOPED_TRACE(name);
    Bytes damaged = WithDamagedSignatureValue(SignedFixture(name));
    ASSERT_FALSE(damaged.empty());
    CmsValidation v = Validate(damaged, SignedFixture("letter.txt"));
    ASSERT_EQ(v.signers.size(), 1u);
    EXPECT_EQ(v.verdict, Verdict::kInvalid);
    EXPECT_EQ(v.signers[0].sub_indication, SubIndication::kSigCryptoFailure) << v.signers[0].reason;
  }
}

TEST_F(SignatureValidationTest, NotCmsIsAnError) {
  auto result = ValidateCms(SignedFixture("not-cms.p7s"), ByteView(SignedFixture("letter.txt")), options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("not a CMS"), std::string::npos) << result.status().message();
}

TEST_F(SignatureValidationTest, TruncatedSignatureIsAnError) {
  auto result = ValidateCms(SignedFixture("truncated.p7s"), ByteView(SignedFixture("letter.txt")), options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("truncated"), std::string::npos) << result.status().message();
}

TEST_F(SignatureValidationTest, EmptyInputIsAnError) {
  auto result = ValidateCms(ByteView(), std::nullopt, options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SignatureValidationTest, CmsThatIsNotSignedDataIsAnError) {
  auto result = ValidateCms(SignedFixture("not-signed-data.p7m"), std::nullopt, options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("not SignedData"), std::string::npos) << result.status().message();
}

TEST_F(SignatureValidationTest, ContentGivenToEnvelopingSignatureIsAnError) {
  auto result = ValidateCms(SignedFixture("letter.p7m"), ByteView(SignedFixture("letter.txt")), options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SignatureValidationTest, MissingClockIsAnError) {
  options_.clock = nullptr;
  auto result = ValidateCms(SignedFixture("letter.txt.p7s"), ByteView(SignedFixture("letter.txt")), options_);
  EXPECT_FALSE(result.ok());
}

TEST_F(SignatureValidationTest, DetachedSignatureWithoutContentIsSignedDataNotFound) {
  SignatureReport r = ValidateOne("letter.txt.p7s", std::nullopt);
  EXPECT_EQ(r.verdict, Verdict::kIndeterminate);
  EXPECT_EQ(r.sub_indication, SubIndication::kSignedDataNotFound);
  EXPECT_EQ(r.signer_common_name, "Nguyễn Văn An");
}

TEST_F(SignatureValidationTest, WithoutSigningTimeTheValidationTimeIsUsed) {
  SignatureReport r = ValidateOne("letter-no-attributes.txt.p7s");
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  ASSERT_TRUE(r.signing_time.has_value());
  EXPECT_EQ(*r.signing_time, clock_.Now());
  EXPECT_EQ(r.signing_time_source, "validation time (none in signature)");
}

TEST_F(SignatureValidationTest, ValidationBeforeTheCertificatesIsNotYetValid) {
  clock_.Set(ParseUtcTime("2000-01-01").value());
  SignatureReport r = ValidateOne("letter-no-attributes.txt.p7s");
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.sub_indication, SubIndication::kNotYetValid);
  EXPECT_NE(r.reason.find("2000-01-01T00:00:00Z"), std::string::npos) << r.reason;
}

TEST_F(SignatureValidationTest, DamagedSignatureWithoutSignedAttributesIsSigCryptoFailure) {
  Bytes damaged = WithDamagedSignatureValue(SignedFixture("letter-no-attributes.txt.p7s"));
  ASSERT_FALSE(damaged.empty());
  CmsValidation v = Validate(damaged, SignedFixture("letter.txt"));
  ASSERT_EQ(v.signers.size(), 1u);
  EXPECT_EQ(v.signers[0].sub_indication, SubIndication::kSigCryptoFailure);
}

TEST_F(SignatureValidationTest, EncryptionOnlyKeyViolatesChainConstraints) {
  SignatureReport r = ValidateOne("letter-encryption-only-key.txt.p7s");
  EXPECT_EQ(r.verdict, Verdict::kIndeterminate);
  EXPECT_EQ(r.sub_indication, SubIndication::kChainConstraintsFailure);
  EXPECT_NE(r.reason.find("key usage"), std::string::npos) << r.reason;
}

TEST_F(SignatureValidationTest, SignerCertificateCanComeFromTheIntermediatesPool) {
  options_.intermediates = {PkiCertificate("signer-rsa"), PkiCertificate("issuing-ca")};
  SignatureReport r = ValidateOne("letter-no-certificates.txt.p7s");
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_EQ(r.certificates.size(), 3u);
}

TEST_F(SignatureValidationTest, MissingSignerCertificateIsNoSigningCertificateFound) {
  SignatureReport r = ValidateOne("letter-no-certificates.txt.p7s");
  EXPECT_EQ(r.verdict, Verdict::kIndeterminate);
  EXPECT_EQ(r.sub_indication, SubIndication::kNoSigningCertificateFound);
  EXPECT_TRUE(r.certificates.empty());
}

// Same key, issuer and serial number as the real signer: the CMS signature
// verifies, and only the signing-certificate-v2 digest exposes the substitution.
TEST_F(SignatureValidationTest, SubstitutedSignerCertificateIsNoSigningCertificateFound) {
  options_.intermediates = {PkiCertificate("signer-rsa-twin"), PkiCertificate("issuing-ca")};
  SignatureReport r = ValidateOne("letter-no-certificates.txt.p7s");
  EXPECT_EQ(r.verdict, Verdict::kIndeterminate);
  EXPECT_EQ(r.sub_indication, SubIndication::kNoSigningCertificateFound);
  EXPECT_NE(r.reason.find("signing-certificate"), std::string::npos) << r.reason;
}

TEST_F(SignatureValidationTest, InvalidTrustAnchorIsAnError) {
  options_.trust_anchors = {ToBytes("not a certificate")};
  auto result = ValidateCms(SignedFixture("letter.txt.p7s"), ByteView(SignedFixture("letter.txt")), options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SignatureValidationTest, ExpectedFailuresLeaveNoOpenSslErrors) {
  ValidateOne("letter.txt.p7s", "letter-tampered.txt");
  ValidateOne("letter-expired-signer.txt.p7s");
  ValidateOne("letter-untrusted-signer.txt.p7s");
  EXPECT_FALSE(ValidateCms(SignedFixture("truncated.p7s"), std::nullopt, options_).ok());
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(SubIndicationName, UsesEtsiNames) {
  EXPECT_EQ(SubIndicationName(SubIndication::kHashFailure), "HASH_FAILURE");
  EXPECT_EQ(SubIndicationName(SubIndication::kNoCertificateChainFound), "NO_CERTIFICATE_CHAIN_FOUND");
  EXPECT_EQ(SubIndicationName(SubIndication::kNoSigningCertificateFound), "NO_SIGNING_CERTIFICATE_FOUND");
  EXPECT_EQ(SubIndicationName(SubIndication::kNone), "");
}

}  // namespace
}  // namespace preserve::signature
