#include "checked_content.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "preserve/util/parallel.h"

namespace preserve::archive {

namespace {

// A digest's first 64 bits, in the order of the bytes.
std::uint64_t Prefix64(const storage::ContentDigest& digest) {
  return std::uint64_t{Prefix32(digest)} << 32 | (std::uint64_t{digest[4]} << 24 | std::uint64_t{digest[5]} << 16 |
                                                 std::uint64_t{digest[6]} << 8 | digest[7]);
}

}  // namespace

// Dealt into buckets by their first 64 bits (at most one per two digests,
// each a stretch of equal width between the least and the greatest), then
// each bucket sorted alone. std::sort over a million digests, a memcmp call
// at each of its twenty-odd comparisons per digest, took a second and a half
// of a hash-tree renewal's step 2 at a million packages, on one core.
void SortUniqueDigests(std::vector<storage::ContentDigest>& digests) {
  const std::size_t n = digests.size();
  if (n < 4) {  // under two buckets (and a shift by all 64 bits below)
    std::sort(digests.begin(), digests.end());
    digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
    return;
  }
  const auto [least, greatest] = std::minmax_element(
      digests.begin(), digests.end(), [](const auto& a, const auto& b) { return Prefix64(a) < Prefix64(b); });
  const std::uint64_t low = Prefix64(*least);
  const std::uint64_t width = Prefix64(*greatest) - low;
  // A digest's bucket: its distance from the least, less the bits that would
  // make more buckets than half the digests.
  const std::size_t bucket_bits = std::bit_width(n / 2) - 1;
  const std::size_t shift = std::max<std::size_t>(std::bit_width(width), bucket_bits) - bucket_bits;
  const std::size_t buckets = static_cast<std::size_t>(width >> shift) + 1;
  auto bucket_of = [&](const storage::ContentDigest& d) { return static_cast<std::size_t>((Prefix64(d) - low) >> shift); };
  std::vector<std::size_t> start(buckets + 1, 0);  // where each bucket begins, once counted
  for (const auto& d : digests) ++start[bucket_of(d) + 1];
  for (std::size_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
  std::vector<storage::ContentDigest> dealt(n);
  {
    std::vector<std::size_t> next(start.begin(), start.end() - 1);
    for (const auto& d : digests) dealt[next[bucket_of(d)]++] = d;
  }
  digests = {};
  constexpr std::size_t kMinBucketsPerThread = 1 << 14;
  const Status sorted = ParallelFor(buckets, kMinBucketsPerThread, [&](std::size_t b) {
    const auto begin = dealt.begin() + static_cast<std::ptrdiff_t>(start[b]);
    std::sort(begin, dealt.begin() + static_cast<std::ptrdiff_t>(start[b + 1]), [](const auto& x, const auto& y) {
      const std::uint64_t px = Prefix64(x), py = Prefix64(y);
      return px != py ? px < py : std::memcmp(x.data() + 8, y.data() + 8, x.size() - 8) < 0;
    });
    return Status::Ok();
  });
  (void)sorted;  // a sort cannot fail
  dealt.erase(std::unique(dealt.begin(), dealt.end()), dealt.end());
  digests = std::move(dealt);
}

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

ObjectHashing::ObjectHashing(HashAlgorithm alg, Hashed hashed)
    : alg_(alg), hashed_(std::move(hashed)), sha256_(HashAlgorithm::kSha256), digest_(alg) {
  bytes_.reserve(kBatchBytes + kLargestBatched);
}

void ObjectHashing::Add(std::size_t index, ByteView piece) {
  if (current_ != index) {
    End();
    current_ = index;
    current_offset_ = bytes_.size();
    streaming_ = false;
  }
  if (!streaming_ && bytes_.size() - current_offset_ + piece.size() > kLargestBatched) {
    // Too large to batch: what came so far goes to the Hashers, and the rest as it comes.
    streaming_ = true;
    sha256_.Restart();
    digest_.Restart();
    const ByteView so_far = ByteView(bytes_).subspan(current_offset_);
    sha256_.Update(so_far);
    digest_.Update(so_far);
    bytes_.resize(current_offset_);
  }
  if (streaming_) {
    sha256_.Update(piece);
    digest_.Update(piece);
    return;
  }
  bytes_.insert(bytes_.end(), piece.begin(), piece.end());
}

void ObjectHashing::End() {
  if (!current_) return;
  const std::size_t index = *current_;
  current_.reset();
  if (streaming_) {
    const Bytes sha256 = sha256_.Finish();
    const Bytes digest = digest_.Finish();
    hashed_(index, sha256, digest);
    return;
  }
  batched_.push_back({index, current_offset_, bytes_.size() - current_offset_});
  if (bytes_.size() >= kBatchBytes || batched_.size() >= kBatchObjects) Flush();
}

void ObjectHashing::Abandon(std::size_t index) {
  if (current_ != index) return;
  current_.reset();
  if (!streaming_) bytes_.resize(current_offset_);
}

void ObjectHashing::Flush() {
  End();
  if (batched_.empty()) return;
  std::vector<ByteView> objects;
  objects.reserve(batched_.size());
  for (const Batched& b : batched_) objects.push_back(ByteView(bytes_).subspan(b.offset, b.size));
  const std::size_t size = HashAlgorithmSize(alg_);
  Bytes sha256s(objects.size() * 32), digests(objects.size() * size);
  DigestMany(HashAlgorithm::kSha256, objects, sha256s);
  DigestMany(alg_, objects, digests);
  for (std::size_t k = 0; k < batched_.size(); ++k)
    hashed_(batched_[k].index, ByteView(sha256s).subspan(k * 32, 32), ByteView(digests).subspan(k * size, size));
  batched_.clear();
  bytes_.clear();
}

}  // namespace preserve::archive
