// A package's life after ingest: new versions (each sealed on its own), its
// retention, holds, and deletion once retention has passed (a tombstone and
// the evidence stay).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "preserve/archive/archive.h"
#include "preserve/archive/ingestion.h"

namespace preserve::archive {

// One version of a package (Lifecycle::Versions).
struct VersionSummary {
  std::string unreadable;  // set when this version's records could not be read: why (`id` is set, little else)
  std::uint32_t version = 1;
  // What Verify, Export, Get and Contents take for this version: the
  // package's id for version 1, "ID.v0002" for version 2, and so on.
  std::string id;
  TimePoint created;
  PackageState state = PackageState::kQueued;
  std::vector<std::string> documents;  // paths under data/documents/
  std::string change;  // what it changed, from its manifest ("document added: documents/x.pdf"); "" for version 1
};

// What a new version of a package changes (Lifecycle::AddVersion): a signed
// document added, the record metadata replaced, or both.
struct VersionChange {
  std::optional<Submission> document;  // its own `metadata` is not used: `metadata` below is
  std::optional<std::filesystem::path> metadata;
};

// How long a package must be kept: the retention period of its record
// metadata (Decree 30/2020/ND-CP, "thời hạn bảo quản"), permanently or for a
// number of years from the package's creation.
struct Retention {
  bool permanent = true;
  int years = 0;  // when not permanent: 1 to 1000
};

// A hold (litigation, audit, inquiry): while any is in force the package may
// not be deleted, whatever its retention says.
struct Hold {
  std::uint32_t number = 0;  // per package, from 1, never reused
  std::string reason;
  std::string placed_by;
  TimePoint placed_at;
};

// What is kept, forever, of a deleted package: with the package's evidence
// record, the proof that data objects with these digests existed, and when,
// why and by whom they were deleted.
struct Tombstone {
  TimePoint deleted_at;
  std::string reason;
  std::string deleted_by;
  struct Object {
    std::string path;  // relative to data/
    std::uint64_t size = 0;
    // Under every hash algorithm preserve knows, computed from the content
    // before it was erased: hash-tree renewal of the evidence needs H'(data).
    std::map<HashAlgorithm, Bytes> digests;
  };
  std::vector<Object> objects;
};

struct PackageLifecycle {
  std::string package_id;
  std::string unreadable;  // Held() only: set when this record could not be read: why (the rest is empty)
  Retention retention;                    // permanent for a package without a lifecycle record
  std::optional<TimePoint> retain_until;  // unset: permanent
  std::vector<Hold> holds;                // in force
  std::uint32_t holds_placed = 0;         // hold numbers used so far
  std::optional<Tombstone> tombstone;     // set once deleted
};

struct DeletionOutcome {
  std::string package_id;
  TimePoint deleted_at;
  std::size_t objects = 0;  // data objects of the package
  std::size_t erased = 0;   // content blobs removed from the store
  std::size_t shared = 0;   // content kept because another package holds the same bytes
  std::uint64_t bytes_erased = 0;
};

class Lifecycle {
 public:
  // Works on `archive`, which must outlive it; as cheap to make as a pointer.
  explicit Lifecycle(Archive& archive);

  // ---- Versions ----

  // Makes version N+1 of a package from its latest version N: N's data
  // objects and manifest, with the change's document added (validated as an
  // ingest validates it, with its signatures and validation material; a
  // refusal stores nothing but its audit event) and/or its record metadata in
  // place of N's. The new version is stored as a package of its own
  // (VersionSummary::id), queued for sealing, so its evidence covers every
  // data object it holds; its manifest names version N and N's manifest's
  // SHA-256. Version N stays as it was, with its own evidence. The outcome's
  // package_id is the new version's id. A document of a path N holds with
  // other content, or a change that changes nothing, is refused like a
  // document at ingest (VERSION_CONFLICT, VERSION_UNCHANGED). kNotFound: no
  // such package; kInvalidArgument: no change, or `package_id` names a
  // version; kFailedPrecondition: the package is deleted.
  Result<IngestOutcome> AddVersion(const std::string& package_id, const VersionChange& change,
                                   const IngestOptions& options);
  // Every version of a package, oldest first; one that cannot be read has
  // VersionSummary::unreadable set. kNotFound: no such package.
  Result<std::vector<VersionSummary>> Versions(const std::string& package_id);
  // The id under which version `version` (0: the latest) of a package is stored.
  Result<std::string> VersionId(const std::string& package_id, std::uint32_t version);

  // ---- Retention, holds and deletion (archive/src/retention.cc) ----
  //
  // Each change is one atomic write with its audit event ("retention", "hold",
  // "release", "delete"); `reason` is required and `actor` names who asked. The
  // archive must be open for writing. Not to be called concurrently with
  // Ingest on the same Archive: Delete decides which content no other package
  // uses by a scan, and an ingest in between could come to rely on it.

  // A package's retention, holds and tombstone. kNotFound: no such package.
  Result<PackageLifecycle> Of(const std::string& package_id);
  // Every package with a hold in force, in id order (a scan of the lifecycle records).
  Result<std::vector<PackageLifecycle>> Held();
  // Replaces the retention (an appraisal decision, or corrected metadata).
  Status SetRetention(const std::string& package_id, const Retention& retention, const std::string& reason,
                      const std::string& actor);
  // Places a hold; returns it with its number.
  Result<Hold> AddHold(const std::string& package_id, const std::string& reason, const std::string& actor);
  // Lifts hold `number`, or with 0 the only hold in force (kInvalidArgument
  // when there are several); returns the hold lifted.
  Result<Hold> RemoveHold(const std::string& package_id, std::uint32_t number, const std::string& reason,
                          const std::string& actor);
  // Deletes a sealed package whose retention has passed (by the archive's
  // clock) and that has no hold; otherwise kFailedPrecondition naming the date
  // or the holds. Erases the content blobs no other package uses; keeps the
  // package record (state "deleted"), its evidence and its renewal schedule,
  // and writes its tombstone. Verify of a deleted package then reports what the
  // evidence still proves (existence of data with the tombstone's digests) and
  // is INDETERMINATE at best; Export and Get refuse, naming the deletion.
  // Cost: one scan of every package record (about 1 GB read at a million packages).
  Result<DeletionOutcome> Delete(const std::string& package_id, const std::string& reason, const std::string& actor);
  // Deletes an accidental duplicate: a sealed package every signed document of
  // which `duplicate_of`, another sealed package, holds too (the same bytes).
  // Its retention does not stop this (the records stay, in `duplicate_of`);
  // holds do. Otherwise as Delete; the audit event names `duplicate_of`, and a
  // resubmission of the documents is reported as a duplicate of it from then on.
  Result<DeletionOutcome> DeleteDuplicate(const std::string& package_id, const std::string& duplicate_of,
                                          const std::string& reason, const std::string& actor);

 private:
  Result<DeletionOutcome> DeleteSealed(const std::string& package_id, const std::string& duplicate_of,
                                       const std::string& reason, const std::string& actor);
  Status MayDeleteAsDuplicate(const std::string& package_id, const std::string& kept);
  Result<std::vector<Bytes>> SignedObjectsOf(const std::string& package_id);

  Archive::Impl* impl_;
};

}  // namespace preserve::archive
