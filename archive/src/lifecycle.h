// A package's lifecycle record, in the store's `lifecycle` column family:
// its retention, the holds in force, and, once it is deleted, its tombstone.
// JSON: written on rare, human-scale events (ingest, a hold, a deletion) and
// read by people investigating one.
//
// A package without a lifecycle record is kept permanently: the safe default
// for packages ingested before retention was recorded, or without metadata.
// Private to archive/.
#pragma once

#include <optional>
#include <string_view>

#include "preserve/archive/lifecycle.h"
#include "preserve/audit/package_verification.h"
#include "preserve/storage/store.h"
#include "records.h"

namespace preserve::archive {

// kInvalidArgument unless permanent, or 1 to 1000 years.
Status CheckRetention(const Retention& retention);

// The day a package created at `created` may first be deleted: created plus
// `years` calendar years (29 February moves to 1 March). Unset: permanent.
std::optional<TimePoint> RetainUntil(TimePoint created, const Retention& retention);

// Writes the lifecycle record of a package being created (ingest calls this
// in the package's own write). kInvalidArgument for a retention
// CheckRetention refuses; nothing is written then.
Status PutInitialLifecycle(storage::WriteSet& w, std::string_view package_id, TimePoint created,
                           const Retention& retention);

// Asks the object store (when content is in one) to keep every object of
// `record` as `lifecycle` says: retained until its date, and under an S3
// legal hold while any hold is in force (storage::WriteSet::RetainContent,
// HoldContent). A later date an object already has (shared with another
// package) stays. S3 holds are lifted by LiftObjectHolds only.
void ProtectObjects(storage::WriteSet& w, const PackageRecord& record, const PackageLifecycle& lifecycle);
// Lifts the S3 legal hold of every object of `record` (its last hold was
// lifted). Even when another package sharing an object holds one: preserve's
// own checks (Lifecycle::Delete) still keep that package's content.
void LiftObjectHolds(storage::WriteSet& w, const PackageRecord& record);

Bytes EncodeLifecycle(const PackageLifecycle& lifecycle);
Result<PackageLifecycle> DecodeLifecycle(ByteView bytes);

// The lifecycle of `package_id`; permanent, no holds, when it has no record.
Result<PackageLifecycle> LoadLifecycle(const storage::Store& store, const std::string& package_id);

// A deleted package's data-object hashes under `alg`, in the record's order,
// as its tombstone kept them (for hash-tree renewal and verification).
Result<std::vector<Bytes>> TombstoneHashes(const storage::Store& store, const PackageRecord& record,
                                           HashAlgorithm alg);

// The error for asking a deleted package for its content:
// "package X was deleted at T (reason): <consequence>".
Status DeletedError(const storage::Store& store, const PackageRecord& record, std::string_view consequence);

// Verification of a deleted package: its evidence record `er` against the
// digests its tombstone kept, under `options` (TSA trust anchors, policy,
// clock). The report proves existence of data with those digests at the first
// archive time-stamp, and is INDETERMINATE at best: the content and its
// signatures can no longer be checked.
Result<audit::PackageReport> VerifyTombstone(const storage::Store& store, const PackageRecord& record,
                                             const timestamp::EvidenceRecord& er,
                                             const audit::PackageVerifyOptions& options);

}  // namespace preserve::archive
