// Keeping the store whole: the audit trail's walk, fixity (re-reading and
// re-hashing content), consistency of the indexes, backup and restore, and
// getting a package's files out.
//
// Nothing here writes evidence. The only writes are audit events ("fixity",
// "backup", "restore") and, for restore, the new store's files.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include <boost/json.hpp>

#include "archive_impl.h"
#include "damage.h"
#include "garbage.h"
#include "lifecycle.h"
#include "preserve/package/manifest.h"
#include "preserve/util/digest.h"
#include "preserve/util/unicode.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

constexpr const char* kBackupManifest = "backup.json";
constexpr const char* kBackupFormat = "preserve-backup/1";
// How often a read-only backup retries when the writer removed a file it was about to copy.
constexpr int kCheckpointAttempts = 3;

// A path from a package record or a backup manifest, before it is joined to a
// directory: relative, '/'-separated, nothing that climbs out.
bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// A directory that does not exist yet, or exists and is empty, may be filled.
Status CheckFresh(const std::filesystem::path& dir, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return Status::Ok();
  if (std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec)) return Status::Ok();
  return Status::AlreadyExists(what + " " + dir.string() + " already exists and is not empty: refusing to overwrite it");
}

// Work happens in a hidden sibling that is renamed into place at the end, so a
// crash leaves no half-made backup or store under the name asked for.
std::filesystem::path StagingFor(const std::filesystem::path& target) {
  std::filesystem::path abs = std::filesystem::absolute(target).lexically_normal();
  if (!abs.has_filename()) abs = abs.parent_path();
  return abs.parent_path() / ("." + abs.filename().string() + ".partial-" + std::to_string(::getpid()));
}

}  // namespace

namespace {

// Copies `from` to the new file `to` (never an existing one), synced, and
// returns the SHA-256 of the bytes written, read once.
Result<Bytes> CopyNewFile(const std::filesystem::path& from, const std::filesystem::path& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::IOError(from.string() + ": cannot open: " + std::strerror(errno));
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    std::string err = std::strerror(errno);
    ::close(in);
    return Status::IOError(to.string() + ": cannot create: " + err);
  }
  auto fail = [&](const std::filesystem::path& where, const std::string& what) {
    std::string err = std::strerror(errno);
    ::close(in);
    ::close(out);
    return Status::IOError(where.string() + ": " + what + ": " + err);
  };
  Hasher hasher(HashAlgorithm::kSha256);
  std::vector<std::uint8_t> buffer(1 << 20);
  while (true) {
    ssize_t n = ::read(in, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(from, "read failed");
    if (n == 0) break;
    auto len = static_cast<std::size_t>(n);
    hasher.Update(ByteView(buffer.data(), len));
    for (std::size_t done = 0; done < len;) {
      ssize_t w = ::write(out, buffer.data() + done, len - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return fail(to, "write failed");
      done += static_cast<std::size_t>(w);
    }
  }
  if (::fsync(out) != 0) return fail(to, "fsync failed");
  ::close(in);
  if (::close(out) != 0) return Status::IOError(to.string() + ": close failed: " + std::strerror(errno));
  return hasher.Finish();
}

// Every regular file under `dir`, as '/'-separated paths relative to it, sorted.
Result<std::vector<std::string>> FilesUnder(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) out.push_back(it->path().lexically_relative(dir).generic_string());
  }
  if (ec) return Status::IOError("listing " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// Writes the new file `path` (never an existing one) from `content`'s
// pieces; on failure removes what it wrote.
Status WriteNewFile(const std::filesystem::path& path, const ContentSource& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST) return Status::AlreadyExists(path.string() + " already exists: not overwritten");
  if (fd < 0) return Status::IOError(path.string() + ": cannot create: " + std::strerror(errno));
  Status written = content([&](ByteView bytes) -> Status {
    for (std::size_t done = 0; done < bytes.size();) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::IOError(path.string() + ": write failed: " + std::strerror(errno));
      done += static_cast<std::size_t>(n);
    }
    return Status::Ok();
  });
  if (::close(fd) != 0 && written.ok())
    written = Status::IOError(path.string() + ": close failed: " + std::strerror(errno));
  if (!written.ok()) ::unlink(path.c_str());
  return written;
}

Status WriteNewFile(const std::filesystem::path& path, ByteView bytes) {
  return WriteNewFile(path, [bytes](const ContentSink& sink) { return sink(bytes); });
}

bool IsRetryable(const Status& s) {
  return s.code() == StatusCode::kNotFound || s.code() == StatusCode::kIOError;
}

std::string Join(const std::vector<TimePoint>& times) {
  std::string out;
  for (const auto& t : times) out += (out.empty() ? "" : ", ") + FormatUtcTime(t);
  return out;
}

}  // namespace

// ---- Audit trail ----

Status Archive::ScanAuditLog(std::uint64_t first_sequence, const std::function<bool(const AuditLogEvent&)>& visit,
                             const std::function<void(const std::string&)>& unreadable) {
  const storage::ScanGapSink gaps = [&unreadable](const storage::ScanGap& gap) {
    unreadable(DescribeGap("audit events", gap, true));
  };
  return impl_->store->ScanAudit(
      first_sequence,
      [&visit](const storage::AuditEntry& entry) {
        // An event's stored bytes are chained and sealed: never rewritten,
        // they are shown leniently (unicode.h).
        std::string text = ToString(entry.event);
        const bool escaped = !IsUtf8(text);
        return visit(AuditLogEvent{entry.sequence, escaped ? EscapeInvalidUtf8(text) : std::move(text), escaped,
                                   entry.hash});
      },
      unreadable ? &gaps : nullptr);
}

// ---- Fixity ----

namespace {

// Compares the manifest's listing with the package record: both were written
// in the same atomic ingest, so any difference is damage to one of them.
void CompareManifest(const PackageRecord& record, ByteView manifest_json, PackageFixity& out) {
  auto manifest = package::ManifestFromJson(manifest_json);
  if (!manifest.ok()) {
    out.damage.push_back({package::kManifestPath, "unreadable: " + manifest.status().message()});
    return;
  }
  if (manifest->package_id != record.id)
    out.damage.push_back({package::kManifestPath, "names package '" + manifest->package_id + "'"});
  std::map<std::string, const PackageRecord::Object*> by_path;
  for (const auto& o : record.objects) by_path[o.path] = &o;
  by_path.erase(package::kManifestPath);
  for (const auto& entry : manifest->objects) {
    auto found = by_path.find(entry.path);
    if (found == by_path.end()) {
      out.damage.push_back({entry.path, "listed in the manifest but missing from the package record"});
      continue;
    }
    if (entry.sha256 != found->second->sha256)
      out.damage.push_back({entry.path, "the manifest lists SHA-256 " + ToHex(entry.sha256) +
                                            ", the package record " + ToHex(found->second->sha256)});
    by_path.erase(found);
  }
  for (const auto& [path, object] : by_path)
    out.damage.push_back({path, "in the package record but not listed in the manifest"});
}

}  // namespace

Result<FixitySummary> Archive::Fixity(const FixityOptions& options,
                                      const std::function<void(const PackageFixity&)>& each) {
  if (!(options.sample > 0.0 && options.sample <= 1.0))
    return Status::InvalidArgument("the sample must be a fraction in (0, 1]");
  std::array<std::uint8_t, 8> seed_bytes{};
  PRESERVE_RETURN_IF_ERROR(RandomBytes(seed_bytes));
  std::uint64_t seed = 0;
  for (std::uint8_t b : seed_bytes) seed = (seed << 8) | b;
  std::mt19937_64 random(seed);
  std::bernoulli_distribution pick(options.sample);

  FixitySummary summary;
  BatchCache batches;
  std::string after;
  // A stretch of package records that cannot be read is damage like any
  // other: reported (whatever the sample), and the rest is checked.
  std::vector<std::string> unreadable;
  const storage::ScanGapSink gaps = [&unreadable](const storage::ScanGap& gap) {
    unreadable.push_back(DescribeGap("package records", gap));
  };
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, impl_->store->ListPackages(after, 1000, &gaps));
    for (auto& what : unreadable) {
      ++summary.damaged;
      each(PackageFixity{"", 0, {{"records", std::move(what)}}});
    }
    unreadable.clear();
    if (page.empty()) break;
    for (const auto& [id, record_bytes] : page) {
      after = id;
      ++summary.packages;
      if (options.sample < 1.0 && !pick(random)) continue;
      auto record = DecodePackageRecord(record_bytes, *impl_->store);
      // A deleted package holds no content to re-read; 'check' looks at its tombstone.
      if (record.ok() && record->state == kStateDeleted) continue;
      ++summary.checked;
      PackageFixity result{id, 0, {}};
      if (!record.ok()) {
        result.damage.push_back({"record", "unreadable: " + record.status().message()});
      } else {
        PRESERVE_RETURN_IF_ERROR(impl_->CheckFixity(record.value(), batches, result));
      }
      summary.objects += result.objects;
      if (!result.damage.empty()) ++summary.damaged;
      each(result);
    }
  }
  if (!impl_->tsa) return summary;  // read-only: the caller says the event was not recorded
  storage::WriteSet w;
  PutJobRun(w, "fixity",
            {impl_->clock->Now(),
             std::to_string(summary.checked) + " of " + std::to_string(summary.packages) + " packages re-read, " +
                 std::to_string(summary.damaged) + " damaged",
             summary.damaged == 0});
  w.AppendAudit(AuditEvent(*impl_->clock, "fixity",
                           {{"packages", std::to_string(summary.packages)},
                            {"checked", std::to_string(summary.checked)},
                            {"damaged", std::to_string(summary.damaged)},
                            {"objects", std::to_string(summary.objects)},
                            {"sample", std::to_string(options.sample)}}));
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)).WithContext("recording the fixity check"));
  return summary;
}

Status Archive::Impl::CheckFixity(const PackageRecord& record, BatchCache& batches, PackageFixity& out) const {
  // Each object is streamed once (a large one is never in memory): its
  // SHA-256 against the record; the intact ones are kept by path.
  std::map<std::string, Bytes> intact;  // path -> SHA-256
  for (const auto& o : record.objects) {
    std::uint64_t size = 0;
    auto digest = DigestContent(o.sha256, {HashAlgorithm::kSha256}, &size);
    if (!digest.ok()) {
      // Missing content (or a missing chunk) or a RocksDB checksum failure is
      // damage to this object; other errors (the disk went away) end the whole check.
      StatusCode code = digest.status().code();
      if (code != StatusCode::kNotFound && code != StatusCode::kCorruption) return digest.status();
      out.damage.push_back({o.path, code == StatusCode::kNotFound ? "missing from the store"
                                                                  : "unreadable: " + digest.status().message()});
      continue;
    }
    ++out.objects;
    const Bytes& actual = digest->front();
    if (actual != o.sha256) {
      out.damage.push_back({o.path, "content changed: SHA-256 is " + ToHex(actual) + ", the package record says " +
                                        ToHex(o.sha256)});
      continue;
    }
    if (size != o.size)
      out.damage.push_back({o.path, "size is " + std::to_string(size) + ", the package record says " +
                                        std::to_string(o.size)});
    intact.emplace(o.path, actual);
  }
  auto manifest = intact.find(package::kManifestPath);
  if (manifest == intact.end()) {
    if (out.damage.empty()) out.damage.push_back({package::kManifestPath, "not in the package record"});
  } else {
    PRESERVE_ASSIGN_OR_RETURN(Bytes manifest_bytes, store->GetContent(manifest->second));
    CompareManifest(record, manifest_bytes, out);
  }
  if (record.state != "sealed" || !out.damage.empty()) return Status::Ok();

  // The data must still be what the first archive time-stamp covered: its
  // reduced hash tree's first list holds the group's member hashes, and the
  // tree must lead to the batch root the token was checked against at sealing.
  // (Token signatures and later chains are 'preserve verify''s work.)
  auto skeleton = LoadSkeleton(record.id);
  if (!skeleton.ok()) {
    out.damage.push_back({"evidence", skeleton.status().message()});
    return Status::Ok();
  }
  if (skeleton->chains.empty() || skeleton->chains.front().empty()) {
    out.damage.push_back({"evidence", "the evidence record has no archive time-stamp"});
    return Status::Ok();
  }
  const EvidenceSkeleton::Ats& first = skeleton->chains.front().front();
  auto batch = LoadBatch(first.batch_id, batches);
  if (!batch.ok()) {
    out.damage.push_back({"evidence", "batch " + first.batch_id + ": " + batch.status().message()});
    return Status::Ok();
  }
  // The reduced tree as the evidence record holds it (derived from the batch's stored tree).
  auto assembled = Assemble(record, skeleton.value(), batches);
  if (!assembled.ok()) {
    out.damage.push_back({"evidence", assembled.status().message()});
    return Status::Ok();
  }
  const std::optional<timestamp::ReducedHashtree>& first_tree = assembled->sequence.front().front().reduced_hashtree;
  HashAlgorithm alg = batch.value()->hash_algorithm;
  std::map<std::string, Bytes> hashed;  // path -> hash under the batch's algorithm
  for (const auto& [path, sha256] : intact) {
    if (alg == HashAlgorithm::kSha256) {
      hashed.emplace(path, sha256);
      continue;
    }
    auto digest = DigestContent(sha256, {alg});
    if (!digest.ok() && !IsDamage(digest.status())) return digest.status();
    if (!digest.ok()) {
      out.damage.push_back({path, "unreadable: " + digest.status().message()});
      return Status::Ok();
    }
    hashed.emplace(path, std::move(digest->front()));
  }
  std::vector<Bytes> members;
  for (const auto& [path, hash] : hashed) members.push_back(hash);
  Bytes leads_to;
  if (first_tree && !first_tree->empty()) {
    std::vector<Bytes> sealed = first_tree->front();
    for (const auto& [path, hash] : hashed) {
      if (std::find(sealed.begin(), sealed.end(), hash) == sealed.end())
        out.damage.push_back({path, "its " + std::string(HashAlgorithmName(alg)) +
                                        " hash is not among those the first archive time-stamp covers"});
    }
    std::vector<Bytes> mine = members;
    std::sort(mine.begin(), mine.end());
    std::sort(sealed.begin(), sealed.end());
    if (out.damage.empty() && mine != sealed)
      out.damage.push_back({"evidence", "the first archive time-stamp covers " + std::to_string(sealed.size()) +
                                            " data objects, the package has " + std::to_string(mine.size())});
    leads_to = timestamp::ReducedTreeRoot(alg, *first_tree);
  } else {
    leads_to = timestamp::GroupHash(alg, members);
  }
  if (out.damage.empty() && leads_to != batch.value()->root)
    out.damage.push_back({"evidence", "the first archive time-stamp's hash tree no longer leads to batch " +
                                          first.batch_id + "'s time-stamped root"});
  return Status::Ok();
}

// ---- Consistency ----

Result<ConsistencyReport> Archive::Check() {
  ConsistencyReport report;
  auto problem = [&report](std::string line) { report.problems.push_back(std::move(line)); };
  // What cannot be read (damage.h) is a problem to list, never the end of the check.
  auto skipped = [&problem](std::string records) {
    return storage::ScanGapSink([&problem, records](const storage::ScanGap& gap) {
      problem(DescribeGap(records, gap));
    });
  };
  auto unreadable = [&problem](const Status& s, const std::string& what) -> Status {
    if (!IsDamage(s)) return s;
    problem(what + "cannot be read: " + s.message());
    return Status::Ok();
  };
  const storage::ScanGapSink queue_gaps = skipped("seal queue entries");
  PRESERVE_ASSIGN_OR_RETURN(std::vector<std::string> queue_list, impl_->store->ListQueued(SIZE_MAX, &queue_gaps));
  std::set<std::string> queue(queue_list.begin(), queue_list.end());
  std::map<std::string, std::vector<TimePoint>> schedule;  // package id -> due times
  std::map<std::string, std::vector<TimePoint>> head_schedule;  // the trail's sealed heads (trail_evidence.h)
  const TimePoint now = impl_->clock->Now();
  const storage::ScanGapSink schedule_gaps = skipped("schedule entries");
  PRESERVE_RETURN_IF_ERROR(impl_->store->ScanSchedule(
      [&](const storage::ScheduleEntry& e) {
        (IsHeadSubject(e.package_id) ? head_schedule : schedule)[e.package_id].push_back(e.due);
        ++report.schedule_entries;
        // Due before now: the newest time-stamp stopped protecting it, and no renewal came in time.
        if (e.due <= now) {
          ++report.lapsed;
          problem(SubjectName(e.package_id) + ": its evidence lapsed on " + FormatUtcTime(e.due) +
                  " (renewal was due then): run 'preserve restart-evidence' to start a new chain");
        }
        return true;
      },
      &schedule_gaps));
  PRESERVE_RETURN_IF_ERROR(impl_->CheckHeadSubjects(head_schedule, problem));

  std::set<std::string> packages, deleted, batches_present, batches_missing;
  // Content a deleted package used that is still stored: right only while a live package uses it too.
  std::map<Bytes, std::string> deleted_content;  // digest -> the deleted package
  ContentReferences referenced;
  bool every_record_read = true;  // else what is garbage cannot be told
  const storage::ScanGapSink package_gaps = [&](const storage::ScanGap& gap) {
    problem(DescribeGap("package records", gap));
    every_record_read = false;
  };
  std::string after;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, impl_->store->ListPackages(after, 1000, &package_gaps));
    if (page.empty()) break;
    for (const auto& [id, bytes] : page) {
      after = id;
      ++report.packages;
      packages.insert(id);
      const std::string p = "package " + id + ": ";
      if (!IsUtf8(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())))
        problem(p + "its record holds bytes that are not UTF-8 (read as %XX): 'preserve repair' rewrites it, "
                    "keeping the original");
      auto decoded = DecodePackageRecord(bytes, *impl_->store);
      if (!decoded.ok()) {
        problem(p + "unreadable record: " + decoded.status().message());
        every_record_read = false;
        continue;
      }
      const PackageRecord& record = decoded.value();
      if (record.id != id) problem(p + "its record names package '" + record.id + "'");
      const bool is_deleted = record.state == kStateDeleted;
      if (is_deleted) {
        // No content is expected; the tombstone must keep the record's digests.
        deleted.insert(id);
        auto kept = TombstoneHashes(*impl_->store, record, HashAlgorithm::kSha256);
        StatusCode code = kept.status().code();
        if (!kept.ok() && code != StatusCode::kCorruption && code != StatusCode::kFailedPrecondition)
          return kept.status();
        if (!kept.ok()) problem(kept.status().message());
        for (std::size_t i = 0; i < record.objects.size(); ++i) {
          const auto& o = record.objects[i];
          if (kept.ok() && kept.value()[i] != o.sha256)
            problem(p + "its tombstone's SHA-256 of " + o.path + " differs from its record's");
          auto present = impl_->store->HasContent(o.sha256);
          if (!present.ok()) {
            PRESERVE_RETURN_IF_ERROR(unreadable(present.status(), p + "data object " + o.path + " "));
            continue;
          }
          if (!present.value()) continue;
          deleted_content.emplace(o.sha256, id);
          auto chunks = impl_->store->ContentChunks(o.sha256);
          if (!chunks.ok() && chunks.status().code() != StatusCode::kCorruption) return chunks.status();
          referenced.Add(o.sha256, chunks.ok() ? chunks.value() : std::vector<Bytes>{});
        }
      } else {
        for (const auto& o : record.objects) {
          auto present = impl_->store->HasContent(o.sha256);
          if (!present.ok()) {
            PRESERVE_RETURN_IF_ERROR(unreadable(present.status(), p + "data object " + o.path + " "));
            continue;
          }
          if (!present.value()) {
            problem(p + "data object " + o.path + " (SHA-256 " + ToHex(o.sha256) + ") is not in the store");
            continue;
          }
          auto chunks = impl_->store->ContentChunks(o.sha256);
          if (!chunks.ok() && chunks.status().code() != StatusCode::kCorruption) return chunks.status();
          if (!chunks.ok()) problem(p + "data object " + o.path + ": " + chunks.status().message());
          referenced.Add(o.sha256, chunks.ok() ? chunks.value() : std::vector<Bytes>{});
        }
      }
      if (std::none_of(record.objects.begin(), record.objects.end(),
                       [](const PackageRecord::Object& o) { return o.path == package::kManifestPath; }))
        problem(p + "has no manifest.json");

      auto scheduled = schedule.find(id);
      std::vector<TimePoint> due = scheduled == schedule.end() ? std::vector<TimePoint>{} : scheduled->second;
      if (scheduled != schedule.end()) schedule.erase(scheduled);
      bool queued = queue.erase(id) > 0;
      auto evidence = impl_->store->GetEvidence(id);
      if (!evidence.ok() && evidence.status().code() != StatusCode::kNotFound) {
        PRESERVE_RETURN_IF_ERROR(unreadable(evidence.status(), p + "its evidence "));
        continue;
      }

      if (record.state == "queued") {
        ++report.queued;
        if (!queued) problem(p + "queued, but not in the seal queue: it would never be sealed");
        if (evidence.ok()) problem(p + "queued, but it has evidence");
        if (!due.empty()) problem(p + "queued, but scheduled for renewal at " + Join(due));
        continue;
      }
      if (record.state != "sealed" && !is_deleted) {
        problem(p + "unknown state '" + record.state + "'");
        continue;
      }
      // A deleted package keeps its evidence, renewed like a sealed one's.
      ++(is_deleted ? report.deleted : report.sealed);
      const std::string& state = record.state;
      if (queued) problem(p + state + ", but still in the seal queue");
      if (!evidence.ok()) {
        problem(p + state + ", but it has no evidence");
      } else {
        auto skeleton = DecodeEvidenceSkeleton(evidence.value());
        if (!skeleton.ok()) {
          problem(p + "unreadable evidence: " + skeleton.status().message());
        } else if (skeleton->chains.empty()) {
          problem(p + "its evidence has no archive time-stamp");
        } else {
          for (const auto& chain : skeleton->chains) {
            if (chain.empty()) problem(p + "its evidence has an empty chain");
            for (const auto& ats : chain) {
              if (batches_present.count(ats.batch_id) > 0) continue;
              bool reported = batches_missing.count(ats.batch_id) > 0;
              auto batch = impl_->store->GetBatch(ats.batch_id);
              if (batch.ok()) {
                batches_present.insert(ats.batch_id);
              } else if (batch.status().code() == StatusCode::kNotFound) {
                batches_missing.insert(ats.batch_id);
                problem(p + "its evidence uses batch " + ats.batch_id + ", which is not in the store" +
                        (reported ? " (as for other packages)" : ""));
              } else {
                PRESERVE_RETURN_IF_ERROR(unreadable(batch.status(), p + "batch " + ats.batch_id + " "));
              }
            }
          }
        }
      }
      if (!record.next_renewal) {
        problem(p + state + ", but its record has no renewal date");
        if (!due.empty()) problem(p + "scheduled at " + Join(due) + " though its record has no renewal date");
      } else if (due.size() != 1 || due.front() != *record.next_renewal) {
        problem(p + "renewal due " + FormatUtcTime(*record.next_renewal) + ", but the schedule has " +
                (due.empty() ? std::string("no entry") : Join(due)));
      }
    }
  }
  for (const auto& id : queue) problem("seal queue: " + id + " is not a package");
  for (const auto& [id, due] : schedule) problem("schedule: " + Join(due) + " for " + id + ", which is not a package");
  const storage::ScanGapSink evidence_gaps = skipped("evidence entries");
  PRESERVE_RETURN_IF_ERROR(impl_->store->ScanEvidenceIds(
      [&](std::string_view id) {
        if (!IsHeadSubject(id) && packages.count(std::string(id)) == 0)
          problem("evidence: " + std::string(id) + " has no package record");
        return true;
      },
      &evidence_gaps));
  const storage::ScanGapSink lifecycle_gaps = skipped("lifecycle records");
  PRESERVE_RETURN_IF_ERROR(impl_->store->ScanLifecycle([&](std::string_view key, ByteView bytes) {
    std::string id(key);
    if (packages.count(id) == 0) {
      problem("lifecycle: " + id + " has no package record");
    } else if (deleted.count(id) == 0) {  // a deleted package's record was read above
      auto lifecycle = DecodeLifecycle(bytes);
      if (!lifecycle.ok()) {
        problem("package " + id + ": unreadable lifecycle record: " + lifecycle.status().message());
      } else if (lifecycle->tombstone) {
        problem("package " + id + ": it has a tombstone, but its record is not deleted");
      }
    }
    if (!IsUtf8(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())))
      problem("package " + id + ": its lifecycle record holds bytes that are not UTF-8 (read as %XX): "
              "'preserve repair' rewrites it, keeping the original");
    return true;
  }, &lifecycle_gaps));
  // Content of a deleted package may stay only for a live package that holds the same bytes.
  after.clear();
  const storage::ScanGapSink reported_above = [](const storage::ScanGap&) {};
  while (!deleted_content.empty()) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, impl_->store->ListPackages(after, 1000, &reported_above));
    if (page.empty()) break;
    for (const auto& [id, bytes] : page) {
      after = id;
      auto record = DecodeStoredPackageRecord(bytes);
      if (!record.ok() || record->state == kStateDeleted) continue;
      for (const auto& o : record->objects) deleted_content.erase(o.sha256);
    }
  }
  for (const auto& [digest, id] : deleted_content)
    problem("package " + id + ": deleted, but its content SHA-256 " + ToHex(digest) +
            " is still stored and no other package uses it");

  // Every chunk a record's object lists must be stored; what no record refers
  // to is garbage (garbage.h): harmless, so counted, not a problem, and
  // exactly what 'gc' would collect.
  referenced.Seal();
  bool content_skipped = false;  // a damaged stretch hid chunks from the scan: a point read tells
  const storage::ScanGapSink content_gaps = [&](const storage::ScanGap& gap) {
    problem(DescribeGap("content", gap));
    content_skipped = true;
  };
  PRESERVE_RETURN_IF_ERROR(ScanUnreferencedContent(
      *impl_->store, referenced,
      [&](ByteView, bool, std::uint64_t size) {
        if (!every_record_read) return;
        ++report.garbage_objects;
        report.garbage_bytes += size;
      },
      &content_gaps));
  for (const Bytes& chunk : referenced.UnvisitedChunks()) {
    if (content_skipped) {
      auto present = impl_->store->HasContent(chunk);
      if (!present.ok()) {
        PRESERVE_RETURN_IF_ERROR(unreadable(present.status(), "content chunk " + ToHex(chunk) + " "));
        continue;
      }
      if (present.value()) continue;
    }
    problem("content chunk " + ToHex(chunk) + " is not in the store");
  }
  return report;
}

// ---- Backup and restore ----

Result<BackupOutcome> Archive::Backup(const std::filesystem::path& destination) {
  PRESERVE_RETURN_IF_ERROR(CheckFresh(destination, "the backup destination"));
  const std::filesystem::path staging = StagingFor(destination);
  std::error_code ec;
  std::filesystem::remove_all(staging, ec);
  std::filesystem::create_directories(staging, ec);
  if (ec) return Status::IOError("cannot create " + staging.string() + ": " + ec.message());
  auto undo = [&](Status s) {
    std::filesystem::remove_all(staging, ec);
    return s;
  };

  // The checkpoint. A writable archive holds the writer lock, so its view is
  // the store. A read-only one opens a fresh read-only view per attempt: the
  // state as of that open, while a writer goes on; a file the writer deleted
  // meanwhile (compaction, an obsolete log) fails the attempt, and the next
  // starts from a newer view.
  Status checkpointed;
  for (int attempt = 0; attempt < kCheckpointAttempts; ++attempt) {
    std::filesystem::remove_all(staging / "db", ec);
    if (impl_->tsa != nullptr) {
      checkpointed = impl_->store->Checkpoint(staging / "db");
      break;
    }
    auto view = storage::Store::Open(DbDir(impl_->root), {.read_only = true});
    checkpointed = view.ok() ? view.value()->Checkpoint(staging / "db") : view.status();
    if (checkpointed.ok() || !IsRetryable(checkpointed)) break;
  }
  if (!checkpointed.ok()) return undo(checkpointed);

  // Files the checkpoint hard-linked share their blocks with the live store: a
  // flipped bit would damage both. A backup must fail independently, so each
  // link becomes a copy of its own.
  PRESERVE_ASSIGN_OR_RETURN(std::vector<std::string> db_files, FilesUnder(staging / "db"));
  std::map<std::string, Bytes> digests;  // path relative to the backup -> SHA-256
  for (const auto& rel : db_files) {
    std::filesystem::path path = staging / "db" / rel;
    if (std::filesystem::hard_link_count(path, ec) > 1) {
      std::filesystem::path copy = path;
      copy += ".copy";
      auto digest = CopyNewFile(path, copy);
      if (!digest.ok()) return undo(digest.status());
      std::filesystem::rename(copy, path, ec);
      if (ec) return undo(Status::IOError("replacing " + path.string() + ": " + ec.message()));
      digests["db/" + rel] = std::move(digest).value();
    } else {
      auto digest = DigestFile(HashAlgorithm::kSha256, path);
      if (!digest.ok()) return undo(digest.status());
      digests["db/" + rel] = std::move(digest).value();
    }
  }

  // The TSA, policy and settings: small files, replaced atomically by their writers.
  std::vector<std::string> extra = {PolicyPath(".").filename().string(), ConfigPath(".").filename().string()};
  auto tsa_files = FilesUnder(TsaDir(impl_->root));
  if (!tsa_files.ok()) return undo(tsa_files.status());
  for (const auto& rel : tsa_files.value()) extra.push_back("tsa/" + rel);
  for (const auto& rel : extra) {
    std::filesystem::path from = impl_->root / rel;
    if (!std::filesystem::exists(from, ec)) continue;  // policy.json and config.json may be absent: defaults
    std::filesystem::create_directories((staging / rel).parent_path(), ec);
    auto digest = CopyNewFile(from, staging / rel);
    if (!digest.ok()) return undo(digest.status());
    digests[rel] = std::move(digest).value();
  }

  // The backup's own view of its audit trail: also proves the copy opens.
  BackupOutcome outcome;
  {
    auto copy = storage::Store::Open(staging / "db", {.read_only = true});
    if (!copy.ok()) return undo(copy.status().WithContext("the checkpoint does not open"));
    auto head = copy.value()->AuditHead();
    if (!head.ok()) return undo(head.status());
    outcome.audit_events = head->events;
    outcome.audit_head = head->hash;
  }
  json::object files;
  for (const auto& [rel, digest] : digests) {
    files[rel] = ToHex(digest);
    outcome.bytes += std::filesystem::file_size(staging / rel, ec);
  }
  outcome.files = digests.size();
  json::object manifest{{"format", kBackupFormat},
                        {"created", FormatUtcTime(impl_->clock->Now())},
                        {"source", std::filesystem::absolute(impl_->root).string()},
                        {"audit_events", outcome.audit_events},
                        {"audit_head", ToHex(outcome.audit_head)},
                        {"files", std::move(files)}};
  if (Status s = WriteFileAtomic(staging / kBackupManifest, AsBytes(json::serialize(manifest))); !s.ok())
    return undo(s);
  for (const auto& dir : {staging / "db", staging / "tsa", staging}) {
    if (std::filesystem::is_directory(dir, ec)) {
      if (Status s = SyncDirectory(dir); !s.ok()) return undo(s);
    }
  }
  std::filesystem::rename(staging, destination, ec);
  if (ec) return undo(Status::IOError("moving the backup to " + destination.string() + ": " + ec.message()));
  outcome.destination = destination;

  if (impl_->tsa != nullptr) {
    storage::WriteSet w;
    w.AppendAudit(AuditEvent(*impl_->clock, "backup",
                             {{"destination", std::filesystem::absolute(destination).string()},
                              {"audit_events", std::to_string(outcome.audit_events)},
                              {"audit_head", ToHex(outcome.audit_head)}}));
    PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)).WithContext("recording the backup"));
  }
  return outcome;
}

Result<BackupOutcome> Archive::Restore(const std::filesystem::path& backup, const std::filesystem::path& root,
                                       const Clock& clock) {
  PRESERVE_RETURN_IF_ERROR(CheckFresh(root, "the store"));
  PRESERVE_ASSIGN_OR_RETURN(Bytes manifest_bytes, ReadFile(backup / kBackupManifest));
  BackupOutcome outcome;
  std::map<std::string, Bytes> expected;
  try {
    json::object manifest = json::parse(ToString(manifest_bytes)).as_object();
    if (manifest.at("format").as_string() != kBackupFormat)
      return Status::InvalidArgument(backup.string() + ": not a preserve backup (format " +
                                     json::serialize(manifest.at("format")) + ")");
    outcome.audit_events = manifest.at("audit_events").to_number<std::uint64_t>();
    PRESERVE_ASSIGN_OR_RETURN(outcome.audit_head, FromHex(manifest.at("audit_head").as_string()));
    for (const auto& [rel, digest] : manifest.at("files").as_object()) {
      if (!IsSafeRelativePath(rel)) return Status::InvalidArgument(backup.string() + ": unsafe path " + std::string(rel));
      PRESERVE_ASSIGN_OR_RETURN(expected[std::string(rel)], FromHex(digest.as_string()));
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument((backup / kBackupManifest).string() + ": malformed: " + e.what());
  }

  const std::filesystem::path staging = StagingFor(root);
  std::error_code ec;
  std::filesystem::remove_all(staging, ec);
  auto undo = [&](Status s) {
    std::filesystem::remove_all(staging, ec);
    return s;
  };
  // Each file is checked as copied: what the new store holds is what the backup recorded.
  for (const auto& [rel, digest] : expected) {
    std::filesystem::create_directories((staging / rel).parent_path(), ec);
    if (ec) return undo(Status::IOError("cannot create " + (staging / rel).parent_path().string() + ": " + ec.message()));
    auto copied = CopyNewFile(backup / rel, staging / rel);
    if (!copied.ok()) {
      if (!std::filesystem::exists(backup / rel, ec))
        return undo(Status::Corruption("the backup is incomplete: " + rel + " is missing"));
      return undo(copied.status());
    }
    outcome.bytes += std::filesystem::file_size(staging / rel, ec);
    if (copied.value() != digest)
      return undo(Status::Corruption("the backup is damaged: " + rel + " has SHA-256 " + ToHex(copied.value()) +
                                     ", backup.json says " + ToHex(digest)));
  }
  outcome.files = expected.size();
  for (const auto& dir : {staging / "db", staging / "tsa", staging}) {
    if (std::filesystem::is_directory(dir, ec)) {
      if (Status s = SyncDirectory(dir); !s.ok()) return undo(s);
    }
  }
  std::filesystem::rename(staging, root, ec);
  if (ec) return undo(Status::IOError("moving the restored store to " + root.string() + ": " + ec.message()));
  outcome.destination = root;

  PRESERVE_ASSIGN_OR_RETURN(std::unique_ptr<Archive> restored, Open(root, false, clock));
  PRESERVE_ASSIGN_OR_RETURN(storage::AuditChainHead head, restored->impl_->store->AuditHead());
  if (head.events != outcome.audit_events || head.hash != outcome.audit_head)
    return Status::Corruption("the restored audit trail ends at event " + std::to_string(head.events) + " (" +
                              ToHex(head.hash) + "), backup.json says " + std::to_string(outcome.audit_events) +
                              " (" + ToHex(outcome.audit_head) + ")");
  storage::WriteSet w;
  w.AppendAudit(AuditEvent(clock, "restore",
                           {{"backup", std::filesystem::absolute(backup).string()},
                            {"audit_events", std::to_string(outcome.audit_events)},
                            {"audit_head", ToHex(outcome.audit_head)}}));
  PRESERVE_RETURN_IF_ERROR(restored->impl_->store->Commit(std::move(w)).WithContext("recording the restore"));
  return outcome;
}

// ---- Get ----

Result<std::vector<std::filesystem::path>> Archive::Get(const std::string& package_id,
                                                        const std::filesystem::path& out_dir) {
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, impl_->LoadRecord(package_id));
  if (record.state == kStateDeleted)
    return DeletedError(*impl_->store, record, "its content is gone ('preserve verify' shows what its evidence "
                                               "still proves)");
  // Everything is read and checked before anything is written: no half
  // output. A large object is streamed into a staging file beside its place,
  // checked as it goes, and linked into place with the rest.
  std::vector<std::pair<std::filesystem::path, Bytes>> files;
  std::vector<std::pair<std::filesystem::path, const PackageRecord::Object*>> large;
  for (const auto& o : record.objects) {
    if (!IsSafeRelativePath(o.path))
      return Status::Corruption("package " + package_id + ": unsafe data object path '" + o.path + "'");
    if (o.size > impl_->content_chunk_size) {
      large.emplace_back(out_dir / o.path, &o);
      continue;
    }
    PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, impl_->store->GetContent(o.sha256));
    if (Digest(HashAlgorithm::kSha256, bytes) != o.sha256)
      return Status::Corruption("package " + package_id + ": " + o.path +
                                " does not match its SHA-256 (run 'preserve fixity')");
    files.emplace_back(out_dir / o.path, std::move(bytes));
  }
  if (record.state == "sealed") {
    PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, impl_->LoadSkeleton(package_id));
    BatchCache batches;
    PRESERVE_ASSIGN_OR_RETURN(timestamp::EvidenceRecord er, impl_->Assemble(record, skeleton, batches));
    PRESERVE_ASSIGN_OR_RETURN(Bytes der, timestamp::EncodeEvidenceRecord(er));
    files.emplace_back(out_dir / "evidence.ers", std::move(der));
  }
  std::error_code ec;
  std::vector<std::filesystem::path> targets;
  for (const auto& f : files) targets.push_back(f.first);
  for (const auto& l : large) targets.push_back(l.first);
  for (const auto& path : targets) {
    if (std::filesystem::exists(path, ec))
      return Status::AlreadyExists(path.string() + " already exists: refusing to overwrite it");
  }
  std::vector<std::filesystem::path> staged;
  auto remove_staged = [&] {
    for (const auto& path : staged) std::filesystem::remove(path, ec);
  };
  auto unstage = [&](Status s) {
    remove_staged();
    return s;
  };
  for (const auto& [path, o] : large) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return unstage(Status::IOError("cannot create " + path.parent_path().string() + ": " + ec.message()));
    std::filesystem::path partial = path;
    partial += ".partial-" + std::to_string(::getpid());
    Hasher hasher(HashAlgorithm::kSha256);
    Status s = WriteNewFile(partial, [&](const ContentSink& sink) {
      return impl_->store->ReadContent(o->sha256, [&](ByteView piece) {
        hasher.Update(piece);
        return sink(piece);
      });
    });
    if (!s.ok()) return unstage(s);
    staged.push_back(partial);
    if (hasher.Finish() != o->sha256)
      return unstage(Status::Corruption("package " + package_id + ": " + o->path +
                                        " does not match its SHA-256 (run 'preserve fixity')"));
  }
  std::vector<std::filesystem::path> written;
  for (const auto& [path, bytes] : files) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return unstage(Status::IOError("cannot create " + path.parent_path().string() + ": " + ec.message()));
    if (Status s = WriteNewFile(path, bytes); !s.ok()) return unstage(s);
    written.push_back(path);
  }
  for (std::size_t i = 0; i < large.size(); ++i) {
    // link, unlike rename, never replaces a file that appeared meanwhile.
    if (::link(staged[i].c_str(), large[i].first.c_str()) != 0)
      return unstage(Status::IOError("cannot create " + large[i].first.string() + ": " + std::strerror(errno)));
    written.push_back(large[i].first);
  }
  remove_staged();  // each is linked into place now
  return written;
}

}  // namespace preserve::archive
