// A renewal rewrites a stored evidence skeleton in place of decoding and
// encoding it (archive/src/records.h, AddRenewalToSkeleton): the bytes must be
// exactly those the long way gives, for every shape a skeleton takes, and
// whatever the decoder refuses it must refuse too.
#include "records.h"

#include <gtest/gtest.h>

#include <random>

namespace preserve::archive {
namespace {

using Ats = EvidenceSkeleton::Ats;

TimePoint At(std::int64_t seconds) { return TimePoint(std::chrono::seconds(seconds)); }

Ats RandomAts(std::mt19937_64& random) {
  static constexpr HashAlgorithm kAlgorithms[] = {HashAlgorithm::kSha256, HashAlgorithm::kSha384,
                                                  HashAlgorithm::kSha512, HashAlgorithm::kSha3_256};
  Ats ats;
  ats.digest_algorithm = kAlgorithms[random() % 4];
  ats.batch_id = "batch-" + std::to_string(random() % 100000);
  if (random() % 5 == 0) return ats;  // a batch of one data object: no tree
  ats.leaf = static_cast<std::uint32_t>(random());
  ats.members_source = static_cast<Ats::Members>(random() % 3);
  if (ats.members_source == Ats::Members::kStored)
    for (std::size_t m = random() % 8; m > 0; --m) ats.members.emplace_back(HashAlgorithmSize(ats.digest_algorithm), static_cast<std::uint8_t>(random()));
  return ats;
}

void RandomChains(std::mt19937_64& random, std::vector<HashAlgorithm>& algorithms,
                  std::vector<std::vector<Ats>>& chains) {
  for (std::size_t c = 1 + random() % 3; c > 0; --c) {
    auto& chain = chains.emplace_back();
    for (std::size_t n = 1 + random() % 3; n > 0; --n) chain.push_back(RandomAts(random));
  }
  for (const auto& chain : chains)
    if (std::find(algorithms.begin(), algorithms.end(), chain.front().digest_algorithm) == algorithms.end())
      algorithms.push_back(chain.front().digest_algorithm);
}

EvidenceSkeleton RandomSkeleton(std::mt19937_64& random) {
  EvidenceSkeleton s;
  s.next_renewal = At(1700000000 + static_cast<std::int64_t>(random() % 1000000000));
  RandomChains(random, s.digest_algorithms, s.chains);
  for (std::size_t n = random() % 3 == 0 ? 1 + random() % 2 : 0; n > 0; --n) {
    auto& l = s.lapsed.emplace_back();
    RandomChains(random, l.digest_algorithms, l.chains);
    l.lapsed_at = At(1800000000);
    l.restarted_at = At(1800000100);
    l.what_ended = "the TSA certificate that signed it expired";
    l.restarted_by = "operator";
    l.reason = "lý do";
  }
  return s;
}

// The long way: decoded, changed as RenewBatch used to, encoded.
Bytes RenewedTheLongWay(const EvidenceSkeleton& stored, const Ats& ats, RenewalChain chain, TimePoint next) {
  EvidenceSkeleton s = stored;
  if (chain == RenewalChain::kLast) {
    s.chains.back().push_back(ats);
  } else {
    s.chains.push_back({ats});
    if (std::find(s.digest_algorithms.begin(), s.digest_algorithms.end(), ats.digest_algorithm) ==
        s.digest_algorithms.end())
      s.digest_algorithms.push_back(ats.digest_algorithm);
  }
  s.next_renewal = next;
  return EncodeEvidenceSkeleton(s);
}

TEST(AddRenewalToSkeleton, GivesTheBytesOfDecodingChangingAndEncoding) {
  std::mt19937_64 random(2026);
  for (int round = 0; round < 2000; ++round) {
    const EvidenceSkeleton stored = RandomSkeleton(random);
    const Bytes encoded = EncodeEvidenceSkeleton(stored);
    const Ats ats = RandomAts(random);
    const TimePoint next = At(2000000000 + round);
    for (RenewalChain chain : {RenewalChain::kLast, RenewalChain::kNew}) {
      TimePoint previous;
      auto renewed = AddRenewalToSkeleton(encoded, ats, chain, next, &previous);
      ASSERT_TRUE(renewed.ok()) << renewed.status().message();
      EXPECT_EQ(renewed.value(), RenewedTheLongWay(stored, ats, chain, next)) << "round " << round;
      EXPECT_EQ(previous, stored.next_renewal);
      ASSERT_TRUE(DecodeEvidenceSkeleton(renewed.value()).ok());
    }
  }
}

TEST(AddRenewalToSkeleton, AddsANewChainsAlgorithmOnce) {
  EvidenceSkeleton s;
  s.digest_algorithms = {HashAlgorithm::kSha256};
  s.chains = {{Ats{HashAlgorithm::kSha256, "b1", 3, Ats::Members::kDataObjects, {}}}};
  const Ats sha384{HashAlgorithm::kSha384, "b2", 7, Ats::Members::kStored, {Bytes(48, 1)}};
  auto once = AddRenewalToSkeleton(EncodeEvidenceSkeleton(s), sha384, RenewalChain::kNew, At(5));
  ASSERT_TRUE(once.ok());
  auto twice = AddRenewalToSkeleton(once.value(), sha384, RenewalChain::kNew, At(6));
  ASSERT_TRUE(twice.ok());
  auto decoded = DecodeEvidenceSkeleton(twice.value());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->digest_algorithms, (std::vector<HashAlgorithm>{HashAlgorithm::kSha256, HashAlgorithm::kSha384}));
  EXPECT_EQ(decoded->chains.size(), 3u);
  EXPECT_EQ(decoded->next_renewal, At(6));
}

TEST(AddRenewalToSkeleton, RefusesWhatTheDecoderRefuses) {
  std::mt19937_64 random(19);
  const Ats ats = RandomAts(random);
  for (int round = 0; round < 200; ++round) {
    const Bytes encoded = EncodeEvidenceSkeleton(RandomSkeleton(random));
    // Every truncation, and every single byte changed in a few ways.
    for (std::size_t size = 0; size < encoded.size(); ++size) {
      const Bytes cut(encoded.begin(), encoded.begin() + static_cast<std::ptrdiff_t>(size));
      EXPECT_FALSE(AddRenewalToSkeleton(cut, ats, RenewalChain::kNew, At(1)).ok()) << size;
    }
    for (std::size_t at = 0; at < encoded.size(); ++at)
      for (std::uint8_t value : {std::uint8_t{0}, std::uint8_t{3}, std::uint8_t{0xff}}) {
        Bytes changed = encoded;
        changed[at] = value;
        const bool decodes = DecodeEvidenceSkeleton(changed).ok();
        EXPECT_EQ(AddRenewalToSkeleton(changed, ats, RenewalChain::kNew, At(1)).ok(), decodes) << at;
      }
    Bytes longer = encoded;
    longer.push_back(0);
    EXPECT_FALSE(AddRenewalToSkeleton(longer, ats, RenewalChain::kLast, At(1)).ok());
  }
}

TEST(AddRenewalToSkeleton, ATimestampRenewalNeedsAnAtsToFollow) {
  EvidenceSkeleton s;
  s.chains = {{}};
  EXPECT_EQ(AddRenewalToSkeleton(EncodeEvidenceSkeleton(s), Ats{}, RenewalChain::kLast, At(1)).status().code(),
            StatusCode::kCorruption);
  EXPECT_TRUE(AddRenewalToSkeleton(EncodeEvidenceSkeleton(s), Ats{}, RenewalChain::kNew, At(1)).ok());
}

}  // namespace
}  // namespace preserve::archive
