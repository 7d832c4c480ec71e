// The lookup a hash-tree renewal makes for every data object it re-read
// (archive/src/checked_content.h): a table of prefixes,
// then a search of a few entries. Every digest must be found where it is,
// whatever the number of digests and however unevenly they fall.
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

}  // namespace
}  // namespace preserve::archive
