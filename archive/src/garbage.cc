// Collecting content no package refers to ('preserve gc'; see garbage.h), and compacting the database.
#include "garbage.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <string_view>

#include "archive_impl.h"
#include "damage.h"
#include "preserve/util/fault_point.h"

namespace preserve::archive {

namespace {

using Key = std::array<std::uint8_t, 32>;

std::optional<Key> AsKey(ByteView digest) {
  if (digest.size() != Key().size()) return std::nullopt;  // not a SHA-256: no content key can match it
  Key key;
  std::copy(digest.begin(), digest.end(), key.begin());
  return key;
}

}  // namespace

// A k-way merge of the sorted runs: the spilled ones, read from the file a
// buffer at a time, and the last one, still in memory.
class ContentReferences::Merge {
 public:
  static constexpr std::size_t kBufferKeys = 2048;  // 64 KB per spilled run

  Merge(std::FILE* file, const std::vector<std::size_t>& spilled_runs, std::vector<Key> last_run)
      : fd_(file != nullptr ? ::fileno(file) : -1) {
    std::uint64_t offset = 0;
    for (std::size_t keys : spilled_runs) {
      runs_.push_back({offset, keys, {}, 0});
      offset += keys * sizeof(Key);
    }
    if (!last_run.empty()) runs_.push_back({0, 0, std::move(last_run), 0});
    for (std::size_t r = 0; r < runs_.size(); ++r)
      if (Fill(runs_[r])) heap_.push_back(r);
    std::make_heap(heap_.begin(), heap_.end(), Later{&runs_});
    Next();
  }

  const Key* head() const { return has_head_ ? &head_ : nullptr; }
  // Moves to the next key greater than the head.
  void Next() {
    const bool had = has_head_;
    const Key previous = head_;
    has_head_ = false;
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), Later{&runs_});
      Run& run = runs_[heap_.back()];
      const Key key = run.buffer[run.at++];
      if (run.at < run.buffer.size() || Fill(run)) {
        std::push_heap(heap_.begin(), heap_.end(), Later{&runs_});
      } else {
        heap_.pop_back();
      }
      if (had && key == previous) continue;  // listed by more than one record
      head_ = key;
      has_head_ = true;
      return;
    }
  }
  const Status& status() const { return status_; }

 private:
  struct Run {
    std::uint64_t offset;  // in the file, of its next unread key
    std::size_t unread;    // keys left in the file
    std::vector<Key> buffer;
    std::size_t at;        // next key of the buffer
  };
  // Whether run `a`'s next key sorts after run `b`'s: makes the heap a min-heap by next key.
  struct Later {
    const std::vector<Run>* runs;
    bool operator()(std::size_t a, std::size_t b) const {
      return (*runs)[b].buffer[(*runs)[b].at] < (*runs)[a].buffer[(*runs)[a].at];
    }
  };
  // Refills an exhausted buffer from the file; false when the run is over (or the file failed: status()).
  bool Fill(Run& run) {
    if (run.at < run.buffer.size()) return true;
    if (run.unread == 0 || !status_.ok()) return false;
    const std::size_t keys = std::min(run.unread, kBufferKeys);
    run.buffer.resize(keys);
    const std::size_t bytes = keys * sizeof(Key);
    ssize_t got = ::pread(fd_, run.buffer.data(), bytes, static_cast<off_t>(run.offset));
    if (got != static_cast<ssize_t>(bytes)) {
      status_ = Status::IOError("cannot read back the temporary file of content references");
      return false;
    }
    run.offset += bytes;
    run.unread -= keys;
    run.at = 0;
    return true;
  }

  int fd_;
  std::vector<Run> runs_;
  std::vector<std::size_t> heap_;  // runs with keys left
  Key head_{};
  bool has_head_ = false;
  Status status_ = Status::Ok();
};

ContentReferences::ContentReferences(std::size_t run_keys) : run_keys_(std::max<std::size_t>(run_keys, 1)) {}
ContentReferences::~ContentReferences() = default;

Status ContentReferences::Add(ByteView sha256) {
  auto key = AsKey(sha256);
  if (!key) return Status::Ok();
  run_.push_back(*key);
  return run_.size() < run_keys_ ? Status::Ok() : SpillRun();
}

Status ContentReferences::SpillRun() {
  std::sort(run_.begin(), run_.end());
  run_.erase(std::unique(run_.begin(), run_.end()), run_.end());
  if (!spill_) {
    spill_.reset(std::tmpfile());
    if (!spill_) return Status::IOError(std::string("cannot create a temporary file: ") + std::strerror(errno));
  }
  if (std::fwrite(run_.data(), sizeof(Key), run_.size(), spill_.get()) != run_.size() || std::fflush(spill_.get()) != 0)
    return Status::IOError("cannot write the temporary file of content references");
  spilled_runs_.push_back(run_.size());
  run_.clear();
  return Status::Ok();
}

Status ContentReferences::Seal() {
  std::sort(run_.begin(), run_.end());
  run_.erase(std::unique(run_.begin(), run_.end()), run_.end());
  merge_ = std::make_unique<Merge>(spill_.get(), spilled_runs_, std::move(run_));
  run_ = {};
  return merge_->status();
}

bool ContentReferences::Visit(ByteView digest) {
  auto key = AsKey(digest);
  if (!key) return false;
  // Every listed object before it was passed over by the scan: not stored.
  while (merge_->head() != nullptr && *merge_->head() < *key) {
    if (!head_visited_) missing_objects_.push_back(*merge_->head());
    merge_->Next();
    head_visited_ = false;
  }
  if (merge_->head() == nullptr || *merge_->head() != *key) return false;
  head_visited_ = true;  // a chunk list and the same object stored whole both visit it
  return true;
}

void ContentReferences::EndVisits() {
  for (; merge_->head() != nullptr; merge_->Next(), head_visited_ = false)
    if (!head_visited_) missing_objects_.push_back(*merge_->head());
}

std::vector<Bytes> ContentReferences::MissingObjects() const {
  std::vector<Bytes> out;
  for (const Key& key : missing_objects_) out.emplace_back(key.begin(), key.end());
  return out;
}

Status ScanUnreferencedContent(const storage::Store& store, ContentReferences& references,
                               const std::function<void(ByteView, bool, std::uint64_t)>& unreferenced,
                               const std::function<Status(ByteView, const Status&)>& unreadable_list,
                               const storage::ScanGapSink* gaps) {
  // Values stored whole that no record lists as an object: chunks, or
  // garbage; which, only the chunk lists read after the scan tell.
  std::vector<std::pair<Key, std::uint64_t>> unlisted;
  std::vector<Key> listed_chunk_lists;
  bool skipped = false;
  const storage::ScanGapSink noting_gaps = [&](const storage::ScanGap& gap) {
    skipped = true;
    (*gaps)(gap);
  };
  PRESERVE_RETURN_IF_ERROR(store.ScanContent(
      [&](ByteView digest, bool chunk_list, std::uint64_t size) {
        const bool listed = references.Visit(digest);
        auto key = AsKey(digest);
        if (chunk_list) {
          if (!listed) unreferenced(digest, true, size);
          else listed_chunk_lists.push_back(*key);
        } else if (!listed) {
          if (key) unlisted.emplace_back(*key, size);
          else unreferenced(digest, false, size);
        }
        return true;
      },
      gaps != nullptr ? &noting_gaps : nullptr));
  references.EndVisits();
  PRESERVE_RETURN_IF_ERROR(references.merge_->status());
  // A damaged stretch may have hidden listed objects: a point read tells.
  if (skipped) {
    std::erase_if(references.missing_objects_, [&](const Key& object) {
      auto present = store.HasContent(ByteView(object.data(), object.size()));
      if (!present.ok() || !present.value()) return false;
      listed_chunk_lists.push_back(object);  // if it is one: ContentChunks says
      return true;
    });
  }
  // The chunks every listed chunk list names.
  std::vector<std::pair<Key, Key>> chunks;  // (chunk, its object)
  for (const Key& object : listed_chunk_lists) {
    const ByteView digest(object.data(), object.size());
    auto named = store.ContentChunks(digest);
    if (!named.ok()) {
      if (named.status().code() != StatusCode::kCorruption) return named.status();
      PRESERVE_RETURN_IF_ERROR(unreadable_list(digest, named.status()));
      continue;
    }
    for (const Bytes& chunk : named.value())
      if (auto key = AsKey(chunk)) chunks.emplace_back(*key, object);
  }
  std::sort(chunks.begin(), chunks.end());
  std::sort(unlisted.begin(), unlisted.end());
  // Merge: an unlisted value some list names is a chunk; one none names is
  // garbage. A named chunk that is not among them is missing, unless it is
  // stored as a listed object (identical bytes are stored once): a point
  // read tells, for those few.
  std::vector<std::pair<Key, Key>> unmatched;
  auto chunk = chunks.begin();
  for (const auto& [key, size] : unlisted) {
    bool named = false;
    for (; chunk != chunks.end() && chunk->first <= key; ++chunk) {
      if (chunk->first == key) named = true;
      else if (unmatched.empty() || unmatched.back().first != chunk->first) unmatched.push_back(*chunk);
    }
    if (!named) unreferenced(ByteView(key.data(), key.size()), false, size);
  }
  for (; chunk != chunks.end(); ++chunk)
    if (unmatched.empty() || unmatched.back().first != chunk->first) unmatched.push_back(*chunk);
  for (const auto& [chunk_key, object] : unmatched) {
    auto present = store.HasContent(ByteView(chunk_key.data(), chunk_key.size()));
    if (!present.ok() && !IsDamage(present.status())) return present.status();
    if (present.ok() && present.value()) continue;
    references.missing_chunks_.emplace_back(Bytes(chunk_key.begin(), chunk_key.end()),
                                            Bytes(object.begin(), object.end()));
  }
  return Status::Ok();
}

Status CompareObjectStore(const storage::Store& store, storage::ObjectStore& objects,
                          const std::function<void(ByteView, std::uint64_t)>& unreferenced,
                          const std::function<void(ByteView, std::uint64_t, std::optional<std::uint64_t>)>& missing) {
  std::map<Bytes, std::pair<std::uint64_t, bool>> rows;  // digest -> (size, seen in the listing)
  PRESERVE_RETURN_IF_ERROR(store.ScanContent([&](ByteView digest, bool chunk_list, std::uint64_t size) {
    if (!chunk_list) rows.emplace(Bytes(digest.begin(), digest.end()), std::pair{size, false});
    return true;
  }));
  PRESERVE_RETURN_IF_ERROR(objects.List([&](ByteView digest, std::uint64_t size) {
    auto row = rows.find(Bytes(digest.begin(), digest.end()));
    if (row == rows.end()) {
      unreferenced(digest, size);
    } else {
      row->second.second = true;
      if (row->second.first != size) missing(digest, row->second.first, size);
    }
    return true;
  }));
  for (const auto& [digest, row] : rows)
    if (!row.second) missing(digest, row.first, std::nullopt);
  return Status::Ok();
}

Status ScanUnnamedTreeChunks(const storage::Store& store,
                             const std::function<void(std::string_view batch_id, std::uint32_t level,
                                                      std::uint32_t chunk, std::uint64_t size)>& visit) {
  std::set<std::string, std::less<>> batches;
  PRESERVE_RETURN_IF_ERROR(store.ScanBatches([&](std::string_view id, ByteView) {
    batches.emplace(id);
    return true;
  }));
  return store.ScanTreeChunks([&](std::string_view batch_id, std::uint32_t level, std::uint32_t chunk,
                                  std::uint64_t size) {
    if (batches.find(batch_id) == batches.end()) visit(batch_id, level, chunk, size);
  });
}

namespace {
constexpr char kErasesNothing[] =
    ": gc erases nothing while what a package refers to cannot be read (see 'preserve check')";
}  // namespace

Result<GarbageCollection> Maintenance::CollectGarbage(bool dry_run) {
  if (!dry_run && !impl_->writable())
    return Status::FailedPrecondition("gc erases content: open the store for writing");
  // What every record refers to. The writer lock keeps every other process
  // from committing a package meanwhile, and this one ingests nothing during
  // the collection (archive.h): the set cannot grow under it. A record that
  // cannot be read could refer to anything, so then nothing is erased.
  ContentReferences references;
  std::string after;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, impl_->store->ListPackages(after, 1000));
    if (page.empty()) break;
    for (const auto& [id, bytes] : page) {
      after = id;
      auto record = DecodeStoredPackageRecord(bytes);
      if (!record.ok())
        return Status::FailedPrecondition("package " + id + ": " + record.status().message() + kErasesNothing);
      for (const auto& o : record->objects) PRESERVE_RETURN_IF_ERROR(references.Add(o.sha256));
    }
  }
  PRESERVE_RETURN_IF_ERROR(references.Seal());

  GarbageCollection found;
  storage::WriteSet w;
  PRESERVE_RETURN_IF_ERROR(ScanUnreferencedContent(
      *impl_->store, references,
      [&](ByteView digest, bool chunk_list, std::uint64_t size) {
        ++found.values;
        found.bytes += size;
        if (!dry_run) w.EraseContentValue(digest, chunk_list);
      },
      [](ByteView object, const Status& why) {
        return Status::FailedPrecondition("content " + ToHex(object) + ": " + why.message() + kErasesNothing);
      }));
  PRESERVE_RETURN_IF_ERROR(ScanUnnamedTreeChunks(
      *impl_->store, [&](std::string_view batch_id, std::uint32_t level, std::uint32_t chunk, std::uint64_t size) {
        ++found.tree_chunks;
        found.tree_bytes += size;
        if (!dry_run) w.EraseTreeNodes(batch_id, level, chunk);
      }));
  // Objects uploaded for a commit that never happened. Deleted before the
  // audit event that counts them: they were never part of the store, and a
  // crash in between leaves only that count unrecorded.
  if (storage::ObjectStore* objects = impl_->store->object_store(); objects != nullptr) {
    Status deleting = Status::Ok();
    PRESERVE_RETURN_IF_ERROR(CompareObjectStore(
        *impl_->store, *objects,
        [&](ByteView digest, std::uint64_t size) {
          ++found.unreferenced_objects;
          found.unreferenced_object_bytes += size;
          if (dry_run || !deleting.ok()) return;
          Status deleted = objects->Delete(digest);
          if (deleted.code() == StatusCode::kFailedPrecondition) {
            ++found.objects_kept_by_lock;
          } else {
            deleting = deleted;
          }
        },
        [](ByteView, std::uint64_t, std::optional<std::uint64_t>) {}));  // 'check' names those
    PRESERVE_RETURN_IF_ERROR(deleting);
  }
  const std::size_t objects_deleted = found.unreferenced_objects - found.objects_kept_by_lock;
  if (dry_run || (found.values == 0 && objects_deleted == 0 && found.tree_chunks == 0)) return found;
  w.AppendAudit(AuditEvent(*impl_->clock, "gc",
                           {{"values", std::to_string(found.values)},
                            {"bytes", std::to_string(found.bytes)},
                            {"tree_chunks", std::to_string(found.tree_chunks)},
                            {"tree_bytes", std::to_string(found.tree_bytes)},
                            {"objects_deleted", std::to_string(objects_deleted)},
                            {"objects_kept_by_lock", std::to_string(found.objects_kept_by_lock)}}));
  PRESERVE_FAULT_POINT("gc.before_commit");
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  found.erased = true;
  // The erasure is durable and recorded; compaction only gives the space back
  // (a crash here leaves that for the next compaction).
  PRESERVE_FAULT_POINT("gc.after_commit");
  PRESERVE_RETURN_IF_ERROR(impl_->store->CompactContent().WithContext("giving back the space of erased content"));
  return found;
}

namespace {

// Bytes of the regular files under `dir`.
std::uint64_t BytesUnder(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) total += it->file_size(size_ec);
  }
  return total;
}

}  // namespace

Result<CompactionOutcome> Maintenance::Compact() {
  if (!impl_->writable()) return Status::FailedPrecondition("compact rewrites the database: open the store for writing");
  CompactionOutcome outcome;
  outcome.bytes_before = BytesUnder(DbDir(impl_->root));
  PRESERVE_RETURN_IF_ERROR(impl_->store->Compact());
  outcome.bytes_after = BytesUnder(DbDir(impl_->root));
  storage::WriteSet w;
  w.AppendAudit(AuditEvent(*impl_->clock, "compact",
                           {{"bytes_before", std::to_string(outcome.bytes_before)},
                            {"bytes_after", std::to_string(outcome.bytes_after)}}));
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)).WithContext("recording the compaction"));
  return outcome;
}

}  // namespace preserve::archive
