// Backup and restore: a consistent, self-contained copy of a store (a RocksDB
// checkpoint, every file copied, listed in backup.json with its SHA-256), and
// a new store made from one after checking every file. The only writes to a
// store are the "backup" and "restore" audit events.
#include <unistd.h>

#include <algorithm>
#include <map>

#include <boost/json.hpp>

#include "archive_impl.h"
#include "preserve/util/digest.h"
#include "preserve/util/file_copy.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

constexpr const char* kBackupManifest = "backup.json";
constexpr const char* kBackupFormat = "preserve-backup/1";
// How often a read-only backup retries when the writer removed a file it was about to copy.
constexpr int kCheckpointAttempts = 3;

// A directory that does not exist yet, or exists and is empty, may be filled.
Status CheckFresh(const std::filesystem::path& dir, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return Status::Ok();
  if (std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec)) return Status::Ok();
  return Status::AlreadyExists(what + " " + dir.string() +
                               " already exists and is not empty: refusing to overwrite it");
}

// Work happens in a hidden sibling that is renamed into place at the end, so a
// crash leaves no half-made backup or store under the name asked for.
std::filesystem::path StagingFor(const std::filesystem::path& target) {
  std::filesystem::path abs = std::filesystem::absolute(target).lexically_normal();
  if (!abs.has_filename()) abs = abs.parent_path();
  return abs.parent_path() / ("." + abs.filename().string() + ".partial-" + std::to_string(::getpid()));
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

bool IsRetryable(const Status& s) {
  return s.code() == StatusCode::kNotFound || s.code() == StatusCode::kIOError;
}

}  // namespace

namespace {

// The checkpoint of the database at `db_dir` into `into`. A writable archive
// holds the writer lock, so its view (`live`) is the store. A read-only one
// (`live` null) opens a fresh read-only view per attempt: the state as of that
// open, while a writer goes on; a file the writer deleted meanwhile
// (compaction, an obsolete log) fails the attempt, and the next starts from a
// newer view.
Status Checkpoint(storage::Store* live, const std::filesystem::path& db_dir, const std::filesystem::path& into) {
  std::error_code ec;
  Status checkpointed;
  for (int attempt = 0; attempt < kCheckpointAttempts; ++attempt) {
    std::filesystem::remove_all(into, ec);
    if (live != nullptr) return live->Checkpoint(into);
    auto view = storage::Store::Open(db_dir, {.read_only = true});
    checkpointed = view.ok() ? view.value()->Checkpoint(into) : view.status();
    if (checkpointed.ok() || !IsRetryable(checkpointed)) break;
  }
  return checkpointed;
}

// Files the checkpoint in `staging`/db hard-linked share their blocks with the
// live store: a flipped bit would damage both. A backup must fail
// independently, so each link becomes a copy of its own. Returns every
// database file's SHA-256, by its path relative to `staging`.
Result<std::map<std::string, Bytes>> OwnDatabaseFiles(const std::filesystem::path& staging) {
  PRESERVE_ASSIGN_OR_RETURN(std::vector<std::string> db_files, FilesUnder(staging / "db"));
  std::map<std::string, Bytes> digests;
  std::error_code ec;
  for (const auto& rel : db_files) {
    std::filesystem::path path = staging / "db" / rel;
    if (std::filesystem::hard_link_count(path, ec) > 1) {
      std::filesystem::path copy = path;
      copy += ".copy";
      PRESERVE_ASSIGN_OR_RETURN(digests["db/" + rel], CopyToNewFile(path, copy));
      std::filesystem::rename(copy, path, ec);
      if (ec) return Status::IOError("replacing " + path.string() + ": " + ec.message());
    } else {
      PRESERVE_ASSIGN_OR_RETURN(digests["db/" + rel], DigestFile(HashAlgorithm::kSha256, path));
    }
  }
  return digests;
}

// Copies the TSA, policy and settings of the store at `root` into `staging`,
// adding their SHA-256s to `digests`: small files, replaced atomically by
// their writers.
Status CopyStoreFiles(const std::filesystem::path& root, const std::filesystem::path& staging,
                      std::map<std::string, Bytes>& digests) {
  std::vector<std::string> extra = {PolicyPath(".").filename().string(), ConfigPath(".").filename().string()};
  PRESERVE_ASSIGN_OR_RETURN(std::vector<std::string> tsa_files, FilesUnder(TsaDir(root)));
  for (const auto& rel : tsa_files) extra.push_back("tsa/" + rel);
  std::error_code ec;
  for (const auto& rel : extra) {
    std::filesystem::path from = root / rel;
    if (!std::filesystem::exists(from, ec)) continue;  // policy.json and config.json may be absent: defaults
    std::filesystem::create_directories((staging / rel).parent_path(), ec);
    PRESERVE_ASSIGN_OR_RETURN(digests[rel], CopyToNewFile(from, staging / rel));
  }
  return Status::Ok();
}

// Writes backup.json into `staging` (every file with its SHA-256, and the
// copied trail's head, read from the copy: which also proves it opens), then
// syncs the backup's directories.
Result<BackupOutcome> WriteBackupManifest(const std::filesystem::path& staging,
                                          const std::map<std::string, Bytes>& digests,
                                          const std::filesystem::path& root, TimePoint now) {
  BackupOutcome outcome;
  {
    auto copy = storage::Store::Open(staging / "db", {.read_only = true});
    if (!copy.ok()) return copy.status().WithContext("the checkpoint does not open");
    PRESERVE_ASSIGN_OR_RETURN(storage::AuditChainHead head, copy.value()->AuditHead());
    outcome.audit_events = head.events;
    outcome.audit_head = head.hash;
  }
  std::error_code ec;
  json::object files;
  for (const auto& [rel, digest] : digests) {
    files[rel] = ToHex(digest);
    outcome.bytes += std::filesystem::file_size(staging / rel, ec);
  }
  outcome.files = digests.size();
  json::object manifest{{"format", kBackupFormat},
                        {"created", FormatUtcTime(now)},
                        {"source", std::filesystem::absolute(root).string()},
                        {"audit_events", outcome.audit_events},
                        {"audit_head", ToHex(outcome.audit_head)},
                        {"files", std::move(files)}};
  PRESERVE_RETURN_IF_ERROR(WriteFileAtomic(staging / kBackupManifest, AsBytes(json::serialize(manifest))));
  for (const auto& dir : {staging / "db", staging / "tsa", staging}) {
    if (std::filesystem::is_directory(dir, ec)) PRESERVE_RETURN_IF_ERROR(SyncDirectory(dir));
  }
  return outcome;
}

}  // namespace

Result<BackupOutcome> Maintenance::Backup(const std::filesystem::path& destination) {
  PRESERVE_RETURN_IF_ERROR(CheckFresh(destination, "the backup destination"));
  const std::filesystem::path staging = StagingFor(destination);
  std::error_code ec;
  std::filesystem::remove_all(staging, ec);
  std::filesystem::create_directories(staging, ec);
  if (ec) return Status::IOError("cannot create " + staging.string() + ": " + ec.message());
  auto made = [&]() -> Result<BackupOutcome> {
    PRESERVE_RETURN_IF_ERROR(
        Checkpoint(impl_->writable() ? impl_->store.get() : nullptr, DbDir(impl_->root), staging / "db"));
    PRESERVE_ASSIGN_OR_RETURN(auto digests, OwnDatabaseFiles(staging));
    PRESERVE_RETURN_IF_ERROR(CopyStoreFiles(impl_->root, staging, digests));
    PRESERVE_ASSIGN_OR_RETURN(BackupOutcome outcome,
                              WriteBackupManifest(staging, digests, impl_->root, impl_->clock->Now()));
    std::filesystem::rename(staging, destination, ec);
    if (ec) return Status::IOError("moving the backup to " + destination.string() + ": " + ec.message());
    return outcome;
  }();
  if (!made.ok()) {
    std::filesystem::remove_all(staging, ec);  // no half-made backup stays behind
    return made.status();
  }
  BackupOutcome outcome = std::move(made).value();
  outcome.destination = destination;

  if (impl_->writable()) {
    storage::WriteSet w;
    w.AppendAudit(AuditEvent(*impl_->clock, "backup",
                             {{"destination", std::filesystem::absolute(destination).string()},
                              {"audit_events", std::to_string(outcome.audit_events)},
                              {"audit_head", ToHex(outcome.audit_head)}}));
    PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)).WithContext("recording the backup"));
  }
  return outcome;
}

// Over 60 lines: check every file, copy, open, record: one staging directory's life.
Result<BackupOutcome> Maintenance::Restore(const std::filesystem::path& backup, const std::filesystem::path& root,
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
      if (!IsSafeRelativePath(rel))
        return Status::InvalidArgument(backup.string() + ": unsafe path " + std::string(rel));
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
    if (ec)
      return undo(Status::IOError("cannot create " + (staging / rel).parent_path().string() + ": " + ec.message()));
    auto copied = CopyToNewFile(backup / rel, staging / rel);
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

  PRESERVE_ASSIGN_OR_RETURN(std::unique_ptr<Archive> restored,
                            Archive::Open(root, clock, {.mode = OpenMode::kWritable}));
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

}  // namespace preserve::archive
