// Package versions: a document added or the record metadata changed makes a
// new version, sealed by evidence of its own; earlier versions stay as they
// were, retrievable and verifiable; the list shows a package once, as its
// latest version.
#include <gtest/gtest.h>

#include <algorithm>

#include "../signature/cms_test_signer.h"
#include "preserve/archive/archive.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/ingestion.h"
#include "preserve/archive/lifecycle.h"
#include "preserve/archive/maintenance.h"
#include "preserve/archive/sealing.h"
#include "preserve/archive/verification.h"
#include "preserve/package/manifest.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"
#include "archive_fixture.h"
#include "testing.h"

namespace preserve::archive {
namespace {

namespace fs = std::filesystem;

const fs::path kSigned = testing::SourceDir() / "tests" / "fixtures" / "signed";
const fs::path kPki = testing::SourceDir() / "tests" / "fixtures" / "pki";

std::string Metadata(const std::string& number, const std::string& organ) {
  return R"({"code_number": ")" + number + R"(", "code_notation": "UBND-VP", "issued_date": "2024-05-06", )"
         R"("organ_name": ")" + organ + R"(", "type_name": "Công văn", "subject": "Trích yếu"})";
}

class Versions : public testing::ArchiveTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(InitAndOpen({}));
    options_.trust_anchors = LoadCertificates(kPki / "root-ca.pem").value();
    options_.allow_duplicate = true;  // the same letter, a package of its own each time
  }

  fs::path Sidecar(const std::string& json) {
    fs::path path = dir_ / ("sidecar" + std::to_string(++files_) + ".metadata.json");
    testing::WriteFile(path, json);
    return path;
  }

  // The detached letter, with record metadata of `organ`: version 1.
  std::string IngestLetter(const std::string& organ = "UBND tỉnh Đắk Nông") {
    Submission s{kSigned / "letter.txt.p7s", kSigned / "letter.txt", Sidecar(Metadata("1", organ)), ""};
    auto outcome = archive::Ingestion(*archive_).Ingest(s, options_);
    EXPECT_TRUE(outcome.ok() && outcome->accepted) << (outcome.ok() ? outcome->reason : outcome.status().ToString());
    return outcome.ok() ? outcome->package_id : "";
  }

  IngestOutcome AddVersion(const std::string& id, const VersionChange& change) {
    auto outcome = archive::Lifecycle(*archive_).AddVersion(id, change, options_);
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    return outcome.ok() ? outcome.value() : IngestOutcome{};
  }

  // A document named `name` holding `text`, signed by the fixture signer: a Submission.
  Submission SignedText(const std::string& name, const std::string& text) {
    fs::path document = dir_ / std::to_string(++files_) / name;
    fs::create_directories(document.parent_path());
    testing::WriteFile(document, text);
    testing::TestSignOptions sign;
    sign.certificates = LoadCertificates(kPki / "issuing-ca.pem").value();
    fs::path signature = document;
    signature += ".p7s";
    testing::WriteFile(signature, testing::SignDetached(ToBytes(text), kPki / "signer-rsa.pem",
                                                        kPki / "signer-rsa.key", sign));
    return Submission{signature, document, std::nullopt, ""};
  }

  package::Manifest ManifestOf(const audit::PackageContents& contents) {
    auto manifest = package::ManifestFromJson(contents.data.at(package::kManifestPath));
    EXPECT_TRUE(manifest.ok()) << manifest.status().ToString();
    return manifest.ok() ? manifest.value() : package::Manifest{};
  }

  std::vector<std::string> AuditEvents(const std::string& type) { return testing::AuditEventsOfType(*archive_, type); }

  IngestOptions options_;
  int files_ = 0;
};

TEST_F(Versions, AddedDocumentMakesVersionTwoAndBothVerify) {
  const std::string id = IngestLetter();
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  clock_.Advance(std::chrono::hours(24));

  IngestOutcome added = AddVersion(id, {Submission{kSigned / "letter.p7m", std::nullopt, std::nullopt, ""}, {}});
  ASSERT_TRUE(added.accepted) << added.reason;
  EXPECT_EQ(added.package_id, id + ".v0002");
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());

  auto versions = archive::Lifecycle(*archive_).Versions(id);
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].id, id);
  EXPECT_EQ((*versions)[0].change, "");
  EXPECT_EQ((*versions)[1].version, 2u);
  EXPECT_EQ(PackageStateName((*versions)[1].state), "sealed");
  EXPECT_EQ((*versions)[1].change.rfind("version 2: added ", 0), 0u) << (*versions)[1].change;
  EXPECT_GT((*versions)[1].documents.size(), (*versions)[0].documents.size());

  // Each version is proven by its own evidence.
  for (const std::string& version_id : {id, added.package_id}) {
    auto report = archive::Verification(*archive_).Verify(version_id, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(report.value());
  }

  // Version 2 holds every object of version 1, byte for byte, and names it.
  auto first = archive::Verification(*archive_).Contents(id);
  auto second = archive::Verification(*archive_).Contents(added.package_id);
  ASSERT_TRUE(first.ok() && second.ok());
  for (const auto& [path, bytes] : first->data) {
    if (path == package::kManifestPath) continue;
    ASSERT_EQ(second->data.count(path), 1u) << path;
    EXPECT_EQ(second->data.at(path), bytes) << path;
  }
  package::Manifest manifest = ManifestOf(second.value());
  EXPECT_EQ(manifest.package_id, added.package_id);
  EXPECT_EQ(manifest.version, 2u);
  EXPECT_EQ(manifest.previous_version, id);
  EXPECT_EQ(manifest.previous_manifest_sha256, Digest(HashAlgorithm::kSha256, first->data.at(package::kManifestPath)));
  EXPECT_EQ(manifest.signatures.size(), ManifestOf(first.value()).signatures.size() + 1);
  ASSERT_TRUE(manifest.metadata.has_value());  // carried over
  EXPECT_EQ(manifest.metadata->organ_name, "UBND tỉnh Đắk Nông");
  // Version 1 is untouched.
  EXPECT_EQ(ManifestOf(first.value()).version, 1u);

  EXPECT_EQ(archive::Lifecycle(*archive_).VersionId(id, 0).value(), added.package_id);
  EXPECT_EQ(archive::Lifecycle(*archive_).VersionId(id, 1).value(), id);
  EXPECT_EQ(archive::Lifecycle(*archive_).VersionId(id, 3).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(archive::Lifecycle(*archive_).VersionId(added.package_id, 0).value(), added.package_id);
  EXPECT_EQ(archive::Lifecycle(*archive_).VersionId(added.package_id, 1).status().code(), StatusCode::kInvalidArgument);

  ASSERT_EQ(AuditEvents("version").size(), 1u);
  EXPECT_NE(AuditEvents("version")[0].find("\"id\":\"" + added.package_id + "\""), std::string::npos);

  // The version names version 1's manifest, and verify checks that link.
  auto report = archive::Verification(*archive_).Verify(added.package_id, {});
  ASSERT_TRUE(report.ok());
  auto link = std::find_if(report->steps.begin(), report->steps.end(),
                           [](const audit::ReportStep& step) { return step.section == "versions"; });
  ASSERT_NE(link, report->steps.end()) << audit::ReportToText(report.value());
  EXPECT_EQ(link->verdict, Verdict::kValid) << link->detail;
  EXPECT_EQ(link->what.rfind("version 2 follows " + id + " (manifest SHA-256 ", 0), 0u) << link->what;

  // A version that added a document counts as a document submitted and accepted.
  auto use = archive::Catalogue(*archive_).ReportSignatureUse(
      clock_.Now() - std::chrono::hours(48), clock_.Now() + std::chrono::hours(1), ReportGrouping::kNone);
  ASSERT_TRUE(use.ok());
  EXPECT_EQ(use->total.accepted, 2u);

  // The store's own checks count versions as the packages they are stored as.
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  EXPECT_EQ(check->sealed, 2u);
  std::size_t damaged = 0;
  auto fixity = archive::Maintenance(*archive_).Fixity({}, [&](const PackageFixity& f) {
    if (!f.damage.empty()) ++damaged;
  });
  ASSERT_TRUE(fixity.ok()) << fixity.status().ToString();
  EXPECT_EQ(fixity->checked, 2u);
  EXPECT_EQ(damaged, 0u);
}

TEST_F(Versions, MetadataChangeMakesANewVersionAndTheListShowsTheLatest) {
  const std::string id = IngestLetter("UBND huyện Cư Jút");
  const std::string other = IngestLetter("Sở Nội vụ");
  IngestOutcome changed = AddVersion(id, {std::nullopt, Sidecar(Metadata("1", "UBND tỉnh Đắk Nông"))});
  ASSERT_TRUE(changed.accepted) << changed.reason;
  EXPECT_EQ(changed.format, "record metadata");
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());

  auto all = archive::Catalogue(*archive_).List("", 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, id);
  EXPECT_EQ((*all)[0].versions, 2u);
  EXPECT_EQ((*all)[0].latest_id, changed.package_id);
  EXPECT_EQ((*all)[0].metadata->organ_name, "UBND tỉnh Đắk Nông");
  EXPECT_EQ((*all)[1].id, other);
  EXPECT_EQ((*all)[1].versions, 1u);

  ListFilter latest;
  latest.organ = "Đắk Nông";
  auto found = archive::Catalogue(*archive_).List("", 10, latest);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].id, id);
  ListFilter earlier;
  earlier.organ = "Cư Jút";  // version 1's organ only
  EXPECT_TRUE(archive::Catalogue(*archive_).List("", 10, earlier)->empty());

  // The same data objects but the manifest.
  auto first = archive::Verification(*archive_).Contents(id);
  auto second = archive::Verification(*archive_).Contents(changed.package_id);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->data.size(), second->data.size());
  EXPECT_NE(first->data.at(package::kManifestPath), second->data.at(package::kManifestPath));
  EXPECT_EQ(ManifestOf(second.value()).decision, "version 2: record metadata replaced");
  auto report = archive::Verification(*archive_).Verify(changed.package_id, {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(report.value());
}

TEST_F(Versions, ListPagesStepOverVersions) {
  const std::string a = IngestLetter();
  const std::string b = IngestLetter();
  const std::string c = IngestLetter();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(AddVersion(b, {std::nullopt, Sidecar(Metadata(std::to_string(i + 2), "Sở Tư pháp"))}).accepted);
  }
  std::vector<std::pair<std::string, std::uint32_t>> seen;
  std::string after;
  for (int page = 0; page < 5; ++page) {
    auto listed = archive::Catalogue(*archive_).List(after, 1);
    ASSERT_TRUE(listed.ok());
    if (listed->empty()) break;
    seen.emplace_back(listed->front().id, listed->front().versions);
    after = listed->front().id;
  }
  std::vector<std::pair<std::string, std::uint32_t>> expected = {{a, 1}, {b, 4}, {c, 1}};
  EXPECT_EQ(seen, expected);
}

TEST_F(Versions, RefusedDocumentChangesNothingButTheTrail) {
  const std::string id = IngestLetter();
  IngestOutcome refused =
      AddVersion(id, {Submission{kSigned / "letter-untrusted-signer.txt.p7s", kSigned / "letter.txt", std::nullopt, ""},
                      {}});
  EXPECT_FALSE(refused.accepted);
  EXPECT_FALSE(refused.error);
  EXPECT_EQ(archive::Lifecycle(*archive_).Versions(id)->size(), 1u);
  EXPECT_EQ(AuditEvents("refused").size(), 1u);
  EXPECT_TRUE(AuditEvents("version").empty());
}

TEST_F(Versions, ADocumentOfTheSamePathWithOtherContentIsRefused) {
  const std::string id = IngestLetter();
  IngestOutcome same = AddVersion(id, {SignedText("letter.txt", "the letter, amended\n"), {}});
  EXPECT_FALSE(same.accepted);
  EXPECT_NE(same.reason.find("VERSION_CONFLICT"), std::string::npos) << same.reason;
  EXPECT_NE(same.reason.find("letter.txt with other content"), std::string::npos) << same.reason;
  EXPECT_EQ(archive::Lifecycle(*archive_).Versions(id)->size(), 1u);

  IngestOutcome annex = AddVersion(id, {SignedText("annex.txt", "an annex\n"), {}});
  ASSERT_TRUE(annex.accepted) << annex.reason;
  auto versions = archive::Lifecycle(*archive_).Versions(id);
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[1].documents, (std::vector<std::string>{"documents/letter.txt", "documents/annex.txt"}));
}

TEST_F(Versions, AVersionThatChangesNothingIsRefused) {
  const std::string id = IngestLetter("Sở Tư pháp");
  IngestOutcome same_document =
      AddVersion(id, {Submission{kSigned / "letter.txt.p7s", kSigned / "letter.txt", std::nullopt, ""}, {}});
  EXPECT_FALSE(same_document.accepted);
  EXPECT_NE(same_document.reason.find("VERSION_UNCHANGED"), std::string::npos) << same_document.reason;
  IngestOutcome same_metadata = AddVersion(id, {std::nullopt, Sidecar(Metadata("1", "Sở Tư pháp"))});
  EXPECT_FALSE(same_metadata.accepted);
  EXPECT_NE(same_metadata.reason.find("VERSION_UNCHANGED"), std::string::npos) << same_metadata.reason;
  EXPECT_EQ(archive::Lifecycle(*archive_).Versions(id)->size(), 1u);
  // A document already held with new metadata: the metadata is the change, and
  // the document's signature is not listed twice.
  IngestOutcome metadata_too =
      AddVersion(id, {Submission{kSigned / "letter.txt.p7s", kSigned / "letter.txt", std::nullopt, ""},
                      Sidecar(Metadata("2", "Sở Tư pháp"))});
  ASSERT_TRUE(metadata_too.accepted) << metadata_too.reason;
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  auto contents = archive::Verification(*archive_).Contents(metadata_too.package_id);
  ASSERT_TRUE(contents.ok());
  package::Manifest manifest = ManifestOf(contents.value());
  EXPECT_EQ(manifest.signatures.size(), 1u);
  EXPECT_EQ(manifest.decision.rfind("version 2: record metadata replaced", 0), 0u) << manifest.decision;
}

// Deletion takes every version, each leaving a tombstone its evidence still covers.
TEST_F(Versions, DeletingAPackageDeletesEveryVersion) {
  Submission s{kSigned / "letter.txt.p7s", kSigned / "letter.txt",
               Sidecar(R"({"code_number": "1", "code_notation": "UBND-VP", "issued_date": "2024-05-06", )"
                       R"("organ_name": "Sở Tư pháp", "type_name": "Công văn", "subject": "x", "retention": 1})"),
               ""};
  auto ingested = archive::Ingestion(*archive_).Ingest(s, options_);
  ASSERT_TRUE(ingested.ok() && ingested->accepted);
  const std::string id = ingested->package_id;
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  IngestOutcome added = AddVersion(id, {Submission{kSigned / "letter.p7m", std::nullopt, std::nullopt, ""}, {}});
  ASSERT_TRUE(added.accepted) << added.reason;
  clock_.Advance(std::chrono::hours(24 * 800));  // past the one-year retention
  auto unsealed = archive::Lifecycle(*archive_).Delete(id, "retention ended", "records officer");
  EXPECT_EQ(unsealed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(unsealed.status().message().find("version " + added.package_id + " is not sealed"), std::string::npos)
      << unsealed.status().ToString();
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());

  auto deleted = archive::Lifecycle(*archive_).Delete(id, "retention ended", "records officer");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_GT(deleted->erased, 0u);
  auto versions = archive::Lifecycle(*archive_).Versions(id);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  for (const auto& v : versions.value()) {
    EXPECT_EQ(PackageStateName(v.state), "deleted") << v.id;
    auto report = archive::Verification(*archive_).Verify(v.id, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->verdict, Verdict::kIndeterminate) << audit::ReportToText(report.value());
    EXPECT_EQ(archive::Verification(*archive_).Get(v.id, dir_ / ("out-" + std::to_string(v.version))).status().code(),
              StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(AuditEvents("delete").size(), 1u);
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  EXPECT_EQ(check->deleted, 2u);
  EXPECT_EQ(check->garbage_objects, 0u);
}

TEST_F(Versions, LifecycleIsThePackagesNotAVersions) {
  const std::string id = IngestLetter();
  IngestOutcome changed = AddVersion(id, {std::nullopt, Sidecar(Metadata("9", "Sở Tư pháp"))});
  ASSERT_TRUE(changed.accepted);
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  auto hold = archive::Lifecycle(*archive_).AddHold(changed.package_id, "inquiry", "auditor");
  EXPECT_EQ(hold.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(hold.status().message().find("apply to the package"), std::string::npos) << hold.status().ToString();
  EXPECT_EQ(archive::Lifecycle(*archive_).Versions(changed.package_id).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(archive::Lifecycle(*archive_)
                .AddVersion("no-such-package", {std::nullopt, Sidecar(Metadata("9", "x"))}, options_)
                .status()
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(archive::Lifecycle(*archive_).AddVersion(id, {}, options_).status().code(), StatusCode::kInvalidArgument);
}

// Git-style prefixes (Catalogue::ResolvePackageId): a version's own id names
// that version; ids made in the same second share their first 8 characters.
TEST_F(Versions, IdPrefixesNameOnePackageOrVersion) {
  const std::string first = IngestLetter();
  const std::string second = IngestLetter("UBND huyện Cư Jút");
  IngestOutcome v2 = AddVersion(first, {std::nullopt, Sidecar(Metadata("2", "UBND tỉnh Đắk Nông"))});
  ASSERT_FALSE(v2.package_id.empty());
  Catalogue catalogue(*archive_);
  for (const std::string& id : {first, second, v2.package_id}) {
    EXPECT_EQ(catalogue.ResolvePackageId(id).value(), id);
    std::size_t unique = Catalogue::kMinIdPrefix;
    for (const std::string& other : {first, second, v2.package_id})
      while (other != id && unique < id.size() && other.compare(0, unique, id, 0, unique) == 0) ++unique;
    EXPECT_EQ(catalogue.ResolvePackageId(id.substr(0, unique)).value(), id) << id.substr(0, unique);
  }
  ASSERT_EQ(first.substr(0, 8), second.substr(0, 8));
  auto ambiguous = catalogue.ResolvePackageId(first.substr(0, 8));
  ASSERT_EQ(ambiguous.status().code(), StatusCode::kInvalidArgument);
  for (const std::string& id : {first, second, v2.package_id})
    EXPECT_NE(ambiguous.status().message().find(id), std::string::npos) << ambiguous.status().message();
  auto too_short = catalogue.ResolvePackageId(first.substr(0, 7));
  ASSERT_EQ(too_short.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_short.status().message().find("at least 8"), std::string::npos) << too_short.status().message();
  EXPECT_EQ(catalogue.ResolvePackageId("ffffffff-ffff").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace preserve::archive
