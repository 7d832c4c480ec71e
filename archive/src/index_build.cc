// Building the search index for a store made before it: `preserve index build`.

#include <boost/json.hpp>

#include "archive_impl.h"
#include "search_index.h"

namespace preserve::archive {

namespace json = boost::json;

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
  return SearchIndexStatus{p.complete, p.started && !p.complete, p.built_through, p.events_through};
}

// Over 60 lines: the package records, then the audit trail, a commit per step of each.
Result<SearchIndexBuild> Catalogue::BuildSearchIndex(bool rebuild, const std::string& actor,
                                                     const std::function<void(std::size_t)>& progress,
                                                     std::size_t step) {
  storage::Store& store = *impl_->store;
  const Clock& clock = *impl_->clock;
  PRESERVE_ASSIGN_OR_RETURN(SearchIndexProgress state, ReadSearchIndexProgress(store));
  SearchIndexBuild build;
  if (state.complete && !rebuild) return build;
  // A run stopped in the trail goes on there; one stopped among the packages, after the last done.
  const bool packages_done = !rebuild && state.events_through.has_value();
  if (!rebuild && state.started) {
    build.resumed = true;
    build.resumed_after = packages_done ? "audit event " + std::to_string(*state.events_through - 1)
                                        : state.built_through;
  }
  std::vector<std::string> unreadable;
  storage::WriteSet w;
  w.AppendAudit(AuditEvent(clock, "index", {{"action", build.resumed ? "resumed" : "started"},
                                            {"after", build.resumed_after},
                                            {"actor", actor}}));
  if (!packages_done) PutSearchIndexBuiltThrough(w, build.resumed_after);
  PRESERVE_RETURN_IF_ERROR(store.Commit(std::move(w)));
  w = storage::WriteSet();

  if (!packages_done) {
    // A package's versions follow its own record in id order: it is indexed
    // once a record of another package (or the end) shows no more follow.
    std::vector<std::pair<std::string, Bytes>> pending;
    IndexWrites writes;  // of the step
    std::size_t in_step = 0;
    auto settle = [&]() -> Status {
      if (pending.empty()) return Status::Ok();
      const std::string id(SplitVersionId(pending.front().first).first);
      auto entry = EntryOfVersions(store, pending);
      pending.clear();
      if (!entry.ok() && entry.status().code() == StatusCode::kIOError) return entry.status();
      if (!entry.ok()) {
        unreadable.push_back("package " + id + ": " + entry.status().message());
      } else {
        PRESERVE_ASSIGN_OR_RETURN(std::optional<IndexEntry> held, ReadIndexEntry(store, id));
        writes.Put(entry.value(), held ? &*held : nullptr);
        ++build.packages;
      }
      if (++in_step < step) return Status::Ok();
      writes.MoveInto(w);
      PutSearchIndexBuiltThrough(w, id);
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
    writes.MoveInto(w);
    PutSearchIndexEventsThrough(w, 0);
    PRESERVE_RETURN_IF_ERROR(store.Commit(std::move(w)));
    w = storage::WriteSet();
    if (progress) progress(build.packages);
  }

  // The trail's tallies, for the signature-use report. Events committed from
  // now on carry their own (AppendSubmissionEvent).
  constexpr std::size_t kEventStep = 100000;
  std::size_t in_step = 0;
  Status committed = Status::Ok();
  unsigned char buffer[8192];
  json::monotonic_resource resource(buffer, sizeof buffer);
  PRESERVE_RETURN_IF_ERROR(Maintenance(*archive_).ScanAuditLog(
      packages_done ? *state.events_through : 0,
      [&](const AuditLogEvent& e) {
        resource.release();
        json::error_code ec;
        json::value v = json::parse(e.json, ec, &resource);
        if (ec || !v.is_object()) {
          const std::string why = "audit event " + std::to_string(e.sequence) + " is not a JSON object";
          PutUnreadableEvent(w, e.sequence, why);  // named by every report, as the trail would
          unreadable.push_back(why);
        } else {
          PutTallyEntries(w, e.sequence, v.as_object());
        }
        ++build.events;
        if (++in_step < kEventStep) return true;
        PutSearchIndexEventsThrough(w, e.sequence + 1);
        committed = store.Commit(std::move(w));
        w = storage::WriteSet();
        in_step = 0;
        return committed.ok();
      },
      [&unreadable](const std::string& what) { unreadable.push_back(what); }));
  PRESERVE_RETURN_IF_ERROR(committed);

  std::string named;
  for (const auto& u : unreadable) named += (named.empty() ? "" : "; ") + u;
  PutSearchIndexComplete(w);
  w.AppendAudit(AuditEvent(clock, "index", {{"action", "built"},
                                            {"packages", std::to_string(build.packages)},
                                            {"events", std::to_string(build.events)},
                                            {"unreadable", named},
                                            {"actor", actor}}));
  PRESERVE_RETURN_IF_ERROR(store.Commit(std::move(w)));
  if (progress) progress(build.packages);
  build.unreadable = std::move(unreadable);
  return build;
}

}  // namespace preserve::archive
