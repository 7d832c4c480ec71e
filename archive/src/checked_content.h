#ifndef PRESERVE_ARCHIVE_SRC_CHECKED_CONTENT_H_
#define PRESERVE_ARCHIVE_SRC_CHECKED_CONTENT_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "preserve/storage/store.h"
#include "preserve/util/bytes.h"

namespace preserve::archive {

// A digest's first 32 bits: where it lies in the key space.
inline std::uint32_t Prefix32(const storage::ContentDigest& digest) {
  return static_cast<std::uint32_t>(digest[0]) << 24 | static_cast<std::uint32_t>(digest[1]) << 16 |
         static_cast<std::uint32_t>(digest[2]) << 8 | digest[3];
}

// Sorts `digests` ascending and drops repeats, in time linear in their
// number when they are spread evenly, as SHA-256 values are.
void SortUniqueDigests(std::vector<storage::ContentDigest>& digests);

// Data objects re-read for a hash-tree renewal (Archive::Impl::HashCheckedContent),
// and their new hashes, looked up by SHA-256 for every package that names them.
struct CheckedContent {
  std::vector<storage::ContentDigest> sha256;  // the objects asked for: ascending, unique
  Bytes digests;                               // each one's hash under `alg`, at index * its size (zero when damaged)
  std::map<std::size_t, std::string> damage;   // by index: why an object cannot be sealed afresh

  // Builds the table IndexOf starts from; `sha256` must be set (fewer than 2^32).
  void IndexPrefixes();
  // The index of `digest` in `sha256`; it must be there.
  std::size_t IndexOf(const storage::ContentDigest& digest) const;

  // Where each run of digests sharing their first `prefix_bits` bits starts
  // in `sha256`, and where the last ends: IndexOf's first step.
  unsigned prefix_bits = 0;
  std::vector<std::uint32_t> prefix_start;
};

}  // namespace preserve::archive

#endif  // PRESERVE_ARCHIVE_SRC_CHECKED_CONTENT_H_
