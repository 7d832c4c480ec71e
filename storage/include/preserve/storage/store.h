// The archive's RocksDB store.
//
// One database, one column family per kind of record:
//   content   digest (SHA-256, 32 bytes)        -> bytes of a data object, or of one chunk of a large one
//             digest + 0x01 (33 bytes)           -> chunk list of a large data object (see ContentWriter)
//             (values of 64 KiB and more live in blob files)
//   packages  package id                        -> package record (opaque to the store)
//   evidence  package id                        -> evidence skeleton (opaque)
//   batches   batch id                          -> batch record: the batch's token, stored once (opaque)
//   trees     batch id + level (4 bytes BE) + chunk (4 bytes BE) -> a run of the batch's hash-tree nodes (opaque)
//   queue     package id                        -> what sealing needs of the package (opaque; may be empty)
//   schedule  due time (8 bytes BE) + package id -> "" : renewal schedule, for range scans
//   audit     sequence (8 bytes BE)             -> previous entry's SHA-256 (32 bytes) + event bytes
//   lifecycle package id                        -> retention, holds, deletion tombstone (opaque)
//   submissions submission key (32 bytes)       -> package id: which package holds a signed object
//             (the key is the archive's: see archive/ingestion.h), so a resubmission is found with one read
//   index     key (opaque)                      -> value (opaque): the archive's search index
//             (archive/src/search_index.h), written in the same commits as the records it indexes
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

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "preserve/storage/object_store.h"
#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"

namespace preserve::storage {

// A data object's SHA-256: its name in the store. Fixed-size, so that a run
// over millions of objects holds their names in one flat array.
using ContentDigest = std::array<std::uint8_t, 32>;

// Data objects larger than this are stored as chunks of this size. 4 MiB: a
// 1 GB file is 256 chunks (a chunk list of 8 KiB, per-chunk overhead nil),
// while a reader or writer holds one chunk at a time, and the usual document
// (well under 4 MiB) stays one value, read with one lookup.
inline constexpr std::size_t kDefaultContentChunkSize = 4u << 20;
inline constexpr std::size_t kDefaultBlockCacheBytes = 64u << 20;

struct StoreOptions {
  bool create_if_missing = false;  // make a new, empty store at the path
  bool read_only = false;          // no writes; does not take the writer lock
  // Objects above it are chunked (see ContentWriter); tests use small sizes.
  // Readers accept either form whatever the size: it only steers new writes.
  std::size_t content_chunk_size = kDefaultContentChunkSize;
  // RocksDB's block cache, which holds the tables' index and filter blocks as
  // well as their data blocks: what reading costs in memory, whatever the
  // number of packages (see OpenDb in store.cc).
  std::size_t block_cache_bytes = kDefaultBlockCacheBytes;
  // Who holds the store for writing, in words, for a holder that keeps it
  // (the service: "preserve serve, listening on https://127.0.0.1:8443"). A
  // second writer's kBusy names it, and says to stop it or use its API rather
  // than to try again; without one, it names only the pid.
  std::string holder{};
  // Where content lives: null, in the database (the embedded default); else
  // in this object store, the database holding a reference row per object
  // (see "Content in an object store" below). A store made with one is marked
  // so in the database: opened without one later, its other records read as
  // usual and every content read fails with kFailedPrecondition (a backup's
  // checkpoint, for one, needs no content). A store whose content is in the
  // database cannot be opened with one (kFailedPrecondition).
  std::shared_ptr<ObjectStore> object_store{};
};

// Content in an object store. The content family then holds, per object, a
// reference row (digest -> its size), and the bytes are in the object store
// under the digest. Every upload happens before the commit that refers to
// it: WriteSet::PutContent's bytes are uploaded by Store::Commit before its
// RocksDB write, a ContentWriter's by Put. A change is acknowledged only once
// its objects are durable in the object store and its rows committed; a
// process killed between the two leaves an object no row refers to, which
// 'check' reports (ObjectStore::List against ScanContent) and 'gc' removes
// where Object Lock allows. An erased object (EraseContent) is deleted from
// the object store before the commit: a deletion the object store refuses
// fails the commit, so the catalogue never claims gone what is still there.
// Retention (RetainContent) and legal holds (HoldContent) are applied to the
// objects before the commit, too; with content in the database they do
// nothing. Chunk lists are never made: an object is one object-store object
// (uploaded in parts when large). Its ContentWriter holds a large object in
// an unnamed temporary file beside the database (O_TMPFILE: it vanishes with
// the writer or the process) until Put uploads it.

class WriteSet;

// Writes one data object of any size, streamed: a large object never sits in
// memory, and its bytes are read once and written once. Append hashes the
// bytes; an object up to one chunk (StoreOptions::content_chunk_size) waits
// in memory, a larger one is cut into chunks of that size as its bytes come,
// each written into the store at once under its own SHA-256 (a chunk already
// present is not written again). Finish says what the object is. Put then
// puts it into a WriteSet: a small object's bytes; for a larger one, it makes
// the chunks durable and puts the chunk list under the object's SHA-256. The
// object exists once that WriteSet is committed.
//
// A writer dropped before Put (a refused document) erases the chunks it
// wrote, except any that someone else found meanwhile (another writer, a
// HasContent, a commit holding the same bytes): those may be referred to
// from then on. A process killed before its commit leaves the chunks it
// wrote that had reached the disk, which no package refers to: 'check'
// reports them and 'gc' collects them (Store::ScanContent).
//
// Durability: chunks bypass RocksDB's write-ahead log (through it, each byte
// would be written and checksummed twice: log, then blob file). Put flushes
// the content family, which syncs the blob and table files holding them and
// records them in the MANIFEST, so they are durable before the synced commit
// that refers to them. A chunk skipped as present may be another writer's,
// not yet flushed: Store::Commit flushes first whenever an unlogged write is
// not yet durable. (Logged instead, they would be made durable by that commit
// too: a synced write syncs every earlier record of the log, RocksDB syncing
// each live log file in turn; the flush is chosen for the halved writes.)
class ContentWriter {
 public:
  virtual ~ContentWriter() = default;
  virtual Status Append(ByteView data) = 0;
  struct Object {
    Bytes sha256;
    std::uint64_t size = 0;
  };
  // Ends the object: Append may not be called afterwards.
  virtual Result<Object> Finish() = 0;
  // After Finish: adds the object to `w`; for a large one, makes its chunks
  // durable first (see above). Called at most once. Once it has been called
  // the chunks stay, garbage for 'gc' if `w` is never committed.
  virtual Status Put(WriteSet& w) = 0;

 protected:
  // For implementations: the chunk-list entry of an object, which WriteSet keeps private.
  static void PutChunkList(WriteSet& w, ByteView digest, ByteView list);
  // For the object-store writer: the reference row of an object it has uploaded.
  static void PutObjectReference(WriteSet& w, ByteView digest, std::uint64_t size);
};

// One logical change. Collects operations; nothing happens until Store::Commit.
class WriteSet {
 public:
  // An object (or chunk) stored whole; larger ones go through a ContentWriter.
  void PutContent(ByteView digest, ByteView data);
  // Removes an object stored whole, a chunk, or a chunk list (a lawful
  // deletion; the caller makes sure no other package refers to it, and erases
  // the chunks of a list that nothing else uses: Store::ContentChunks).
  void EraseContent(ByteView digest);
  // Removes one value of the content family as Store::ScanContent names it:
  // the object or chunk stored whole under `digest`, or (`chunk_list`) the
  // chunk list under it. For garbage collection, which judges each key alone.
  void EraseContentValue(ByteView digest, bool chunk_list);
  // With content in an object store: the object is to be kept at least until
  // `until` (nullopt: permanently, which S3 has no word for: to the end of
  // 2105, the latest date Ceph 16 keeps, as is any later date), applied under
  // the store's lock mode before the commit; an
  // object uploaded by this very commit is uploaded with it. A later date
  // already set stays. Nothing with content in the database.
  void RetainContent(ByteView digest, std::optional<TimePoint> until);
  // Likewise: places (on) or lifts an S3 legal hold on the object.
  void HoldContent(ByteView digest, bool on);
  void PutLifecycle(std::string_view id, ByteView record);
  void PutSubmission(ByteView key, std::string_view package_id);
  void EraseSubmission(ByteView key);
  void PutPackage(std::string_view id, ByteView record);
  // An entry of the search index (keys and values are the archive's).
  void PutIndex(std::string_view key, ByteView value = {});
  void EraseIndex(std::string_view key);
  void PutEvidence(std::string_view id, ByteView evidence);
  void PutBatch(std::string_view batch_id, ByteView record);
  // One chunk of a batch's hash tree: the nodes of `level` from chunk * (chunk size) on, as the caller cuts them.
  void PutTreeNodes(std::string_view batch_id, std::uint32_t level, std::uint32_t chunk, ByteView nodes);
  void EraseTreeNodes(std::string_view batch_id, std::uint32_t level, std::uint32_t chunk);
  // Queues a package for sealing. `entry` is what sealing needs of it, so that
  // a batch of a million need not read a million package records (opaque to
  // the store; empty: sealing reads the record).
  void Enqueue(std::string_view package_id, ByteView entry = {});
  void Dequeue(std::string_view package_id);
  // Schedules a package's renewal. `newest_batch` is the batch of its
  // evidence's newest time-stamp (opaque to the store), so that finding
  // what is due, and under which hash, reads no evidence.
  void Schedule(TimePoint due, std::string_view package_id, std::string_view newest_batch);
  void Unschedule(TimePoint due, std::string_view package_id);
  // A named value of the store's own (in RocksDB's default column family):
  // state that must change in the same commit as the records it describes.
  void PutSetting(std::string_view name, ByteView value);
  void EraseSetting(std::string_view name);
  // Appends an event to the audit trail, chained to the previous one at commit.
  void AppendAudit(ByteView event);
  // The same, with index entries the store writes beside it: each under its
  // key prefix followed by the event's sequence (8 bytes, big-endian), which
  // only the commit knows. The index can so find events in an order of its
  // own (by time, by signed object) and still tell their order in the trail.
  struct AuditIndexEntry {
    std::string key_prefix;
    std::string value;
  };
  void AppendAudit(ByteView event, std::vector<AuditIndexEntry> index);

  bool empty() const { return ops_.empty() && audit_events_.empty() && retentions_.empty() && holds_.empty(); }
  // Room for `ops` operations of `bytes` keys and values in all: a batch of
  // millions then grows its buffer once, without copying it over and over
  // (and holding two copies at once) as it doubles.
  void Reserve(std::size_t ops, std::size_t bytes);

  // What the store applies at commit. Keys and values live in one buffer, so a
  // batch of millions of operations costs no allocation per operation.
  enum class Family {
    kContent, kPackages, kEvidence, kBatches, kTrees, kQueue, kSchedule, kLifecycle, kSubmissions, kIndex, kSettings,
    kContentReference  // a reference row in the content family, for an object already in the object store
  };
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
  // Per event, its index entries (AppendAudit).
  const std::vector<std::vector<AuditIndexEntry>>& audit_index() const { return audit_index_; }
  const std::vector<std::pair<Bytes, std::optional<TimePoint>>>& retentions() const { return retentions_; }
  const std::vector<std::pair<Bytes, bool>>& holds() const { return holds_; }

 private:
  struct Entry {
    Family family;
    bool erase;
    std::size_t key_offset;
    std::size_t key_size;
    std::size_t value_size;  // the value follows the key in buffer_
  };
  void Add(Family family, bool erase, std::string_view key_part1, std::string_view key_part2, ByteView value);

  friend class ContentWriter;

  std::string buffer_;
  std::vector<Entry> ops_;
  std::vector<std::string> audit_events_;
  std::vector<std::vector<AuditIndexEntry>> audit_index_;
  std::vector<std::pair<Bytes, std::optional<TimePoint>>> retentions_;
  std::vector<std::pair<Bytes, bool>> holds_;
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
  std::string newest_batch;  // as scheduled (WriteSet::Schedule); empty in entries written before it was kept
};

// A stretch of a column family that a scan could not read (a damaged block,
// or a table or blob file that cannot be read at all) and skipped: the keys
// after `after` and before `resumed_at`. Keys of undamaged files that sort
// in that stretch are skipped too (a scan reads all files in key order); a
// point read reaches them.
struct ScanGap {
  std::string after;       // the last key read before it; "" when the damage came first
  std::string resumed_at;  // where reading went on; "" when nothing after it could be read
  Status error;            // what the read said (kCorruption)
};
// Scans that take one report each gap to it and go on past the damage;
// without one they fail at the damage with kCorruption.
using ScanGapSink = std::function<void(const ScanGap&)>;

// Reads the index family in key order, seeking as a join over sorted lists
// needs. Not thread-safe; it sees the store as of its making (no commit after
// that). status() tells, once Valid() is false, whether the end was reached
// (OK) or a read failed.
class IndexCursor {
 public:
  virtual ~IndexCursor() = default;
  virtual void Seek(std::string_view key) = 0;  // to the first key at or after `key`
  virtual void Next() = 0;                      // only while Valid()
  virtual bool Valid() const = 0;
  virtual std::string_view key() const = 0;     // only while Valid(); until the next move
  virtual ByteView value() const = 0;           // likewise
  virtual Status status() const = 0;
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

  // An object's bytes, in memory: for objects known to be small. Large ones
  // are read with ReadContent.
  virtual Result<Bytes> GetContent(ByteView digest) const = 0;
  virtual Result<bool> HasContent(ByteView digest) const = 0;
  // Streams an object's bytes to `sink` in order, one chunk (or the whole
  // small object) at a time; stops at the first error `sink` returns.
  // kNotFound when the object is absent; kCorruption, naming it, when a chunk
  // of its list is missing or the list is malformed. The bytes are not
  // re-hashed here: callers that must know check the object's SHA-256.
  virtual Status ReadContent(ByteView digest, const std::function<Status(ByteView)>& sink) const = 0;
  // ReadContent for many objects: each of `digests`, which must be in
  // ascending order, streamed to `sink` with its index in `digests`. One
  // cursor walks the keys in order, so a run over many objects (a hash-tree
  // renewal re-hashes every one) reads each block once, and ahead, where a
  // ReadContent per object would read and decompress a block per object. An
  // object that is absent or whose chunks are not all there goes to
  // `unreadable` (index, and the status ReadContent would give) and the
  // others are still read; an error of the store, `sink` or `unreadable`
  // stops the run and is returned.
  virtual Status ReadContents(std::span<const ContentDigest> digests,
                              const std::function<Status(std::size_t index, ByteView piece)>& sink,
                              const std::function<Status(std::size_t index, Status why)>& unreadable) const = 0;
  // The chunks of an object stored as a chunk list, in order; empty when it
  // is not (stored whole, or absent: HasContent tells). One small read.
  virtual Result<std::vector<Bytes>> ContentChunks(ByteView digest) const = 0;
  // Starts writing an object (kFailedPrecondition when read-only). The
  // writer must be dropped before the store: dropping it may erase chunks.
  virtual Result<std::unique_ptr<ContentWriter>> NewContentWriter() = 0;
  // Every key of the content family: each object or chunk stored whole
  // (chunk_list false) and each chunk list, with its value's size; stops early
  // when `visit` returns false. Reads every value (blob values included).
  // Content no package refers to is found this way ('check', 'gc').
  virtual Status ScanContent(const std::function<bool(ByteView digest, bool chunk_list, std::uint64_t size)>& visit,
                             const ScanGapSink* gaps = nullptr) const = 0;
  virtual Result<Bytes> GetPackage(std::string_view id) const = 0;
  virtual Result<Bytes> GetEvidence(std::string_view id) const = 0;
  // GetPackage and GetEvidence of many ids in one read (RocksDB's MultiGet,
  // which finds each block once for all its keys: cheaper than a Get each,
  // most of all for ids in key order); a result per id, in the order given.
  virtual std::vector<Result<Bytes>> MultiGetPackages(std::span<const std::string_view> ids) const = 0;
  virtual std::vector<Result<Bytes>> MultiGetEvidence(std::span<const std::string_view> ids) const = 0;
  virtual Result<Bytes> GetBatch(std::string_view batch_id) const = 0;
  // A chunk written by WriteSet::PutTreeNodes; kNotFound when there is none.
  virtual Result<Bytes> GetTreeNodes(std::string_view batch_id, std::uint32_t level, std::uint32_t chunk) const = 0;
  // A setting written with WriteSet::PutSetting; kNotFound when never written.
  virtual Result<Bytes> GetSetting(std::string_view name) const = 0;
  // Every setting whose name starts with `prefix`, in name order; stops early when `visit` returns false.
  virtual Status ScanSettings(std::string_view prefix,
                              const std::function<bool(std::string_view name, ByteView value)>& visit) const = 0;
  // A package's lifecycle record (retention, holds, tombstone); kNotFound when it has none.
  virtual Result<Bytes> GetLifecycle(std::string_view id) const = 0;
  // Every lifecycle record in id order; stops early when `visit` returns false.
  virtual Status ScanLifecycle(const std::function<bool(std::string_view id, ByteView record)>& visit,
                               const ScanGapSink* gaps = nullptr) const = 0;

  // The package a submission key names (WriteSet::PutSubmission); kNotFound when none.
  virtual Result<std::string> GetSubmission(ByteView key) const = 0;
  // Every submission key in key order; stops early when `visit` returns false.
  virtual Status ScanSubmissions(const std::function<bool(ByteView key, std::string_view package_id)>& visit) const = 0;

  // An entry written with WriteSet::PutIndex; kNotFound when there is none.
  virtual Result<Bytes> GetIndex(std::string_view key) const = 0;
  virtual std::unique_ptr<IndexCursor> NewIndexCursor() const = 0;

  // Up to `limit` queued package ids, oldest first (ids are time-ordered).
  virtual Result<std::vector<std::string>> ListQueued(std::size_t limit, const ScanGapSink* gaps = nullptr) const = 0;
  // Up to `limit` queue entries (package id, the entry given to Enqueue),
  // oldest first, read sequentially with readahead; stops early when `visit`
  // returns false.
  virtual Status ScanQueue(std::size_t limit,
                           const std::function<bool(std::string_view id, ByteView entry)>& visit) const = 0;
  // Packages in id order, starting after `after` ("" for the first page).
  virtual Result<std::vector<std::pair<std::string, Bytes>>> ListPackages(std::string_view after, std::size_t limit,
                                                                           const ScanGapSink* gaps = nullptr) const = 0;
  // Up to `limit` package ids (versions' ids included) that start with
  // `prefix`, in id order: one prefix seek over the keys, values unread.
  virtual Result<std::vector<std::string>> PackageIdsWithPrefix(std::string_view prefix, std::size_t limit) const = 0;
  // Schedule entries due at or before `until`, earliest first (by due time,
  // then id); with `after`, only those that come after it in that order: a
  // cursor for reading a long schedule a page at a time.
  virtual Result<std::vector<ScheduleEntry>> ScheduledBefore(TimePoint until, std::size_t limit,
                                                             const ScheduleEntry* after) const = 0;
  Result<std::vector<ScheduleEntry>> ScheduledBefore(TimePoint until, std::size_t limit) const {
    return ScheduledBefore(until, limit, nullptr);
  }
  // Every audit entry from `first_sequence` on, in order; stops early when `visit` returns false.
  virtual Status ScanAudit(std::uint64_t first_sequence, const std::function<bool(const AuditEntry&)>& visit,
                           const ScanGapSink* gaps = nullptr) const = 0;

  // ---- Maintenance: consistency checks, backup, the audit chain's head ----
  // (used by archive/src/maintenance.cc; sealing seals AuditHead() in every batch)

  // The newest batch the schedule entry of package `id` due at `due` names
  // (ScheduleEntry::newest_batch); kNotFound when there is no such entry.
  virtual Result<std::string> GetScheduleEntry(TimePoint due, std::string_view id) const = 0;
  // Every schedule entry, earliest first; stops early when `visit` returns false.
  virtual Status ScanSchedule(const std::function<bool(const ScheduleEntry&)>& visit,
                              const ScanGapSink* gaps = nullptr) const = 0;
  // The package id of every evidence entry, in id order; stops early when `visit` returns false.
  virtual Status ScanEvidenceIds(const std::function<bool(std::string_view)>& visit,
                                 const ScanGapSink* gaps = nullptr) const = 0;
  // Every batch record (WriteSet::PutBatch), in id order; stops early when `visit` returns false.
  virtual Status ScanBatches(const std::function<bool(std::string_view id, ByteView record)>& visit) const = 0;
  // Every chunk of every batch's hash tree (WriteSet::PutTreeNodes), in key
  // order: batch id, level, chunk; with its size. A tree is committed before
  // its batch, so a seal or renewal killed in between leaves one that no
  // batch names ('check' counts such trees, 'gc' erases them).
  virtual Status ScanTreeChunks(const std::function<void(std::string_view batch_id, std::uint32_t level,
                                                         std::uint32_t chunk, std::uint64_t size)>& visit) const = 0;
  // The head of the audit trail as committed (for a read-only store: as of its open).
  virtual Result<AuditChainHead> AuditHead() const = 0;
  // Writes a consistent copy of the database into `dest` (which must not
  // exist) through a RocksDB checkpoint: immutable files are hard-linked when
  // `dest` is on the same file system, the rest copied. Works on a read-only
  // store while another process writes; it may then fail with kNotFound or
  // kIOError when the writer removed a file meanwhile (retry with a fresh open).
  virtual Status Checkpoint(const std::filesystem::path& dest) const = 0;
  // Compacts the content family, so that the space of values erased from it
  // is given back: table entries go at once, and so does every blob file
  // left holding erased values only (one shared with live values keeps its
  // size). kFailedPrecondition when read-only.
  virtual Status CompactContent() = 0;
  // Compacts every family down to its last level: each table is written
  // again in the current format (partitioned index and filter blocks, which
  // the bounded block cache holds a piece at a time; tables of earlier
  // versions keep theirs whole) and overwritten or erased values are dropped.
  // Rewrites the whole database: minutes at millions of packages. Reads and
  // writes go on meanwhile. kFailedPrecondition when read-only.
  virtual Status Compact() = 0;
  // The object store holding the content; null when it is in the database.
  // 'check' and 'gc' list it to find objects no row refers to.
  virtual ObjectStore* object_store() const = 0;
};

}  // namespace preserve::storage
