#include "zip_directory.h"

#include <algorithm>
#include <array>

#include "preserve/util/bytes.h"

namespace preserve::ingest {

namespace {

// APPNOTE.TXT 4.3: signatures and fixed sizes.
constexpr std::uint32_t kEndSignature = 0x06054b50;
constexpr std::uint32_t kZip64EndSignature = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr std::uint32_t kCentralSignature = 0x02014b50;
constexpr std::uint32_t kLocalSignature = 0x04034b50;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::size_t kZip64EndSize = 56;
constexpr std::size_t kCentralSize = 46;
constexpr std::size_t kLocalSize = 30;
constexpr std::size_t kMaxComment = 0xFFFF;
constexpr std::uint16_t kUtf8NameFlag = 1 << 11;
constexpr std::uint16_t kZip64Extra = 0x0001;
constexpr std::uint16_t kUnicodePathExtra = 0x7075;

std::uint64_t Le(std::span<const std::uint8_t> b, std::size_t at, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = width; i-- > 0;) v = (v << 8) | b[at + i];
  return v;
}

Status Refuse(const std::string& why) { return Status::InvalidArgument(why); }

// What one central directory record says, before its local header is read.
struct Record {
  ZipDirectoryEntry entry;
  std::uint64_t compressed_size = 0;
};

// Reads the record's extra fields: its zip64 sizes and offset (present only
// for the fields the record sets to all ones) and its Unicode Path.
Status ReadExtra(std::span<const std::uint8_t> extra, bool wants_uncompressed, bool wants_compressed,
                 bool wants_offset, Record& record) {
  bool zip64_found = false;
  for (std::size_t at = 0; at + 4 <= extra.size();) {
    const auto id = static_cast<std::uint16_t>(Le(extra, at, 2));
    const auto length = static_cast<std::size_t>(Le(extra, at + 2, 2));
    if (extra.size() - at - 4 < length) break;  // a torn field ends the list; what came before stands
    std::span<const std::uint8_t> data = extra.subspan(at + 4, length);
    if (id == kZip64Extra && !zip64_found) {
      zip64_found = true;
      std::size_t field = 0;
      auto next = [&](std::uint64_t& value) -> bool {
        if (data.size() - field < 8) return false;
        value = Le(data, field, 8);
        field += 8;
        return true;
      };
      if ((wants_uncompressed && !next(record.entry.uncompressed_size)) ||
          (wants_compressed && !next(record.compressed_size)) ||
          (wants_offset && !next(record.entry.local_header_offset)))
        return Refuse("a zip64 extra field too short for the sizes it stands for");
    } else if (id == kUnicodePathExtra && length >= 5 && data[0] == 1) {
      // Valid only while the name it translates is unchanged: its CRC-32 says so.
      const auto crc = static_cast<std::uint32_t>(Le(data, 1, 4));
      if (crc == ZipCrc32(AsBytes(record.entry.stored_name)))
        record.entry.unicode_path = ToString(data.subspan(5));
    }
    at += 4 + length;
  }
  if ((wants_uncompressed || wants_compressed || wants_offset) && !zip64_found)
    return Refuse("a size or offset of all ones without the zip64 field that gives it");
  return Status::Ok();
}

struct EndRecord {
  std::uint64_t entries = 0;
  std::uint64_t directory_size = 0;
  std::uint64_t directory_offset = 0;
  std::uint64_t directory_end = 0;  // where the directory must end: the (zip64) end record
};

Result<EndRecord> ReadEnd(const ZipBytes& read, std::uint64_t size) {
  if (size < kEndSize) return Refuse("not a zip: too short for its end record");
  const std::uint64_t window = std::min<std::uint64_t>(size, kEndSize + kMaxComment);
  Bytes tail(static_cast<std::size_t>(window));
  PRESERVE_RETURN_IF_ERROR(read(size - window, tail));
  // The end record is the one whose comment runs exactly to the end of the file.
  std::optional<std::size_t> found;
  for (std::size_t at = tail.size() - kEndSize + 1; at-- > 0;) {
    if (Le(tail, at, 4) == kEndSignature && at + kEndSize + Le(tail, at + 20, 2) == tail.size()) {
      found = at;
      break;
    }
  }
  if (!found) return Refuse("not a zip: no end of central directory record");
  const std::size_t at = *found;
  const std::uint64_t end_offset = size - window + at;
  EndRecord end;
  const std::uint64_t disk = Le(tail, at + 4, 2);
  const std::uint64_t directory_disk = Le(tail, at + 6, 2);
  const std::uint64_t entries_here = Le(tail, at + 8, 2);
  end.entries = Le(tail, at + 10, 2);
  end.directory_size = Le(tail, at + 12, 4);
  end.directory_offset = Le(tail, at + 16, 4);
  end.directory_end = end_offset;
  if (disk != 0 || directory_disk != 0 || entries_here != end.entries)
    return Refuse("the zip spans several disks");

  // A zip64 end record, located by the locator just before the end record.
  if (end_offset >= kZip64LocatorSize) {
    std::array<std::uint8_t, kZip64LocatorSize> locator{};
    PRESERVE_RETURN_IF_ERROR(read(end_offset - kZip64LocatorSize, locator));
    if (Le(locator, 0, 4) == kZip64LocatorSignature) {
      const std::uint64_t zip64_offset = Le(locator, 8, 8);
      if (Le(locator, 4, 4) != 0 || Le(locator, 16, 4) > 1) return Refuse("the zip spans several disks");
      if (zip64_offset > end_offset - kZip64LocatorSize || end_offset - kZip64LocatorSize - zip64_offset < kZip64EndSize)
        return Refuse("a zip64 end record outside the zip");
      std::array<std::uint8_t, kZip64EndSize> zip64{};
      PRESERVE_RETURN_IF_ERROR(read(zip64_offset, zip64));
      if (Le(zip64, 0, 4) != kZip64EndSignature) return Refuse("the zip64 locator points at no zip64 end record");
      if (Le(zip64, 16, 4) != 0 || Le(zip64, 20, 4) != 0 || Le(zip64, 24, 8) != Le(zip64, 32, 8))
        return Refuse("the zip spans several disks");
      end.entries = Le(zip64, 32, 8);
      end.directory_size = Le(zip64, 40, 8);
      end.directory_offset = Le(zip64, 48, 8);
      end.directory_end = zip64_offset;
    }
  }
  // Data before the directory that its offsets do not count (a self-extracting
  // program, or a zip appended to something) would make names and content
  // come from different places for different readers.
  if (end.directory_offset > end.directory_end || end.directory_end - end.directory_offset != end.directory_size)
    return Refuse("the central directory is not where the zip's end record says");
  return end;
}

}  // namespace

std::uint32_t ZipCrc32(std::span<const std::uint8_t> bytes) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::uint8_t b : bytes) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

Result<std::vector<ZipDirectoryEntry>> ReadZipDirectory(const ZipBytes& read, std::uint64_t size,
                                                        std::uint64_t max_entries) {
  PRESERVE_ASSIGN_OR_RETURN(EndRecord end, ReadEnd(read, size));
  if (end.entries > max_entries) return Refuse("the archive: more than " + std::to_string(max_entries) + " entries");

  std::vector<Record> records;
  records.reserve(static_cast<std::size_t>(end.entries));
  std::uint64_t at = end.directory_offset;
  Bytes variable;
  for (std::uint64_t i = 0; i < end.entries; ++i) {
    std::array<std::uint8_t, kCentralSize> fixed{};
    if (end.directory_end - at < kCentralSize) return Refuse("the central directory ends inside a record");
    PRESERVE_RETURN_IF_ERROR(read(at, fixed));
    if (Le(fixed, 0, 4) != kCentralSignature) return Refuse("a damaged central directory record");
    const auto name_length = static_cast<std::size_t>(Le(fixed, 28, 2));
    const auto extra_length = static_cast<std::size_t>(Le(fixed, 30, 2));
    const auto comment_length = static_cast<std::size_t>(Le(fixed, 32, 2));
    const std::uint64_t record_size = kCentralSize + name_length + extra_length + comment_length;
    if (end.directory_end - at < record_size) return Refuse("the central directory ends inside a record");
    if (name_length > kMaxZipNameBytes)
      return Refuse("an entry name of " + std::to_string(name_length) + " bytes (at most " +
                    std::to_string(kMaxZipNameBytes) + ")");
    variable.resize(name_length + extra_length);
    PRESERVE_RETURN_IF_ERROR(read(at + kCentralSize, variable));
    Record record;
    record.entry.utf8_flag = (Le(fixed, 8, 2) & kUtf8NameFlag) != 0;
    record.entry.stored_name = ToString(std::span<const std::uint8_t>(variable).subspan(0, name_length));
    record.compressed_size = Le(fixed, 20, 4);
    record.entry.uncompressed_size = Le(fixed, 24, 4);
    record.entry.local_header_offset = Le(fixed, 42, 4);
    const bool disk_is_zip64 = Le(fixed, 34, 2) == 0xFFFF;
    if (Le(fixed, 34, 2) != 0 && !disk_is_zip64) return Refuse("the zip spans several disks");
    PRESERVE_RETURN_IF_ERROR(ReadExtra(std::span<const std::uint8_t>(variable).subspan(name_length),
                                       record.entry.uncompressed_size == 0xFFFFFFFF, record.compressed_size == 0xFFFFFFFF,
                                       record.entry.local_header_offset == 0xFFFFFFFF, record));
    records.push_back(std::move(record));
    at += record_size;
  }
  if (at != end.directory_end) return Refuse("the central directory holds more than its end record counts");

  std::sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    return a.entry.local_header_offset < b.entry.local_header_offset;
  });
  std::vector<ZipDirectoryEntry> entries;
  entries.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    Record& record = records[i];
    const std::uint64_t offset = record.entry.local_header_offset;
    const std::uint64_t next = i + 1 < records.size() ? records[i + 1].entry.local_header_offset
                                                      : end.directory_offset;
    const std::string& name = record.entry.stored_name;
    std::array<std::uint8_t, kLocalSize> local{};
    if (next < offset || next - offset < kLocalSize + name.size())
      return Refuse("entries whose local headers overlap");
    PRESERVE_RETURN_IF_ERROR(read(offset, local));
    if (Le(local, 0, 4) != kLocalSignature) return Refuse("a central directory record points at no local header");
    Bytes local_name(static_cast<std::size_t>(Le(local, 26, 2)));
    const std::uint64_t local_extra = Le(local, 28, 2);
    if (local_name.size() != name.size()) return Refuse("an entry named otherwise in its local header");
    PRESERVE_RETURN_IF_ERROR(read(offset + kLocalSize, local_name));
    if (ToString(local_name) != name || ((Le(local, 6, 2) & kUtf8NameFlag) != 0) != record.entry.utf8_flag)
      return Refuse("an entry named otherwise in its local header");
    // Its data must end before the next entry begins: overlapping entries
    // share compressed bytes, so a small zip unpacks to many times its size.
    const std::uint64_t data = offset + kLocalSize + name.size() + local_extra;
    if (data > next || next - data < record.compressed_size) return Refuse("entries whose data overlap");
    entries.push_back(std::move(record.entry));
  }
  return entries;
}

}  // namespace preserve::ingest
