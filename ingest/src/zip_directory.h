// A zip's central directory, read straight from its bytes, for what
// libarchive neither shows nor checks (safe_archive.cc reads the content with
// libarchive and takes each entry's name from here):
//   - the general purpose flag that says a name is UTF-8 (bit 11), and the
//     Info-ZIP Unicode Path field (0x7075): without them a name's bytes say
//     nothing of their code page, and libarchive hands them over raw, or, with
//     its hdrcharset option, converted badly (CP1258 names come out with their
//     last letter moved to the next name);
//   - the name's bytes as stored, even when they are not the UTF-8 the flag
//     promises (libarchive then gives an empty name), so a refusal can show
//     them;
//   - agreement between each central directory record and its local header
//     (a zip that names an entry one way in one and another way in the other
//     shows different files to different tools);
//   - entries whose data overlap another's local header or data (the
//     non-recursive zip bomb) and directories that span several disks.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "preserve/util/status.h"

namespace preserve::ingest {

struct ZipDirectoryEntry {
  std::string stored_name;  // as stored, the same in the central directory and the local header
  bool utf8_flag = false;   // general purpose bit 11: the name is UTF-8
  std::optional<std::string> unicode_path;  // Info-ZIP Unicode Path whose CRC-32 matches stored_name
  std::uint64_t local_header_offset = 0;
  std::uint64_t uncompressed_size = 0;  // as the central directory declares it (zip64 included)
};

// Fills `to` with the bytes at `offset`; an error when there are not that many.
using ZipBytes = std::function<Status(std::uint64_t offset, std::span<std::uint8_t> to)>;

// The entries of the zip of `size` bytes that `read` reads, in the order of
// their local headers (the order libarchive reads them in). At most
// `max_entries`, names of at most kMaxZipNameBytes. Errors are
// kInvalidArgument, saying what is wrong, without the archive's name.
Result<std::vector<ZipDirectoryEntry>> ReadZipDirectory(const ZipBytes& read, std::uint64_t size,
                                                        std::uint64_t max_entries);

// Longer than any path a file system takes (Linux: 4096 bytes).
inline constexpr std::size_t kMaxZipNameBytes = 4096;

// CRC-32 as zip computes it (ISO 3309, reflected, polynomial 0xEDB88320).
std::uint32_t ZipCrc32(std::span<const std::uint8_t> bytes);

}  // namespace preserve::ingest
