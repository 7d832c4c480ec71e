#include "preserve/ingest/bulk_input.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "preserve/util/file_descriptor.h"
#include "preserve/util/unicode.h"

namespace preserve::ingest {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSignatureSuffix = ".p7s";
constexpr std::string_view kMetadataSuffix = ".metadata.json";

// File-system litter, not records: dot files and folders (.DS_Store, .git) and
// the resource-fork folders macOS adds to the zips it makes.
bool IsSkipped(std::string_view name) { return name.empty() || name.front() == '.' || name == "__MACOSX"; }

bool HasSkippedPart(std::string_view path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = std::min(path.find('/', start), path.size());
    if (IsSkipped(path.substr(start, end - start))) return true;
    start = end + 1;
  }
  return false;
}

bool EndsWithIgnoringCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - static_cast<std::ptrdiff_t>(suffix.size()),
                    [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
}

bool IsSignedOnItsOwn(std::string_view path) {
  for (std::string_view suffix : {".p7m", ".pdf", ".asics", ".asice", ".scs", ".sce"})
    if (EndsWithIgnoringCase(path, suffix)) return true;
  return false;
}

// A file found, by its recorded name (relative, '/'-separated, UTF-8 in NFC)
// and where it is on disk.
struct ListedFile {
  std::string name;
  fs::path path;
};

struct Listing {
  std::vector<ListedFile> files;  // sorted by name
  std::vector<std::string> problems;
};

// Walks `root`, recording each name by NameRules (UTF-8, else `code_page`).
Result<Listing> WalkDirectory(const fs::path& root, const std::string& code_page) {
  Listing listing;
  std::map<std::string, std::vector<fs::path>> by_name;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& path = it->path();
    const std::string stored = path.lexically_relative(root).generic_string();
    const fs::file_status status = it->symlink_status(ec);
    if (ec) break;
    Result<std::string> name = ToNfc(stored);
    if (!name.ok() && code_page.empty())
      return Status::FailedPrecondition(root.string() + ": refused '" + EscapeForDisplay(stored) +
                                        "': the name is not UTF-8, and a folder does not say which code page it is in");
    if (!name.ok()) name = DecodeCodePage(stored, code_page);
    const std::string shown = EscapeForDisplay(name.ok() ? *name : stored);  // controls too: a problem is one line
    if (IsSkipped(fs::path(shown).filename().string())) {
      if (fs::is_directory(status)) it.disable_recursion_pending();
      continue;
    }
    if (fs::is_symlink(status)) {
      listing.problems.push_back(shown + ": a symbolic link, not followed");
    } else if (!fs::is_regular_file(status) && !fs::is_directory(status)) {
      listing.problems.push_back(shown + ": not a regular file");
    } else if (!name.ok()) {
      // A folder's name that cannot be read is said by each file under it.
      if (fs::is_regular_file(status))
        listing.problems.push_back(shown + ": the name is neither UTF-8 nor " + code_page);
    } else if (fs::is_regular_file(status)) {
      by_name[*name].push_back(path);
    }
  }
  if (ec) return Status::IOError(root.string() + ": cannot read the directory: " + ec.message());
  for (auto& [name, paths] : by_name) {
    if (paths.size() == 1) {
      listing.files.push_back({name, paths.front()});
      continue;
    }
    // Two names on disk that are one name once normalized (NFC and NFD forms,
    // or UTF-8 and a code page): which is meant cannot be told.
    for (const fs::path& path : paths)
      listing.problems.push_back(EscapeForDisplay(path.lexically_relative(root).generic_string()) +
                                 ": another file is also named " + EscapeForDisplay(name) + " once its name is normalized");
  }
  return listing;
}

// Writes all of `chunk`; `full` says whether a failure was the file system filling up.
Status WriteAll(int fd, ByteView chunk, const fs::path& target, bool& full) {
  while (!chunk.empty()) {
    ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      full = n < 0 && (errno == ENOSPC || errno == EDQUOT);
      return Status::IOError(target.string() + ": " + std::strerror(errno));
    }
    chunk = chunk.subspan(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

// Bytes free to an unprivileged writer on the file system holding `dir`.
std::optional<std::uint64_t> FreeBytes(const fs::path& dir) {
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

std::string FullScratch(const fs::path& archive, const std::string& entry, const fs::path& scratch) {
  std::optional<std::uint64_t> free = FreeBytes(scratch);
  return archive.string() + ": entry '" + entry + "': the scratch space " + scratch.parent_path().string() +
         " is full" + (free ? " (" + std::to_string(*free) + " bytes free)" : std::string()) +
         ": make room there, or unpack the bundle in parts";
}

// The first pass: every header, no content. Returns the bytes the files declare.
Result<std::uint64_t> CheckHeaders(const fs::path& archive, const BulkLimits& limits, const NameRules& names) {
  PRESERVE_ASSIGN_OR_RETURN(auto reader, ArchiveReader::OpenFile(archive, ArchiveFormat::kZipOrTar, limits, names));
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> name, reader->NextFile());
    if (!name) return reader->DeclaredBytes();
  }
}

// The second pass: every header was already checked, so the archive is read
// again and its files written under `scratch`, which was empty: nothing there
// can be a link, and O_EXCL | O_NOFOLLOW makes sure of it. The reader's
// limits stop an entry before its bytes are written, so no more than the
// scratch limit is ever written. Files skipped for their names are problems.
Status Extract(const fs::path& archive, const fs::path& scratch, const BulkLimits& limits, const NameRules& names,
               std::vector<std::string>& problems) {
  PRESERVE_ASSIGN_OR_RETURN(auto reader, ArchiveReader::OpenFile(archive, ArchiveFormat::kZipOrTar, limits, names));
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> name, reader->NextFile());
    if (!name) break;
    if (HasSkippedPart(*name)) continue;
    const fs::path target = scratch / fs::path(*name);
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec == std::errc::no_space_on_device) return Status::IOError(FullScratch(archive, *name, scratch));
    if (ec) return Status::IOError(target.parent_path().string() + ": " + ec.message());
    FileDescriptor out(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (out.get() < 0 && errno == ENOSPC) return Status::IOError(FullScratch(archive, *name, scratch));
    if (out.get() < 0) return Status::IOError(target.string() + ": " + std::strerror(errno));
    bool full = false;
    Status written = reader->ReadContent([&](ByteView chunk) { return WriteAll(out.get(), chunk, target, full); });
    if (full) return Status::IOError(FullScratch(archive, *name, scratch));
    PRESERVE_RETURN_IF_ERROR(written);
    if (out.Close() != 0) {
      if (errno == ENOSPC || errno == EDQUOT) return Status::IOError(FullScratch(archive, *name, scratch));
      return Status::IOError(target.string() + ": " + std::strerror(errno));
    }
  }
  for (const std::string& skipped : reader->Skipped()) problems.push_back(skipped);
  return Status::Ok();
}

// Puts `scratch` back as it was found: empty, or absent when we created it.
void Clean(const fs::path& scratch, bool created) {
  std::error_code ec;
  if (created) {
    fs::remove_all(scratch, ec);
    return;
  }
  for (fs::directory_iterator it(scratch, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    fs::remove_all(it->path(), ec);
}

Result<Listing> ExtractArchive(const fs::path& archive, const fs::path& scratch, const BulkLimits& limits,
                               const std::string& code_page) {
  std::error_code ec;
  const bool exists = fs::exists(scratch, ec);
  if (exists && (!fs::is_directory(scratch, ec) || !fs::is_empty(scratch, ec)))
    return Status::FailedPrecondition(scratch.string() + ": the scratch directory must be absent or empty");
  const NameRules names{code_page, /*skip_unreadable=*/true};
  // Every header first: a hostile archive is refused before one byte is written.
  PRESERVE_ASSIGN_OR_RETURN(const std::uint64_t declared, CheckHeaders(archive, limits, names));
  fs::create_directories(scratch, ec);
  if (ec) return Status::IOError(scratch.string() + ": " + ec.message());
  // What the headers declare must fit, or the run would end in a full disk.
  if (std::optional<std::uint64_t> free = FreeBytes(scratch); free && declared > *free) {
    Clean(scratch, !exists);
    return Status::IOError(archive.string() + ": unpacks to " + std::to_string(declared) +
                           " bytes, and the scratch space " + scratch.parent_path().string() + " has " +
                           std::to_string(*free) + " bytes free");
  }
  Listing extracted;
  Status written = Extract(archive, scratch, limits, names, extracted.problems);
  Result<Listing> listing = written.ok() ? WalkDirectory(scratch, "") : Result<Listing>(written);
  if (!listing.ok()) {
    Clean(scratch, !exists);
    return listing;
  }
  for (std::string& problem : extracted.problems) listing->problems.push_back(std::move(problem));
  return listing;
}

BulkInput Pair(Listing listing) {
  BulkInput input;
  input.problems = std::move(listing.problems);
  std::map<std::string, fs::path> present;
  for (const ListedFile& file : listing.files) present.emplace(file.name, file.path);
  std::set<std::string> detached_documents;
  for (const auto& [file, path] : present) {
    if (!EndsWithIgnoringCase(file, kSignatureSuffix)) continue;
    std::string document = file.substr(0, file.size() - kSignatureSuffix.size());
    if (present.count(document) != 0) detached_documents.insert(document);
  }

  std::map<std::string, SubmissionFiles> by_primary;  // sorted by the primary file's name
  std::vector<std::string> sidecars;
  for (const auto& [file, path] : present) {
    if (detached_documents.count(file) != 0) continue;  // taken with its .p7s
    if (EndsWithIgnoringCase(file, kMetadataSuffix)) {
      sidecars.push_back(file);
    } else if (EndsWithIgnoringCase(file, kSignatureSuffix)) {
      std::string document = file.substr(0, file.size() - kSignatureSuffix.size());
      if (present.count(document) == 0) {
        input.problems.push_back(file + ": no document named " + document);
        continue;
      }
      auto [it, added] = by_primary.emplace(document, SubmissionFiles{document, present[document], path, file, {}});
      if (!added) input.problems.push_back(file + ": " + document + " already has the signature " + it->second.signature_name);
    } else if (IsSignedOnItsOwn(file)) {
      by_primary.emplace(file, SubmissionFiles{file, path, {}, "", {}});
    } else {
      input.unsigned_files.push_back(file);
    }
  }
  for (const std::string& sidecar : sidecars) {
    std::string primary = sidecar.substr(0, sidecar.size() - kMetadataSuffix.size());
    auto it = by_primary.find(primary);
    if (it == by_primary.end())
      input.problems.push_back(sidecar + ": no document named " + primary);
    else
      it->second.metadata = present[sidecar];
  }
  for (auto& [primary, submission] : by_primary) input.submissions.push_back(std::move(submission));
  std::sort(input.problems.begin(), input.problems.end());
  std::sort(input.unsigned_files.begin(), input.unsigned_files.end());
  return input;
}

}  // namespace

Result<BulkInput> ReadBulkInput(const fs::path& dir_or_archive, const fs::path& scratch_dir, const BulkLimits& limits,
                                const std::string& code_page) {
  std::error_code ec;
  if (fs::is_directory(dir_or_archive, ec)) {
    PRESERVE_ASSIGN_OR_RETURN(Listing listing, WalkDirectory(dir_or_archive, code_page));
    return Pair(std::move(listing));
  }
  if (!fs::exists(dir_or_archive, ec)) return Status::NotFound(dir_or_archive.string() + ": no such directory or archive");
  PRESERVE_ASSIGN_OR_RETURN(Listing listing, ExtractArchive(dir_or_archive, scratch_dir, limits, code_page));
  return Pair(std::move(listing));
}

}  // namespace preserve::ingest
