// Building the search index for a store made before it: `preserve index build`.

#include "archive_impl.h"
#include "search_index.h"

namespace preserve::archive {

namespace {

// The index entry of a package from its version records, in version order.
Result<IndexEntry> EntryOfVersions(const storage::Store& store, const std::vector<std::pair<std::string, Bytes>>& records) {
  std::optional<IndexEntry> entry;
  for (const auto& [id, bytes] : records) {
    PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, DecodeStoredPackageRecord(bytes));
    if (record.state == PackageState::kDeleted) {
      // Its manifest went with its content; what the entry keeps of it is the
      // creation, the versions and the documents' paths.
      IndexEntry deleted = entry.value_or(IndexEntry{});
      deleted.id = std::string(SplitVersionId(id).first);
      deleted.latest_id = id;
      deleted.versions = record.version;
      if (!entry) deleted.created = record.created;
      deleted.documents.clear();
      for (const auto& o : record.objects)
        if (o.path.rfind(package::kDocumentsDir, 0) == 0) deleted.documents.push_back(o.path);
      entry = DeletedIndexEntry(std::move(deleted));
      continue;
    }
    std::optional<package::Manifest> manifest;
    for (const auto& o : record.objects) {
      if (o.path != package::kManifestPath) continue;
      PRESERVE_ASSIGN_OR_RETURN(Bytes json, store.GetContent(o.sha256));
      PRESERVE_ASSIGN_OR_RETURN(manifest, package::ManifestFromJson(json));
    }
    if (!manifest) return Status::Corruption("package record " + id + " lists no manifest");
    entry = MakeIndexEntry(record, *manifest, entry ? &*entry : nullptr);
  }
  if (!entry) return Status::Corruption("no records");
  return std::move(*entry);
}

}  // namespace

Result<SearchIndexStatus> Catalogue::IndexStatus() const {
  PRESERVE_ASSIGN_OR_RETURN(SearchIndexProgress p, ReadSearchIndexProgress(*impl_->store));
  return SearchIndexStatus{p.complete, p.started && !p.complete, p.built_through};
}

// Over 60 lines: one pass over the package records, a commit per step.
Result<SearchIndexBuild> Catalogue::BuildSearchIndex(bool rebuild, const std::string& actor,
                                                     const std::function<void(std::size_t)>& progress,
                                                     std::size_t step) {
  storage::Store& store = *impl_->store;
  const Clock& clock = *impl_->clock;
  PRESERVE_ASSIGN_OR_RETURN(SearchIndexProgress state, ReadSearchIndexProgress(store));
  SearchIndexBuild build;
  if (state.complete && !rebuild) return build;
  if (!rebuild && state.started) {
    build.resumed = true;
    build.resumed_after = state.built_through;
  }
  std::vector<std::string> unreadable;
  storage::WriteSet w;
  w.AppendAudit(AuditEvent(clock, "index", {{"action", build.resumed ? "resumed" : "started"},
                                            {"after", build.resumed_after},
                                            {"actor", actor}}));
  PutSearchIndexBuiltThrough(w, build.resumed_after);
  PRESERVE_RETURN_IF_ERROR(store.Commit(std::move(w)));
  w = storage::WriteSet();

  // A package's versions follow its own record in id order: it is indexed
  // once a record of another package (or the end) shows no more follow.
  std::vector<std::pair<std::string, Bytes>> pending;
  IndexWrites writes;  // of the step
  std::size_t in_step = 0;
  std::string last;
  auto settle = [&]() -> Status {
    if (pending.empty()) return Status::Ok();
    const std::string id(SplitVersionId(pending.front().first).first);
    auto entry = EntryOfVersions(store, pending);
    pending.clear();
    if (!entry.ok() && entry.status().code() == StatusCode::kIOError) return entry.status();
    if (!entry.ok()) {
      unreadable.push_back(id + ": " + entry.status().message());
    } else {
      PRESERVE_ASSIGN_OR_RETURN(std::optional<IndexEntry> held, ReadIndexEntry(store, id));
      writes.Put(entry.value(), held ? &*held : nullptr);
      ++build.packages;
    }
    last = id;
    if (++in_step < step) return Status::Ok();
    writes.MoveInto(w);
    PutSearchIndexBuiltThrough(w, last);
    PRESERVE_RETURN_IF_ERROR(store.Commit(std::move(w)));
    w = storage::WriteSet();
    in_step = 0;
    if (progress) progress(build.packages);
    return Status::Ok();
  };
  // Past the last indexed package and its versions ("ID.v0002"...): any
  // other id that sorts after it differs from it within its 36 characters.
  std::string cursor = build.resumed_after.empty() ? "" : build.resumed_after + ".v\xff";
  constexpr std::size_t kPage = 1024;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, store.ListPackages(cursor, kPage));
    if (page.empty()) break;
    cursor = page.back().first;
    for (auto& [id, bytes] : page) {
      if (!pending.empty() && SplitVersionId(id).first == SplitVersionId(pending.front().first).first) {
        pending.emplace_back(id, std::move(bytes));
        continue;
      }
      PRESERVE_RETURN_IF_ERROR(settle());
      pending.emplace_back(id, std::move(bytes));
    }
  }
  PRESERVE_RETURN_IF_ERROR(settle());
  std::string named;
  for (const auto& u : unreadable) named += (named.empty() ? "" : "; ") + u;
  writes.MoveInto(w);
  PutSearchIndexComplete(w);
  w.AppendAudit(AuditEvent(clock, "index", {{"action", "built"},
                                            {"packages", std::to_string(build.packages)},
                                            {"unreadable", named},
                                            {"actor", actor}}));
  PRESERVE_RETURN_IF_ERROR(store.Commit(std::move(w)));
  if (progress) progress(build.packages);
  build.unreadable = std::move(unreadable);
  return build;
}

}  // namespace preserve::archive
