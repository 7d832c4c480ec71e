#include "preserve/storage/store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "preserve/util/digest.h"
#include "testing.h"

namespace preserve::storage {
namespace {

using preserve::testing::TempDir;

std::unique_ptr<Store> OpenOrDie(const std::filesystem::path& dir, StoreOptions options = {}) {
  auto store = Store::Open(dir, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(Store, MissingStoreIsNotFound) {
  TempDir dir;
  auto store = Store::Open(dir / "nothing", {});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir / "nothing"));
}

TEST(Store, CreateRefusesExistingStore) {
  TempDir dir;
  { auto s = OpenOrDie(dir / "db", {.create_if_missing = true}); }
  auto again = Store::Open(dir / "db", {.create_if_missing = true});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST(Store, CommittedWritesSurviveReopen) {
  TempDir dir;
  Bytes digest = Digest(HashAlgorithm::kSha256, AsBytes("hello"));
  {
    auto store = OpenOrDie(dir / "db", {.create_if_missing = true});
    WriteSet w;
    w.PutContent(digest, AsBytes("hello"));
    w.PutPackage("p1", AsBytes("record"));
    w.Enqueue("p1");
    w.AppendAudit(AsBytes("ingest p1"));
    ASSERT_TRUE(store->Commit(std::move(w)).ok());
  }
  auto store = OpenOrDie(dir / "db");
  EXPECT_EQ(ToString(store->GetContent(digest).value()), "hello");
  EXPECT_EQ(ToString(store->GetPackage("p1").value()), "record");
  EXPECT_EQ(store->ListQueued(10).value(), std::vector<std::string>{"p1"});
  EXPECT_EQ(store->GetPackage("p2").status().code(), StatusCode::kNotFound);
}

TEST(Store, AuditTrailIsChainedAcrossCommitsAndReopens) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir / "db", {.create_if_missing = true});
    WriteSet a;
    a.AppendAudit(AsBytes("one"));
    a.AppendAudit(AsBytes("two"));
    ASSERT_TRUE(store->Commit(std::move(a)).ok());
  }
  auto store = OpenOrDie(dir / "db");
  WriteSet b;
  b.AppendAudit(AsBytes("three"));
  ASSERT_TRUE(store->Commit(std::move(b)).ok());

  std::vector<AuditEntry> entries;
  ASSERT_TRUE(store->ScanAudit(0, [&](const AuditEntry& e) {
    entries.push_back(e);
    return true;
  }).ok());
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].previous_hash, Bytes(32, 0));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].sequence, i);
    if (i > 0) {
      EXPECT_EQ(entries[i].previous_hash, entries[i - 1].hash);
    }
  }
  EXPECT_EQ(ToString(entries[2].event), "three");
}

TEST(Store, DequeueAndScheduleScan) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", {.create_if_missing = true});
  TimePoint t0 = ParseUtcTime("2030-01-01").value();
  WriteSet w;
  w.Enqueue("a");
  w.Enqueue("b");
  w.Schedule(t0 + std::chrono::hours(48), "late", "batch-1");
  w.Schedule(t0, "early", "batch-1");
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  WriteSet d;
  d.Dequeue("a");
  d.Unschedule(t0 + std::chrono::hours(48), "late");
  d.Schedule(t0 + std::chrono::hours(24), "middle", "batch-2");
  ASSERT_TRUE(store->Commit(std::move(d)).ok());

  EXPECT_EQ(store->ListQueued(10).value(), std::vector<std::string>{"b"});
  auto due = store->ScheduledBefore(t0 + std::chrono::hours(24), 10).value();
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].package_id, "early");
  EXPECT_EQ(due[0].due, t0);
  EXPECT_EQ(due[0].newest_batch, "batch-1");
  EXPECT_EQ(due[1].package_id, "middle");
  EXPECT_EQ(due[1].newest_batch, "batch-2");

  // A page at a time: after an entry, those that follow it by time, then id.
  WriteSet more;
  more.Schedule(t0, "early2", "batch-3");
  more.Schedule(t0 + std::chrono::hours(24), "another", "batch-3");
  ASSERT_TRUE(store->Commit(std::move(more)).ok());
  std::vector<std::string> paged;
  ScheduleEntry last;
  const ScheduleEntry* after = nullptr;
  std::vector<ScheduleEntry> page;
  while (!(page = store->ScheduledBefore(t0 + std::chrono::hours(24), 2, after).value()).empty()) {
    for (const auto& e : page) paged.push_back(e.package_id);
    last = page.back();
    after = &last;
  }
  EXPECT_EQ(paged, (std::vector<std::string>{"early", "early2", "another", "middle"}));
}

TEST(Store, ListPackagesPages) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", {.create_if_missing = true});
  WriteSet w;
  for (char c = 'a'; c <= 'e'; ++c) w.PutPackage(std::string(1, c), AsBytes("r"));
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  auto page1 = store->ListPackages("", 2).value();
  ASSERT_EQ(page1.size(), 2u);
  EXPECT_EQ(page1[1].first, "b");
  auto page2 = store->ListPackages("b", 10).value();
  ASSERT_EQ(page2.size(), 3u);
  EXPECT_EQ(page2[0].first, "c");
}

TEST(Store, TreeNodesAreKeptPerBatchLevelAndChunk) {
  TempDir dir;
  {
    auto store = OpenOrDie(dir / "db", {.create_if_missing = true});
    WriteSet w;
    w.PutTreeNodes("b1", 0, 0, AsBytes("level 0, chunk 0"));
    w.PutTreeNodes("b1", 0, 1, AsBytes("level 0, chunk 1"));
    w.PutTreeNodes("b1", 1, 0, AsBytes("level 1, chunk 0"));
    w.PutTreeNodes("b2", 0, 0, AsBytes("other batch"));
    ASSERT_TRUE(store->Commit(std::move(w)).ok());
  }  // closing flushes: the reopened store reads from tables, not the log
  auto store = OpenOrDie(dir / "db", {.read_only = true});
  EXPECT_EQ(ToString(store->GetTreeNodes("b1", 0, 1).value()), "level 0, chunk 1");
  EXPECT_EQ(ToString(store->GetTreeNodes("b1", 1, 0).value()), "level 1, chunk 0");
  EXPECT_EQ(ToString(store->GetTreeNodes("b2", 0, 0).value()), "other batch");
  EXPECT_EQ(store->GetTreeNodes("b1", 2, 0).status().code(), StatusCode::kNotFound);
  // Scanned in key order (batch, level, chunk), each with its size.
  std::vector<std::string> scanned;
  ASSERT_TRUE(store
                  ->ScanTreeChunks([&](std::string_view batch, std::uint32_t level, std::uint32_t chunk,
                                       std::uint64_t size) {
                    scanned.push_back(std::string(batch) + " " + std::to_string(level) + " " +
                                      std::to_string(chunk) + " " + std::to_string(size));
                  })
                  .ok());
  EXPECT_EQ(scanned, (std::vector<std::string>{"b1 0 0 16", "b1 0 1 16", "b1 1 0 16", "b2 0 0 11"}));
}

TEST(Store, TreeNodesCanBeErased) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", {.create_if_missing = true});
  WriteSet w;
  w.PutTreeNodes("b1", 0, 0, AsBytes("level 0, chunk 0"));
  w.PutTreeNodes("b1", 1, 0, AsBytes("level 1, chunk 0"));
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  WriteSet erase;
  erase.EraseTreeNodes("b1", 0, 0);
  ASSERT_TRUE(store->Commit(std::move(erase)).ok());
  EXPECT_EQ(store->GetTreeNodes("b1", 0, 0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ToString(store->GetTreeNodes("b1", 1, 0).value()), "level 1, chunk 0");
}

TEST(Store, LargeWriteSetCommitsWhole) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", {.create_if_missing = true});
  TimePoint due = ParseUtcTime("2030-01-01").value();
  WriteSet w;
  constexpr int kPackages = 50000;
  for (int i = 0; i < kPackages; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "p%07d", i);
    w.PutEvidence(id, AsBytes(std::string(100, 'e')));
    w.Schedule(due, id, "batch");
  }
  w.AppendAudit(AsBytes("seal"));
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  EXPECT_EQ(ToString(store->GetEvidence("p0049999").value()), std::string(100, 'e'));
  EXPECT_EQ(store->ScheduledBefore(due, kPackages + 1).value().size(), static_cast<std::size_t>(kPackages));
}

TEST(Store, SecondWriterIsBusyAndNamesTheHolder) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", {.create_if_missing = true});
  // flock is per open file description: a child process sees the lock as held.
  pid_t pid = ::fork();
  if (pid == 0) {
    auto second = Store::Open(dir / "db", {});
    bool busy = !second.ok() && second.status().code() == StatusCode::kBusy &&
                second.status().message().find(std::to_string(::getppid())) != std::string::npos;
    ::_exit(busy ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// A writer that keeps the store (the service) says what it is: a second writer
// is told who, and that waiting will not help; without a description the
// message is the old one.
TEST(Store, SecondWriterIsToldWhatHoldsTheStore) {
  TempDir dir;
  OpenOrDie(dir / "db", {.create_if_missing = true}).reset();
  auto store = OpenOrDie(dir / "db", {.holder = "preserve serve, listening on\nhttps://127.0.0.1:8443"});
  pid_t pid = ::fork();
  if (pid == 0) {
    auto second = Store::Open(dir / "db", {});
    const std::string expected = "the store " + (dir / "db").string() +
                                 " is held by preserve serve, listening on https://127.0.0.1:8443 (pid " +
                                 std::to_string(::getppid()) +
                                 "): stop the service, or use its API or web application, to change the store";
    ::_exit(!second.ok() && second.status().code() == StatusCode::kBusy && second.status().message() == expected
                ? 0
                : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // Released and taken by a writer that says nothing: the old message again.
  store.reset();
  store = OpenOrDie(dir / "db", {});
  pid = ::fork();
  if (pid == 0) {
    auto second = Store::Open(dir / "db", {});
    ::_exit(!second.ok() && second.status().message().find("is being written by another process (pid " +
                                                           std::to_string(::getppid()) + ")") != std::string::npos
                ? 0
                : 1);
  }
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(Store, ReadersRunAlongsideTheWriter) {
  TempDir dir;
  auto writer = OpenOrDie(dir / "db", {.create_if_missing = true});
  WriteSet w;
  w.PutPackage("p", AsBytes("v"));
  ASSERT_TRUE(writer->Commit(std::move(w)).ok());
  auto reader = OpenOrDie(dir / "db", {.read_only = true});
  EXPECT_EQ(ToString(reader->GetPackage("p").value()), "v");
  WriteSet nope;
  nope.PutPackage("q", AsBytes("v"));
  EXPECT_EQ(reader->Commit(std::move(nope)).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace preserve::storage
