// The submission index: which package holds a signed object, so that a
// document handed in again is recognised with one read and reported as a
// duplicate of the package that holds it (IngestOptions::allow_duplicate).
// Private to archive/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "preserve/storage/store.h"
#include "preserve/package/manifest.h"
#include "preserve/util/bytes.h"

namespace preserve::archive {

// The key of a signed object, "the same bytes" made one value: the SHA-256 of
// the signed file (an enveloping CMS, a signed PDF, an ASiC container); for a
// detached signature, the SHA-256 over a label and the SHA-256s of the
// signature and of its document, so that neither alone matches.
Bytes SubmissionKey(ByteView signed_file_sha256, const Bytes* document_sha256);

// The keys of the signed objects a package's manifest holds (one per
// signature file, however many signers it has).
std::vector<Bytes> SubmissionKeys(const package::Manifest& manifest);

// Indexes the packages stored before the index existed: one scan of every
// package and its manifest, done once per store (a setting records it), the
// first time a store is ingested into. Each key names the first package (in
// id order) that holds its object.
Status EnsureSubmissionIndex(storage::Store& store);

// The package that holds the object `key` names, when it is not deleted;
// nullopt when none does.
Result<std::optional<std::string>> FindHolder(const storage::Store& store, ByteView key);

}  // namespace preserve::archive
