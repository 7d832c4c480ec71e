// Collecting content no package refers to ('preserve gc'); see garbage.h.
#include "garbage.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "archive_impl.h"
#include "preserve/util/fault_point.h"

namespace preserve::archive {

void ContentReferences::Sorted::Push(ByteView digest) {
  if (digest.size() != kKey) return;  // not a SHA-256: no content key can match it
  Key key;
  std::copy(digest.begin(), digest.end(), key.begin());
  keys.push_back(key);
}

void ContentReferences::Sorted::Seal() {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  visited.assign(keys.size(), false);
}

bool ContentReferences::Sorted::Visit(ByteView digest) {
  if (digest.size() != kKey) return false;
  Key key;
  std::copy(digest.begin(), digest.end(), key.begin());
  auto it = std::lower_bound(keys.begin(), keys.end(), key);
  if (it == keys.end() || *it != key) return false;
  visited[static_cast<std::size_t>(it - keys.begin())] = true;
  return true;
}

void ContentReferences::Add(ByteView sha256, const std::vector<Bytes>& chunks) {
  objects_.Push(sha256);
  for (const auto& c : chunks) chunks_.Push(c);
}

void ContentReferences::Seal() {
  objects_.Seal();
  chunks_.Seal();
}

bool ContentReferences::Visit(ByteView digest, bool chunk_list) {
  // A chunk list is referred to only as an object's; a value stored whole may
  // be an object, a chunk, or both (identical bytes are stored once).
  if (chunk_list) return objects_.Visit(digest);
  const bool as_object = objects_.Visit(digest);
  const bool as_chunk = chunks_.Visit(digest);
  return as_object || as_chunk;
}

std::vector<Bytes> ContentReferences::UnvisitedChunks() const {
  std::vector<Bytes> out;
  for (std::size_t i = 0; i < chunks_.keys.size(); ++i)
    if (!chunks_.visited[i]) out.emplace_back(chunks_.keys[i].begin(), chunks_.keys[i].end());
  return out;
}

Status AddContentReferences(const storage::Store& store, const PackageRecord& record, ContentReferences& references) {
  for (const auto& o : record.objects) {
    PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> chunks, store.ContentChunks(o.sha256));
    references.Add(o.sha256, chunks);
  }
  return Status::Ok();
}

Status ScanUnreferencedContent(const storage::Store& store, ContentReferences& references,
                               const std::function<void(ByteView, bool, std::uint64_t)>& visit,
                               const storage::ScanGapSink* gaps) {
  return store.ScanContent(
      [&](ByteView digest, bool chunk_list, std::uint64_t size) {
        if (!references.Visit(digest, chunk_list)) visit(digest, chunk_list, size);
        return true;
      },
      gaps);
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
      Status added = record.ok() ? AddContentReferences(*impl_->store, record.value(), references) : record.status();
      if (!added.ok())
        return Status::FailedPrecondition("package " + id + ": " + added.message() +
                                          ": gc erases nothing while what a package refers to cannot be read "
                                          "(see 'preserve check')");
    }
  }
  references.Seal();

  GarbageCollection found;
  storage::WriteSet w;
  PRESERVE_RETURN_IF_ERROR(
      ScanUnreferencedContent(*impl_->store, references, [&](ByteView digest, bool chunk_list, std::uint64_t size) {
        ++found.values;
        found.bytes += size;
        if (!dry_run) w.EraseContentValue(digest, chunk_list);
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

}  // namespace preserve::archive
