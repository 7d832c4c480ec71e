// The audit chain's walk on hand-made trails: which event each kind of
// tampering is pinned on.
#include "preserve/audit/audit_trail.h"

#include <gtest/gtest.h>

#include "preserve/util/digest.h"

namespace preserve::audit {
namespace {

// Stored values of a well-formed trail of `n` events.
std::vector<Bytes> Chain(std::size_t n) {
  std::vector<Bytes> out;
  Bytes previous(32, 0);
  for (std::size_t i = 0; i < n; ++i) {
    Bytes value = previous;
    std::string event = "{\"event\":\"e" + std::to_string(i) + "\"}";
    value.insert(value.end(), event.begin(), event.end());
    previous = Digest(HashAlgorithm::kSha256, value);
    out.push_back(std::move(value));
  }
  return out;
}

// Walks (sequence, value) pairs as the store would hand them over.
AuditTrailReport Walk(const std::vector<std::pair<std::uint64_t, Bytes>>& entries) {
  AuditTrailVerifier verifier;
  for (const auto& [sequence, value] : entries) verifier.Add(sequence, value);
  return verifier.Finish();
}

std::vector<std::pair<std::uint64_t, Bytes>> Numbered(const std::vector<Bytes>& values) {
  std::vector<std::pair<std::uint64_t, Bytes>> out;
  for (std::size_t i = 0; i < values.size(); ++i) out.emplace_back(i, values[i]);
  return out;
}

TEST(AuditTrail, IntactChainIsValidAndReportsItsHead) {
  std::vector<Bytes> chain = Chain(5);
  AuditTrailReport report = Walk(Numbered(chain));
  EXPECT_EQ(report.verdict, Verdict::kValid) << report.reason;
  EXPECT_EQ(report.events, 5u);
  EXPECT_EQ(report.head, Digest(HashAlgorithm::kSha256, chain.back()));
  EXPECT_EQ(Walk({}).head, Bytes(32, 0));
}

TEST(AuditTrail, EditedEventIsPinnedOnItselfNotOnItsSuccessor) {
  for (std::uint64_t edited : {0u, 2u}) {
    std::vector<Bytes> chain = Chain(5);
    chain[edited].back() ^= 0x01;
    AuditTrailReport report = Walk(Numbered(chain));
    EXPECT_EQ(report.verdict, Verdict::kInvalid);
    EXPECT_EQ(report.first_bad_sequence, edited) << report.reason;
  }
}

TEST(AuditTrail, SeveralDeletedEventsAreNamedAsARange) {
  auto entries = Numbered(Chain(6));
  entries.erase(entries.begin() + 2, entries.begin() + 4);
  AuditTrailReport report = Walk(entries);
  EXPECT_EQ(report.first_bad_sequence, 2u);
  EXPECT_NE(report.reason.find("events 2 to 3 are missing"), std::string::npos) << report.reason;
}

TEST(AuditTrail, SwapAtTheStartIsPinnedOnEventZero) {
  auto chain = Chain(4);
  std::swap(chain[0], chain[1]);
  EXPECT_EQ(Walk(Numbered(chain)).first_bad_sequence, 0u);
}

TEST(AuditTrail, BreakAtTheLastLinkNamesTheEarlierSide) {
  auto chain = Chain(4);
  chain[3][0] ^= 0x01;  // the last event's link: nothing after it tells the sides apart
  AuditTrailReport report = Walk(Numbered(chain));
  EXPECT_EQ(report.first_bad_sequence, 2u);
  EXPECT_NE(report.reason.find("one of them was altered"), std::string::npos) << report.reason;
}

TEST(AuditTrail, TruncatedAndUnreadableEntriesAreInvalid) {
  auto entries = Numbered(Chain(3));
  entries[1].second.resize(10);
  EXPECT_EQ(Walk(entries).first_bad_sequence, 1u);

  AuditTrailVerifier verifier;
  auto chain = Chain(2);
  verifier.Add(0, chain[0]);
  verifier.Unreadable("Corruption: block checksum mismatch");
  AuditTrailReport report = verifier.Finish();
  EXPECT_EQ(report.verdict, Verdict::kInvalid);
  EXPECT_EQ(report.first_bad_sequence, 1u);
}

}  // namespace
}  // namespace preserve::audit
