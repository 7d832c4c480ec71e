// Reading zip and tar archives that may be hostile: the one place where
// preserve checks archive entries (bulk input, ASiC containers, and the
// exported packages that audit/ reads back all go through it).
//
// Every entry is checked when its header is read, before any of its content:
//   - its name becomes UTF-8 in NFC by NameRules, or is refused;
//   - its path is relative without ".." or empty parts, backslashes or
//     control characters (what could steer an extractor outside its
//     directory, or forge a line in a report); "." parts are dropped, as
//     archives made with `tar -czf b.tar.gz -C dir .` name their entries
//     "./", "./letter.pdf" (NormalizeArchivePath);
//   - it is a regular file or a directory: symbolic and hard links, devices,
//     FIFOs, sockets and encrypted entries are refused; directory entries are
//     checked and skipped;
//   - its name was not seen before, neither as a file nor as a directory;
//   - the entry count and the sizes the headers declare stay within the limits.
// A zip's names come from its central directory, which is read first and
// checked against every local header (zip_directory.h): names that differ
// between the two, overlapping entries (the non-recursive zip bomb) and zips
// spanning disks are refused.
// Content is then streamed under running limits (bytes per file, bytes in all,
// bytes against the archive's own size, and no more bytes than the entry's
// header declared), which give decompression bombs away even when their
// headers lie.
// A refusal is kInvalidArgument naming the entry, escaped for display
// (util/unicode.h), and why ("refused unsafe path '../x'", "... appears
// twice", "... not a regular file (symbolic link)", "... (a decompression
// bomb?)"), or kFailedPrecondition for a tar name that needs a code page none
// was given for; an archive that cannot be read is kCorruption.
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

// How entry names become the names preserve records, valid UTF-8 in NFC:
//   - a zip entry flagged as UTF-8 (general purpose bit 11) must be UTF-8;
//   - else its Info-ZIP Unicode Path field, when its CRC-32 matches the stored
//     name, must be;
//   - else a name that is valid UTF-8 is taken as UTF-8: ASCII, and what
//     macOS and Info-ZIP on Linux write without setting the flag (a name in a
//     legacy code page with a letter outside ASCII is practically never valid
//     UTF-8);
//   - else it is decoded from `code_page`, or, when none is given, a zip
//     entry (which without the flag says it is in the standard's CP437,
//     APPNOTE.TXT appendix D) from CP437. CP437 defines every byte, so a zip
//     name always reads; Windows zips of Vietnamese names are CP1258 in fact,
//     and come out right only with `code_page` "cp1258".
// A tar entry's name says nothing of its code page: one that is not UTF-8
// when no code page is given refuses the archive (kFailedPrecondition): its
// other names are most likely in the same code page, and the archive is to be
// read again with it. A name that cannot be read (flagged UTF-8 but not, a
// byte the code page does not define) refuses the archive too
// (kInvalidArgument), unless `skip_unreadable`: then only its entry is
// skipped, and listed by ArchiveReader::Skipped().
struct NameRules {
  std::string code_page;  // an iconv name ("cp1258"); empty: none known (CP437 for zips)
  bool skip_unreadable = false;
};

enum class ArchiveFormat {
  kZip,       // zip only (ASiC containers, exported packages)
  kZipOrTar,  // zip, or tar plain or compressed with gzip, xz or bzip2
};

// The name an entry at `path` is recorded under: `path` without its "."
// parts and a directory's trailing '/' ("./" -> "", "./sub/" -> "sub",
// "./a/./b.pdf" -> "a/b.pdf"); "" is the archive's root. std::nullopt when
// `path` is unsafe (the rules above): absolute, with a ".." or empty part
// ("a/../b", "a//b"), a backslash or a control character. `path` is UTF-8;
// C1 control characters are refused with the C0 ones.
std::optional<std::string> NormalizeArchivePath(std::string_view path);

// True when NormalizeArchivePath gives `path` a name other than the root.
bool IsSafeArchivePath(std::string_view path);

class ArchiveReader {
 public:
  // Messages start with the file's path, or with `origin` for bytes in memory
  // ("bundle.zip: refused ..."). `bytes` must outlive the reader.
  // A file is opened as util's OpenRegularFile opens files (a device or a
  // FIFO is refused unread).
  static Result<std::unique_ptr<ArchiveReader>> OpenFile(const std::filesystem::path& path, ArchiveFormat format,
                                                         const ArchiveLimits& limits, const NameRules& names = {});
  static Result<std::unique_ptr<ArchiveReader>> OpenMemory(ByteView bytes, std::string origin, ArchiveFormat format,
                                                           const ArchiveLimits& limits, const NameRules& names = {});
  ~ArchiveReader();
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;

  // Moves to the next regular file and returns its path ("dir/name"), UTF-8
  // in NFC; std::nullopt after the last. Directory entries are checked and
  // skipped. A file's content not read before the next call is skipped.
  Result<std::optional<std::string>> NextFile();

  // The current file's name byte for byte as the archive stores it: what an
  // ASiC manifest's references are matched against.
  const std::string& StoredName() const;

  // Files skipped so far for a name that cannot be read (NameRules'
  // skip_unreadable), one line each: "C%F4ng.txt: why".
  const std::vector<std::string>& Skipped() const;

  // The unpacked bytes the headers of the files so far declare.
  std::uint64_t DeclaredBytes() const;
  // What the current file's header declares it unpacks to, when it says (a
  // zip's central directory always does); ReadContent never gives more.
  std::optional<std::uint64_t> DeclaredSize() const;

  // Streams the current file's content to `sink` in chunks, under the limits.
  // An error from `sink` stops the reading and is returned.
  Status ReadContent(const std::function<Status(ByteView)>& sink);
  Result<Bytes> ReadContent();

 private:
  struct Impl;
  explicit ArchiveReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve::ingest
