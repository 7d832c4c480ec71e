// PrepareTrust: options prepared once give the reports unprepared options
// give, for every committed fixture, again and again (the second time the
// certificates the signature carries come from the prepared cache), and from
// several threads at once. Local CRLs prepared: revocation_test.cc.
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "preserve/signature/signature_validation.h"
#include "preserve/util/certificates.h"
#include "testing.h"

namespace preserve::signature {
namespace {

using preserve::testing::PkiCertificate;
using preserve::testing::SignedFixture;

// Everything a report says, as one comparable text.
std::string Describe(const Result<CmsValidation>& v) {
  if (!v.ok()) return "error: " + v.status().ToString();
  std::string out = "verdict " + std::string(VerdictName(v->verdict)) + "\n";
  if (v->encapsulated_content) out += "content " + ToString(*v->encapsulated_content) + "\n";
  for (const SignatureReport& r : v->signers) {
    out += std::string(VerdictName(r.verdict)) + " " + std::string(SubIndicationName(r.sub_indication)) + " " +
           r.reason + "\n" + r.signer_subject + " | " + r.signer_common_name + " | " + r.signer_organization + "\n" +
           (r.signing_time ? FormatUtcTime(*r.signing_time) : "-") + " " + r.signing_time_source + " " +
           r.digest_algorithm + " " + r.signature_algorithm + "\n" + r.revocation + "\n";
    for (const std::string& w : r.warnings) out += "warning " + w + "\n";
    for (const Bytes& c : r.certificates)
      out += "certificate " + CertificateSubject(c) + " " + std::to_string(c.size()) + "\n";
    out += "crls " + std::to_string(r.crls.size()) + ", ocsp " + std::to_string(r.ocsp_responses.size()) + "\n";
  }
  return out;
}

struct Case {
  std::string signature;
  std::string content;  // "" for none
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"letter.txt.p7s", "letter.txt"},
      {"letter.txt.p7s", "letter-tampered.txt"},
      {"letter.txt.p7s", ""},
      {"letter.txt.p7s.pem", "letter.txt"},
      {"letter.p7m", ""},
      {"letter-ec.txt.p7s", "letter.txt"},
      {"letter-expired-signer.txt.p7s", "letter.txt"},
      {"letter-untrusted-signer.txt.p7s", "letter.txt"},
      {"letter-encryption-only-key.txt.p7s", "letter.txt"},
      {"letter-no-attributes.txt.p7s", "letter.txt"},
      {"letter-no-certificates.txt.p7s", "letter.txt"},
      {"truncated.p7s", ""},
      {"not-cms.p7s", ""},
      {"not-signed-data.p7m", ""},
  };
  return cases;
}

class PreparedTrustTest : public ::testing::Test {
 protected:
  PreparedTrustTest() : clock_(SystemClock().Now()) {
    options_.trust_anchors = {PkiCertificate("root-ca")};
    // The signer of letter-no-certificates.txt.p7s, and a CA the signatures also carry.
    options_.intermediates = {PkiCertificate("signer-rsa"), PkiCertificate("issuing-ca")};
    options_.clock = &clock_;
  }

  static Result<CmsValidation> Validate(const Case& c, const CmsValidationOptions& options) {
    const Bytes signature = SignedFixture(c.signature);
    if (c.content.empty()) return ValidateCms(signature, std::nullopt, options);
    const Bytes content = SignedFixture(c.content);
    return ValidateCms(signature, ByteView(content), options);
  }

  ManualClock clock_;
  CmsValidationOptions options_;
};

TEST_F(PreparedTrustTest, PreparedOptionsGiveTheSameReports) {
  CmsValidationOptions prepared = options_;
  ASSERT_TRUE(PrepareTrust(prepared).ok());
  ASSERT_NE(prepared.prepared, nullptr);
  for (int round = 0; round < 2; ++round) {
    for (const Case& c : Cases()) {
      EXPECT_EQ(Describe(Validate(c, prepared)), Describe(Validate(c, options_)))
          << c.signature << " over " << c.content << ", round " << round;
    }
  }
}

TEST_F(PreparedTrustTest, CopiesShareThePreparedMaterialAcrossThreads) {
  ASSERT_TRUE(PrepareTrust(options_).ok());
  std::vector<std::string> expected;
  for (const Case& c : Cases()) expected.push_back(Describe(Validate(c, options_)));
  std::vector<std::vector<std::string>> seen(4);
  std::vector<std::thread> threads;
  for (auto& out : seen) {
    threads.emplace_back([this, &out] {
      const CmsValidationOptions copy = options_;
      for (int round = 0; round < 5; ++round)
        for (const Case& c : Cases()) out.push_back(Describe(Validate(c, copy)));
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& out : seen) {
    ASSERT_EQ(out.size(), 5 * expected.size());
    for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], expected[i % expected.size()]);
  }
}

TEST_F(PreparedTrustTest, MaterialThatDoesNotParseFailsAsValidationWould) {
  options_.intermediates.push_back(ToBytes("not a certificate"));
  auto unprepared = Validate(Cases().front(), options_);
  ASSERT_FALSE(unprepared.ok());
  Status status = PrepareTrust(options_);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), unprepared.status().message());
  EXPECT_EQ(options_.prepared, nullptr);
}

TEST_F(PreparedTrustTest, MaterialChangedAfterPreparingIsAnError) {
  ASSERT_TRUE(PrepareTrust(options_).ok());
  options_.trust_anchors.push_back(PkiCertificate("untrusted-root-ca"));
  auto result = Validate(Cases().front(), options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("PrepareTrust"), std::string::npos) << result.status().message();
}

}  // namespace
}  // namespace preserve::signature
