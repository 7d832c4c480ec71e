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
// What a chain cannot show by itself: removing or rewriting events at the end
// (the trail then ends earlier, or ends in a different head). Compare the head
// with one recorded elsewhere (sealed in a time-stamp batch, kept in a backup
// manifest) to cover the tail.
//
// Not thread-safe; one verifier per walk. Memory is constant in the trail's length.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "preserve/util/bytes.h"
#include "preserve/util/verdict.h"

namespace preserve::audit {

struct AuditTrailReport {
  Verdict verdict = Verdict::kValid;  // kValid or kInvalid
  std::uint64_t events = 0;           // entries walked
  std::optional<std::uint64_t> first_bad_sequence;
  std::string reason;  // why, when INVALID
  Bytes head;          // SHA-256 of the last entry's stored value, as found (32 zeros when empty)
};

class AuditTrailVerifier {
 public:
  AuditTrailVerifier();

  // The next entry in key order: its sequence number and its stored value.
  void Add(std::uint64_t sequence, ByteView stored_value);
  // The store could not hand over the next entry (unreadable, malformed):
  // everything from the expected sequence number on is unproven.
  void Unreadable(const std::string& why);
  AuditTrailReport Finish();

 private:
  void Fail(std::uint64_t sequence, std::string reason);

  AuditTrailReport report_;
  std::uint64_t expected_sequence_ = 0;
  Bytes previous_hash_;                       // hash of the last stored value seen
  std::optional<std::uint64_t> broken_link_;  // a broken link awaiting the look-ahead
};

}  // namespace preserve::audit
