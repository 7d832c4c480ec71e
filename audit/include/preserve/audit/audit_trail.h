// Verifying the archive's audit trail: a hash chain in which every entry is
// stored as previous-entry-hash (SHA-256, 32 bytes) || event, and the first
// entry's previous hash is 32 zero bytes.
//
// The verifier walks the entries in sequence order and names the first one
// that can no longer be trusted: a missing sequence number (a deleted event),
// or a broken link. A broken link alone does not say which side was changed,
// so the verifier looks one link further: when the entry after the break still
// chains to the entry at the break, that entry is original and the one before
// it was altered; otherwise the entry at the break was replaced, moved or had
// its link altered.
//
// What a chain cannot show by itself: a trail edited and then re-chained from
// the edit on, or cut short at the end. Heads recorded elsewhere cover that:
// the archive seals the trail's head in every time-stamp batch, and hands
// those heads in (ExpectSealedHead) before the walk. The trail must pass
// through each, and go on past it (the sealing batch's own event follows).
//
// Not thread-safe; one verifier per walk. Memory is constant in the trail's length.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "preserve/util/bytes.h"
#include "preserve/util/verdict.h"

namespace preserve::audit {

// A head of the trail recorded outside it, by someone who could not have
// forged it later (a time-stamp).
struct SealedHead {
  std::uint64_t events = 0;  // entries the trail had then
  Bytes hash;                // the last one's hash then (32 zeros when none)
  std::string sealed_by;     // who says so, for reasons: "batch 01J... (time-stamped 2026-11-27T10:00:00Z)"
};

struct AuditTrailReport {
  // kValid or kInvalid from the walk; the archive makes it kIndeterminate (or
  // kInvalid) when a sealed head's own time-stamp does not verify.
  Verdict verdict = Verdict::kValid;
  std::uint64_t events = 0;  // entries walked
  std::optional<std::uint64_t> first_bad_sequence;
  std::string reason;  // why, when not VALID
  Bytes head;          // SHA-256 of the last entry's stored value, as found (32 zeros when empty)
  std::size_t sealed_heads = 0;               // heads handed in and found on the trail
  std::optional<SealedHead> last_sealed_head;  // the one covering the most events
};

class AuditTrailVerifier {
 public:
  AuditTrailVerifier();

  // Before the first Add: a head the walk must pass through.
  void ExpectSealedHead(SealedHead head);

  // The next entry in key order: its sequence number and its stored value.
  void Add(std::uint64_t sequence, ByteView stored_value);
  // The store could not hand over the next entry (unreadable, malformed):
  // everything from the expected sequence number on is unproven.
  void Unreadable(const std::string& why);
  AuditTrailReport Finish();

 private:
  void Fail(std::uint64_t sequence, std::string reason);
  void CheckSealedHeads(std::uint64_t events, const Bytes& hash);

  AuditTrailReport report_;
  std::uint64_t expected_sequence_ = 0;
  Bytes previous_hash_;                       // hash of the last stored value seen
  std::optional<std::uint64_t> broken_link_;  // a broken link awaiting the look-ahead
  std::multimap<std::uint64_t, SealedHead> sealed_heads_;  // by events
};

}  // namespace preserve::audit
