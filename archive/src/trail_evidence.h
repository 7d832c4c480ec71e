// The audit trail's own evidence. Private to archive/.
//
// Every seal and renewal batch seals the trail's head (BatchRecord::
// audit_head) as one more data object of its tree. Each sealed head is then an
// evidence subject of its own, beside the packages: its skeleton sits in the
// evidence family under HeadSubjectId(batch id), it has its entry in the
// renewal schedule, and renewal (timestamp and hash-tree) keeps it alive with
// the packages. So "the trail held these events at that time" stays provable
// after every certificate and algorithm its first time-stamp relied on has
// ended, as a package's existence does.
//
// A head names the value of the trail's SHA-256 chain (its links), which ties
// it to the events only while SHA-256 is strong. Before SHA-256 ends, renewal
// anchors the trail under a stronger hash (AnchorTrailIfDue): from then on
// every head also names the chain of the events under that hash, taken over
// the whole trail from its first event and kept current in the store
// (TrailAnchor), so a head sealed before SHA-256's end fixes every event up
// to it under a hash that still holds. The same happens again whenever the
// anchor's own hash nears its end.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "preserve/storage/store.h"
#include "records.h"

namespace preserve::archive {

// "audit-head:" + the batch id: never a package id (those are UUIDs and their versions).
inline constexpr std::string_view kHeadSubjectPrefix = "audit-head:";
inline bool IsHeadSubject(std::string_view id) { return id.substr(0, kHeadSubjectPrefix.size()) == kHeadSubjectPrefix; }
inline std::string HeadSubjectId(std::string_view batch_id) { return std::string(kHeadSubjectPrefix) + std::string(batch_id); }
inline std::string_view HeadBatchId(std::string_view subject) { return subject.substr(kHeadSubjectPrefix.size()); }

// The chain of the trail's events under `alg`: c(0) = zeros of the digest's
// size, c(n + 1) = H(c(n) || event n). Under SHA-256 it is the trail's own
// links (storage/store.h), so the head hash stored there is c(events).
struct TrailAnchor {
  HashAlgorithm algorithm = HashAlgorithm::kSha512;
  std::uint64_t events = 0;  // c(events) is `value`
  Bytes value;
};

// The anchor in force, if the trail was ever anchored.
Result<std::optional<TrailAnchor>> LoadTrailAnchor(const storage::Store& store);
// Puts `anchor` in `w` as the anchor in force.
void PutTrailAnchor(storage::WriteSet& w, const TrailAnchor& anchor);
// Carries `anchor` forward over the trail's events from anchor.events to `events`.
Status ExtendTrailAnchor(const storage::Store& store, TrailAnchor& anchor, std::uint64_t events);

// The evidence a head's seal gave it: one ATS, in the batch that sealed it.
EvidenceSkeleton FirstHeadSkeleton(const BatchRecord& batch, TimePoint next_renewal);

}  // namespace preserve::archive
