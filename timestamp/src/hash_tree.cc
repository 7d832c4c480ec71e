// Hash trees over a batch of data-object groups, as ERS-RULES.md rules 1-5 and
// 9-10 state them (BouncyCastle 1.72's reading of RFC 4998 section 4.2).
//
// Built for batches of a million groups: every digest lives in a flat byte
// array, every hash is computed into place with a reused EVP_MD_CTX, and the
// independent parts (group hashes, each level's parents) are split across
// cores. A reduced tree exists only when HashTree::ReducedFor is asked for it.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "preserve/timestamp/evidence_record.h"
#include "preserve/util/openssl_ptr.h"

namespace preserve::timestamp {

namespace {

// Unsigned byte-wise ascending order: std::vector<std::uint8_t>'s operator<
// compares elements as unsigned bytes, lexicographically.
void SortUnsigned(std::vector<Bytes>& values) { std::stable_sort(values.begin(), values.end()); }

Bytes HashOfSortedConcatenation(HashAlgorithm alg, std::vector<Bytes> values) {
  SortUnsigned(values);
  Bytes concatenation;
  concatenation.reserve(values.size() * HashAlgorithmSize(alg));
  for (const Bytes& v : values) concatenation.insert(concatenation.end(), v.begin(), v.end());
  return Digest(alg, concatenation);
}

// The parent of two sibling nodes: H(sortcat{a, b}) without copying either.
Bytes HashPair(HashAlgorithm alg, const Bytes& a, const Bytes& b) {
  const Bytes& first = b < a ? b : a;
  const Bytes& second = b < a ? a : b;
  Bytes concatenation;
  concatenation.reserve(first.size() + second.size());
  concatenation.insert(concatenation.end(), first.begin(), first.end());
  concatenation.insert(concatenation.end(), second.begin(), second.end());
  return Digest(alg, concatenation);
}

// Rule 9: a one-value list is carried up unhashed.
Bytes ListNode(HashAlgorithm alg, const PartialHashtree& list) {
  if (list.size() == 1) return list.front();
  return HashOfSortedConcatenation(alg, list);
}

using EvpMdPtr = std::unique_ptr<EVP_MD, OpenSslFree<EVP_MD_free>>;

// Hashes into caller-owned memory with one context per thread: EVP_Digest
// would allocate and free a context for each of the millions of nodes.
class NodeHasher {
 public:
  explicit NodeHasher(const EVP_MD* md) : md_(md), ctx_(EVP_MD_CTX_new()) {}

  // out = H(a || b); b may be empty (length 0).
  bool Hash(const std::uint8_t* a, std::size_t a_size, const std::uint8_t* b, std::size_t b_size,
            std::uint8_t* out) {
    return ctx_ && EVP_DigestInit_ex2(ctx_.get(), md_, nullptr) == 1 &&
           EVP_DigestUpdate(ctx_.get(), a, a_size) == 1 && (b_size == 0 || EVP_DigestUpdate(ctx_.get(), b, b_size) == 1) &&
           EVP_DigestFinal_ex(ctx_.get(), out, nullptr) == 1;
  }

 private:
  const EVP_MD* md_;
  EvpMdCtxPtr ctx_;
};

// Below this many items a second thread costs more than it saves.
constexpr std::size_t kItemsPerWorker = 16384;

// Runs work(begin, end) over [0, n) split across the cores; false if any part
// returned false.
template <typename Work>
bool ParallelFor(std::size_t n, const Work& work) {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t workers = std::clamp<std::size_t>(n / kItemsPerWorker, 1, cores);
  std::atomic<bool> ok = true;
  {
    std::vector<std::jthread> threads;
    for (std::size_t w = 1; w < workers; ++w)
      threads.emplace_back([&, w] {
        if (!work(n * w / workers, n * (w + 1) / workers)) ok = false;
      });
    if (!work(0, n / workers)) ok = false;
  }  // joins
  return ok;
}

bool DigestLess(const std::uint8_t* a, const std::uint8_t* b, std::size_t size) {
  return std::memcmp(a, b, size) < 0;
}

std::uint64_t BigEndianPrefix(const std::uint8_t* digest, std::size_t size) {
  std::uint64_t prefix = 0;
  for (std::size_t i = 0; i < 8; ++i) prefix = (prefix << 8) | (i < size ? digest[i] : 0u);
  return prefix;
}

}  // namespace

Bytes GroupHash(HashAlgorithm alg, std::vector<Bytes> member_hashes) {
  if (member_hashes.size() == 1) return std::move(member_hashes.front());
  return HashOfSortedConcatenation(alg, std::move(member_hashes));
}

Bytes ReducedTreeRoot(HashAlgorithm alg, const ReducedHashtree& tree) {
  if (tree.empty()) return {};
  Bytes root = ListNode(alg, tree.front());
  for (std::size_t i = 1; i < tree.size(); ++i) root = HashPair(alg, root, ListNode(alg, tree[i]));
  return root;
}

PartialHashtree HashTree::Members(std::size_t group_index) const {
  if (!nodes_) return {root_};  // a single data object is its own hash
  if (!members_) return {};     // built over leaves: the members were never given
  PartialHashtree members;
  members.reserve(member_offsets_[group_index + 1] - member_offsets_[group_index]);
  for (std::size_t m = member_offsets_[group_index]; m < member_offsets_[group_index + 1]; ++m) {
    const std::uint8_t* begin = members_.get() + m * digest_size_;
    members.emplace_back(begin, begin + digest_size_);
  }
  return members;
}

std::optional<ReducedHashtree> HashTree::ReducedFor(std::size_t group_index) const {
  if (!nodes_ || !members_) return std::nullopt;  // a single data object (rule 5), or no members known
  const auto digest = [this](const std::uint8_t* flat, std::size_t index) {
    const std::uint8_t* begin = flat + index * digest_size_;
    return Bytes(begin, begin + digest_size_);
  };
  ReducedHashtree reduced;
  reduced.reserve(level_offsets_.size());
  // List 0: the group's member hashes, sorted (rule 4).
  reduced.push_back(Members(group_index));
  // The leaf at sorted position p has the ancestor p >> l at level l, whose
  // sibling (if any) is the next list; a promoted ancestor has none and adds
  // no list. The root's level (the last) has no sibling.
  const std::size_t position = leaf_position_[group_index];
  for (std::size_t l = 0; l + 2 < level_offsets_.size(); ++l) {
    const std::size_t sibling = (position >> l) ^ 1;
    if (sibling < level_offsets_[l + 1] - level_offsets_[l])
      reduced.push_back({digest(nodes_.get(), level_offsets_[l] + sibling)});
  }
  return reduced;
}

Status HashTree::Shape(HashAlgorithm alg, std::size_t leaves) {
  digest_size_ = HashAlgorithmSize(alg);
  leaf_position_.assign(leaves, 0);
  // Each level has ceil(below / 2) nodes, up to the root (rule 3).
  level_offsets_ = {0, leaves};
  for (std::size_t nodes = leaves; nodes > 1; nodes = (nodes + 1) / 2)
    level_offsets_.push_back(level_offsets_.back() + (nodes + 1) / 2);
  // The unsorted leaves wait where the upper levels will go (Scratch); they
  // are dead once level 0 holds them in order.
  const std::size_t node_count = std::max(level_offsets_.back(), 2 * leaves);
  // Not zero-filled: fresh pages are costly to fault in, so the threads that
  // fill them touch them first, in parallel.
  nodes_ = std::make_unique_for_overwrite<std::uint8_t[]>(node_count * digest_size_);
  return Status::Ok();
}

Status HashTree::SortAndBuildLevels(HashAlgorithm alg) {
  EvpMdPtr md(EVP_MD_fetch(nullptr, std::string(HashAlgorithmName(alg)).c_str(), nullptr));
  if (!md) return Status::Internal(OpenSslFailure("hash tree: cannot fetch " + std::string(HashAlgorithmName(alg))));
  const std::size_t size = digest_size_;
  const std::size_t leaves = groups();
  std::uint8_t* const nodes = nodes_.get();
  const auto node = [nodes, size](std::size_t index) { return nodes + index * size; };
  const std::size_t scratch = leaves;

  // Leaves in sorted order (rule 3). Ties keep input order, so each duplicate
  // keeps its own position and its own siblings. Comparing an 8-byte
  // big-endian prefix first keeps the sort in cache: hashes rarely tie there.
  struct SortKey {
    std::uint64_t prefix;
    std::size_t group;
  };
  std::vector<SortKey> keys(leaves);
  for (std::size_t i = 0; i < leaves; ++i) keys[i] = {BigEndianPrefix(node(scratch + i), size), i};
  std::sort(keys.begin(), keys.end(), [&](const SortKey& a, const SortKey& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    const int order = std::memcmp(node(scratch + a.group), node(scratch + b.group), size);
    return order != 0 ? order < 0 : a.group < b.group;
  });
  ParallelFor(leaves, [&](std::size_t begin, std::size_t end) {
    for (std::size_t position = begin; position < end; ++position) {
      leaf_position_[keys[position].group] = position;
      std::memcpy(node(position), node(scratch + keys[position].group), size);
    }
    return true;
  });

  // Upper levels (rule 3): parent = H(sortcat{left, right}); an odd last node
  // is promoted unchanged; upper levels keep the order they are built in.
  for (std::size_t l = 0; l + 2 < level_offsets_.size(); ++l) {
    const std::size_t below = level_offsets_[l];
    const std::size_t count = level_offsets_[l + 1] - below;
    const std::size_t parents = level_offsets_[l + 1];
    const bool ok = ParallelFor(count / 2, [&](std::size_t begin, std::size_t end) {
      NodeHasher hasher(md.get());
      for (std::size_t p = begin; p < end; ++p) {
        const std::uint8_t* left = node(below + 2 * p);
        const std::uint8_t* right = node(below + 2 * p + 1);
        if (DigestLess(right, left, size)) std::swap(left, right);
        if (!hasher.Hash(left, size, right, size, node(parents + p))) return false;
      }
      return true;
    });
    if (!ok) return Status::Internal(OpenSslFailure("hash tree: cannot hash a tree level"));
    if (count % 2 == 1) std::memcpy(node(parents + count / 2), node(below + count - 1), size);
  }
  const std::uint8_t* root = node(level_offsets_[level_offsets_.size() - 2]);
  root_.assign(root, root + size);
  return Status::Ok();
}

Result<HashTree> BuildHashTree(HashAlgorithm alg, const std::vector<std::vector<Bytes>>& groups) {
  if (groups.empty()) return Status::InvalidArgument("hash tree: the batch has no data-object group");
  const std::size_t size = HashAlgorithmSize(alg);
  std::size_t member_count = 0;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].empty())
      return Status::InvalidArgument("hash tree: data-object group " + std::to_string(i + 1) + " is empty");
    for (const Bytes& member : groups[i])
      if (member.size() != size)
        return Status::InvalidArgument("hash tree: a member of data-object group " + std::to_string(i + 1) +
                                       " is " + std::to_string(member.size()) + " bytes, not a " +
                                       std::string(HashAlgorithmName(alg)) + " hash");
    member_count += groups[i].size();
  }

  HashTree tree;
  // Rule 5: a single data object sealed alone is its own imprint, with no tree.
  if (groups.size() == 1 && groups.front().size() == 1) {
    tree.digest_size_ = size;
    tree.leaf_position_.assign(1, 0);
    tree.root_ = groups.front().front();
    return tree;
  }

  EvpMdPtr md(EVP_MD_fetch(nullptr, std::string(HashAlgorithmName(alg)).c_str(), nullptr));
  if (!md) return Status::Internal(OpenSslFailure("hash tree: cannot fetch " + std::string(HashAlgorithmName(alg))));
  const std::size_t leaves = groups.size();
  PRESERVE_RETURN_IF_ERROR(tree.Shape(alg, leaves));
  tree.members_ = std::make_unique_for_overwrite<std::uint8_t[]>(member_count * size);

  // Each group's members, sorted (list 0 of its reduced tree, rule 4), laid
  // out so that the group's hash (rule 2) is the hash of its own slice.
  tree.member_offsets_.resize(leaves + 1);
  for (std::size_t i = 0; i < leaves; ++i) tree.member_offsets_[i + 1] = tree.member_offsets_[i] + groups[i].size();
  const bool hashed = ParallelFor(leaves, [&](std::size_t begin, std::size_t end) {
    NodeHasher hasher(md.get());
    std::vector<const Bytes*> sorted;
    for (std::size_t i = begin; i < end; ++i) {
      sorted.clear();
      for (const Bytes& member : groups[i]) sorted.push_back(&member);
      std::stable_sort(sorted.begin(), sorted.end(), [](const Bytes* a, const Bytes* b) { return *a < *b; });
      std::uint8_t* slice = tree.members_.get() + tree.member_offsets_[i] * size;
      for (std::size_t m = 0; m < sorted.size(); ++m) std::memcpy(slice + m * size, sorted[m]->data(), size);
      std::uint8_t* leaf = tree.Scratch(i);
      if (sorted.size() == 1)
        std::memcpy(leaf, slice, size);  // a group of one is its member's hash (rule 2)
      else if (!hasher.Hash(slice, sorted.size() * size, nullptr, 0, leaf))
        return false;
    }
    return true;
  });
  if (!hashed) return Status::Internal(OpenSslFailure("hash tree: cannot hash the data-object groups"));
  PRESERVE_RETURN_IF_ERROR(tree.SortAndBuildLevels(alg));
  return tree;
}

Result<HashTree> BuildHashTreeOverLeaves(HashAlgorithm alg, ByteView leaves) {
  const std::size_t size = HashAlgorithmSize(alg);
  if (leaves.size() < 2 * size || leaves.size() % size != 0)
    return Status::InvalidArgument("hash tree: " + std::to_string(leaves.size()) + " bytes are not two or more " +
                                   std::string(HashAlgorithmName(alg)) + " leaves");
  const std::size_t count = leaves.size() / size;
  HashTree tree;
  PRESERVE_RETURN_IF_ERROR(tree.Shape(alg, count));
  ParallelFor(count, [&](std::size_t begin, std::size_t end) {
    std::memcpy(tree.Scratch(begin), leaves.data() + begin * size, (end - begin) * size);
    return true;
  });
  PRESERVE_RETURN_IF_ERROR(tree.SortAndBuildLevels(alg));
  return tree;
}

}  // namespace preserve::timestamp
