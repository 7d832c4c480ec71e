// RevocationCache (issue 15): online revocation data fetched once per source
// while fresh, against a loopback server that counts what it is asked. The
// PKI is scripts/make-revocation-pki.sh's, its CRL distribution points and
// OCSP responder on that server; the OCSP response it serves is made by
// `openssl ocsp` acting as the responder on a request file.
#include <openssl/x509.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cms_test_signer.h"
#include "preserve/signature/revocation_cache.h"
#include "preserve/signature/signature_validation.h"
#include "preserve/util/certificates.h"
#include "revocation_pki.h"
#include "testing.h"

namespace preserve::signature {
namespace {

using namespace std::chrono_literals;
using preserve::testing::CountingFileServer;
using preserve::testing::ReadFileOrDie;
using preserve::testing::TempDir;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// thisUpdate or nextUpdate of a DER CRL.
TimePoint CrlTime(const Bytes& der, bool next) {
  const unsigned char* p = der.data();
  X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size()));
  EXPECT_NE(crl, nullptr);
  if (crl == nullptr) return {};
  std::tm tm{};
  EXPECT_EQ(ASN1_TIME_to_tm(next ? X509_CRL_get0_nextUpdate(crl) : X509_CRL_get0_lastUpdate(crl), &tm), 1);
  X509_CRL_free(crl);
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

class RevocationCacheTest : public ::testing::Test {
 protected:
  RevocationCacheTest() : clock_(std::chrono::floor<std::chrono::seconds>(SystemClock().Now())) {}

  void SetUp() override {
    preserve::testing::MakeRevocationPki(pki(), server_);
    options_.trust_anchors = {Cert("root-ca")};
    options_.clock = &clock_;
    options_.revocation.timeout = 5000ms;
    options_.revocation.cache = cache_;
  }

  std::filesystem::path pki() const { return dir_.path() / "pki"; }

  Bytes Cert(const std::string& name) {
    auto certs = LoadCertificates(pki() / (name + ".pem"));
    EXPECT_TRUE(certs.ok()) << certs.status().ToString();
    return certs.ok() ? certs->front() : Bytes{};
  }

  // A signature by `signer` over a letter of its own (distinct documents,
  // as a bulk ingest has them).
  Bytes Sign(const std::string& signer, int n) {
    preserve::testing::TestSignOptions sign;
    sign.signing_time = clock_.Now() - 24h;
    sign.certificates.push_back(Cert("issuing-ca"));
    return preserve::testing::SignDetached(Letter(n), pki() / (signer + ".pem"), pki() / (signer + ".key"), sign);
  }
  static Bytes Letter(int n) { return ToBytes("Công văn số " + std::to_string(n) + "/UBND-CNXD\n"); }

  SignatureReport Validate(const Bytes& signature, int n) {
    return preserve::testing::ValidateOneSigner(signature, Letter(n), options_);
  }

  // `openssl ocsp` answers a request about signer-ocsp-only, as its
  // responder would (no nonce; nextUpdate `days` after now when given), and
  // the server serves that answer to every POST.
  void ServeOcspResponse(int days) {
    const std::string request = (pki() / "request.der").string();
    auto asked = preserve::testing::Run({"openssl", "ocsp", "-issuer", (pki() / "issuing-ca.pem").string(), "-cert",
                                         (pki() / "signer-ocsp-only.pem").string(), "-no_nonce", "-reqout", request});
    ASSERT_EQ(asked.exit_code, 0) << asked.err;
    std::vector<std::string> answer = {"openssl", "ocsp", "-index", (pki() / "issuing/index.txt").string(), "-CA",
                                       (pki() / "issuing-ca.pem").string(), "-rsigner",
                                       (pki() / "ocsp-responder.pem").string(), "-rkey",
                                       (pki() / "ocsp-responder.key").string(), "-reqin", request, "-respout",
                                       (pki() / "good.ocsp").string()};
    if (days > 0) answer.insert(answer.end(), {"-ndays", std::to_string(days)});
    auto answered = preserve::testing::Run(answer);
    ASSERT_EQ(answered.exit_code, 0) << answered.out << answered.err;
    server_.ServePost("good.ocsp");
  }

  TempDir dir_;
  ManualClock clock_;
  CountingFileServer server_{dir_.path() / "pki"};
  std::shared_ptr<RevocationCache> cache_ = std::make_shared<RevocationCache>();
  CmsValidationOptions options_;
};

TEST_F(RevocationCacheTest, EachCrlIsFetchedAndVerifiedOnceForManyDocuments) {
  for (int n = 0; n < 5; ++n) {
    SignatureReport r = Validate(Sign("signer-crl-only", n), n);
    EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
    // Every report carries the material that settled it, reused or not.
    ASSERT_EQ(r.crls.size(), 2u);
    EXPECT_EQ(r.crls[0], ReadFileOrDie(pki() / "issuing.crl"));
    EXPECT_EQ(r.crls[1], ReadFileOrDie(pki() / "root.crl"));
    EXPECT_TRUE(Contains(r.revocation, "CRL-only Signer: good (CRL http://127.0.0.1:")) << r.revocation;
  }
  EXPECT_EQ(server_.Count("GET /issuing.crl"), 1);
  EXPECT_EQ(server_.Count("GET /root.crl"), 1);
  RevocationCache::Stats stats = cache_->stats();
  EXPECT_EQ(stats.fetches, 2u);
  EXPECT_EQ(stats.reused, 8u);
  EXPECT_EQ(stats.crl_signature_checks, 2u);  // each CRL under its issuer's key, once
}

TEST_F(RevocationCacheTest, WithoutACacheEveryDocumentFetches) {
  options_.revocation.cache = nullptr;
  for (int n = 0; n < 3; ++n) EXPECT_EQ(Validate(Sign("signer-crl-only", n), n).verdict, Verdict::kValid);
  EXPECT_EQ(server_.Count("GET /issuing.crl"), 3);
  EXPECT_EQ(server_.Count("GET /root.crl"), 3);
}

TEST_F(RevocationCacheTest, ACrlIsReusedUntilItsNextUpdateAndFetchedAgainAfter) {
  // The root's CRL outlives the issuing CA's, which alone is watched here.
  const TimePoint next_update = clock_.Now() + 24h;
  preserve::testing::IssueCrl(pki(), "root", "root.crl", clock_.Now() - 1h, clock_.Now() + 7 * 24h);
  preserve::testing::IssueCrl(pki(), "issuing", "issuing.crl", clock_.Now() - 1h, next_update);
  ASSERT_EQ(CrlTime(ReadFileOrDie(pki() / "issuing.crl"), true), next_update);
  const Bytes signature = Sign("signer-crl-only", 0);
  EXPECT_EQ(Validate(signature, 0).verdict, Verdict::kValid);
  clock_.Set(next_update);  // the last moment it is fresh
  EXPECT_EQ(Validate(signature, 0).verdict, Verdict::kValid);
  EXPECT_EQ(server_.Count("GET /issuing.crl"), 1);

  // Past it, the CRL is fetched again: the CA's next one, fresh at that time.
  clock_.Set(next_update + 1s);
  preserve::testing::IssueCrl(pki(), "issuing", "issuing-next.crl", next_update - 1h, next_update + 24h);
  server_.ServeGet("/issuing.crl", "issuing-next.crl");
  SignatureReport r = Validate(signature, 0);
  EXPECT_EQ(server_.Count("GET /issuing.crl"), 2);
  EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
  ASSERT_FALSE(r.crls.empty());
  EXPECT_EQ(r.crls[0], ReadFileOrDie(pki() / "issuing-next.crl"));
  // And the new one is what is reused from then on.
  EXPECT_EQ(Validate(signature, 0).crls[0], ReadFileOrDie(pki() / "issuing-next.crl"));
  EXPECT_EQ(server_.Count("GET /issuing.crl"), 2);
}

TEST_F(RevocationCacheTest, AStaleCrlIsNotKept) {
  server_.ServeGet("/issuing.crl", "issuing-stale.crl");
  for (int n = 0; n < 2; ++n) {
    SignatureReport r = Validate(Sign("signer-crl-only", n), n);
    EXPECT_EQ(r.sub_indication, SubIndication::kTryLater) << r.reason;
    EXPECT_TRUE(Contains(r.reason, "is stale")) << r.reason;
  }
  EXPECT_EQ(server_.Count("GET /issuing.crl"), 2);
  EXPECT_EQ(server_.Count("GET /root.crl"), 1);
}

TEST_F(RevocationCacheTest, AnOcspResponseIsReusedForAtMostItsMaximumAge) {
  ServeOcspResponse(/*days=*/2);
  options_.revocation.ocsp_max_age = 3600s;
  const TimePoint start = clock_.Now();
  const Bytes signature = Sign("signer-ocsp-only", 0);
  for (TimePoint at : {start, start + 1800s, start + 3600s}) {
    clock_.Set(at);
    SignatureReport r = Validate(signature, 0);
    EXPECT_EQ(r.verdict, Verdict::kValid) << r.reason;
    EXPECT_EQ(r.ocsp_responses.size(), 1u);
    EXPECT_TRUE(Contains(r.revocation, "OCSP-only Signer: good (OCSP http://127.0.0.1:")) << r.revocation;
  }
  EXPECT_EQ(server_.Count("POST /"), 1);
  clock_.Set(start + 3601s);
  EXPECT_EQ(Validate(signature, 0).verdict, Verdict::kValid);
  EXPECT_EQ(server_.Count("POST /"), 2);
}

TEST_F(RevocationCacheTest, AnOcspResponseIsNotReusedPastItsNextUpdate) {
  ServeOcspResponse(/*days=*/1);
  options_.revocation.ocsp_max_age = 7 * 24h;
  const Bytes signature = Sign("signer-ocsp-only", 0);
  EXPECT_EQ(Validate(signature, 0).verdict, Verdict::kValid);
  clock_.Set(clock_.Now() + 23h);
  EXPECT_EQ(Validate(signature, 0).verdict, Verdict::kValid);
  EXPECT_EQ(server_.Count("POST /"), 1);
  clock_.Set(clock_.Now() + 2h);  // past nextUpdate: asked again (and the answer, stale now, refused)
  EXPECT_EQ(Validate(signature, 0).sub_indication, SubIndication::kTryLater);
  EXPECT_EQ(server_.Count("POST /"), 2);
}

TEST_F(RevocationCacheTest, MaximumAgeZeroAsksEveryTime) {
  ServeOcspResponse(/*days=*/1);
  options_.revocation.ocsp_max_age = 0s;
  const Bytes signature = Sign("signer-ocsp-only", 0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Validate(signature, 0).verdict, Verdict::kValid);
  EXPECT_EQ(server_.Count("POST /"), 3);
}

TEST_F(RevocationCacheTest, ConcurrentValidationsWaitForOneFetch) {
  constexpr int kThreads = 8;
  std::vector<Bytes> signatures;
  for (int n = 0; n < kThreads; ++n) signatures.push_back(Sign("signer-crl-only", n));
  server_.Delay(300ms);  // every validation asks while the first fetch is under way
  std::atomic<int> valid{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < kThreads; ++n)
    threads.emplace_back([&, n] {
      auto result = ValidateCms(signatures[static_cast<std::size_t>(n)], ByteView(Letter(n)), options_);
      if (result.ok() && result->verdict == Verdict::kValid && result->signers.front().crls.size() == 2) ++valid;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(valid, kThreads);
  EXPECT_EQ(server_.Count("GET /issuing.crl"), 1);
  EXPECT_EQ(server_.Count("GET /root.crl"), 1);
  EXPECT_EQ(cache_->stats().fetches, 2u);
}

// The forger's CA has the issuing CA's name but its own key: its CRL names
// the right issuer, is fetched from the right place, and must fail for every
// document, though its bytes are in the cache.
TEST_F(RevocationCacheTest, ACachedCrlIsStillCheckedForItsSigner) {
  const std::filesystem::path forger = dir_.path() / "forger";
  auto made = preserve::testing::Run(
      {"bash", (preserve::testing::SourceDir() / "scripts/make-revocation-pki.sh").string(), forger.string(), "9", "9"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::filesystem::copy_file(forger / "issuing.crl", pki() / "forged.crl");
  server_.ServeGet("/issuing.crl", "forged.crl");
  for (int n = 0; n < 3; ++n) {
    SignatureReport r = Validate(Sign("signer-crl-only", n), n);
    EXPECT_EQ(r.sub_indication, SubIndication::kTryLater) << r.reason;
    EXPECT_TRUE(Contains(r.reason, "is not signed by")) << r.reason;
  }
  EXPECT_EQ(server_.Count("GET /issuing.crl"), 1);
  // Only what proved authentic is offered for keeping: root.crl.
  auto items = cache_->TakeNew(clock_.Now(), 3600s);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_TRUE(items[0].key.ends_with("/root.crl")) << items[0].key;
}

TEST_F(RevocationCacheTest, ItemsKeptByOneRunServeTheNext) {
  ServeOcspResponse(/*days=*/1);
  EXPECT_EQ(Validate(Sign("signer-crl-only", 0), 0).verdict, Verdict::kValid);
  EXPECT_EQ(Validate(Sign("signer-ocsp-only", 1), 1).verdict, Verdict::kValid);
  std::vector<RevocationCache::Item> items = cache_->TakeNew(clock_.Now(), 3600s);
  ASSERT_EQ(items.size(), 3u);  // issuing.crl, root.crl, the OCSP response
  EXPECT_TRUE(cache_->TakeNew(clock_.Now(), 3600s).empty());  // handed out once
  const int asked = server_.total();

  // The next run: a new cache, given the items.
  auto next = std::make_shared<RevocationCache>();
  for (const auto& item : items) EXPECT_TRUE(next->Add(item, clock_.Now(), 3600s)) << item.key;
  options_.revocation.cache = next;
  SignatureReport crl = Validate(Sign("signer-crl-only", 2), 2);
  EXPECT_EQ(crl.verdict, Verdict::kValid) << crl.reason;
  EXPECT_EQ(crl.crls.size(), 2u);
  SignatureReport ocsp = Validate(Sign("signer-ocsp-only", 3), 3);
  EXPECT_EQ(ocsp.verdict, Verdict::kValid) << ocsp.reason;  // no nonce of this run's: accepted within max age
  EXPECT_EQ(ocsp.ocsp_responses.size(), 1u);
  EXPECT_EQ(server_.total(), asked);
  EXPECT_EQ(next->stats().fetches, 0u);

  // Items past their freshness, or not revocation data at all, are not taken.
  const TimePoint crl_due = CrlTime(ReadFileOrDie(pki() / "issuing.crl"), true);
  RevocationCache later;
  for (const auto& item : items) EXPECT_FALSE(later.Add(item, crl_due + 1h, 7 * 24h)) << item.key;
  RevocationCache garbage;
  EXPECT_FALSE(garbage.Add({"crl http://127.0.0.1/x.crl", ToBytes("not a CRL"), clock_.Now()}, clock_.Now(), 3600s));
  EXPECT_FALSE(garbage.Add({"other " + items[0].key, items[0].der, clock_.Now()}, clock_.Now(), 3600s));
}

}  // namespace
}  // namespace preserve::signature
