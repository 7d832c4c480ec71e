// Issue 15 through the real `preserve` executable: a bulk ingest fetches each
// CRL once, the next ingest on the same store fetches nothing while the CRLs
// are fresh, and once the (simulated) time passes their nextUpdate they are
// fetched once again. The CRLs are served by a loopback server that counts
// its GETs; the PKI is scripts/make-revocation-pki.sh's, its distribution
// points on that server (tests/testing/revocation_pki.h).
#include <boost/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "../signature/cms_test_signer.h"
#include "preserve/util/certificates.h"
#include "revocation_pki.h"
#include "store_cli_fixture.h"

namespace preserve::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr int kDocuments = 60;

class RevocationCacheCli : public StoreCli {
 protected:
  void SetUp() override {
    StoreCli::SetUp();
    MakeRevocationPki(pki(), server_);
  }

  std::filesystem::path pki() const { return dir_ / "pki"; }

  // `kDocuments` letters signed by signer-crl-only (CRL distribution point
  // only; the issuing CA, carried in each signature, names the root's) in a
  // folder of their own: each run ingests documents it has not seen.
  std::string SignedFolder(const std::string& name) {
    const std::filesystem::path folder = dir_ / name;
    std::filesystem::create_directories(folder);
    TestSignOptions sign;
    sign.signing_time = std::chrono::floor<std::chrono::seconds>(SystemClock().Now()) - 1h;
    sign.certificates = {ReadPem("issuing-ca")};
    for (int i = 0; i < kDocuments; ++i) {
      const std::string file = "letter-" + std::to_string(i) + ".txt";
      const Bytes letter = ToBytes("Công văn số " + std::to_string(i) + "/" + name + "\n");
      WriteFile(folder / file, letter);
      WriteFile(folder / (file + ".p7s"),
                SignDetached(letter, pki() / "signer-crl-only.pem", pki() / "signer-crl-only.key", sign));
    }
    return folder.string();
  }

  Bytes ReadPem(const std::string& name) {
    auto certs = LoadCertificates(pki() / (name + ".pem"));
    EXPECT_TRUE(certs.ok()) << certs.status().ToString();
    return certs.ok() ? certs->front() : Bytes{};
  }

  // `preserve ingest --json` of `folder`: how many documents were accepted
  // with both CRLs (the signer's, the issuing CA's) in their material.
  int IngestAccepted(const std::string& folder, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"ingest", "--json", "--no-seal", "--trust", (pki() / "root-ca.pem").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(folder);
    CommandResult r = Preserve(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    int accepted = 0;
    for (const std::string& line : Lines(r.out)) {
      if (line.empty() || line.front() != '{') continue;
      const json::object o = json::parse(line).as_object();
      const json::value* outcome = o.if_contains("outcome");
      const json::value* signatures = o.if_contains("signatures");
      if (outcome == nullptr || !outcome->is_string() || outcome->as_string() != "accepted" || signatures == nullptr || !signatures->is_array() ||
          signatures->as_array().size() != 1)
        continue;
      const json::value* crls = signatures->as_array().front().as_object().if_contains("crls");
      if (crls != nullptr && crls->to_number<int>() == 2) ++accepted;
    }
    return accepted;
  }

  CountingFileServer server_{dir_ / "pki"};
};

TEST_F(RevocationCacheCli, OneGetPerCrlThenNoneWhileFreshThenOneAfterNextUpdate) {
  // The first run: one GET per CRL for all the documents.
  EXPECT_EQ(IngestAccepted(SignedFolder("first")), kDocuments);
  EXPECT_EQ(server_.Count("GET /issuing.crl"), 1);
  EXPECT_EQ(server_.Count("GET /root.crl"), 1);

  // The next run, another process on the same store: the CRLs it kept.
  EXPECT_EQ(IngestAccepted(SignedFolder("second")), kDocuments);
  EXPECT_EQ(server_.Count("GET /issuing.crl"), 1);
  EXPECT_EQ(server_.Count("GET /root.crl"), 1);

  // Two days on (the CRLs said next update within 24 hours): fetched again,
  // once, and the CAs' new CRLs (fresh then) are what the packages carry.
  const TimePoint later = std::chrono::floor<std::chrono::seconds>(SystemClock().Now()) + 48h;
  IssueCrl(pki(), "root", "root-next.crl", later - 1h, later + 24h);
  IssueCrl(pki(), "issuing", "issuing-next.crl", later - 1h, later + 24h);
  server_.ServeGet("/root.crl", "root-next.crl");
  server_.ServeGet("/issuing.crl", "issuing-next.crl");
  EXPECT_EQ(IngestAccepted(SignedFolder("third"), {"--now", FormatUtcTime(later)}), kDocuments);
  EXPECT_EQ(server_.Count("GET /issuing.crl"), 2);
  EXPECT_EQ(server_.Count("GET /root.crl"), 2);

  // And those are kept in turn.
  EXPECT_EQ(IngestAccepted(SignedFolder("fourth"), {"--now", FormatUtcTime(later + 1h)}), kDocuments);
  EXPECT_EQ(server_.total(), 4);
}

TEST_F(RevocationCacheCli, OfflineIngestFetchesNothing) {
  CommandResult r = Preserve({"ingest", "--no-seal", "--offline", "--trust", (pki() / "root-ca.pem").string(),
                              SignedFolder("offline")});
  EXPECT_EQ(r.exit_code, 3) << r.err;  // TRY_LATER: no local data, and fetching is off
  EXPECT_EQ(server_.total(), 0);
}

TEST_F(RevocationCacheCli, NegativeOcspMaxAgeIsAUsageError) {
  CommandResult r = Preserve({"ingest", "--ocsp-max-age=-5", "--trust", (pki() / "root-ca.pem").string(),
                              SignedFolder("usage")});
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_TRUE(Contains(r.err, "--ocsp-max-age")) << r.err;
}

}  // namespace
}  // namespace preserve::testing
