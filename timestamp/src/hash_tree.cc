// Hash trees over a batch of data-object groups, as ERS-RULES.md rules 1-5 and
// 9-10 state them (BouncyCastle 1.72's reading of RFC 4998 section 4.2).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <utility>

#include "preserve/timestamp/evidence_record.h"

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

// Below this many leaves a second thread costs more than it saves.
constexpr std::size_t kLeavesPerWorker = 65536;

std::uint64_t BigEndianPrefix(const Bytes& value) {
  std::uint64_t prefix = 0;
  for (std::size_t i = 0; i < 8; ++i) prefix = (prefix << 8) | (i < value.size() ? value[i] : 0u);
  return prefix;
}

// Rule 9: a one-value list is carried up unhashed.
Bytes ListNode(HashAlgorithm alg, const PartialHashtree& list) {
  if (list.size() == 1) return list.front();
  return HashOfSortedConcatenation(alg, list);
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

Result<HashTree> BuildHashTree(HashAlgorithm alg, const std::vector<std::vector<Bytes>>& groups) {
  if (groups.empty()) return Status::InvalidArgument("hash tree: the batch has no data-object group");
  for (std::size_t i = 0; i < groups.size(); ++i)
    if (groups[i].empty())
      return Status::InvalidArgument("hash tree: data-object group " + std::to_string(i + 1) + " is empty");

  HashTree tree;
  // Rule 5: a single data object sealed alone is its own imprint, with no tree.
  if (groups.size() == 1 && groups.front().size() == 1) {
    tree.root = groups.front().front();
    tree.reduced.emplace_back(std::nullopt);
    return tree;
  }

  // List 0 of every reduced tree: the group's member hashes, sorted (rule 4).
  tree.reduced.resize(groups.size());
  std::vector<Bytes> level(groups.size());
  for (std::size_t i = 0; i < groups.size(); ++i) {
    PartialHashtree members = groups[i];
    SortUnsigned(members);
    level[i] = GroupHash(alg, members);
    tree.reduced[i].emplace().push_back(std::move(members));
  }

  // Leaves in sorted order; the stable sort keeps duplicates in input order, so
  // each group keeps its own position and its own siblings. Sorting by an
  // 8-byte big-endian prefix first keeps the sort in cache: hashes rarely tie.
  struct SortKey {
    std::uint64_t prefix;
    std::size_t input_index;
  };
  std::vector<SortKey> keys(groups.size());
  for (std::size_t i = 0; i < groups.size(); ++i) keys[i] = {BigEndianPrefix(level[i]), i};
  std::stable_sort(keys.begin(), keys.end(), [&level](const SortKey& a, const SortKey& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return level[a.input_index] < level[b.input_index];
  });
  std::vector<std::size_t> leaf_order(groups.size());
  std::vector<Bytes> sorted_level(groups.size());
  for (std::size_t position = 0; position < keys.size(); ++position) {
    leaf_order[position] = keys[position].input_index;
    sorted_level[position] = std::move(level[keys[position].input_index]);
  }
  level = std::move(sorted_level);

  // All levels first (rule 3): parent = H(sortcat{left, right}); an odd last
  // node is promoted unchanged; upper levels keep the order they are built in.
  std::vector<std::vector<Bytes>> levels;
  levels.push_back(std::move(level));
  while (levels.back().size() > 1) {
    const std::vector<Bytes>& below = levels.back();
    std::vector<Bytes> parents;
    parents.reserve((below.size() + 1) / 2);
    for (std::size_t i = 0; i + 1 < below.size(); i += 2) parents.push_back(HashPair(alg, below[i], below[i + 1]));
    if (below.size() % 2 == 1) parents.push_back(below.back());
    levels.push_back(std::move(parents));
  }

  // Then each leaf's path in one go (rule 4): the leaf at sorted position p has
  // the ancestor p >> l at level l, whose sibling (if any) is the next list; a
  // promoted ancestor has none and adds no list. Copying tens of millions of
  // small values is bound by allocation, so the leaves are split across cores.
  auto add_paths = [&](std::size_t begin, std::size_t end) {
    for (std::size_t position = begin; position < end; ++position) {
      ReducedHashtree& reduced = *tree.reduced[leaf_order[position]];
      reduced.reserve(levels.size());
      for (std::size_t l = 0; l + 1 < levels.size(); ++l) {
        std::size_t sibling = (position >> l) ^ 1;
        if (sibling < levels[l].size()) reduced.emplace_back(1, levels[l][sibling]);
      }
    }
  };
  const std::size_t leaves = leaf_order.size();
  const std::size_t workers = leaves < kLeavesPerWorker ? 1 : std::max(1u, std::thread::hardware_concurrency());
  {
    std::vector<std::jthread> threads;
    for (std::size_t w = 1; w < workers; ++w)
      threads.emplace_back(add_paths, leaves * w / workers, leaves * (w + 1) / workers);
    add_paths(0, leaves / workers);
  }  // joins
  tree.root = std::move(levels.back().front());
  return tree;
}

}  // namespace preserve::timestamp
