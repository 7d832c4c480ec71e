// Bulk loading: packages written straight into a store's database, queued for
// sealing, without the ingest gate. For benchmarks (bench/) that need a million
// packages in minutes, where a million real ingests (CMS validation, synced
// group commits) take hours: the records are the archive's own, so Seal,
// Renew, List and Check treat them as ingested ones. Never for real records:
// nothing is validated, and no audit event is recorded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/package/manifest.h"
#include "preserve/storage/store.h"
#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"
#include "preserve/util/status.h"

namespace preserve::archive {

// The store's database directory under `root`: what storage::Store::Open
// takes to load packages while no Archive has the store open.
std::filesystem::path DatabaseDir(const std::filesystem::path& root);

// How manifests name the software that made them ("preserve 0.1.0").
std::string_view ProducerName();

// A new package id, as ingest makes them: time-ordered (UUIDv7).
Result<std::string> NewPackageId(const Clock& clock);

// One data object of a loaded package; its content is put by the caller
// (storage::WriteSet::PutContent under `sha256`).
struct LoadedObject {
  std::string path;  // relative to data/: "documents/x.pdf", "manifest.json"
  Bytes sha256;
  std::uint64_t size = 0;
};

// Puts in `w` the package record of package `id` made at `created` with
// `objects`, its seal-queue entry and its search index entry, with what
// `manifest` (the one among `objects`, if any) says of it.
void PutQueuedPackage(storage::WriteSet& w, const std::string& id, TimePoint created,
                      const std::vector<LoadedObject>& objects, const package::Manifest* manifest = nullptr);

// Appends `event` (an audit event's JSON, as ingest writes it: "ingest",
// "refused"...) to the trail in `w`, with the search index entries the
// signature-use report reads for it.
void AppendLoadedAuditEvent(storage::WriteSet& w, const Bytes& event);

}  // namespace preserve::archive
