#include "preserve/ingest/bulk_input.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "preserve/util/file_descriptor.h"

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

struct Listing {
  std::vector<std::string> files;  // relative, '/'-separated
  std::vector<std::string> problems;
};

Result<Listing> WalkDirectory(const fs::path& root) {
  Listing listing;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& path = it->path();
    const std::string relative = path.lexically_relative(root).generic_string();
    const fs::file_status status = it->symlink_status(ec);
    if (ec) break;
    if (IsSkipped(path.filename().string())) {
      if (fs::is_directory(status)) it.disable_recursion_pending();
      continue;
    }
    if (fs::is_symlink(status)) {
      listing.problems.push_back(relative + ": a symbolic link, not followed");
    } else if (fs::is_regular_file(status)) {
      listing.files.push_back(relative);
    } else if (!fs::is_directory(status)) {
      listing.problems.push_back(relative + ": not a regular file");
    }
  }
  if (ec) return Status::IOError(root.string() + ": cannot read the directory: " + ec.message());
  std::sort(listing.files.begin(), listing.files.end());
  return listing;
}

Status WriteAll(int fd, ByteView chunk, const fs::path& target) {
  while (!chunk.empty()) {
    ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::IOError(target.string() + ": " + std::strerror(errno));
    chunk = chunk.subspan(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

// The second pass: every header was already checked, so the archive is read
// again and its files written under `scratch`, which was empty: nothing there
// can be a link, and O_EXCL | O_NOFOLLOW makes sure of it.
Status Extract(const fs::path& archive, const fs::path& scratch, const BulkLimits& limits) {
  PRESERVE_ASSIGN_OR_RETURN(auto reader, ArchiveReader::OpenFile(archive, ArchiveFormat::kZipOrTar, limits));
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> name, reader->NextFile());
    if (!name) return Status::Ok();
    if (HasSkippedPart(*name)) continue;
    const fs::path target = scratch / fs::path(*name);
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return Status::IOError(target.parent_path().string() + ": " + ec.message());
    FileDescriptor out(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (out.get() < 0) return Status::IOError(target.string() + ": " + std::strerror(errno));
    PRESERVE_RETURN_IF_ERROR(reader->ReadContent([&](ByteView chunk) { return WriteAll(out.get(), chunk, target); }));
    if (::close(out.Release()) != 0) return Status::IOError(target.string() + ": " + std::strerror(errno));
  }
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

Result<Listing> ExtractArchive(const fs::path& archive, const fs::path& scratch, const BulkLimits& limits) {
  std::error_code ec;
  const bool exists = fs::exists(scratch, ec);
  if (exists && (!fs::is_directory(scratch, ec) || !fs::is_empty(scratch, ec)))
    return Status::FailedPrecondition(scratch.string() + ": the scratch directory must be absent or empty");
  // Every header first: a hostile archive is refused before one byte is written.
  PRESERVE_RETURN_IF_ERROR(ListArchive(archive, ArchiveFormat::kZipOrTar, limits).status());
  fs::create_directories(scratch, ec);
  if (ec) return Status::IOError(scratch.string() + ": " + ec.message());
  Status extracted = Extract(archive, scratch, limits);
  Result<Listing> listing = extracted.ok() ? WalkDirectory(scratch) : Result<Listing>(extracted);
  if (!listing.ok()) Clean(scratch, !exists);
  return listing;
}

BulkInput Pair(const fs::path& root, Listing listing) {
  BulkInput input;
  input.problems = std::move(listing.problems);
  const std::set<std::string> present(listing.files.begin(), listing.files.end());
  std::set<std::string> detached_documents;
  for (const std::string& file : listing.files) {
    if (!EndsWithIgnoringCase(file, kSignatureSuffix)) continue;
    std::string document = file.substr(0, file.size() - kSignatureSuffix.size());
    if (present.count(document) != 0) detached_documents.insert(document);
  }

  std::map<std::string, SubmissionFiles> by_primary;  // sorted by the primary file's path
  std::vector<std::string> sidecars;
  for (const std::string& file : listing.files) {
    if (detached_documents.count(file) != 0) continue;  // taken with its .p7s
    if (EndsWithIgnoringCase(file, kMetadataSuffix)) {
      sidecars.push_back(file);
    } else if (EndsWithIgnoringCase(file, kSignatureSuffix)) {
      std::string document = file.substr(0, file.size() - kSignatureSuffix.size());
      if (present.count(document) == 0) {
        input.problems.push_back(file + ": no document named " + document);
        continue;
      }
      auto [it, added] = by_primary.emplace(document, SubmissionFiles{document, root / document, root / file, {}});
      if (!added)
        input.problems.push_back(file + ": " + document + " already has the signature " +
                                 it->second.detached_signature->lexically_relative(root).generic_string());
    } else if (IsSignedOnItsOwn(file)) {
      by_primary.emplace(file, SubmissionFiles{file, root / file, {}, {}});
    } else {
      input.problems.push_back(file + ": no signature");
    }
  }
  for (const std::string& sidecar : sidecars) {
    std::string primary = sidecar.substr(0, sidecar.size() - kMetadataSuffix.size());
    auto it = by_primary.find(primary);
    if (it == by_primary.end())
      input.problems.push_back(sidecar + ": no document named " + primary);
    else
      it->second.metadata = root / sidecar;
  }
  for (auto& [primary, submission] : by_primary) input.submissions.push_back(std::move(submission));
  std::sort(input.problems.begin(), input.problems.end());
  return input;
}

}  // namespace

Result<BulkInput> ReadBulkInput(const fs::path& dir_or_archive, const fs::path& scratch_dir, const BulkLimits& limits) {
  std::error_code ec;
  if (fs::is_directory(dir_or_archive, ec)) {
    PRESERVE_ASSIGN_OR_RETURN(Listing listing, WalkDirectory(dir_or_archive));
    return Pair(dir_or_archive, std::move(listing));
  }
  if (!fs::is_regular_file(dir_or_archive, ec))
    return Status::NotFound(dir_or_archive.string() + ": no such directory or archive");
  PRESERVE_ASSIGN_OR_RETURN(Listing listing, ExtractArchive(dir_or_archive, scratch_dir, limits));
  return Pair(scratch_dir, std::move(listing));
}

}  // namespace preserve::ingest
