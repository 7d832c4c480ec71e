// Large data objects as content-addressed chunks: written and read streamed,
// identical chunks stored once, the value's form told by its key, and nothing
// of an object stored before it is put into a write.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "preserve/storage/store.h"
#include "preserve/util/digest.h"
#include "testing.h"

namespace preserve::storage {
namespace {

using preserve::testing::PatternBytes;
using preserve::testing::TempDir;

constexpr std::size_t kChunk = 1024;  // small, so that chunking is cheap to exercise

std::unique_ptr<Store> OpenOrDie(const std::filesystem::path& dir, bool create = false) {
  auto store = Store::Open(dir, {.create_if_missing = create, .content_chunk_size = kChunk});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}


// Writes `data` through a ContentWriter in pieces of `piece` bytes and commits it.
ContentWriter::Object WriteObject(Store& store, const Bytes& data, std::size_t piece = 300) {
  auto writer = store.NewContentWriter();
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  for (std::size_t at = 0; at < data.size(); at += piece)
    EXPECT_TRUE(writer.value()->Append(ByteView(data).subspan(at, std::min(piece, data.size() - at))).ok());
  auto object = writer.value()->Finish();
  EXPECT_TRUE(object.ok()) << object.status().ToString();
  WriteSet w;
  EXPECT_TRUE(writer.value()->Put(w).ok());
  EXPECT_TRUE(store.Commit(std::move(w)).ok());
  return object.value();
}

Bytes ReadAll(const Store& store, ByteView digest, std::size_t* largest_piece = nullptr) {
  Bytes out;
  Status s = store.ReadContent(digest, [&](ByteView piece) {
    if (largest_piece != nullptr) *largest_piece = std::max(*largest_piece, piece.size());
    out.insert(out.end(), piece.begin(), piece.end());
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Every content key: digest -> whether it is a chunk list.
std::map<Bytes, bool> ContentKeys(const Store& store) {
  std::map<Bytes, bool> out;
  EXPECT_TRUE(store.ScanContent([&](ByteView digest, bool chunk_list, std::uint64_t) {
    out.emplace(Bytes(digest.begin(), digest.end()), chunk_list);
    return true;
  }).ok());
  return out;
}

TEST(ContentChunks, LargeObjectRoundTripsStreamedOneChunkAtATime) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", true);
  const Bytes data = PatternBytes(10 * kChunk + 500, 1);
  ContentWriter::Object object = WriteObject(*store, data);
  EXPECT_EQ(object.sha256, Digest(HashAlgorithm::kSha256, data));
  EXPECT_EQ(object.size, data.size());

  store.reset();  // durable across a reopen
  store = OpenOrDie(dir / "db");
  std::size_t largest = 0;
  EXPECT_EQ(ReadAll(*store, object.sha256, &largest), data);
  EXPECT_EQ(largest, kChunk);
  EXPECT_EQ(store->GetContent(object.sha256).value(), data);
  EXPECT_TRUE(store->HasContent(object.sha256).value());
  auto chunks = store->ContentChunks(object.sha256);
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 11u);
  EXPECT_EQ(chunks->front(), Digest(HashAlgorithm::kSha256, ByteView(data).first(kChunk)));
  EXPECT_EQ(chunks->back(), Digest(HashAlgorithm::kSha256, ByteView(data).last(500)));
}

// Chunks are cut as the pieces come: whatever the pieces' sizes (the first larger than a chunk included), the same object, each chunk
// under its own bytes' SHA-256.
TEST(ContentChunks, PiecesOfAnySizeMakeTheSameChunks) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", true);
  const Bytes data = PatternBytes(6 * kChunk + 17, 3);
  std::vector<Bytes> expected;
  for (std::size_t at = 0; at < data.size(); at += kChunk)
    expected.push_back(Digest(HashAlgorithm::kSha256, ByteView(data).subspan(at, std::min(kChunk, data.size() - at))));
  for (std::size_t piece : {std::size_t{1}, std::size_t{700}, kChunk, 3 * kChunk + 1, data.size()}) {
    ContentWriter::Object object = WriteObject(*store, data, piece);
    EXPECT_EQ(object.sha256, Digest(HashAlgorithm::kSha256, data)) << piece;
    EXPECT_EQ(store->ContentChunks(object.sha256).value(), expected) << piece;
    EXPECT_EQ(ReadAll(*store, object.sha256), data) << piece;
  }
}

TEST(ContentChunks, AnObjectOfOneChunkOrLessIsStoredWhole) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", true);
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, kChunk}) {
    const Bytes data = PatternBytes(size, 2);
    ContentWriter::Object object = WriteObject(*store, data);
    EXPECT_TRUE(store->ContentChunks(object.sha256).value().empty()) << size;
    EXPECT_EQ(store->GetContent(object.sha256).value(), data) << size;
  }
  const Bytes one_more = PatternBytes(kChunk + 1, 2);
  EXPECT_EQ(store->ContentChunks(WriteObject(*store, one_more).sha256).value().size(), 2u);
}

TEST(ContentChunks, IdenticalChunksAreStoredOnce) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", true);
  // Four identical chunks, then two different objects sharing their first chunks.
  Bytes repeated;
  for (int i = 0; i < 4; ++i) {
    Bytes c = PatternBytes(kChunk, 7);
    repeated.insert(repeated.end(), c.begin(), c.end());
  }
  ContentWriter::Object a = WriteObject(*store, repeated);
  EXPECT_EQ(ContentKeys(*store).size(), 2u);  // one chunk and one chunk list

  Bytes b_data = repeated;
  Bytes tail = PatternBytes(kChunk, 8);
  b_data.insert(b_data.end(), tail.begin(), tail.end());
  ContentWriter::Object b = WriteObject(*store, b_data);
  EXPECT_EQ(ContentKeys(*store).size(), 4u);  // + the new chunk + b's list
  WriteObject(*store, b_data);                // the same object again: nothing new
  EXPECT_EQ(ContentKeys(*store).size(), 4u);
  EXPECT_EQ(ReadAll(*store, a.sha256), repeated);
  EXPECT_EQ(ReadAll(*store, b.sha256), b_data);
}

TEST(ContentChunks, TheKeyNotTheBytesSaysWhatAValueIs) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", true);
  // A small object whose bytes are a well-formed chunk list of another object.
  const Bytes large = PatternBytes(3 * kChunk, 3);
  ContentWriter::Object object = WriteObject(*store, large);
  // The list's bytes as the store keeps them: version, sizes, digests.
  Bytes lookalike = {1};
  for (std::uint64_t v : {std::uint64_t{large.size()}, std::uint64_t{kChunk}})
    for (int i = 7; i >= 0; --i) lookalike.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  const std::vector<Bytes> chunks = store->ContentChunks(object.sha256).value();
  for (const auto& c : chunks) lookalike.insert(lookalike.end(), c.begin(), c.end());
  const Bytes digest = Digest(HashAlgorithm::kSha256, lookalike);
  WriteSet w;
  w.PutContent(digest, lookalike);
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  EXPECT_EQ(ReadAll(*store, digest), lookalike);
  EXPECT_TRUE(store->ContentChunks(digest).value().empty());
}

TEST(ContentChunks, AMissingChunkIsCorruptionNamingTheObject) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", true);
  ContentWriter::Object object = WriteObject(*store, PatternBytes(3 * kChunk, 4));
  const Bytes second = store->ContentChunks(object.sha256).value()[1];
  WriteSet w;
  w.EraseContent(second);
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  Status s = store->ReadContent(object.sha256, [](ByteView) { return Status::Ok(); });
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find(ToHex(object.sha256)), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("chunk 2 of 3"), std::string::npos) << s.message();
  EXPECT_EQ(store->ReadContent(Digest(HashAlgorithm::kSha256, AsBytes("absent")), [](ByteView) {
    return Status::Ok();
  }).code(), StatusCode::kNotFound);
}

// A refused document drops its writer before Put: the chunks it wrote as its
// bytes came are erased with it, and nothing of the object stays.
TEST(ContentChunks, AnObjectNeverPutLeavesNothingInTheStore) {
  TempDir dir;
  Bytes digest;
  {
    auto store = OpenOrDie(dir / "db", true);
    auto writer = store->NewContentWriter();
    ASSERT_TRUE(writer.ok());
    const Bytes data = PatternBytes(4 * kChunk, 5);
    ASSERT_TRUE(writer.value()->Append(data).ok());
    auto object = writer.value()->Finish();
    ASSERT_TRUE(object.ok());
    digest = object->sha256;
    EXPECT_EQ(ContentKeys(*store).size(), 4u) << "the chunks are written as the bytes come";
    EXPECT_FALSE(store->HasContent(digest).value()) << "the object is not, before its commit";
    writer.value().reset();
    EXPECT_TRUE(ContentKeys(*store).empty()) << "erased with the writer";
  }
  auto store = OpenOrDie(dir / "db");
  EXPECT_FALSE(store->HasContent(digest).value());
  EXPECT_EQ(store->ReadContent(digest, [](ByteView) { return Status::Ok(); }).code(), StatusCode::kNotFound);
  EXPECT_TRUE(ContentKeys(*store).empty());
}

// A chunk that someone else found while its writer held it may be referred
// to from then on: dropping the writer leaves it. Found by another writer
// (the same bytes in another document, stored once), by a lookup (a
// document of one chunk's size with those bytes, which its ingest then does
// not store again), or by a commit that stores the same bytes whole.
TEST(ContentChunks, ADroppedWriterKeepsTheChunksOthersFound) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", true);
  const Bytes data = PatternBytes(3 * kChunk, 6);
  const ByteView first = ByteView(data).first(kChunk), second = ByteView(data).subspan(kChunk, kChunk),
                 third = ByteView(data).last(kChunk);
  auto dropped = store->NewContentWriter();
  ASSERT_TRUE(dropped.ok());
  ASSERT_TRUE(dropped.value()->Append(data).ok());
  ASSERT_TRUE(dropped.value()->Finish().ok());
  ASSERT_EQ(ContentKeys(*store).size(), 3u);

  // Another document whose first chunk is the same: written once, by the first writer.
  Bytes other(first.begin(), first.end());
  const Bytes tail = PatternBytes(kChunk + 3, 7);
  other.insert(other.end(), tail.begin(), tail.end());
  const ContentWriter::Object kept = WriteObject(*store, other);
  // A lookup finds the second chunk: whoever asked may refer to it.
  EXPECT_TRUE(store->HasContent(Digest(HashAlgorithm::kSha256, second)).value());
  // A commit stores the third chunk's bytes whole.
  WriteSet w;
  w.PutContent(Digest(HashAlgorithm::kSha256, third), third);
  ASSERT_TRUE(store->Commit(std::move(w)).ok());

  dropped.value().reset();
  EXPECT_EQ(ReadAll(*store, kept.sha256), other);
  for (ByteView chunk : {first, second, third})
    EXPECT_TRUE(store->HasContent(Digest(HashAlgorithm::kSha256, chunk)).value()) << "found, so kept";
  EXPECT_EQ(store->GetContent(Digest(HashAlgorithm::kSha256, third)).value(), Bytes(third.begin(), third.end()));
}

// A writer whose object is put keeps its chunks, even with the same bytes
// written by a writer dropped afterwards.
TEST(ContentChunks, AWriterPutKeepsItsChunksWhenAnotherIsDropped) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", true);
  const Bytes data = PatternBytes(2 * kChunk + 1, 9);
  auto dropped = store->NewContentWriter();
  ASSERT_TRUE(dropped.ok());
  ASSERT_TRUE(dropped.value()->Append(data).ok());
  ASSERT_TRUE(dropped.value()->Finish().ok());
  const ContentWriter::Object kept = WriteObject(*store, data);  // finds every chunk written already
  dropped.value().reset();
  EXPECT_EQ(ReadAll(*store, kept.sha256), data);
  store.reset();
  store = OpenOrDie(dir / "db");
  EXPECT_EQ(ReadAll(*store, kept.sha256), data);
}

// Put stores the chunks (durable, for the commit that follows); the object
// itself, its chunk list, exists only once that commit is made. A process
// killed in between leaves chunks nothing refers to: what 'gc' collects.
TEST(ContentChunks, PutStoresTheChunksAndTheCommitTheObject) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", true);
  auto writer = store->NewContentWriter();
  ASSERT_TRUE(writer.ok());
  const Bytes data = PatternBytes(3 * kChunk + 10, 8);
  ASSERT_TRUE(writer.value()->Append(data).ok());
  auto object = writer.value()->Finish();
  ASSERT_TRUE(object.ok());
  WriteSet w;
  ASSERT_TRUE(writer.value()->Put(w).ok());
  auto keys = ContentKeys(*store);
  EXPECT_EQ(keys.size(), 4u);
  for (const auto& [key, chunk_list] : keys) EXPECT_FALSE(chunk_list);
  EXPECT_FALSE(store->HasContent(object->sha256).value());
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  EXPECT_EQ(ReadAll(*store, object->sha256), data);
}

// One value of the content family at a time, as garbage collection erases them.
TEST(ContentChunks, EraseContentValueRemovesOneFormOnly) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", true);
  ContentWriter::Object object = WriteObject(*store, PatternBytes(2 * kChunk + 1, 9));
  const Bytes first_chunk = store->ContentChunks(object.sha256).value()[0];
  WriteSet w;
  w.EraseContentValue(first_chunk, /*chunk_list=*/true);  // no such list: nothing happens
  w.EraseContentValue(object.sha256, /*chunk_list=*/false);  // no such whole value: nothing happens
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  EXPECT_EQ(ContentKeys(*store).size(), 4u);
  WriteSet erase_list;
  erase_list.EraseContentValue(object.sha256, /*chunk_list=*/true);
  ASSERT_TRUE(store->Commit(std::move(erase_list)).ok());
  auto keys = ContentKeys(*store);
  EXPECT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys.count(first_chunk), 1u);
  EXPECT_TRUE(store->CompactContent().ok());
  EXPECT_EQ(ContentKeys(*store).size(), 3u);
}

TEST(ContentChunks, EraseContentRemovesAChunkList) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", true);
  ContentWriter::Object object = WriteObject(*store, PatternBytes(2 * kChunk + 1, 6));
  WriteSet w;
  w.EraseContent(object.sha256);
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  EXPECT_FALSE(store->HasContent(object.sha256).value());
  EXPECT_EQ(ContentKeys(*store).size(), 3u);  // the chunks: Store leaves them to the caller
}

TEST(ContentChunks, ReadOnlyStoreWritesNoContent) {
  TempDir dir;
  { auto store = OpenOrDie(dir / "db", true); }
  auto store = Store::Open(dir / "db", {.read_only = true, .content_chunk_size = kChunk});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(store.value()->NewContentWriter().status().code(), StatusCode::kFailedPrecondition);
}

// ReadContents walks many objects in key order: each streamed whole to the
// sink with its index, small and chunked alike, and an absent object or one
// missing a chunk named to `unreadable` while the others are still read.
TEST(ContentChunks, ManyObjectsAreReadInKeyOrderAndTheUnreadableNamed) {
  TempDir dir;
  auto store = OpenOrDie(dir / "db", true);
  std::map<Bytes, Bytes> stored;  // digest -> bytes, in key order
  for (std::uint8_t seed = 0; seed < 40; ++seed) {
    const Bytes data = PatternBytes(seed % 3 == 0 ? 3 * kChunk + seed : 50u + seed, seed);  // every third chunked
    stored[WriteObject(*store, data).sha256] = data;
  }
  const Bytes absent = Digest(HashAlgorithm::kSha256, AsBytes("absent"));
  const ContentWriter::Object broken = WriteObject(*store, PatternBytes(2 * kChunk + 7, 99));
  WriteSet w;
  w.EraseContent(store->ContentChunks(broken.sha256).value()[0]);
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  std::vector<ContentDigest> digests;
  auto add = [&](const Bytes& digest) { std::copy(digest.begin(), digest.end(), digests.emplace_back().begin()); };
  for (const auto& [digest, data] : stored) add(digest);
  add(absent);
  add(broken.sha256);
  std::sort(digests.begin(), digests.end());

  std::map<std::size_t, Bytes> read;
  std::map<std::size_t, Status> unreadable;
  std::size_t last = 0;
  Status s = store->ReadContents(
      digests,
      [&](std::size_t i, ByteView piece) {
        EXPECT_GE(i, last) << "out of order";
        last = i;
        read[i].insert(read[i].end(), piece.begin(), piece.end());
        return Status::Ok();
      },
      [&](std::size_t i, Status why) {
        unreadable.emplace(i, std::move(why));
        return Status::Ok();
      });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(unreadable.size(), 2u);
  for (std::size_t i = 0; i < digests.size(); ++i) {
    const Bytes digest(digests[i].begin(), digests[i].end());
    if (digest == absent) {
      EXPECT_EQ(unreadable.at(i).code(), StatusCode::kNotFound);
    } else if (digest == broken.sha256) {
      EXPECT_EQ(unreadable.at(i).code(), StatusCode::kCorruption);
      EXPECT_NE(unreadable.at(i).message().find("chunk 1 of 3"), std::string::npos) << unreadable.at(i).message();
    } else {
      EXPECT_EQ(read.at(i), stored.at(digest)) << i;
    }
  }

  // The sink's own error stops the run and is what it returns.
  std::size_t calls = 0;
  s = store->ReadContents(
      digests,
      [&](std::size_t, ByteView) {
        ++calls;
        return Status::IOError("disk full");
      },
      [](std::size_t, Status) { return Status::Ok(); });
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_EQ(calls, 1u);
}

}  // namespace
}  // namespace preserve::storage
