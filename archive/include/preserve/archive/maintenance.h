// Maintenance: what keeps a store trustworthy over decades, apart from
// renewal: the audit trail read and verified, fixity (content re-hashed),
// consistency of the indexes, garbage collection, repair of rows that are not
// UTF-8, and backup and restore.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "preserve/archive/archive.h"
#include "preserve/audit/audit_trail.h"

namespace preserve::archive {

// One audit event as stored: the event's JSON and where it sits in the chain.
struct AuditLogEvent {
  std::uint64_t sequence = 0;
  // {"event": TYPE, "time": ..., fields...}. An event recorded before
  // preserve escaped bytes that are not UTF-8 may hold such bytes raw (a file
  // name): it is shown as EscapeInvalidUtf8 shows it (each such byte "%XX",
  // preserve/util/unicode.h), and `escaped` is set. The stored bytes are never
  // rewritten: the chain's hashes are over them.
  std::string json;
  bool escaped = false;
  Bytes hash;  // SHA-256 of the stored entry (previous hash || event): what the next entry chains to
};

struct FixityOptions {
  double sample = 1.0;  // fraction of packages to re-read, chosen at random (1: all)
};

// One package's fixity: every data object re-read and re-hashed, compared with
// the package record, the manifest and the first archive time-stamp's hash tree.
struct PackageFixity {
  std::string package_id;
  std::size_t objects = 0;
  struct Damage {
    std::string object;  // data object path ("documents/letter.txt"), or "evidence" / "record"
    std::string detail;
  };
  std::vector<Damage> damage;  // empty: OK
};

struct FixitySummary {
  std::size_t packages = 0;  // in the store
  std::size_t checked = 0;   // re-read (all of them, or the sample)
  std::size_t damaged = 0;
  std::size_t objects = 0;   // data objects re-hashed
};

// Internal consistency of the store's indexes (no hashing: that is fixity).
struct ConsistencyReport {
  std::size_t packages = 0;
  std::size_t sealed = 0;
  std::size_t queued = 0;
  std::size_t deleted = 0;  // tombstones
  std::size_t schedule_entries = 0;
  // Evidence subjects (packages and the trail's sealed heads) whose renewal
  // came too late: each is also a problem line.
  std::size_t lapsed = 0;
  std::vector<std::string> problems;  // one line each; empty: consistent
  // Content no package refers to: exactly what CollectGarbage would collect
  // (chunks of an ingest killed just before its commit, or left by refusals
  // in earlier versions). Harmless; not a problem.
  std::size_t garbage_objects = 0;
  std::uint64_t garbage_bytes = 0;
  // With content in an object store: objects there that no content row
  // refers to (an upload whose commit never happened: an ingest that failed
  // or was killed after it). Harmless; 'gc' deletes them where Object Lock
  // allows. (An object referred to but missing is a problem line.)
  std::size_t unreferenced_objects = 0;
  std::uint64_t unreferenced_object_bytes = 0;
  // Chunks of hash trees no batch names: committed before their batch by a
  // seal or renewal killed before the batch's own commit. Harmless; 'gc'
  // erases them.
  std::size_t unnamed_tree_chunks = 0;
  std::uint64_t unnamed_tree_bytes = 0;
};

// What CollectGarbage found and, unless it was a dry run, erased.
struct GarbageCollection {
  std::size_t values = 0;   // values of the content family no package refers to: objects, chunks, chunk lists
  std::uint64_t bytes = 0;  // their size
  bool erased = false;
  // With content in an object store: objects there no content row refers to
  // (ConsistencyReport::unreferenced_objects), deleted unless a dry run, and
  // those of them Object Lock still keeps (deleted by a later gc).
  std::size_t unreferenced_objects = 0;
  std::uint64_t unreferenced_object_bytes = 0;
  std::size_t objects_kept_by_lock = 0;
  // Chunks of hash trees no batch names (ConsistencyReport::unnamed_tree_chunks), erased unless a dry run.
  std::size_t tree_chunks = 0;
  std::uint64_t tree_bytes = 0;
};

// One row Repair rewrote (or, in a dry run, would).
struct RepairedRow {
  std::string row;        // "package ID", "lifecycle record of package ID", "trust list entry SHA256"
  Bytes original_sha256;  // of the bytes as they were
  std::string kept_as;    // the store setting that keeps those bytes ("repair/original/packages/ID")
};

struct RepairOutcome {
  std::vector<RepairedRow> repaired;
  // Rows that are not UTF-8 and would not read even once escaped (damaged
  // beyond their names): what, and why. Left as they are.
  std::vector<std::string> unrepairable;
};

// What Compact did: the database's size on disk before and after.
struct CompactionOutcome {
  std::uint64_t bytes_before = 0;
  std::uint64_t bytes_after = 0;
};

struct BackupOutcome {
  std::filesystem::path destination;
  std::uint64_t audit_events = 0;  // events in the backed-up trail
  Bytes audit_head;                // the backed-up trail's head hash
  std::size_t files = 0;
  std::uint64_t bytes = 0;
};

// One request to the service (`preserve serve`), as the access trail keeps it.
struct AccessEvent {
  std::string account;     // who; "" when the request carried no valid credentials
  std::string operation;   // "PreservePO", "RetrievePO"...
  std::string package_id;  // the package it named, if any
  std::string outcome;     // "Success", "RequesterError noPermission"...
  std::string remote;      // the client's address
};

class Maintenance {
 public:
  // Works on `archive`, which must outlive it; as cheap to make as a pointer.
  explicit Maintenance(Archive& archive);

  // Audit events from `first_sequence` on, in order; stops when `visit` returns false.
  // With `unreadable`, a stretch of the trail that cannot be read (a damaged
  // block) is named to it, and the scan goes on past it; without, it fails.
  Status ScanAuditLog(std::uint64_t first_sequence, const std::function<bool(const AuditLogEvent&)>& visit,
                      const std::function<void(const std::string&)>& unreadable = {});
  // Records each event as an "access" audit event, all in one atomic write:
  // the service groups the requests answered at about the same time, so the
  // trail costs one synced write per group, not per request. Archive open for writing.
  Status RecordAccess(const std::vector<AccessEvent>& events);

  // Walks the audit chain from its start (see audit/audit_trail.h).
  Result<audit::AuditTrailReport> VerifyAuditLog();

  // Re-reads and re-hashes the data objects of every package (or a random
  // sample), calling `each` per package checked, then, on an archive open for
  // writing, records a "fixity" audit event with the counts (a read-only one,
  // on read-only media or beside a writer, cannot: the caller says so).
  // Damage, a record or a stretch of records that cannot be read included,
  // is reported, not returned as an error; errors are for a store that cannot
  // be read at all.
  Result<FixitySummary> Fixity(const FixityOptions& options, const std::function<void(const PackageFixity&)>& each);

  // Checks that records, evidence, batches, the seal queue and the renewal
  // schedule agree with each other (content presence, not content hashes).
  // What cannot be read (damage) is a problem, and the check goes on.
  Result<ConsistencyReport> Check();

  // Finds the content no package record refers to (garbage.h: what Check
  // counts as garbage) and, unless `dry_run`, erases it in one atomic write
  // with a "gc" audit event (none when there is nothing to erase), then
  // compacts the content family to give the space back. Erases nothing while
  // any package record, or chunk list, cannot be read (kFailedPrecondition).
  // Must not run concurrently with Ingest on the same Archive (it could erase
  // what an ingest is about to refer to); other processes are kept out by
  // the writer lock. A dry run works on a read-only archive.
  Result<GarbageCollection> CollectGarbage(bool dry_run);

  // Compacts the whole database (storage::Store::Compact): every table in the
  // current format, overwritten values dropped. Worth running once after an
  // upgrade from a version whose tables keep whole index and filter blocks
  // (reads of a large store then reload them from disk), and to give back
  // the space of superseded evidence after renewals. Records a "compact"
  // audit event with the sizes. Archive open for writing.
  Result<CompactionOutcome> Compact();

  // Rewrites the package records, lifecycle records and trust list entries
  // that hold bytes that are not UTF-8 (a raw file name: JSON must be UTF-8)
  // as every reader already reads them: each such byte "%XX" (preserve/util/
  // unicode.h). Keeps each original, byte for byte, in a setting
  // (RepairedRow::kept_as), and records one "repair" audit event naming every
  // row and its original's SHA-256, all in one atomic write. Never rewrites
  // sealed data (manifests) or the audit trail, which readers go on decoding
  // leniently. A dry run changes nothing and works read-only.
  Result<RepairOutcome> Repair(bool dry_run);

  // Writes a consistent, self-contained copy of the store to `destination`
  // (which must not exist, or be an empty directory): db/ through a RocksDB
  // checkpoint with every file copied (never hard-linked to the live store),
  // tsa/, policy.json, config.json, and backup.json listing each file's
  // SHA-256. Runs on a read-only archive beside a writer; on a writable one it
  // also records a "backup" audit event.
  Result<BackupOutcome> Backup(const std::filesystem::path& destination);
  // Makes a new store at `root` from a backup after checking every file
  // against backup.json. Refuses when `root` exists and is not empty.
  static Result<BackupOutcome> Restore(const std::filesystem::path& backup, const std::filesystem::path& root,
                                       const Clock& clock);

 private:
  Archive::Impl* impl_;
};

}  // namespace preserve::archive
