// Interop with OpenSSL's command-line TSA (`openssl ts`), an implementation
// independent of preserve's request and verification code:
//  - `openssl ts -verify` accepts what the embedded TSA signs;
//  - preserve accepts what `openssl ts -reply` signs, both as a bare token and
//    through RequestTimeStamp with openssl as the TSA behind the transport.
// The openssl binary is required: without it these tests fail, never skip.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/timestamp/time_stamp.h"
#include "preserve/util/certificates.h"
#include "openssl_tsa.h"
#include "testing.h"

namespace preserve::timestamp {
namespace {

using preserve::testing::CommandResult;
using preserve::testing::ReadFileOrDie;
using preserve::testing::Run;
using preserve::testing::TempDir;
using preserve::testing::WriteFile;

constexpr HashAlgorithm kAlg = HashAlgorithm::kSha256;

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// Runs openssl, failing the test (with its output) when it does not succeed.
CommandResult OpenSsl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  CommandResult r = Run(args);
  EXPECT_EQ(r.exit_code, 0) << "openssl " << args[1] << ": " << Describe(r);
  return r;
}

void RequireOpenSsl() {
  CommandResult r = Run({"openssl", "version"});
  ASSERT_EQ(r.exit_code, 0) << "the openssl binary is required for these tests: " << Describe(r);
}

// --- openssl verifies preserve's tokens ---

class OpenSslVerifiesEmbeddedTsa : public ::testing::TestWithParam<TsaKeyType> {
 protected:
  void SetUp() override {
    RequireOpenSsl();
    EmbeddedTsaOptions options;
    options.key_type = GetParam();
    options.organization = "Lưu trữ lịch sử tỉnh Đắk Nông";
    ASSERT_TRUE(CreateEmbeddedTsa(tmp_ / "tsa", options, clock_).ok());
    auto tsa = EmbeddedTsa::Open(tmp_ / "tsa", clock_);
    ASSERT_TRUE(tsa.ok()) << tsa.status().ToString();
    tsa_ = std::move(tsa.value());
  }

  std::string CaFile() const { return (tmp_ / "tsa" / "ca.pem").string(); }

  TempDir tmp_;
  SystemClock clock_;  // openssl ts -verify checks the certificate path as of now
  std::unique_ptr<EmbeddedTsa> tsa_;
  Bytes imprint_ = Digest(kAlg, AsBytes("Chỉ thị 6587/UBND-CNXD"));
};

TEST_P(OpenSslVerifiesEmbeddedTsa, TokenFromRequestTimeStamp) {
  auto token = RequestTimeStamp(*tsa_, kAlg, imprint_);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  WriteFile(tmp_ / "token.der", ByteView(*token));
  CommandResult r = OpenSsl({"ts", "-verify", "-digest", ToHex(imprint_), "-token_in", "-in",
                             (tmp_ / "token.der").string(), "-CAfile", CaFile()});
  EXPECT_NE(r.out.find("Verification: OK"), std::string::npos) << Describe(r);

  // The same command refuses another digest: the check above is not vacuous.
  CommandResult wrong =
      preserve::testing::Run({"openssl", "ts", "-verify", "-digest", ToHex(Digest(kAlg, AsBytes("other"))), "-token_in",
                              "-in", (tmp_ / "token.der").string(), "-CAfile", CaFile()});
  EXPECT_NE(wrong.exit_code, 0) << Describe(wrong);
}

TEST_P(OpenSslVerifiesEmbeddedTsa, ReplyToAnOpenSslQuery) {
  std::string query = (tmp_ / "query.tsq").string();
  std::string reply = (tmp_ / "reply.tsr").string();
  OpenSsl({"ts", "-query", "-digest", ToHex(imprint_), "-sha256", "-cert", "-out", query});
  auto answer = tsa_->Exchange(ReadFileOrDie(query));
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  WriteFile(reply, ByteView(*answer));
  // -queryfile also checks the nonce, the imprint and the policy against the query.
  CommandResult r = OpenSsl({"ts", "-verify", "-queryfile", query, "-in", reply, "-CAfile", CaFile()});
  EXPECT_NE(r.out.find("Verification: OK"), std::string::npos) << Describe(r);
  CommandResult text = OpenSsl({"ts", "-reply", "-in", reply, "-text"});
  EXPECT_NE(text.out.find(kEmbeddedTsaPolicyOid), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Accuracy: 0x01 seconds"), std::string::npos) << text.out;
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, OpenSslVerifiesEmbeddedTsa,
                         ::testing::Values(TsaKeyType::kEcdsaP256, TsaKeyType::kRsa3072), [](const auto& param_info) {
                           return param_info.param == TsaKeyType::kRsa3072 ? "Rsa3072" : "EcdsaP256";
                         });

// --- preserve verifies openssl's tokens ---

struct OpenSslTsaConfig {
  std::string name;
  std::string ess_cert_id_alg;  // sha1: ESSCertID (RFC 2634); sha256: ESSCertIDv2 (RFC 5816)
  bool ess_cert_id_chain;       // ESS ids for the CA too
};

// A TSA run by `openssl ts -reply`, with a PKI made by the openssl command line.
class OpenSslTsa : public ::testing::TestWithParam<OpenSslTsaConfig> {
 protected:
  void SetUp() override {
    RequireOpenSsl();
    ASSERT_NO_FATAL_FAILURE(preserve::testing::MakeOpenSslTsa(
        tmp_.path(), {GetParam().ess_cert_id_alg, GetParam().ess_cert_id_chain}));
    auto ca = LoadCertificates(tmp_ / "ca.pem");
    auto tsa = LoadCertificates(tmp_ / "tsa.pem");
    ASSERT_TRUE(ca.ok() && tsa.ok());
    ca_ = ca->front();
    tsa_certificate_ = tsa->front();
  }

  TokenVerifyOptions Trusting() const {
    TokenVerifyOptions options;
    options.trust_anchors = {ca_};
    return options;
  }

  TempDir tmp_;
  Bytes ca_;
  Bytes tsa_certificate_;
  Bytes imprint_ = Digest(kAlg, AsBytes("hồ sơ lưu trữ"));
};

// Carries each request to `openssl ts -reply` through files, as a TSA server would.
class OpenSslReplyTransport final : public TsaTransport {
 public:
  explicit OpenSslReplyTransport(std::filesystem::path dir) : dir_(std::move(dir)) {}

  Result<Bytes> Exchange(const Bytes& request_der) override {
    std::filesystem::path query = dir_ / "request.tsq";
    std::filesystem::path reply = dir_ / "reply.tsr";
    PRESERVE_RETURN_IF_ERROR(WriteFileAtomic(query, request_der));
    CommandResult r = preserve::testing::OpenSslTsReply(dir_, query, reply);
    if (r.exit_code != 0) return Status::Unavailable("openssl ts -reply: " + r.err);
    return ReadFile(reply);
  }

 private:
  std::filesystem::path dir_;
};

TEST_P(OpenSslTsa, BareTokenVerifies) {
  std::string query = (tmp_ / "q.tsq").string();
  std::string token = (tmp_ / "token.der").string();
  OpenSsl({"ts", "-query", "-digest", ToHex(imprint_), "-sha256", "-cert", "-out", query});
  OpenSsl(
      {"ts", "-reply", "-config", (tmp_ / "openssl.cnf").string(), "-queryfile", query, "-token_out", "-out", token});
  auto info = VerifyToken(ReadFileOrDie(token), kAlg, imprint_, Trusting());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->policy_oid, "1.2.3.4.1");
  EXPECT_EQ(info->tsa_certificate, tsa_certificate_);
  EXPECT_EQ(info->signature_algorithm, "ECDSA");
  EXPECT_EQ(info->signature_digest, "SHA-256");
  EXPECT_EQ(info->certificates.size(), 2u);  // the TSA's and, from `certs`, the CA's
  EXPECT_FALSE(VerifyToken(ReadFileOrDie(token), kAlg, Digest(kAlg, AsBytes("other")), Trusting()).ok());
}

TEST_P(OpenSslTsa, RequestTimeStampThroughOpenSslReply) {
  OpenSslReplyTransport transport(tmp_.path());
  auto token = RequestTimeStamp(transport, kAlg, imprint_);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto info = VerifyToken(*token, kAlg, imprint_, Trusting());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_FALSE(info->nonce.empty());

  RequestOptions other_policy;
  other_policy.policy_oid = "1.2.3.4.5";
  token = RequestTimeStamp(transport, HashAlgorithm::kSha512, Digest(HashAlgorithm::kSha512, imprint_), other_policy);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(ParseToken(*token)->policy_oid, "1.2.3.4.5");

  // openssl's TSA refuses what its configuration does not list.
  auto refused = RequestTimeStamp(transport, HashAlgorithm::kSha3_256, Digest(HashAlgorithm::kSha3_256, imprint_));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("badAlg"), std::string::npos) << refused.status().ToString();
}

TEST_P(OpenSslTsa, UntrustedWithoutItsCa) {
  OpenSslReplyTransport transport(tmp_.path());
  auto token = RequestTimeStamp(transport, kAlg, imprint_);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  TokenVerifyOptions options;
  options.trust_anchors = LoadCertificates(preserve::testing::SourceDir() / "tests/fixtures/pki/root-ca.pem").value();
  EXPECT_EQ(VerifyToken(*token, kAlg, imprint_, options).status().code(), StatusCode::kFailedPrecondition);
}

INSTANTIATE_TEST_SUITE_P(EssVariants, OpenSslTsa,
                         ::testing::Values(OpenSslTsaConfig{"EssCertIdV2Sha256", "sha256", false},
                                           OpenSslTsaConfig{"EssCertIdV2WithChain", "sha256", true},
                                           OpenSslTsaConfig{"EssCertIdSha1", "sha1", false}),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace preserve::timestamp
