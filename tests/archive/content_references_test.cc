// ContentReferences and ScanUnreferencedContent (archive/src/garbage.h) over a
// real store: garbage, missing objects and missing chunks are found alike
// whether the listed digests are sorted in memory or spilled in many runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "garbage.h"
#include "preserve/storage/store.h"
#include "preserve/util/digest.h"
#include "testing.h"

namespace preserve::archive {
namespace {

using preserve::testing::PatternBytes;
using preserve::testing::TempDir;
using storage::Store;
using storage::WriteSet;

constexpr std::size_t kChunk = 1024;  // objects larger than this are stored as chunk lists


Bytes Write(Store& store, const Bytes& data) {
  auto writer = store.NewContentWriter();
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  EXPECT_TRUE(writer.value()->Append(data).ok());
  auto object = writer.value()->Finish();
  EXPECT_TRUE(object.ok()) << object.status().ToString();
  WriteSet w;
  EXPECT_TRUE(writer.value()->Put(w).ok());
  EXPECT_TRUE(store.Commit(std::move(w)).ok());
  return object.value().sha256;
}

struct Found {
  std::set<std::pair<Bytes, bool>> unreferenced;  // (digest, chunk list)
  std::vector<Bytes> missing_objects;
  std::vector<std::pair<Bytes, Bytes>> missing_chunks;
};

// Every listed digest is added twice, the second time after all the others,
// so that with small runs a digest recurs in other runs.
Found Scan(const Store& store, const std::vector<Bytes>& listed, std::size_t run_keys) {
  ContentReferences references(run_keys);
  for (int round = 0; round < 2; ++round)
    for (const Bytes& digest : listed) EXPECT_TRUE(references.Add(digest).ok());
  EXPECT_TRUE(references.Seal().ok());
  Found found;
  Status scanned = ScanUnreferencedContent(
      store, references,
      [&](ByteView digest, bool chunk_list, std::uint64_t) {
        EXPECT_TRUE(found.unreferenced.emplace(Bytes(digest.begin(), digest.end()), chunk_list).second);
      },
      [](ByteView, const Status& why) { return why; });
  EXPECT_TRUE(scanned.ok()) << scanned.ToString();
  found.missing_objects = references.MissingObjects();
  found.missing_chunks = references.MissingChunks();
  return found;
}

class ContentReferencesTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ContentReferencesTest, FindsGarbageMissingObjectsAndMissingChunks) {
  TempDir dir;
  auto opened = Store::Open(dir.path(), {.create_if_missing = true, .content_chunk_size = kChunk});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& store = *opened.value();

  std::vector<Bytes> listed;
  for (std::uint8_t i = 0; i < 20; ++i) listed.push_back(Write(store, PatternBytes(100 + i, i)));
  const Bytes large = Write(store, PatternBytes(5 * kChunk, 50));  // a chunk list of 5 chunks
  listed.push_back(large);
  const Bytes absent_a = Digest(HashAlgorithm::kSha256, PatternBytes(10, 60));
  const Bytes absent_b = Digest(HashAlgorithm::kSha256, PatternBytes(10, 61));
  listed.push_back(absent_a);
  listed.push_back(absent_b);
  std::reverse(listed.begin(), listed.end());  // not in key order, as records list them

  std::set<std::pair<Bytes, bool>> garbage;
  for (std::uint8_t i = 0; i < 3; ++i) garbage.emplace(Write(store, PatternBytes(200 + i, 70 + i)), false);
  const Bytes unlisted_large = Write(store, PatternBytes(3 * kChunk, 80));
  garbage.emplace(unlisted_large, true);
  auto unlisted_chunks = store.ContentChunks(unlisted_large);
  ASSERT_TRUE(unlisted_chunks.ok());
  ASSERT_EQ(unlisted_chunks->size(), 3u);
  for (const Bytes& chunk : unlisted_chunks.value()) garbage.emplace(chunk, false);

  Found found = Scan(store, listed, GetParam());
  EXPECT_EQ(found.unreferenced, garbage);
  std::vector<Bytes> absent{absent_a, absent_b};
  std::sort(absent.begin(), absent.end());
  EXPECT_EQ(found.missing_objects, absent);
  EXPECT_TRUE(found.missing_chunks.empty());

  // One chunk of the listed large object erased: missing, named with its object.
  auto chunks = store.ContentChunks(large);
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 5u);
  WriteSet w;
  w.EraseContentValue(chunks.value()[2], false);
  ASSERT_TRUE(store.Commit(std::move(w)).ok());
  found = Scan(store, listed, GetParam());
  EXPECT_EQ(found.unreferenced, garbage);
  ASSERT_EQ(found.missing_chunks.size(), 1u);
  EXPECT_EQ(found.missing_chunks[0].first, chunks.value()[2]);
  EXPECT_EQ(found.missing_chunks[0].second, large);
}

// 1: every digest its own run; 4: runs that split the listed set; the default: one run in memory.
INSTANTIATE_TEST_SUITE_P(RunSizes, ContentReferencesTest, ::testing::Values(1, 4, ContentReferences::kRunKeys));

}  // namespace
}  // namespace preserve::archive
