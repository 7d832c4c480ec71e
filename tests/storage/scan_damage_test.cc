// Scans that meet damage: a block RocksDB's checksums reject fails a plain
// scan, while a scan given a ScanGapSink names the stretch it skipped and
// goes on with everything after it.
#include <gtest/gtest.h>

#include <rocksdb/db.h>
#include <rocksdb/table_properties.h>

#include <set>

#include "preserve/storage/store.h"
#include "preserve/util/digest.h"
#include "testing.h"

namespace preserve::storage {
namespace {

using preserve::testing::TempDir;

constexpr int kPackages = 3000;

std::string Id(int i) {
  std::string digits = std::to_string(i);
  return "p" + std::string(5 - digits.size(), '0') + digits;
}

// Flips a byte in the middle of the data blocks of `family`'s largest table
// file (table files start with their data blocks: [0, data_size)).
void FlipByteInTheData(const std::filesystem::path& db, const std::string& family) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db.string(), &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), db.string(), families, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> owner(raw);
  rocksdb::TablePropertiesCollection tables;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == family) {
      ASSERT_TRUE(raw->GetPropertiesOfAllTables(handles[i], &tables).ok());
    }
  }
  for (auto* h : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(raw->Close().ok());
  std::string largest;
  std::uint64_t data_size = 0;
  for (const auto& [file, properties] : tables) {
    if (properties->data_size > data_size) {
      largest = file;
      data_size = properties->data_size;
    }
  }
  ASSERT_GT(data_size, 32u * 1024) << "the family's data spans many blocks";
  Bytes bytes = testing::ReadFileOrDie(largest);
  bytes[data_size / 2] ^= 0x5a;
  testing::WriteFile(largest, bytes);
}

class ScanDamage : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      auto store = Store::Open(db_, {.create_if_missing = true});
      ASSERT_TRUE(store.ok());
      WriteSet w;
      // Values that do not compress away: the table files span many blocks.
      for (int i = 0; i < kPackages; ++i) {
        const std::string noise = ToHex(Digest(HashAlgorithm::kSha256, AsBytes(Id(i))));
        w.PutPackage(Id(i), AsBytes(noise));
        w.AppendAudit(AsBytes("event " + noise));
      }
      ASSERT_TRUE(store.value()->Commit(std::move(w)).ok());
    }  // closing flushes everything into table files
    FlipByteInTheData(db_, "packages");
    FlipByteInTheData(db_, "audit");
  }

  TempDir dir_;
  std::filesystem::path db_ = dir_ / "db";
};

TEST_F(ScanDamage, APlainScanFailsAtTheDamage) {
  auto store = Store::Open(db_, {.read_only = true});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto page = store.value()->ListPackages("", kPackages);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kCorruption) << page.status().ToString();
}

TEST_F(ScanDamage, AScanWithAGapSinkNamesTheStretchAndReadsTheRest) {
  auto store = Store::Open(db_, {.read_only = true});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<ScanGap> gaps;
  const ScanGapSink sink = [&gaps](const ScanGap& gap) { gaps.push_back(gap); };
  auto page = store.value()->ListPackages("", kPackages, &sink);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(gaps.size(), 1u);
  const ScanGap& gap = gaps.front();
  EXPECT_EQ(gap.error.code(), StatusCode::kCorruption);
  ASSERT_FALSE(gap.after.empty());
  ASSERT_FALSE(gap.resumed_at.empty());
  EXPECT_LT(gap.after, gap.resumed_at);

  std::set<std::string> read;
  for (const auto& [id, record] : page.value()) read.insert(id);
  // Everything outside the stretch is read; what is missing lies inside it,
  // and is no more than a block's worth (a 4 KiB block holds some 50 records).
  int missing = 0;
  for (int i = 0; i < kPackages; ++i) {
    if (read.count(Id(i)) != 0) continue;
    ++missing;
    EXPECT_GT(Id(i), gap.after);
    EXPECT_LT(Id(i), gap.resumed_at);
    // A point read of a record in the damaged block is damage too, named.
    EXPECT_EQ(store.value()->GetPackage(Id(i)).status().code(), StatusCode::kCorruption);
  }
  EXPECT_GT(missing, 0);
  EXPECT_LT(missing, 200);
  EXPECT_TRUE(store.value()->GetPackage(*read.rbegin()).ok());

  // Paging from inside the damage goes on past it too.
  gaps.clear();
  auto after = store.value()->ListPackages(gap.after, 10, &sink);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(gaps.size(), 1u);
  ASSERT_EQ(after->size(), 10u);
  EXPECT_GE(after->front().first, gap.resumed_at);
}

TEST_F(ScanDamage, TheAuditTrailScanGoesOnPastItsDamage) {
  auto store = Store::Open(db_, {.read_only = true});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<ScanGap> gaps;
  const ScanGapSink sink = [&gaps](const ScanGap& gap) { gaps.push_back(gap); };
  std::uint64_t events = 0, last = 0;
  ASSERT_TRUE(store.value()->ScanAudit(0, [&](const AuditEntry& e) {
    ++events;
    last = e.sequence;
    return true;
  }, &sink).ok());
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps.front().after.size(), 8u);
  EXPECT_EQ(last, static_cast<std::uint64_t>(kPackages - 1));
  EXPECT_GT(events, static_cast<std::uint64_t>(kPackages - 200));
  EXPECT_LT(events, static_cast<std::uint64_t>(kPackages));
  EXPECT_EQ(store.value()->ScanAudit(0, [](const AuditEntry&) { return true; }).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace preserve::storage
