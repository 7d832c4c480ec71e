// Refusals leave nothing, and `preserve gc` collects content no package
// refers to (left by crashes, or by refusals in earlier versions), audited
// and crash-safe, never touching what a package holds.
#include <gtest/gtest.h>

#include <csignal>

#include "preserve/util/digest.h"
#include "raw_db.h"
#include "store_cli_fixture.h"

namespace preserve {
namespace {

using testing::CommandResult;
using testing::Contains;
using testing::Lines;

using Garbage = testing::StoreCli;

// Three refused documents of 6 MB each (above the 4 MiB chunk size, so
// streamed): before, their chunks stayed in the store; now nothing does.
TEST_F(Garbage, RefusedLargeDocumentsLeaveNothingInTheStore) {
  IngestDetached();
  std::size_t before = 0;
  {
    testing::RawDb raw(Db());
    before = raw.Keys("content").size();
  }
  std::vector<std::string> args = {"ingest", "--ids-only", "--allow-duplicate", "--trust", testing::kCliRootCa};
  for (int i = 0; i < 3; ++i) {
    std::filesystem::path big = dir_ / ("scan-" + std::to_string(i) + ".bin");
    testing::WriteFile(big, std::string(6'000'000, static_cast<char>('a' + i)));
    std::filesystem::copy_file(testing::SignedFixturePath("letter.txt.p7s"), big.string() + ".p7s");
    args.push_back(big.string());
    args.push_back(big.string() + ".p7s");
  }
  CommandResult refused = Preserve(args);
  EXPECT_EQ(refused.exit_code, 3) << refused.out << refused.err;
  EXPECT_EQ(Lines(refused.err).size(), 4u) << "three refusals and the summary: " << refused.err;
  {
    testing::RawDb raw(Db());
    EXPECT_EQ(raw.Keys("content").size(), before);
  }
  CommandResult check = Preserve({"check", "--json"});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_TRUE(Contains(check.out, "\"garbage_objects\":0,\"garbage_bytes\":0")) << check.out;
}

class GarbageLeft : public testing::StoreCli {
 protected:
  void SetUp() override {
    StoreCli::SetUp();
    id_ = IngestDetached();
    // What an earlier preserve left of a refused document: chunks, and a
    // chunk list whose object no package lists.
    testing::RawDb raw(Db());
    for (const std::string& chunk : {std::string(70000, 'x'), std::string(1000, 'y')})
      raw.Put("content", ToString(Digest(HashAlgorithm::kSha256, AsBytes(chunk))), chunk);
    raw.Put("content", ToString(Digest(HashAlgorithm::kSha256, AsBytes("orphan"))) + '\x01', std::string(49, 'z'));
  }
  std::string id_;
};

TEST_F(GarbageLeft, CheckCountsWhatGcCollectsAndGcCollectsIt) {
  CommandResult check = Preserve({"check", "--json"});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_TRUE(Contains(check.out, "\"garbage_objects\":3,\"garbage_bytes\":71049")) << check.out;
  CommandResult text = Preserve({"check"});
  EXPECT_TRUE(Contains(text.out, "'preserve gc' collects it")) << text.out;

  CommandResult dry = Preserve({"gc", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_TRUE(Contains(dry.out, "gc: 3 unreferenced content values")) << dry.out;
  EXPECT_TRUE(Contains(dry.out, "71049 bytes: a dry run, nothing erased")) << dry.out;
  EXPECT_TRUE(Contains(Preserve({"check", "--json"}).out, "\"garbage_objects\":3")) << "nothing erased";

  CommandResult gc = Preserve({"gc", "--json"});
  EXPECT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  // (unreferenced_objects and the two after it count objects in an S3 object store: none with content in RocksDB.)
  EXPECT_EQ(Lines(gc.out).front(),
            "{\"values\":3,\"bytes\":71049,\"erased\":true,\"unreferenced_objects\":0,"
            "\"unreferenced_object_bytes\":0,\"objects_kept_by_lock\":0,\"tree_chunks\":0,\"tree_bytes\":0}");
  CommandResult after = Preserve({"check", "--json"});
  EXPECT_EQ(after.exit_code, 0) << after.out;
  EXPECT_TRUE(Contains(after.out, "\"garbage_objects\":0,\"garbage_bytes\":0")) << after.out;
  CommandResult log = Preserve({"audit-log", "show"});
  EXPECT_TRUE(Contains(Lines(log.out).back(), "  gc  values=3  bytes=71049")) << log.out;
  EXPECT_EQ(Preserve({"audit-log", "verify"}).exit_code, 0);
  EXPECT_EQ(Preserve({"verify", id_}).exit_code, 0);
  EXPECT_EQ(Preserve({"fixity"}).exit_code, 0);
  CommandResult again = Preserve({"gc"});
  EXPECT_TRUE(Contains(again.out, "gc: no unreferenced content")) << again.out;
  EXPECT_EQ(Preserve({"gc", "--help"}).exit_code, 0);
}

// Killed before its commit, gc erased nothing; killed after, everything,
// recorded. Either way the store is consistent and the package whole.
TEST_F(GarbageLeft, GcKilledAnywhereLeavesAWholeStore) {
  for (const std::string point : {"gc.before_commit", "gc.after_commit"}) {
    CommandResult killed = Preserve({"gc"}, {"PRESERVE_FAULT_POINT=" + point});
    EXPECT_EQ(killed.exit_code, 128 + SIGKILL) << point << killed.out << killed.err;
    CommandResult check = Preserve({"check", "--json"});
    EXPECT_EQ(check.exit_code, 0) << point << check.out;
    const bool erased = point == "gc.after_commit";
    EXPECT_TRUE(Contains(check.out, erased ? "\"garbage_objects\":0" : "\"garbage_objects\":3")) << point << check.out;
    EXPECT_EQ(Preserve({"audit-log", "verify"}).exit_code, 0) << point;
    EXPECT_EQ(Preserve({"verify", id_}).exit_code, 0) << point;
  }
  CommandResult log = Preserve({"audit-log", "show"});
  std::size_t gc_events = 0;
  for (const auto& line : Lines(log.out)) gc_events += Contains(line, "  gc  ") ? 1u : 0u;
  EXPECT_EQ(gc_events, 1u) << "recorded once, in the commit that erased: " << log.out;
}

}  // namespace
}  // namespace preserve
