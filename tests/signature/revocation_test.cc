// Revocation in ValidateCms against real peers on loopback: a PKI made at test
// time by scripts/make-revocation-pki.sh (its certificates name the ports), a
// real `openssl ocsp -index` responder, and a loopback HTTP server serving the
// CRLs. Claimed signing times are 30 days back; see the script for which
// certificate is revoked when.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cms_test_signer.h"
#include "loopback_http_server.h"
#include "preserve/signature/signature_validation.h"
#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/util/certificates.h"
#include "testing.h"

extern char** environ;

namespace preserve::signature {
namespace {

using namespace std::chrono_literals;
using preserve::testing::ReadFileOrDie;
using preserve::testing::Reply;
using preserve::testing::SourceDir;
using preserve::testing::TempDir;

// The port of a loopback URL the test server library hands out.
std::string PortOf(const std::string& url) {
  std::size_t start = url.rfind(':') + 1;
  return url.substr(start, url.find('/', start) - start);
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool AnyContains(const std::vector<std::string>& texts, const std::string& part) {
  return std::any_of(texts.begin(), texts.end(), [&](const std::string& t) { return Contains(t, part); });
}

std::string Joined(const std::vector<std::string>& texts) {
  std::string out;
  for (const std::string& t : texts) out += t + "\n";
  return out;
}

// `openssl ocsp -index ... -port P` in the background, stopped (by its pid)
// when this goes.
class OcspResponder {
 public:
  OcspResponder(const std::filesystem::path& pki, const std::string& port) : port_(port) {
    std::vector<std::string> args = {"openssl", "ocsp", "-index", (pki / "issuing/index.txt").string(),
                                     "-port", port, "-rsigner", (pki / "ocsp-responder.pem").string(),
                                     "-rkey", (pki / "ocsp-responder.key").string(),
                                     "-CA", (pki / "issuing-ca.pem").string(), "-ignore_err"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = (pki / "ocsp.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = posix_spawnp(&pid_, "openssl", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      ADD_FAILURE() << "cannot start openssl ocsp: the openssl binary is required (scripts/setup.sh)";
      return;
    }
    // Ready once it says so. Not by connecting: OpenSSL 3.0's responder spins
    // on a connection closed without a request.
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (ToString(ReadFileOrDie(log)).find("waiting for OCSP client connections") != std::string::npos) return;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "openssl ocsp did not start listening on " << port << ":\n" << ToString(ReadFileOrDie(log));
  }
  ~OcspResponder() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  OcspResponder(const OcspResponder&) = delete;
  OcspResponder& operator=(const OcspResponder&) = delete;
  std::string url() const { return "http://127.0.0.1:" + port_ + "/"; }

 private:
  std::string port_;
  pid_t pid_ = -1;
};

class RevocationTest : public ::testing::Test {
 protected:
  RevocationTest() : clock_(SystemClock().Now()), claimed_(clock_.Now() - 24h * 30) {}

  void SetUp() override {
    crl_server_ = std::make_unique<preserve::testing::TestServer>(
        [this](const preserve::testing::HttpRequest& request) { return ServeCrl(request); });
    ocsp_port_ = std::to_string(preserve::testing::QuietPort());
    auto made = preserve::testing::Run({"bash", (SourceDir() / "scripts/make-revocation-pki.sh").string(),
                                        pki().string(), ocsp_port_, PortOf(crl_server_->url())});
    ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
    options_.trust_anchors = {Cert("root-ca")};
    options_.clock = &clock_;
    options_.revocation.timeout = 5000ms;
  }

  std::filesystem::path pki() const { return dir_.path() / "pki"; }

  Bytes Cert(const std::string& name) {
    auto certs = LoadCertificates(pki() / (name + ".pem"));
    EXPECT_TRUE(certs.ok()) << certs.status().ToString();
    return certs.ok() ? certs->front() : Bytes{};
  }
  Bytes File(const std::string& name) { return ReadFileOrDie(pki() / name); }

  void StartResponder() { responder_ = std::make_unique<OcspResponder>(pki(), ocsp_port_); }

  Reply ServeCrl(const preserve::testing::HttpRequest& request) {
    auto file = served_.find(std::string(request.target()));
    if (file == served_.end()) return Reply{404, "text/plain", ToBytes("no such CRL"), 0ms};
    return Reply{200, "application/pkix-crl", ReadFileOrDie(pki() / file->second), 0ms};
  }

  Bytes Sign(const std::string& signer, preserve::testing::TestSignOptions sign = {}) {
    if (!sign.signing_time) sign.signing_time = claimed_;
    sign.certificates.push_back(Cert("issuing-ca"));
    return preserve::testing::SignDetached(letter_, pki() / (signer + ".pem"), pki() / (signer + ".key"), sign);
  }

  SignatureReport Validate(const Bytes& signature) {
    return preserve::testing::ValidateOneSigner(signature, letter_, options_);
  }

  // A signature time-stamp from preserve's embedded TSA, made at `at`.
  Bytes StampedAt(const Bytes& signature, TimePoint at) {
    ManualClock tsa_clock(clock_.Now() - 24h * 400);
    EXPECT_TRUE(timestamp::CreateEmbeddedTsa(dir_.path() / "tsa", {}, tsa_clock).ok());
    tsa_clock.Set(at);
    auto tsa = timestamp::EmbeddedTsa::Open(dir_.path() / "tsa", tsa_clock);
    EXPECT_TRUE(tsa.ok()) << tsa.status().ToString();
    if (!tsa.ok()) return {};
    options_.timestamp_trust_anchors = {(*tsa)->ca_certificate()};
    Bytes token = preserve::testing::TimeStampToken(**tsa, preserve::testing::SignatureValue(signature));
    return preserve::testing::WithSignatureTimeStamp(signature, token);
  }

  TempDir dir_;
  ManualClock clock_;
  TimePoint claimed_;
  Bytes letter_ = ToBytes("Công văn số 6587/UBND-CNXD\n");
  CmsValidationOptions options_;
  std::map<std::string, std::string> served_ = {{"/root.crl", "root.crl"}, {"/issuing.crl", "issuing.crl"}};
  std::unique_ptr<preserve::testing::TestServer> crl_server_;
  std::string ocsp_port_;
  std::unique_ptr<OcspResponder> responder_;
};

TEST_F(RevocationTest, OcspGoodAndCrlGoodMakeTheSignatureValid) {
  StartResponder();
  SignatureReport r = Validate(Sign("signer-good"));
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_TRUE(Contains(r.revocation, "Good Signer: good (OCSP " + responder_->url() + ")")) << r.revocation;
  EXPECT_TRUE(Contains(r.revocation, "Revocation Test Issuing CA: good (CRL http://127.0.0.1:")) << r.revocation;
  EXPECT_TRUE(r.warnings.empty()) << Joined(r.warnings);
  // The material that settled it, kept for later verification.
  ASSERT_EQ(r.ocsp_responses.size(), 1u);
  ASSERT_EQ(r.crls.size(), 1u);
  EXPECT_EQ(r.crls[0], File("root.crl"));
  EXPECT_NE(std::find(r.certificates.begin(), r.certificates.end(), Cert("ocsp-responder")), r.certificates.end());
}

TEST_F(RevocationTest, RevokedBeforeTheClaimedSigningTimeIsRevoked) {
  StartResponder();
  SignatureReport r = Validate(Sign("signer-revoked-before"));
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.sub_indication, SubIndication::kRevoked) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "Signer Revoked Before")) << r.reason;
  EXPECT_EQ(r.ocsp_responses.size(), 1u);
}

TEST_F(RevocationTest, RevokedAfterTheClaimedSigningTimeIsRevokedNoPoe) {
  StartResponder();
  SignatureReport r = Validate(Sign("signer-revoked-after"));
  EXPECT_EQ(r.verdict, Verdict::kIndeterminate);
  EXPECT_EQ(r.sub_indication, SubIndication::kRevokedNoPoe) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "no signature time-stamp proves")) << r.reason;
}

TEST_F(RevocationTest, RevokedAfterATimeStampedSigningTimePassesWithAWarning) {
  StartResponder();
  Bytes signature = StampedAt(Sign("signer-revoked-after"), claimed_ + 24h * 10);  // revoked at T-10d
  SignatureReport r = Validate(signature);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_FALSE(r.signing_time_claimed);
  EXPECT_EQ(r.signing_time, claimed_ + 24h * 10);
  EXPECT_TRUE(AnyContains(r.warnings, "after the signature time-stamp proves")) << Joined(r.warnings);
}

TEST_F(RevocationTest, RevokedBeforeATimeStampIsRevokedNoPoe) {
  StartResponder();
  Bytes signature = StampedAt(Sign("signer-revoked-after"), clock_.Now() - 24h * 5);  // revoked at T-10d
  SignatureReport r = Validate(signature);
  EXPECT_FALSE(r.signing_time_claimed);
  EXPECT_EQ(r.sub_indication, SubIndication::kRevokedNoPoe) << r.reason;
}

TEST_F(RevocationTest, RevokedBeforeATimeStampAndTheClaimIsRevoked) {
  StartResponder();
  Bytes signature = StampedAt(Sign("signer-revoked-before"), clock_.Now() - 24h * 5);  // revoked at T-60d
  SignatureReport r = Validate(signature);
  EXPECT_EQ(r.sub_indication, SubIndication::kRevoked) << r.reason;
}

TEST_F(RevocationTest, UnknownToTheResponderIsTryLater) {
  StartResponder();
  SignatureReport r = Validate(Sign("signer-unknown"));
  EXPECT_EQ(r.verdict, Verdict::kIndeterminate);
  EXPECT_EQ(r.sub_indication, SubIndication::kTryLater) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "status unknown")) << r.reason;
}

TEST_F(RevocationTest, ResponderDownIsTryLater) {
  SignatureReport r = Validate(Sign("signer-ocsp-only"));
  EXPECT_EQ(r.sub_indication, SubIndication::kTryLater) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "cannot connect to http://127.0.0.1:" + ocsp_port_)) << r.reason;
  EXPECT_TRUE(r.ocsp_responses.empty());
}

TEST_F(RevocationTest, ResponderDownFallsBackToTheCrl) {
  SignatureReport r = Validate(Sign("signer-good"));
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_TRUE(Contains(r.revocation, "Good Signer: good (CRL http://127.0.0.1:")) << r.revocation;
  EXPECT_EQ(r.crls.size(), 2u);
}

TEST_F(RevocationTest, OcspOnlyPathIsValid) {
  StartResponder();
  SignatureReport r = Validate(Sign("signer-ocsp-only"));
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
}

TEST_F(RevocationTest, CrlOnlyPathIsValid) {
  SignatureReport r = Validate(Sign("signer-crl-only"));
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  ASSERT_EQ(r.crls.size(), 2u);
  EXPECT_EQ(r.crls[0], File("issuing.crl"));
  EXPECT_EQ(r.crls[1], File("root.crl"));
  EXPECT_TRUE(r.ocsp_responses.empty());
}

TEST_F(RevocationTest, CrlOnlyRevokedIsRevoked) {
  SignatureReport r = Validate(Sign("signer-revoked-before"));  // names OCSP too, but nothing answers there
  EXPECT_EQ(r.sub_indication, SubIndication::kRevoked) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "CRL http://127.0.0.1:")) << r.reason;
}

TEST_F(RevocationTest, LocalCrlsWorkOffline) {
  options_.revocation.online = false;
  options_.revocation.crls = {File("issuing.crl"), File("root.crl")};
  SignatureReport good = Validate(Sign("signer-good"));
  EXPECT_EQ(good.verdict, Verdict::kValid) << good.reason;
  EXPECT_TRUE(Contains(good.revocation, "Good Signer: good (a local CRL)")) << good.revocation;
  SignatureReport revoked = Validate(Sign("signer-revoked-before"));
  EXPECT_EQ(revoked.sub_indication, SubIndication::kRevoked) << revoked.reason;
  EXPECT_EQ(crl_server_->requests(), 0);
}

// PrepareTrust checks each local CRL's signature once, against the anchors
// and the pool; the reports must be those of unprepared options, whether the
// CRL's issuer is in the pool (checked once) or only in the signature
// (checked every time), for good, revoked, on-hold and stale answers.
TEST_F(RevocationTest, PreparedLocalCrlsGiveTheSameReports) {
  options_.revocation.online = false;
  options_.revocation.crls = {File("issuing-stale.crl"), File("issuing.crl"), File("root.crl")};
  const std::vector<Bytes> signatures = {Sign("signer-good"), Sign("signer-crl-only"), Sign("signer-revoked-before"),
                                         Sign("signer-revoked-after"), Sign("signer-on-hold")};
  for (const std::vector<Bytes>& pool : {std::vector<Bytes>{}, std::vector<Bytes>{Cert("issuing-ca")}}) {
    options_.intermediates = pool;
    CmsValidationOptions prepared = options_;
    ASSERT_TRUE(PrepareTrust(prepared).ok());
    for (const Bytes& signature : signatures) {
      SignatureReport expected = Validate(signature);
      auto result = ValidateCms(signature, ByteView(letter_), prepared);
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      ASSERT_EQ(result->signers.size(), 1u);
      const SignatureReport& r = result->signers.front();
      EXPECT_EQ(r.sub_indication, expected.sub_indication) << r.reason;
      EXPECT_EQ(r.reason, expected.reason);
      EXPECT_EQ(r.revocation, expected.revocation);
      EXPECT_EQ(r.warnings, expected.warnings);
      EXPECT_EQ(r.crls, expected.crls);
      EXPECT_EQ(r.certificates, expected.certificates);
    }
  }
}

TEST_F(RevocationTest, OfflineWithoutLocalDataIsTryLater) {
  options_.revocation.online = false;
  SignatureReport r = Validate(Sign("signer-good"));
  EXPECT_EQ(r.sub_indication, SubIndication::kTryLater) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "fetching revocation data is off")) << r.reason;
  EXPECT_EQ(crl_server_->requests(), 0);
}

TEST_F(RevocationTest, LocalOcspResponseFromTheOpenSslClientWorksOffline) {
  StartResponder();
  const std::string response = (pki() / "good.ocsp").string();
  auto fetched = preserve::testing::Run({"openssl", "ocsp", "-issuer", (pki() / "issuing-ca.pem").string(), "-cert",
                                         (pki() / "signer-good.pem").string(), "-url", responder_->url(), "-respout",
                                         response, "-noverify"});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.out << fetched.err;
  responder_.reset();
  options_.revocation.online = false;
  options_.revocation.ocsp_responses = {ReadFileOrDie(response)};
  options_.revocation.crls = {File("root.crl")};
  SignatureReport r = Validate(Sign("signer-good"));
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_TRUE(Contains(r.revocation, "Good Signer: good (a local OCSP response)")) << r.revocation;
}

TEST_F(RevocationTest, CrlsCarriedByTheSignatureComeFirst) {
  options_.revocation.online = false;
  preserve::testing::TestSignOptions sign;
  sign.crls = {File("issuing.crl"), File("root.crl")};
  SignatureReport r = Validate(Sign("signer-good", sign));
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_TRUE(Contains(r.revocation, "Good Signer: good (the CRL the signature carries)")) << r.revocation;
}

TEST_F(RevocationTest, StaleCrlIsTryLater) {
  served_["/issuing.crl"] = "issuing-stale.crl";
  SignatureReport r = Validate(Sign("signer-crl-only"));
  EXPECT_EQ(r.sub_indication, SubIndication::kTryLater) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "is stale")) << r.reason;
}

TEST_F(RevocationTest, StaleCrlStillProvesARevocation) {
  served_["/issuing.crl"] = "issuing-stale.crl";
  SignatureReport r = Validate(Sign("signer-revoked-before"));
  EXPECT_EQ(r.sub_indication, SubIndication::kRevoked) << r.reason;
}

TEST_F(RevocationTest, CrlOfAnotherIssuerIsNotUsed) {
  served_["/issuing.crl"] = "root.crl";
  SignatureReport r = Validate(Sign("signer-crl-only"));
  EXPECT_EQ(r.sub_indication, SubIndication::kTryLater) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "is not a CRL of")) << r.reason;
}

TEST_F(RevocationTest, MissingCrlIsTryLater) {
  served_.erase("/issuing.crl");
  SignatureReport r = Validate(Sign("signer-crl-only"));
  EXPECT_EQ(r.sub_indication, SubIndication::kTryLater) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "answered HTTP 404")) << r.reason;
}

TEST_F(RevocationTest, CertificateOnHoldIsTryLater) {
  StartResponder();
  SignatureReport r = Validate(Sign("signer-on-hold"));
  EXPECT_EQ(r.sub_indication, SubIndication::kTryLater) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "suspended")) << r.reason;
}

TEST_F(RevocationTest, RevokedCaIsRevokedCaNoPoe) {
  // The issuing CA on the root's CRL, revoked yesterday.
  const std::string config = (pki() / "ca.cnf").string();
  auto revoked = preserve::testing::Run({"openssl", "ca", "-config", config, "-name", "root", "-revoke",
                                         (pki() / "issuing-ca.pem").string(), "-crl_reason", "cACompromise"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  auto crl = preserve::testing::Run(
      {"openssl", "ca", "-gencrl", "-config", config, "-name", "root", "-out", (pki() / "root-revoked.pem").string()});
  ASSERT_EQ(crl.exit_code, 0) << crl.err;
  auto der = preserve::testing::Run({"openssl", "crl", "-in", (pki() / "root-revoked.pem").string(), "-outform", "DER",
                                     "-out", (pki() / "root-revoked.crl").string()});
  ASSERT_EQ(der.exit_code, 0) << der.err;
  served_["/root.crl"] = "root-revoked.crl";
  StartResponder();
  SignatureReport r = Validate(Sign("signer-good"));
  EXPECT_EQ(r.verdict, Verdict::kIndeterminate);
  EXPECT_EQ(r.sub_indication, SubIndication::kRevokedCaNoPoe) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "Revocation Test Issuing CA")) << r.reason;
}

TEST_F(RevocationTest, CertificateNamingNoPointerIsAWarning) {
  SignatureReport r = Validate(Sign("signer-no-pointers"));
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  ASSERT_EQ(r.warnings.size(), 1u) << Joined(r.warnings);
  EXPECT_TRUE(Contains(r.warnings[0], "Signer Without Pointers")) << r.warnings[0];
  EXPECT_TRUE(Contains(r.warnings[0], "revocation not checkable: names no CRL distribution point or OCSP responder"));
  EXPECT_TRUE(Contains(r.revocation, "Signer Without Pointers: not checkable")) << r.revocation;
  EXPECT_TRUE(Contains(r.revocation, "Revocation Test Issuing CA: good (CRL")) << r.revocation;
}

TEST_F(RevocationTest, LocalCrlChecksACertificateNamingNoPointer) {
  options_.revocation.crls = {File("issuing.crl")};
  SignatureReport r = Validate(Sign("signer-no-pointers"));
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_TRUE(r.warnings.empty()) << Joined(r.warnings);
  EXPECT_TRUE(Contains(r.revocation, "Signer Without Pointers: good (a local CRL)")) << r.revocation;
}

TEST_F(RevocationTest, CheckingOffIsSaid) {
  options_.revocation.check = false;
  SignatureReport r = Validate(Sign("signer-revoked-before"));
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_EQ(r.revocation, "not checked (revocation checking is off)");
  EXPECT_EQ(crl_server_->requests(), 0);
}

TEST_F(RevocationTest, GarbageLocalCrlIsAnError) {
  options_.revocation.crls = {ToBytes("not a CRL")};
  auto result = ValidateCms(Sign("signer-good"), ByteView(letter_), options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

// The committed fixtures name no CRL distribution point or OCSP responder.
TEST(RevocationOfFixtures, CertificatesWithoutPointersAreWarningsNotFailures) {
  SystemClock clock;
  CmsValidationOptions options;
  auto anchors = LoadCertificates(SourceDir() / "tests/fixtures/pki/root-ca.pem");
  ASSERT_TRUE(anchors.ok());
  options.trust_anchors = *anchors;
  options.clock = &clock;
  auto result = ValidateCms(ReadFileOrDie(SourceDir() / "tests/fixtures/signed/letter.txt.p7s"),
                            ByteView(ReadFileOrDie(SourceDir() / "tests/fixtures/signed/letter.txt")), options);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->signers.size(), 1u);
  const SignatureReport& r = result->signers[0];
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  EXPECT_EQ(r.warnings.size(), 2u);  // the signer's and the issuing CA's
  EXPECT_EQ(r.revocation,
            "not checkable: no certificate of the path names a CRL distribution point or OCSP responder");
  EXPECT_TRUE(r.crls.empty());
}

}  // namespace
}  // namespace preserve::signature
