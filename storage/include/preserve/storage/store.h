// The archive's RocksDB store.
//
// One database, one column family per kind of record:
//   content   digest (SHA-256, 32 bytes)        -> bytes of a data object (large ones in blob files)
//   packages  package id                        -> package record (opaque to the store)
//   evidence  package id                        -> evidence skeleton (opaque)
//   batches   batch id                          -> batch record: the batch's token, stored once (opaque)
//   trees     batch id + level (4 bytes BE) + chunk (4 bytes BE) -> a run of the batch's hash-tree nodes (opaque)
//   queue     package id                        -> "" : packages waiting to be sealed
//   schedule  due time (8 bytes BE) + package id -> "" : renewal schedule, for range scans
//   audit     sequence (8 bytes BE)             -> previous entry's SHA-256 (32 bytes) + event bytes
//   lifecycle package id                        -> retention, holds, deletion tombstone (opaque)
//
// Every logical change is one WriteSet committed as one synced RocksDB
// WriteBatch: after Commit returns OK the change survives a crash; before, it
// is absent as a whole. The store knows nothing of crypto policy: records are
// opaque bytes, and the only hash it computes is the audit trail's chaining.
//
// Destroying a writable Store flushes RocksDB's memtables, so that the next
// open does not replay a large log.
//
// Thread-safety: a Store may be used from several threads. Only one process
// may open a store for writing (the second gets kBusy naming the holder);
// read-only opens run alongside.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"

namespace preserve::storage {

struct StoreOptions {
  bool create_if_missing = false;  // make a new, empty store at the path
  bool read_only = false;          // no writes; does not take the writer lock
};

// One logical change. Collects operations; nothing happens until Store::Commit.
class WriteSet {
 public:
  void PutContent(ByteView digest, ByteView data);
  // Removes a content blob (a lawful deletion; the caller makes sure no other package refers to it).
  void EraseContent(ByteView digest);
  void PutLifecycle(std::string_view id, ByteView record);
  void PutPackage(std::string_view id, ByteView record);
  void PutEvidence(std::string_view id, ByteView evidence);
  void PutBatch(std::string_view batch_id, ByteView record);
  // One chunk of a batch's hash tree: the nodes of `level` from chunk * (chunk size) on, as the caller cuts them.
  void PutTreeNodes(std::string_view batch_id, std::uint32_t level, std::uint32_t chunk, ByteView nodes);
  void Enqueue(std::string_view package_id);
  void Dequeue(std::string_view package_id);
  void Schedule(TimePoint due, std::string_view package_id);
  void Unschedule(TimePoint due, std::string_view package_id);
  // A named value of the store's own (in RocksDB's default column family):
  // state that must change in the same commit as the records it describes.
  void PutSetting(std::string_view name, ByteView value);
  // Appends an event to the audit trail, chained to the previous one at commit.
  void AppendAudit(ByteView event);

  bool empty() const { return ops_.empty() && audit_events_.empty(); }

  // What the store applies at commit. Keys and values live in one buffer, so a
  // batch of millions of operations costs no allocation per operation.
  enum class Family { kContent, kPackages, kEvidence, kBatches, kTrees, kQueue, kSchedule, kLifecycle, kSettings };
  struct Op {
    Family family;
    bool erase;
    std::string_view key;
    std::string_view value;
  };
  std::size_t size() const { return ops_.size(); }
  std::size_t bytes() const { return buffer_.size(); }
  Op op(std::size_t i) const;
  const std::vector<std::string>& audit_events() const { return audit_events_; }

 private:
  struct Entry {
    Family family;
    bool erase;
    std::size_t key_offset;
    std::size_t key_size;
    std::size_t value_size;  // the value follows the key in buffer_
  };
  void Add(Family family, bool erase, std::string_view key_part1, std::string_view key_part2, ByteView value);

  std::string buffer_;
  std::vector<Entry> ops_;
  std::vector<std::string> audit_events_;
};

struct AuditEntry {
  std::uint64_t sequence = 0;
  Bytes previous_hash;  // SHA-256 of the previous entry's stored value (zeros for the first)
  Bytes event;
  Bytes hash;           // SHA-256 of this entry's stored value (previous_hash || event)
};

struct ScheduleEntry {
  TimePoint due;
  std::string package_id;
};

// Where the audit chain ends: the next event chains to `hash`.
struct AuditChainHead {
  std::uint64_t events = 0;  // entries in the trail (the next sequence number)
  Bytes hash;                // SHA-256 of the last entry's stored value; 32 zeros when the trail is empty
};

class Store {
 public:
  // Opens (or, with create_if_missing, creates) the store in directory `dir`.
  // Fails with kNotFound when there is no store there, kBusy when another
  // process writes it, kCorruption when RocksDB finds damage.
  static Result<std::unique_ptr<Store>> Open(const std::filesystem::path& dir, const StoreOptions& options);
  virtual ~Store() = default;

  // Applies `writes` atomically, synced to disk. kFailedPrecondition when read-only.
  virtual Status Commit(WriteSet writes) = 0;

  virtual Result<Bytes> GetContent(ByteView digest) const = 0;
  virtual Result<bool> HasContent(ByteView digest) const = 0;
  virtual Result<Bytes> GetPackage(std::string_view id) const = 0;
  virtual Result<Bytes> GetEvidence(std::string_view id) const = 0;
  virtual Result<Bytes> GetBatch(std::string_view batch_id) const = 0;
  // A chunk written by WriteSet::PutTreeNodes; kNotFound when there is none.
  virtual Result<Bytes> GetTreeNodes(std::string_view batch_id, std::uint32_t level, std::uint32_t chunk) const = 0;
  // A setting written with WriteSet::PutSetting; kNotFound when never written.
  virtual Result<Bytes> GetSetting(std::string_view name) const = 0;
  // A package's lifecycle record (retention, holds, tombstone); kNotFound when it has none.
  virtual Result<Bytes> GetLifecycle(std::string_view id) const = 0;
  // Every lifecycle record in id order; stops early when `visit` returns false.
  virtual Status ScanLifecycle(const std::function<bool(std::string_view id, ByteView record)>& visit) const = 0;

  // Up to `limit` queued package ids, oldest first (ids are time-ordered).
  virtual Result<std::vector<std::string>> ListQueued(std::size_t limit) const = 0;
  // Packages in id order, starting after `after` ("" for the first page).
  virtual Result<std::vector<std::pair<std::string, Bytes>>> ListPackages(std::string_view after,
                                                                           std::size_t limit) const = 0;
  // Schedule entries due at or before `until`, earliest first.
  virtual Result<std::vector<ScheduleEntry>> ScheduledBefore(TimePoint until, std::size_t limit) const = 0;
  // Every audit entry from `first_sequence` on, in order; stops early when `visit` returns false.
  virtual Status ScanAudit(std::uint64_t first_sequence,
                           const std::function<bool(const AuditEntry&)>& visit) const = 0;

  // ---- Maintenance: consistency checks, backup, the audit chain's head ----
  // (used by archive/src/maintenance.cc; sealing may seal AuditHead().hash)

  // Every schedule entry, earliest first; stops early when `visit` returns false.
  virtual Status ScanSchedule(const std::function<bool(const ScheduleEntry&)>& visit) const = 0;
  // The package id of every evidence entry, in id order; stops early when `visit` returns false.
  virtual Status ScanEvidenceIds(const std::function<bool(std::string_view)>& visit) const = 0;
  // The head of the audit trail as committed (for a read-only store: as of its open).
  virtual Result<AuditChainHead> AuditHead() const = 0;
  // Writes a consistent copy of the database into `dest` (which must not
  // exist) through a RocksDB checkpoint: immutable files are hard-linked when
  // `dest` is on the same file system, the rest copied. Works on a read-only
  // store while another process writes; it may then fail with kNotFound or
  // kIOError when the writer removed a file meanwhile (retry with a fresh open).
  virtual Status Checkpoint(const std::filesystem::path& dest) const = 0;
};

}  // namespace preserve::storage
