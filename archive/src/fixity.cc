// Fixity: every data object re-read and re-hashed, and compared with the
// package record, the manifest and the first archive time-stamp's hash tree.
// The only write is the run's audit event.
#include <algorithm>
#include <map>
#include <random>

#include "archive_impl.h"
#include "damage.h"
#include "lifecycle.h"
#include "preserve/package/manifest.h"
#include "preserve/util/digest.h"

namespace preserve::archive {

namespace {

// Compares the manifest's listing with the package record: both were written
// in the same atomic ingest, so any difference is damage to one of them.
void CompareManifest(const PackageRecord& record, ByteView manifest_json, PackageFixity& out) {
  auto manifest = package::ManifestFromJson(manifest_json);
  if (!manifest.ok()) {
    out.damage.push_back({package::kManifestPath, "unreadable: " + manifest.status().message()});
    return;
  }
  if (manifest->package_id != record.id)
    out.damage.push_back({package::kManifestPath, "names package '" + manifest->package_id + "'"});
  std::map<std::string, const PackageRecord::Object*> by_path;
  for (const auto& o : record.objects) by_path[o.path] = &o;
  by_path.erase(package::kManifestPath);
  for (const auto& entry : manifest->objects) {
    auto found = by_path.find(entry.path);
    if (found == by_path.end()) {
      out.damage.push_back({entry.path, "listed in the manifest but missing from the package record"});
      continue;
    }
    if (entry.sha256 != found->second->sha256)
      out.damage.push_back({entry.path, "the manifest lists SHA-256 " + ToHex(entry.sha256) +
                                            ", the package record " + ToHex(found->second->sha256)});
    by_path.erase(found);
  }
  for (const auto& [path, object] : by_path)
    out.damage.push_back({path, "in the package record but not listed in the manifest"});
}

}  // namespace

// Over 60 lines: the scan, the sample and the run's record, in one place.
Result<FixitySummary> Maintenance::Fixity(const FixityOptions& options,
                                          const std::function<void(const PackageFixity&)>& each) {
  if (!(options.sample > 0.0 && options.sample <= 1.0))
    return Status::InvalidArgument("the sample must be a fraction in (0, 1]");
  std::array<std::uint8_t, 8> seed_bytes{};
  PRESERVE_RETURN_IF_ERROR(RandomBytes(seed_bytes));
  std::uint64_t seed = 0;
  for (std::uint8_t b : seed_bytes) seed = (seed << 8) | b;
  std::mt19937_64 random(seed);
  std::bernoulli_distribution pick(options.sample);

  FixitySummary summary;
  BatchCache batches;
  std::string after;
  // A stretch of package records that cannot be read is damage like any
  // other: reported (whatever the sample), and the rest is checked.
  std::vector<std::string> unreadable;
  const storage::ScanGapSink gaps = [&unreadable](const storage::ScanGap& gap) {
    unreadable.push_back(DescribeGap("package records", gap));
  };
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, impl_->store->ListPackages(after, 1000, &gaps));
    for (auto& what : unreadable) {
      ++summary.damaged;
      each(PackageFixity{"", 0, {{"records", std::move(what)}}});
    }
    unreadable.clear();
    if (page.empty()) break;
    for (const auto& [id, record_bytes] : page) {
      after = id;
      ++summary.packages;
      if (options.sample < 1.0 && !pick(random)) continue;
      auto record = DecodePackageRecord(record_bytes, *impl_->store);
      // A deleted package holds no content to re-read; 'check' looks at its tombstone.
      if (record.ok() && record->state == PackageState::kDeleted) continue;
      ++summary.checked;
      PackageFixity result{id, 0, {}};
      if (!record.ok()) {
        result.damage.push_back({"record", "unreadable: " + record.status().message()});
      } else {
        PRESERVE_RETURN_IF_ERROR(impl_->CheckFixity(record.value(), batches, result));
      }
      summary.objects += result.objects;
      if (!result.damage.empty()) ++summary.damaged;
      each(result);
    }
  }
  if (!impl_->writable()) return summary;  // read-only: the caller says the event was not recorded
  storage::WriteSet w;
  PutJobRun(w, "fixity",
            {impl_->clock->Now(),
             std::to_string(summary.checked) + " of " + std::to_string(summary.packages) + " packages re-read, " +
                 std::to_string(summary.damaged) + " damaged",
             summary.damaged == 0,
             false,
             {{"checked", summary.checked}, {"packages", summary.packages}, {"damaged", summary.damaged}}});
  w.AppendAudit(AuditEvent(*impl_->clock, "fixity",
                           {{"packages", std::to_string(summary.packages)},
                            {"checked", std::to_string(summary.checked)},
                            {"damaged", std::to_string(summary.damaged)},
                            {"objects", std::to_string(summary.objects)},
                            {"sample", std::to_string(options.sample)}}));
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)).WithContext("recording the fixity check"));
  return summary;
}

// Over 60 lines: one package's checks in order (objects, manifest, first time-stamp), each commented.
Status Archive::Impl::CheckFixity(const PackageRecord& record, BatchCache& batches, PackageFixity& out) const {
  // Each object is streamed once (a large one is never in memory): its
  // SHA-256 against the record; the intact ones are kept by path.
  std::map<std::string, Bytes> intact;  // path -> SHA-256
  for (const auto& o : record.objects) {
    std::uint64_t size = 0;
    auto digest = DigestContent(o.sha256, {HashAlgorithm::kSha256}, &size);
    if (!digest.ok()) {
      // Missing content (or a missing chunk) or a RocksDB checksum failure is
      // damage to this object; other errors (the disk went away) end the whole check.
      StatusCode code = digest.status().code();
      if (code != StatusCode::kNotFound && code != StatusCode::kCorruption) return digest.status();
      out.damage.push_back({o.path, code == StatusCode::kNotFound ? "missing from the store"
                                                                  : "unreadable: " + digest.status().message()});
      continue;
    }
    ++out.objects;
    const Bytes& actual = digest->front();
    if (actual != o.sha256) {
      out.damage.push_back({o.path, "content changed: SHA-256 is " + ToHex(actual) + ", the package record says " +
                                        ToHex(o.sha256)});
      continue;
    }
    if (size != o.size)
      out.damage.push_back({o.path, "size is " + std::to_string(size) + ", the package record says " +
                                        std::to_string(o.size)});
    intact.emplace(o.path, actual);
  }
  auto manifest = intact.find(package::kManifestPath);
  if (manifest == intact.end()) {
    if (out.damage.empty()) out.damage.push_back({package::kManifestPath, "not in the package record"});
  } else {
    PRESERVE_ASSIGN_OR_RETURN(Bytes manifest_bytes, store->GetContent(manifest->second));
    CompareManifest(record, manifest_bytes, out);
  }
  if (record.state != PackageState::kSealed || !out.damage.empty()) return Status::Ok();

  // The data must still be what the first archive time-stamp covered: its
  // reduced hash tree's first list holds the group's member hashes, and the
  // tree must lead to the batch root the token was checked against at sealing.
  // (Token signatures and later chains are 'preserve verify''s work.)
  auto skeleton = LoadSkeleton(record.id);
  if (!skeleton.ok()) {
    out.damage.push_back({"evidence", skeleton.status().message()});
    return Status::Ok();
  }
  if (skeleton->chains.empty() || skeleton->chains.front().empty()) {
    out.damage.push_back({"evidence", "the evidence record has no archive time-stamp"});
    return Status::Ok();
  }
  const EvidenceSkeleton::Ats& first = skeleton->chains.front().front();
  auto batch = LoadBatch(first.batch_id, batches);
  if (!batch.ok()) {
    out.damage.push_back({"evidence", "batch " + first.batch_id + ": " + batch.status().message()});
    return Status::Ok();
  }
  // The reduced tree as the evidence record holds it (derived from the batch's stored tree).
  auto assembled = Assemble(record, skeleton.value(), batches);
  if (!assembled.ok()) {
    out.damage.push_back({"evidence", assembled.status().message()});
    return Status::Ok();
  }
  const std::optional<timestamp::ReducedHashtree>& first_tree = assembled->sequence.front().front().reduced_hashtree;
  HashAlgorithm alg = batch.value()->hash_algorithm;
  std::map<std::string, Bytes> hashed;  // path -> hash under the batch's algorithm
  for (const auto& [path, sha256] : intact) {
    if (alg == HashAlgorithm::kSha256) {
      hashed.emplace(path, sha256);
      continue;
    }
    auto digest = DigestContent(sha256, {alg});
    if (!digest.ok() && !IsDamage(digest.status())) return digest.status();
    if (!digest.ok()) {
      out.damage.push_back({path, "unreadable: " + digest.status().message()});
      return Status::Ok();
    }
    hashed.emplace(path, std::move(digest->front()));
  }
  std::vector<Bytes> members;
  for (const auto& [path, hash] : hashed) members.push_back(hash);
  Bytes leads_to;
  if (first_tree && !first_tree->empty()) {
    std::vector<Bytes> sealed = first_tree->front();
    for (const auto& [path, hash] : hashed) {
      if (std::find(sealed.begin(), sealed.end(), hash) == sealed.end())
        out.damage.push_back({path, "its " + std::string(HashAlgorithmName(alg)) +
                                        " hash is not among those the first archive time-stamp covers"});
    }
    std::vector<Bytes> mine = members;
    std::sort(mine.begin(), mine.end());
    std::sort(sealed.begin(), sealed.end());
    if (out.damage.empty() && mine != sealed)
      out.damage.push_back({"evidence", "the first archive time-stamp covers " + std::to_string(sealed.size()) +
                                            " data objects, the package has " + std::to_string(mine.size())});
    leads_to = timestamp::ReducedTreeRoot(alg, *first_tree);
  } else {
    leads_to = timestamp::GroupHash(alg, members);
  }
  if (out.damage.empty() && leads_to != batch.value()->root)
    out.damage.push_back({"evidence", "the first archive time-stamp's hash tree no longer leads to batch " +
                                          first.batch_id + "'s time-stamped root"});
  return Status::Ok();
}

}  // namespace preserve::archive
