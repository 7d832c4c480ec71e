// The lookup a hash-tree renewal makes for every data object it re-read
// (archive/src/checked_content.h): a table of prefixes,
// then a search of a few entries. Every digest must be found where it is,
// whatever the number of digests and however unevenly they fall. And the
// sort that orders them first, which must agree with std::sort and unique.
// And ObjectHashing, which hashes the objects read: whole or in pieces,
// batched or streamed, abandoned halfway.
#include "checked_content.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace preserve::archive {
namespace {

void ExpectEveryDigestFound(std::vector<storage::ContentDigest> digests) {
  std::sort(digests.begin(), digests.end());
  digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
  CheckedContent content;
  content.sha256 = digests;
  content.IndexPrefixes();
  for (std::size_t i = 0; i < digests.size(); ++i) ASSERT_EQ(content.IndexOf(digests[i]), i) << digests.size();
}

std::vector<storage::ContentDigest> RandomDigests(std::size_t n, std::mt19937_64& random) {
  std::vector<storage::ContentDigest> out(n);
  for (auto& d : out)
    for (auto& byte : d) byte = static_cast<std::uint8_t>(random());
  return out;
}

TEST(CheckedContent, EveryDigestIsFoundAtItsIndexWhateverTheCount) {
  std::mt19937_64 random(7);
  for (std::size_t n : {0u, 1u, 2u, 3u, 4u, 5u, 17u, 1000u, 100000u}) ExpectEveryDigestFound(RandomDigests(n, random));
}

TEST(CheckedContent, DigestsCrowdedIntoOnePrefixOrAtTheEndsAreFound) {
  std::mt19937_64 random(11);
  std::vector<storage::ContentDigest> digests = RandomDigests(5000, random);
  for (std::size_t i = 0; i < 3000; ++i) digests[i][0] = digests[i][1] = digests[i][2] = 0x42;  // one crowded prefix
  digests[3000].fill(0x00);
  digests[3001].fill(0xff);
  ExpectEveryDigestFound(digests);
}

void ExpectSortedAsStdSortWould(std::vector<storage::ContentDigest> digests) {
  std::vector<storage::ContentDigest> expected = digests;
  std::sort(expected.begin(), expected.end());
  expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
  SortUniqueDigests(digests);
  ASSERT_EQ(digests, expected) << expected.size();
}

TEST(CheckedContent, SortUniqueDigestsAgreesWithSortAndUnique) {
  std::mt19937_64 random(13);
  for (std::size_t n : {0u, 1u, 2u, 3u, 7u, 1000u, 300000u}) ExpectSortedAsStdSortWould(RandomDigests(n, random));
}

TEST(CheckedContent, SortUniqueDigestsHandlesRepeatsSharedPrefixesAndTheExtremes) {
  std::mt19937_64 random(17);
  std::vector<storage::ContentDigest> digests = RandomDigests(20000, random);
  // Digests that differ only past their first 8 bytes (one bucket), and in their last byte.
  for (std::size_t i = 0; i < 4000; ++i) std::fill_n(digests[i].begin(), 31, std::uint8_t{0x42});
  for (std::size_t i = 4000; i < 8000; ++i) digests[i] = digests[i - 4000];  // each named twice
  digests[8000].fill(0x00);
  digests[8001].fill(0xff);
  digests[8002].fill(0xff);
  ExpectSortedAsStdSortWould(digests);
  // All alike: one bucket of one.
  ExpectSortedAsStdSortWould(std::vector<storage::ContentDigest>(5000, digests[17]));
  // Spread over a narrow stretch of the key space, as a renewal's ranges are.
  std::vector<storage::ContentDigest> narrow = RandomDigests(50000, random);
  for (auto& d : narrow) d[0] = 0x7f;
  ExpectSortedAsStdSortWould(narrow);
}

// Each object, fed in pieces of any size, gets OpenSSL's SHA-256 and SHA-384
// of its bytes, under its own index: small ones (batched and hashed side by
// side), ones over kLargestBatched (streamed), and one abandoned halfway
// (never reported), whether batched or streamed, across several batches.
TEST(ObjectHashing, GivesEachObjectItsDigestsWhateverItsSizeAndPieces) {
  std::mt19937_64 random(19);
  std::vector<Bytes> objects;
  for (std::size_t i = 0; i < 3000; ++i) {
    const std::size_t size = i % 500 == 7 ? 300000 + random() % 700000 : random() % 12000;
    Bytes object(size);
    for (auto& b : object) b = static_cast<std::uint8_t>(random());
    objects.push_back(std::move(object));
  }
  auto abandoned = [](std::size_t i) { return i == 1234 || i == 1507; };  // a small object, a large one
  std::map<std::size_t, std::pair<Bytes, Bytes>> hashed;
  ObjectHashing hashing(HashAlgorithm::kSha384, [&](std::size_t i, ByteView sha256, ByteView digest) {
    EXPECT_TRUE(hashed.emplace(i, std::make_pair(Bytes(sha256.begin(), sha256.end()),
                                                  Bytes(digest.begin(), digest.end()))).second)
        << "object " << i << " reported twice";
  });
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const ByteView object = objects[i];
    if (object.empty()) hashing.Add(i, object);  // an empty object comes as one empty piece
    for (std::size_t at = 0; at < object.size();) {
      const std::size_t piece = std::min<std::size_t>(object.size() - at, 1 + random() % 200000);
      hashing.Add(i, object.subspan(at, piece));
      at += piece;
      if (abandoned(i) && at > object.size() / 2) break;
    }
    if (abandoned(i)) hashing.Abandon(i);
  }
  hashing.Flush();
  ASSERT_EQ(hashed.size(), objects.size() - 2);
  EXPECT_FALSE(hashed.contains(1234));
  EXPECT_FALSE(hashed.contains(1507));
  for (const auto& [i, digests] : hashed) {
    ASSERT_EQ(digests.first, Digest(HashAlgorithm::kSha256, objects[i])) << "object " << i;
    ASSERT_EQ(digests.second, Digest(HashAlgorithm::kSha384, objects[i])) << "object " << i;
  }
}

}  // namespace
}  // namespace preserve::archive
