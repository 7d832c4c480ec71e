// The embedded TSA: what CreateEmbeddedTsa writes, and how Exchange answers
// good, refused and malformed requests.
#include "preserve/timestamp/embedded_tsa.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <atomic>
#include <set>
#include <thread>

#include "preserve/util/certificates.h"
#include "preserve/util/openssl_ptr.h"
#include "testing.h"

namespace preserve::timestamp {
namespace {

using preserve::testing::TempDir;

// A real (not simulated) clock that stands still.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(TimePoint t) : t_(t) {}
  TimePoint Now() const override { return t_; }

 private:
  TimePoint t_;
};

TimePoint At(const char* text) { return ParseUtcTime(text).value(); }

X509Ptr CertificateFromPemFile(const std::filesystem::path& path) {
  Bytes pem = preserve::testing::ReadFileOrDie(path);
  BioPtr bio = MemoryBio(pem);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// The extension's critical flag, or -1 when the certificate lacks it.
int Criticality(X509* cert, int nid) {
  int index = X509_get_ext_by_NID(cert, nid, -1);
  return index < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(cert, index));
}

unsigned Mode(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777u;
}

// A DER TimeStampReq built by hand, for requests RequestTimeStamp never makes.
Bytes MakeRequest(const EVP_MD* md, bool cert_req) {
  Bytes imprint(static_cast<std::size_t>(EVP_MD_get_size(md)), 0x5a);
  TsReqPtr request(TS_REQ_new());
  TsMsgImprintPtr msg_imprint(TS_MSG_IMPRINT_new());
  X509AlgorPtr algorithm(X509_ALGOR_new());
  X509_ALGOR_set_md(algorithm.get(), md);
  TS_MSG_IMPRINT_set_algo(msg_imprint.get(), algorithm.get());
  TS_MSG_IMPRINT_set_msg(msg_imprint.get(), imprint.data(), static_cast<int>(imprint.size()));
  TS_REQ_set_version(request.get(), 1);
  TS_REQ_set_msg_imprint(request.get(), msg_imprint.get());
  TS_REQ_set_cert_req(request.get(), cert_req ? 1 : 0);
  return ToDer(i2d_TS_REQ, request.get());
}

TsRespPtr DecodeResponse(const Bytes& der) {
  const unsigned char* p = der.data();
  return TsRespPtr(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
}

long StatusOf(TS_RESP* response) {
  return ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(response)));
}

bool HasFailureInfo(TS_RESP* response, int bit) {
  const ASN1_BIT_STRING* info = TS_STATUS_INFO_get0_failure_info(TS_RESP_get_status_info(response));
  return info != nullptr && ASN1_BIT_STRING_get_bit(info, bit) == 1;
}

class EmbeddedTsaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CreateEmbeddedTsa(dir_, options_, clock_).ok());
    auto tsa = EmbeddedTsa::Open(dir_, clock_);
    ASSERT_TRUE(tsa.ok()) << tsa.status().ToString();
    tsa_ = std::move(tsa.value());
  }

  TempDir tmp_;
  std::filesystem::path dir_ = tmp_ / "tsa";
  FixedClock clock_{At("2026-11-27T10:00:00Z")};
  EmbeddedTsaOptions options_;
  std::unique_ptr<EmbeddedTsa> tsa_;
};

TEST_F(EmbeddedTsaTest, WritesCertificatesAndPrivateKeys) {
  for (const char* file : {"ca.pem", "ca.key", "tsa.pem", "tsa.key"}) EXPECT_TRUE(std::filesystem::exists(dir_ / file));
  EXPECT_EQ(Mode(dir_ / "ca.key"), 0600u);
  EXPECT_EQ(Mode(dir_ / "tsa.key"), 0600u);
  EXPECT_EQ(Mode(dir_ / "ca.pem"), 0644u);
  std::string key_pem = ToString(preserve::testing::ReadFileOrDie(dir_ / "tsa.key"));
  EXPECT_EQ(key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u) << "PKCS#8 expected";
  EXPECT_EQ(CertificatesFromPem(preserve::testing::ReadFileOrDie(dir_ / "ca.pem")).value().front(),
            tsa_->ca_certificate());
  EXPECT_EQ(CertificatesFromPem(preserve::testing::ReadFileOrDie(dir_ / "tsa.pem")).value().front(),
            tsa_->tsa_certificate());
}

TEST_F(EmbeddedTsaTest, CaIsACriticalCaWithCertSignUsage) {
  X509Ptr ca = CertificateFromPemFile(dir_ / "ca.pem");
  ASSERT_TRUE(ca);
  EXPECT_EQ(Criticality(ca.get(), NID_basic_constraints), 1);
  EXPECT_EQ(Criticality(ca.get(), NID_key_usage), 1);
  EXPECT_GE(Criticality(ca.get(), NID_subject_key_identifier), 0);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_get_key_usage(ca.get()), static_cast<std::uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(X509_check_issued(ca.get(), ca.get()), X509_V_OK);
}

TEST_F(EmbeddedTsaTest, TsaCertificateHasOnlyTheCriticalTimeStampingUsage) {
  X509Ptr ca = CertificateFromPemFile(dir_ / "ca.pem");
  X509Ptr tsa = CertificateFromPemFile(dir_ / "tsa.pem");
  ASSERT_TRUE(ca && tsa);
  EXPECT_EQ(X509_check_issued(ca.get(), tsa.get()), X509_V_OK);
  EXPECT_EQ(X509_check_ca(tsa.get()), 0);
  EXPECT_EQ(Criticality(tsa.get(), NID_ext_key_usage), 1);
  EXPECT_EQ(X509_get_extended_key_usage(tsa.get()), static_cast<std::uint32_t>(XKU_TIMESTAMP));
  EXPECT_EQ(Criticality(tsa.get(), NID_key_usage), 1);
  EXPECT_EQ(X509_get_key_usage(tsa.get()), static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_GE(Criticality(tsa.get(), NID_authority_key_identifier), 0);
  EXPECT_EQ(X509_check_purpose(tsa.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0), 1);
  EXPECT_EQ(X509_get_signature_nid(tsa.get()), NID_ecdsa_with_SHA256);
  // notBefore is a little before the clock's time; notAfter ten years on.
  time_t now = static_cast<time_t>(clock_.Now().time_since_epoch().count());
  EXPECT_LT(X509_cmp_time(X509_get0_notBefore(tsa.get()), &now), 0);
  EXPECT_EQ(CertificateNotAfter(tsa_->tsa_certificate()).value(), At("2036-11-27T10:00:00Z"));
  EXPECT_EQ(CertificateNotAfter(tsa_->ca_certificate()).value(), At("2076-11-27T10:00:00Z"));
  const ASN1_INTEGER* serial = X509_get0_serialNumber(tsa.get());
  EXPECT_NE(ASN1_STRING_type(serial), V_ASN1_NEG_INTEGER);
}

TEST(EmbeddedTsa, RsaKeysAndAVietnameseOrganization) {
  TempDir tmp;
  FixedClock clock(At("2026-11-27T10:00:00Z"));
  EmbeddedTsaOptions options;
  options.key_type = TsaKeyType::kRsa3072;
  options.organization = "Sở Nội vụ tỉnh Đắk Nông";
  ASSERT_TRUE(CreateEmbeddedTsa(tmp / "tsa", options, clock).ok());
  auto tsa = EmbeddedTsa::Open(tmp / "tsa", clock);
  ASSERT_TRUE(tsa.ok()) << tsa.status().ToString();
  X509Ptr cert = CertificateFromPemFile(tmp / "tsa" / "tsa.pem");
  ASSERT_TRUE(cert);
  const X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_ENTRY* organization =
      X509_NAME_get_entry(subject, X509_NAME_get_index_by_NID(subject, NID_organizationName, -1));
  ASSERT_NE(organization, nullptr);
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(organization);
  EXPECT_EQ(ASN1_STRING_type(value), V_ASN1_UTF8STRING);
  EXPECT_EQ(ToString(ByteView(ASN1_STRING_get0_data(value), static_cast<std::size_t>(ASN1_STRING_length(value)))),
            options.organization);
  EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(cert.get())), 3072);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_sha256WithRSAEncryption);
}

TEST_F(EmbeddedTsaTest, RefusesToOverwriteAnExistingTsa) {
  Bytes key_before = preserve::testing::ReadFileOrDie(dir_ / "tsa.key");
  Status again = CreateEmbeddedTsa(dir_, options_, clock_);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(preserve::testing::ReadFileOrDie(dir_ / "tsa.key"), key_before);
}

TEST(EmbeddedTsa, RefusesEvenWhenOnlyOneFileIsLeft) {
  TempDir tmp;
  std::filesystem::create_directories(tmp / "tsa");
  preserve::testing::WriteFile(tmp / "tsa" / "ca.key", std::string_view("left over"));
  FixedClock clock(At("2026-11-27T10:00:00Z"));
  EXPECT_EQ(CreateEmbeddedTsa(tmp / "tsa", {}, clock).code(), StatusCode::kAlreadyExists);
}

TEST(EmbeddedTsa, RejectsNonsensicalOptions) {
  TempDir tmp;
  FixedClock clock(At("2026-11-27T10:00:00Z"));
  EmbeddedTsaOptions options;
  options.tsa_validity_years = 0;
  EXPECT_EQ(CreateEmbeddedTsa(tmp / "a", options, clock).code(), StatusCode::kInvalidArgument);
  options = {};
  options.organization.clear();
  EXPECT_EQ(CreateEmbeddedTsa(tmp / "b", options, clock).code(), StatusCode::kInvalidArgument);
  options = {};
  options.tsa_validity_years = options.ca_validity_years + 1;
  EXPECT_EQ(CreateEmbeddedTsa(tmp / "c", options, clock).code(), StatusCode::kInvalidArgument);
}

TEST(EmbeddedTsa, OpenFailsWithoutATsa) {
  TempDir tmp;
  FixedClock clock(At("2026-11-27T10:00:00Z"));
  EXPECT_EQ(EmbeddedTsa::Open(tmp / "nothing", clock).status().code(), StatusCode::kNotFound);
}

TEST_F(EmbeddedTsaTest, OpenRefusesAKeyThatIsNotTheCertificates) {
  TempDir other;
  ASSERT_TRUE(CreateEmbeddedTsa(other / "tsa", options_, clock_).ok());
  std::filesystem::copy_file(other / "tsa" / "tsa.key", dir_ / "tsa.key",
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(EmbeddedTsa::Open(dir_, clock_).status().code(), StatusCode::kCorruption);
}

TEST_F(EmbeddedTsaTest, RealClockTokensCarryTheEmbeddedPolicyAndTheClockTime) {
  Bytes imprint = Digest(HashAlgorithm::kSha256, AsBytes("công văn"));
  auto token = RequestTimeStamp(*tsa_, HashAlgorithm::kSha256, imprint);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  TokenInfo info = ParseToken(*token).value();
  EXPECT_EQ(info.policy_oid, kEmbeddedTsaPolicyOid);
  EXPECT_EQ(info.gen_time, clock_.Now());
  EXPECT_EQ(info.tsa_certificate, tsa_->tsa_certificate());
}

TEST(EmbeddedTsa, SimulatedClockTokensCarryTheSimulatedPolicyAndTheClockTime) {
  TempDir tmp;
  ManualClock clock(At("2041-03-04T05:06:07Z"));
  ASSERT_TRUE(CreateEmbeddedTsa(tmp / "tsa", {}, clock).ok());
  auto tsa = EmbeddedTsa::Open(tmp / "tsa", clock);
  ASSERT_TRUE(tsa.ok());
  clock.Advance(std::chrono::hours(24 * 400));
  Bytes imprint = Digest(HashAlgorithm::kSha512, AsBytes("x"));
  auto token = RequestTimeStamp(**tsa, HashAlgorithm::kSha512, imprint);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  TokenInfo info = ParseToken(*token).value();
  EXPECT_EQ(info.policy_oid, kSimulatedTimePolicyOid);
  EXPECT_EQ(info.gen_time, clock.Now());
  // A client asking for the real policy is refused, not given a simulated token.
  RequestOptions real;
  real.policy_oid = kEmbeddedTsaPolicyOid;
  auto refused = RequestTimeStamp(**tsa, HashAlgorithm::kSha512, imprint, real);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("unacceptedPolicy"), std::string::npos) << refused.status().ToString();
}

TEST_F(EmbeddedTsaTest, Sha1RequestIsRejectedWithBadAlg) {
  auto answer = tsa_->Exchange(MakeRequest(EVP_sha1(), true));
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  TsRespPtr response = DecodeResponse(*answer);
  ASSERT_TRUE(response);
  EXPECT_EQ(StatusOf(response.get()), TS_STATUS_REJECTION);
  EXPECT_TRUE(HasFailureInfo(response.get(), TS_INFO_BAD_ALG));
  EXPECT_EQ(TS_RESP_get_token(response.get()), nullptr);

  auto token = RequestTimeStamp(*tsa_, HashAlgorithm::kSha1, Digest(HashAlgorithm::kSha1, AsBytes("x")));
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.status().message().find("rejection (badAlg)"), std::string::npos) << token.status().ToString();
  EXPECT_EQ(ERR_peek_error(), 0u) << "stale OpenSSL error left behind";
}

TEST_F(EmbeddedTsaTest, EveryStrongImprintDigestIsAccepted) {
  for (HashAlgorithm alg : {HashAlgorithm::kSha256, HashAlgorithm::kSha384, HashAlgorithm::kSha512,
                            HashAlgorithm::kSha3_256, HashAlgorithm::kSha3_384, HashAlgorithm::kSha3_512}) {
    auto token = RequestTimeStamp(*tsa_, alg, Digest(alg, AsBytes("data")));
    ASSERT_TRUE(token.ok()) << HashAlgorithmName(alg) << ": " << token.status().ToString();
    EXPECT_EQ(ParseToken(*token).value().imprint_algorithm, alg);
  }
}

TEST_F(EmbeddedTsaTest, GarbageRequestGetsARejectionResponse) {
  for (const Bytes& garbage : {Bytes{}, Bytes{0x30}, ToBytes("GET / HTTP/1.1\r\n\r\n"), Bytes(5000, 0xff)}) {
    auto answer = tsa_->Exchange(garbage);
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    TsRespPtr response = DecodeResponse(*answer);
    ASSERT_TRUE(response);
    EXPECT_EQ(StatusOf(response.get()), TS_STATUS_REJECTION);
    EXPECT_TRUE(HasFailureInfo(response.get(), TS_INFO_BAD_DATA_FORMAT));
  }
  EXPECT_EQ(ERR_peek_error(), 0u) << "stale OpenSSL error left behind";
}

TEST_F(EmbeddedTsaTest, HonoursCertReqFalse) {
  auto answer = tsa_->Exchange(MakeRequest(EVP_sha256(), false));
  ASSERT_TRUE(answer.ok());
  TsRespPtr response = DecodeResponse(*answer);
  ASSERT_TRUE(response);
  ASSERT_EQ(StatusOf(response.get()), TS_STATUS_GRANTED);
  TokenInfo info = ParseToken(ToDer(i2d_PKCS7, TS_RESP_get_token(response.get()))).value();
  EXPECT_TRUE(info.certificates.empty());
  EXPECT_TRUE(info.tsa_certificate.empty());
  EXPECT_EQ(info.signature_algorithm, "ECDSA");
}

TEST_F(EmbeddedTsaTest, TokensBindTheirCertificateWithEssCertIdV2) {
  auto token = RequestTimeStamp(*tsa_, HashAlgorithm::kSha256, Digest(HashAlgorithm::kSha256, AsBytes("x")));
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  const unsigned char* p = token->data();
  Pkcs7Ptr pkcs7(d2i_PKCS7(nullptr, &p, static_cast<long>(token->size())));
  ASSERT_TRUE(pkcs7);
  PKCS7_SIGNER_INFO* signer_info = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(pkcs7.get()), 0);
  ASSERT_NE(signer_info, nullptr);
  EXPECT_NE(PKCS7_get_signed_attribute(signer_info, NID_id_smime_aa_signingCertificateV2), nullptr);
  EXPECT_EQ(PKCS7_get_signed_attribute(signer_info, NID_id_smime_aa_signingCertificate), nullptr);
}

TEST_F(EmbeddedTsaTest, SerialNumbersAreRandom128BitNumbers) {
  std::set<std::string> serials;
  Bytes imprint = Digest(HashAlgorithm::kSha256, AsBytes("same data"));
  for (int i = 0; i < 20; ++i) {
    auto token = RequestTimeStamp(*tsa_, HashAlgorithm::kSha256, imprint);
    ASSERT_TRUE(token.ok());
    std::string serial = ParseToken(*token).value().serial_hex;
    EXPECT_EQ(serial.size(), 32u) << serial;
    serials.insert(serial);
  }
  EXPECT_EQ(serials.size(), 20u);
}

TEST_F(EmbeddedTsaTest, AnswersConcurrentRequests) {
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        Bytes imprint = Digest(HashAlgorithm::kSha256, AsBytes(std::to_string(t * 100 + i)));
        auto token = RequestTimeStamp(*tsa_, HashAlgorithm::kSha256, imprint);
        TokenVerifyOptions verify;
        verify.trust_anchors = {tsa_->ca_certificate()};
        if (token.ok() && VerifyToken(*token, HashAlgorithm::kSha256, imprint, verify).ok()) ++good;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(good.load(), 40);
}

}  // namespace
}  // namespace preserve::timestamp
