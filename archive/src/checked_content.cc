#include "checked_content.h"

#include <algorithm>

namespace preserve::archive {

// SHA-256 values are spread evenly, so a table of where each prefix's run
// starts leaves a few entries to search, in one or two cache lines. A plain
// binary search over millions of digests missed the cache at nearly every
// one of its 23 steps, which made looking them up cost more than hashing them.
void CheckedContent::IndexPrefixes() {
  const std::size_t n = sha256.size();
  // About four digests a prefix, at most 2^22 prefixes (16 MiB).
  prefix_bits = 0;
  while (prefix_bits < 22 && (std::size_t{4} << prefix_bits) < n) ++prefix_bits;
  prefix_start.assign((std::size_t{1} << prefix_bits) + 1, 0);
  for (std::size_t p = 0, i = 0; p < prefix_start.size(); ++p) {
    while (i < n && prefix_bits != 0 && (Prefix32(sha256[i]) >> (32 - prefix_bits)) < p) ++i;
    prefix_start[p] = static_cast<std::uint32_t>(p + 1 == prefix_start.size() ? n : i);
  }
}

std::size_t CheckedContent::IndexOf(const storage::ContentDigest& digest) const {
  if (prefix_start.empty()) return 0;
  const std::uint32_t prefix = prefix_bits == 0 ? 0 : Prefix32(digest) >> (32 - prefix_bits);
  return static_cast<std::size_t>(std::lower_bound(sha256.begin() + prefix_start[prefix],
                                                   sha256.begin() + prefix_start[prefix + 1], digest) -
                                  sha256.begin());
}

}  // namespace preserve::archive
