// The parallel loops of util/parallel.h: every item is visited exactly once,
// in contiguous pieces of at least the minimum asked for that cover the
// range, whatever its size; and the error returned is the first by position.
#include "preserve/util/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

namespace preserve {
namespace {

TEST(ParallelRanges, PiecesCoverTheRangeOnceAndAreAtLeastTheMinimum) {
  for (std::size_t n : {0u, 1u, 5u, 99u, 100u, 101u, 1000u, 12345u, 1000000u}) {
    for (std::size_t min_piece : {1u, 7u, 100u, 4096u}) {
      std::mutex mutex;
      std::vector<std::pair<std::size_t, std::size_t>> pieces;
      ASSERT_TRUE(ParallelRanges(n, min_piece, [&](std::size_t begin, std::size_t end) {
                    std::lock_guard lock(mutex);
                    pieces.emplace_back(begin, end);
                    return Status::Ok();
                  }).ok());
      std::sort(pieces.begin(), pieces.end());
      std::size_t covered = 0;
      for (const auto& [begin, end] : pieces) {
        ASSERT_EQ(begin, covered) << "n " << n << ", min " << min_piece;  // contiguous, no overlap
        ASSERT_LE(begin, end);
        if (pieces.size() > 1) {
          ASSERT_GE(end - begin, min_piece) << "n " << n;
        }
        covered = end;
      }
      ASSERT_EQ(covered, n);
    }
  }
}

TEST(ParallelFor, VisitsEveryItemExactlyOnce) {
  constexpr std::size_t kItems = 200000;
  std::vector<std::atomic<int>> visits(kItems);
  ASSERT_TRUE(ParallelFor(kItems, 1000, [&](std::size_t i) {
                visits[i].fetch_add(1);
                return Status::Ok();
              }).ok());
  for (std::size_t i = 0; i < kItems; ++i) ASSERT_EQ(visits[i].load(), 1) << i;
}

TEST(ParallelFor, ReturnsTheFirstErrorByPosition) {
  // Items 1000 and 150000 fail: whichever thread meets which first, the
  // error named is the earlier item's.
  const Status status = ParallelFor(200000, 1000, [](std::size_t i) {
    if (i == 1000 || i == 150000) return Status::Corruption("item " + std::to_string(i));
    return Status::Ok();
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "item 1000");
}

}  // namespace
}  // namespace preserve
