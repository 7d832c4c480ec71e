// RFC 3161 client side: requests and the checks on answers, token parsing,
// token verification. The embedded TSA serves; fault-injecting transports
// stand in for a TSA (or a network) that misbehaves.
#include "preserve/timestamp/time_stamp.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <algorithm>
#include <functional>

#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/util/openssl_ptr.h"
#include "testing.h"

namespace preserve::timestamp {
namespace {

using preserve::testing::FixedClock;
using preserve::testing::TempDir;

constexpr HashAlgorithm kAlg = HashAlgorithm::kSha256;
using TsStatusInfoPtr = std::unique_ptr<TS_STATUS_INFO, OpenSslFree<TS_STATUS_INFO_free>>;

TimePoint At(const char* text) { return ParseUtcTime(text).value(); }

// Answers through `answer`, which may consult the real TSA.
class FunctionTransport final : public TsaTransport {
 public:
  explicit FunctionTransport(std::function<Result<Bytes>(const Bytes&)> answer) : answer_(std::move(answer)) {}
  Result<Bytes> Exchange(const Bytes& request_der) override { return answer_(request_der); }

 private:
  std::function<Result<Bytes>(const Bytes&)> answer_;
};

TsReqPtr DecodeRequest(const Bytes& der) {
  const unsigned char* p = der.data();
  return TsReqPtr(d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
}

TsRespPtr DecodeResponse(const Bytes& der) {
  const unsigned char* p = der.data();
  return TsRespPtr(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
}

Bytes Flip(Bytes data, std::size_t at) {
  data[at] ^= 0x01;
  return data;
}

class TimeStampTest : public ::testing::Test {
 protected:
  void SetUp() override { tsa_ = MakeTsa(tmp_ / "tsa", TsaKeyType::kEcdsaP256); }

  std::unique_ptr<EmbeddedTsa> MakeTsa(const std::filesystem::path& dir, TsaKeyType key_type) {
    EmbeddedTsaOptions options;
    options.key_type = key_type;
    EXPECT_TRUE(CreateEmbeddedTsa(dir, options, clock_).ok());
    auto tsa = EmbeddedTsa::Open(dir, clock_);
    EXPECT_TRUE(tsa.ok()) << tsa.status().ToString();
    return tsa.ok() ? std::move(tsa.value()) : nullptr;
  }

  Bytes Token() {
    auto token = RequestTimeStamp(*tsa_, kAlg, imprint_);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? *token : Bytes{};
  }

  TokenVerifyOptions Trusting() const {
    TokenVerifyOptions options;
    options.trust_anchors = {tsa_->ca_certificate()};
    return options;
  }

  TempDir tmp_;
  FixedClock clock_{At("2026-11-27T10:00:00Z")};
  std::unique_ptr<EmbeddedTsa> tsa_;
  Bytes imprint_ = Digest(kAlg, AsBytes("Công văn số 6587/UBND-CNXD"));
};

// --- Round trips ---

class RoundTrip : public TimeStampTest, public ::testing::WithParamInterface<TsaKeyType> {};

TEST_P(RoundTrip, RequestedTokenVerifiesAndSaysWhatWasAsked) {
  tsa_ = MakeTsa(tmp_ / "tsa-param", GetParam());
  Bytes token = Token();
  auto info = VerifyToken(token, kAlg, imprint_, Trusting());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->imprint_algorithm, kAlg);
  EXPECT_EQ(info->imprint, imprint_);
  EXPECT_EQ(info->gen_time, clock_.Now());
  EXPECT_EQ(info->policy_oid, kEmbeddedTsaPolicyOid);
  EXPECT_FALSE(info->nonce.empty());
  EXPECT_LE(info->nonce.size(), 8u);
  EXPECT_FALSE(info->serial_hex.empty());
  EXPECT_EQ(info->tsa_certificate, tsa_->tsa_certificate());
  EXPECT_EQ(info->certificates, std::vector<Bytes>{tsa_->tsa_certificate()});
  EXPECT_EQ(info->signature_digest, "SHA-256");
  if (GetParam() == TsaKeyType::kRsa3072) {
    EXPECT_EQ(info->signature_algorithm, "RSA");
    EXPECT_EQ(info->signature_key_bits, 3072);
  } else {
    EXPECT_EQ(info->signature_algorithm, "ECDSA");
    EXPECT_EQ(info->signature_key_bits, 256);
  }
  // ParseToken reads the same, without judging.
  auto parsed = ParseToken(token);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->serial_hex, info->serial_hex);
  EXPECT_EQ(parsed->nonce, info->nonce);
  EXPECT_EQ(ERR_peek_error(), 0u) << "stale OpenSSL error left behind";
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, RoundTrip, ::testing::Values(TsaKeyType::kEcdsaP256, TsaKeyType::kRsa3072),
                         [](const auto& param_info) {
                           return param_info.param == TsaKeyType::kRsa3072 ? "Rsa3072" : "EcdsaP256";
                         });

TEST_F(TimeStampTest, RequestedPolicyIsGrantedAndChecked) {
  RequestOptions options;
  options.policy_oid = kEmbeddedTsaPolicyOid;
  auto token = RequestTimeStamp(*tsa_, kAlg, imprint_, options);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(ParseToken(*token)->policy_oid, kEmbeddedTsaPolicyOid);
}

TEST_F(TimeStampTest, ImprintOfTheWrongSizeIsRefusedBeforeAsking) {
  bool asked = false;
  FunctionTransport transport([&](const Bytes&) -> Result<Bytes> {
    asked = true;
    return Status::Internal("unreachable");
  });
  EXPECT_EQ(RequestTimeStamp(transport, HashAlgorithm::kSha512, imprint_).status().code(),
            StatusCode::kInvalidArgument);
  RequestOptions bad_policy;
  bad_policy.policy_oid = "not an oid";
  EXPECT_EQ(RequestTimeStamp(transport, kAlg, imprint_, bad_policy).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(asked);
}

// --- A TSA or network that misbehaves ---

TEST_F(TimeStampTest, TransportErrorIsPassedOn) {
  FunctionTransport down([](const Bytes&) -> Result<Bytes> { return Status::Unavailable("connection refused"); });
  auto token = RequestTimeStamp(down, kAlg, imprint_);
  EXPECT_EQ(token.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(token.status().message().find("connection refused"), std::string::npos);
}

TEST_F(TimeStampTest, AlteredNonceIsCaught) {
  FunctionTransport transport([&](const Bytes& request) {
    TsReqPtr req = DecodeRequest(request);
    Asn1IntegerPtr other(ASN1_INTEGER_new());
    ASN1_INTEGER_set(other.get(), 42);
    TS_REQ_set_nonce(req.get(), other.get());
    return tsa_->Exchange(ToDer(i2d_TS_REQ, req.get()));
  });
  auto token = RequestTimeStamp(transport, kAlg, imprint_);
  EXPECT_EQ(token.status().code(), StatusCode::kCorruption);
  EXPECT_NE(token.status().message().find("nonce"), std::string::npos) << token.status().ToString();
}

TEST_F(TimeStampTest, ReplayedAnswerIsCaught) {
  Bytes first;
  FunctionTransport transport([&](const Bytes& request) -> Result<Bytes> {
    if (first.empty()) first = tsa_->Exchange(request).value();
    return first;
  });
  ASSERT_TRUE(RequestTimeStamp(transport, kAlg, imprint_).ok());
  auto replayed = RequestTimeStamp(transport, kAlg, imprint_);
  EXPECT_EQ(replayed.status().code(), StatusCode::kCorruption);
  EXPECT_NE(replayed.status().message().find("nonce"), std::string::npos) << replayed.status().ToString();
}

TEST_F(TimeStampTest, AlteredImprintIsCaught) {
  FunctionTransport transport([&](const Bytes& request) {
    TsReqPtr req = DecodeRequest(request);
    Bytes other = Digest(kAlg, AsBytes("something else"));
    TS_MSG_IMPRINT_set_msg(TS_REQ_get_msg_imprint(req.get()), other.data(), static_cast<int>(other.size()));
    return tsa_->Exchange(ToDer(i2d_TS_REQ, req.get()));
  });
  auto token = RequestTimeStamp(transport, kAlg, imprint_);
  EXPECT_EQ(token.status().code(), StatusCode::kCorruption);
  EXPECT_NE(token.status().message().find("imprint"), std::string::npos) << token.status().ToString();
}

TEST_F(TimeStampTest, DroppedPolicyIsCaught) {
  // The request is rebuilt without its policy: the TSA then uses another one.
  FunctionTransport transport([&](const Bytes& request) {
    TsReqPtr asked = DecodeRequest(request);
    TsReqPtr forwarded(TS_REQ_new());
    TS_REQ_set_version(forwarded.get(), 1);
    TS_REQ_set_msg_imprint(forwarded.get(), TS_REQ_get_msg_imprint(asked.get()));
    TS_REQ_set_nonce(forwarded.get(), TS_REQ_get_nonce(asked.get()));
    TS_REQ_set_cert_req(forwarded.get(), 1);
    return tsa_->Exchange(ToDer(i2d_TS_REQ, forwarded.get()));
  });
  RequestOptions options;
  options.policy_oid = "1.2.3.4";
  auto token = RequestTimeStamp(transport, kAlg, imprint_, options);
  EXPECT_EQ(token.status().code(), StatusCode::kCorruption);
  EXPECT_NE(token.status().message().find("policy"), std::string::npos) << token.status().ToString();
}

TEST_F(TimeStampTest, GarbageAnswerIsAnError) {
  for (const Bytes& garbage : {Bytes{}, ToBytes("<html>502 Bad Gateway</html>"), Bytes{0x30, 0x03, 0x02, 0x01}}) {
    FunctionTransport transport([&](const Bytes&) -> Result<Bytes> { return garbage; });
    auto token = RequestTimeStamp(transport, kAlg, imprint_);
    EXPECT_EQ(token.status().code(), StatusCode::kCorruption) << token.status().ToString();
  }
  FunctionTransport trailing([&](const Bytes& request) -> Result<Bytes> {
    Bytes answer = tsa_->Exchange(request).value();
    answer.push_back(0);
    return answer;
  });
  EXPECT_EQ(RequestTimeStamp(trailing, kAlg, imprint_).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ERR_peek_error(), 0u) << "stale OpenSSL error left behind";
}

TEST_F(TimeStampTest, GarbledRequestGetsARejectionAndAnError) {
  FunctionTransport transport([&](const Bytes& request) { return tsa_->Exchange(Flip(request, 0)); });
  auto token = RequestTimeStamp(transport, kAlg, imprint_);
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.status().message().find("rejection (badDataFormat)"), std::string::npos) << token.status().ToString();
}

TEST_F(TimeStampTest, GrantedWithModsIsNotAccepted) {
  FunctionTransport transport([&](const Bytes& request) {
    TsRespPtr response = DecodeResponse(tsa_->Exchange(request).value());
    TS_STATUS_INFO_set_status(TS_RESP_get_status_info(response.get()), TS_STATUS_GRANTED_WITH_MODS);
    return Result<Bytes>(ToDer(i2d_TS_RESP, response.get()));
  });
  auto token = RequestTimeStamp(transport, kAlg, imprint_);
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.status().message().find("grantedWithMods"), std::string::npos) << token.status().ToString();
}

TEST_F(TimeStampTest, WaitingIsUnavailableWithTheTsaText) {
  FunctionTransport transport([](const Bytes&) {
    TsRespPtr response(TS_RESP_new());
    TsStatusInfoPtr status(TS_STATUS_INFO_new());
    TS_STATUS_INFO_set_status(status.get(), TS_STATUS_WAITING);
    TS_RESP_set_status_info(response.get(), status.get());
    return Result<Bytes>(ToDer(i2d_TS_RESP, response.get()));
  });
  auto token = RequestTimeStamp(transport, kAlg, imprint_);
  EXPECT_EQ(token.status().code(), StatusCode::kUnavailable) << token.status().ToString();
  EXPECT_NE(token.status().message().find("waiting"), std::string::npos);
}

// --- Verification ---

TEST_F(TimeStampTest, TamperedSignatureFails) {
  Bytes token = Token();
  auto info = VerifyToken(Flip(token, token.size() - 1), kAlg, imprint_, Trusting());
  EXPECT_EQ(info.status().code(), StatusCode::kCorruption) << info.status().ToString();
}

TEST_F(TimeStampTest, TamperedGenTimeFails) {
  Bytes token = Token();
  std::string gen_time = "20261127100000Z";
  auto at = std::search(token.begin(), token.end(), gen_time.begin(), gen_time.end());
  ASSERT_NE(at, token.end());
  Bytes tampered = Flip(token, static_cast<std::size_t>(at - token.begin()) + 13);  // a second later
  EXPECT_EQ(ParseToken(tampered)->gen_time, clock_.Now() + std::chrono::seconds(1));
  auto info = VerifyToken(tampered, kAlg, imprint_, Trusting());
  EXPECT_EQ(info.status().code(), StatusCode::kCorruption) << info.status().ToString();
  EXPECT_NE(info.status().message().find("signature"), std::string::npos) << info.status().ToString();
}

TEST_F(TimeStampTest, NoSingleByteChangeCrashesOrGoesUnnoticedInTheTstInfo) {
  Bytes token = Token();
  std::string gen_time = "20261127100000Z";
  std::size_t tst_info_end = static_cast<std::size_t>(
      std::search(token.begin(), token.end(), gen_time.begin(), gen_time.end()) - token.begin());
  for (std::size_t i = 0; i < token.size(); ++i) {
    auto info = VerifyToken(Flip(token, i), kAlg, imprint_, Trusting());
    // Outside the signed content a change may be harmless (say, the unsigned
    // SignedData version); inside it, never.
    if (i > 60 && i < tst_info_end) {
      EXPECT_FALSE(info.ok()) << "byte " << i;
    }
  }
  EXPECT_EQ(ERR_peek_error(), 0u) << "stale OpenSSL error left behind";
}

TEST_F(TimeStampTest, WrongImprintFails) {
  Bytes token = Token();
  Bytes other = Digest(kAlg, AsBytes("another document"));
  auto info = VerifyToken(token, kAlg, other, Trusting());
  EXPECT_EQ(info.status().code(), StatusCode::kCorruption);
  EXPECT_NE(info.status().message().find("does not match"), std::string::npos) << info.status().ToString();
  auto wrong_alg = VerifyToken(token, HashAlgorithm::kSha3_256, imprint_, Trusting());
  EXPECT_EQ(wrong_alg.status().code(), StatusCode::kCorruption) << wrong_alg.status().ToString();
}

TEST_F(TimeStampTest, UntrustedAnchorFails) {
  Bytes token = Token();
  std::unique_ptr<EmbeddedTsa> stranger = MakeTsa(tmp_ / "stranger", TsaKeyType::kEcdsaP256);
  TokenVerifyOptions options;
  options.trust_anchors = {stranger->ca_certificate()};
  auto info = VerifyToken(token, kAlg, imprint_, options);
  EXPECT_EQ(info.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(info.status().message().find("unable to get local issuer certificate"), std::string::npos)
      << info.status().ToString();
  EXPECT_EQ(VerifyToken(token, kAlg, imprint_, {}).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(TimeStampTest, TsaCertificateExpiredAtTheValidationTimeFails) {
  Bytes token = Token();
  TokenVerifyOptions options = Trusting();
  options.validation_time = At("2040-01-01T00:00:00Z");
  auto info = VerifyToken(token, kAlg, imprint_, options);
  EXPECT_EQ(info.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(info.status().message().find("TSA certificate not valid at 2040-01-01T00:00:00Z: certificate has expired"),
            std::string::npos)
      << info.status().ToString();
  options.validation_time = At("2020-01-01T00:00:00Z");
  info = VerifyToken(token, kAlg, imprint_, options);
  EXPECT_EQ(info.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(info.status().message().find("not yet valid"), std::string::npos) << info.status().ToString();
  options.validation_time = At("2036-01-01T00:00:00Z");
  EXPECT_TRUE(VerifyToken(token, kAlg, imprint_, options).ok());
}

TEST(TimeStamp, TokenMadeAfterTheTsaCertificateExpiredFails) {
  TempDir tmp;
  ManualClock clock(At("2026-11-27T10:00:00Z"));
  ASSERT_TRUE(CreateEmbeddedTsa(tmp / "tsa", {}, clock).ok());
  auto tsa = EmbeddedTsa::Open(tmp / "tsa", clock);
  ASSERT_TRUE(tsa.ok());
  clock.Set(At("2037-01-01T00:00:00Z"));
  Bytes imprint = Digest(kAlg, AsBytes("late"));
  auto token = RequestTimeStamp(**tsa, kAlg, imprint);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  TokenVerifyOptions options;
  options.trust_anchors = {(*tsa)->ca_certificate()};
  auto info = VerifyToken(*token, kAlg, imprint, options);
  EXPECT_EQ(info.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(info.status().message().find("certificate has expired"), std::string::npos) << info.status().ToString();
}

// A token asked for with certReq = false carries no certificate; the caller
// may supply it.
TEST_F(TimeStampTest, TokenWithoutItsCertificateNeedsItFromTheCaller) {
  TsReqPtr request(TS_REQ_new());
  TsMsgImprintPtr msg_imprint(TS_MSG_IMPRINT_new());
  X509AlgorPtr algorithm(X509_ALGOR_new());
  X509_ALGOR_set_md(algorithm.get(), EVP_sha256());
  TS_MSG_IMPRINT_set_algo(msg_imprint.get(), algorithm.get());
  TS_MSG_IMPRINT_set_msg(msg_imprint.get(), imprint_.data(), static_cast<int>(imprint_.size()));
  TS_REQ_set_version(request.get(), 1);
  TS_REQ_set_msg_imprint(request.get(), msg_imprint.get());
  TsRespPtr response = DecodeResponse(tsa_->Exchange(ToDer(i2d_TS_REQ, request.get())).value());
  ASSERT_TRUE(response);
  Bytes token = ToDer(i2d_PKCS7, TS_RESP_get_token(response.get()));
  ASSERT_FALSE(token.empty());

  auto without = VerifyToken(token, kAlg, imprint_, Trusting());
  EXPECT_EQ(without.status().code(), StatusCode::kFailedPrecondition) << without.status().ToString();
  TokenVerifyOptions options = Trusting();
  options.intermediates = {tsa_->tsa_certificate()};
  auto with = VerifyToken(token, kAlg, imprint_, options);
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  EXPECT_EQ(with->tsa_certificate, tsa_->tsa_certificate());
  EXPECT_EQ(with->signature_key_bits, 256);

  options.intermediates = {ToBytes("not a certificate")};
  EXPECT_EQ(VerifyToken(token, kAlg, imprint_, options).status().code(), StatusCode::kInvalidArgument);
}

// A second certificate for the TSA's key, same issuer and serial number,
// other validity: swapped into the token, only ESSCertIDv2 tells them apart.
TEST_F(TimeStampTest, SwappedTsaCertificateFailsTheEssBinding) {
  Bytes token = Token();
  const unsigned char* p = tsa_->tsa_certificate().data();
  X509Ptr twin(d2i_X509(nullptr, &p, static_cast<long>(tsa_->tsa_certificate().size())));
  Bytes ca_key_pem = preserve::testing::ReadFileOrDie(tmp_ / "tsa" / "ca.key");
  BioPtr key_bio = MemoryBio(ca_key_pem);
  EvpPkeyPtr ca_key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  Asn1TimePtr not_after(ASN1_TIME_set(nullptr, static_cast<time_t>(At("2031-01-01").time_since_epoch().count())));
  ASSERT_TRUE(twin && ca_key && not_after);
  X509_set1_notAfter(twin.get(), not_after.get());
  ASSERT_GT(X509_sign(twin.get(), ca_key.get(), EVP_sha256()), 0);

  p = token.data();
  Pkcs7Ptr pkcs7(d2i_PKCS7(nullptr, &p, static_cast<long>(token.size())));
  ASSERT_TRUE(pkcs7);
  X509Ptr original(sk_X509_value(pkcs7->d.sign->cert, 0));
  sk_X509_set(pkcs7->d.sign->cert, 0, twin.release());
  Bytes swapped = ToDer(i2d_PKCS7, pkcs7.get());

  auto info = VerifyToken(swapped, kAlg, imprint_, Trusting());
  EXPECT_EQ(info.status().code(), StatusCode::kCorruption);
  EXPECT_NE(info.status().message().find("ESSCertID"), std::string::npos) << info.status().ToString();
}

// --- Parsing hostile input ---

TEST_F(TimeStampTest, TruncatedTokenIsAnErrorNeverACrash) {
  Bytes token = Token();
  for (std::size_t length = 0; length < token.size(); ++length) {
    auto info = ParseToken(ByteView(token.data(), length));
    ASSERT_FALSE(info.ok()) << "length " << length;
    EXPECT_TRUE(info.status().code() == StatusCode::kCorruption || info.status().code() == StatusCode::kInvalidArgument)
        << info.status().ToString();
    EXPECT_EQ(VerifyToken(ByteView(token.data(), length), kAlg, imprint_, Trusting()).status().code(),
              info.status().code());
  }
  EXPECT_EQ(ERR_peek_error(), 0u) << "stale OpenSSL error left behind";
}

TEST_F(TimeStampTest, TrailingBytesAreAnError) {
  Bytes token = Token();
  token.push_back(0x00);
  auto info = ParseToken(token);
  EXPECT_EQ(info.status().code(), StatusCode::kCorruption);
  EXPECT_NE(info.status().message().find("after its end"), std::string::npos) << info.status().ToString();
}

TEST(TimeStamp, SignedDataThatIsNotATokenIsAnError) {
  Bytes cms = preserve::testing::ReadFileOrDie(preserve::testing::SourceDir() / "tests/fixtures/signed/letter.txt.p7s");
  auto info = ParseToken(cms);
  EXPECT_EQ(info.status().code(), StatusCode::kCorruption);
  EXPECT_NE(info.status().message().find("TSTInfo"), std::string::npos) << info.status().ToString();
  EXPECT_EQ(ParseToken(ToBytes("not DER at all")).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace preserve::timestamp
