// Retention, holds and lawful deletion.
//
// A package may be deleted only once its retention has passed and no hold is
// in force. Deletion erases the content no other package uses (content is
// stored once per SHA-256, so another package may hold the same bytes) and
// keeps everything that proves the record existed and was lawfully deleted:
// the package record (state "deleted"), its evidence record, which stays
// scheduled for renewal, and a tombstone with every data object's digest
// under each hash algorithm a later hash-tree renewal may pick.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "archive_impl.h"
#include "damage.h"
#include "lifecycle.h"
#include "search_index.h"
#include "submissions.h"
#include "preserve/util/digest.h"

namespace preserve::archive {

namespace {

// The algorithms a tombstone keeps digests under: all preserve can seal with.
// A hash-tree renewal needs H'(data) for the new algorithm H', and once the
// content is gone only the tombstone can supply it. (SHA-1 never seals new evidence.)
constexpr HashAlgorithm kTombstoneAlgorithms[] = {HashAlgorithm::kSha256,   HashAlgorithm::kSha384,
                                                  HashAlgorithm::kSha512,   HashAlgorithm::kSha3_256,
                                                  HashAlgorithm::kSha3_384, HashAlgorithm::kSha3_512};

// `writable`: the archive was opened for writing (it then holds its embedded TSA).
Status RequireWritable(bool writable) {
  if (!writable) return Status::FailedPrecondition("the store is open read-only");
  return Status::Ok();
}

// Every change to a package's lifecycle is answerable: why, and who asked.
Status RequireReason(const std::string& reason, const std::string& actor) {
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos)
    return Status::InvalidArgument("a reason is required");
  if (actor.empty()) return Status::InvalidArgument("who asks for the change is required");
  return Status::Ok();
}

// Retention, holds and deletion are the package's, whatever its versions.
Status RequirePackage(const std::string& id) {
  if (auto [base, version] = SplitVersionId(id); version > 1)
    return Status::InvalidArgument("'" + id + "' is version " + std::to_string(version) + " of package " +
                                   std::string(base) + ": retention, holds and deletion apply to the package");
  return Status::Ok();
}

std::string DescribeRetention(const PackageLifecycle& l) {
  if (l.retention.permanent) return "permanent";
  return std::to_string(l.retention.years) + " years, until " + (l.retain_until ? FormatUtcTime(*l.retain_until) : "?");
}

std::string DescribeHolds(const std::vector<Hold>& holds) {
  std::string out;
  for (const auto& h : holds) {
    out += (out.empty() ? "" : "; ") + std::string("hold ") + std::to_string(h.number) + " (" + h.reason +
           ", placed by " + h.placed_by + " at " + FormatUtcTime(h.placed_at) + ")";
  }
  return out;
}

}  // namespace

Lifecycle::Lifecycle(Archive& archive) : impl_(archive.impl_.get()) {}

Result<PackageLifecycle> Lifecycle::Of(const std::string& package_id) {
  PRESERVE_RETURN_IF_ERROR(RequirePackage(package_id));
  PRESERVE_RETURN_IF_ERROR(impl_->LoadRecord(package_id).status());
  return LoadLifecycle(*impl_->store, package_id);
}

Result<std::vector<PackageLifecycle>> Lifecycle::Held() {
  std::vector<PackageLifecycle> out;
  // A record, or a stretch of records, that cannot be read may hold a hold:
  // it is listed as unreadable, and the scan goes on.
  auto unreadable = [&out](std::string id, std::string why) {
    PackageLifecycle named;
    named.package_id = std::move(id);
    named.unreadable = std::move(why);
    out.push_back(std::move(named));
  };
  const storage::ScanGapSink gaps = [&unreadable](const storage::ScanGap& gap) {
    unreadable("", DescribeGap("lifecycle records", gap));
  };
  PRESERVE_RETURN_IF_ERROR(impl_->store->ScanLifecycle(
      [&](std::string_view id, ByteView bytes) {
        auto lifecycle = DecodeLifecycle(bytes);
        if (!lifecycle.ok()) {
          unreadable(std::string(id), lifecycle.status().message());
        } else if (!lifecycle->holds.empty()) {
          out.push_back(std::move(lifecycle).value());
        }
        return true;
      },
      &gaps));
  return out;
}

Status Lifecycle::SetRetention(const std::string& package_id, const Retention& retention, const std::string& reason,
                               const std::string& actor) {
  PRESERVE_RETURN_IF_ERROR(RequireWritable(impl_->writable()));
  PRESERVE_RETURN_IF_ERROR(RequirePackage(package_id));
  PRESERVE_RETURN_IF_ERROR(RequireReason(reason, actor));
  PRESERVE_RETURN_IF_ERROR(CheckRetention(retention));
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, impl_->LoadRecord(package_id));
  if (record.state == PackageState::kDeleted) return DeletedError(*impl_->store, record, "its retention is over");
  PRESERVE_ASSIGN_OR_RETURN(PackageLifecycle lifecycle, LoadLifecycle(*impl_->store, package_id));
  std::string previous = DescribeRetention(lifecycle);
  lifecycle.retention = retention;
  lifecycle.retain_until = RetainUntil(record.created, retention);
  storage::WriteSet w;
  w.PutLifecycle(package_id, EncodeLifecycle(lifecycle));
  ProtectObjects(w, record, lifecycle);
  w.AppendAudit(AuditEvent(*impl_->clock, "retention",
                           {{"package", package_id},
                            {"retention", DescribeRetention(lifecycle)},
                            {"previous", previous},
                            {"reason", reason},
                            {"by", actor}}));
  return impl_->store->Commit(std::move(w));
}

Result<Hold> Lifecycle::AddHold(const std::string& package_id, const std::string& reason, const std::string& actor) {
  PRESERVE_RETURN_IF_ERROR(RequireWritable(impl_->writable()));
  PRESERVE_RETURN_IF_ERROR(RequirePackage(package_id));
  PRESERVE_RETURN_IF_ERROR(RequireReason(reason, actor));
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, impl_->LoadRecord(package_id));
  if (record.state == PackageState::kDeleted)
    return DeletedError(*impl_->store, record, "there is nothing left to hold");
  PRESERVE_ASSIGN_OR_RETURN(PackageLifecycle lifecycle, LoadLifecycle(*impl_->store, package_id));
  Hold hold{++lifecycle.holds_placed, reason, actor, impl_->clock->Now()};
  lifecycle.holds.push_back(hold);
  storage::WriteSet w;
  w.PutLifecycle(package_id, EncodeLifecycle(lifecycle));
  ProtectObjects(w, record, lifecycle);
  w.AppendAudit(AuditEvent(*impl_->clock, "hold",
                           {{"package", package_id},
                            {"hold", std::to_string(hold.number)},
                            {"reason", reason},
                            {"by", actor}}));
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  return hold;
}

Result<Hold> Lifecycle::RemoveHold(const std::string& package_id, std::uint32_t number, const std::string& reason,
                                   const std::string& actor) {
  PRESERVE_RETURN_IF_ERROR(RequireWritable(impl_->writable()));
  PRESERVE_RETURN_IF_ERROR(RequirePackage(package_id));
  PRESERVE_RETURN_IF_ERROR(RequireReason(reason, actor));
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, impl_->LoadRecord(package_id));
  PRESERVE_ASSIGN_OR_RETURN(PackageLifecycle lifecycle, LoadLifecycle(*impl_->store, package_id));
  const std::string p = "package " + package_id;
  if (lifecycle.holds.empty()) return Status::FailedPrecondition(p + " has no hold in force");
  if (number == 0 && lifecycle.holds.size() > 1)
    return Status::InvalidArgument(p + " has " + std::to_string(lifecycle.holds.size()) +
                                   " holds in force: name the one to lift (" + DescribeHolds(lifecycle.holds) + ")");
  auto found = std::find_if(lifecycle.holds.begin(), lifecycle.holds.end(),
                            [number](const Hold& h) { return number == 0 || h.number == number; });
  if (found == lifecycle.holds.end())
    return Status::NotFound(p + " has no hold " + std::to_string(number) + " in force (" +
                            DescribeHolds(lifecycle.holds) + ")");
  Hold lifted = *found;
  lifecycle.holds.erase(found);
  storage::WriteSet w;
  w.PutLifecycle(package_id, EncodeLifecycle(lifecycle));
  if (lifecycle.holds.empty()) LiftObjectHolds(w, record);
  w.AppendAudit(AuditEvent(*impl_->clock, "release",
                           {{"package", package_id},
                            {"hold", std::to_string(lifted.number)},
                            {"hold_reason", lifted.reason},
                            {"reason", reason},
                            {"by", actor}}));
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  return lifted;
}

namespace {

// The law first: retention, then holds. `p` names the package for people.
Status MayDelete(const PackageRecord& record, const PackageLifecycle& lifecycle, TimePoint now, const std::string& p) {
  if (!lifecycle.retain_until)
    return Status::FailedPrecondition(p + " is kept permanently (retention: permanent): it may not be deleted");
  if (now < *lifecycle.retain_until)
    return Status::FailedPrecondition(p + " must be kept until " + FormatUtcTime(*lifecycle.retain_until) +
                                      " (retention " + std::to_string(lifecycle.retention.years) +
                                      " years from its creation at " + FormatUtcTime(record.created) +
                                      "): it may not be deleted before");
  if (!lifecycle.holds.empty())
    return Status::FailedPrecondition(p + " is under " + DescribeHolds(lifecycle.holds) +
                                      ": lift the holds first ('preserve hold remove')");
  return Status::Ok();
}

// The content the package's versions `records` hold: every object and, for
// one stored as a chunk list, its chunks (each is content that another
// object, stored whole or as a chunk list, may share).
struct OwnContent {
  std::set<Bytes> digests;                        // objects and chunks
  std::map<Bytes, std::vector<Bytes>> chunks_of;  // object -> its chunks, when stored as a chunk list
};
Result<OwnContent> ContentOf(const storage::Store& store, const std::vector<PackageRecord>& records) {
  OwnContent own;
  for (const auto& r : records) {
    for (const auto& o : r.objects) {
      if (!own.digests.insert(o.sha256).second) continue;  // an object of an earlier version
      PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> chunks, store.ContentChunks(o.sha256));
      own.digests.insert(chunks.begin(), chunks.end());
      if (!chunks.empty()) own.chunks_of.emplace(o.sha256, std::move(chunks));
    }
  }
  return own;
}

// Of `mine`, what any other live package than `package_id` still refers to.
// Every package record is read; a rare operation, so a scan rather than a
// reference index that every ingest would have to keep.
Result<std::set<Bytes>> SharedContent(const storage::Store& store, const std::string& package_id,
                                      const std::set<Bytes>& mine, const std::string& p) {
  std::set<Bytes> shared;
  std::string after;
  while (shared.size() < mine.size()) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, store.ListPackages(after, 1000));
    if (page.empty()) break;
    for (const auto& [id, bytes] : page) {
      after = id;
      if (SplitVersionId(id).first == package_id) continue;  // the package itself, any version
      auto other = DecodeStoredPackageRecord(bytes);  // the objects and whether deleted: no evidence read
      // An unreadable record might refer to this content: erase nothing on a guess.
      if (!other.ok())
        return other.status().WithContext("cannot tell whether package " + id + " shares content with " + p);
      if (other->state == PackageState::kDeleted) continue;
      for (const auto& o : other->objects) {
        if (mine.count(o.sha256) > 0) shared.insert(o.sha256);
        // Even when nothing of this package is chunked: an object of it stored
        // whole may be the very bytes of another object's chunk (a last chunk
        // can have any size).
        PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> chunks, store.ContentChunks(o.sha256));
        for (const auto& c : chunks)
          if (mine.count(c) > 0) shared.insert(c);
      }
    }
  }
  return shared;
}

// A distinct object's tombstone digests and size, computed once whichever versions hold it.
struct Kept {
  std::map<HashAlgorithm, Bytes> digests;
  std::uint64_t size = 0;
};
// Streams a stored object (Archive::Impl::DigestContent), giving its digest under each algorithm and its size.
using ContentDigester =
    std::function<Result<std::vector<Bytes>>(ByteView sha256, const std::vector<HashAlgorithm>& algs, std::uint64_t*)>;

// Puts in `w` each of `records` as deleted, with its tombstone in its
// lifecycle record (the package's own keeps `lifecycle`'s retention and
// holds; a version's holds nothing else). Returns every distinct object's
// digests by SHA-256; `listed` gets "path SHA-256" of each, for the audit event.
Result<std::map<Bytes, Kept>> PutTombstones(std::vector<PackageRecord>& records, const PackageLifecycle& lifecycle,
                                            const Tombstone& deletion, const ContentDigester& digest,
                                            storage::WriteSet& w, std::string& listed) {
  std::map<Bytes, Kept> kept_by_sha256;
  const std::vector<HashAlgorithm> algs(std::begin(kTombstoneAlgorithms), std::end(kTombstoneAlgorithms));
  for (auto& r : records) {
    Tombstone tombstone = deletion;
    for (const auto& o : r.objects) {
      auto kept = kept_by_sha256.find(o.sha256);
      if (kept == kept_by_sha256.end()) {
        std::uint64_t size = 0;
        PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> kept_digests, digest(o.sha256, algs, &size));
        // The tombstone's other digests are computed from these bytes: they must be the sealed ones.
        static_assert(kTombstoneAlgorithms[0] == HashAlgorithm::kSha256);
        if (kept_digests.front() != o.sha256)
          return Status::Corruption("package " + lifecycle.package_id + ": " + o.path +
                                    " does not match its SHA-256 (run 'preserve fixity'); not deleted, since its "
                                    "tombstone would keep wrong digests");
        Kept computed{{}, size};
        for (std::size_t i = 0; i < algs.size(); ++i) computed.digests[algs[i]] = std::move(kept_digests[i]);
        kept = kept_by_sha256.emplace(o.sha256, std::move(computed)).first;
        listed += (listed.empty() ? "" : ", ") + o.path + " " + ToHex(o.sha256);
      }
      tombstone.objects.push_back({o.path, o.size, kept->second.digests});
    }
    r.state = PackageState::kDeleted;
    w.PutPackage(r.id, EncodePackageRecord(r));
    PackageLifecycle kept_lifecycle = r.id == lifecycle.package_id ? lifecycle : PackageLifecycle{};
    kept_lifecycle.package_id = r.id;
    kept_lifecycle.tombstone = std::move(tombstone);
    w.PutLifecycle(r.id, EncodeLifecycle(kept_lifecycle));
  }
  return kept_by_sha256;
}

// Erases in `w` the content of `kept` that no other package shares, and the
// chunks of it that none does; counts what it erased and kept in `outcome`.
void EraseUnshared(const std::map<Bytes, Kept>& kept, const OwnContent& own, const std::set<Bytes>& shared,
                   storage::WriteSet& w, DeletionOutcome& outcome) {
  std::set<Bytes> erased;
  for (const auto& [sha256, object] : kept) {
    if (shared.count(sha256) > 0) {
      ++outcome.shared;
      continue;
    }
    if (!erased.insert(sha256).second) continue;
    w.EraseContent(sha256);
    if (auto list = own.chunks_of.find(sha256); list != own.chunks_of.end()) {
      for (const auto& c : list->second)
        if (shared.count(c) == 0 && erased.insert(c).second) w.EraseContent(c);
    }
    ++outcome.erased;
    outcome.bytes_erased += object.size;
  }
}

}  // namespace

Result<DeletionOutcome> Lifecycle::Delete(const std::string& package_id, const std::string& reason,
                                          const std::string& actor) {
  return DeleteSealed(package_id, "", reason, actor);
}

Result<DeletionOutcome> Lifecycle::DeleteDuplicate(const std::string& package_id, const std::string& duplicate_of,
                                                   const std::string& reason, const std::string& actor) {
  if (duplicate_of.empty()) return Status::InvalidArgument("the package that stays is required");
  return DeleteSealed(package_id, duplicate_of, reason, actor);
}

// The submission keys (submissions.h) of a live package's latest version.
Result<std::vector<Bytes>> Lifecycle::SignedObjectsOf(const std::string& package_id) {
  PRESERVE_ASSIGN_OR_RETURN(auto versions, impl_->VersionRecords(package_id));
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord latest, DecodePackageRecord(versions.back().second, *impl_->store));
  for (const auto& o : latest.objects) {
    if (o.path != package::kManifestPath) continue;
    PRESERVE_ASSIGN_OR_RETURN(Bytes json, impl_->store->GetContent(o.sha256));
    PRESERVE_ASSIGN_OR_RETURN(package::Manifest manifest, package::ManifestFromJson(json));
    return SubmissionKeys(manifest);
  }
  return Status::Corruption("package " + latest.id + " has no manifest");
}

// Whether `package_id` may go as a duplicate of `kept`: another live, sealed
// package that holds every signed object it holds. Its retention is then no
// reason to keep it (the records stay in `kept`); its holds still are.
Status Lifecycle::MayDeleteAsDuplicate(const std::string& package_id, const std::string& kept) {
  const std::string p = "package " + package_id;
  if (SplitVersionId(kept).first == SplitVersionId(package_id).first)
    return Status::InvalidArgument(p + " cannot be a duplicate of itself");
  PRESERVE_RETURN_IF_ERROR(RequirePackage(kept));
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord kept_record, impl_->LoadRecord(kept));
  if (kept_record.state != PackageState::kSealed)
    return Status::FailedPrecondition("package " + kept + " is " + std::string(PackageStateName(kept_record.state)) +
                                      ": the package that stays must be sealed");
  PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> own, SignedObjectsOf(package_id));
  PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> held, SignedObjectsOf(kept));
  const std::set<Bytes> held_set(held.begin(), held.end());
  if (own.empty()) return Status::FailedPrecondition(p + " holds no signed object to compare");
  for (const auto& key : own)
    if (held_set.count(key) == 0)
      return Status::FailedPrecondition(p + " is not a duplicate of package " + kept +
                                        ": it holds a signed document that package does not");
  return Status::Ok();
}

// Over 60 lines: deletion's checks and its one write, in order, each commented.
Result<DeletionOutcome> Lifecycle::DeleteSealed(const std::string& package_id, const std::string& duplicate_of,
                                                const std::string& reason, const std::string& actor) {
  PRESERVE_RETURN_IF_ERROR(RequireWritable(impl_->writable()));
  PRESERVE_RETURN_IF_ERROR(RequirePackage(package_id));
  PRESERVE_RETURN_IF_ERROR(RequireReason(reason, actor));
  const storage::Store& store = *impl_->store;
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, impl_->LoadRecord(package_id));
  const std::string p = "package " + package_id;
  if (record.state == PackageState::kDeleted) return DeletedError(store, record, "there is nothing left to delete");
  // What is kept of a deleted package proves what was deleted only through
  // its evidence record, so a package must be sealed before it may go.
  if (record.state != PackageState::kSealed)
    return Status::FailedPrecondition(p + " is not sealed yet: seal it first ('preserve seal'), so that its "
                                          "tombstone keeps an evidence record of what was deleted");
  PRESERVE_ASSIGN_OR_RETURN(PackageLifecycle lifecycle, LoadLifecycle(store, package_id));
  const TimePoint now = impl_->clock->Now();
  if (duplicate_of.empty()) {
    PRESERVE_RETURN_IF_ERROR(MayDelete(record, lifecycle, now, p));
  } else {
    PRESERVE_RETURN_IF_ERROR(MayDeleteAsDuplicate(package_id, duplicate_of));
    if (!lifecycle.holds.empty())
      return Status::FailedPrecondition(p + " is under " + DescribeHolds(lifecycle.holds) +
                                        ": lift the holds first ('preserve hold remove')");
  }
  PRESERVE_RETURN_IF_ERROR(impl_->LoadSkeleton(package_id).status());
  // Every version goes: each must be sealed, so that its tombstone keeps an evidence record too.
  PRESERVE_ASSIGN_OR_RETURN(auto versions, impl_->VersionRecords(package_id));
  std::vector<PackageRecord> records = {record};
  for (std::size_t i = 1; i < versions.size(); ++i) {
    PRESERVE_ASSIGN_OR_RETURN(PackageRecord version, DecodePackageRecord(versions[i].second, store));
    if (version.state != PackageState::kSealed)
      return Status::FailedPrecondition(p + ": its version " + version.id + " is not sealed yet: seal it first "
                                            "('preserve seal')");
    records.push_back(std::move(version));
  }
  // The submission index names the package that stays from now on.
  PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> keys, SignedObjectsOf(package_id));
  // Content is stored once per SHA-256: keep what any other live package still refers to.
  PRESERVE_ASSIGN_OR_RETURN(OwnContent own, ContentOf(store, records));
  PRESERVE_ASSIGN_OR_RETURN(std::set<Bytes> shared, SharedContent(store, package_id, own.digests, p));

  DeletionOutcome outcome;
  outcome.package_id = package_id;
  outcome.deleted_at = now;
  storage::WriteSet w;
  for (const auto& key : keys) {
    auto holder = store.GetSubmission(key);
    if (holder.ok() && SplitVersionId(*holder).first == package_id) {
      if (duplicate_of.empty()) w.EraseSubmission(key);
      else w.PutSubmission(key, duplicate_of);
    }
  }
  std::string digests;  // for the audit event: the trail itself then proves what was deleted
  const Archive::Impl* impl = impl_;
  PRESERVE_ASSIGN_OR_RETURN(
      auto kept, PutTombstones(records, lifecycle, Tombstone{now, reason, actor, {}},
                               [impl](ByteView sha256, const std::vector<HashAlgorithm>& algs, std::uint64_t* size) {
                                 return impl->DigestContent(sha256, algs, size);
                               },
                               w, digests));
  outcome.objects = kept.size();
  EraseUnshared(kept, own, shared, w, outcome);
  PRESERVE_ASSIGN_OR_RETURN(std::optional<IndexEntry> indexed, ReadIndexEntry(store, package_id));
  if (indexed) PutIndexEntry(w, DeletedIndexEntry(*indexed), &*indexed);
  w.AppendAudit(AuditEvent(*impl_->clock, "delete",
                           {{"package", package_id},
                            {"reason", reason},
                            {"by", actor},
                            {"retained_until", lifecycle.retain_until ? FormatUtcTime(*lifecycle.retain_until)
                                                                      : std::string("permanent")},
                            {"duplicate_of", duplicate_of},
                            {"objects", digests},
                            {"erased", std::to_string(outcome.erased)},
                            {"shared", std::to_string(outcome.shared)},
                            {"versions", std::to_string(records.size())}}));
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  return outcome;
}

}  // namespace preserve::archive
