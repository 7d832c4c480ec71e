// Bulk input: a directory, or a zip or tar package, turned into submissions,
// each a document paired with its signature and metadata sidecar by name.
//
// A directory is walked in place (recursively). An archive is checked entry by
// entry first, every header before any content (safe_archive.h: unsafe paths,
// links, devices, duplicate names, counts, declared sizes, names), then
// extracted into `scratch_dir` under running size and ratio limits (no entry
// beyond what its header declared, the whole no more than max_total_bytes:
// the scratch limit), then walked like a directory. A hostile archive is
// refused as a whole with an error Status and leaves `scratch_dir` as it was
// found (absent or empty).
//
// Names are recorded as UTF-8 in NFC, by safe_archive.h's NameRules with
// `code_page`, for a directory's names as for a tar's (Linux names are bytes
// that say nothing of their code page). A name that needs a code page when
// none is given refuses the whole input (kFailedPrecondition, naming it):
// its other names are most likely in the same code page, and the run is to be
// repeated with it, which must not ingest anything twice. A name that cannot
// be read otherwise (a zip entry flagged UTF-8 that is not, a byte the code
// page does not define) is a problem line for that file alone.
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
// in all, 100:1 over the whole archive). max_total_bytes is the scratch
// limit: no more is ever written to scratch_dir, whatever the headers say. A
// directory has no limits: it is the operator's own.
using BulkLimits = ArchiveLimits;

struct SubmissionFiles {
  std::string name;  // the primary file's relative path, UTF-8 in NFC ("2024/letter.txt")
  std::filesystem::path primary;  // the PDF, ASiC or .p7m, or the detached document (its name on disk)
  std::optional<std::filesystem::path> detached_signature;  // X.p7s
  std::string signature_name;  // the detached signature's relative path, UTF-8 in NFC; empty without one
  std::optional<std::filesystem::path> metadata;            // <primary file name>.metadata.json
};

struct BulkInput {
  std::vector<SubmissionFiles> submissions;
  std::vector<std::string> problems;  // "orphan.p7s: no document named orphan"; names escaped for display
  // Files that are neither signed on their own nor have a detached signature
  // beside them ("2024/notes.txt"): documents handed in unsigned. Relative
  // paths, escaped for display, sorted.
  std::vector<std::string> unsigned_files;
};

// `scratch_dir` (used for archives only) is the caller's: absent or empty, and
// removed by the caller when done with the submissions, whose paths point into
// it. `code_page`: an iconv name for names that are not UTF-8 (NameRules).
// Errors: kNotFound (no such input), kInvalidArgument (a hostile or unreadable
// archive, with the entry and the reason; an input that is not a directory or
// a regular file), kFailedPrecondition (scratch_dir not empty; a name that
// needs a code page), kIOError (including scratch space too small for what the
// archive declares, or filled while unpacking, said so).
Result<BulkInput> ReadBulkInput(const std::filesystem::path& dir_or_archive, const std::filesystem::path& scratch_dir,
                                const BulkLimits& limits = {}, const std::string& code_page = {});

}  // namespace preserve::ingest
