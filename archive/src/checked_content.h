#ifndef PRESERVE_ARCHIVE_SRC_CHECKED_CONTENT_H_
#define PRESERVE_ARCHIVE_SRC_CHECKED_CONTENT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "preserve/storage/store.h"
#include "preserve/util/bytes.h"
#include "preserve/util/digest.h"

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

// One thread's objects of a HashCheckedContent run, each hashed under
// SHA-256 (to check it) and the renewal's algorithm as its pieces come, in
// order (Add). Objects up to kLargestBatched are copied into a batch and
// hashed a batch at a time, side by side (DigestMany: several times the rate
// of one at a time for SHA-384, whose 64-bit rounds have no instructions of
// their own here); a larger one is streamed through a pair of Hashers.
// `hashed` gets each object's index and its two digests, in no set order:
// once its last piece has come (a piece of another object, or Flush).
class ObjectHashing {
 public:
  using Hashed = std::function<void(std::size_t index, ByteView sha256, ByteView digest)>;
  ObjectHashing(HashAlgorithm alg, Hashed hashed);

  // A piece of object `index`: the next of the object whose pieces are
  // coming, or the first of a new one (which ends that object).
  void Add(std::size_t index, ByteView piece);
  // Forgets object `index` if its pieces are coming: it could not be read whole.
  void Abandon(std::size_t index);
  // Ends the last object and hashes what the batch holds.
  void Flush();

 private:
  // The object whose pieces came last is whole: streamed, it is reported; else batched.
  void End();

  static constexpr std::size_t kLargestBatched = 256 << 10;
  static constexpr std::size_t kBatchBytes = 1 << 20;
  static constexpr std::size_t kBatchObjects = 512;

  struct Batched {
    std::size_t index;
    std::size_t offset;  // in bytes_
    std::size_t size;
  };
  HashAlgorithm alg_;
  Hashed hashed_;
  Bytes bytes_;  // the batch's objects, one after another
  std::vector<Batched> batched_;
  std::optional<std::size_t> current_;
  std::size_t current_offset_ = 0;
  bool streaming_ = false;  // the current object is over kLargestBatched
  Hasher sha256_;
  Hasher digest_;
};

}  // namespace preserve::archive

#endif  // PRESERVE_ARCHIVE_SRC_CHECKED_CONTENT_H_
