// The embedded TSA: what CreateEmbeddedTsa writes, how Exchange answers
// good, refused and malformed requests, key types, the signer digest, and
// rollover (including one a crash cut short).
#include "preserve/timestamp/embedded_tsa.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <set>
#include <string_view>
#include <thread>

#include "preserve/util/certificates.h"
#include "preserve/util/openssl_ptr.h"
#include "testing.h"

namespace preserve::timestamp {
namespace {

using preserve::testing::FixedClock;
using preserve::testing::TempDir;

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
  EXPECT_EQ(CertificateNotAfter(tsa_->ca_certificate()).value(), At("2126-11-27T10:00:00Z"));  // 100 years
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

// Requests outside plain DER are not read by the TSA's fast path
// (time_stamp_request_reader.h) but by OpenSSL, which grants them all the same.
TEST_F(EmbeddedTsaTest, RequestsInBerAreGrantedToo) {
  Bytes long_form = MakeRequest(EVP_sha256(), true);  // 30 LL ...: LL in two octets
  ASSERT_LT(long_form[1], 0x80);
  long_form.insert(long_form.begin() + 1, 0x81);
  Bytes explicit_false = MakeRequest(EVP_sha256(), false);  // certReq FALSE written out
  explicit_false.insert(explicit_false.end(), {0x01, 0x01, 0x00});
  explicit_false[1] = static_cast<std::uint8_t>(explicit_false[1] + 3);
  struct Case {
    const Bytes& request;
    bool cert_req;
  };
  for (const Case& c : {Case{long_form, true}, Case{explicit_false, false}}) {
    auto answer = tsa_->Exchange(c.request);
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    TsRespPtr response = DecodeResponse(*answer);
    ASSERT_TRUE(response);
    ASSERT_EQ(StatusOf(response.get()), TS_STATUS_GRANTED);
    const Bytes token = ToDer(i2d_PKCS7, TS_RESP_get_token(response.get()));
    TokenVerifyOptions verify;
    verify.trust_anchors = {tsa_->ca_certificate()};
    verify.intermediates = {tsa_->tsa_certificate()};
    auto verified = VerifyToken(token, HashAlgorithm::kSha256, Bytes(32, 0x5a), verify);
    EXPECT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_EQ(ParseToken(token).value().certificates.empty(), !c.cert_req);
  }
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

// Serials come from a per-thread block of random bits; a forked child starts
// with a copy of its parent's block and must not hand out the same serials.
TEST_F(EmbeddedTsaTest, ForkedChildDoesNotRepeatItsParentsSerials) {
  Bytes imprint = Digest(HashAlgorithm::kSha256, AsBytes("same data"));
  auto serial = [&] {
    auto token = RequestTimeStamp(*tsa_, HashAlgorithm::kSha256, imprint);
    return token.ok() ? ParseToken(*token).value().serial_hex : std::string();
  };
  ASSERT_FALSE(serial().empty());  // the block is drawn, and has serials left
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string mine = serial();
    ssize_t written = ::write(fds[1], mine.data(), mine.size());
    ::_exit(written == static_cast<ssize_t>(mine.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  const std::string parents = serial();
  std::array<char, 64> buffer{};
  const ssize_t n = ::read(fds[0], buffer.data(), buffer.size());
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_EQ(n, 32) << "the child made no token";
  EXPECT_NE(std::string(buffer.data(), 32), parents);
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


namespace rollover {

namespace fs = std::filesystem;

Bytes Imprint(HashAlgorithm alg, std::string_view text) { return Digest(alg, AsBytes(text)); }

// Whether `token` verifies against `ca` alone, at its own genTime.
bool VerifiesAgainst(const Bytes& token, HashAlgorithm alg, const Bytes& imprint, const Bytes& ca) {
  TokenVerifyOptions verify;
  verify.trust_anchors = {ca};
  auto verified = VerifyToken(token, alg, imprint, verify);
  EXPECT_TRUE(verified.ok()) << verified.status().ToString();
  return verified.ok();
}

std::vector<fs::path> RetiredFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  if (fs::exists(dir / "retired"))
    for (const auto& entry : fs::directory_iterator(dir / "retired")) files.push_back(entry.path());
  return files;
}

class Rollover : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(CreateEmbeddedTsa(dir_, {}, clock_).ok()); }

  std::unique_ptr<EmbeddedTsa> Open(const fs::path& dir) {
    auto tsa = EmbeddedTsa::Open(dir, clock_);
    EXPECT_TRUE(tsa.ok()) << tsa.status().ToString();
    return tsa.ok() ? std::move(tsa.value()) : nullptr;
  }

  // A copy of dir_ rolled over to a new key: its tsa.key and tsa.pem are what
  // a rollover of dir_ writes as tsa.key.new and tsa.pem.new.
  fs::path RolledOverCopy() {
    const fs::path copy = tmp_ / "copy";
    fs::copy(dir_, copy, fs::copy_options::recursive);
    EXPECT_TRUE(RollOverEmbeddedTsa(copy, TsaKeyType::kEcdsaP384, 5, clock_).ok());
    return copy;
  }

  // After any crash, Open must give a matching pair whose tokens verify.
  void ExpectUsable(EmbeddedTsa& tsa) {
    const Bytes imprint = Imprint(HashAlgorithm::kSha256, "after the crash");
    auto token = RequestTimeStamp(tsa, HashAlgorithm::kSha256, imprint);
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    EXPECT_EQ(ParseToken(*token).value().tsa_certificate, tsa.tsa_certificate());
    EXPECT_TRUE(VerifiesAgainst(*token, HashAlgorithm::kSha256, imprint, tsa.ca_certificate()));
    EXPECT_FALSE(fs::exists(dir_ / "tsa.pem.new"));
    EXPECT_FALSE(fs::exists(dir_ / "tsa.key.new"));
  }

  TempDir tmp_;
  fs::path dir_ = tmp_ / "tsa";
  ManualClock clock_{At("2026-11-27T10:00:00Z")};
};

TEST_F(Rollover, MakesANewActiveTsaFromTheSameCa) {
  auto before = Open(dir_);
  ASSERT_TRUE(before);
  const Bytes old_key = preserve::testing::ReadFileOrDie(dir_ / "tsa.key");
  const Bytes old_imprint = Imprint(HashAlgorithm::kSha256, "sealed before");
  auto old_token = RequestTimeStamp(*before, HashAlgorithm::kSha256, old_imprint);
  ASSERT_TRUE(old_token.ok());

  clock_.Advance(std::chrono::days(365 * 4));
  ASSERT_TRUE(RollOverEmbeddedTsa(dir_, TsaKeyType::kRsa3072, 5, clock_).ok());
  auto after = Open(dir_);
  ASSERT_TRUE(after);

  EXPECT_EQ(after->ca_certificate(), before->ca_certificate());
  EXPECT_NE(after->tsa_certificate(), before->tsa_certificate());
  EXPECT_NE(preserve::testing::ReadFileOrDie(dir_ / "tsa.key"), old_key);
  EXPECT_EQ(Mode(dir_ / "tsa.key"), 0600u);
  EXPECT_EQ(after->key_type(), TsaKeyType::kRsa3072);
  EXPECT_EQ(after->certificate_not_after(), At("2035-11-26T10:00:00Z"));  // five years from the rollover
  X509Ptr ca = CertificateFromPemFile(dir_ / "ca.pem");
  X509Ptr active = CertificateFromPemFile(dir_ / "tsa.pem");
  ASSERT_TRUE(ca && active);
  EXPECT_EQ(X509_check_issued(ca.get(), active.get()), X509_V_OK);
  EXPECT_EQ(CertificateSubject(after->tsa_certificate()), CertificateSubject(before->tsa_certificate()))
      << "the same authority, with a new key";

  // The old certificate is kept for auditors; the old key is not.
  EXPECT_EQ(after->all_tsa_certificates(), (std::vector<Bytes>{after->tsa_certificate(), before->tsa_certificate()}));
  ASSERT_EQ(RetiredFiles(dir_).size(), 1u);
  EXPECT_EQ(CertificatesFromPem(preserve::testing::ReadFileOrDie(RetiredFiles(dir_)[0])).value().front(),
            before->tsa_certificate());
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    const fs::path name = entry.path().filename();
    if (entry.is_regular_file() && name != "ca.key" && name != "tsa.key") {
      EXPECT_EQ(ToString(preserve::testing::ReadFileOrDie(entry.path())).find("PRIVATE KEY"), std::string::npos)
          << entry.path();
    }
  }

  // Old tokens still verify against the CA; new ones carry the new certificate.
  EXPECT_TRUE(VerifiesAgainst(*old_token, HashAlgorithm::kSha256, old_imprint, after->ca_certificate()));
  const Bytes new_imprint = Imprint(HashAlgorithm::kSha256, "sealed after");
  auto new_token = RequestTimeStamp(*after, HashAlgorithm::kSha256, new_imprint);
  ASSERT_TRUE(new_token.ok());
  TokenInfo info = ParseToken(*new_token).value();
  EXPECT_EQ(info.tsa_certificate, after->tsa_certificate());
  EXPECT_EQ(info.signature_algorithm, "RSA");
  EXPECT_EQ(info.signature_key_bits, 3072);
  EXPECT_TRUE(VerifiesAgainst(*new_token, HashAlgorithm::kSha256, new_imprint, after->ca_certificate()));

  // A second rollover keeps both earlier certificates, newest first.
  clock_.Advance(std::chrono::days(365));
  ASSERT_TRUE(RollOverEmbeddedTsa(dir_, TsaKeyType::kEcdsaP256, 5, clock_).ok());
  auto third = Open(dir_);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->all_tsa_certificates(),
            (std::vector<Bytes>{third->tsa_certificate(), after->tsa_certificate(), before->tsa_certificate()}));
}

TEST_F(Rollover, NewCertificateEndsNoLaterThanTheCa) {
  TempDir tmp;
  EmbeddedTsaOptions options;
  options.ca_validity_years = 12;
  options.tsa_validity_years = 5;
  ASSERT_TRUE(CreateEmbeddedTsa(tmp / "tsa", options, clock_).ok());
  clock_.Advance(std::chrono::days(365 * 10));
  ASSERT_TRUE(RollOverEmbeddedTsa(tmp / "tsa", TsaKeyType::kEcdsaP256, 5, clock_).ok());
  auto tsa = Open(tmp / "tsa");
  ASSERT_TRUE(tsa);
  EXPECT_EQ(tsa->certificate_not_after(), CertificateNotAfter(tsa->ca_certificate()).value());

  clock_.Advance(std::chrono::days(365 * 3));  // past the CA's end
  EXPECT_EQ(RollOverEmbeddedTsa(tmp / "tsa", TsaKeyType::kEcdsaP256, 5, clock_).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(RollOverEmbeddedTsa(tmp / "tsa", TsaKeyType::kEcdsaP256, 0, clock_).code(), StatusCode::kInvalidArgument);
}

// Crash before tsa.pem.new was written: the half-made key is dropped, the old
// pair stays active.
TEST_F(Rollover, CrashBeforeTheNewCertificateKeepsTheOldPair) {
  const Bytes old_certificate = Open(dir_)->tsa_certificate();
  const fs::path copy = RolledOverCopy();
  fs::copy_file(copy / "tsa.key", dir_ / "tsa.key.new");
  preserve::testing::WriteFile(dir_ / "tsa.pem.new.tmp-4242", std::string_view("-----BEGIN CERT"));
  auto tsa = Open(dir_);
  ASSERT_TRUE(tsa);
  EXPECT_EQ(tsa->tsa_certificate(), old_certificate);
  EXPECT_EQ(tsa->all_tsa_certificates().size(), 1u);
  EXPECT_FALSE(fs::exists(dir_ / "tsa.pem.new.tmp-4242"));
  ExpectUsable(*tsa);
}

// Crash after both new files were written, before any rename: Open finishes
// the rollover.
TEST_F(Rollover, CrashBeforeTheRenamesIsCompletedByOpen) {
  const Bytes old_certificate = Open(dir_)->tsa_certificate();
  const fs::path copy = RolledOverCopy();
  fs::copy_file(copy / "tsa.key", dir_ / "tsa.key.new");
  fs::copy_file(copy / "tsa.pem", dir_ / "tsa.pem.new");
  auto tsa = Open(dir_);
  ASSERT_TRUE(tsa);
  EXPECT_EQ(tsa->tsa_certificate(), Open(copy)->tsa_certificate());
  EXPECT_EQ(tsa->key_type(), TsaKeyType::kEcdsaP384);
  EXPECT_EQ(tsa->all_tsa_certificates().back(), old_certificate);
  EXPECT_EQ(RetiredFiles(dir_).size(), 1u);
  ExpectUsable(*tsa);
}

// Crash between the two renames: tsa.key is new, tsa.pem still old. Open
// pairs the key with tsa.pem.new instead of refusing the mismatch.
TEST_F(Rollover, CrashBetweenTheRenamesIsCompletedByOpen) {
  const Bytes old_certificate = Open(dir_)->tsa_certificate();
  const fs::path copy = RolledOverCopy();
  fs::copy_file(copy / "tsa.key", dir_ / "tsa.key", fs::copy_options::overwrite_existing);
  fs::copy_file(copy / "tsa.pem", dir_ / "tsa.pem.new");
  auto tsa = Open(dir_);
  ASSERT_TRUE(tsa);
  EXPECT_EQ(tsa->tsa_certificate(), Open(copy)->tsa_certificate());
  EXPECT_EQ(tsa->all_tsa_certificates().back(), old_certificate);
  ExpectUsable(*tsa);
}

// A new certificate and a key that are not a pair (not something a rollover
// writes): neither is trusted, the old pair stays.
TEST_F(Rollover, MismatchedNewFilesAreDropped) {
  const Bytes old_certificate = Open(dir_)->tsa_certificate();
  const fs::path copy = RolledOverCopy();
  TempDir other;
  ASSERT_TRUE(CreateEmbeddedTsa(other / "tsa", {}, clock_).ok());
  fs::copy_file(other / "tsa" / "tsa.key", dir_ / "tsa.key.new");
  fs::copy_file(copy / "tsa.pem", dir_ / "tsa.pem.new");
  auto tsa = Open(dir_);
  ASSERT_TRUE(tsa);
  EXPECT_EQ(tsa->tsa_certificate(), old_certificate);
  ExpectUsable(*tsa);
}

TEST(EmbeddedTsaKeyTypes, NamesRoundTrip) {
  for (TsaKeyType type : {TsaKeyType::kEcdsaP256, TsaKeyType::kEcdsaP384, TsaKeyType::kRsa2048, TsaKeyType::kRsa3072})
    EXPECT_EQ(TsaKeyTypeFromName(TsaKeyTypeName(type)).value(), type);
  EXPECT_EQ(TsaKeyTypeName(TsaKeyType::kRsa2048), "rsa-2048");
  EXPECT_EQ(TsaKeyTypeFromName("EC-P384").value(), TsaKeyType::kEcdsaP384);
  EXPECT_EQ(TsaKeyTypeFromName("rsa-4096").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TsaKeySignature(TsaKeyType::kRsa2048).key, policy::SignatureKeyType::kRsa);
  EXPECT_EQ(TsaKeySignature(TsaKeyType::kRsa2048).bits, 2048);
  EXPECT_EQ(TsaKeySignature(TsaKeyType::kEcdsaP384).key, policy::SignatureKeyType::kEcdsa);
  EXPECT_EQ(TsaKeySignature(TsaKeyType::kEcdsaP384).bits, 384);
}

struct KeyTypeCase {
  TsaKeyType type;
  const char* algorithm;
  int bits;
  int ca_bits;  // rsa-2048 gets an RSA-3072 CA
};

class EveryKeyType : public ::testing::TestWithParam<KeyTypeCase> {};

TEST_P(EveryKeyType, SignsVerifiableTokens) {
  TempDir tmp;
  FixedClock clock(At("2026-11-27T10:00:00Z"));
  EmbeddedTsaOptions options;
  options.key_type = GetParam().type;
  ASSERT_TRUE(CreateEmbeddedTsa(tmp / "tsa", options, clock).ok());
  auto tsa = EmbeddedTsa::Open(tmp / "tsa", clock);
  ASSERT_TRUE(tsa.ok()) << tsa.status().ToString();
  EXPECT_EQ((*tsa)->key_type(), GetParam().type);
  X509Ptr ca = CertificateFromPemFile(tmp / "tsa" / "ca.pem");
  ASSERT_TRUE(ca);
  EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(ca.get())), GetParam().ca_bits);
  const Bytes imprint = Imprint(HashAlgorithm::kSha256, "data");
  auto token = RequestTimeStamp(**tsa, HashAlgorithm::kSha256, imprint);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  TokenInfo info = ParseToken(*token).value();
  EXPECT_EQ(info.signature_algorithm, GetParam().algorithm);
  EXPECT_EQ(info.signature_key_bits, GetParam().bits);
  EXPECT_TRUE(VerifiesAgainst(*token, HashAlgorithm::kSha256, imprint, (*tsa)->ca_certificate()));
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, EveryKeyType,
                         ::testing::Values(KeyTypeCase{TsaKeyType::kEcdsaP256, "ECDSA", 256, 256},
                                           KeyTypeCase{TsaKeyType::kEcdsaP384, "ECDSA", 384, 384},
                                           KeyTypeCase{TsaKeyType::kRsa2048, "RSA", 2048, 3072},
                                           KeyTypeCase{TsaKeyType::kRsa3072, "RSA", 3072, 3072}),
                         [](const auto& param_info) {
                           std::string name(TsaKeyTypeName(param_info.param.type));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// The DER of the token's ESSCertIDv2 attribute (signingCertificateV2).
Bytes SigningCertificateV2(const Bytes& token) {
  const unsigned char* p = token.data();
  Pkcs7Ptr pkcs7(d2i_PKCS7(nullptr, &p, static_cast<long>(token.size())));
  if (!pkcs7) return {};
  PKCS7_SIGNER_INFO* signer_info = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(pkcs7.get()), 0);
  ASN1_TYPE* attribute = PKCS7_get_signed_attribute(signer_info, NID_id_smime_aa_signingCertificateV2);
  return attribute ? ToDer(i2d_ASN1_TYPE, attribute) : Bytes{};
}

bool Contains(const Bytes& haystack, const Bytes& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

// DER of the OID of a SHA-2 or SHA-3 algorithm (2.16.840.1.101.3.4.2.n).
Bytes HashOidDer(std::uint8_t n) { return {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, n}; }

TEST_F(EmbeddedTsaTest, SignerDigestFollowsTheImprint) {
  struct Case {
    HashAlgorithm imprint;
    const char* signer_digest;
    std::uint8_t oid_arc;  // of the ESSCertIDv2 hashAlgorithm; 0: SHA-256, the default, left out
  };
  // ECDSA cannot sign with SHA-3 through OpenSSL 3.0's PKCS#7: SHA-512 instead.
  for (const Case& c : {Case{HashAlgorithm::kSha256, "SHA-256", 0}, Case{HashAlgorithm::kSha384, "SHA-384", 2},
                        Case{HashAlgorithm::kSha512, "SHA-512", 3}, Case{HashAlgorithm::kSha3_512, "SHA-512", 3}}) {
    const Bytes imprint = Imprint(c.imprint, "renewal");
    auto token = RequestTimeStamp(*tsa_, c.imprint, imprint);
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    EXPECT_EQ(ParseToken(*token).value().signature_digest, c.signer_digest) << HashAlgorithmName(c.imprint);
    const Bytes attribute = SigningCertificateV2(*token);
    ASSERT_FALSE(attribute.empty());
    for (std::uint8_t arc : {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{3}})  // no SHA-2 but the signer digest
      EXPECT_EQ(Contains(attribute, HashOidDer(arc)), arc == c.oid_arc) << HashAlgorithmName(c.imprint) << " " << int{arc};
    EXPECT_TRUE(VerifiesAgainst(*token, c.imprint, imprint, tsa_->ca_certificate()));
  }
}

TEST(EmbeddedTsa, RsaSignerDigestFollowsASha3Imprint) {
  TempDir tmp;
  FixedClock clock(At("2026-11-27T10:00:00Z"));
  EmbeddedTsaOptions options;
  options.key_type = TsaKeyType::kRsa3072;
  ASSERT_TRUE(CreateEmbeddedTsa(tmp / "tsa", options, clock).ok());
  auto tsa = EmbeddedTsa::Open(tmp / "tsa", clock);
  ASSERT_TRUE(tsa.ok());
  const Bytes imprint = Imprint(HashAlgorithm::kSha3_384, "renewal");
  auto token = RequestTimeStamp(**tsa, HashAlgorithm::kSha3_384, imprint);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(ParseToken(*token).value().signature_digest, "SHA3-384");
  EXPECT_TRUE(Contains(SigningCertificateV2(*token), HashOidDer(9)));
  EXPECT_TRUE(VerifiesAgainst(*token, HashAlgorithm::kSha3_384, imprint, (*tsa)->ca_certificate()));
}

// BouncyCastle checks the TSA certificate at the token's signingTime; under a
// simulated clock (here past 2050: GeneralizedTime) it must be genTime, not
// the system's time.
TEST(EmbeddedTsa, SigningTimeIsTheClockTime) {
  TempDir tmp;
  ManualClock clock(At("2071-06-01T08:00:00Z"));
  ASSERT_TRUE(CreateEmbeddedTsa(tmp / "tsa", {}, clock).ok());
  auto tsa = EmbeddedTsa::Open(tmp / "tsa", clock);
  ASSERT_TRUE(tsa.ok());
  const Bytes imprint = Imprint(HashAlgorithm::kSha256, "x");
  auto token = RequestTimeStamp(**tsa, HashAlgorithm::kSha256, imprint);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  const unsigned char* p = token->data();
  Pkcs7Ptr pkcs7(d2i_PKCS7(nullptr, &p, static_cast<long>(token->size())));
  ASSERT_TRUE(pkcs7);
  PKCS7_SIGNER_INFO* signer_info = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(pkcs7.get()), 0);
  ASN1_TYPE* signing_time = PKCS7_get_signed_attribute(signer_info, NID_pkcs9_signingTime);
  ASSERT_NE(signing_time, nullptr);
  ASSERT_EQ(signing_time->type, V_ASN1_GENERALIZEDTIME);
  const time_t expected = static_cast<time_t>(clock.Now().time_since_epoch().count());
  EXPECT_EQ(ASN1_TIME_cmp_time_t(signing_time->value.generalizedtime, expected), 0);
  EXPECT_TRUE(VerifiesAgainst(*token, HashAlgorithm::kSha256, imprint, (*tsa)->ca_certificate()));
}

// Granted responses are assembled from DER pieces rather than by
// TS_RESP_create_response (see embedded_tsa.cc). They must be what OpenSSL
// would have made for the same request, serial and time: the same DER but for
// the signature and signingTime (OpenSSL's is the system clock's), and DER
// OpenSSL re-encodes unchanged (definite minimal lengths, sorted SET OF).
struct ReferenceSerial {
  const ASN1_INTEGER* serial;
};

ASN1_INTEGER* CopySerial(TS_RESP_CTX*, void* data) {
  return ASN1_INTEGER_dup(static_cast<ReferenceSerial*>(data)->serial);
}

int ReferenceTime(TS_RESP_CTX*, void* data, long* sec, long* usec) {
  *sec = static_cast<long>(static_cast<const Clock*>(data)->Now().time_since_epoch().count());
  *usec = 0;
  return 1;
}

// The response with the signature emptied and signingTime left out.
Bytes WithoutSignature(const Bytes& response_der) {
  TsRespPtr response = DecodeResponse(response_der);
  if (!response || TS_RESP_get_token(response.get()) == nullptr) return {};
  PKCS7_SIGNER_INFO* signer_info =
      sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(TS_RESP_get_token(response.get())), 0);
  ASN1_STRING_set(signer_info->enc_digest, "", 0);
  const int at = X509at_get_attr_by_NID(signer_info->auth_attr, NID_pkcs9_signingTime, -1);
  if (at < 0) return {};
  X509_ATTRIBUTE_free(X509at_delete_attr(signer_info->auth_attr, at));
  return ToDer(i2d_TS_RESP, response.get());
}

Bytes ReferenceResponse(const std::filesystem::path& dir, const Clock& clock, const Bytes& request_der,
                        const EVP_MD* signer_digest, const ASN1_INTEGER* serial) {
  X509Ptr cert = CertificateFromPemFile(dir / "tsa.pem");
  Bytes key_pem = preserve::testing::ReadFileOrDie(dir / "tsa.key");
  BioPtr key_bio = MemoryBio(key_pem);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  Asn1ObjectPtr policy(OBJ_txt2obj(kEmbeddedTsaPolicyOid, 1));
  TsRespCtxPtr ctx(TS_RESP_CTX_new());
  EXPECT_TRUE(cert && key && policy && ctx);
  TS_RESP_CTX_set_signer_cert(ctx.get(), cert.get());
  TS_RESP_CTX_set_signer_key(ctx.get(), key.get());
  TS_RESP_CTX_set_signer_digest(ctx.get(), signer_digest);
  TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), signer_digest);
  TS_RESP_CTX_set_def_policy(ctx.get(), policy.get());
  TS_RESP_CTX_set_accuracy(ctx.get(), 1, 0, 0);
  for (const EVP_MD* md : {EVP_sha256(), EVP_sha384(), EVP_sha512(), EVP_sha3_256(), EVP_sha3_384(), EVP_sha3_512()})
    TS_RESP_CTX_add_md(ctx.get(), md);
  ReferenceSerial reference{serial};
  TS_RESP_CTX_set_serial_cb(ctx.get(), CopySerial, &reference);
  TS_RESP_CTX_set_time_cb(ctx.get(), ReferenceTime, const_cast<Clock*>(&clock));
  BioPtr request = MemoryBio(request_der);
  TsRespPtr response(TS_RESP_create_response(ctx.get(), request.get()));
  return response ? ToDer(i2d_TS_RESP, response.get()) : Bytes{};
}

// With a nonce, and with the imprint's algorithm parameters absent or NULL.
Bytes RequestWith(const EVP_MD* md, bool cert_req, bool null_parameters, long nonce) {
  Bytes der = MakeRequest(md, cert_req);
  const unsigned char* p = der.data();
  TsReqPtr request(d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
  X509_ALGOR* algorithm = TS_MSG_IMPRINT_get_algo(TS_REQ_get_msg_imprint(request.get()));
  X509_ALGOR_set0(algorithm, OBJ_nid2obj(EVP_MD_get_type(md)), null_parameters ? V_ASN1_NULL : V_ASN1_UNDEF, nullptr);
  Asn1IntegerPtr value(ASN1_INTEGER_new());
  ASN1_INTEGER_set(value.get(), nonce);
  TS_REQ_set_nonce(request.get(), value.get());
  return ToDer(i2d_TS_REQ, request.get());
}

TEST(EmbeddedTsa, GrantedResponsesAreWhatOpenSslMakes) {
  FixedClock clock(At("2026-11-27T10:00:00Z"));
  for (TsaKeyType type : {TsaKeyType::kEcdsaP256, TsaKeyType::kEcdsaP384, TsaKeyType::kRsa2048}) {
    TempDir tmp;
    EmbeddedTsaOptions options;
    options.key_type = type;
    ASSERT_TRUE(CreateEmbeddedTsa(tmp / "tsa", options, clock).ok());
    auto tsa = EmbeddedTsa::Open(tmp / "tsa", clock);
    ASSERT_TRUE(tsa.ok()) << tsa.status().ToString();
    const bool ecdsa = type != TsaKeyType::kRsa2048;
    struct Case {
      const EVP_MD* imprint;
      const EVP_MD* signer;
    };
    for (const Case& c : {Case{EVP_sha256(), EVP_sha256()}, Case{EVP_sha384(), EVP_sha384()},
                          Case{EVP_sha512(), EVP_sha512()},
                          Case{EVP_sha3_256(), ecdsa ? EVP_sha512() : EVP_sha3_256()}}) {
      for (bool cert_req : {true, false}) {
        for (bool null_parameters : {true, false}) {
          SCOPED_TRACE(std::string(TsaKeyTypeName(type)) + " " + EVP_MD_get0_name(c.imprint) +
                       (cert_req ? " certReq" : "") + (null_parameters ? " NULL parameters" : ""));
          const Bytes request = RequestWith(c.imprint, cert_req, null_parameters, 0x1234567890abcdefL);
          auto answer = (*tsa)->Exchange(request);
          ASSERT_TRUE(answer.ok()) << answer.status().ToString();
          TsRespPtr response = DecodeResponse(*answer);
          ASSERT_TRUE(response);
          ASSERT_EQ(StatusOf(response.get()), TS_STATUS_GRANTED);
          EXPECT_EQ(ToDer(i2d_TS_RESP, response.get()), *answer) << "not DER";
          const ASN1_INTEGER* serial = TS_TST_INFO_get_serial(TS_RESP_get_tst_info(response.get()));
          const Bytes reference = ReferenceResponse(tmp / "tsa", clock, request, c.signer, serial);
          ASSERT_FALSE(reference.empty());
          const Bytes unsigned_answer = WithoutSignature(*answer);
          ASSERT_FALSE(unsigned_answer.empty());
          EXPECT_EQ(unsigned_answer, WithoutSignature(reference));

          // signingTime is genTime; the signature holds.
          PKCS7* token = TS_RESP_get_token(response.get());
          PKCS7_SIGNER_INFO* signer_info = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(token), 0);
          ASN1_TYPE* signing_time = PKCS7_get_signed_attribute(signer_info, NID_pkcs9_signingTime);
          ASSERT_NE(signing_time, nullptr);
          EXPECT_EQ(ASN1_TIME_cmp_time_t(signing_time->value.utctime,
                                         static_cast<time_t>(clock.Now().time_since_epoch().count())),
                    0);
          const Bytes imprint(static_cast<std::size_t>(EVP_MD_get_size(c.imprint)), 0x5a);
          const HashAlgorithm alg = ParseToken(ToDer(i2d_PKCS7, token)).value().imprint_algorithm;
          TokenVerifyOptions verify;
          verify.trust_anchors = {(*tsa)->ca_certificate()};
          if (!cert_req) verify.intermediates = {(*tsa)->tsa_certificate()};
          auto verified = VerifyToken(ToDer(i2d_PKCS7, token), alg, imprint, verify);
          EXPECT_TRUE(verified.ok()) << verified.status().ToString();
        }
      }
    }
  }
}

}  // namespace rollover
}  // namespace
}  // namespace preserve::timestamp
