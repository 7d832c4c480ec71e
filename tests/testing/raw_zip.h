// Zips written byte by byte (APPNOTE.TXT 4.3), for tests that need what no
// zip tool writes: headers that lie about sizes, names in any bytes with the
// UTF-8 flag set or not, a local header that disagrees with the central
// directory, entries sharing their data, or huge entries in a few megabytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/util/bytes.h"

namespace preserve::testing {

// One entry: `data` as stored (deflated or not), and what its headers declare.
struct ZipMember {
  std::string name;          // bytes, as stored
  std::uint16_t method = 0;  // 0 stored, 8 deflated
  Bytes data;
  std::uint32_t crc = 0;
  std::uint32_t size = 0;      // unpacked
  bool utf8_flag = false;      // general purpose bit 11
  // Set: the local header names the entry so, the central directory `name`.
  std::optional<std::string> local_name;
  // Set: no local header or data of its own; the central directory record
  // points at the entry of that index, whose data it then shares.
  std::optional<std::size_t> shares_entry;
};

// `content` stored as it is, with its true CRC-32 and size.
ZipMember StoredMember(std::string name, std::string_view content);

// `mib` MiB of zeros deflated to about a thousandth of that, with the true
// CRC-32 and size: one mebibyte deflated once, its blocks repeated (each ends
// on a full flush, so it stands alone). 1023 MiB take about a megabyte and
// milliseconds to make.
ZipMember DeflatedZeros(std::string name, std::uint32_t mib);

// The zip of `members`, in order; no zip64, no data descriptors, no comment.
Bytes ZipOf(const std::vector<ZipMember>& members);

}  // namespace preserve::testing
