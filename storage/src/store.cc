#include "preserve/storage/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include "preserve/util/digest.h"
#include "preserve/util/fault_point.h"
#include "preserve/util/file_descriptor.h"
#include "preserve/util/parallel.h"
#include "concurrently.h"

namespace preserve::storage {

namespace {

constexpr const char* kContent = "content";
constexpr const char* kPackages = "packages";
constexpr const char* kEvidence = "evidence";
constexpr const char* kBatches = "batches";
constexpr const char* kTrees = "trees";
constexpr const char* kQueue = "queue";
constexpr const char* kSchedule = "schedule";
constexpr const char* kAudit = "audit";
constexpr const char* kLifecycle = "lifecycle";
constexpr const char* kSubmissions = "submissions";
constexpr const char* kIndex = "index";

// Order matters: it indexes StoreImpl::handles_ (0 is RocksDB's default family).
const std::array<const char*, 12> kFamilies = {rocksdb::kDefaultColumnFamilyName.c_str(),
                                               kContent, kPackages, kEvidence, kBatches,
                                               kQueue, kSchedule, kAudit, kLifecycle, kTrees, kSubmissions, kIndex};
enum FamilyIndex : std::size_t { kDefaultIdx, kContentIdx, kPackagesIdx, kEvidenceIdx, kBatchesIdx,
                                 kQueueIdx, kScheduleIdx, kAuditIdx, kLifecycleIdx, kTreesIdx, kSubmissionsIdx,
                                 kIndexIdx };

// The positions of `writes`' operations, ordered by family and key; those on
// one key keep their order (a stable sort), so the batch means the same. A
// memtable is a skip list that remembers where it last inserted: keys that
// come in order are inserted from there, keys in any order each from the top
// (a hash-tree renewal's chunk writes tens of thousands).
std::vector<std::size_t> InKeyOrder(const WriteSet& writes) {
  std::vector<std::size_t> order(writes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const WriteSet::Op x = writes.op(a);
    const WriteSet::Op y = writes.op(b);
    return x.family != y.family ? x.family < y.family : x.key < y.key;
  });
  return order;
}

std::string BigEndian64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::uint64_t ReadBigEndian64(std::string_view s) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<std::uint8_t>(s[i]);
  return v;
}

// Times before 1970 never occur in a schedule; clamping keeps the key unsigned.
std::string ScheduleKey(TimePoint due, std::string_view id) {
  auto secs = due.time_since_epoch().count();
  return BigEndian64(secs < 0 ? 0 : static_cast<std::uint64_t>(secs)) + std::string(id);
}

std::string TreeKey(std::string_view batch_id, std::uint32_t level, std::uint32_t chunk) {
  return std::string(batch_id) + BigEndian64((std::uint64_t{level} << 32) | chunk);
}

std::string Str(ByteView b) { return std::string(b.begin(), b.end()); }

// Writes all of `data` to `fd`, a staging file beside the database (retried on EINTR).
Status WriteToStaging(int fd, ByteView data) {
  for (std::size_t done = 0; done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("staging content beside the store: " + std::string(std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}
std::string_view ToStringView(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }
Bytes FromSlice(const rocksdb::Slice& s) { return Bytes(s.data(), s.data() + s.size()); }
ByteView ToByteView(const rocksdb::Slice& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// A large object's chunk list lives under its digest plus this byte: the key's
// length alone says which form a content value has, never its bytes.
constexpr char kChunkListSuffix = '\x01';
constexpr std::size_t kDigestSize = 32;
std::string ChunkListKey(ByteView digest) { return Str(digest) + kChunkListSuffix; }

// With content in an object store, each object's row in the content family:
// a format byte, then the object's size (8 bytes BE).
constexpr char kObjectReferenceFormat = 'S';
std::string EncodeObjectReference(std::uint64_t size) { return std::string(1, kObjectReferenceFormat) + BigEndian64(size); }
Result<std::uint64_t> DecodeObjectReference(ByteView digest, std::string_view value) {
  if (value.size() != 9 || value[0] != kObjectReferenceFormat)
    return Status::Corruption("content " + ToHex(digest) + ": malformed object-store reference");
  return ReadBigEndian64(value.substr(1));
}

// Uploads a commit has in flight at once. A small object's PUT waits mostly
// on the gateway (about 4 ms each on Ceph 16's, measured with curl alone:
// bench/s3_bench.sh), not on a core: a group of ingested packages goes
// several times faster with eight in flight, whatever the cores.
constexpr std::size_t kConcurrentUploads = 8;

// The setting that marks a store whose content is in an object store.
constexpr const char* kContentBackendSetting = "storage.content_backend";
constexpr std::string_view kObjectStoreBackend = "object-store";

// S3 has no "forever": a permanent package's objects are retained as long
// as the gateway can say. Ceph 16 keeps a retain-until date in 32 unsigned
// bits of seconds: a date past 2106-02-07 wraps around into the past
// (measured: 2126 read back as 1989, and the object deletable). Every date is
// therefore held to the end of 2105; a package kept longer needs its
// retention applied again before then.
constexpr TimePoint kLatestRetainUntil{std::chrono::sys_days(std::chrono::year(2105) / 12 / 31)};

// Chunk list value: format version (1 byte, 1), the object's size (8 bytes
// BE), the chunk size (8 bytes BE), then each chunk's SHA-256 in order; every
// chunk but the last is full, so the count follows from the sizes.
constexpr std::uint8_t kChunkListVersion = 1;
constexpr std::size_t kChunkListHeader = 17;

std::string EncodeChunkList(std::uint64_t size, std::uint64_t chunk_size, const std::vector<Bytes>& chunks) {
  std::string out(1, static_cast<char>(kChunkListVersion));
  out += BigEndian64(size) + BigEndian64(chunk_size);
  for (const auto& c : chunks) out += Str(c);
  return out;
}

Result<std::vector<Bytes>> DecodeChunkList(ByteView digest, std::string_view value) {
  auto bad = [&](const std::string& why) {
    return Status::Corruption("content " + ToHex(digest) + ": malformed chunk list (" + why + ")");
  };
  if (value.size() < kChunkListHeader) return bad("too short");
  if (static_cast<std::uint8_t>(value[0]) != kChunkListVersion) return bad("unknown version");
  const std::uint64_t size = ReadBigEndian64(value.substr(1, 8));
  const std::uint64_t chunk_size = ReadBigEndian64(value.substr(9, 8));
  if (chunk_size == 0) return bad("chunk size 0");
  const std::uint64_t count = size / chunk_size + (size % chunk_size != 0 ? 1 : 0);
  if ((value.size() - kChunkListHeader) % kDigestSize != 0 || (value.size() - kChunkListHeader) / kDigestSize != count)
    return bad(std::to_string(count) + " chunks expected");
  std::vector<Bytes> chunks;
  chunks.reserve(count);
  for (std::size_t at = kChunkListHeader; at < value.size(); at += kDigestSize)
    chunks.push_back(Bytes(value.data() + at, value.data() + at + kDigestSize));
  return chunks;
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(what);
  if (s.IsCorruption()) return Status::Corruption(what + ": " + s.ToString());
  return Status::IOError(what + ": " + s.ToString());
}

// An exclusive advisory lock naming the writing process, so a second writer
// learns who holds the store rather than a bare RocksDB lock error. The lock
// file holds the holder's pid on its first line and, for a holder that says
// what it is (StoreOptions::holder), that on the second.
class WriterLock {
 public:
  static Result<std::unique_ptr<WriterLock>> Acquire(const std::filesystem::path& dir, const std::string& holder) {
    std::filesystem::path path = dir / "writer.lock";
    FileDescriptor fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (fd.get() < 0) return Status::IOError(path.string() + ": " + std::strerror(errno));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return Busy(dir, fd.get());
    // One line each: a description with line breaks would read as more lines.
    std::string description = holder;
    std::replace_if(description.begin(), description.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    std::string content = std::to_string(::getpid()) + "\n" + (description.empty() ? "" : description + "\n");
    if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), content.data(), content.size(), 0) < 0) {
      // The lock itself holds; only the holder's name is missing.
    }
    return std::unique_ptr<WriterLock>(new WriterLock(std::move(fd)));
  }

 private:
  // Who holds the lock, as its lock file says. A service holds the store for
  // as long as it runs: waiting would not help, so its message says what will.
  static Status Busy(const std::filesystem::path& dir, int fd) {
    char buf[4096] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string text = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    const std::size_t end_of_pid = text.find('\n');
    std::string pid = text.substr(0, end_of_pid);
    std::string description = end_of_pid == std::string::npos ? "" : text.substr(end_of_pid + 1);
    for (std::string* line : {&pid, &description})
      while (!line->empty() && (line->back() == '\n' || line->back() == ' ')) line->pop_back();
    if (pid.empty()) pid = "unknown";
    if (description.empty())
      return Status::Busy("the store " + dir.string() + " is being written by another process (pid " + pid +
                          "); try again when it has finished");
    return Status::Busy("the store " + dir.string() + " is held by " + description + " (pid " + pid +
                        "): stop the service, or use its API or web application, to change the store");
  }

 private:
  // Closing it releases the flock.
  explicit WriterLock(FileDescriptor fd) : fd_(std::move(fd)) {}
  FileDescriptor fd_;
};

// An iterator over the index family. A read-only open of a store made before
// the family existed has no handle for it: the cursor is then empty.
class RocksIndexCursor final : public IndexCursor {
 public:
  RocksIndexCursor(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family) {
    if (family == nullptr) return;
    rocksdb::ReadOptions options;
    options.total_order_seek = true;
    iterator_.reset(db.NewIterator(options, family));
  }
  void Seek(std::string_view key) override {
    if (iterator_) iterator_->Seek(rocksdb::Slice(key.data(), key.size()));
  }
  void Next() override { iterator_->Next(); }
  bool Valid() const override { return iterator_ && iterator_->Valid(); }
  std::string_view key() const override { return {iterator_->key().data(), iterator_->key().size()}; }
  ByteView value() const override { return ToByteView(iterator_->value()); }
  Status status() const override {
    return iterator_ ? FromRocks(iterator_->status(), "reading the search index") : Status::Ok();
  }

 private:
  std::unique_ptr<rocksdb::Iterator> iterator_;
};

class StoreImpl final : public Store {
 public:
  StoreImpl(std::filesystem::path dir, std::unique_ptr<WriterLock> lock, bool read_only, std::size_t chunk_size,
            std::shared_ptr<ObjectStore> objects)
      : dir_(std::move(dir)),
        lock_(std::move(lock)),
        read_only_(read_only),
        chunk_size_(chunk_size),
        objects_(std::move(objects)) {}

  ~StoreImpl() override {
    // RocksDB does not flush memtables at close while the WAL is on: the next
    // open would replay the log, which after a million-package batch is
    // hundreds of megabytes. Flushing here keeps every open short; a crash
    // before it loses nothing (the log is replayed then).
    if (db_ != nullptr && !read_only_) {
      rocksdb::FlushOptions flush;
      flush.allow_write_stall = true;
      db_->Flush(flush, handles_).PermitUncheckedError();
    }
    for (auto* h : handles_) {
      if (h != nullptr && db_ != nullptr) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
    if (db_ != nullptr) db_->Close().PermitUncheckedError();
  }

  Status OpenDb(const std::filesystem::path& dir, bool create, std::size_t block_cache_bytes) {
    rocksdb::DBOptions db_options;
    db_options.create_if_missing = create;
    // A store made before a family was added gains it on its next writable open.
    db_options.create_missing_column_families = !read_only_;
    db_options.paranoid_checks = true;
    // Two flushes at once, so that one writes while the other waits for its
    // sync (a large object's chunks arrive faster than one flush stores
    // them), and one compaction: RocksDB's older pair of settings, the one
    // way to ask for that split (max_background_jobs gives flushes a quarter).
    db_options.max_background_flushes = 2;
    db_options.max_background_compactions = 1;
    // All memtables together, whatever the families written: a renewal of a
    // million packages writes evidence and schedule at once, and each family
    // would otherwise hold up to two 64 MiB memtables. Past the cap the
    // largest is flushed; the content family's own three of 8 MiB fit within.
    db_options.db_write_buffer_size = 96u << 20;

    rocksdb::ColumnFamilyOptions plain;
    // Ingest asks, for every data object, whether the content is stored
    // already: mostly it is not. A Bloom filter per table file answers such a
    // miss without reading the file's blocks, so the cost does not grow with
    // the number of files a large store has (10 bits a key: about 1% false
    // positives, some 14 MB of filters at a million packages).
    rocksdb::BlockBasedTableOptions table;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // Memory that does not grow with the holdings: every table's index and
    // filter blocks are kept in the one block cache of fixed size, as its
    // data blocks are, rather than beside each open table (there they took
    // 264 MiB at ten million packages, and more with every package). Both are
    // partitioned, so that a lookup brings in the few KiB it needs rather
    // than a table's whole index and filter; the partitions' top level, and
    // level 0's blocks (the newest, most read), stay in the cache.
    // Few shards: a table written before its blocks were partitioned has a
    // whole filter block of a MB or more, and a block larger than its shard
    // is thrown out as soon as it is read (RocksDB's default would cut 64
    // MiB into 64 shards of 1 MiB: every read of such a table would read its
    // filter again).
    table.block_cache = rocksdb::NewLRUCache(block_cache_bytes, /*num_shard_bits=*/2);
    table.cache_index_and_filter_blocks = true;
    table.cache_index_and_filter_blocks_with_high_priority = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
    table.partition_filters = true;
    table.pin_top_level_index_and_filter = true;
    plain.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    // A sealing or renewal batch inserts its keys in ascending order (package
    // ids are time-ordered): one insert hint per memtable (the empty prefix
    // for every key) turns each skip-list insert into a step from the last.
    plain.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(0));
    rocksdb::ColumnFamilyOptions content = plain;
    // Large data objects go to blob files, so compactions do not rewrite them.
    content.enable_blob_files = true;
    content.min_blob_size = 64 * 1024;
    // Content passes through the memtable before a flush moves it to blob
    // files: three memtables of 8 MiB (one filling, two flushing; writes
    // stop rather than queue more) bound what a streamed 1 GB ingest holds,
    // and keep both flushes busy. (A fourth would be worse: RocksDB slows
    // every write to 16 MB/s while the last of more than three fills.)
    content.write_buffer_size = 8u << 20;
    content.max_write_buffer_number = 3;
    // A batch's hash tree (96 MB at a million SHA-384 leaves) is written
    // once, in commits of its own, while the tree is still in memory. Small
    // memtables, as for content, keep it from filling the 96 MiB shared by
    // all families on top of the tree itself: a hash-tree renewal of a
    // million packages peaked there, 80 MiB above any other step.
    rocksdb::ColumnFamilyOptions trees = plain;
    trees.write_buffer_size = 8u << 20;
    trees.max_write_buffer_number = 3;

    // A read-only open cannot add a family a newer version introduced: the
    // families the store lacks are left without a handle, and read as empty.
    std::vector<std::string> present;
    if (read_only_) {
      rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, dir.string(), &present);
      if (!listed.ok()) return FromRocks(listed, "cannot open the store database at " + dir.string());
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    std::vector<std::size_t> opened;  // kFamilies index of each descriptor
    for (std::size_t i = 0; i < kFamilies.size(); ++i) {
      if (read_only_ && std::find(present.begin(), present.end(), kFamilies[i]) == present.end()) continue;
      families.emplace_back(kFamilies[i], i == kContentIdx ? content : i == kTreesIdx ? trees : plain);
      opened.push_back(i);
    }

    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::Status s = read_only_ ? rocksdb::DB::OpenForReadOnly(db_options, dir.string(), families, &handles, &raw)
                                   : rocksdb::DB::Open(db_options, dir.string(), families, &handles, &raw);
    db_.reset(raw);
    if (!s.ok()) return FromRocks(s, "cannot open the store database at " + dir.string());
    handles_.assign(kFamilies.size(), nullptr);
    for (std::size_t i = 0; i < opened.size(); ++i) handles_[opened[i]] = handles[i];
    PRESERVE_RETURN_IF_ERROR(CheckContentBackend(dir));
    return LoadAuditHead();
  }

  // Holds the store to the content backend it was made with (StoreOptions::object_store).
  Status CheckContentBackend(const std::filesystem::path& dir) {
    auto marker = Get(kDefaultIdx, kContentBackendSetting, "the content backend setting");
    if (!marker.ok() && marker.status().code() != StatusCode::kNotFound) return marker.status();
    const bool marked = marker.ok() && Str(marker.value()) == kObjectStoreBackend;
    if (marked) {
      content_elsewhere_ = true;
      return Status::Ok();
    }
    if (objects_ == nullptr) return Status::Ok();
    bool any_content = false;
    PRESERVE_RETURN_IF_ERROR(Iterate(kContentIdx, "", "scanning content", nullptr,
                                     [&](const rocksdb::Slice&, const rocksdb::Slice&) { return !(any_content = true); }));
    if (any_content)
      return Status::FailedPrecondition("the store at " + dir.string() +
                                        " keeps its content in its database: it cannot be opened with content in " +
                                        objects_->Describe());
    if (read_only_) return Status::FailedPrecondition("a new object-store content backend needs a writable open");
    rocksdb::WriteOptions wo;
    wo.sync = true;
    PRESERVE_RETURN_IF_ERROR(FromRocks(db_->Put(wo, handles_[kDefaultIdx], kContentBackendSetting,
                                                std::string(kObjectStoreBackend)),
                                       "marking the store's content backend"));
    content_elsewhere_ = true;
    return Status::Ok();
  }

  // With content in an object store: fails when this open has none.
  Status NeedObjectStore() const {
    if (objects_ != nullptr) return Status::Ok();
    return Status::FailedPrecondition("this store keeps its content in an object store, and was opened without it "
                                      "(config.json's \"content\")");
  }

  ObjectStore* object_store() const override { return content_elsewhere_ ? objects_.get() : nullptr; }

  // Before a commit's RocksDB write: uploads the content it puts, deletes the
  // content it erases, and applies its retention and holds, in the object
  // store; replaces the content ops by reference rows in `batch`. Any failure
  // fails the commit before anything is written to the database.
  Status ApplyToObjectStore(const WriteSet& writes, rocksdb::WriteBatch& batch) {
    PRESERVE_RETURN_IF_ERROR(NeedObjectStore());
    std::map<Bytes, TimePoint> retain;  // the latest date asked for each object
    for (const auto& [digest, until] : writes.retentions()) {
      const TimePoint date = std::min(until.value_or(kLatestRetainUntil), kLatestRetainUntil);
      auto [at, added] = retain.emplace(digest, date);
      if (!added) at->second = std::max(at->second, date);
    }
    // The objects to upload, once each: all of them before any row is written.
    std::map<Bytes, ByteView> uploads;
    for (std::size_t i = 0; i < writes.size(); ++i) {
      const WriteSet::Op op = writes.op(i);
      if (op.family != WriteSet::Family::kContent || op.erase) continue;
      if (op.key.size() != kDigestSize) return Status::Internal("a chunk list written to a store of objects");
      uploads.emplace(Bytes(op.key.begin(), op.key.end()), AsBytes(op.value));
    }
    std::vector<std::pair<const Bytes*, ByteView>> pending;
    for (const auto& [digest, data] : uploads) pending.emplace_back(&digest, data);
    const Status uploaded = Concurrently(pending.size(), kConcurrentUploads, [&](std::size_t i) -> Status {
      const Bytes& digest = *pending[i].first;
      auto date = retain.find(digest);
      PRESERVE_RETURN_IF_ERROR(objects_->Put(
          digest, pending[i].second, date == retain.end() ? std::nullopt : std::optional<TimePoint>(date->second)));
      PRESERVE_FAULT_POINT("store.object.uploaded");
      return Status::Ok();
    });
    PRESERVE_RETURN_IF_ERROR(uploaded);
    for (std::size_t i = 0; i < writes.size(); ++i) {
      const WriteSet::Op op = writes.op(i);
      if (op.family != WriteSet::Family::kContent && op.family != WriteSet::Family::kContentReference) continue;
      const ByteView key = AsBytes(op.key);
      const rocksdb::Slice row(op.key.data(), op.key.size());
      rocksdb::Status s;
      if (op.erase) {
        // A chunk list's key: none are made with an object store, so there is nothing to delete but the row.
        if (key.size() == kDigestSize) PRESERVE_RETURN_IF_ERROR(objects_->Delete(key));
        s = batch.Delete(handles_[kContentIdx], row);
      } else if (op.family == WriteSet::Family::kContentReference) {
        s = batch.Put(handles_[kContentIdx], row, rocksdb::Slice(op.value.data(), op.value.size()));
      } else {
        s = batch.Put(handles_[kContentIdx], row, EncodeObjectReference(op.value.size()));
      }
      PRESERVE_RETURN_IF_ERROR(FromRocks(s, "preparing a content reference"));
    }
    for (const auto& [digest, until] : retain)
      if (uploads.count(digest) == 0) PRESERVE_RETURN_IF_ERROR(objects_->Retain(digest, until));
    for (const auto& [digest, on] : writes.holds()) PRESERVE_RETURN_IF_ERROR(objects_->SetLegalHold(digest, on));
    return Status::Ok();
  }

  Status Commit(WriteSet writes) override {
    if (read_only_) return Status::FailedPrecondition("the store is open read-only");
    std::lock_guard<std::mutex> guard(commit_mutex_);
    rocksdb::WriteBatch batch(writes.bytes() + 16 * writes.size() + 64);
    if (content_elsewhere_) PRESERVE_RETURN_IF_ERROR(ApplyToObjectStore(writes, batch));
    std::vector<std::string> stored_whole;  // the keys of content this commit stores whole
    for (const std::size_t i : InKeyOrder(writes)) {
      const WriteSet::Op op = writes.op(i);
      if (content_elsewhere_ && (op.family == WriteSet::Family::kContent ||
                                 op.family == WriteSet::Family::kContentReference))
        continue;  // in the batch already (ApplyToObjectStore)
      rocksdb::ColumnFamilyHandle* h = Handle(op.family);
      rocksdb::Slice key(op.key.data(), op.key.size());
      rocksdb::Status s = op.erase ? batch.Delete(h, key) : batch.Put(h, key, {op.value.data(), op.value.size()});
      if (!s.ok()) return FromRocks(s, "preparing a write");
      if (op.family == WriteSet::Family::kContent && !op.erase && op.key.size() == kDigestSize)
        stored_whole.emplace_back(op.key);
    }
    const std::vector<std::string> audit_events = writes.audit_events();
    const std::vector<std::vector<WriteSet::AuditIndexEntry>> audit_index = writes.audit_index();
    writes = WriteSet();  // the batch holds a copy of everything now
    std::uint64_t seq = next_audit_sequence_;
    Bytes head = audit_head_hash_;
    for (std::size_t i = 0; i < audit_events.size(); ++i) {
      const std::string& event = audit_events[i];
      std::string value = Str(head) + event;
      rocksdb::Status s = batch.Put(handles_[kAuditIdx], BigEndian64(seq), value);
      if (!s.ok()) return FromRocks(s, "preparing an audit event");
      for (const auto& entry : audit_index[i]) {
        s = batch.Put(handles_[kIndexIdx], entry.key_prefix + BigEndian64(seq), entry.value);
        if (!s.ok()) return FromRocks(s, "preparing an audit event's index entry");
      }
      head = Digest(HashAlgorithm::kSha256, AsBytes(value));
      ++seq;
    }
    // A commit may refer to content it found present only as an unlogged
    // chunk (another writer's, not yet flushed: a refused document, or one
    // still being written): flush first, so nothing it refers to is lost.
    if (flushed_writes_.load() < unlogged_writes_.load()) PRESERVE_RETURN_IF_ERROR(FlushContent());
    rocksdb::WriteOptions wo;
    wo.sync = true;  // acknowledged means durable
    PRESERVE_FAULT_POINT("store.commit.before_write");
    // Content stored whole here may have the bytes of a chunk another writer
    // has claimed: that chunk is referred to from now on and must stay. The
    // claims' lock is held until the write, so that no chunk is claimed
    // meanwhile under a key this commit fills.
    std::unique_lock<std::mutex> claims(claims_mutex_, std::defer_lock);
    if (!stored_whole.empty()) {
      claims.lock();
      for (const std::string& key : stored_whole) KeepClaimed(key);
    }
    PRESERVE_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "committing to the store"));
    PRESERVE_FAULT_POINT("store.commit.after_write");
    next_audit_sequence_ = seq;
    audit_head_hash_ = std::move(head);
    return Status::Ok();
  }

  Result<Bytes> GetContent(ByteView digest) const override {
    Bytes out;
    PRESERVE_RETURN_IF_ERROR(ReadContent(digest, [&out](ByteView piece) {
      out.insert(out.end(), piece.begin(), piece.end());
      return Status::Ok();
    }));
    return out;
  }
  Result<bool> HasContent(ByteView digest) const override {
    // With an object store: whether a committed row refers to it (the object
    // itself is looked for by 'check' and 'fixity', not on every ingest).
    // Under the claims' lock: content found here may be referred to from now
    // on, so a chunk still claimed by its writer is kept (ReleaseChunks).
    std::lock_guard<std::mutex> claims(claims_mutex_);
    for (const std::string& key : {Str(digest), ChunkListKey(digest)}) {
      rocksdb::PinnableSlice value;
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kContentIdx], key, &value);
      if (s.ok()) {
        KeepClaimed(key);
        return true;
      }
      if (!s.IsNotFound()) return FromRocks(s, "reading content");
    }
    return false;
  }

  Status ReadContent(ByteView digest, const std::function<Status(ByteView)>& sink) const override {
    // Content is streamed once per use (a renewal or fixity run reads every
    // object once): its blocks would only push the records' blocks out of the
    // block cache, and inserting and evicting them costs more than the read.
    rocksdb::ReadOptions once;
    once.fill_cache = false;
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db_->Get(once, handles_[kContentIdx], Str(digest), &value);
    if (content_elsewhere_) return ReadObject(digest, s, sink);
    if (s.ok()) return sink(ToByteView(value));
    const std::string what = "content " + ToHex(digest);
    if (!s.IsNotFound()) return FromRocks(s, "reading " + what);
    PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> chunks, ContentChunks(digest));
    if (chunks.empty()) return Status::NotFound(what + ": not in the store");
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      value.Reset();  // one chunk held at a time
      s = db_->Get(once, handles_[kContentIdx], Str(chunks[i]), &value);
      if (s.IsNotFound())
        return Status::Corruption(what + ": chunk " + std::to_string(i + 1) + " of " + std::to_string(chunks.size()) +
                                  " (SHA-256 " + ToHex(chunks[i]) + ") is missing from the store");
      PRESERVE_RETURN_IF_ERROR(FromRocks(s, "reading " + what + ", chunk " + std::to_string(i + 1)));
      PRESERVE_RETURN_IF_ERROR(sink(ToByteView(value)));
    }
    return Status::Ok();
  }

  Status ReadContents(std::span<const ContentDigest> digests, const std::function<Status(std::size_t, ByteView)>& sink,
                      const std::function<Status(std::size_t, Status)>& unreadable) const override {
    // Absent, or not a value of the content family (a chunk list, whose key
    // follows the digest's, or an object in the object store): read as one
    // object. An error of `sink` stops the run; the store's verdict on one
    // object does not.
    auto read_one = [&](std::size_t i) -> Status {
      Status sink_status = Status::Ok();
      Status read = ReadContent(digests[i], [&](ByteView piece) {
        sink_status = sink(i, piece);
        return sink_status;
      });
      PRESERVE_RETURN_IF_ERROR(sink_status);
      if (read.code() == StatusCode::kNotFound || read.code() == StatusCode::kCorruption)
        return unreadable(i, std::move(read));
      return read;
    };
    if (content_elsewhere_) {
      for (std::size_t i = 0; i < digests.size(); ++i) PRESERVE_RETURN_IF_ERROR(read_one(i));
      return Status::Ok();
    }
    rocksdb::ReadOptions once;  // as ReadContent's, and read ahead: the keys come in order
    once.fill_cache = false;
    once.readahead_size = 2u << 20;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(once, handles_[kContentIdx]));
    // Where the wanted keys lie close together, a few steps forward cost less
    // than a seek, which searches every level of the tree again.
    constexpr int kStepsBeforeSeek = 8;
    for (std::size_t i = 0; i < digests.size(); ++i) {
      const std::string_view key(reinterpret_cast<const char*>(digests[i].data()), digests[i].size());
      int steps = 0;
      while (it->Valid() && it->key().ToStringView() < key && steps++ < kStepsBeforeSeek) it->Next();
      if (!it->Valid() || it->key().ToStringView() < key) it->Seek(rocksdb::Slice(key));
      if (it->Valid() && it->key().ToStringView() == key) {
        PRESERVE_RETURN_IF_ERROR(sink(i, ToByteView(it->value())));
        continue;
      }
      PRESERVE_RETURN_IF_ERROR(FromRocks(it->status(), "reading content " + ToHex(digests[i])));
      PRESERVE_RETURN_IF_ERROR(read_one(i));
    }
    return Status::Ok();
  }

  // ReadContent with an object store; `row` is the lookup of the object's reference row.
  Status ReadObject(ByteView digest, const rocksdb::Status& row, const std::function<Status(ByteView)>& sink) const {
    const std::string what = "content " + ToHex(digest);
    if (row.IsNotFound()) return Status::NotFound(what + ": not in the store");
    PRESERVE_RETURN_IF_ERROR(FromRocks(row, "reading " + what));
    PRESERVE_RETURN_IF_ERROR(NeedObjectStore());
    Status read = objects_->Read(digest, sink);
    if (read.code() == StatusCode::kNotFound)
      return Status::Corruption(what + " is referenced but missing from " + objects_->Describe());
    return read;
  }

  Result<std::vector<Bytes>> ContentChunks(ByteView digest) const override {
    if (content_elsewhere_) return std::vector<Bytes>{};  // an object is never a chunk list there
    const std::string what = "content " + ToHex(digest);
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kContentIdx], ChunkListKey(digest), &value);
    if (s.IsNotFound()) return std::vector<Bytes>{};
    PRESERVE_RETURN_IF_ERROR(FromRocks(s, "reading " + what));
    return DecodeChunkList(digest, std::string_view(value.data(), value.size()));
  }

  Result<std::unique_ptr<ContentWriter>> NewContentWriter() override;

  // Writes one chunk for the content writer `writer` (NewWriterId), unless
  // it is stored already, past the write-ahead log: logged, every byte would
  // be written twice (log, then blob file) and checksummed twice, a third of
  // a large ingest's cost. Such writes are durable once flushed
  // (FlushContent); until then a crash loses them. A chunk written is claimed
  // by its writer until ReleaseChunks. Returns whether it wrote.
  Result<bool> PutChunk(std::uint64_t writer, ByteView digest, ByteView data) {
    const std::string key = Str(digest);
    // Looked for, claimed and written under one lock, so that whoever finds
    // the chunk finds its claim too (and keeps it: KeepClaimed).
    std::lock_guard<std::mutex> claims(claims_mutex_);
    if (auto claim = claims_.find(key); claim != claims_.end()) {
      if (claim->second.writer != writer) claim->second.shared = true;
      return false;
    }
    PRESERVE_ASSIGN_OR_RETURN(bool present, HasWhole(digest));
    if (present) return false;
    PRESERVE_FAULT_POINT("store.content.chunk");
    // Counted before it becomes visible, so that whoever sees it present also
    // sees that a flush is due.
    unlogged_writes_.fetch_add(1);
    rocksdb::WriteOptions unlogged;
    unlogged.disableWAL = true;
    PRESERVE_RETURN_IF_ERROR(
        FromRocks(db_->Put(unlogged, handles_[kContentIdx], key, ToStringView(data)), "writing a content chunk"));
    claims_.emplace(key, ChunkClaim{writer, false});
    return true;
  }

  std::uint64_t NewWriterId() { return next_writer_id_.fetch_add(1); }

  // Ends `writer`'s claims on the chunks it wrote (`digests`, as PutChunk
  // took them). With `erase` (the writer is dropped before Put: a refused
  // document), each chunk nobody else has found meanwhile is erased; one
  // found (by another writer, a lookup or a commit that holds the same
  // bytes) may be referred to and stays, garbage for 'gc' if nothing does.
  // Best effort: a chunk left behind is garbage too, never damage.
  void ReleaseChunks(std::uint64_t writer, const std::vector<Bytes>& digests, bool erase) {
    std::lock_guard<std::mutex> claims(claims_mutex_);
    rocksdb::WriteBatch erased;
    for (const Bytes& digest : digests) {
      auto claim = claims_.find(Str(digest));
      if (claim == claims_.end() || claim->second.writer != writer) continue;
      if (erase && !claim->second.shared) erased.Delete(handles_[kContentIdx], claim->first);
      claims_.erase(claim);
    }
    if (erased.Count() > 0) db_->Write(rocksdb::WriteOptions(), &erased).PermitUncheckedError();
  }

  // Flushes the content family's memtables to blob and table files, synced
  // and recorded in the MANIFEST before Flush returns: the unlogged chunks
  // written so far are durable from then on.
  Status FlushContent() {
    // Read under the claims' lock, which PutChunk holds from counting a chunk
    // to writing it: every chunk counted here is in a memtable this flush
    // takes, not one still on its way there.
    std::uint64_t written = 0;
    {
      std::lock_guard<std::mutex> claims(claims_mutex_);
      written = unlogged_writes_.load();
    }
    rocksdb::FlushOptions flush;
    flush.allow_write_stall = true;
    PRESERVE_RETURN_IF_ERROR(FromRocks(db_->Flush(flush, handles_[kContentIdx]), "flushing content chunks"));
    std::uint64_t flushed = flushed_writes_.load();
    while (flushed < written && !flushed_writes_.compare_exchange_weak(flushed, written)) {
    }
    return Status::Ok();
  }

  std::size_t chunk_size() const { return chunk_size_; }

  // A file for content on its way in, in the database's directory (the same
  // file system, sized for content) but with no name there: O_TMPFILE, or,
  // where the file system lacks it, a name removed at once. Nothing of it
  // outlives its descriptor, so neither a crash nor a checkpoint ever sees it.
  Result<FileDescriptor> NewStagingFile() const {
    FileDescriptor fd(::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (fd.get() < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
      std::string name = (dir_ / ".staging-XXXXXX").string();
      fd = FileDescriptor(::mkostemp(name.data(), O_CLOEXEC));
      if (fd.get() >= 0) ::unlink(name.c_str());
    }
    if (fd.get() < 0) return Status::IOError("cannot stage content in " + dir_.string() + ": " + std::strerror(errno));
    return fd;
  }

  Status Compact() override {
    if (read_only_) return Status::FailedPrecondition("the store is open read-only");
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (std::size_t i = 0; i < handles_.size(); ++i)
      PRESERVE_RETURN_IF_ERROR(FromRocks(db_->CompactRange(options, handles_[i], nullptr, nullptr),
                                         std::string("compacting ") + kFamilies[i]));
    return Status::Ok();
  }
  Status CompactContent() override {
    if (read_only_) return Status::FailedPrecondition("the store is open read-only");
    // Reference rows only: the object store gives back its own space.
    rocksdb::CompactRangeOptions options;
    // The bottommost level too: that is where erased values' entries mostly are.
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    return FromRocks(db_->CompactRange(options, handles_[kContentIdx], nullptr, nullptr), "compacting content");
  }

  Status ScanContent(const std::function<bool(ByteView, bool, std::uint64_t)>& visit,
                     const ScanGapSink* gaps) const override {
    Status malformed = Status::Ok();
    PRESERVE_RETURN_IF_ERROR(Iterate(kContentIdx, "", "scanning content", gaps, [&](const rocksdb::Slice& k,
                                                                                    const rocksdb::Slice& value) {
      ByteView key = ToByteView(k);
      const bool chunk_list = key.size() == kDigestSize + 1 && key.back() == kChunkListSuffix;
      if (!chunk_list && key.size() != kDigestSize) {
        malformed = Status::Corruption("content key of " + std::to_string(key.size()) + " bytes: " + ToHex(key));
        return false;
      }
      if (content_elsewhere_ && !chunk_list) {
        // The object's size, as its reference row records it.
        Result<std::uint64_t> size = DecodeObjectReference(key, std::string_view(value.data(), value.size()));
        if (!size.ok()) {
          malformed = size.status();
          return false;
        }
        return visit(key, false, size.value());
      }
      return visit(chunk_list ? key.first(kDigestSize) : key, chunk_list, value.size());
    }));
    return malformed;
  }
  Result<Bytes> GetPackage(std::string_view id) const override {
    return Get(kPackagesIdx, std::string(id), "package " + std::string(id));
  }
  Result<Bytes> GetEvidence(std::string_view id) const override {
    return Get(kEvidenceIdx, std::string(id), "evidence of package " + std::string(id));
  }
  std::vector<Result<Bytes>> MultiGetPackages(std::span<const std::string_view> ids) const override {
    return MultiGet(kPackagesIdx, ids, "package ");
  }
  std::vector<Result<Bytes>> MultiGetEvidence(std::span<const std::string_view> ids) const override {
    return MultiGet(kEvidenceIdx, ids, "evidence of package ");
  }
  Result<Bytes> GetBatch(std::string_view batch_id) const override {
    return Get(kBatchesIdx, std::string(batch_id), "batch " + std::string(batch_id));
  }

  Result<Bytes> GetTreeNodes(std::string_view batch_id, std::uint32_t level, std::uint32_t chunk) const override {
    return Get(kTreesIdx, TreeKey(batch_id, level, chunk),
               "hash tree of batch " + std::string(batch_id) + " (level " + std::to_string(level) + ", chunk " +
                   std::to_string(chunk) + ")");
  }

  Result<Bytes> GetSetting(std::string_view name) const override {
    return Get(kDefaultIdx, std::string(name), "setting " + std::string(name));
  }

  Status ScanSettings(std::string_view prefix,
                      const std::function<bool(std::string_view, ByteView)>& visit) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[kDefaultIdx]));
    const rocksdb::Slice start(prefix.data(), prefix.size());
    for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
      if (!visit(std::string_view(it->key().data(), it->key().size()), ToByteView(it->value()))) break;
    }
    return FromRocks(it->status(), "scanning settings");
  }

  Result<Bytes> GetLifecycle(std::string_view id) const override {
    return Get(kLifecycleIdx, std::string(id), "lifecycle record of package " + std::string(id));
  }

  Status ScanLifecycle(const std::function<bool(std::string_view, ByteView)>& visit,
                       const ScanGapSink* gaps) const override {
    return Iterate(kLifecycleIdx, "", "scanning lifecycle records", gaps,
                   [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
                     return visit(std::string_view(key.data(), key.size()), ToByteView(value));
                   });
  }

  Result<Bytes> GetIndex(std::string_view key) const override {
    return Get(kIndexIdx, std::string(key), "index entry");
  }

  std::unique_ptr<IndexCursor> NewIndexCursor() const override {
    return std::make_unique<RocksIndexCursor>(*db_, handles_[kIndexIdx]);
  }

  Result<std::string> GetSubmission(ByteView key) const override {
    auto id = Get(kSubmissionsIdx, Str(key), "submission " + ToHex(key));
    if (!id.ok()) return id.status();
    return Str(id.value());
  }

  Status ScanSubmissions(const std::function<bool(ByteView key, std::string_view package_id)>& visit) const override {
    return Iterate(kSubmissionsIdx, "", "scanning the submission index", nullptr,
                   [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
                     return visit(ToByteView(key), std::string_view(value.data(), value.size()));
                   });
  }

  Result<std::vector<std::string>> ListQueued(std::size_t limit, const ScanGapSink* gaps) const override {
    std::vector<std::string> out;
    if (limit == 0) return out;
    PRESERVE_RETURN_IF_ERROR(
        Iterate(kQueueIdx, "", "scanning the seal queue", gaps, [&](const rocksdb::Slice& key, const rocksdb::Slice&) {
          out.push_back(key.ToString());
          return out.size() < limit;
        }));
    return out;
  }

  Status ScanQueue(std::size_t limit,
                   const std::function<bool(std::string_view, ByteView)>& visit) const override {
    rocksdb::ReadOptions options;
    // A sealing batch reads up to a million entries in key order: large
    // sequential reads, and no filling the block cache with them.
    options.readahead_size = 2 << 20;
    options.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, handles_[kQueueIdx]));
    std::size_t seen = 0;
    for (it->SeekToFirst(); it->Valid() && seen < limit; it->Next(), ++seen) {
      ByteView entry(reinterpret_cast<const std::uint8_t*>(it->value().data()), it->value().size());
      if (!visit(std::string_view(it->key().data(), it->key().size()), entry)) break;
    }
    return FromRocks(it->status(), "scanning the seal queue");
  }

  Result<std::vector<std::pair<std::string, Bytes>>> ListPackages(std::string_view after, std::size_t limit,
                                                                   const ScanGapSink* gaps) const override {
    std::vector<std::pair<std::string, Bytes>> out;
    if (limit == 0) return out;
    PRESERVE_RETURN_IF_ERROR(Iterate(kPackagesIdx, after, "scanning packages", gaps,
                                     [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
                                       if (key == rocksdb::Slice(after.data(), after.size())) return true;
                                       out.emplace_back(key.ToString(), FromSlice(value));
                                       return out.size() < limit;
                                     }));
    return out;
  }

  Result<std::vector<std::string>> PackageIdsWithPrefix(std::string_view prefix, std::size_t limit) const override {
    std::vector<std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[kPackagesIdx]));
    const rocksdb::Slice wanted(prefix.data(), prefix.size());
    for (it->Seek(wanted); it->Valid() && out.size() < limit && it->key().starts_with(wanted); it->Next())
      out.push_back(it->key().ToString());
    PRESERVE_RETURN_IF_ERROR(FromRocks(it->status(), "looking up package ids"));
    return out;
  }

  using Store::ScheduledBefore;
  Result<std::vector<ScheduleEntry>> ScheduledBefore(TimePoint until, std::size_t limit,
                                                     const ScheduleEntry* after) const override {
    std::vector<ScheduleEntry> out;
    std::string end = ScheduleKey(until + std::chrono::seconds(1), "");
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[kScheduleIdx]));
    if (after == nullptr) {
      it->SeekToFirst();
    } else {
      const std::string from = ScheduleKey(after->due, after->package_id);
      it->Seek(from);
      if (it->Valid() && it->key().ToStringView() == from) it->Next();
    }
    for (; it->Valid() && out.size() < limit && it->key().compare(end) < 0; it->Next()) {
      std::string_view key(it->key().data(), it->key().size());
      if (key.size() < 8) return Status::Corruption("schedule key shorter than 8 bytes");
      auto secs = static_cast<std::int64_t>(ReadBigEndian64(key.substr(0, 8)));
      out.push_back({TimePoint(std::chrono::seconds(secs)), std::string(key.substr(8)), it->value().ToString()});
    }
    PRESERVE_RETURN_IF_ERROR(FromRocks(it->status(), "scanning the schedule"));
    return out;
  }

  Status ScanAudit(std::uint64_t first_sequence, const std::function<bool(const AuditEntry&)>& visit,
                   const ScanGapSink* gaps) const override {
    Status malformed = Status::Ok();
    PRESERVE_RETURN_IF_ERROR(Iterate(kAuditIdx, BigEndian64(first_sequence), "scanning the audit trail", gaps,
                                     [&](const rocksdb::Slice& key, const rocksdb::Slice& value) {
                                       AuditEntry entry;
                                       malformed = DecodeAudit(key, value, entry);
                                       return malformed.ok() && visit(entry);
                                     }));
    return malformed;
  }

  // ---- Maintenance ----

  Result<std::string> GetScheduleEntry(TimePoint due, std::string_view id) const override {
    PRESERVE_ASSIGN_OR_RETURN(Bytes batch,
                              Get(kScheduleIdx, ScheduleKey(due, id), "schedule entry of package " + std::string(id)));
    return std::string(batch.begin(), batch.end());
  }
  Status ScanSchedule(const std::function<bool(const ScheduleEntry&)>& visit,
                      const ScanGapSink* gaps) const override {
    Status malformed = Status::Ok();
    PRESERVE_RETURN_IF_ERROR(
        Iterate(kScheduleIdx, "", "scanning the schedule", gaps, [&](const rocksdb::Slice& k, const rocksdb::Slice& v) {
          std::string_view key(k.data(), k.size());
          if (key.size() < 8) {
            malformed = Status::Corruption("schedule key shorter than 8 bytes");
            return false;
          }
          auto secs = static_cast<std::int64_t>(ReadBigEndian64(key.substr(0, 8)));
          return visit({TimePoint(std::chrono::seconds(secs)), std::string(key.substr(8)), v.ToString()});
        }));
    return malformed;
  }

  Status ScanEvidenceIds(const std::function<bool(std::string_view)>& visit, const ScanGapSink* gaps) const override {
    return Iterate(kEvidenceIdx, "", "scanning evidence", gaps, [&](const rocksdb::Slice& key, const rocksdb::Slice&) {
      return visit(std::string_view(key.data(), key.size()));
    });
  }

  Status ScanBatches(const std::function<bool(std::string_view id, ByteView record)>& visit) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[kBatchesIdx]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!visit(std::string_view(it->key().data(), it->key().size()), ToByteView(it->value()))) break;
    }
    return FromRocks(it->status(), "scanning batches");
  }

  Status ScanTreeChunks(const std::function<void(std::string_view, std::uint32_t, std::uint32_t, std::uint64_t)>& visit)
      const override {
    if (handles_[kTreesIdx] == nullptr) return Status::Ok();  // a family this (read-only) store lacks: empty
    rocksdb::ReadOptions once;
    once.fill_cache = false;  // a scan of every tree: keep the cache for the reads that repeat
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(once, handles_[kTreesIdx]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key = it->key().ToStringView();
      if (key.size() <= 8) return Status::Corruption("a hash-tree key of " + std::to_string(key.size()) + " bytes");
      std::uint64_t level_and_chunk = 0;
      for (char c : key.substr(key.size() - 8)) level_and_chunk = level_and_chunk << 8 | static_cast<std::uint8_t>(c);
      visit(key.substr(0, key.size() - 8), static_cast<std::uint32_t>(level_and_chunk >> 32),
            static_cast<std::uint32_t>(level_and_chunk), it->value().size());
    }
    return FromRocks(it->status(), "scanning the hash trees");
  }

  Result<AuditChainHead> AuditHead() const override {
    AuditChainHead head{0, Bytes(32, 0)};
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[kAuditIdx]));
    it->SeekToLast();
    if (it->Valid()) {
      AuditEntry last;
      PRESERVE_RETURN_IF_ERROR(DecodeAudit(it->key(), it->value(), last));
      head = {last.sequence + 1, std::move(last.hash)};
    }
    PRESERVE_RETURN_IF_ERROR(FromRocks(it->status(), "reading the audit trail"));
    return head;
  }

  Status Checkpoint(const std::filesystem::path& dest) const override {
    rocksdb::Checkpoint* raw = nullptr;
    PRESERVE_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "starting a checkpoint"));
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    return FromRocks(checkpoint->CreateCheckpoint(dest.string()), "writing a checkpoint to " + dest.string());
  }

 private:
  // Visits family `family` in key order from the first key at or after
  // `start` until `visit` returns false. A read error ends the scan with it,
  // unless it is damage (kCorruption) and `gaps` is given: then the damaged
  // stretch is reported there and the scan goes on past it.
  Status Iterate(std::size_t family, std::string_view start, const std::string& what, const ScanGapSink* gaps,
                 const std::function<bool(const rocksdb::Slice& key, const rocksdb::Slice& value)>& visit) const {
    if (handles_[family] == nullptr) return Status::Ok();  // a family this (read-only) store lacks: empty
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[family]));
    // The last key read; before any, the scan's start (the damage lies past it).
    std::string last(start);
    it->Seek(rocksdb::Slice(start.data(), start.size()));
    while (true) {
      for (; it->Valid(); it->Next()) {
        last.assign(it->key().data(), it->key().size());
        if (!visit(it->key(), it->value())) return Status::Ok();
      }
      const rocksdb::Status s = it->status();
      if (s.ok()) return Status::Ok();
      if (gaps == nullptr || !s.IsCorruption()) return FromRocks(s, what);
      std::optional<std::string> resume = ReadablePast(family, last);
      (*gaps)({last, resume.value_or(""), FromRocks(s, what)});
      if (!resume) return Status::Ok();
      // A fresh iterator: one that met damage may keep part of that state.
      it.reset(db_->NewIterator(rocksdb::ReadOptions(), handles_[family]));
      it->Seek(*resume);
      last = std::move(*resume);  // should that seek fail after all, the next search starts past it
    }
  }

  // Where reading can go on after damage met past `last`. A seek fails while
  // the first key at or after its target lies in the damage, and succeeds
  // beyond it: the smallest target that succeeds (to a byte's precision, at
  // most kResumeDepth bytes long) is found a byte at a time, each byte by a
  // binary search. A few hundred seeks, for a scan that met damage. Nothing
  // (nullopt) when no seek past `last` succeeds: the damage reaches the end,
  // or more damage follows that this search does not look past.
  std::optional<std::string> ReadablePast(std::size_t family, const std::string& last) const {
    constexpr std::size_t kResumeDepth = 64;
    // Each seek from a fresh iterator: whether one that met the damage
    // before fails again depends on the block it still holds.
    auto readable = [&](const std::string& target) {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[family]));
      it->Seek(target);
      return it->status().ok();
    };
    std::optional<std::string> found;
    std::string prefix;  // of the targets tried at this depth; always a prefix of `last`, or above it
    for (std::size_t depth = 0; depth < kResumeDepth; ++depth) {
      // The first byte value at this depth that keeps the target above `last`.
      const bool on_last = last.size() > depth && last.compare(0, depth, prefix) == 0;
      const unsigned low = on_last ? static_cast<unsigned char>(last[depth]) + 1u : 0u;
      unsigned lo = low, hi = 256;  // the answer is in [lo, hi); 256: none
      while (lo < hi) {
        const unsigned mid = (lo + hi) / 2;
        if (readable(prefix + static_cast<char>(mid))) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      if (lo == 256) return found;  // nothing at this depth: the shallower answer stands
      found = prefix + static_cast<char>(lo);
      // The damage ends between the last failing target and `found`: look
      // closer there, one byte deeper.
      if (lo > low) {
        prefix += static_cast<char>(lo - 1);
      } else if (on_last) {
        prefix += last[depth];
      } else {
        return found;  // `found` is the very next string after `prefix`
      }
    }
    return found;
  }

  rocksdb::ColumnFamilyHandle* Handle(WriteSet::Family f) const {
    switch (f) {
      case WriteSet::Family::kContent: return handles_[kContentIdx];
      case WriteSet::Family::kPackages: return handles_[kPackagesIdx];
      case WriteSet::Family::kEvidence: return handles_[kEvidenceIdx];
      case WriteSet::Family::kBatches: return handles_[kBatchesIdx];
      case WriteSet::Family::kTrees: return handles_[kTreesIdx];
      case WriteSet::Family::kQueue: return handles_[kQueueIdx];
      case WriteSet::Family::kSchedule: return handles_[kScheduleIdx];
      case WriteSet::Family::kLifecycle: return handles_[kLifecycleIdx];
      case WriteSet::Family::kSubmissions: return handles_[kSubmissionsIdx];
      case WriteSet::Family::kIndex: return handles_[kIndexIdx];
      case WriteSet::Family::kSettings: return handles_[kDefaultIdx];
      case WriteSet::Family::kContentReference: return handles_[kContentIdx];
    }
    return handles_[kDefaultIdx];
  }

  // A claimed chunk found by a lookup (under claims_mutex_): it stays with its writer gone.
  void KeepClaimed(const std::string& key) const {
    if (auto claim = claims_.find(key); claim != claims_.end()) claim->second.shared = true;
  }

  Result<bool> HasWhole(ByteView digest) const {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kContentIdx], Str(digest), &value);
    if (s.IsNotFound()) return false;
    PRESERVE_RETURN_IF_ERROR(FromRocks(s, "reading content"));
    return true;
  }

  Result<Bytes> Get(std::size_t family, const std::string& key, const std::string& what) const {
    if (handles_[family] == nullptr) return Status::NotFound(what + ": not in the store");
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[family], key, &value);
    if (s.IsNotFound()) return Status::NotFound(what + ": not in the store");
    PRESERVE_RETURN_IF_ERROR(FromRocks(s, "reading " + what));
    return FromSlice(value);
  }

  // Get for many keys; `what` and the key name each in a message.
  std::vector<Result<Bytes>> MultiGet(std::size_t family, std::span<const std::string_view> keys,
                                      std::string_view what) const {
    std::vector<Result<Bytes>> out;
    out.reserve(keys.size());
    auto absent = [&](std::string_view key) {
      return Status::NotFound(std::string(what).append(key).append(": not in the store"));
    };
    if (handles_[family] == nullptr) {
      for (const auto key : keys) out.emplace_back(absent(key));
      return out;
    }
    std::vector<rocksdb::Slice> slices;
    slices.reserve(keys.size());
    for (const auto key : keys) slices.emplace_back(key.data(), key.size());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    const bool sorted = std::is_sorted(keys.begin(), keys.end());
    db_->MultiGet(rocksdb::ReadOptions(), handles_[family], keys.size(), slices.data(), values.data(),
                  statuses.data(), sorted);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (statuses[i].IsNotFound()) {
        out.emplace_back(absent(keys[i]));
      } else if (!statuses[i].ok()) {
        out.emplace_back(FromRocks(statuses[i], "reading " + std::string(what).append(keys[i])));
      } else {
        out.emplace_back(FromSlice(values[i]));
      }
    }
    return out;
  }

  static Status DecodeAudit(const rocksdb::Slice& key, const rocksdb::Slice& value, AuditEntry& entry) {
    if (key.size() != 8) return Status::Corruption("malformed audit key");
    if (value.size() < 32)
      return Status::Corruption("malformed audit entry " +
                                std::to_string(ReadBigEndian64(std::string_view(key.data(), key.size()))) +
                                ": shorter than its previous-entry hash");
    entry.sequence = ReadBigEndian64(std::string_view(key.data(), key.size()));
    entry.previous_hash = Bytes(value.data(), value.data() + 32);
    entry.event = Bytes(value.data() + 32, value.data() + value.size());
    entry.hash = Digest(HashAlgorithm::kSha256, ByteView(reinterpret_cast<const std::uint8_t*>(value.data()),
                                                          value.size()));
    return Status::Ok();
  }

  // Finds where the audit chain ends, so new events continue it.
  Status LoadAuditHead() {
    audit_head_hash_ = Bytes(32, 0);
    next_audit_sequence_ = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[kAuditIdx]));
    it->SeekToLast();
    if (it->Valid()) {
      AuditEntry last;
      PRESERVE_RETURN_IF_ERROR(DecodeAudit(it->key(), it->value(), last));
      audit_head_hash_ = last.hash;
      next_audit_sequence_ = last.sequence + 1;
    }
    return FromRocks(it->status(), "reading the audit trail");
  }

  std::filesystem::path dir_;
  std::unique_ptr<WriterLock> lock_;  // released after the database is closed
  bool read_only_;
  std::size_t chunk_size_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::mutex commit_mutex_;
  // Unlogged chunk writes begun, and how many of them a flush has made durable.
  std::atomic<std::uint64_t> unlogged_writes_{0};
  std::atomic<std::uint64_t> flushed_writes_{0};
  // Chunks written by content writers whose objects no commit refers to yet
  // (PutChunk), by key: which writer wrote each, and whether anyone else has
  // found it since (then it may be referred to, and is never erased with its
  // writer: ReleaseChunks). Guarded by claims_mutex_, which is held from a
  // chunk's lookup to its write, by every content lookup that may lead to a
  // reference (HasContent), and by a commit that holds content, so that no
  // one can find a chunk without finding its claim.
  struct ChunkClaim {
    std::uint64_t writer;
    bool shared;
  };
  mutable std::mutex claims_mutex_;
  mutable std::map<std::string, ChunkClaim> claims_;
  std::atomic<std::uint64_t> next_writer_id_{1};
  std::uint64_t next_audit_sequence_ = 0;
  Bytes audit_head_hash_;
  std::shared_ptr<ObjectStore> objects_;  // the object store this open was given, if any
  bool content_elsewhere_ = false;        // the store keeps its content in an object store
};

// Holds an object up to one chunk in memory; a larger one is cut into chunks
// as its bytes come, each written into the store at once (PutChunk: claimed
// by this writer, unlogged), so that its bytes are read once, from the
// caller, and written once. The object's digest is computed on one thread
// while the other hashes and writes the chunks. Put makes the chunks durable
// and puts the chunk list; a writer dropped before Put erases the chunks it
// wrote that nobody else has found (ReleaseChunks).
class ChunkingWriter final : public ContentWriter {
 public:
  explicit ChunkingWriter(StoreImpl& store)
      : store_(store), id_(store.NewWriterId()), object_hash_(HashAlgorithm::kSha256) {}
  ~ChunkingWriter() override {
    if (put_) return;
    try {
      store_.ReleaseChunks(id_, chunks_, /*erase=*/true);
    } catch (...) {  // out of memory: the chunks stay, garbage for 'gc', never damage
    }
  }

  Status Append(ByteView data) override {
    size_ += data.size();
    // Up to one chunk waits in memory: if no more comes, the object is one value.
    if (!chunked_ && pending_.size() + data.size() <= store_.chunk_size()) {
      object_hash_.Update(data);
      pending_.insert(pending_.end(), data.begin(), data.end());
      return Status::Ok();
    }
    if (!chunked_) {
      chunked_ = true;  // what is pending was hashed as it came, and is the first chunk's beginning
      pending_.reserve(store_.chunk_size());
    }
    return RunSideBySide(
        data.size(), [&] { object_hash_.Update(data); return Status::Ok(); }, [&] { return Cut(data); });
  }

  Result<Object> Finish() override {
    if (chunked_ && !pending_.empty()) {
      PRESERVE_RETURN_IF_ERROR(WriteChunk());
      Bytes().swap(pending_);
    }
    sha256_ = object_hash_.Finish();
    return Object{sha256_, size_};
  }

  Status Put(WriteSet& w) override {
    if (!chunked_) {
      w.PutContent(sha256_, pending_);
      return Status::Ok();
    }
    // The chunks must be durable before any commit refers to them.
    if (wrote_) PRESERVE_RETURN_IF_ERROR(store_.FlushContent());
    PutChunkList(w, sha256_, AsBytes(EncodeChunkList(size_, store_.chunk_size(), chunks_)));
    // A commit may refer to them from now on: they are no longer this writer's to erase.
    put_ = true;
    store_.ReleaseChunks(id_, chunks_, /*erase=*/false);
    return Status::Ok();
  }

 private:
  // Adds `data` to the chunk being filled, writing each chunk it fills.
  Status Cut(ByteView data) {
    while (!data.empty()) {
      const std::size_t take = std::min(data.size(), store_.chunk_size() - pending_.size());
      pending_.insert(pending_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
      data = data.subspan(take);
      if (pending_.size() == store_.chunk_size()) {
        PRESERVE_RETURN_IF_ERROR(WriteChunk());
        pending_.clear();
      }
    }
    return Status::Ok();
  }

  // Each chunk's key is the SHA-256 of the bytes stored under it.
  Status WriteChunk() {
    chunks_.push_back(Digest(HashAlgorithm::kSha256, pending_));
    PRESERVE_ASSIGN_OR_RETURN(bool written, store_.PutChunk(id_, chunks_.back(), pending_));
    wrote_ = wrote_ || written;
    return Status::Ok();
  }

  StoreImpl& store_;
  const std::uint64_t id_;
  Hasher object_hash_;
  Bytes sha256_;  // set by Finish
  std::uint64_t size_ = 0;
  Bytes pending_;  // the whole object while it fits in one chunk; then the chunk being filled
  bool chunked_ = false;
  std::vector<Bytes> chunks_;  // the digests of the chunks cut so far, in order
  bool wrote_ = false;         // some chunk was new to the store
  bool put_ = false;
};

// A writer for content in an object store: the object waits in memory up
// to one part, a larger one in a staging file; Put uploads it (in parts when
// it is larger than one) and puts its reference row into the WriteSet, so the
// object is durable before the commit that refers to it.
class ObjectWriter final : public ContentWriter {
 public:
  ObjectWriter(StoreImpl& store, ObjectStore& objects, std::uint64_t part_size)
      : store_(store), objects_(objects), part_size_(part_size), hash_(HashAlgorithm::kSha256) {}

  Status Append(ByteView data) override {
    size_ += data.size();
    hash_.Update(data);
    if (staged_.get() < 0 && pending_.size() + data.size() <= part_size_) {
      pending_.insert(pending_.end(), data.begin(), data.end());
      return Status::Ok();
    }
    if (staged_.get() < 0) {
      PRESERVE_ASSIGN_OR_RETURN(staged_, store_.NewStagingFile());
      PRESERVE_RETURN_IF_ERROR(WriteAll(pending_));
      Bytes().swap(pending_);
    }
    return WriteAll(data);
  }

  Result<Object> Finish() override {
    sha256_ = hash_.Finish();
    return Object{sha256_, size_};
  }

  Status Put(WriteSet& w) override {
    if (staged_.get() < 0) {
      PRESERVE_RETURN_IF_ERROR(objects_.Put(sha256_, pending_, std::nullopt));
    } else {
      PRESERVE_RETURN_IF_ERROR(objects_.PutParts(sha256_, size_, [&](std::uint64_t offset, Bytes& part) -> Status {
        for (std::size_t done = 0; done < part.size();) {
          ssize_t n = ::pread(staged_.get(), part.data() + done, part.size() - done, static_cast<off_t>(offset + done));
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) return Status::IOError("reading staged content back");
          done += static_cast<std::size_t>(n);
        }
        return Status::Ok();
      }, std::nullopt));
    }
    PutObjectReference(w, sha256_, size_);
    return Status::Ok();
  }

 private:
  Status WriteAll(ByteView data) { return WriteToStaging(staged_.get(), data); }

  StoreImpl& store_;
  ObjectStore& objects_;
  std::uint64_t part_size_;
  Hasher hash_;
  Bytes sha256_;
  std::uint64_t size_ = 0;
  Bytes pending_;
  FileDescriptor staged_{-1};
};

Result<std::unique_ptr<ContentWriter>> StoreImpl::NewContentWriter() {
  if (read_only_) return Status::FailedPrecondition("the store is open read-only");
  if (content_elsewhere_) {
    PRESERVE_RETURN_IF_ERROR(NeedObjectStore());
    return std::unique_ptr<ContentWriter>(std::make_unique<ObjectWriter>(*this, *objects_, objects_->part_size()));
  }
  return std::unique_ptr<ContentWriter>(std::make_unique<ChunkingWriter>(*this));
}

}  // namespace

void ContentWriter::PutChunkList(WriteSet& w, ByteView digest, ByteView list) {
  w.Add(WriteSet::Family::kContent, false, ToStringView(digest), std::string_view(&kChunkListSuffix, 1), list);
}

void ContentWriter::PutObjectReference(WriteSet& w, ByteView digest, std::uint64_t size) {
  w.Add(WriteSet::Family::kContentReference, false, ToStringView(digest), {}, AsBytes(EncodeObjectReference(size)));
}

void WriteSet::RetainContent(ByteView digest, std::optional<TimePoint> until) {
  retentions_.emplace_back(Bytes(digest.begin(), digest.end()), until);
}
void WriteSet::HoldContent(ByteView digest, bool on) { holds_.emplace_back(Bytes(digest.begin(), digest.end()), on); }

void WriteSet::Add(Family family, bool erase, std::string_view key_part1, std::string_view key_part2, ByteView value) {
  ops_.push_back({family, erase, buffer_.size(), key_part1.size() + key_part2.size(), value.size()});
  buffer_.append(key_part1).append(key_part2);
  buffer_.append(reinterpret_cast<const char*>(value.data()), value.size());
}

void WriteSet::Reserve(std::size_t ops, std::size_t bytes) {
  ops_.reserve(ops_.size() + ops);
  buffer_.reserve(buffer_.size() + bytes);
}

WriteSet::Op WriteSet::op(std::size_t i) const {
  const Entry& e = ops_[i];
  std::string_view all(buffer_);
  return {e.family, e.erase, all.substr(e.key_offset, e.key_size), all.substr(e.key_offset + e.key_size, e.value_size)};
}

void WriteSet::PutContent(ByteView digest, ByteView data) {
  Add(Family::kContent, false, ToStringView(digest), {}, data);
}
void WriteSet::EraseContent(ByteView digest) {
  Add(Family::kContent, true, ToStringView(digest), {}, {});
  Add(Family::kContent, true, ToStringView(digest), std::string_view(&kChunkListSuffix, 1), {});
}
void WriteSet::EraseContentValue(ByteView digest, bool chunk_list) {
  Add(Family::kContent, true, ToStringView(digest), chunk_list ? std::string_view(&kChunkListSuffix, 1) : "", {});
}
void WriteSet::PutSetting(std::string_view name, ByteView value) { Add(Family::kSettings, false, name, {}, value); }
void WriteSet::EraseSetting(std::string_view name) { Add(Family::kSettings, true, name, {}, {}); }
void WriteSet::PutLifecycle(std::string_view id, ByteView record) { Add(Family::kLifecycle, false, id, {}, record); }
void WriteSet::PutSubmission(ByteView key, std::string_view package_id) {
  Add(Family::kSubmissions, false, Str(key), {}, AsBytes(package_id));
}
void WriteSet::EraseSubmission(ByteView key) { Add(Family::kSubmissions, true, Str(key), {}, {}); }
void WriteSet::PutIndex(std::string_view key, ByteView value) { Add(Family::kIndex, false, key, {}, value); }
void WriteSet::EraseIndex(std::string_view key) { Add(Family::kIndex, true, key, {}, {}); }
void WriteSet::PutPackage(std::string_view id, ByteView record) { Add(Family::kPackages, false, id, {}, record); }
void WriteSet::PutEvidence(std::string_view id, ByteView evidence) { Add(Family::kEvidence, false, id, {}, evidence); }
void WriteSet::PutBatch(std::string_view batch_id, ByteView record) { Add(Family::kBatches, false, batch_id, {}, record); }
void WriteSet::PutTreeNodes(std::string_view batch_id, std::uint32_t level, std::uint32_t chunk, ByteView nodes) {
  Add(Family::kTrees, false, TreeKey(batch_id, level, chunk), {}, nodes);
}
void WriteSet::EraseTreeNodes(std::string_view batch_id, std::uint32_t level, std::uint32_t chunk) {
  Add(Family::kTrees, true, TreeKey(batch_id, level, chunk), {}, {});
}
void WriteSet::Enqueue(std::string_view package_id, ByteView entry) {
  Add(Family::kQueue, false, package_id, {}, entry);
}
void WriteSet::Dequeue(std::string_view package_id) { Add(Family::kQueue, true, package_id, {}, {}); }
void WriteSet::Schedule(TimePoint due, std::string_view package_id, std::string_view newest_batch) {
  Add(Family::kSchedule, false, ScheduleKey(due, {}), package_id,
      {reinterpret_cast<const std::uint8_t*>(newest_batch.data()), newest_batch.size()});
}
void WriteSet::Unschedule(TimePoint due, std::string_view package_id) {
  Add(Family::kSchedule, true, ScheduleKey(due, {}), package_id, {});
}
void WriteSet::AppendAudit(ByteView event) { AppendAudit(event, {}); }
void WriteSet::AppendAudit(ByteView event, std::vector<AuditIndexEntry> index) {
  audit_events_.push_back(Str(event));
  audit_index_.push_back(std::move(index));
}

Result<std::unique_ptr<Store>> Store::Open(const std::filesystem::path& dir, const StoreOptions& options) {
  std::error_code ec;
  bool exists = std::filesystem::exists(dir / "CURRENT", ec);
  if (!exists && !options.create_if_missing)
    return Status::NotFound("no store at " + dir.string() + " (make one with 'preserve init')");
  if (exists && options.create_if_missing)
    return Status::AlreadyExists("a store already exists at " + dir.string());
  if (options.create_if_missing) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create " + dir.string() + ": " + ec.message());
  }
  std::unique_ptr<WriterLock> lock;
  if (!options.read_only) {
    PRESERVE_ASSIGN_OR_RETURN(lock, WriterLock::Acquire(dir, options.holder));
  }
  if (options.content_chunk_size == 0) return Status::InvalidArgument("content chunk size 0");
  auto store = std::make_unique<StoreImpl>(dir, std::move(lock), options.read_only, options.content_chunk_size,
                                           options.object_store);
  PRESERVE_RETURN_IF_ERROR(store->OpenDb(dir, options.create_if_missing, options.block_cache_bytes));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace preserve::storage
