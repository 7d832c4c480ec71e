// The lookup a hash-tree renewal makes for every data object it re-read
// (archive/src/checked_content.h): a table of prefixes,
// then a search of a few entries. Every digest must be found where it is,
// whatever the number of digests and however unevenly they fall. And the
// sort that orders them first, which must agree with std::sort and unique.
#include "checked_content.h"

#include <gtest/gtest.h>

#include <algorithm>
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

}  // namespace
}  // namespace preserve::archive
