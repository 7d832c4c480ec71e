// Byte strings, hex, and whole-file helpers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/util/file_descriptor.h"
#include "preserve/util/status.h"

namespace preserve {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string ToString(ByteView b) { return std::string(b.begin(), b.end()); }

std::string ToHex(ByteView bytes);
Result<Bytes> FromHex(std::string_view hex);

// Base64 (RFC 4648, with padding). Decoding skips white space (XML and JSON
// writers wrap lines) and refuses anything else that is not base64: nullopt.
std::string EncodeBase64(ByteView bytes);
std::optional<Bytes> DecodeBase64(std::string_view text);

// Opens a file to read, following symbolic links, only when it is a regular
// file. A device, FIFO, socket or directory is refused (kInvalidArgument,
// naming it and what it is, and where a link led) without being read: a link
// to /dev/zero would never end, a FIFO would block, and a device may act on
// being opened. Every file preserve is handed by name (inputs, signatures,
// metadata, trust anchors, CRLs, packages and evidence records to verify) is
// opened here. kNotFound when it does not exist.
Result<FileDescriptor> OpenRegularFile(const std::filesystem::path& path);

// Reads a whole regular file (OpenRegularFile's rules). Fails with kNotFound
// when it does not exist.
Result<Bytes> ReadFile(const std::filesystem::path& path);

// Writes `bytes` to `path` so that a reader never sees a half-written file:
// a temporary file beside it, fsync, rename, fsync of the directory.
Status WriteFileAtomic(const std::filesystem::path& path, ByteView bytes);

// fsync of a directory, so that renames and creations in it are durable.
Status SyncDirectory(const std::filesystem::path& dir);

}  // namespace preserve
