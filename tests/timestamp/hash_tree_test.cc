// Hash trees per ERS-RULES.md rules 1-5 and 9: known answers worked out by
// hand from the rules, then properties over larger batches.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>

#include "preserve/timestamp/evidence_record.h"

namespace preserve::timestamp {
namespace {

constexpr HashAlgorithm kAlg = HashAlgorithm::kSha256;

// A stand-in for a member hash whose sort position is obvious: 32 bytes of `b`.
Bytes Leaf(std::uint8_t b) { return Bytes(32, b); }

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// H(x || y), the caller giving the order the rules prescribe.
Bytes H(std::initializer_list<Bytes> parts) { return Digest(kAlg, Cat(parts)); }

TEST(HashTree, SingleObjectHasNoTreeAndIsItsOwnImprint) {
  auto tree = BuildHashTree(kAlg, {{Leaf(0x42)}});
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ(tree->root, Leaf(0x42));
  ASSERT_EQ(tree->reduced.size(), 1u);
  EXPECT_FALSE(tree->reduced[0].has_value());
}

TEST(HashTree, SingleGroupIsItsSortedMembers) {
  auto tree = BuildHashTree(kAlg, {{Leaf(0x80), Leaf(0x7f)}});
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(tree->root, H({Leaf(0x7f), Leaf(0x80)}));
  ASSERT_TRUE(tree->reduced[0].has_value());
  EXPECT_EQ(*tree->reduced[0], (ReducedHashtree{{Leaf(0x7f), Leaf(0x80)}}));
}

TEST(HashTree, GroupHashSortsAndKeepsASingleMemberUnhashed) {
  EXPECT_EQ(GroupHash(kAlg, {Leaf(3)}), Leaf(3));
  EXPECT_EQ(GroupHash(kAlg, {Leaf(0xff), Leaf(0x01), Leaf(0x80)}), H({Leaf(0x01), Leaf(0x80), Leaf(0xff)}));
  EXPECT_EQ(GroupHash(kAlg, {Leaf(5), Leaf(5)}), H({Leaf(5), Leaf(5)}));
}

TEST(HashTree, TwoObjects) {
  auto tree = BuildHashTree(kAlg, {{Leaf(0x80)}, {Leaf(0x01)}});
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(tree->root, H({Leaf(0x01), Leaf(0x80)}));
  EXPECT_EQ(*tree->reduced[0], (ReducedHashtree{{Leaf(0x80)}, {Leaf(0x01)}}));
  EXPECT_EQ(*tree->reduced[1], (ReducedHashtree{{Leaf(0x01)}, {Leaf(0x80)}}));
}

// Unsorted input; unsigned order puts 0x7f before 0x80 (a signed comparison
// would pair 0x80 with 0xff and promote 0x7f, giving another root).
TEST(HashTree, ThreeObjectsPromoteTheOddNodeAndSortUnsigned) {
  auto tree = BuildHashTree(kAlg, {{Leaf(0xff)}, {Leaf(0x80)}, {Leaf(0x7f)}});
  ASSERT_TRUE(tree.ok());
  const Bytes pair = H({Leaf(0x7f), Leaf(0x80)});
  const Bytes root = pair < Leaf(0xff) ? H({pair, Leaf(0xff)}) : H({Leaf(0xff), pair});
  EXPECT_EQ(tree->root, root);
  EXPECT_EQ(*tree->reduced[0], (ReducedHashtree{{Leaf(0xff)}, {pair}}));
  EXPECT_EQ(*tree->reduced[1], (ReducedHashtree{{Leaf(0x80)}, {Leaf(0x7f)}, {Leaf(0xff)}}));
  EXPECT_EQ(*tree->reduced[2], (ReducedHashtree{{Leaf(0x7f)}, {Leaf(0x80)}, {Leaf(0xff)}}));
}

TEST(HashTree, FiveObjects) {
  const Bytes a = Leaf(1), b = Leaf(2), c = Leaf(3), d = Leaf(4), e = Leaf(5);
  auto tree = BuildHashTree(kAlg, {{e}, {c}, {a}, {d}, {b}});
  ASSERT_TRUE(tree.ok());
  const Bytes ab = H({a, b});
  const Bytes cd = H({c, d});
  const Bytes abcd = ab < cd ? H({ab, cd}) : H({cd, ab});  // upper levels sort each pair too
  const Bytes root = abcd < e ? H({abcd, e}) : H({e, abcd});
  EXPECT_EQ(tree->root, root);
  EXPECT_EQ(*tree->reduced[0], (ReducedHashtree{{e}, {abcd}}));          // promoted twice: no list
  EXPECT_EQ(*tree->reduced[1], (ReducedHashtree{{c}, {d}, {ab}, {e}}));
  EXPECT_EQ(*tree->reduced[2], (ReducedHashtree{{a}, {b}, {cd}, {e}}));
  EXPECT_EQ(*tree->reduced[3], (ReducedHashtree{{d}, {c}, {ab}, {e}}));
  EXPECT_EQ(*tree->reduced[4], (ReducedHashtree{{b}, {a}, {cd}, {e}}));
}

TEST(HashTree, DuplicatesKeepTheirOwnPositions) {
  const Bytes a = Leaf(1), b = Leaf(2);
  auto tree = BuildHashTree(kAlg, {{b}, {a}, {a}});
  ASSERT_TRUE(tree.ok());
  const Bytes aa = H({a, a});
  EXPECT_EQ(tree->root, aa < b ? H({aa, b}) : H({b, aa}));
  EXPECT_EQ(*tree->reduced[0], (ReducedHashtree{{b}, {aa}}));
  EXPECT_EQ(*tree->reduced[1], (ReducedHashtree{{a}, {a}, {b}}));
  EXPECT_EQ(*tree->reduced[2], (ReducedHashtree{{a}, {a}, {b}}));
}

TEST(HashTree, GroupLeafIsTheHashOfItsSortedMembers) {
  const Bytes m1 = Leaf(0x10), m2 = Leaf(0x90), x = Leaf(0x20);
  auto tree = BuildHashTree(kAlg, {{m2, m1}, {x}});
  ASSERT_TRUE(tree.ok());
  const Bytes group = H({m1, m2});
  EXPECT_EQ(tree->root, group < x ? H({group, x}) : H({x, group}));
  EXPECT_EQ(*tree->reduced[0], (ReducedHashtree{{m1, m2}, {x}}));
  EXPECT_EQ(*tree->reduced[1], (ReducedHashtree{{x}, {group}}));
}

TEST(HashTree, ReducedTreeRootCarriesOneValueListsUp) {
  EXPECT_EQ(ReducedTreeRoot(kAlg, {{Leaf(7)}}), Leaf(7));
  EXPECT_EQ(ReducedTreeRoot(kAlg, {{Leaf(9), Leaf(7)}}), H({Leaf(7), Leaf(9)}));
  EXPECT_EQ(ReducedTreeRoot(kAlg, {{Leaf(9)}, {Leaf(7)}}), H({Leaf(7), Leaf(9)}));
}

TEST(HashTree, RejectsEmptyBatchAndEmptyGroup) {
  EXPECT_FALSE(BuildHashTree(kAlg, {}).ok());
  EXPECT_FALSE(BuildHashTree(kAlg, {{Leaf(1)}, {}}).ok());
}

std::vector<std::vector<Bytes>> RandomBatch(std::size_t groups, std::uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<std::vector<Bytes>> batch(groups);
  for (std::size_t i = 0; i < groups; ++i) {
    std::size_t members = 1 + random() % 4;
    for (std::size_t m = 0; m < members; ++m) {
      std::uint32_t value = static_cast<std::uint32_t>(random() % (groups * 2));  // some duplicates
      batch[i].push_back(Digest(kAlg, AsBytes(std::to_string(value))));
    }
  }
  return batch;
}

TEST(HashTree, EveryReducedTreeLeadsToTheRoot) {
  for (std::size_t size : {2u, 3u, 4u, 7u, 8u, 9u, 100u, 1000u, 1025u}) {
    auto batch = RandomBatch(size, static_cast<std::uint32_t>(size));
    auto tree = BuildHashTree(kAlg, batch);
    ASSERT_TRUE(tree.ok());
    ASSERT_EQ(tree->reduced.size(), size);
    for (std::size_t i = 0; i < size; ++i) {
      ASSERT_TRUE(tree->reduced[i].has_value());
      const ReducedHashtree& reduced = *tree->reduced[i];
      EXPECT_EQ(ReducedTreeRoot(kAlg, reduced), tree->root) << "batch " << size << ", group " << i;
      std::vector<Bytes> members = batch[i];
      std::sort(members.begin(), members.end());
      EXPECT_EQ(reduced[0], members);
      for (std::size_t l = 1; l < reduced.size(); ++l) EXPECT_EQ(reduced[l].size(), 1u);  // binary (rule 10)
    }
  }
}

TEST(HashTree, HundredThousandGroupsBuildQuickly) {
  auto batch = RandomBatch(100000, 7);
  auto start = std::chrono::steady_clock::now();
  auto tree = BuildHashTree(kAlg, batch);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(tree.ok());
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  for (std::size_t i : {0u, 4711u, 99999u}) EXPECT_EQ(ReducedTreeRoot(kAlg, *tree->reduced[i]), tree->root);
  EXPECT_LE(tree->reduced[12345]->size(), 1u + 17u);  // list 0 plus at most ceil(log2(100000)) siblings
}

}  // namespace
}  // namespace preserve::timestamp
