// Bulk input: a directory, or a zip or tar package, turned into submissions,
// each a document paired with its signature and metadata sidecar by name.
//
// A directory is walked in place (recursively). An archive is checked entry by
// entry first, every header before any content (safe_archive.h: unsafe paths,
// links, devices, duplicate names, counts, declared sizes), then extracted
// into `scratch_dir` under running size and ratio limits, then walked like a
// directory. A hostile archive is refused as a whole with an error Status and
// leaves `scratch_dir` as it was found (absent or empty).
//
// Pairing, by relative path, case-sensitively for names and case-insensitively
// for extensions:
//   X and X.p7s          detached CMS over X (whatever X is: a PDF, a .p7m...)
//   X.p7m                enveloping CMS
//   X.pdf                PAdES (unless X.pdf.p7s exists: then detached)
//   X.asics .asice .scs .sce   ASiC container
//   P.metadata.json      record metadata of the submission whose primary file is P
//                        (for a detached pair, the document X)
// Anything else, and a sidecar or .p7s whose document is missing, is a problem
// line; a problem never stops the other submissions. Hidden files and folders
// (names starting with '.') and macOS "__MACOSX" folders are skipped silently:
// they are file-system litter, not records. In a directory, symbolic links
// (never followed), devices, FIFOs and sockets are problem lines.
// Submissions and problems are sorted by path, so the same input always gives
// the same result.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "preserve/ingest/safe_archive.h"
#include "preserve/util/status.h"

namespace preserve::ingest {

// For archives (ArchiveLimits' defaults: 10 000 entries, 1 GiB per file, 4 GiB
// in all, 100:1 over the whole archive). A directory has no limits: it is
// the operator's own.
using BulkLimits = ArchiveLimits;

struct SubmissionFiles {
  std::string name;  // for display: the document's relative path ("2024/letter.txt")
  std::filesystem::path primary;  // the PDF, ASiC or .p7m, or the detached document
  std::optional<std::filesystem::path> detached_signature;  // X.p7s
  std::optional<std::filesystem::path> metadata;            // <primary file name>.metadata.json
};

struct BulkInput {
  std::vector<SubmissionFiles> submissions;
  std::vector<std::string> problems;  // "orphan.p7s: no document named orphan"
};

// `scratch_dir` (used for archives only) is the caller's: absent or empty, and
// removed by the caller when done with the submissions, whose paths point into
// it. Errors: kNotFound (no such input), kInvalidArgument (a hostile or
// unreadable archive, with the entry and the reason), kFailedPrecondition
// (scratch_dir not empty), kIOError.
Result<BulkInput> ReadBulkInput(const std::filesystem::path& dir_or_archive, const std::filesystem::path& scratch_dir,
                                const BulkLimits& limits = {});

}  // namespace preserve::ingest
