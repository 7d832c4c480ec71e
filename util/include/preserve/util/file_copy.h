// Copying a file into a new one, durably. Backups and restores copy every
// file (never hard-link it: damage to the live store must not reach a copy),
// sync it before it is relied on, and check it against a recorded digest.
#pragma once

#include <filesystem>

#include "preserve/util/bytes.h"
#include "preserve/util/status.h"

namespace preserve {

// Copies `from` to the new file `to` (never an existing one: O_EXCL), synced,
// and returns the SHA-256 of the bytes written, read once. kIOError naming
// the file and the call that failed; a partly written `to` is left for the
// caller, who copies into a staging directory it removes on failure.
Result<Bytes> CopyToNewFile(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace preserve
