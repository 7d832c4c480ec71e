// Reading zip and tar archives that may be hostile: the one place where
// preserve checks archive entries (bulk input, ASiC containers, and the
// exported packages that audit/ reads back all go through it).
//
// Every entry is checked when its header is read, before any of its content:
//   - its path is relative UTF-8 without "..", "." or empty parts, backslashes
//     or control characters (what could steer an extractor outside its
//     directory, or forge a line in a report);
//   - it is a regular file or a directory: symbolic and hard links, devices,
//     FIFOs, sockets and encrypted entries are refused;
//   - its name was not seen before, neither as a file nor as a directory;
//   - the entry count and the sizes the headers declare stay within the limits.
// Content is then streamed under running limits (bytes per file, bytes in all,
// and bytes against the archive's own size, which gives decompression bombs
// away even when their headers lie).
// A refusal is kInvalidArgument naming the entry and why ("refused unsafe path
// '../x'", "... appears twice", "... not a regular file (symbolic link)",
// "... decompression bomb"); an archive that cannot be read is kCorruption.
// Not thread-safe: one reader per thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/util/bytes.h"

namespace preserve::ingest {

struct ArchiveLimits {
  std::uint64_t max_entries = 10'000;             // files and directories
  std::uint64_t max_entry_bytes = 1ULL << 30;     // 1 GiB unpacked per file
  std::uint64_t max_total_bytes = 4ULL << 30;     // 4 GiB unpacked in all
  // Unpacked bytes per byte of archive, over the whole archive; 0: unchecked.
  // Deflate reaches about 1000:1 on zeros; documents compress far less (text
  // 3-10:1, PDFs about 1:1). The first kRatioAllowance unpacked bytes are
  // always allowed, so a tiny archive of very compressible text passes.
  std::uint64_t max_ratio = 100;
};
inline constexpr std::uint64_t kRatioAllowance = 1ULL << 20;

enum class ArchiveFormat {
  kZip,       // zip only (ASiC containers, exported packages)
  kZipOrTar,  // zip, or tar plain or compressed with gzip, xz or bzip2
};

// True when `path` is a safe relative entry name (the rules above). A trailing
// '/' (a directory entry) is allowed.
bool IsSafeArchivePath(std::string_view path);

class ArchiveReader {
 public:
  // Messages start with the file's path, or with `origin` for bytes in memory
  // ("bundle.zip: refused ..."). `bytes` must outlive the reader.
  static Result<std::unique_ptr<ArchiveReader>> OpenFile(const std::filesystem::path& path, ArchiveFormat format,
                                                         const ArchiveLimits& limits);
  static Result<std::unique_ptr<ArchiveReader>> OpenMemory(ByteView bytes, std::string origin, ArchiveFormat format,
                                                           const ArchiveLimits& limits);
  ~ArchiveReader();
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;

  // Moves to the next regular file and returns its path ("dir/name");
  // std::nullopt after the last. Directory entries are checked and skipped.
  // A file's content not read before the next call is skipped.
  Result<std::optional<std::string>> NextFile();

  // Streams the current file's content to `sink` in chunks, under the limits.
  // An error from `sink` stops the reading and is returned.
  Status ReadContent(const std::function<Status(ByteView)>& sink);
  Result<Bytes> ReadContent();

 private:
  struct Impl;
  explicit ArchiveReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The first pass over an archive: every header checked as above, no content
// unpacked (a tar's data is decompressed only to skip it, after its declared
// size passed the limits). Returns the regular files' paths in archive order.
Result<std::vector<std::string>> ListArchive(const std::filesystem::path& path, ArchiveFormat format,
                                             const ArchiveLimits& limits);

}  // namespace preserve::ingest
