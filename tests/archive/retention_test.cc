// Retention, holds and lawful deletion over a real store, with a clock the
// test moves: deletion is refused before the retention date and under a hold,
// and allowed after; content another package holds stays; the tombstone and
// its evidence survive reopening and renewal, hash-tree renewal included; and
// every step is in the audit trail, whose chain verifies.
#include <gtest/gtest.h>

#include <set>

#include "preserve/archive/archive.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/lifecycle.h"
#include "preserve/archive/maintenance.h"
#include "preserve/archive/sealing.h"
#include "preserve/archive/verification.h"
#include "preserve/storage/store.h"
#include "preserve/util/digest.h"
#include "archive_fixture.h"

namespace preserve::archive {
namespace {

namespace fs = std::filesystem;

using testing::At;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

Bytes Sha256Of(const std::string& fixture) { return Digest(HashAlgorithm::kSha256, testing::SignedFixture(fixture)); }

class RetentionTest : public testing::ArchiveTest {
 protected:
  void SetUp() override { InitAndOpen(SimulationOptions()); }

  // Ingests and seals.
  std::string Ingest(const std::string& signature, std::optional<std::string> content = std::nullopt) {
    std::string id = ArchiveTest::Ingest(signature, content);
    EXPECT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
    return id;
  }

  // A sealed package kept for `years`, created now.
  std::string IngestKeptFor(int years) {
    std::string id = Ingest("letter.txt.p7s", "letter.txt");
    EXPECT_TRUE(archive::Lifecycle(*archive_)
                    .SetRetention(id, {false, years}, "appraisal decision 7/2026", "records officer")
                    .ok());
    return id;
  }

  std::vector<std::string> AuditEventTypes() {
    std::vector<std::string> out;
    EXPECT_TRUE(archive::Maintenance(*archive_).ScanAuditLog(0, [&](const AuditLogEvent& e) {
      auto at = e.json.find("\"event\":\"");
      out.push_back(at == std::string::npos ? "?" : e.json.substr(at + 9, e.json.find('"', at + 9) - at - 9));
      return true;
    }).ok());
    return out;
  }

  std::vector<std::string> AuditEvents() {
    std::vector<std::string> out;
    EXPECT_TRUE(archive::Maintenance(*archive_).ScanAuditLog(0, [&](const AuditLogEvent& e) {
      out.push_back(e.json);
      return true;
    }).ok());
    return out;
  }
};

TEST_F(RetentionTest, RetentionUntilIsCreationPlusCalendarYears) {
  std::string id = IngestKeptFor(10);
  auto lifecycle = archive::Lifecycle(*archive_).Of(id);
  ASSERT_TRUE(lifecycle.ok()) << lifecycle.status().ToString();
  EXPECT_FALSE(lifecycle->retention.permanent);
  EXPECT_EQ(lifecycle->retention.years, 10);
  ASSERT_TRUE(lifecycle->retain_until.has_value());
  EXPECT_EQ(FormatUtcTime(*lifecycle->retain_until), "2036-12-01T08:00:00Z");

  EXPECT_EQ(archive::Lifecycle(*archive_).SetRetention(id, {false, 0}, "r", "a").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(archive::Lifecycle(*archive_).SetRetention(id, {false, 5}, " ", "a").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(archive::Lifecycle(*archive_).Of("no-such-package").status().code(), StatusCode::kNotFound);
}

TEST_F(RetentionTest, DeleteIsRefusedBeforeRetentionEndsAndUnderAHoldAndAllowedAfter) {
  std::string id = Ingest("letter.txt.p7s", "letter.txt");
  // No retention recorded: kept permanently.
  auto permanent = archive::Lifecycle(*archive_).Delete(id, "clearing out", "records officer");
  ASSERT_FALSE(permanent.ok());
  EXPECT_EQ(permanent.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(permanent.status().message(), "kept permanently")) << permanent.status().message();

  ASSERT_TRUE(
      archive::Lifecycle(*archive_).SetRetention(id, {false, 5}, "appraisal decision 7/2026", "records officer").ok());
  clock_.Set(At("2031-12-01T07:59:59Z"));
  auto early = archive::Lifecycle(*archive_).Delete(id, "retention ended", "records officer");
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(early.status().message(), "must be kept until 2031-12-01T08:00:00Z")) << early.status().message();

  auto hold = archive::Lifecycle(*archive_).AddHold(id, "court case 12/2031", "legal officer");
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  EXPECT_EQ(hold->number, 1u);
  clock_.Set(At("2032-01-15T00:00:00Z"));
  auto held = archive::Lifecycle(*archive_).Delete(id, "retention ended", "records officer");
  ASSERT_FALSE(held.ok());
  EXPECT_EQ(held.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(held.status().message(), "under hold 1 (court case 12/2031, placed by legal officer"))
      << held.status().message();

  auto second = archive::Lifecycle(*archive_).AddHold(id, "audit 2032", "inspector");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->number, 2u);
  // Two in force: which one to lift must be said.
  EXPECT_EQ(archive::Lifecycle(*archive_).RemoveHold(id, 0, "closed", "legal officer").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(archive::Lifecycle(*archive_).RemoveHold(id, 7, "closed", "legal officer").status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(archive::Lifecycle(*archive_).RemoveHold(id, 1, "judgment final", "legal officer").ok());
  EXPECT_FALSE(
      archive::Lifecycle(*archive_).Delete(id, "retention ended", "records officer").ok());  // hold 2 still in force
  auto lifted = archive::Lifecycle(*archive_).RemoveHold(id, 0, "audit closed", "inspector");
  ASSERT_TRUE(lifted.ok());
  EXPECT_EQ(lifted->number, 2u);

  auto deleted =
      archive::Lifecycle(*archive_).Delete(id, "retention ended, destruction list 3/2032", "records officer");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->objects, deleted->erased + deleted->shared);
  EXPECT_EQ(deleted->shared, 0u);  // nothing else in the store
  EXPECT_GE(deleted->erased, 4u);  // document, signature, certificates, manifest

  auto again = archive::Lifecycle(*archive_).Delete(id, "again", "records officer");
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(again.status().message(), "was deleted at 2032-01-15T00:00:00Z by records officer"))
      << again.status().message();
  EXPECT_EQ(archive::Lifecycle(*archive_).AddHold(id, "too late", "legal officer").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(RetentionTest, DeletedPackageIsATombstoneThatProvesExistenceOnly) {
  std::string id = IngestKeptFor(1);
  clock_.Set(At("2028-01-01T00:00:00Z"));
  ASSERT_TRUE(archive::Lifecycle(*archive_).Delete(id, "retention ended", "records officer").ok());

  auto report = archive::Verification(*archive_).Verify(id, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::string text = audit::ReportToText(report.value());
  EXPECT_EQ(report->verdict, Verdict::kIndeterminate) << text;
  ASSERT_TRUE(report->existence_time.has_value()) << text;
  EXPECT_EQ(FormatUtcTime(*report->existence_time), "2026-12-01T08:00:00Z");
  EXPECT_TRUE(Contains(text, "deleted at 2028-01-01T00:00:00Z by records officer (retention ended)")) << text;
  EXPECT_TRUE(Contains(text, "documents/letter.txt: SHA-256 " + ToHex(Sha256Of("letter.txt")))) << text;
  for (const auto& step : report->steps) {
    if (step.section == "evidence") {
      EXPECT_EQ(step.verdict, Verdict::kValid) << step.what << ": " << step.detail;
    }
  }

  auto exported = archive::Verification(*archive_).Export(id, dir_ / "out.zip");
  EXPECT_EQ(exported.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(exported.message(), "was deleted at 2028-01-01T00:00:00Z")) << exported.message();
  EXPECT_FALSE(fs::exists(dir_ / "out.zip"));
  auto got = archive::Verification(*archive_).Get(id, dir_ / "got");
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);

  auto listed = archive::Catalogue(*archive_).List("", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(PackageStateName(listed->front().state), "deleted");

  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  EXPECT_EQ(check->deleted, 1u);
  EXPECT_EQ(check->sealed, 0u);
  auto fixity = archive::Maintenance(*archive_).Fixity(
      {}, [](const PackageFixity& p) { ADD_FAILURE() << "re-read " << p.package_id; });
  ASSERT_TRUE(fixity.ok());
  EXPECT_EQ(fixity->packages, 1u);
  EXPECT_EQ(fixity->checked, 0u);
}

TEST_F(RetentionTest, ContentAnotherPackageHoldsIsKept) {
  // letter.p7m encapsulates the same letter and is signed by the same signer:
  // the document and the certificates are stored once for both packages.
  std::string detached = IngestKeptFor(1);
  std::string enveloping = Ingest("letter.p7m");
  clock_.Set(At("2028-01-01T00:00:00Z"));
  auto deleted = archive::Lifecycle(*archive_).Delete(detached, "retention ended", "records officer");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_GE(deleted->shared, 2u);  // the letter and at least one certificate
  EXPECT_EQ(deleted->erased, 2u);  // the detached signature and the manifest

  auto enveloping_report = archive::Verification(*archive_).Verify(enveloping, {});
  ASSERT_TRUE(enveloping_report.ok());
  EXPECT_EQ(enveloping_report->verdict, Verdict::kValid) << audit::ReportToText(enveloping_report.value());
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();

  archive_.reset();  // the store itself, below the archive
  auto store = storage::Store::Open(root_ / "db", {.read_only = true});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(store.value()->HasContent(Sha256Of("letter.txt")).value());
  EXPECT_FALSE(store.value()->HasContent(Sha256Of("letter.txt.p7s")).value());
}

TEST_F(RetentionTest, TombstoneSurvivesReopenAndItsEvidenceIsRenewedThroughAHashChange) {
  std::string detached = IngestKeptFor(1);
  std::string enveloping = Ingest("letter.p7m");
  clock_.Set(At("2028-01-01T00:00:00Z"));
  ASSERT_TRUE(archive::Lifecycle(*archive_).Delete(detached, "retention ended", "records officer").ok());
  Reopen();
  auto lifecycle = archive::Lifecycle(*archive_).Of(detached);
  ASSERT_TRUE(lifecycle.ok());
  ASSERT_TRUE(lifecycle->tombstone.has_value());
  EXPECT_EQ(lifecycle->tombstone->reason, "retention ended");
  ASSERT_FALSE(lifecycle->tombstone->objects.empty());
  EXPECT_EQ(lifecycle->tombstone->objects.front().digests.size(), 6u);  // SHA-2 and SHA-3, 256 to 512 bits

  // Yearly renewal past 2040, when the simulated policy retires SHA-256: the
  // tombstone's chain is renewed onto a new hash from the digests it kept.
  std::map<RenewalKind, int> renewals;
  for (int year = 2028; year <= 2042; ++year) {
    clock_.Set(At(std::to_string(year) + "-06-01T08:00:00Z"));
    auto outcome = archive::Sealing(*archive_).Renew({});
    ASSERT_TRUE(outcome.ok()) << year << ": " << outcome.status().ToString();
    for (const auto& b : outcome->batches) {
      ++renewals[b.kind];
      EXPECT_EQ(b.packages, 2u) << year;  // the tombstone is renewed with the live package
    }
  }
  EXPECT_EQ(renewals[RenewalKind::kHashTree], 1);
  EXPECT_GE(renewals[RenewalKind::kTimeStamp], 1);

  auto report = archive::Verification(*archive_).Verify(detached, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::string text = audit::ReportToText(report.value());
  EXPECT_EQ(report->verdict, Verdict::kIndeterminate) << text;
  ASSERT_TRUE(report->existence_time.has_value()) << text;
  EXPECT_EQ(FormatUtcTime(*report->existence_time), "2026-12-01T08:00:00Z");
  EXPECT_TRUE(Contains(text, "chain 2")) << text;
  auto live = archive::Verification(*archive_).Verify(enveloping, {});
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->verdict, Verdict::kValid) << audit::ReportToText(live.value());
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
}

TEST_F(RetentionTest, EveryStepIsAuditedAndTheChainVerifies) {
  std::string id = IngestKeptFor(1);
  ASSERT_TRUE(archive::Lifecycle(*archive_).AddHold(id, "inquiry", "inspector").ok());
  ASSERT_TRUE(archive::Lifecycle(*archive_).RemoveHold(id, 1, "inquiry closed", "inspector").ok());
  auto verified = archive::Verification(*archive_).Verify(id, {});
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->verdict, Verdict::kValid);
  const fs::path zip = dir_ / "letter.zip";
  ASSERT_TRUE(archive::Verification(*archive_).Export(id, zip).ok());
  clock_.Set(At("2028-01-01T00:00:00Z"));
  ASSERT_TRUE(archive::Lifecycle(*archive_).Delete(id, "retention ended", "records officer").ok());

  std::vector<std::string> types = AuditEventTypes();
  std::vector<std::string> tail(types.end() - 6, types.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"retention", "hold", "release", "verify", "export", "delete"}));
  std::vector<std::string> events = AuditEvents();
  const std::string& verify = events[events.size() - 3];
  EXPECT_TRUE(Contains(verify, "\"package\":\"" + id + "\"")) << verify;
  EXPECT_TRUE(Contains(verify, "\"verdict\":\"VALID\"")) << verify;
  const std::string& exported = events[events.size() - 2];
  EXPECT_TRUE(Contains(exported, "\"zip_sha256\":\"" + ToHex(DigestFile(HashAlgorithm::kSha256, zip).value())))
      << exported;
  EXPECT_TRUE(Contains(exported, "\"destination\":\"" + fs::absolute(zip).string() + "\"")) << exported;
  const std::string& deleted = events.back();
  EXPECT_TRUE(Contains(deleted, "\"reason\":\"retention ended\"")) << deleted;
  EXPECT_TRUE(Contains(deleted, "\"by\":\"records officer\"")) << deleted;
  EXPECT_TRUE(Contains(deleted, "documents/letter.txt " + ToHex(Sha256Of("letter.txt")))) << deleted;

  auto chain = archive::Maintenance(*archive_).VerifyAuditLog();
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(chain->verdict, Verdict::kValid) << chain->reason;

  // A read-only archive verifies and exports, but cannot append.
  std::string other = Ingest("letter.p7m");
  auto reader = Archive::Open(root_, clock_, {.mode = OpenMode::kReadOnly});
  ASSERT_TRUE(reader.ok());
  std::size_t before = AuditEvents().size();
  ASSERT_TRUE(archive::Verification(*reader.value()).Verify(other, {}).ok());
  ASSERT_TRUE(archive::Verification(*reader.value()).Export(other, dir_ / "other.zip").ok());
  EXPECT_EQ(AuditEvents().size(), before);
  EXPECT_EQ(archive::Lifecycle(*reader.value()).Delete(other, "r", "a").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(RetentionTest, CheckFindsLeftoverContentAndAMissingTombstone) {
  std::string id = IngestKeptFor(1);
  clock_.Set(At("2028-01-01T00:00:00Z"));
  ASSERT_TRUE(archive::Lifecycle(*archive_).Delete(id, "retention ended", "records officer").ok());
  archive_.reset();
  {
    // Below the archive: the erased signature put back, the tombstone dropped.
    auto store = storage::Store::Open(root_ / "db", {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    storage::WriteSet w;
    w.PutContent(Sha256Of("letter.txt.p7s"), testing::SignedFixture("letter.txt.p7s"));
    w.PutLifecycle(id, ToBytes(R"({"package":")" + id +
                               R"(","retention":{"permanent":true},"holds":[],"holds_placed":0})"));
    ASSERT_TRUE(store.value()->Commit(std::move(w)).ok());
  }
  Reopen();
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  std::string problems;
  for (const auto& p : check->problems) problems += p + "\n";
  EXPECT_TRUE(Contains(problems, "package " + id + " is marked deleted but has no tombstone")) << problems;
  EXPECT_TRUE(Contains(problems, "package " + id + ": deleted, but its content SHA-256 " +
                                     ToHex(Sha256Of("letter.txt.p7s")) + " is still stored")) << problems;
}

}  // namespace
}  // namespace preserve::archive
