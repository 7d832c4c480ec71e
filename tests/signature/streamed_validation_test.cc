// ValidateCmsDetached: a detached signature checked over content pushed in
// pieces gives the verdicts ValidateCms gives over the same bytes in memory.
#include <gtest/gtest.h>

#include "cms_test_signer.h"
#include "preserve/signature/signature_validation.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"
#include "testing.h"

namespace preserve::signature {
namespace {

using preserve::testing::ReadFileOrDie;
using preserve::testing::SourceDir;

const std::filesystem::path kFixtures = SourceDir() / "tests" / "fixtures";

class StreamedValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    content_.resize(3 << 20);
    for (std::size_t i = 0; i < content_.size(); ++i) content_[i] = static_cast<std::uint8_t>((i * 131) >> 7);
    testing::TestSignOptions sign;
    sign.certificates.push_back(LoadCertificates(kFixtures / "pki" / "issuing-ca.pem").value().front());
    signature_ = testing::SignDetached(content_, kFixtures / "pki" / "signer-rsa.pem",
                                       kFixtures / "pki" / "signer-rsa.key", sign);
    options_.trust_anchors = LoadCertificates(kFixtures / "pki" / "root-ca.pem").value();
    options_.clock = &clock_;
    options_.revocation.check = false;
  }

  // `data` in pieces of `piece` bytes.
  static ContentSource InPieces(const Bytes& data, std::size_t piece) {
    return [&data, piece](const ContentSink& sink) -> Status {
      for (std::size_t at = 0; at < data.size(); at += piece)
        PRESERVE_RETURN_IF_ERROR(sink(ByteView(data).subspan(at, std::min(piece, data.size() - at))));
      return Status::Ok();
    };
  }

  Bytes content_;
  Bytes signature_;
  SystemClock clock_;
  CmsValidationOptions options_;
};

TEST_F(StreamedValidationTest, SameVerdictAsInMemoryForAnyPieceSize) {
  auto whole = ValidateCms(signature_, ByteView(content_), options_);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  ASSERT_EQ(whole->verdict, Verdict::kValid) << whole->signers.front().reason;
  for (std::size_t piece : {std::size_t{1000}, std::size_t{1} << 20, content_.size()}) {
    auto streamed = ValidateCmsDetached(signature_, InPieces(content_, piece), options_);
    ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
    EXPECT_EQ(streamed->verdict, Verdict::kValid) << piece;
    ASSERT_EQ(streamed->signers.size(), 1u);
    EXPECT_EQ(streamed->signers.front().signer_subject, whole->signers.front().signer_subject);
    EXPECT_EQ(streamed->signers.front().certificates, whole->signers.front().certificates);
    EXPECT_FALSE(streamed->encapsulated_content.has_value());
  }
}

TEST_F(StreamedValidationTest, ChangedContentIsAHashFailureBothWays) {
  Bytes changed = content_;
  changed[changed.size() / 2] ^= 1;
  auto whole = ValidateCms(signature_, ByteView(changed), options_);
  auto streamed = ValidateCmsDetached(signature_, InPieces(changed, 4096), options_);
  ASSERT_TRUE(whole.ok() && streamed.ok());
  EXPECT_EQ(whole->signers.front().sub_indication, SubIndication::kHashFailure);
  EXPECT_EQ(streamed->signers.front().sub_indication, SubIndication::kHashFailure);
  EXPECT_EQ(streamed->verdict, Verdict::kInvalid);
  // Missing bytes at the end, likewise.
  Bytes short_content(content_.begin(), content_.end() - 1);
  auto truncated = ValidateCmsDetached(signature_, InPieces(short_content, 4096), options_);
  ASSERT_TRUE(truncated.ok());
  EXPECT_EQ(truncated->signers.front().sub_indication, SubIndication::kHashFailure);
}

TEST_F(StreamedValidationTest, TheSourcesErrorIsReturned) {
  int calls = 0;
  ContentSource failing = [&](const ContentSink& sink) -> Status {
    PRESERVE_RETURN_IF_ERROR(sink(ByteView(content_).first(100)));
    ++calls;
    return Status::IOError("disk went away");
  };
  auto result = ValidateCmsDetached(signature_, failing, options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIOError);
  EXPECT_EQ(result.status().message(), "disk went away");
  EXPECT_EQ(calls, 1);
}

// The caller's digest of the content (a store's content address) stands for
// the signature's own when the algorithms match: the content is hashed once,
// and judged as when the signature hashes it.
TEST_F(StreamedValidationTest, TheCallersDigestIsTheMessageDigestWhenTheAlgorithmsMatch) {
  int asked = 0;
  auto digest_of = [&](const Bytes& data) {
    return CallerContentDigest{HashAlgorithm::kSha256, [&asked, &data]() -> Result<Bytes> {
                                 ++asked;
                                 return Digest(HashAlgorithm::kSha256, data);
                               }};
  };
  const CallerContentDigest right = digest_of(content_);
  auto valid = ValidateCmsDetached(signature_, InPieces(content_, 4096), options_, &right);
  ASSERT_TRUE(valid.ok()) << valid.status().ToString();
  EXPECT_EQ(valid->verdict, Verdict::kValid) << valid->signers.front().reason;
  EXPECT_EQ(asked, 1);

  Bytes changed = content_;
  changed[changed.size() / 2] ^= 1;
  const CallerContentDigest of_changed = digest_of(changed);
  auto whole = ValidateCms(signature_, ByteView(changed), options_);
  auto streamed = ValidateCmsDetached(signature_, InPieces(changed, 4096), options_, &of_changed);
  ASSERT_TRUE(whole.ok() && streamed.ok());
  EXPECT_EQ(streamed->signers.front().sub_indication, SubIndication::kHashFailure);
  EXPECT_EQ(streamed->signers.front().reason, whole->signers.front().reason);
  EXPECT_EQ(asked, 2);

  const CallerContentDigest failing{HashAlgorithm::kSha256, [] { return Result<Bytes>(Status::IOError("no disk")); }};
  auto failed = ValidateCmsDetached(signature_, InPieces(content_, 4096), options_, &failing);
  EXPECT_EQ(failed.status().code(), StatusCode::kIOError);
}

// A signer using another algorithm, or signing the content's digest directly
// (no signed attributes), has the content hashed by the signature as before;
// the caller's digest is not asked for.
TEST_F(StreamedValidationTest, OtherSignersHashTheContentThemselves) {
  const CallerContentDigest unused{HashAlgorithm::kSha256, []() -> Result<Bytes> {
                                     ADD_FAILURE() << "the caller's digest was asked for";
                                     return Bytes(32);
                                   }};
  testing::TestSignOptions sha384;
  sha384.digest = "SHA384";
  testing::TestSignOptions no_attributes;
  no_attributes.signed_attributes = false;
  for (const auto& sign : {sha384, no_attributes}) {
    const Bytes signature = testing::SignDetached(content_, kFixtures / "pki" / "signer-rsa.pem",
                                                  kFixtures / "pki" / "signer-rsa.key", sign);
    auto result = ValidateCmsDetached(signature, InPieces(content_, 4096), options_, &unused);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    auto whole = ValidateCms(signature, ByteView(content_), options_);
    ASSERT_TRUE(whole.ok());
    EXPECT_EQ(result->verdict, whole->verdict) << sign.digest;
    EXPECT_EQ(result->signers.front().sub_indication, whole->signers.front().sub_indication) << sign.digest;
  }
}

TEST_F(StreamedValidationTest, EnvelopingSignatureIsRefusedAndNotCmsIsAnError) {
  auto enveloping = ValidateCmsDetached(ReadFileOrDie(kFixtures / "signed" / "letter.p7m"), InPieces(content_, 4096),
                                        options_);
  EXPECT_EQ(enveloping.status().code(), StatusCode::kInvalidArgument);
  auto not_cms = ValidateCmsDetached(ReadFileOrDie(kFixtures / "signed" / "not-cms.p7s"), InPieces(content_, 4096),
                                     options_);
  EXPECT_EQ(not_cms.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace preserve::signature
