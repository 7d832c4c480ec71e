// The records officer's gate through the archive: the ingest policy, record
// metadata, group commit, list filters and the signature-use report.
#include <gtest/gtest.h>

#include "preserve/archive/archive.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/ingestion.h"
#include "preserve/archive/lifecycle.h"
#include "preserve/archive/maintenance.h"
#include "preserve/archive/sealing.h"
#include "preserve/archive/verification.h"
#include "preserve/package/manifest.h"
#include "preserve/util/certificates.h"
#include "archive_fixture.h"
#include "testing.h"

namespace preserve::archive {
namespace {

namespace fs = std::filesystem;

const fs::path kSigned = testing::SourceDir() / "tests" / "fixtures" / "signed";
const fs::path kPki = testing::SourceDir() / "tests" / "fixtures" / "pki";

std::string Metadata(const std::string& number, const std::string& organ, const std::string& type,
                     const std::string& issued, const std::string& extra = "") {
  return R"({"code_number": ")" + number + R"(", "code_notation": "UBND-VP", "issued_date": ")" + issued +
         R"(", "organ_name": ")" + organ + R"(", "type_name": ")" + type + R"(", "subject": "Trích yếu")" + extra +
         "}";
}

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Archive::Init(root_, {}, clock_).ok());
    auto opened = Archive::Open(root_, clock_, {.mode = OpenMode::kWritable});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    archive_ = std::move(opened).value();
    options_.trust_anchors = LoadCertificates(kPki / "root-ca.pem").value();
  }

  Submission Detached(const std::string& metadata_json = "") {
    Submission s{kSigned / "letter.txt.p7s", kSigned / "letter.txt", std::nullopt, ""};
    if (!metadata_json.empty()) {
      fs::path sidecar = dir_ / ("sidecar" + std::to_string(++sidecars_) + ".metadata.json");
      testing::WriteFile(sidecar, metadata_json);
      s.metadata = sidecar;
    }
    return s;
  }

  IngestOutcome IngestOne(const Submission& s) {
    auto outcome = archive::Ingestion(*archive_).Ingest(s, options_);
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    return outcome.ok() ? outcome.value() : IngestOutcome{};
  }

  std::vector<std::string> Events(const std::string& type) { return testing::AuditEventsOfType(*archive_, type); }

  testing::TempDir dir_;
  fs::path root_ = dir_ / "store";
  ManualClock clock_{ParseUtcTime("2026-11-27T08:00:00Z").value()};
  std::unique_ptr<Archive> archive_;
  IngestOptions options_;
  int sidecars_ = 0;
};

TEST_F(IngestTest, AcceptsAValidDocumentAndKeepsItsMetadataInTheManifest) {
  IngestOutcome o = IngestOne(Detached(Metadata("6587", "UBND tỉnh Đắk Nông", "Công văn", "2017-11-22",
                                                R"(, "retention": 10)")));
  ASSERT_TRUE(o.accepted) << o.reason;
  EXPECT_EQ(o.format, "CAdES detached");
  ASSERT_EQ(o.signatures.size(), 1u);
  EXPECT_EQ(o.signatures[0].report.verdict, Verdict::kValid);
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  auto contents = archive::Verification(*archive_).Contents(o.package_id);
  ASSERT_TRUE(contents.ok()) << contents.status().ToString();
  auto manifest = package::ManifestFromJson(contents->data.at(package::kManifestPath));
  ASSERT_TRUE(manifest.ok());
  ASSERT_TRUE(manifest->metadata.has_value());
  EXPECT_EQ(manifest->metadata->Citation(), "6587/UBND-VP");
  EXPECT_EQ(manifest->decision, "accepted: every signature TOTAL-PASSED");
  ASSERT_EQ(manifest->signatures.size(), 1u);
  EXPECT_EQ(manifest->signatures[0].format, "CAdES detached");
  // Retention from the metadata: ten years from ingest.
  auto lifecycle = archive::Lifecycle(*archive_).Of(o.package_id);
  ASSERT_TRUE(lifecycle.ok()) << lifecycle.status().ToString();
  EXPECT_FALSE(lifecycle->retention.permanent);
  EXPECT_EQ(lifecycle->retention.years, 10);
}

TEST_F(IngestTest, RefusesInvalidMetadataNamingTheField) {
  IngestOutcome o = IngestOne(Detached(R"({"code_number": "1", "issued_date": "2017-02-30"})"));
  EXPECT_FALSE(o.accepted);
  EXPECT_FALSE(o.error);
  EXPECT_NE(o.reason.find("METADATA_INVALID"), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find("issued_date"), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find("organ_name: required"), std::string::npos) << o.reason;
  auto page = archive::Catalogue(*archive_).List("", 10);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->empty());  // a refusal stores nothing but its audit event
  ASSERT_EQ(Events("refused").size(), 1u);
  EXPECT_NE(Events("refused")[0].find("\"category\":\"METADATA_INVALID\""), std::string::npos);
}

TEST_F(IngestTest, IndeterminateIsRefusedUnlessThePolicyAcceptsIt) {
  // No certificates in the signature and none given: NO_SIGNING_CERTIFICATE_FOUND, INDETERMINATE.
  Submission s{kSigned / "letter-no-certificates.txt.p7s", kSigned / "letter.txt", std::nullopt, ""};
  IngestOutcome refused = IngestOne(s);
  EXPECT_FALSE(refused.accepted);
  EXPECT_NE(refused.reason.find("NO_SIGNING_CERTIFICATE_FOUND"), std::string::npos) << refused.reason;
  EXPECT_NE(refused.reason.find("--accept-indeterminate"), std::string::npos) << refused.reason;

  options_.accept_indeterminate = true;
  IngestOutcome accepted = IngestOne(s);
  ASSERT_TRUE(accepted.accepted) << accepted.reason;
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  auto contents = archive::Verification(*archive_).Contents(accepted.package_id);
  ASSERT_TRUE(contents.ok()) << contents.status().ToString();
  auto manifest = package::ManifestFromJson(contents->data.at(package::kManifestPath));
  ASSERT_TRUE(manifest.ok());
  EXPECT_NE(manifest->decision.find("INDETERMINATE"), std::string::npos) << manifest->decision;
}

TEST_F(IngestTest, TotalFailedIsAlwaysRefused) {
  options_.accept_indeterminate = true;
  Submission s{kSigned / "letter.txt.p7s", kSigned / "letter-tampered.txt", std::nullopt, ""};
  IngestOutcome o = IngestOne(s);
  EXPECT_FALSE(o.accepted);
  EXPECT_NE(o.reason.find("HASH_FAILURE"), std::string::npos) << o.reason;
}

TEST_F(IngestTest, MalformedInputIsARefusalAndAMissingFileAnError) {
  IngestOutcome garbage = IngestOne({kSigned / "not-cms.p7s", std::nullopt, std::nullopt, ""});
  EXPECT_FALSE(garbage.accepted);
  EXPECT_FALSE(garbage.error);
  EXPECT_NE(garbage.reason.find("FORMAT_FAILURE"), std::string::npos) << garbage.reason;
  IngestOutcome missing = IngestOne({dir_ / "no-such.p7m", std::nullopt, std::nullopt, ""});
  EXPECT_TRUE(missing.error);
  EXPECT_FALSE(missing.accepted);
}

TEST_F(IngestTest, GroupCommitReportsEverySubmissionInOrder) {
  options_.allow_duplicate = true;  // the same letter, 294 times: each a package of its own
  std::vector<Submission> all;
  for (int i = 0; i < 300; ++i) {  // more than one group
    if (i % 50 == 7) {
      all.push_back({kSigned / "letter-untrusted-signer.txt.p7s", kSigned / "letter.txt", std::nullopt,
                     "bad-" + std::to_string(i)});
    } else {
      all.push_back({kSigned / "letter.p7m", std::nullopt, std::nullopt, "good-" + std::to_string(i)});
    }
  }
  std::vector<IngestOutcome> outcomes;
  ASSERT_TRUE(archive::Ingestion(*archive_)
                  .IngestAll(all, options_, [&](const IngestOutcome& o) { outcomes.push_back(o); })
                  .ok());
  ASSERT_EQ(outcomes.size(), all.size());
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(outcomes[i].input, all[i].name);
    EXPECT_EQ(outcomes[i].accepted, all[i].name.rfind("good", 0) == 0) << outcomes[i].input << outcomes[i].reason;
    if (outcomes[i].accepted) ++accepted;
  }
  // All stored, and the identical content stored once (content is addressed by digest).
  auto page = archive::Catalogue(*archive_).List("", 1000);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->size(), accepted);
  EXPECT_EQ(Events("ingest").size(), accepted);
  EXPECT_EQ(Events("refused").size(), all.size() - accepted);
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  auto trail = archive::Maintenance(*archive_).VerifyAuditLog();
  ASSERT_TRUE(trail.ok());
}

TEST_F(IngestTest, ListFiltersByOrganTypeDateAndSignerOrganization) {
  options_.allow_duplicate = true;  // the same signed letter, with other record metadata each time
  ASSERT_TRUE(IngestOne(Detached(Metadata("1", "UBND tỉnh Đắk Nông", "Công văn", "2017-11-22"))).accepted);
  ASSERT_TRUE(IngestOne(Detached(Metadata("2", "Sở Nội vụ tỉnh Đắk Nông", "Quyết định", "2020-03-05"))).accepted);
  ASSERT_TRUE(IngestOne(Detached(Metadata("3", "UBND huyện Cư Jút", "Công văn", "2024-01-10"))).accepted);
  ASSERT_TRUE(IngestOne(Detached()).accepted);  // no metadata

  auto ids = [&](const ListFilter& f) {
    std::vector<std::string> numbers;
    auto page = archive::Catalogue(*archive_).List("", 100, f);
    EXPECT_TRUE(page.ok());
    for (const auto& p : page.value()) numbers.push_back(p.metadata ? p.metadata->code_number : "-");
    return numbers;
  };
  ListFilter by_organ, by_type, by_date, by_signer, by_other_signer;
  by_organ.organ = "Đắk Nông";
  by_type.type_name = "Công văn";
  by_date.issued_from = "2018-01-01";
  by_date.issued_to = "2023-12-31";
  by_signer.signer_organization = "Đắk Nông";
  by_other_signer.signer_organization = "Bộ Tài chính";
  // Ids are time-ordered, and ordered within one clock tick too.
  EXPECT_EQ(ids({}), (std::vector<std::string>{"1", "2", "3", "-"}));
  EXPECT_EQ(ids(by_organ), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(ids(by_type), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(ids(by_date), (std::vector<std::string>{"2"}));
  // The letter.txt.p7s signer is in "UBND tỉnh Đắk Nông" (tests/fixtures/README.md): the signature
  // says so, record metadata or not.
  EXPECT_EQ(ids(by_signer).size(), 4u);
  EXPECT_TRUE(ids(by_other_signer).empty());
  // Paging with a filter continues after the last match.
  auto first = archive::Catalogue(*archive_).List("", 1, by_type);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  auto second = archive::Catalogue(*archive_).List(first->front().id, 1, by_type);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(second->front().metadata->code_number, "3");
}

TEST_F(IngestTest, SignatureUseReportCountsAcceptedAndRefusedByReasonAndGroup) {
  options_.allow_duplicate = true;  // the same signed letter, with other record metadata each time
  ASSERT_TRUE(IngestOne(Detached(Metadata("1", "UBND tỉnh Đắk Nông", "Công văn", "2017-11-22"))).accepted);
  clock_.Set(ParseUtcTime("2026-12-02T08:00:00Z").value());
  ASSERT_TRUE(IngestOne(Detached(Metadata("2", "Sở Nội vụ", "Công văn", "2017-11-22"))).accepted);
  Submission untrusted{kSigned / "letter-untrusted-signer.txt.p7s", kSigned / "letter.txt", std::nullopt, ""};
  EXPECT_FALSE(IngestOne(untrusted).accepted);
  Submission tampered{kSigned / "letter.txt.p7s", kSigned / "letter-tampered.txt", std::nullopt, ""};
  EXPECT_FALSE(IngestOne(tampered).accepted);

  auto all = archive::Catalogue(*archive_).ReportSignatureUse(ParseUtcTime("2026-01-01T00:00:00Z").value(),
                                          ParseUtcTime("2027-01-01T00:00:00Z").value(), ReportGrouping::kMonth);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->total.submitted, 4u);
  EXPECT_EQ(all->total.accepted, 2u);
  EXPECT_EQ(all->total.refused, 2u);
  EXPECT_EQ(all->total.refused_by_reason.at("HASH_FAILURE"), 1u);
  EXPECT_EQ(all->total.refused_by_reason.at("NO_CERTIFICATE_CHAIN_FOUND"), 1u);
  ASSERT_EQ(all->rows.size(), 2u);
  EXPECT_EQ(all->rows[0].group, "2026-11");
  EXPECT_EQ(all->rows[0].submitted, 1u);
  EXPECT_EQ(all->rows[1].group, "2026-12");
  EXPECT_EQ(all->rows[1].submitted, 3u);

  auto by_organ = archive::Catalogue(*archive_).ReportSignatureUse(ParseUtcTime("2026-01-01T00:00:00Z").value(),
                                               ParseUtcTime("2027-01-01T00:00:00Z").value(), ReportGrouping::kOrgan);
  ASSERT_TRUE(by_organ.ok());
  std::map<std::string, std::size_t> submitted;
  for (const auto& r : by_organ->rows) submitted[r.group] = r.submitted;
  EXPECT_EQ(submitted, (std::map<std::string, std::size_t>{{"(none)", 2}, {"Sở Nội vụ", 1}, {"UBND tỉnh Đắk Nông", 1}}));

  // The period bounds: only December.
  auto december = archive::Catalogue(*archive_).ReportSignatureUse(ParseUtcTime("2026-12-01T00:00:00Z").value(),
                                               ParseUtcTime("2027-01-01T00:00:00Z").value(), ReportGrouping::kNone);
  ASSERT_TRUE(december.ok());
  EXPECT_EQ(december->total.submitted, 3u);
}

}  // namespace
}  // namespace preserve::archive
