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

// A trail checked against heads sealed elsewhere (what a time-stamp batch keeps).
AuditTrailReport WalkSealed(const std::vector<Bytes>& chain, const std::vector<SealedHead>& heads) {
  AuditTrailVerifier verifier;
  for (const SealedHead& head : heads) verifier.ExpectSealedHead(head);
  for (std::size_t i = 0; i < chain.size(); ++i) verifier.Add(i, chain[i]);
  return verifier.Finish();
}

SealedHead HeadOf(const std::vector<Bytes>& chain, std::uint64_t events, std::string by) {
  Bytes hash = events == 0 ? Bytes(32, 0) : Digest(HashAlgorithm::kSha256, chain[events - 1]);
  return {events, std::move(hash), std::move(by)};
}

TEST(AuditTrail, SealedHeadsOnTheTrailAreCountedAndTheLastReported) {
  std::vector<Bytes> chain = Chain(6);
  AuditTrailReport report = WalkSealed(chain, {HeadOf(chain, 3, "b2"), HeadOf(chain, 0, "b0"), HeadOf(chain, 5, "b3")});
  EXPECT_EQ(report.verdict, Verdict::kValid) << report.reason;
  EXPECT_EQ(report.sealed_heads, 3u);
  ASSERT_TRUE(report.last_sealed_head.has_value());
  EXPECT_EQ(report.last_sealed_head->events, 5u);
  EXPECT_EQ(report.last_sealed_head->sealed_by, "b3");
}

TEST(AuditTrail, TrailReChainedAfterAnEditMissesTheSealedHead) {
  std::vector<Bytes> original = Chain(6);
  std::vector<SealedHead> heads = {HeadOf(original, 2, "b1"), HeadOf(original, 4, "b2")};
  // Event 2 edited and every later link computed again: a chain that holds.
  std::vector<Bytes> forged = original;
  forged[2].back() ^= 0x01;
  for (std::size_t i = 3; i < forged.size(); ++i) {
    Bytes link = Digest(HashAlgorithm::kSha256, forged[i - 1]);
    std::copy(link.begin(), link.end(), forged[i].begin());
  }
  EXPECT_EQ(Walk(Numbered(forged)).verdict, Verdict::kValid);
  AuditTrailReport report = WalkSealed(forged, heads);
  EXPECT_EQ(report.verdict, Verdict::kInvalid);
  EXPECT_EQ(report.first_bad_sequence, 3u) << report.reason;
  EXPECT_NE(report.reason.find("first 4 events differ from those b2 sealed"), std::string::npos) << report.reason;
  EXPECT_EQ(report.sealed_heads, 1u);  // b1's, before the edit
}

TEST(AuditTrail, TrailCutAtOrBeforeTheLastSealedHeadIsInvalid) {
  std::vector<Bytes> chain = Chain(6);
  // The sealer's own event follows its head: 5 events sealed means at least 6.
  for (std::size_t kept : {5u, 4u}) {
    std::vector<Bytes> cut(chain.begin(), chain.begin() + static_cast<std::ptrdiff_t>(kept));
    AuditTrailReport report = WalkSealed(cut, {HeadOf(chain, 5, "b9")});
    EXPECT_EQ(report.verdict, Verdict::kInvalid) << kept;
    EXPECT_EQ(report.first_bad_sequence, kept);
    EXPECT_NE(report.reason.find("events were removed from the end"), std::string::npos) << report.reason;
  }
  EXPECT_EQ(WalkSealed(chain, {HeadOf(chain, 5, "b9")}).verdict, Verdict::kValid);
  EXPECT_EQ(WalkSealed({}, {HeadOf(chain, 0, "b0")}).verdict, Verdict::kInvalid);
}

}  // namespace
}  // namespace preserve::audit
