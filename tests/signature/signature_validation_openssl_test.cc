// Interop: `openssl cms -verify`, an independent reading of the same
// signatures, must agree with ValidateCms on the committed fixtures. The
// openssl binary is part of the build environment (scripts/setup.sh); a
// missing one fails these tests rather than skipping them.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "preserve/signature/signature_validation.h"
#include "preserve/util/certificates.h"
#include "testing.h"

namespace preserve::signature {
namespace {

using preserve::testing::ReadFileOrDie;
using preserve::testing::SourceDir;

std::string Fixture(const std::string& relative) { return (SourceDir() / "tests" / "fixtures" / relative).string(); }

// Runs `openssl cms -verify` against the test root, as of now.
preserve::testing::CommandResult OpenSslVerify(const std::string& signature, const std::string& content) {
  std::vector<std::string> argv = {"openssl", "cms", "-verify", "-binary", "-inform", "DER",
                                   "-in", Fixture("signed/" + signature),
                                   "-CAfile", Fixture("pki/root-ca.pem"), "-purpose", "any", "-out", "/dev/null"};
  if (!content.empty()) {
    argv.push_back("-content");
    argv.push_back(Fixture("signed/" + content));
  }
  return preserve::testing::Run(argv);
}

Verdict Ours(const std::string& signature, const std::string& content) {
  SystemClock clock;
  CmsValidationOptions options;
  auto anchors = LoadCertificates(Fixture("pki/root-ca.pem"));
  EXPECT_TRUE(anchors.ok());
  if (anchors.ok()) options.trust_anchors = *anchors;
  options.clock = &clock;
  Bytes sig = ReadFileOrDie(Fixture("signed/" + signature));
  Bytes data;
  std::optional<ByteView> detached;
  if (!content.empty()) {
    data = ReadFileOrDie(Fixture("signed/" + content));
    detached = ByteView(data);
  }
  auto result = ValidateCms(sig, detached, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? result->verdict : Verdict::kInvalid;
}

TEST(SignatureValidationOpenSsl, OpenSslIsAvailable) {
  auto r = preserve::testing::Run({"openssl", "version"});
  ASSERT_EQ(r.exit_code, 0) << "the openssl binary is required for the interop tests: " << r.err;
}

TEST(SignatureValidationOpenSsl, BothAcceptTheGoodSignatures) {
  struct Case {
    std::string signature, content;
  };
  for (const Case& c : {Case{"letter.txt.p7s", "letter.txt"}, Case{"letter-ec.txt.p7s", "letter.txt"},
                        Case{"letter.p7m", ""}}) {
    SCOPED_TRACE(c.signature);
    auto r = OpenSslVerify(c.signature, c.content);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("Verification successful"), std::string::npos) << r.err;
    EXPECT_EQ(Ours(c.signature, c.content), Verdict::kValid);
  }
}

TEST(SignatureValidationOpenSsl, BothRejectTheBadOnes) {
  struct Case {
    std::string signature, content;
  };
  for (const Case& c : {Case{"letter.txt.p7s", "letter-tampered.txt"},
                        Case{"letter-expired-signer.txt.p7s", "letter.txt"},
                        Case{"letter-untrusted-signer.txt.p7s", "letter.txt"}}) {
    SCOPED_TRACE(c.signature + " over " + c.content);
    auto r = OpenSslVerify(c.signature, c.content);
    EXPECT_NE(r.exit_code, 0) << r.err;
    EXPECT_NE(Ours(c.signature, c.content), Verdict::kValid);
  }
}

}  // namespace
}  // namespace preserve::signature
