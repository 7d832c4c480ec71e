// Maintenance through the library, over a real store and its embedded TSA:
// fixity names exactly the package whose stored content was changed, check
// names an index entry removed below the archive, and a backup restores to a
// new store where a package verifies VALID, while a used root, a used
// destination and a damaged backup are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "preserve/archive/archive.h"
#include "preserve/archive/maintenance.h"
#include "preserve/archive/sealing.h"
#include "preserve/archive/verification.h"
#include "preserve/storage/store.h"
#include "preserve/util/digest.h"
#include "archive_fixture.h"

namespace preserve::archive {
namespace {

namespace fs = std::filesystem;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class MaintenanceTest : public testing::ArchiveTest {
 protected:
  void SetUp() override { InitAndOpen({}); }

  // Closes the archive, commits `w` straight into its database (what damage
  // or a bug below the archive would leave), and opens it again.
  void CommitBelowTheArchive(storage::WriteSet w) {
    archive_.reset();
    {
      auto store = storage::Store::Open(root_ / "db", {});
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      ASSERT_TRUE(store.value()->Commit(std::move(w)).ok());
    }
    Reopen();
  }

  // Fixity of every package: what it reported per package, by id.
  std::map<std::string, PackageFixity> FixityByPackage(FixitySummary* summary = nullptr) {
    std::map<std::string, PackageFixity> out;
    auto done = Maintenance(*archive_).Fixity({}, [&](const PackageFixity& p) { out[p.package_id] = p; });
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    if (done.ok() && summary != nullptr) *summary = done.value();
    return out;
  }
};

TEST_F(MaintenanceTest, FixityNamesExactlyThePackageWhoseContentChanged) {
  const std::string damaged = Ingest("letter.txt.p7s", "letter.txt");
  const std::string intact = Ingest("letter-ec.txt.p7s", "letter.txt");
  ASSERT_TRUE(Sealing(*archive_).Seal(1000).ok());
  FixitySummary before;
  for (const auto& [id, p] : FixityByPackage(&before)) EXPECT_TRUE(p.damage.empty()) << id;
  EXPECT_EQ(before.damaged, 0u);

  // The detached signature is stored once, for its package alone: change its bytes.
  const Bytes signature = testing::SignedFixture("letter.txt.p7s");
  Bytes changed = signature;
  changed[changed.size() / 2] ^= 0x20;
  storage::WriteSet w;
  w.PutContent(Digest(HashAlgorithm::kSha256, signature), changed);
  ASSERT_NO_FATAL_FAILURE(CommitBelowTheArchive(std::move(w)));

  FixitySummary summary;
  auto checked = FixityByPackage(&summary);
  EXPECT_EQ(summary.packages, 2u);
  EXPECT_EQ(summary.checked, 2u);
  EXPECT_EQ(summary.damaged, 1u);
  ASSERT_EQ(checked.count(damaged), 1u);
  ASSERT_EQ(checked[damaged].damage.size(), 1u);
  EXPECT_EQ(checked[damaged].damage.front().object, "signatures/letter.txt.p7s");
  EXPECT_TRUE(Contains(checked[damaged].damage.front().detail, "content changed"))
      << checked[damaged].damage.front().detail;
  ASSERT_EQ(checked.count(intact), 1u);
  EXPECT_TRUE(checked[intact].damage.empty());
  // A writable archive records the run.
  auto events = testing::AuditEventsOfType(*archive_, "fixity");
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(Contains(events.back(), "\"damaged\":\"1\"")) << events.back();
}

TEST_F(MaintenanceTest, CheckNamesAQueuedPackageMissingFromTheSealQueue) {
  const std::string sealed = Ingest("letter.txt.p7s", "letter.txt");
  ASSERT_TRUE(Sealing(*archive_).Seal(1000).ok());
  const std::string queued = Ingest("letter.p7m");
  auto consistent = Maintenance(*archive_).Check();
  ASSERT_TRUE(consistent.ok()) << consistent.status().ToString();
  EXPECT_TRUE(consistent->problems.empty()) << consistent->problems.front();
  EXPECT_EQ(consistent->packages, 2u);
  EXPECT_EQ(consistent->sealed, 1u);
  EXPECT_EQ(consistent->queued, 1u);

  storage::WriteSet w;
  w.Dequeue(queued);
  ASSERT_NO_FATAL_FAILURE(CommitBelowTheArchive(std::move(w)));
  auto report = Maintenance(*archive_).Check();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_EQ(report->problems.front(),
            "package " + queued + ": queued, but not in the seal queue: it would never be sealed");
  EXPECT_FALSE(Contains(report->problems.front(), sealed));
}

// Renewal takes a subject's hash and deadline from the batch its schedule
// entry names, not from its evidence: check compares the two.
TEST_F(MaintenanceTest, CheckNamesAScheduleEntryThatNamesAnotherBatch) {
  const std::string id = Ingest("letter.p7m");
  ASSERT_TRUE(Sealing(*archive_).Seal(1000).ok());
  archive_.reset();
  {
    auto store = storage::Store::Open(root_ / "db", {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    storage::WriteSet w;
    ASSERT_TRUE(store.value()->ScanSchedule([&](const storage::ScheduleEntry& e) {
      if (e.package_id == id) w.Schedule(e.due, id, "another-batch");  // the same entry, naming another batch
      return true;
    }).ok());
    ASSERT_EQ(w.size(), 1u);
    ASSERT_TRUE(store.value()->Commit(std::move(w)).ok());
  }
  Reopen();

  auto report = Maintenance(*archive_).Check();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_EQ(report->problems.front().rfind("package " + id + ": its renewal is scheduled by batch another-batch, "
                                           "but its newest time-stamp is from batch ",
                                           0),
            0u)
      << report->problems.front();
}

// Check ties the families together by counts (as many schedule entries and
// evidence entries as records that found theirs) and reads them again only
// when the counts differ: then every extra entry is named.
TEST_F(MaintenanceTest, CheckNamesEntriesThatNoRecordFound) {
  const std::string sealed = Ingest("letter.txt.p7s", "letter.txt");
  ASSERT_TRUE(Sealing(*archive_).Seal(1000).ok());
  const std::string queued = Ingest("letter.p7m");
  auto consistent = Maintenance(*archive_).Check();
  ASSERT_TRUE(consistent.ok()) << consistent.status().ToString();
  ASSERT_TRUE(consistent->problems.empty()) << consistent->problems.front();

  const TimePoint other = ParseUtcTime("2090-01-01T00:00:00Z").value();
  storage::WriteSet w;
  w.Schedule(other, sealed, "");            // a second entry for a sealed package
  w.Schedule(other, queued, "");            // an entry for a package not sealed yet
  w.Schedule(other, "no-such-package", "");
  w.PutEvidence("no-such-package", ToBytes("evidence"));
  ASSERT_NO_FATAL_FAILURE(CommitBelowTheArchive(std::move(w)));

  auto report = Maintenance(*archive_).Check();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::string all;
  for (const auto& line : report->problems) all += line + "\n";
  ASSERT_EQ(report->problems.size(), 4u) << all;
  const auto named = [&](const std::string& start) {
    return std::any_of(report->problems.begin(), report->problems.end(),
                       [&](const std::string& line) { return line.rfind(start, 0) == 0; });
  };
  EXPECT_TRUE(named("package " + sealed + ": the schedule has an entry at 2090-01-01T00:00:00Z, "
                    "but its record says renewal due 20"));
  EXPECT_TRUE(named("package " + queued + ": queued, but scheduled for renewal at 2090-01-01T00:00:00Z"));
  EXPECT_TRUE(named("schedule: 2090-01-01T00:00:00Z for no-such-package, which is not a package"));
  EXPECT_TRUE(named("evidence: no-such-package has no package record"));
}

TEST_F(MaintenanceTest, BackupRestoresToANewStoreWherePackagesVerify) {
  const std::string id = Ingest("letter.txt.p7s", "letter.txt");
  ASSERT_TRUE(Sealing(*archive_).Seal(1000).ok());
  const fs::path backup = dir_ / "backup";
  auto made = Maintenance(*archive_).Backup(backup);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->destination, backup);
  EXPECT_GT(made->files, 0u);
  EXPECT_GT(made->audit_events, 0u);
  EXPECT_TRUE(fs::exists(backup / "backup.json"));
  EXPECT_FALSE(testing::AuditEventsOfType(*archive_, "backup").empty());

  const fs::path restored_root = dir_ / "restored";
  auto restored = Maintenance::Restore(backup, restored_root, clock_);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->audit_events, made->audit_events);
  EXPECT_EQ(restored->audit_head, made->audit_head);

  auto opened = Archive::Open(restored_root, clock_, {.mode = OpenMode::kWritable});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto report = Verification(*opened.value()).Verify(id, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->verdict, Verdict::kValid) << (report->reasons.empty() ? "" : report->reasons.front());
  auto check = Maintenance(*opened.value()).Check();
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  EXPECT_FALSE(testing::AuditEventsOfType(*opened.value(), "restore").empty());
}

TEST_F(MaintenanceTest, RestoreAndBackupRefuseWhatIsAlreadyThere) {
  Ingest("letter.p7m");
  const fs::path backup = dir_ / "backup";
  ASSERT_TRUE(Maintenance(*archive_).Backup(backup).ok());

  auto again = Maintenance(*archive_).Backup(backup);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(again.status().message(), "refusing to overwrite")) << again.status().message();

  const fs::path used = dir_ / "used";
  fs::create_directories(used);
  testing::WriteFile(used / "notes.txt", std::string_view("not a store"));
  auto restored = Maintenance::Restore(backup, used, clock_);
  EXPECT_EQ(restored.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(restored.status().message(), "refusing to overwrite")) << restored.status().message();
  EXPECT_EQ(testing::ReadFileOrDie(used / "notes.txt"), ToBytes("not a store"));
  EXPECT_FALSE(fs::exists(used / "db"));
}

TEST_F(MaintenanceTest, RestoreRefusesADamagedBackupAndLeavesNothing) {
  Ingest("letter.p7m");
  const fs::path backup = dir_ / "backup";
  ASSERT_TRUE(Maintenance(*archive_).Backup(backup).ok());
  Bytes ca = testing::ReadFileOrDie(backup / "tsa" / "ca.pem");
  ca[ca.size() / 2] ^= 0x01;
  testing::WriteFile(backup / "tsa" / "ca.pem", ca);

  const fs::path root = dir_ / "restored";
  auto restored = Maintenance::Restore(backup, root, clock_);
  EXPECT_EQ(restored.status().code(), StatusCode::kCorruption);
  EXPECT_TRUE(Contains(restored.status().message(), "the backup is damaged: tsa/ca.pem"))
      << restored.status().message();
  EXPECT_FALSE(fs::exists(root));
}

}  // namespace
}  // namespace preserve::archive
