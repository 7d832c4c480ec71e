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

bool HoldsOnlyUtf8(ByteView bytes) {
  return IsUtf8(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// One run of Maintenance::Check: what each pass has seen so far, for the
// passes after it. What cannot be read (damage.h) is a problem to list, never
// the end of the check; errors are for a store that cannot be read at all.
//
// Memory stays small whatever the holdings: nothing is held per package but
// the 32 bytes of each object's digest (ContentReferences). Each family is
// read in its own key order, and the families are tied together by point
// reads in that order (the evidence and schedule entry of each record) and by
// counts: when every record found its own schedule entry and there are as
// many entries as records that found one, no entry is left over, and only
// when the counts differ are the entries read again to name the odd ones.
// Likewise for evidence. What is wrong with content is found in one scan of
// the content family and named with its packages in one more pass over the
// records, made only when something is wrong.
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
    PRESERVE_RETURN_IF_ERROR(CheckLeftoverScheduleEntries());
    PRESERVE_RETURN_IF_ERROR(CheckOrphans());
    PRESERVE_RETURN_IF_ERROR(CheckDeletedContent());
    PRESERVE_RETURN_IF_ERROR(CheckContentFamily());
    PRESERVE_RETURN_IF_ERROR(CheckObjectStore());
    PRESERVE_RETURN_IF_ERROR(NameContentProblems());
    PRESERVE_RETURN_IF_ERROR(ScanUnnamedTreeChunks(store_, [&](std::string_view, std::uint32_t, std::uint32_t,
                                                               std::uint64_t size) {
      ++report_.unnamed_tree_chunks;
      report_.unnamed_tree_bytes += size;
    }));
    return std::move(report_);
  }

 private:
  static constexpr std::size_t kPage = 1000;  // records read at a time

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
            ++package_entries_;
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
      PRESERVE_ASSIGN_OR_RETURN(auto page, store_.ListPackages(after, kPage, &package_gaps));
      if (page.empty()) return Status::Ok();
      std::vector<std::string_view> ids;
      ids.reserve(page.size());
      for (const auto& entry : page) ids.push_back(entry.first);
      std::vector<Result<Bytes>> evidence = store_.MultiGetEvidence(ids);
      for (std::size_t i = 0; i < page.size(); ++i)
        PRESERVE_RETURN_IF_ERROR(CheckPackage(page[i].first, page[i].second, evidence[i]));
      after = page.back().first;
    }
  }

  Status CheckPackage(const std::string& id, ByteView bytes, const Result<Bytes>& evidence) {
    ++report_.packages;
    const std::string p = "package " + id + ": ";
    if (!HoldsOnlyUtf8(bytes))
      Problem(p + "its record holds bytes that are not UTF-8 (read as %XX): 'preserve repair' rewrites it, "
                  "keeping the original");
    if (!evidence.ok() && evidence.status().code() != StatusCode::kNotFound && !IsDamage(evidence.status()))
      return evidence.status();
    EvidenceSkeleton skeleton;
    auto decoded = DecodePackageRecord(bytes, evidence, &skeleton);
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
      for (const auto& o : record.objects)
        PRESERVE_RETURN_IF_ERROR(referenced_.Add(o.sha256));  // found, or not, by CheckContentFamily
    }
    if (std::none_of(record.objects.begin(), record.objects.end(),
                     [](const PackageRecord::Object& o) { return o.path == package::kManifestPath; }))
      Problem(p + "has no manifest.json");
    return CheckEvidenceAndQueues(id, p, record, evidence.ok() ? &skeleton : nullptr);
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
      PRESERVE_RETURN_IF_ERROR(referenced_.Add(o.sha256));
    }
    return Status::Ok();
  }

  // The state of package `id` against the seal queue, its evidence and its schedule entry.
  // `evidence`: its skeleton, null when it has none.
  Status CheckEvidenceAndQueues(const std::string& id, const std::string& p, const PackageRecord& record,
                                const EvidenceSkeleton* evidence) {
    bool queued = queue_.erase(id) > 0;
    if (evidence != nullptr) ++packages_with_evidence_;
    // The entry at the record's renewal date, and the batch it names.
    std::optional<std::string> scheduled_batch;
    if (record.next_renewal) {
      auto entry = store_.GetScheduleEntry(*record.next_renewal, id);
      if (entry.ok()) {
        scheduled_batch = std::move(entry.value());
        ++matched_entries_;
      } else if (entry.status().code() != StatusCode::kNotFound) {
        PRESERVE_RETURN_IF_ERROR(Unreadable(entry.status(), p + "its schedule entry "));
      }
    }
    if (record.state == PackageState::kQueued) {
      ++report_.queued;
      if (!queued) Problem(p + "queued, but not in the seal queue: it would never be sealed");
      if (evidence != nullptr) Problem(p + "queued, but it has evidence");
      if (scheduled_batch) Problem(p + "queued, but scheduled for renewal at " + FormatUtcTime(*record.next_renewal));
      return Status::Ok();
    }
    // A deleted package keeps its evidence, renewed like a sealed one's.
    ++(record.state == PackageState::kDeleted ? report_.deleted : report_.sealed);
    const std::string state(PackageStateName(record.state));
    if (queued) Problem(p + state + ", but still in the seal queue");
    if (evidence == nullptr) {
      Problem(p + state + ", but it has no evidence");
    } else {
      PRESERVE_RETURN_IF_ERROR(CheckEvidence(p, *evidence, scheduled_batch.value_or("")));
    }
    if (!record.next_renewal) {
      Problem(p + state + ", but its record has no renewal date");
    } else if (!scheduled_batch) {
      Problem(p + "renewal due " + FormatUtcTime(*record.next_renewal) +
              ", but the schedule has no entry at that time");
    }
    return Status::Ok();
  }

  // Every batch a package's evidence uses must be stored (each read once per
  // check), and the schedule must name the batch of its newest time-stamp:
  // renewal takes the hash and the deadline from that batch, not from the evidence.
  Status CheckEvidence(const std::string& p, const EvidenceSkeleton& skeleton, const std::string& scheduled_batch) {
    if (skeleton.chains.empty()) {
      Problem(p + "its evidence has no archive time-stamp");
      return Status::Ok();
    }
    if (!skeleton.chains.back().empty() && !scheduled_batch.empty() &&
        skeleton.chains.back().back().batch_id != scheduled_batch)
      Problem(p + "its renewal is scheduled by batch " + scheduled_batch +
              ", but its newest time-stamp is from batch " + skeleton.chains.back().back().batch_id);
    for (const auto& chain : skeleton.chains) {
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

  // Schedule entries that no record's renewal date matched: read again, and
  // each looked up by its package, only when there are some (see above).
  Status CheckLeftoverScheduleEntries() {
    if (package_entries_ == matched_entries_) return Status::Ok();
    const storage::ScanGapSink reported_above = [](const storage::ScanGap&) {};
    Status failed = Status::Ok();
    PRESERVE_RETURN_IF_ERROR(store_.ScanSchedule(
        [&](const storage::ScheduleEntry& e) {
          if (IsHeadSubject(e.package_id)) return true;
          const std::string when = FormatUtcTime(e.due);
          auto bytes = store_.GetPackage(e.package_id);
          if (!bytes.ok()) {
            if (bytes.status().code() == StatusCode::kNotFound)
              Problem("schedule: " + when + " for " + e.package_id + ", which is not a package");
            else if (!IsDamage(bytes.status()))
              failed = bytes.status();
            return failed.ok();  // a damaged record was named by CheckPackages
          }
          auto record = DecodePackageRecord(bytes.value(), store_);
          if (!record.ok() || (record->next_renewal && *record->next_renewal == e.due)) return true;  // named above
          const std::string p = "package " + e.package_id + ": ";
          if (record->state == PackageState::kQueued) {
            Problem(p + "queued, but scheduled for renewal at " + when);
          } else if (!record->next_renewal) {
            Problem(p + "scheduled at " + when + " though its record has no renewal date");
          } else {
            Problem(p + "the schedule has an entry at " + when + ", but its record says renewal due " +
                    FormatUtcTime(*record->next_renewal));
          }
          return true;
        },
        &reported_above));
    return failed;
  }

  // Queue, evidence and lifecycle entries of no package.
  Status CheckOrphans() {
    for (const auto& id : queue_) Problem("seal queue: " + id + " is not a package");
    PRESERVE_RETURN_IF_ERROR(CheckEvidenceEntries());
    const storage::ScanGapSink lifecycle_gaps = Skipped("lifecycle records");
    Status failed = Status::Ok();
    PRESERVE_RETURN_IF_ERROR(store_.ScanLifecycle(
        [&](std::string_view key, ByteView bytes) {
          std::string id(key);
          auto package = store_.GetPackage(id);  // in id order, as the scan: each block read once
          if (!package.ok() && package.status().code() != StatusCode::kNotFound && !IsDamage(package.status())) {
            failed = package.status();
            return false;
          }
          if (package.status().code() == StatusCode::kNotFound) {
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
        },
        &lifecycle_gaps));
    return failed;
  }

  // Evidence of no package: when there are more evidence entries than
  // records that found theirs, each entry is looked up by its package.
  Status CheckEvidenceEntries() {
    const storage::ScanGapSink evidence_gaps = Skipped("evidence entries");
    std::size_t entries = 0;
    PRESERVE_RETURN_IF_ERROR(store_.ScanEvidenceIds(
        [&](std::string_view id) {
          if (!IsHeadSubject(id)) ++entries;
          return true;
        },
        &evidence_gaps));
    if (entries == packages_with_evidence_) return Status::Ok();
    const storage::ScanGapSink reported_above = [](const storage::ScanGap&) {};
    Status failed = Status::Ok();
    PRESERVE_RETURN_IF_ERROR(store_.ScanEvidenceIds(
        [&](std::string_view id) {
          if (IsHeadSubject(id)) return true;
          auto package = store_.GetPackage(id);
          if (package.status().code() == StatusCode::kNotFound)
            Problem("evidence: " + std::string(id) + " has no package record");
          else if (!package.ok() && !IsDamage(package.status()))
            failed = package.status();
          return failed.ok();
        },
        &reported_above));
    return failed;
  }

  // Content of a deleted package may stay only for a live package that holds the same bytes.
  Status CheckDeletedContent() {
    std::string after;
    const storage::ScanGapSink reported_above = [](const storage::ScanGap&) {};
    while (!deleted_content_.empty()) {
      PRESERVE_ASSIGN_OR_RETURN(auto page, store_.ListPackages(after, kPage, &reported_above));
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

  // One scan of the content family: every object a record lists and every
  // chunk its chunk list names must be there; what no record refers to is
  // garbage (garbage.h): harmless, so counted, not a problem, and exactly
  // what 'gc' would collect.
  Status CheckContentFamily() {
    PRESERVE_RETURN_IF_ERROR(referenced_.Seal());
    const storage::ScanGapSink content_gaps = Skipped("content");
    bool lists_read = true;  // else some chunks cannot be told from garbage
    PRESERVE_RETURN_IF_ERROR(ScanUnreferencedContent(
        store_, referenced_,
        [&](ByteView, bool, std::uint64_t size) {
          ++report_.garbage_objects;
          report_.garbage_bytes += size;
        },
        [&](ByteView object, const Status& why) {
          lists_read = false;
          content_problems_.emplace(Bytes(object.begin(), object.end()), ContentProblem{true, ": " + why.message()});
          return Status::Ok();
        },
        &content_gaps));
    if (!every_record_read_ || !lists_read) report_.garbage_objects = report_.garbage_bytes = 0;
    for (const Bytes& object : referenced_.MissingObjects())
      content_problems_.emplace(object, ContentProblem{true, " (SHA-256 " + ToHex(object) + ") is not in the store"});
    for (const auto& [chunk, object] : referenced_.MissingChunks())
      Problem("content chunk " + ToHex(chunk) + " is not in the store");
    return Status::Ok();
  }

  // With content in an object store: every row's object is there, at the
  // size the row records; objects no row refers to are counted.
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
          content_problems_.emplace(
              Bytes(digest.begin(), digest.end()),
              ContentProblem{false, "content " + ToHex(digest) +
                                        (listed ? " has " + std::to_string(*listed) + " bytes in " +
                                                      objects->Describe() + ", its row says " +
                                                      std::to_string(row_size) + " (changed behind preserve's back?)"
                                                : " is referenced but missing from " + objects->Describe())});
        });
  }

  // Names each content problem with every package whose record lists the
  // object: one more pass over the records, only when there are problems.
  Status NameContentProblems() {
    if (content_problems_.empty()) return Status::Ok();
    std::set<Bytes> named;
    std::string after;
    const storage::ScanGapSink reported_above = [](const storage::ScanGap&) {};
    while (true) {
      PRESERVE_ASSIGN_OR_RETURN(auto page, store_.ListPackages(after, kPage, &reported_above));
      if (page.empty()) break;
      for (const auto& [id, bytes] : page) {
        after = id;
        auto record = DecodeStoredPackageRecord(bytes);
        if (!record.ok()) continue;
        for (const auto& o : record->objects) {
          auto [first, last] = content_problems_.equal_range(o.sha256);
          for (auto it = first; it != last; ++it) {
            named.insert(o.sha256);
            Problem("package " + id + ": " + (it->second.about_data_object ? "data object " + o.path : "") +
                    it->second.text);
          }
        }
      }
    }
    for (const auto& [digest, problem] : content_problems_)
      if (named.count(digest) == 0)
        Problem(problem.about_data_object ? "content " + ToHex(digest) + problem.text : problem.text);
    return Status::Ok();
  }

  const storage::Store& store_;
  const Clock& clock_;
  ConsistencyReport report_;
  std::set<std::string> queue_;
  std::map<std::string, std::vector<TimePoint>> head_schedule_;  // the trail's sealed heads (trail_evidence.h)
  std::size_t package_entries_ = 0;   // schedule entries of packages (not of heads)
  std::size_t matched_entries_ = 0;   // of those, the ones a record's renewal date found
  std::size_t packages_with_evidence_ = 0;
  std::set<std::string> deleted_, batches_present_, batches_missing_;
  // Content a deleted package used that is still stored: right only while a live package uses it too.
  std::map<Bytes, std::string> deleted_content_;  // digest -> the deleted package
  ContentReferences referenced_;
  // What is wrong with an object, to be named with the packages that list it.
  struct ContentProblem {
    bool about_data_object;  // the line names the package's path of it: "data object PATH" + text
    std::string text;
  };
  std::multimap<Bytes, ContentProblem> content_problems_;
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
