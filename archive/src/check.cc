// Consistency of the store's indexes: records, evidence, batches, the seal
// queue and the renewal schedule agree with each other (presence, not
// hashes: that is fixity.cc). Reads only.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "archive_impl.h"
#include "damage.h"
#include "garbage.h"
#include "lifecycle.h"
#include "preserve/package/manifest.h"
#include "preserve/util/digest.h"
#include "preserve/util/unicode.h"

namespace preserve::archive {

namespace {

std::string Join(const std::vector<TimePoint>& times) {
  std::string out;
  for (const auto& t : times) out += (out.empty() ? "" : ", ") + FormatUtcTime(t);
  return out;
}

bool HoldsOnlyUtf8(ByteView bytes) {
  return IsUtf8(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// One run of Maintenance::Check: what each pass has seen so far, for the
// passes after it. What cannot be read (damage.h) is a problem to list, never
// the end of the check; errors are for a store that cannot be read at all.
class ConsistencyCheck {
 public:
  ConsistencyCheck(const storage::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // `check_heads` checks the trail's sealed heads against their schedule
  // entries (Archive::Impl::CheckHeadSubjects), naming problems to its sink.
  using HeadCheck = std::function<Status(const std::map<std::string, std::vector<TimePoint>>& schedule,
                                         const std::function<void(std::string)>& problem)>;
  Result<ConsistencyReport> Run(const HeadCheck& check_heads) {
    PRESERVE_RETURN_IF_ERROR(ReadQueueAndSchedule());
    PRESERVE_RETURN_IF_ERROR(check_heads(head_schedule_, [this](std::string line) { Problem(std::move(line)); }));
    PRESERVE_RETURN_IF_ERROR(CheckPackages());
    PRESERVE_RETURN_IF_ERROR(CheckOrphans());
    PRESERVE_RETURN_IF_ERROR(CheckDeletedContent());
    PRESERVE_RETURN_IF_ERROR(CheckChunks());
    PRESERVE_RETURN_IF_ERROR(CheckObjectStore());
    PRESERVE_RETURN_IF_ERROR(ScanUnnamedTreeChunks(store_, [&](std::string_view, std::uint32_t, std::uint32_t,
                                                               std::uint64_t size) {
      ++report_.unnamed_tree_chunks;
      report_.unnamed_tree_bytes += size;
    }));
    return std::move(report_);
  }

 private:
  void Problem(std::string line) { report_.problems.push_back(std::move(line)); }

  storage::ScanGapSink Skipped(std::string records) {
    return [this, records](const storage::ScanGap& gap) { Problem(DescribeGap(records, gap)); };
  }

  Status Unreadable(const Status& s, const std::string& what) {
    if (!IsDamage(s)) return s;
    Problem(what + "cannot be read: " + s.message());
    return Status::Ok();
  }

  Status ReadQueueAndSchedule() {
    const storage::ScanGapSink queue_gaps = Skipped("seal queue entries");
    PRESERVE_ASSIGN_OR_RETURN(std::vector<std::string> queue_list, store_.ListQueued(SIZE_MAX, &queue_gaps));
    queue_.insert(queue_list.begin(), queue_list.end());
    const TimePoint now = clock_.Now();
    const storage::ScanGapSink schedule_gaps = Skipped("schedule entries");
    return store_.ScanSchedule(
        [&](const storage::ScheduleEntry& e) {
          if (IsHeadSubject(e.package_id)) {
            head_schedule_[e.package_id].push_back(e.due);
          } else {
            Scheduled& entry = schedule_[e.package_id];
            entry.due.push_back(e.due);
            entry.newest_batch = e.newest_batch;
          }
          ++report_.schedule_entries;
          // Due before now: the newest time-stamp stopped protecting it, and no renewal came in time.
          if (e.due <= now) {
            ++report_.lapsed;
            Problem(SubjectName(e.package_id) + ": its evidence lapsed on " + FormatUtcTime(e.due) +
                    " (renewal was due then): run 'preserve restart-evidence' to start a new chain");
          }
          return true;
        },
        &schedule_gaps);
  }

  Status CheckPackages() {
    const storage::ScanGapSink package_gaps = [this](const storage::ScanGap& gap) {
      Problem(DescribeGap("package records", gap));
      every_record_read_ = false;
    };
    std::string after;
    while (true) {
      PRESERVE_ASSIGN_OR_RETURN(auto page, store_.ListPackages(after, 1000, &package_gaps));
      if (page.empty()) return Status::Ok();
      for (const auto& [id, bytes] : page) {
        after = id;
        PRESERVE_RETURN_IF_ERROR(CheckPackage(id, bytes));
      }
    }
  }

  Status CheckPackage(const std::string& id, ByteView bytes) {
    ++report_.packages;
    packages_.insert(id);
    const std::string p = "package " + id + ": ";
    if (!HoldsOnlyUtf8(bytes))
      Problem(p + "its record holds bytes that are not UTF-8 (read as %XX): 'preserve repair' rewrites it, "
                  "keeping the original");
    auto decoded = DecodePackageRecord(bytes, store_);
    if (!decoded.ok()) {
      Problem(p + "unreadable record: " + decoded.status().message());
      every_record_read_ = false;
      return Status::Ok();
    }
    const PackageRecord& record = decoded.value();
    if (record.id != id) Problem(p + "its record names package '" + record.id + "'");
    if (record.state == PackageState::kDeleted) {
      PRESERVE_RETURN_IF_ERROR(CheckTombstonedContent(id, p, record));
    } else {
      PRESERVE_RETURN_IF_ERROR(CheckContent(p, record));
    }
    if (std::none_of(record.objects.begin(), record.objects.end(),
                     [](const PackageRecord::Object& o) { return o.path == package::kManifestPath; }))
      Problem(p + "has no manifest.json");
    return CheckEvidenceAndQueues(id, p, record);
  }

  // A deleted package: no content is expected; the tombstone must keep the record's digests.
  Status CheckTombstonedContent(const std::string& id, const std::string& p, const PackageRecord& record) {
    deleted_.insert(id);
    auto kept = TombstoneHashes(store_, record, HashAlgorithm::kSha256);
    StatusCode code = kept.status().code();
    if (!kept.ok() && code != StatusCode::kCorruption && code != StatusCode::kFailedPrecondition)
      return kept.status();
    if (!kept.ok()) Problem(kept.status().message());
    for (std::size_t i = 0; i < record.objects.size(); ++i) {
      const auto& o = record.objects[i];
      if (kept.ok() && kept.value()[i] != o.sha256)
        Problem(p + "its tombstone's SHA-256 of " + o.path + " differs from its record's");
      auto present = store_.HasContent(o.sha256);
      if (!present.ok()) {
        PRESERVE_RETURN_IF_ERROR(Unreadable(present.status(), p + "data object " + o.path + " "));
        continue;
      }
      if (!present.value()) continue;
      deleted_content_.emplace(o.sha256, id);
      auto chunks = store_.ContentChunks(o.sha256);
      if (!chunks.ok() && chunks.status().code() != StatusCode::kCorruption) return chunks.status();
      referenced_.Add(o.sha256, chunks.ok() ? chunks.value() : std::vector<Bytes>{});
    }
    return Status::Ok();
  }

  Status CheckContent(const std::string& p, const PackageRecord& record) {
    for (const auto& o : record.objects) {
      auto present = store_.HasContent(o.sha256);
      if (!present.ok()) {
        PRESERVE_RETURN_IF_ERROR(Unreadable(present.status(), p + "data object " + o.path + " "));
        continue;
      }
      if (!present.value()) {
        Problem(p + "data object " + o.path + " (SHA-256 " + ToHex(o.sha256) + ") is not in the store");
        continue;
      }
      if (store_.object_store() != nullptr) holder_.emplace(o.sha256, p);
      auto chunks = store_.ContentChunks(o.sha256);
      if (!chunks.ok() && chunks.status().code() != StatusCode::kCorruption) return chunks.status();
      if (!chunks.ok()) Problem(p + "data object " + o.path + ": " + chunks.status().message());
      referenced_.Add(o.sha256, chunks.ok() ? chunks.value() : std::vector<Bytes>{});
    }
    return Status::Ok();
  }

  // The state of package `id` against the seal queue, its evidence and the schedule.
  Status CheckEvidenceAndQueues(const std::string& id, const std::string& p, const PackageRecord& record) {
    Scheduled scheduled;
    if (auto found = schedule_.find(id); found != schedule_.end()) {
      scheduled = std::move(found->second);
      schedule_.erase(found);
    }
    const std::vector<TimePoint>& due = scheduled.due;
    bool queued = queue_.erase(id) > 0;
    auto evidence = store_.GetEvidence(id);
    if (!evidence.ok() && evidence.status().code() != StatusCode::kNotFound)
      return Unreadable(evidence.status(), p + "its evidence ");
    if (record.state == PackageState::kQueued) {
      ++report_.queued;
      if (!queued) Problem(p + "queued, but not in the seal queue: it would never be sealed");
      if (evidence.ok()) Problem(p + "queued, but it has evidence");
      if (!due.empty()) Problem(p + "queued, but scheduled for renewal at " + Join(due));
      return Status::Ok();
    }
    // A deleted package keeps its evidence, renewed like a sealed one's.
    ++(record.state == PackageState::kDeleted ? report_.deleted : report_.sealed);
    const std::string state(PackageStateName(record.state));
    if (queued) Problem(p + state + ", but still in the seal queue");
    if (!evidence.ok()) {
      Problem(p + state + ", but it has no evidence");
    } else {
      PRESERVE_RETURN_IF_ERROR(CheckEvidence(p, evidence.value(), scheduled.newest_batch));
    }
    if (!record.next_renewal) {
      Problem(p + state + ", but its record has no renewal date");
      if (!due.empty()) Problem(p + "scheduled at " + Join(due) + " though its record has no renewal date");
    } else if (due.size() != 1 || due.front() != *record.next_renewal) {
      Problem(p + "renewal due " + FormatUtcTime(*record.next_renewal) + ", but the schedule has " +
              (due.empty() ? std::string("no entry") : Join(due)));
    }
    return Status::Ok();
  }

  // Every batch a package's evidence uses must be stored (each read once per
  // check), and the schedule must name the batch of its newest time-stamp:
  // renewal takes the hash and the deadline from that batch, not from the evidence.
  Status CheckEvidence(const std::string& p, ByteView evidence, const std::string& scheduled_batch) {
    auto skeleton = DecodeEvidenceSkeleton(evidence);
    if (!skeleton.ok()) {
      Problem(p + "unreadable evidence: " + skeleton.status().message());
      return Status::Ok();
    }
    if (skeleton->chains.empty()) {
      Problem(p + "its evidence has no archive time-stamp");
      return Status::Ok();
    }
    if (!skeleton->chains.back().empty() && !scheduled_batch.empty() &&
        skeleton->chains.back().back().batch_id != scheduled_batch)
      Problem(p + "its renewal is scheduled by batch " + scheduled_batch +
              ", but its newest time-stamp is from batch " + skeleton->chains.back().back().batch_id);
    for (const auto& chain : skeleton->chains) {
      if (chain.empty()) Problem(p + "its evidence has an empty chain");
      for (const auto& ats : chain) {
        if (batches_present_.count(ats.batch_id) > 0) continue;
        bool reported = batches_missing_.count(ats.batch_id) > 0;
        auto batch = store_.GetBatch(ats.batch_id);
        if (batch.ok()) {
          batches_present_.insert(ats.batch_id);
        } else if (batch.status().code() == StatusCode::kNotFound) {
          batches_missing_.insert(ats.batch_id);
          Problem(p + "its evidence uses batch " + ats.batch_id + ", which is not in the store" +
                  (reported ? " (as for other packages)" : ""));
        } else {
          PRESERVE_RETURN_IF_ERROR(Unreadable(batch.status(), p + "batch " + ats.batch_id + " "));
        }
      }
    }
    return Status::Ok();
  }

  // Queue, schedule, evidence and lifecycle entries of no package.
  Status CheckOrphans() {
    for (const auto& id : queue_) Problem("seal queue: " + id + " is not a package");
    for (const auto& [id, scheduled] : schedule_)
      Problem("schedule: " + Join(scheduled.due) + " for " + id + ", which is not a package");
    const storage::ScanGapSink evidence_gaps = Skipped("evidence entries");
    PRESERVE_RETURN_IF_ERROR(store_.ScanEvidenceIds(
        [&](std::string_view id) {
          if (!IsHeadSubject(id) && packages_.count(std::string(id)) == 0)
            Problem("evidence: " + std::string(id) + " has no package record");
          return true;
        },
        &evidence_gaps));
    const storage::ScanGapSink lifecycle_gaps = Skipped("lifecycle records");
    return store_.ScanLifecycle([&](std::string_view key, ByteView bytes) {
      std::string id(key);
      if (packages_.count(id) == 0) {
        Problem("lifecycle: " + id + " has no package record");
      } else if (deleted_.count(id) == 0) {  // a deleted package's record was read above
        auto lifecycle = DecodeLifecycle(bytes);
        if (!lifecycle.ok()) {
          Problem("package " + id + ": unreadable lifecycle record: " + lifecycle.status().message());
        } else if (lifecycle->tombstone) {
          Problem("package " + id + ": it has a tombstone, but its record is not deleted");
        }
      }
      if (!HoldsOnlyUtf8(bytes))
        Problem("package " + id + ": its lifecycle record holds bytes that are not UTF-8 (read as %XX): "
                "'preserve repair' rewrites it, keeping the original");
      return true;
    }, &lifecycle_gaps);
  }

  // Content of a deleted package may stay only for a live package that holds the same bytes.
  Status CheckDeletedContent() {
    std::string after;
    const storage::ScanGapSink reported_above = [](const storage::ScanGap&) {};
    while (!deleted_content_.empty()) {
      PRESERVE_ASSIGN_OR_RETURN(auto page, store_.ListPackages(after, 1000, &reported_above));
      if (page.empty()) break;
      for (const auto& [id, bytes] : page) {
        after = id;
        auto record = DecodeStoredPackageRecord(bytes);
        if (!record.ok() || record->state == PackageState::kDeleted) continue;
        for (const auto& o : record->objects) deleted_content_.erase(o.sha256);
      }
    }
    for (const auto& [digest, id] : deleted_content_)
      Problem("package " + id + ": deleted, but its content SHA-256 " + ToHex(digest) +
              " is still stored and no other package uses it");
    return Status::Ok();
  }

  // Every chunk a record's object lists must be stored; what no record refers
  // to is garbage (garbage.h): harmless, so counted, not a problem, and
  // exactly what 'gc' would collect.
  Status CheckChunks() {
    referenced_.Seal();
    bool content_skipped = false;  // a damaged stretch hid chunks from the scan: a point read tells
    const storage::ScanGapSink content_gaps = [&](const storage::ScanGap& gap) {
      Problem(DescribeGap("content", gap));
      content_skipped = true;
    };
    PRESERVE_RETURN_IF_ERROR(ScanUnreferencedContent(
        store_, referenced_,
        [&](ByteView, bool, std::uint64_t size) {
          if (!every_record_read_) return;
          ++report_.garbage_objects;
          report_.garbage_bytes += size;
        },
        &content_gaps));
    for (const Bytes& chunk : referenced_.UnvisitedChunks()) {
      if (content_skipped) {
        auto present = store_.HasContent(chunk);
        if (!present.ok()) {
          PRESERVE_RETURN_IF_ERROR(Unreadable(present.status(), "content chunk " + ToHex(chunk) + " "));
          continue;
        }
        if (present.value()) continue;
      }
      Problem("content chunk " + ToHex(chunk) + " is not in the store");
    }
    return Status::Ok();
  }

  // With content in an object store: every row's object is there, at the
  // size the row records; objects no row refers to are counted. Objects are
  // named with a package that holds them.
  Status CheckObjectStore() {
    storage::ObjectStore* objects = store_.object_store();
    if (objects == nullptr) return Status::Ok();
    return CompareObjectStore(
        store_, *objects,
        [&](ByteView, std::uint64_t size) {
          ++report_.unreferenced_objects;
          report_.unreferenced_object_bytes += size;
        },
        [&](ByteView digest, std::uint64_t row_size, std::optional<std::uint64_t> listed) {
          auto holder = holder_.find(Bytes(digest.begin(), digest.end()));
          const std::string who = holder == holder_.end() ? "content " : holder->second + "content ";
          Problem(who + ToHex(digest) + (listed ? " has " + std::to_string(*listed) + " bytes in " +
                                                      objects->Describe() + ", its row says " +
                                                      std::to_string(row_size) + " (changed behind preserve's back?)"
                                                : " is referenced but missing from " + objects->Describe()));
        });
  }

  const storage::Store& store_;
  const Clock& clock_;
  std::map<Bytes, std::string> holder_;  // object store only: digest -> "package ID: " of one package holding it
  ConsistencyReport report_;
  std::set<std::string> queue_;
  struct Scheduled {
    std::vector<TimePoint> due;
    std::string newest_batch;  // the last entry's (storage::ScheduleEntry)
  };
  std::map<std::string, Scheduled> schedule_;                    // package id -> its entries
  std::map<std::string, std::vector<TimePoint>> head_schedule_;  // the trail's sealed heads (trail_evidence.h)
  std::set<std::string> packages_, deleted_, batches_present_, batches_missing_;
  // Content a deleted package used that is still stored: right only while a live package uses it too.
  std::map<Bytes, std::string> deleted_content_;  // digest -> the deleted package
  ContentReferences referenced_;
  bool every_record_read_ = true;  // else what is garbage cannot be told
};

}  // namespace

Result<ConsistencyReport> Maintenance::Check() {
  const Archive::Impl* impl = impl_;
  return ConsistencyCheck(*impl->store, *impl->clock).Run([impl](const auto& schedule, const auto& problem) {
    return impl->CheckHeadSubjects(schedule, problem);
  });
}

}  // namespace preserve::archive
