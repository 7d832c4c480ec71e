// Evidence that outlives its algorithms: fifty simulated years of renewals.
//
// Ingest in 2026 under a policy that retires RSA-2048 in 2030 and SHA-256 in
// 2040, with an embedded TSA that starts on an RSA-2048 key and rolls over to a
// new key every five years; renewal runs once a year. In 2076 every holding is
// VALID for preserve and for BouncyCastle 1.72. Skipping one due renewal makes
// the holding INVALID, with the reason named.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "preserve/archive/archive.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/maintenance.h"
#include "preserve/archive/sealing.h"
#include "preserve/archive/verification.h"
#include "preserve/audit/package_archive.h"
#include "preserve/storage/store.h"
#include "preserve/timestamp/evidence_record.h"
#include "preserve/util/digest.h"
#include "archive_fixture.h"
#include "raw_db.h"

namespace preserve::archive {
namespace {

namespace fs = std::filesystem;

using testing::At;

class Renewal : public testing::ArchiveTest {
 protected:
  void Init(timestamp::TsaKeyType key = timestamp::TsaKeyType::kRsa2048) {
    InitOptions options = SimulationOptions();
    options.tsa.key_type = key;
    options.tsa.tsa_validity_years = 6;
    InitAndOpen(options);
  }

  // How many items are packages (the others are the audit trail's sealed heads).
  static std::size_t Packages(const std::vector<RenewalItem>& items) {
    return static_cast<std::size_t>(std::count_if(items.begin(), items.end(), [](const RenewalItem& item) {
      return item.package_id.rfind("audit-head:", 0) != 0;
    }));
  }

  // A policy that retires SHA-256 on 2030-01-01, and the clock within the
  // margin before: the next renewal is a hash-tree renewal of everything.
  void RetireSha256Early() {
    fs::path policy = dir_ / "sha256-ends-2030.json";
    testing::WriteFile(policy, R"({"name": "SHA-256 retired early", "base": "etsi",
      "hash": [{"algorithm": "SHA-256", "end": "2030-01-01"}]})");
    ASSERT_TRUE(archive::Catalogue(*archive_).SetPolicy(policy.string()).ok());
    clock_.Set(At("2029-06-01T08:00:00Z"));
  }

  // A hash-tree renewal run: the packages it renewed, and the lines of those it left out.
  struct HashTreeRun {
    std::size_t renewed = 0;
    std::vector<std::string> left_out;
  };
  HashTreeRun RenewByHashTree() {
    HashTreeRun run;
    for (const auto& b : Renew().batches) {
      EXPECT_EQ(b.kind, RenewalKind::kHashTree);
      run.left_out.insert(run.left_out.end(), b.left_out.begin(), b.left_out.end());
      run.renewed += b.packages;
    }
    return run;
  }

  // One renewal run; returns what it did.
  RenewalOutcome Renew() {
    auto outcome = archive::Sealing(*archive_).Renew({});
    EXPECT_TRUE(outcome.ok()) << FormatUtcTime(clock_.Now()) << ": " << outcome.status().ToString();
    return outcome.ok() ? std::move(outcome).value() : RenewalOutcome{};
  }

  // BouncyCastle's verdict on an exported package, as of `at`.
  std::string BouncyCastleSays(const std::string& id, TimePoint at) {
    fs::path zip = dir_ / (id + ".zip");
    EXPECT_TRUE(archive::Verification(*archive_).Export(id, zip).ok());
    fs::path out = dir_ / id;
    EXPECT_EQ(testing::Run({"unzip", "-q", "-o", zip.string(), "-d", out.string()}).exit_code, 0);
    std::vector<std::string> argv = {PRESERVE_JAVA, "-cp",
                                     std::string(PRESERVE_ERS_CHECK_CLASSES) + ":" + PRESERVE_BC_CLASSPATH, "ErsCheck",
                                     "verify", "--at", FormatUtcTime(at), (out / "evidence.ers").string()};
    for (const auto& e : fs::recursive_directory_iterator(out / "data"))
      if (e.is_regular_file()) argv.push_back(e.path().string());
    auto r = testing::Run(argv);
    return r.out + r.err;
  }
};

TEST_F(Renewal, FiftyYearsOfRenewalsKeepEveryHoldingValid) {
  ASSERT_NO_FATAL_FAILURE(Init());
  std::vector<std::string> ids = {Ingest("letter.txt.p7s", "letter.txt"), Ingest("letter.p7m"),
                                  Ingest("letter-ec.txt.p7s", "letter.txt")};
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());  // one batch, one tree, three leaves

  std::map<RenewalKind, int> renewals;
  int rollovers = 0;
  int anchored_in = 0;
  for (int year = 2027; year <= 2076; ++year) {
    clock_.Set(At(std::to_string(year) + "-06-01T08:00:00Z"));
    if (year == 2031) {  // a second batch joins mid-way and must keep up too
      ids.push_back(Ingest("letter.p7m"));
      ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
    }
    RenewalOutcome outcome = Renew();
    if (!outcome.tsa_rollover.empty()) ++rollovers;
    EXPECT_TRUE(outcome.lapsed.empty()) << year << ": " << outcome.lapsed.front().reason;
    EXPECT_TRUE(outcome.self_check_failures.empty()) << year << ": " << outcome.self_check_failures.front();
    if (!outcome.trail_anchor.empty()) anchored_in = year;
    for (const auto& b : outcome.batches) {
      ++renewals[b.kind];
      // Everything due in one run shares one time-stamp per kind.
      EXPECT_GE(b.packages + b.trail_heads, 1u);
    }
    if (year % 10 == 0) Reopen();  // the schedule and the TSA survive restarts
  }
  // The trail was anchored under a stronger hash before SHA-256 ended (2040),
  // and its own evidence was renewed with the packages': in 2076 it is VALID.
  EXPECT_EQ(anchored_in, 2039);
  auto trail = archive::Maintenance(*archive_).VerifyAuditLog();
  ASSERT_TRUE(trail.ok()) << trail.status().ToString();
  EXPECT_EQ(trail->verdict, Verdict::kValid) << trail->reason;
  EXPECT_GE(trail->sealed_heads, 10u);  // one per seal and renewal batch
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  // RSA-2048 retired in 2030 and certificates of six years: a new TSA key about every five years.
  EXPECT_GE(rollovers, 9);
  EXPECT_LE(rollovers, 12);
  EXPECT_EQ(renewals[RenewalKind::kHashTree], 1);  // SHA-256 retired in 2040, once for all
  EXPECT_GE(renewals[RenewalKind::kTimeStamp], 9);

  for (const auto& id : ids) {
    auto report = archive::Verification(*archive_).Verify(id, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(report.value());
    auto contents = archive::Verification(*archive_).Contents(id);
    ASSERT_TRUE(contents.ok());
    auto er = timestamp::DecodeEvidenceRecord(contents->evidence_record);
    ASSERT_TRUE(er.ok());
    EXPECT_EQ(er->sequence.size(), 2u) << id;  // SHA-256 chain, then the SHA-384/512 chain
    EXPECT_EQ(BouncyCastleSays(id, clock_.Now()), "VALID\n") << id;
  }
}

// Sealing takes each package's group hash from its queue entry; an entry
// without one (a store queued before entries carried it) falls back to the
// package record, within the same batch and tree as the others.
TEST_F(Renewal, SealsQueueEntriesWithoutAGroupHashFromTheRecord) {
  ASSERT_NO_FATAL_FAILURE(Init());
  std::vector<std::string> ids = {Ingest("letter.p7m"), Ingest("letter.txt.p7s", "letter.txt"),
                                  Ingest("letter-ec.txt.p7s", "letter.txt")};
  archive_.reset();
  {
    auto store = storage::Store::Open(root_ / "db", {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    storage::WriteSet w;
    w.Enqueue(ids[0]);
    w.Enqueue(ids[2]);
    ASSERT_TRUE(store.value()->Commit(std::move(w)).ok());
  }
  Reopen();
  auto sealed = archive::Sealing(*archive_).Seal(1000);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  ASSERT_EQ(sealed->size(), 1u);
  EXPECT_EQ(sealed->front().packages, 3u);
  for (const auto& id : ids) {
    auto report = archive::Verification(*archive_).Verify(id, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(report.value());
    EXPECT_EQ(BouncyCastleSays(id, clock_.Now()), "VALID\n") << id;
  }
}

TEST_F(Renewal, PackagesSealedTogetherShareOneTimestampRenewalGroup) {
  ASSERT_NO_FATAL_FAILURE(Init());
  std::vector<std::string> ids = {Ingest("letter.p7m"), Ingest("letter.txt.p7s", "letter.txt")};
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  clock_.Set(At("2029-06-01T08:00:00Z"));  // RSA-2048 retires in 2030: a timestamp renewal
  RenewalOutcome outcome = Renew();
  ASSERT_EQ(outcome.batches.size(), 1u);
  EXPECT_EQ(outcome.batches[0].packages, 2u);
  std::vector<timestamp::ReducedHashtree> trees;
  for (const auto& id : ids) {
    auto contents = archive::Verification(*archive_).Contents(id);
    ASSERT_TRUE(contents.ok()) << contents.status().ToString();
    auto er = timestamp::DecodeEvidenceRecord(contents->evidence_record);
    ASSERT_TRUE(er.ok());
    ASSERT_EQ(er->sequence.size(), 1u);
    ASSERT_EQ(er->sequence[0].size(), 2u);
    // Both renew the one token they share: one group, one leaf, whose list 0
    // is that token's hash (ERS-RULES.md rule 11). The batch's only other
    // leaf is the audit trail's head, so the tree has one more list.
    const auto& renewal = er->sequence[0][1];
    ASSERT_TRUE(renewal.reduced_hashtree.has_value()) << id;
    ASSERT_EQ(renewal.reduced_hashtree->size(), 2u) << id;
    EXPECT_EQ(renewal.reduced_hashtree->front(),
              timestamp::PartialHashtree{Digest(HashAlgorithm::kSha256, er->sequence[0][0].time_stamp)});
    trees.push_back(*renewal.reduced_hashtree);
    EXPECT_EQ(BouncyCastleSays(id, clock_.Now()), "VALID\n") << id;
  }
  EXPECT_EQ(trees[0], trees[1]);
}

TEST_F(Renewal, SkippingADueRenewalEndsInvalidWithTheReason) {
  ASSERT_NO_FATAL_FAILURE(Init());
  std::string id = Ingest("letter.p7m");
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  for (int year = 2027; year <= 2035; ++year) {
    if (year == 2029) continue;  // the run that had to renew before RSA-2048 retires (2030-01-01)
    clock_.Set(At(std::to_string(year) + "-06-01T08:00:00Z"));
    RenewalOutcome outcome = Renew();
    if (year < 2030) continue;
    // Every later run says so, and renews nothing for it.
    auto lapsed = std::find_if(outcome.lapsed.begin(), outcome.lapsed.end(),
                               [&id](const RenewalItem& item) { return item.package_id == id; });
    ASSERT_NE(lapsed, outcome.lapsed.end()) << year;
    EXPECT_EQ(lapsed->deadline, At("2030-01-01")) << year;
    EXPECT_NE(lapsed->reason.find("RSA-2048"), std::string::npos) << lapsed->reason;
    for (const auto& b : outcome.batches) EXPECT_EQ(b.packages, 0u) << year;
  }
  auto report = archive::Verification(*archive_).Verify(id, {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->verdict, Verdict::kInvalid);
  std::string text = audit::ReportToText(report.value());
  EXPECT_NE(text.find("chain 1, ATS 1"), std::string::npos) << text;
  EXPECT_NE(text.find("2030-01-01"), std::string::npos) << text;
  // check and the audit trail say it too.
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_GE(check->lapsed, 1u);
  bool recorded = false;
  ASSERT_TRUE(archive::Maintenance(*archive_)
                  .ScanAuditLog(0,
                                 [&](const AuditLogEvent& e) {
                                   recorded = recorded || (e.json.find("\"event\":\"lapse\"") != std::string::npos &&
                                                           e.json.find(id) != std::string::npos);
                                   return true;
                                 })
                  .ok());
  EXPECT_TRUE(recorded);
}

TEST_F(Renewal, DryRunPlansWithoutChangingAnything) {
  ASSERT_NO_FATAL_FAILURE(Init());
  Ingest("letter.p7m");
  Ingest("letter.txt.p7s", "letter.txt");
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  clock_.Set(At("2029-06-01T08:00:00Z"));
  auto plan = archive::Sealing(*archive_).PlanRenewal({});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(Packages(plan->items), 2u);  // and the trail head their batch sealed
  EXPECT_EQ(plan->items.size(), 3u);
  EXPECT_FALSE(plan->tsa_rollover.empty());
  for (const auto& item : plan->items) {
    EXPECT_EQ(item.kind, RenewalKind::kTimeStamp);
    EXPECT_NE(item.reason.find("RSA-2048"), std::string::npos) << item.reason;
  }
  // Nothing changed: the same plan again.
  auto again = archive::Sealing(*archive_).PlanRenewal({});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->items.size(), 3u);
  EXPECT_EQ(Renew().batches.size(), 1u);
  EXPECT_TRUE(archive::Sealing(*archive_).PlanRenewal({})->items.empty());
  EXPECT_TRUE(Renew().batches.empty());  // idempotent: nothing is renewed twice
}

// No run between 2027 and late 2039: the TSA certificate (2032) ended
// unrenewed, and SHA-256 (2040) is about to. The run says the evidence lapsed
// and when, renews nothing for it, but anchors the audit trail under a
// stronger hash before SHA-256 ends; a new chain, started explicitly, proves
// existence from then on, and the lapsed one stays on record.
TEST_F(Renewal, RunMissedAcrossAHashEndLapsesLoudlyAndARestartedChainProvesFromThen) {
  ASSERT_NO_FATAL_FAILURE(Init(timestamp::TsaKeyType::kEcdsaP256));
  std::string id = Ingest("letter.p7m");
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  clock_.Set(At("2039-09-01T08:00:00Z"));
  RenewalOutcome outcome = Renew();
  ASSERT_EQ(Packages(outcome.lapsed), 1u);
  EXPECT_EQ(outcome.lapsed.size(), 2u);  // the package, and the trail head its seal sealed
  for (const auto& item : outcome.lapsed) {
    EXPECT_EQ(item.deadline, At("2032-12-01T08:00:00Z")) << item.reason;  // six years from init
    EXPECT_NE(item.reason.find("TSA certificate"), std::string::npos) << item.reason;
  }
  EXPECT_NE(outcome.trail_anchor.find("anchored under SHA-384"), std::string::npos) << outcome.trail_anchor;
  ASSERT_EQ(outcome.batches.size(), 1u);  // the trail's head alone: nothing was renewed in time
  EXPECT_EQ(outcome.batches[0].packages, 0u);
  EXPECT_TRUE(outcome.self_check_failures.empty()) << outcome.self_check_failures.front();
  auto report = archive::Verification(*archive_).Verify(id, {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->verdict, Verdict::kInvalid);

  // Only lapsed evidence may be restarted; nothing is back-dated.
  std::string other = Ingest("letter.txt.p7s", "letter.txt");
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  EXPECT_EQ(archive::Sealing(*archive_).RestartLapsedEvidence({other}, "test", "auditor").status().code(),
            StatusCode::kFailedPrecondition);
  auto restarted =
      archive::Sealing(*archive_).RestartLapsedEvidence({}, "the 2032 TSA certificate expired unrenewed", "auditor");
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  EXPECT_EQ(restarted->subjects.size(), 2u);
  EXPECT_GE(restarted->time, At("2039-09-01T08:00:00Z"));
  report = archive::Verification(*archive_).Verify(id, {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(report.value());
  EXPECT_EQ(report->existence_time, restarted->time);
  ASSERT_EQ(report->lapsed_evidence.size(), 1u);
  EXPECT_NE(report->lapsed_evidence[0].find("lapsed"), std::string::npos) << report->lapsed_evidence[0];
  EXPECT_NE(report->lapsed_evidence[0].find("2032-12-01"), std::string::npos) << report->lapsed_evidence[0];
  std::string text = audit::ReportToText(report.value());
  EXPECT_NE(text.find("an earlier one lapsed"), std::string::npos) << text;
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  auto trail = archive::Maintenance(*archive_).VerifyAuditLog();
  ASSERT_TRUE(trail.ok());
  EXPECT_EQ(trail->verdict, Verdict::kValid) << trail->reason;

  // The restarted chain is renewed like any other, across SHA-256's end: still VALID in 2050.
  for (int year = 2040; year <= 2050; ++year) {
    clock_.Set(At(std::to_string(year) + "-06-01T08:00:00Z"));
    RenewalOutcome later = Renew();
    EXPECT_TRUE(later.lapsed.empty()) << year << ": " << later.lapsed.front().reason;
  }
  report = archive::Verification(*archive_).Verify(id, {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(report.value());
  ASSERT_TRUE(archive::Verification(*archive_).Export(id, dir_ / "restarted.zip").ok());
  auto zip = audit::ReadPackageZip(dir_ / "restarted.zip");
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  EXPECT_EQ(zip->lapsed_evidence.size(), 1u);
  EXPECT_EQ(BouncyCastleSays(id, clock_.Now()), "VALID\n");
  trail = archive::Maintenance(*archive_).VerifyAuditLog();
  ASSERT_TRUE(trail.ok());
  EXPECT_EQ(trail->verdict, Verdict::kValid) << trail->reason;
}

TEST_F(Renewal, PolicyChangeReschedulesEveryPackage) {
  ASSERT_NO_FATAL_FAILURE(Init(timestamp::TsaKeyType::kEcdsaP256));
  Ingest("letter.p7m");
  Ingest("letter.txt.p7s", "letter.txt");
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  clock_.Set(At("2029-06-01T08:00:00Z"));
  ASSERT_TRUE(archive::Sealing(*archive_).PlanRenewal({})->items.empty());  // the TSA certificate lasts until 2032

  fs::path policy = dir_ / "sha256-ends-2030.json";
  testing::WriteFile(policy, R"({"name": "SHA-256 retired early", "base": "etsi",
    "hash": [{"algorithm": "SHA-256", "end": "2030-01-01"}]})");
  ASSERT_TRUE(archive::Catalogue(*archive_).SetPolicy(policy.string()).ok());
  auto plan = archive::Sealing(*archive_).PlanRenewal({});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(Packages(plan->items), 2u);
  for (const auto& item : plan->items) {
    EXPECT_EQ(item.kind, RenewalKind::kHashTree);
    EXPECT_EQ(item.deadline, At("2030-01-01"));
  }
  Reopen();  // the policy is the store's now
  EXPECT_EQ(archive_->policy().name(), "SHA-256 retired early");
}

// A batch's evidence committed one package at a time (config.json's
// commit_subjects) is the evidence one commit would have written: one
// time-stamp per batch, every package VALID for preserve and BouncyCastle
// after a seal, a timestamp renewal and a hash-tree renewal, whose content
// is re-read two objects' worth of the key space at a time.
TEST_F(Renewal, BatchesCommittedAPackageAtATimeKeepOneTimeStampAndVerify) {
  ASSERT_NO_FATAL_FAILURE(Init(timestamp::TsaKeyType::kEcdsaP256));
  testing::WriteFile(root_ / "config.json",
                     R"({"renewal_margin_days": 400, "tsa_validity_years": 6, "commit_subjects": 1,
                         "renewal_objects_per_pass": 2})");
  Reopen();
  const std::vector<std::string> ids = {Ingest("letter.p7m"), Ingest("letter.txt.p7s", "letter.txt"),
                                        Ingest("letter-ec.txt.p7s", "letter.txt")};
  auto sealed = archive::Sealing(*archive_).Seal(1000);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  ASSERT_EQ(sealed->size(), 1u);
  EXPECT_EQ(sealed->front().packages, 3u);

  clock_.Set(At("2032-01-01T08:00:00Z"));  // the TSA certificate (six years, to 2032-12) ends within the margin
  RenewalOutcome by_token = Renew();
  ASSERT_EQ(by_token.batches.size(), 1u);
  EXPECT_EQ(by_token.batches[0].kind, RenewalKind::kTimeStamp);
  EXPECT_EQ(by_token.batches[0].packages, 3u);

  fs::path policy = dir_ / "sha256-ends-2033.json";
  testing::WriteFile(policy, R"({"name": "SHA-256 retired", "base": "etsi",
    "hash": [{"algorithm": "SHA-256", "end": "2033-01-01"}]})");
  ASSERT_TRUE(archive::Catalogue(*archive_).SetPolicy(policy.string()).ok());
  clock_.Set(At("2032-09-01T08:00:00Z"));
  // The schedule read one entry at a time (commit_subjects), and a batch
  // renewed each time two subjects wait: the three packages and the trail's
  // two sealed heads in three batches, each verified.
  auto by_hash = archive::Sealing(*archive_).Renew({.margin = std::nullopt, .max_batch = 2});
  ASSERT_TRUE(by_hash.ok()) << by_hash.status().ToString();
  ASSERT_EQ(by_hash->batches.size(), 3u);
  std::size_t packages = 0;
  for (const auto& b : by_hash->batches) {
    EXPECT_EQ(b.kind, RenewalKind::kHashTree);
    EXPECT_LE(b.packages + b.trail_heads, 2u);
    packages += b.packages;
  }
  EXPECT_EQ(packages, 3u);
  EXPECT_TRUE(by_hash->self_check_failures.empty()) << by_hash->self_check_failures.front();
  EXPECT_TRUE(archive::Sealing(*archive_).PlanRenewal({})->items.empty());  // nothing left behind

  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  for (const auto& id : ids) {
    auto report = archive::Verification(*archive_).Verify(id, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(report.value());
    EXPECT_EQ(BouncyCastleSays(id, clock_.Now()), "VALID\n") << id;
  }
}

// Hash-tree renewal reads every object again to hash it under the new
// algorithm: an object whose bytes changed behind the archive's back (bit rot,
// an edit) is not sealed afresh, which would make the change look authentic.
// A hash-tree renewal seals the content afresh, so it must be what was sealed:
// content changed behind preserve's back is not renewed, and the package is
// named; the other packages of the batch are renewed all the same, and the
// damaged one stays due until its content is put right.
TEST_F(Renewal, HashTreeRenewalLeavesOutContentThatNoLongerMatchesItsDigest) {
  ASSERT_NO_FATAL_FAILURE(Init(timestamp::TsaKeyType::kEcdsaP256));
  const std::string damaged = Ingest("letter.txt.p7s", "letter.txt");
  const std::string sound = Ingest("letter.p7m");
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  // The signature: the document's bytes are in the other package too.
  const std::string key = ToString(Digest(HashAlgorithm::kSha256, testing::SignedFixture("letter.txt.p7s")));
  std::string original;
  archive_.reset();
  {
    testing::RawDb raw(root_ / "db");
    original = raw.Get("content", key);
    raw.Put("content", key, original + "one line more\n");
  }
  // The content re-read an object's worth of the key space at a time: the
  // damaged object is named whichever pass meets it.
  std::string config = ToString(testing::ReadFileOrDie(root_ / "config.json"));
  config.insert(config.rfind('}'), R"(, "renewal_objects_per_pass": 1)");
  testing::WriteFile(root_ / "config.json", config);
  Reopen();
  ASSERT_NO_FATAL_FAILURE(RetireSha256Early());

  const HashTreeRun run = RenewByHashTree();
  ASSERT_EQ(run.left_out.size(), 1u);
  EXPECT_EQ(run.left_out[0].rfind("package " + damaged + ": ", 0), 0u) << run.left_out[0];
  EXPECT_NE(run.left_out[0].find("letter.txt.p7s: does not match its SHA-256"), std::string::npos)
      << run.left_out[0];
  EXPECT_EQ(run.renewed, 1u);
  auto report = archive::Verification(*archive_).Verify(sound, {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(report.value());
  // Still due: the next run tries again, and says so again.
  auto plan = archive::Sealing(*archive_).PlanRenewal({});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(Packages(plan->items), 1u);
  EXPECT_TRUE(std::any_of(plan->items.begin(), plan->items.end(),
                          [&](const RenewalItem& item) { return item.package_id == damaged; }));

  // Put right (as 'repair' would from a backup), it is renewed by the next run.
  archive_.reset();
  testing::RawDb(root_ / "db").Put("content", key, original);
  Reopen();
  const RenewalOutcome outcome = Renew();
  ASSERT_EQ(outcome.batches.size(), 1u);
  EXPECT_TRUE(outcome.batches[0].left_out.empty());
  EXPECT_EQ(outcome.batches[0].packages, 1u);
  report = archive::Verification(*archive_).Verify(damaged, {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(report.value());
}

// A record whose data object's SHA-256 is not 32 bytes (edited behind
// preserve's back) is left out of a hash-tree renewal and named; the other
// package of the batch is renewed.
TEST_F(Renewal, HashTreeRenewalLeavesOutARecordWithADigestOfTheWrongLength) {
  ASSERT_NO_FATAL_FAILURE(Init(timestamp::TsaKeyType::kEcdsaP256));
  const std::string damaged = Ingest("letter.p7m");
  const std::string sound = Ingest("letter.txt.p7s", "letter.txt");
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  archive_.reset();
  {
    testing::RawDb raw(root_ / "db");
    std::string record = raw.Get("packages", damaged);
    const std::size_t at = record.find("\"sha256\":\"");
    ASSERT_NE(at, std::string::npos) << record;
    record.erase(at + 10, 2);  // one byte (two hex digits) fewer
    raw.Put("packages", damaged, record);
  }
  Reopen();
  ASSERT_NO_FATAL_FAILURE(RetireSha256Early());

  const HashTreeRun run = RenewByHashTree();
  ASSERT_EQ(run.left_out.size(), 1u);
  EXPECT_EQ(run.left_out[0].rfind("package " + damaged + ": ", 0), 0u) << run.left_out[0];
  EXPECT_NE(run.left_out[0].find("a SHA-256 of 31 bytes"), std::string::npos) << run.left_out[0];
  EXPECT_EQ(run.renewed, 1u);
  auto report = archive::Verification(*archive_).Verify(sound, {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(report.value());
}

// Stores from before the schedule named each subject's newest batch hold
// entries without it: renewal finds the batch (and so the hash to renew
// under) in the evidence, and the entries it writes name it again.
TEST_F(Renewal, EntriesScheduledWithoutTheirBatchAreRenewedFromTheEvidence) {
  ASSERT_NO_FATAL_FAILURE(Init(timestamp::TsaKeyType::kEcdsaP256));
  const std::vector<std::string> ids = {Ingest("letter.p7m"), Ingest("letter.txt.p7s", "letter.txt")};
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  auto schedule = [&] {
    archive_.reset();
    std::vector<storage::ScheduleEntry> entries;
    auto store = storage::Store::Open(root_ / "db", {});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (store.ok()) {
      EXPECT_TRUE(store.value()->ScanSchedule([&](const storage::ScheduleEntry& e) {
        entries.push_back(e);
        return true;
      }).ok());
    }
    return std::make_pair(std::move(store), entries);
  };
  {
    auto [store, entries] = schedule();
    ASSERT_TRUE(store.ok());
    ASSERT_EQ(entries.size(), 3u);  // the two packages and the trail head sealed with them
    storage::WriteSet w;
    for (const auto& e : entries) {
      EXPECT_FALSE(e.newest_batch.empty()) << e.package_id;
      w.Schedule(e.due, e.package_id, "");
    }
    ASSERT_TRUE(store.value()->Commit(std::move(w)).ok());
  }
  Reopen();
  ASSERT_NO_FATAL_FAILURE(RetireSha256Early());

  const HashTreeRun run = RenewByHashTree();
  EXPECT_EQ(run.renewed, 2u);
  EXPECT_TRUE(run.left_out.empty());
  for (const auto& id : ids) {
    auto report = archive::Verification(*archive_).Verify(id, {});
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(report.value());
  }
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  auto [store, entries] = schedule();
  for (const auto& e : entries) {
    if (std::find(ids.begin(), ids.end(), e.package_id) != ids.end()) {
      EXPECT_FALSE(e.newest_batch.empty()) << e.package_id;
    }
  }
}

TEST_F(Renewal, NothingIsDueEarly) {
  ASSERT_NO_FATAL_FAILURE(Init(timestamp::TsaKeyType::kEcdsaP256));
  Ingest("letter.p7m");
  ASSERT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
  clock_.Set(At("2027-06-01T08:00:00Z"));
  RenewalOutcome outcome = Renew();
  EXPECT_TRUE(outcome.batches.empty());
  EXPECT_TRUE(outcome.tsa_rollover.empty());
}

}  // namespace
}  // namespace preserve::archive
