#include "preserve/audit/audit_trail.h"

#include <algorithm>

#include "preserve/util/digest.h"

namespace preserve::audit {

namespace {
constexpr std::size_t kLinkSize = 32;  // SHA-256
}  // namespace

AuditTrailVerifier::AuditTrailVerifier() : previous_hash_(kLinkSize, 0) {}

void AuditTrailVerifier::Fail(std::uint64_t sequence, std::string reason) {
  if (report_.first_bad_sequence) return;  // the first problem is the one that counts
  report_.verdict = Verdict::kInvalid;
  report_.first_bad_sequence = sequence;
  report_.reason = std::move(reason);
}

void AuditTrailVerifier::ExpectSealedHead(SealedHead head) {
  const std::uint64_t events = head.events;
  sealed_heads_.emplace(events, std::move(head));
}

// The trail so far (`events` entries ending in `hash`) against the heads sealed at that length.
void AuditTrailVerifier::CheckSealedHeads(std::uint64_t events, const Bytes& hash) {
  auto [begin, end] = sealed_heads_.equal_range(events);
  for (auto it = begin; it != end; ++it) {
    const SealedHead& sealed = it->second;
    if (sealed.hash != hash) {
      // A break the chain shows by itself is named more precisely by the walk.
      if (broken_link_ || report_.first_bad_sequence) continue;
      const std::uint64_t last = events == 0 ? 0 : events - 1;
      Fail(last, "the trail's first " + std::to_string(events) + " events differ from those " + sealed.sealed_by +
                     " sealed: an event up to " + std::to_string(last) +
                     " was altered, inserted or removed and the chain computed again");
      continue;
    }
    ++report_.sealed_heads;
    if (!report_.last_sealed_head || report_.last_sealed_head->events <= events) report_.last_sealed_head = sealed;
  }
}

void AuditTrailVerifier::Add(std::uint64_t sequence, ByteView stored_value) {
  if (sequence == 0 && expected_sequence_ == 0) CheckSealedHeads(0, previous_hash_);
  ++report_.events;
  const std::string seq = std::to_string(sequence);
  if (sequence != expected_sequence_) {
    if (broken_link_) {
      Fail(*broken_link_, "event " + std::to_string(*broken_link_) + " does not chain to the event before it");
      broken_link_.reset();
    }
    Fail(expected_sequence_, sequence > expected_sequence_ + 1
                                 ? "events " + std::to_string(expected_sequence_) + " to " +
                                       std::to_string(sequence - 1) + " are missing (deleted from the trail)"
                                 : "event " + std::to_string(expected_sequence_) +
                                       " is missing (deleted from the trail)");
  }
  bool linked = stored_value.size() >= kLinkSize &&
                std::equal(previous_hash_.begin(), previous_hash_.end(), stored_value.begin());
  if (broken_link_) {
    const std::uint64_t at = *broken_link_;
    if (linked) {
      Fail(at - 1, "event " + std::to_string(at - 1) + " was altered: event " + std::to_string(at) +
                       " no longer chains to it, though event " + seq + " still chains to event " +
                       std::to_string(at));
    } else {
      Fail(at, "event " + std::to_string(at) + " was replaced, moved or its link altered: it does not chain to event " +
                   std::to_string(at - 1) + ", and event " + seq + " does not chain to it");
    }
    broken_link_.reset();
  } else if (!linked) {
    if (stored_value.size() < kLinkSize) {
      Fail(sequence, "event " + seq + " is truncated: shorter than its link to the previous event");
    } else if (sequence == 0) {
      Fail(0, "event 0 does not start the chain (its previous-event hash is not zero): moved or altered");
    } else {
      broken_link_ = sequence;
    }
  }
  previous_hash_ = Digest(HashAlgorithm::kSha256, stored_value);
  expected_sequence_ = sequence + 1;
  CheckSealedHeads(expected_sequence_, previous_hash_);
}

void AuditTrailVerifier::Unreadable(const std::string& why) {
  Fail(expected_sequence_, "the trail cannot be read from event " + std::to_string(expected_sequence_) + ": " + why);
}

AuditTrailReport AuditTrailVerifier::Finish() {
  if (broken_link_) {
    // Nothing after the break to tell the two sides apart: name the earlier one.
    const std::uint64_t at = *broken_link_;
    Fail(at - 1, "event " + std::to_string(at) + " (the last) does not chain to event " + std::to_string(at - 1) +
                     ": one of them was altered");
    broken_link_.reset();
  }
  if (report_.events == 0) CheckSealedHeads(0, previous_hash_);
  // The newest sealing batch recorded its own event after the head it sealed.
  if (!sealed_heads_.empty() && sealed_heads_.rbegin()->first >= expected_sequence_) {
    const SealedHead& sealed = sealed_heads_.rbegin()->second;
    Fail(expected_sequence_, "the trail ends after " + std::to_string(expected_sequence_) + " events, but " +
                                 sealed.sealed_by + " sealed its first " + std::to_string(sealed.events) +
                                 " and recorded its own event after them: events were removed from the end");
  }
  report_.head = previous_hash_;
  return report_;
}

}  // namespace preserve::audit
