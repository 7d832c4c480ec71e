// Sealing and renewal: the only code that asks a TSA for tokens and appends
// to evidence. Each batch is one time-stamp request; its new evidence is
// committed config.commit_subjects packages at a time, each commit atomic,
// so that memory does not grow with the batch. A crash before the first
// commit leaves everything as it was (packages still queued, renewals still
// due); a crash between two commits leaves the packages of the commits not
// made as they were, which the next run seals or renews in a batch of its
// own. Each package's evidence thus always names a batch that is stored.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <span>
#include <tuple>
#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "archive_impl.h"
#include "damage.h"
#include "preserve/util/certificates.h"
#include "preserve/util/fault_point.h"
#include "preserve/util/parallel.h"

namespace preserve::archive {

namespace {

std::string Until(TimePoint t) { return FormatUtcTime(t); }

// glibc's part of ReturnFreedMemory alone, for the end of each chunk of a
// renewal's last pass: glibc keeps freed blocks for reuse, and that pass's
// chunk buffers, freed a chunk later on another thread, left holes only a
// trim gave back. A no-op on tcmalloc's memory, whose free pages the next
// chunk takes again at once (handing them back there too cost 4 s of page
// faults a million subjects).
void TrimGlibcHeap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

// Hands the memory a finished step freed (a chunk's records, skeletons and
// hashes, the plan's scratch) back to the system, between steps, so that the
// resident size is the largest step's, not that plus what the next step could
// not fit into the holes. tcmalloc, the programs' allocator (CMakeLists.txt),
// once handed free pages back by itself only a few at a time: without this a
// renewal of a million packages peaked 50 MiB higher, at 493 MiB. The
// programs now set its aggressive decommit (util/src/allocator_settings.cc),
// which returns most freed pages at once, so there this call has little left
// to do (not measured without it since). Where tcmalloc is not linked (the
// tests) its function is null, and glibc's heap is trimmed.
extern "C" void MallocExtension_ReleaseFreeMemory() __attribute__((weak));
void ReturnFreedMemory() {
  if (MallocExtension_ReleaseFreeMemory != nullptr) MallocExtension_ReleaseFreeMemory();
  TrimGlibcHeap();
}

// A batch seals up to a million packages, and the per-package work (decoding
// records, hashing data objects, encoding the evidence) is independent from
// package to package; below this many a thread costs more than it saves.
constexpr std::size_t kMinPackagesPerThread = 4096;

// Sorts the `size`-byte digests lying one after another in `digests` in the
// order std::sort gives Bytes (rule 4's binary order). A group has a few
// members: an insertion sort in place, but for a large one.
void SortDigests(std::span<std::uint8_t> digests, std::size_t size) {
  const std::size_t n = digests.size() / size;
  std::uint8_t* const at = digests.data();
  constexpr std::size_t kInsertionSortMost = 32;
  if (n > kInsertionSortMost) {
    std::vector<Bytes> each;
    for (std::size_t i = 0; i < n; ++i) each.emplace_back(at + i * size, at + (i + 1) * size);
    std::sort(each.begin(), each.end());
    for (std::size_t i = 0; i < n; ++i) std::copy(each[i].begin(), each[i].end(), at + i * size);
    return;
  }
  std::array<std::uint8_t, 64> held{};  // the largest digest, SHA-512's
  for (std::size_t i = 1; i < n; ++i) {
    std::copy_n(at + i * size, size, held.begin());
    std::size_t j = i;
    for (; j > 0 && std::memcmp(held.data(), at + (j - 1) * size, size) < 0; --j)
      std::copy_n(at + (j - 1) * size, size, at + j * size);
    std::copy_n(held.begin(), size, at + j * size);
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> Archive::Impl::TsaAuditFields(const TsaAnswer& answer) {
  std::vector<std::pair<std::string, std::string>> fields;
  if (answer.tsa.empty()) return fields;  // the embedded TSA
  fields.emplace_back("tsa", answer.tsa);
  std::string failed;
  for (const TsaFailover& f : answer.failovers) failed += (failed.empty() ? "" : "; ") + f.failed + ": " + f.reason;
  if (!failed.empty()) fields.emplace_back("tsa_failed", std::move(failed));
  return fields;
}

std::string_view RenewalKindName(RenewalKind kind) {
  return kind == RenewalKind::kHashTree ? "hash-tree renewal" : "timestamp renewal";
}

Result<Deadline> Archive::Impl::DeadlineOf(const BatchRecord& batch) const {
  PRESERVE_ASSIGN_OR_RETURN(timestamp::TokenInfo info, timestamp::ParseToken(batch.token));
  PRESERVE_ASSIGN_OR_RETURN(TimePoint cert_end, CertificateNotAfter(info.tsa_certificate));
  Deadline d{cert_end, "the TSA certificate that signed it expires " + Until(cert_end), false};
  auto consider = [&d](std::optional<TimePoint> end, std::string reason, bool hash) {
    // At equal dates a hash-tree renewal wins: it re-seals everything.
    if (end && (*end < d.when || (*end == d.when && hash))) d = {*end, std::move(reason), hash};
  };
  if (auto key = policy::SignatureKeyTypeFromName(info.signature_algorithm); key.ok()) {
    consider(policy.SignatureEnd(key.value(), info.signature_key_bits),
             info.signature_algorithm + "-" + std::to_string(info.signature_key_bits) +
                 " signatures may not be used after it",
             false);
  }
  if (auto digest = HashAlgorithmFromName(info.signature_digest); digest.ok()) {
    std::optional<TimePoint> end = policy.HashEnd(digest.value());
    if (end) consider(end, "the token's signature digest " + info.signature_digest + " ends " + Until(*end), false);
  }
  if (std::optional<TimePoint> end = policy.HashEnd(batch.hash_algorithm)) {
    consider(end, "the hash algorithm " + std::string(HashAlgorithmName(batch.hash_algorithm)) + " ends " + Until(*end),
             true);
  }
  if (d.reason.find(" may not be used after it") != std::string::npos) d.reason += " (" + Until(d.when) + ")";
  return d;
}

Result<std::string> Archive::Impl::RollOverTsaIfDue(TimePoint horizon, bool dry_run) {
  using timestamp::TsaKeyType;
  if (external) return std::string();  // the embedded TSA is not used
  auto key_end = [this](TsaKeyType type) {
    auto [key, bits] = timestamp::TsaKeySignature(type);
    return policy.SignatureEnd(key, bits);
  };
  std::string why;
  TimePoint cert_end = tsa->certificate_not_after();
  std::optional<TimePoint> alg_end = key_end(tsa->key_type());
  if (cert_end <= horizon) {
    why = "the TSA certificate expires " + Until(cert_end);
  } else if (alg_end && *alg_end <= horizon) {
    why = std::string("its ") + std::string(timestamp::TsaKeyTypeName(tsa->key_type())) + " key may not be used after " +
          Until(*alg_end);
  }
  if (why.empty()) return std::string();

  // The configured key type while the policy allows it, else the first that lasts.
  std::optional<TsaKeyType> chosen;
  for (TsaKeyType candidate : {config.tsa_key, TsaKeyType::kEcdsaP256, TsaKeyType::kRsa3072, TsaKeyType::kEcdsaP384}) {
    std::optional<TimePoint> end = key_end(candidate);
    if (!end || *end > horizon) {
      chosen = candidate;
      break;
    }
  }
  if (!chosen)
    return Status::FailedPrecondition("the embedded TSA must roll over (" + why +
                                      "), but the policy allows none of its key types beyond " + Until(horizon));
  std::string what = "embedded TSA rolled over to a new " + std::string(timestamp::TsaKeyTypeName(*chosen)) +
                     " key: " + why;
  if (dry_run) return "would roll over to a new " + std::string(timestamp::TsaKeyTypeName(*chosen)) + " key: " + why;
  PRESERVE_RETURN_IF_ERROR(
      timestamp::RollOverEmbeddedTsa(TsaDir(root), *chosen, config.tsa_validity_years, *clock));
  PRESERVE_ASSIGN_OR_RETURN(tsa, timestamp::EmbeddedTsa::Open(TsaDir(root), *clock));
  PRESERVE_FAULT_POINT("tsa.rollover.before_audit");
  storage::WriteSet w;
  w.AppendAudit(AuditEvent(*clock, "tsa-rollover",
                           {{"key", std::string(timestamp::TsaKeyTypeName(*chosen))},
                            {"reason", why},
                            {"certificate_not_after", Until(tsa->certificate_not_after())}}));
  w.PutSetting(kActiveTsaSetting, Digest(HashAlgorithm::kSha256, tsa->tsa_certificate()));
  PRESERVE_RETURN_IF_ERROR(store->Commit(std::move(w)));
  if (tsa->certificate_not_after() <= horizon)
    return Status::FailedPrecondition("the new TSA certificate expires " + Until(tsa->certificate_not_after()) +
                                      ", within the renewal margin: raise tsa_validity_years in config.json");
  return what;
}

Status Archive::Impl::RecordInterruptedTsaRollover() {
  if (!tsa) return Status::Ok();
  Bytes active = Digest(HashAlgorithm::kSha256, tsa->tsa_certificate());
  auto recorded = store->GetSetting(kActiveTsaSetting);
  if (recorded.ok() && recorded.value() == active) return Status::Ok();
  if (!recorded.ok() && recorded.status().code() != StatusCode::kNotFound) return recorded.status();
  storage::WriteSet w;
  // No setting at all: a store from before it existed; it only starts being kept.
  if (recorded.ok()) {
    w.AppendAudit(AuditEvent(*clock, "tsa-rollover",
                             {{"key", std::string(timestamp::TsaKeyTypeName(tsa->key_type()))},
                              {"reason", "found completed on opening the store: the run that rolled the TSA over "
                                         "stopped before recording it"},
                              {"certificate_not_after", Until(tsa->certificate_not_after())}}));
  }
  w.PutSetting(kActiveTsaSetting, active);
  return store->Commit(std::move(w));
}

Result<BatchRecord> Archive::Impl::TimeStampBatch(HashAlgorithm alg, const Bytes& tree_root, std::size_t packages,
                                                  TsaAnswer& answer) {
  Bytes token;
  timestamp::TokenInfo info;
  if (external) {
    // Checked by the stamper: status, nonce, imprint, policy, signature, TSA path, accuracy.
    PRESERVE_ASSIGN_OR_RETURN(timestamp::TimeStampFromTsa stamped, external->Stamp(alg, tree_root));
    token = std::move(stamped.token);
    info = std::move(stamped.info);
    answer.tsa = stamped.tsa;
    for (timestamp::TsaFailure& failure : stamped.failed_over)
      answer.failovers.push_back(TsaFailover{std::move(failure.tsa), std::move(failure.reason), stamped.tsa});
  } else {
    PRESERVE_ASSIGN_OR_RETURN(token, timestamp::RequestTimeStamp(*tsa, alg, tree_root));
    // Never commit evidence that would not verify: check the token as an auditor will.
    timestamp::TokenVerifyOptions verify;
    verify.trust_anchors = {ca_certificate};
    PRESERVE_ASSIGN_OR_RETURN(info, timestamp::VerifyToken(token, alg, tree_root, verify));
  }
  BatchRecord batch;
  PRESERVE_ASSIGN_OR_RETURN(batch.id, NewId(*clock));
  batch.time = info.gen_time;
  batch.hash_algorithm = alg;
  batch.root = tree_root;
  batch.token = std::move(token);
  batch.packages = packages;
  return batch;
}

Result<Archive::Impl::TimeStampedTree> Archive::Impl::TimeStampGroups(HashAlgorithm alg,
                                                                     std::vector<std::vector<Bytes>> groups,
                                                                     std::size_t packages, TimePoint horizon) {
  PRESERVE_ASSIGN_OR_RETURN(timestamp::HashTree tree, timestamp::BuildHashTree(alg, groups));
  groups = {};  // the tree keeps what it needs; free the rest before the big write
  return TimeStampTree(alg, std::move(tree), packages, horizon);
}

Result<Archive::Impl::TimeStampedTree> Archive::Impl::TimeStampTree(HashAlgorithm alg, timestamp::HashTree tree,
                                                                   std::size_t packages, TimePoint horizon) {
  TsaAnswer answer;
  PRESERVE_ASSIGN_OR_RETURN(BatchRecord batch, TimeStampBatch(alg, tree.root(), packages, answer));
  PRESERVE_ASSIGN_OR_RETURN(Deadline deadline, DeadlineOf(batch));
  if (deadline.when <= horizon)
    return Status::FailedPrecondition("the new evidence would be due for renewal again at once (" + deadline.reason +
                                      "): check the policy and the TSA");
  return TimeStampedTree{std::move(tree), std::move(batch), std::move(deadline), std::move(answer)};
}

namespace {

// Calls `put` with every chunk of `tree` as the trees family stores it:
// level, chunk number, and kTreeChunkNodes nodes (fewer at a level's end).
void ForEachTreeChunk(const timestamp::HashTree& tree,
                      const std::function<void(std::uint32_t level, std::uint32_t chunk, ByteView nodes)>& put) {
  const std::size_t chunk_bytes = kTreeChunkNodes * tree.digest_size();
  for (std::size_t l = 0; l < tree.StoredLevels(); ++l) {
    ByteView level = tree.Level(l);
    for (std::size_t offset = 0, chunk = 0; offset < level.size(); offset += chunk_bytes, ++chunk)
      put(static_cast<std::uint32_t>(l), static_cast<std::uint32_t>(chunk),
          level.subspan(offset, std::min(chunk_bytes, level.size() - offset)));
  }
}

}  // namespace

Status CommitTreeInSteps(storage::Store& store, const std::string& batch_id, const timestamp::HashTree& tree) {
  // About 8 MiB a commit: a million-leaf tree is 64 MB (SHA-256) or 96 MB
  // (SHA-384), which one commit would hold three times over at once (the
  // write, RocksDB's batch, its memtable).
  constexpr std::size_t kTreeBytesPerCommit = 8u << 20;
  storage::WriteSet w;
  std::size_t pending = 0;
  Status committed = Status::Ok();
  ForEachTreeChunk(tree, [&](std::uint32_t level, std::uint32_t chunk, ByteView nodes) {
    w.PutTreeNodes(batch_id, level, chunk, nodes);
    pending += nodes.size();
    if (pending < kTreeBytesPerCommit || !committed.ok()) return;
    committed = store.Commit(std::exchange(w, {}));
    pending = 0;
  });
  PRESERVE_RETURN_IF_ERROR(committed);
  return pending > 0 ? store.Commit(std::move(w)) : Status::Ok();
}

void PutTree(storage::WriteSet& w, const std::string& batch_id, const timestamp::HashTree& tree) {
  ForEachTreeChunk(tree, [&](std::uint32_t level, std::uint32_t chunk, ByteView nodes) {
    w.PutTreeNodes(batch_id, level, chunk, nodes);
  });
}

namespace {

// Where group `group` of a batch's tree sits, for a skeleton (nullopt: a single data object, no tree).
std::optional<std::uint32_t> LeafOf(const timestamp::HashTree& tree, std::size_t group) {
  if (!tree.has_reduced_trees()) return std::nullopt;
  return static_cast<std::uint32_t>(tree.LeafPosition(group));
}

// Records in `batch` where its tree sealed the trail's head (group `group`).
// The batch's own event follows the head, committed with the batch, and
// names the head's event count (audit_head_events), so the trail itself says
// which batches seal a head.
void NoteSealedHead(BatchRecord& batch, const BatchRecord::AuditHead& head, const timestamp::HashTree& tree,
                    std::size_t group) {
  batch.audit_head = head;
  batch.audit_head->leaf = tree.has_reduced_trees() ? static_cast<std::uint32_t>(tree.LeafPosition(group)) : 0;
}

}  // namespace

namespace {

// The oldest queue entries of one seal: the ids in one buffer (a million
// strings would be a million allocations) and the group hashes the entries
// carry, in one flat array: what BuildHashTreeOverLeaves takes.
class QueuedPackages {
 public:
  explicit QueuedPackages(std::size_t digest_size) : digest_size_(digest_size) {}

  // Takes an entry; its leaf is left zero when it carries none (missing()).
  Status Add(std::string_view id, ByteView entry, HashAlgorithm alg) {
    auto hash = QueuedGroupHash(entry, alg);
    if (!hash.ok()) return hash.status().WithContext("package " + std::string(id));
    if (hash->empty()) missing_.push_back(size());
    ids_.append(id);
    id_ends_.push_back(ids_.size());
    leaves_.resize(leaves_.size() + digest_size_);
    std::copy(hash->begin(), hash->end(), leaves_.end() - static_cast<std::ptrdiff_t>(hash->size()));
    return Status::Ok();
  }
  // A leaf after the packages' (the sealed audit head), once every Add is done.
  void AppendLeaf(ByteView hash) { leaves_.insert(leaves_.end(), hash.begin(), hash.end()); }
  std::size_t size() const { return id_ends_.size(); }
  std::string_view id(std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : id_ends_[i - 1];
    return std::string_view(ids_).substr(begin, id_ends_[i] - begin);
  }
  // The packages whose entry carries no group hash under the batch's algorithm.
  const std::vector<std::size_t>& missing() const { return missing_; }
  void SetLeaf(std::size_t i, ByteView hash) {
    std::copy(hash.begin(), hash.end(), leaves_.begin() + static_cast<std::ptrdiff_t>(i * digest_size_));
  }
  ByteView leaves() const { return leaves_; }
  void FreeLeaves() { leaves_ = {}; }

 private:
  std::size_t digest_size_;
  std::string ids_;
  std::vector<std::size_t> id_ends_;
  Bytes leaves_;
  std::vector<std::size_t> missing_;
};

}  // namespace

// Over 60 lines: one seal batch is one atomic write; its steps in order, each commented.
Result<std::optional<SealOutcome>> Archive::Impl::SealBatch(std::size_t max_batch) {
  using Members = EvidenceSkeleton::Ats::Members;
  TimePoint horizon = clock->Now() + config.renewal_margin;
  PRESERVE_ASSIGN_OR_RETURN(HashAlgorithm alg, policy.PreferredHash(horizon));
  QueuedPackages queued(HashAlgorithmSize(alg));
  Status entry_status = Status::Ok();
  PRESERVE_RETURN_IF_ERROR(store->ScanQueue(max_batch, [&](std::string_view id, ByteView entry) {
    entry_status = queued.Add(id, entry, alg);
    return entry_status.ok();
  }));
  PRESERVE_RETURN_IF_ERROR(entry_status);
  const std::size_t n = queued.size();
  if (n == 0) return std::optional<SealOutcome>();

  // Only the data objects are needed: the stored record, without the evidence look-up.
  auto data_hashes = [&](std::size_t i) -> Result<std::vector<Bytes>> {
    PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, store->GetPackage(queued.id(i)));
    PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, DecodeStoredPackageRecord(bytes));
    if (record.objects.empty()) return Status::Corruption("package " + record.id + " has no data object");
    return DataHashes(record, alg);
  };
  // A seal's first list is the package's own data-object hashes: derived from
  // its record when they are the content hashes, stored otherwise. Derived,
  // the tree needs only the leaves, which the queue entries carry (ingest
  // wrote them), so no package record is read. The audit trail's head is
  // always the last leaf, so even a batch of one package has a tree.
  const Members source = alg == kContentHash ? Members::kDataObjects : Members::kStored;
  PRESERVE_ASSIGN_OR_RETURN(HeadToSeal head, NextHeadToSeal(alg));
  PRESERVE_FAULT_POINT("seal.before_tsa");
  std::optional<TimeStampedTree> stamped;
  if (source == Members::kDataObjects) {
    const std::vector<std::size_t>& missing = queued.missing();
    PRESERVE_RETURN_IF_ERROR(ParallelFor(missing.size(), kMinPackagesPerThread, [&](std::size_t k) -> Status {
      PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> members, data_hashes(missing[k]));
      queued.SetLeaf(missing[k], timestamp::GroupHash(alg, std::move(members)));
      return Status::Ok();
    }));
    queued.AppendLeaf(head.leaf);
    PRESERVE_ASSIGN_OR_RETURN(timestamp::HashTree tree, timestamp::BuildHashTreeOverLeaves(alg, queued.leaves()));
    queued.FreeLeaves();  // the tree holds them now; free the copy before the big write
    PRESERVE_ASSIGN_OR_RETURN(stamped, TimeStampTree(alg, std::move(tree), n, horizon));
  } else {
    std::vector<std::vector<Bytes>> groups(n);
    PRESERVE_RETURN_IF_ERROR(ParallelFor(n, kMinPackagesPerThread, [&](std::size_t i) -> Status {
      PRESERVE_ASSIGN_OR_RETURN(groups[i], data_hashes(i));
      return Status::Ok();
    }));
    groups.push_back({head.leaf});
    PRESERVE_ASSIGN_OR_RETURN(stamped, TimeStampGroups(alg, std::move(groups), n, horizon));
  }
  PRESERVE_FAULT_POINT("seal.after_tsa");
  const timestamp::HashTree& tree = stamped->tree;
  BatchRecord& batch = stamped->batch;
  const Deadline& deadline = stamped->deadline;
  batch.leaves = tree.has_reduced_trees() ? tree.groups() : 0;
  NoteSealedHead(batch, head.head, tree, n);

  EvidenceSkeleton skeleton;
  skeleton.next_renewal = deadline.when;
  skeleton.digest_algorithms = {alg};
  skeleton.chains = {{EvidenceSkeleton::Ats{alg, batch.id, LeafOf(tree, 0), source, {}}}};
  // Derived members: every package's skeleton is this one but for its leaf.
  std::optional<SealSkeletonEncoder> alike;
  if (skeleton.chains[0][0].leaf && source == Members::kDataObjects) alike.emplace(skeleton);
  Bytes encoded;
  auto skeleton_of = [&](std::size_t i) -> ByteView {
    if (alike) return alike->Encode(static_cast<std::uint32_t>(tree.LeafPosition(i)));
    EvidenceSkeleton::Ats& ats = skeleton.chains[0][0];
    ats.leaf = LeafOf(tree, i);
    if (ats.leaf && source == Members::kStored) ats.members = tree.Members(i);
    encoded = EncodeEvidenceSkeleton(skeleton);
    return encoded;
  };

  // The tree first, in commits of its own (a crash after them leaves a tree
  // no batch names: 'check' counts it, 'gc' erases it). Then one commit per
  // config.commit_subjects packages, the first with the batch, the trail
  // head it seals and the audit event. A crash between two commits leaves
  // the later packages queued, as they were: the next seal seals them in a
  // batch of their own (this batch's token then covers leaves that nothing
  // refers to, which proves nothing about them).
  PRESERVE_RETURN_IF_ERROR(CommitTreeInSteps(*store, batch.id, tree));
  PRESERVE_FAULT_POINT("seal.after_tree");
  for (std::size_t first = 0; first < n; first += config.commit_subjects) {
    const std::size_t end = std::min(n, first + config.commit_subjects);
    storage::WriteSet w;
    // Three operations per package: the ids, skeletons and schedule keys.
    const bool with_batch = first == 0;
    w.Reserve(3 * (end - first) + 8, (end - first) * (3 * queued.id(first).size() + skeleton_of(first).size() + 8) + 4096);
    if (with_batch) {
      w.PutBatch(batch.id, EncodeBatchRecord(batch));
      PutSealedHead(w, batch, head, deadline.when);
      w.AppendAudit(AuditEvent(*clock, "seal",
                               {{"batch", batch.id},
                                {"packages", std::to_string(batch.packages)},
                                {"hash", std::string(HashAlgorithmName(alg))},
                                {"root", ToHex(batch.root)},
                                {"token_time", Until(batch.time)},
                                {"audit_head_events", std::to_string(batch.audit_head->events)}},
                               TsaAuditFields(stamped->answer)));
    }
    for (std::size_t i = first; i < end; ++i) {
      const std::string_view id = queued.id(i);
      w.PutEvidence(id, skeleton_of(i));
      w.Dequeue(id);
      w.Schedule(deadline.when, id, batch.id);
    }
    PRESERVE_RETURN_IF_ERROR(store->Commit(std::move(w)));
    if (end < n) PRESERVE_FAULT_POINT("seal.between_commits");
  }
  PRESERVE_FAULT_POINT("seal.after_commit");
  return std::optional<SealOutcome>(
      SealOutcome{batch.id, batch.packages, batch.time, std::move(stamped->answer.failovers)});
}

Sealing::Sealing(Archive& archive) : impl_(archive.impl_.get()) {}

Result<std::unique_ptr<timestamp::EmbeddedTsa>> Sealing::OpenEmbeddedTsa(const std::filesystem::path& root,
                                                                         const Clock& clock) {
  return timestamp::EmbeddedTsa::Open(TsaDir(root), clock);
}

Result<std::vector<SealOutcome>> Sealing::Seal(std::size_t max_batch) {
  if (!impl_->writable()) return Status::FailedPrecondition("the store is open read-only");
  if (max_batch == 0) return Status::InvalidArgument("the batch size must be at least 1");
  std::vector<SealOutcome> outcomes;
  PRESERVE_ASSIGN_OR_RETURN(auto first, impl_->store->ListQueued(1));
  if (!first.empty()) {
    PRESERVE_ASSIGN_OR_RETURN(std::string rollover,
                              impl_->RollOverTsaIfDue(impl_->clock->Now() + impl_->config.renewal_margin, false));
    // A batch short of max_batch took the whole queue: no second scan, which
    // would step over the batch's million fresh deletions to find nothing.
    // Packages queued meanwhile wait for the next seal.
    while (true) {
      PRESERVE_ASSIGN_OR_RETURN(std::optional<SealOutcome> outcome, impl_->SealBatch(max_batch));
      if (!outcome) break;
      const bool drained = outcome->packages < max_batch;
      outcomes.push_back(std::move(*outcome));
      if (drained) break;
    }
  }
  // For `preserve status` and the schedule (jobs.h): when sealing last ran,
  // an empty queue included (the seal job is then not due again for its interval).
  std::size_t sealed = 0;
  for (const auto& o : outcomes) sealed += o.packages;
  storage::WriteSet w;
  PutJobRun(w, "seal",
            {impl_->clock->Now(),
             outcomes.empty() ? std::string("nothing queued")
                              : "sealed " + std::to_string(sealed) + (sealed == 1 ? " package in " : " packages in ") +
                                    std::to_string(outcomes.size()) + (outcomes.size() == 1 ? " batch" : " batches"),
             true,
             false,
             {{"packages", sealed}, {"batches", outcomes.size()}}});
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)).WithContext("recording the seal run"));
  return outcomes;
}

Result<RenewalPlan> Sealing::PlanRenewal(const RenewOptions& options) { return Plan(options, true); }

Result<RenewalPlan> Sealing::Plan(const RenewOptions& options, bool item_reasons) {
  RenewalPlan plan;
  plan.now = impl_->clock->Now();
  plan.horizon = plan.now + options.margin.value_or(impl_->config.renewal_margin);
  if (impl_->writable()) {
    PRESERVE_ASSIGN_OR_RETURN(plan.tsa_rollover, impl_->RollOverTsaIfDue(plan.horizon, true));
  }
  PRESERVE_ASSIGN_OR_RETURN(plan.trail_anchor, impl_->AnchorTrailIfDue(plan.horizon, true));
  PRESERVE_RETURN_IF_ERROR(ScanDue(plan.now, plan.horizon, item_reasons,
                                   [&](std::vector<RenewalItem>& items, std::vector<RenewalItem>& lapsed) {
                                     std::move(items.begin(), items.end(), std::back_inserter(plan.items));
                                     std::move(lapsed.begin(), lapsed.end(), std::back_inserter(plan.lapsed));
                                     return Status::Ok();
                                   }));
  return plan;
}

Status Sealing::ScanDue(TimePoint now, TimePoint horizon, bool item_reasons,
                        const std::function<Status(std::vector<RenewalItem>& items,
                                                   std::vector<RenewalItem>& lapsed)>& window_done) {
  BatchCache batches;
  // A batch's deadline parses its token: worked out once per batch, not per package.
  std::map<std::string, Deadline> deadlines;
  std::vector<std::string> last_batch;
  std::optional<storage::ScheduleEntry> after;  // the last entry of the window before
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(std::vector<storage::ScheduleEntry> due,
                              impl_->store->ScheduledBefore(horizon, impl_->config.commit_subjects,
                                                                           after ? &*after : nullptr));
    if (due.empty()) return Status::Ok();
    after = due.back();
    // Only each subject's newest batch matters here. The schedule names it;
    // entries written before it did are looked up in their evidence (in parallel).
    last_batch.assign(due.size(), {});
    PRESERVE_RETURN_IF_ERROR(ParallelFor(due.size(), kMinPackagesPerThread, [&](std::size_t w) -> Status {
      if (!due[w].newest_batch.empty()) {
        last_batch[w] = std::move(due[w].newest_batch);
        return Status::Ok();
      }
      const std::string& id = due[w].package_id;
      PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, impl_->LoadSkeleton(id));
      if (skeleton.chains.empty() || skeleton.chains.back().empty())
        return Status::Corruption("evidence of " + SubjectName(id) + " has no archive time-stamp");
      last_batch[w] = std::move(skeleton.chains.back().back().batch_id);
      return Status::Ok();
    }));
    std::vector<RenewalItem> items;
    std::vector<RenewalItem> lapsed;
    for (std::size_t w = 0; w < due.size(); ++w) {
      PRESERVE_ASSIGN_OR_RETURN(const BatchRecord* batch, impl_->LoadBatch(last_batch[w], batches));
      auto known = deadlines.find(last_batch[w]);
      if (known == deadlines.end()) {
        PRESERVE_ASSIGN_OR_RETURN(Deadline d, impl_->DeadlineOf(*batch));
        known = deadlines.emplace(last_batch[w], std::move(d)).first;
      }
      const Deadline& deadline = known->second;
      RenewalItem item{std::move(due[w].package_id), RenewalKind::kTimeStamp, batch->hash_algorithm, deadline.when,
                       deadline.reason};
      // Already ended: the newest time-stamp no longer protects it, and a new
      // one over it would prove nothing about the time before.
      if (deadline.when <= now) {
        lapsed.push_back(std::move(item));
        continue;
      }
      if (!item_reasons) item.reason = {};
      // The chain's hash ending before the horizon calls for a hash-tree renewal
      // even when something else (an expiring TSA certificate) ends first: a
      // timestamp renewal under that hash would be due again at once.
      std::optional<TimePoint> hash_end = impl_->policy.HashEnd(batch->hash_algorithm);
      if (deadline.hash_ends || (hash_end && *hash_end <= horizon)) {
        item.kind = RenewalKind::kHashTree;
        PRESERVE_ASSIGN_OR_RETURN(item.hash_algorithm, impl_->policy.PreferredHash(horizon));
        if (!deadline.hash_ends && item_reasons)
          item.reason += ", and " + std::string(HashAlgorithmName(batch->hash_algorithm)) + " ends " + Until(*hash_end);
      }
      items.push_back(std::move(item));
    }
    PRESERVE_RETURN_IF_ERROR(window_done(items, lapsed));
  }
}

Result<PackageRecord> Archive::Impl::SubjectRecord(const std::string& id) const {
  PackageRecord record;
  if (IsHeadSubject(id)) {
    record.id = SubjectName(id);  // a head's first list is stored: no data objects are needed
    return record;
  }
  // The stored record alone: LoadRecord would read the evidence again for its state.
  PRESERVE_ASSIGN_OR_RETURN(Bytes stored, store->GetPackage(id));
  return DecodeStoredPackageRecord(stored);
}

std::vector<Result<PackageRecord>> Archive::Impl::SubjectRecords(std::span<const std::string_view> ids) const {
  std::vector<std::string_view> stored_ids;  // all but heads
  for (const auto id : ids)
    if (!IsHeadSubject(id)) stored_ids.push_back(id);
  std::vector<Result<Bytes>> stored = store->MultiGetPackages(stored_ids);
  std::vector<Result<PackageRecord>> out;
  out.reserve(ids.size());
  std::size_t next_stored = 0;
  for (const auto id : ids) {
    if (IsHeadSubject(id)) {
      out.emplace_back(SubjectRecord(std::string(id)));
    } else {
      const Result<Bytes>& bytes = stored[next_stored++];
      out.emplace_back(bytes.ok() ? DecodeStoredPackageRecord(bytes.value()) : Result<PackageRecord>(bytes.status()));
    }
  }
  return out;
}

Result<timestamp::EvidenceRecord> Archive::Impl::AssembleSubject(const std::string& id,
                                                                 const EvidenceSkeleton& skeleton,
                                                                 BatchCache& cache) const {
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, SubjectRecord(id));
  return Assemble(record, skeleton, cache);
}

Result<std::vector<Bytes>> Archive::Impl::SubjectDataHashes(const std::string& id, HashAlgorithm alg,
                                                            BatchCache& cache) const {
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, SubjectRecord(id));
  return SubjectDataHashes(id, record, alg, cache);
}

Result<std::vector<Bytes>> Archive::Impl::SubjectDataHashes(const std::string& id, const PackageRecord& record,
                                                            HashAlgorithm alg, BatchCache& cache) const {
  if (IsHeadSubject(id)) {
    PRESERVE_ASSIGN_OR_RETURN(const BatchRecord* batch, LoadBatch(std::string(HeadBatchId(id)), cache));
    if (!batch->audit_head) return Status::Corruption("batch " + batch->id + " seals no audit trail head");
    return std::vector<Bytes>{Digest(alg, AuditHeadObject(*batch->audit_head))};
  }
  return DataHashes(record, alg);
}

timestamp::EvidenceVerifyOptions Archive::Impl::EvidenceOptions(const Clock& at) const {
  audit::PackageVerifyOptions ends;
  audit::UsePolicy(policy, ends);
  timestamp::EvidenceVerifyOptions options;
  options.tokens.trust_anchors = TsaTrustAnchors();
  options.hash_algorithm_end = ends.hash_algorithm_end;
  options.signature_algorithm_end = ends.signature_algorithm_end;
  options.clock = &at;
  return options;
}

timestamp::EvidenceReport Archive::Impl::VerifySubjectEvidence(const std::string& id,
                                                               const timestamp::EvidenceRecord& er,
                                                               BatchCache& cache) const {
  return timestamp::VerifyEvidenceRecord(
      er, [&](HashAlgorithm alg) { return SubjectDataHashes(id, alg, cache); }, EvidenceOptions(*clock));
}

namespace {

// What a hash-tree renewal carries from one pass over its subjects to the
// next: in an unnamed temporary file rather than memory (a million subjects
// of six SHA-384 members are 290 MB), read back in the order written.
class Spool {
 public:
  static Result<Spool> Create() {
    Spool spool;
    spool.file_ = std::make_unique<File>();
    if (spool.file_->file == nullptr)
      return Status::IOError(std::string("cannot create a temporary file: ") + std::strerror(errno));
    // A buffer of kBufferBytes, not the file system's block (4 KiB): a
    // renewal of a million subjects moves some 2 GB through its spools.
    if (std::setvbuf(spool.file_->file, spool.file_->buffer.get(), _IOFBF, kBufferBytes) != 0)
      return Status::IOError("cannot set the buffer of a temporary file");
    return spool;
  }
  // The unlocked stdio calls: a spool is used by one thread at a time, and
  // a million subjects make some fifty million small reads and writes.
  Status Append(ByteView bytes) {
    return fwrite_unlocked(bytes.data(), 1, bytes.size(), file_->file) == bytes.size()
               ? Status::Ok()
               : Status::IOError("cannot write the renewal's temporary file");
  }
  Status AppendCount(std::uint32_t count) { return Append({reinterpret_cast<const std::uint8_t*>(&count), sizeof count}); }
  // A piece of any length: its length, then it.
  Status AppendSized(ByteView bytes) {
    PRESERVE_RETURN_IF_ERROR(AppendCount(static_cast<std::uint32_t>(bytes.size())));
    return Append(bytes);
  }
  Status AppendHashes(const std::vector<Bytes>& hashes) {
    PRESERVE_RETURN_IF_ERROR(AppendCount(static_cast<std::uint32_t>(hashes.size())));
    for (const Bytes& h : hashes) PRESERVE_RETURN_IF_ERROR(Append(h));
    return Status::Ok();
  }
  // The same for hashes of `size` bytes lying one after another.
  Status AppendHashes(ByteView hashes, std::size_t size) {
    PRESERVE_RETURN_IF_ERROR(AppendCount(static_cast<std::uint32_t>(hashes.size() / size)));
    return Append(hashes);
  }
  Status Rewind() {
    return std::fseek(file_->file, 0, SEEK_SET) == 0 ? Status::Ok()
                                                     : Status::IOError("cannot read the renewal's temporary file");
  }
  Status Read(std::span<std::uint8_t> out) {
    return fread_unlocked(out.data(), 1, out.size(), file_->file) == out.size()
               ? Status::Ok()
               : Status::IOError("the renewal's temporary file ends early");
  }
  Result<std::uint32_t> ReadCount() {
    std::uint32_t count = 0;
    PRESERVE_RETURN_IF_ERROR(Read({reinterpret_cast<std::uint8_t*>(&count), sizeof count}));
    return count;
  }
  Result<Bytes> ReadSized() {
    PRESERVE_ASSIGN_OR_RETURN(std::uint32_t size, ReadCount());
    Bytes out(size);
    PRESERVE_RETURN_IF_ERROR(Read(out));
    return out;
  }
  // ReadSized, appended to `out`.
  Status ReadSizedTo(Bytes& out) {
    PRESERVE_ASSIGN_OR_RETURN(std::uint32_t size, ReadCount());
    const std::size_t at = out.size();
    out.resize(at + size);
    return Read(std::span(out).subspan(at));
  }
  Result<std::vector<Bytes>> ReadHashes(std::size_t digest_size) {
    PRESERVE_ASSIGN_OR_RETURN(std::uint32_t count, ReadCount());
    std::vector<Bytes> hashes(count, Bytes(digest_size));
    for (Bytes& h : hashes) PRESERVE_RETURN_IF_ERROR(Read(h));
    return hashes;
  }

 private:
  static constexpr std::size_t kBufferBytes = 64 << 10;
  // A temporary file and its buffer, which must outlive it (fclose writes it out).
  struct File {
    std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kBufferBytes);
    std::FILE* file = std::tmpfile();
    File() = default;
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    ~File() {
      if (file != nullptr) std::fclose(file);
    }
  };
  std::unique_ptr<File> file_;
};

// Renewal reads its subjects' records and evidence this many at a time
// (Store::MultiGetPackages, MultiGetEvidence).
constexpr std::size_t kSubjectsReadTogether = 256;

// Calls each(first, ids) for the blocks of up to kSubjectsReadTogether
// subjects that cover [begin, end) of `subjects`, in order.
Status ForEachSubjectBlock(SubjectIds::Range subjects, std::size_t begin, std::size_t end,
                           const std::function<Status(std::size_t first, std::span<const std::string_view> ids)>& each) {
  std::vector<std::string_view> ids;
  for (std::size_t first = begin; first < end; first += kSubjectsReadTogether) {
    ids.clear();
    for (std::size_t i = first; i < std::min(end, first + kSubjectsReadTogether); ++i) ids.push_back(subjects[i]);
    PRESERVE_RETURN_IF_ERROR(each(first, ids));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Bytes>> Archive::Impl::LoadStoredEvidence(SubjectIds::Range subjects) const {
  std::vector<Bytes> out(subjects.size());
  PRESERVE_RETURN_IF_ERROR(ParallelRanges(subjects.size(), kMinPackagesPerThread, [&](std::size_t begin, std::size_t end) {
    return ForEachSubjectBlock(subjects, begin, end, [&](std::size_t first, std::span<const std::string_view> ids) {
      std::vector<Result<Bytes>> stored = store->MultiGetEvidence(ids);
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!stored[i].ok()) return DecodeStoredSkeleton(ids[i], stored[i]).status();  // says which, and why
        out[first + i] = std::move(stored[i]).value();
      }
      return Status::Ok();
    });
  }));
  return out;
}

Result<std::vector<EvidenceSkeleton>> Archive::Impl::LoadRenewalSkeletons(SubjectIds::Range subjects,
                                                                          std::vector<Bytes>* stored) const {
  PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> bytes, LoadStoredEvidence(subjects));
  std::vector<EvidenceSkeleton> skeletons(subjects.size());
  PRESERVE_RETURN_IF_ERROR(ParallelFor(subjects.size(), kMinPackagesPerThread, [&](std::size_t i) -> Status {
    EvidenceSkeleton& skeleton = skeletons[i];
    PRESERVE_ASSIGN_OR_RETURN(skeleton, DecodeEvidenceSkeleton(bytes[i]));
    if (skeleton.chains.empty() || skeleton.chains.back().empty())
      return Status::Corruption("evidence of " + SubjectName(subjects[i]) + " has no archive time-stamp");
    return Status::Ok();
  }));
  if (stored != nullptr) *stored = std::move(bytes);
  return skeletons;
}

namespace {

// Step 1 of HashTreeRenewalGroups to steps 2 and 3, per subject, through a Spool.
struct PendingGroup {
  enum class Kind : std::uint32_t { kLeftOut, kGroup, kContent };
  Kind kind = Kind::kLeftOut;
  std::string left_out;                         // kLeftOut: why
  std::vector<Bytes> members;                   // kGroup: the group, made in step 1 (no content to re-read)
  Bytes sequence_hash;                          // kContent: ha (rule 12)
  std::vector<storage::ContentDigest> sha256s;  // kContent: the data objects', in the record's order

  Status WriteTo(Spool& spool) const {
    PRESERVE_RETURN_IF_ERROR(spool.AppendCount(static_cast<std::uint32_t>(kind)));
    switch (kind) {
      case Kind::kLeftOut:
        return spool.AppendSized({reinterpret_cast<const std::uint8_t*>(left_out.data()), left_out.size()});
      case Kind::kGroup:
        return spool.AppendHashes(members);
      case Kind::kContent:
        PRESERVE_RETURN_IF_ERROR(spool.Append(sequence_hash));
        PRESERVE_RETURN_IF_ERROR(spool.AppendCount(static_cast<std::uint32_t>(sha256s.size())));
        for (const auto& d : sha256s) PRESERVE_RETURN_IF_ERROR(spool.Append(d));
        return Status::Ok();
    }
    return Status::Internal("unknown pending group kind");
  }
  static Result<PendingGroup> ReadFrom(Spool& spool, std::size_t digest_size) {
    PendingGroup out;
    PRESERVE_ASSIGN_OR_RETURN(std::uint32_t kind, spool.ReadCount());
    if (kind > static_cast<std::uint32_t>(Kind::kContent))
      return Status::Internal("the renewal's temporary file is out of step");
    out.kind = static_cast<Kind>(kind);
    if (out.kind == Kind::kLeftOut) {
      PRESERVE_ASSIGN_OR_RETURN(const Bytes why, spool.ReadSized());
      out.left_out.assign(why.begin(), why.end());
      return out;
    }
    if (out.kind == Kind::kGroup) {
      PRESERVE_ASSIGN_OR_RETURN(out.members, spool.ReadHashes(digest_size));
    } else {
      out.sequence_hash.resize(digest_size);
      PRESERVE_RETURN_IF_ERROR(spool.Read(out.sequence_hash));
      PRESERVE_ASSIGN_OR_RETURN(std::uint32_t count, spool.ReadCount());
      out.sha256s.resize(count);
      for (auto& d : out.sha256s) PRESERVE_RETURN_IF_ERROR(spool.Read(d));
    }
    return out;
  }
};

// Step 2 of a hash-tree renewal (HashTreeRenewalGroups): every object
// named, once, re-read in key order and re-hashed, and its new hash spooled
// for each time it was named (with its digest, checked on reading), to be
// read back in that order. A range of the key space at a time: the objects
// of a batch lie all over the key space, so a pass per chunk of subjects
// would read most of the content again each time; a range at a time reads it
// once, and holds a range's digests and hashes (about `per_range` of them,
// some 80 bytes each), not the batch's.
class NewContentHashes {
 public:
  // `named`: `objects` digests, as step 1 met them; `hash`: reads and
  // hashes a range's objects (Archive::Impl::HashCheckedContent under `alg`).
  using HashContent = std::function<Result<CheckedContent>(std::vector<storage::ContentDigest> ascending)>;
  static Result<NewContentHashes> Make(Spool& named, std::size_t objects, HashAlgorithm alg, std::size_t per_range,
                                       const HashContent& hash) {
    NewContentHashes out;
    // At most kMaxRanges: each is a temporary file, open until step 3 ends.
    out.ranges_ = std::clamp<std::size_t>((objects + per_range - 1) / per_range, 1, kMaxRanges);
    // The digests named, dealt out to their ranges, each in the order named.
    std::vector<Spool> range_named;
    std::vector<std::size_t> range_count(out.ranges_);
    for (std::size_t r = 0; r < out.ranges_; ++r) {
      PRESERVE_ASSIGN_OR_RETURN(Spool created, Spool::Create());
      range_named.push_back(std::move(created));
    }
    PRESERVE_RETURN_IF_ERROR(ForEachDigest(named, objects, [&](const storage::ContentDigest& d) {
      const std::size_t r = out.RangeOf(d);
      ++range_count[r];
      return range_named[r].Append(d);
    }));
    const std::size_t digest_size = HashAlgorithmSize(alg);
    for (std::size_t r = 0; r < out.ranges_; ++r) {
      std::vector<storage::ContentDigest> wanted;
      wanted.reserve(range_count[r]);
      PRESERVE_RETURN_IF_ERROR(ForEachDigest(range_named[r], range_count[r], [&](const storage::ContentDigest& d) {
        wanted.push_back(d);
        return Status::Ok();
      }));
      SortUniqueDigests(wanted);
      PRESERVE_ASSIGN_OR_RETURN(const CheckedContent content, hash(std::move(wanted)));
      for (const auto& [k, why] : content.damage) out.damage.emplace(content.sha256[k], why);
      PRESERVE_ASSIGN_OR_RETURN(Spool created, Spool::Create());
      Spool& spool = out.per_range_.emplace_back(std::move(created));
      // Each digest named and its new hash, a block at a time: the lookups,
      // each a binary search in a table larger than the caches, on every core.
      const std::size_t record_size = sizeof(storage::ContentDigest) + digest_size;
      Bytes records;
      const auto look_up_block = [&](std::span<const storage::ContentDigest> block) -> Status {
        records.resize(block.size() * record_size);
        PRESERVE_RETURN_IF_ERROR(ParallelFor(block.size(), kMinDigestsPerThread, [&](std::size_t i) {
          const auto record = records.begin() + static_cast<std::ptrdiff_t>(i * record_size);
          const auto new_hash =
              content.digests.begin() + static_cast<std::ptrdiff_t>(content.IndexOf(block[i]) * digest_size);
          std::copy(new_hash, new_hash + static_cast<std::ptrdiff_t>(digest_size),
                    std::copy(block[i].begin(), block[i].end(), record));
          return Status::Ok();
        }));
        return spool.Append(records);
      };
      PRESERVE_RETURN_IF_ERROR(ForEachDigestBlock(range_named[r], range_count[r], look_up_block));
      PRESERVE_RETURN_IF_ERROR(spool.Rewind());
      range_named[r] = {};  // its temporary file goes
      ReturnFreedMemory();
    }
    return out;
  }

  // The new hash of the next object named, which must be `digest` (zeros when damaged).
  Status Next(const storage::ContentDigest& digest, Bytes& hash) {
    Spool& spool = per_range_[RangeOf(digest)];
    storage::ContentDigest named{};
    PRESERVE_RETURN_IF_ERROR(spool.Read(named));
    if (named != digest) return Status::Internal("the renewal's temporary file is out of step");
    return spool.Read(hash);
  }

  // Objects that could not be re-read, or no longer match their SHA-256: why.
  std::map<storage::ContentDigest, std::string> damage;

 private:
  std::size_t RangeOf(const storage::ContentDigest& d) const {
    return static_cast<std::size_t>((std::uint64_t{Prefix32(d)} * ranges_) >> 32);
  }
  // Calls `each` with the `count` digests of `spool`, in the order written,
  // a block at a time.
  static Status ForEachDigestBlock(Spool& spool, std::size_t count,
                                   const std::function<Status(std::span<const storage::ContentDigest>)>& each) {
    PRESERVE_RETURN_IF_ERROR(spool.Rewind());
    std::vector<storage::ContentDigest> block;
    for (std::size_t done = 0; done < count; done += block.size()) {
      block.resize(std::min<std::size_t>(count - done, kDigestsPerBlock));
      PRESERVE_RETURN_IF_ERROR(spool.Read({block.front().data(), block.size() * block.front().size()}));
      PRESERVE_RETURN_IF_ERROR(each(block));
    }
    return Status::Ok();
  }
  // The same, one digest at a time.
  static Status ForEachDigest(Spool& spool, std::size_t count,
                              const std::function<Status(const storage::ContentDigest&)>& each) {
    return ForEachDigestBlock(spool, count, [&](std::span<const storage::ContentDigest> block) {
      for (const auto& d : block) PRESERVE_RETURN_IF_ERROR(each(d));
      return Status::Ok();
    });
  }

  // A block's digests (32 bytes each) and in Make its records (80 with
  // SHA-384): small beside a chunk of subjects.
  static constexpr std::size_t kDigestsPerBlock = 1 << 14;
  static constexpr std::size_t kMinDigestsPerThread = 4096;

  static constexpr std::size_t kMaxRanges = 256;
  std::size_t ranges_ = 1;
  std::vector<Spool> per_range_;  // each object of the range and its new hash, in the order named
};


}  // namespace

// Over 60 lines: three steps that share the batch's spools; each commented.
Status Archive::Impl::HashTreeRenewalGroups(const SubjectIds& subjects, HashAlgorithm alg, BatchCache& cache,
                                            const KeepEvidence& keep_evidence, const TakeGroup& take) const {
  const std::size_t digest_size = HashAlgorithmSize(alg);
  const std::size_t n = subjects.size();
  using Kind = PendingGroup::Kind;
  PRESERVE_ASSIGN_OR_RETURN(Spool pending, Spool::Create());
  PRESERVE_ASSIGN_OR_RETURN(Spool named, Spool::Create());  // every data object's SHA-256, as step 1 meets them
  // Step 1, a chunk of subjects at a time: each one's record and evidence
  // read, its ATS sequence hashed (ha), and the data objects it must re-read
  // named; a trail head's and a deleted package's group made outright (a
  // head's text is in its batch, a deleted package's hashes in its tombstone).
  std::size_t objects = 0;
  // A chunk's evidence and groups are spooled on a thread of their own,
  // beside the next chunk's reading (which keeps both cores busy but for
  // such serial steps); one chunk at a time, in order.
  auto spool_chunk = [&](std::vector<Bytes> stored, std::vector<PendingGroup> groups) -> Status {
    for (const Bytes& evidence : stored) PRESERVE_RETURN_IF_ERROR(keep_evidence(evidence));
    stored = {};
    for (const PendingGroup& group : groups) {
      PRESERVE_RETURN_IF_ERROR(group.WriteTo(pending));
      objects += group.sha256s.size();
      for (const auto& d : group.sha256s) PRESERVE_RETURN_IF_ERROR(named.Append(d));
    }
    return Status::Ok();
  };
  std::future<Status> spooling;
  auto spooled = [&spooling]() -> Status { return spooling.valid() ? spooling.get() : Status::Ok(); };
  for (std::size_t first = 0; first < n; first += config.commit_subjects) {
    const auto chunk = subjects.Slice(first, std::min(config.commit_subjects, n - first));
    std::vector<Bytes> stored;
    PRESERVE_ASSIGN_OR_RETURN(std::vector<EvidenceSkeleton> skeletons, LoadRenewalSkeletons(chunk, &stored));
    std::vector<PendingGroup> groups(chunk.size());
    // Subject i's group begun from its ha: its objects named, or, for a
    // trail head or a deleted package, its members made.
    auto begin_group = [&](std::size_t i, const PackageRecord& record, Bytes ha) -> Status {
      const std::string id(chunk[i]);
      PendingGroup& group = groups[i];
      if (!IsHeadSubject(id) && record.state != PackageState::kDeleted) {
        group.sha256s.reserve(record.objects.size());
        for (const auto& o : record.objects) {
          if (o.sha256.size() != std::tuple_size_v<storage::ContentDigest>) {
            group.left_out = SubjectName(id) + ": " + o.path + ": its record gives a SHA-256 of " +
                             std::to_string(o.sha256.size()) + " bytes";
            return Status::Ok();
          }
          std::copy(o.sha256.begin(), o.sha256.end(), group.sha256s.emplace_back().begin());
        }
        group.kind = Kind::kContent;
        group.sequence_hash = std::move(ha);
        return Status::Ok();
      }
      group.kind = Kind::kGroup;
      PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> data, SubjectDataHashes(id, record, alg, cache));
      PRESERVE_ASSIGN_OR_RETURN(group.members, timestamp::HashTreeRenewalGroup(ha, alg, data));
      return Status::Ok();
    };
    // A block of subjects: each one's ATS sequence encoded, then all of them
    // hashed at once to their ha (DigestMany), then each one's group begun.
    auto begin_groups = [&](std::size_t block, std::span<const std::string_view> ids) -> Status {
      std::vector<Result<PackageRecord>> records = SubjectRecords(ids);
      Bytes sequences;  // one after another
      std::vector<std::size_t> ends(ids.size());
      SequenceParts parts;  // one subject's at a time
      for (std::size_t i = 0; i < ids.size(); ++i) {
        Result<PackageRecord>& record = records[i];
        if (record.ok()) {
          PRESERVE_RETURN_IF_ERROR(AppendSequence(record.value(), skeletons[block + i], cache, parts, sequences));
        } else if (IsDamage(record.status())) {
          groups[block + i].left_out =
              SubjectName(ids[i]) + ": its record cannot be read: " + record.status().message();
        } else {
          return record.status();
        }
        ends[i] = sequences.size();
      }
      std::vector<ByteView> encoded;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        const std::size_t start = i == 0 ? 0 : ends[i - 1];
        encoded.push_back(ByteView(sequences).subspan(start, ends[i] - start));
      }
      Bytes hashes(ids.size() * digest_size);
      DigestMany(alg, encoded, hashes);
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!records[i].ok()) continue;
        const auto ha = hashes.begin() + static_cast<std::ptrdiff_t>(i * digest_size);
        PRESERVE_RETURN_IF_ERROR(
            begin_group(block + i, records[i].value(), Bytes(ha, ha + static_cast<std::ptrdiff_t>(digest_size))));
      }
      return Status::Ok();
    };
    PRESERVE_RETURN_IF_ERROR(ParallelRanges(chunk.size(), kMinPackagesPerThread, [&](std::size_t begin, std::size_t end) {
      return ForEachSubjectBlock(chunk, begin, end, begin_groups);
    }));
    PRESERVE_RETURN_IF_ERROR(spooled());
    spooling = std::async(std::launch::async, [&, stored = std::move(stored), groups = std::move(groups)]() mutable {
      return spool_chunk(std::move(stored), std::move(groups));
    });
  }
  PRESERVE_RETURN_IF_ERROR(spooled());
  ReturnFreedMemory();
  // Step 2: every object named, re-read and re-hashed (NewContentHashes).
  PRESERVE_ASSIGN_OR_RETURN(
      NewContentHashes content,
      NewContentHashes::Make(named, objects, alg, config.renewal_objects_per_pass,
                             [&](std::vector<storage::ContentDigest> wanted) {
                               return HashCheckedContent(std::move(wanted), alg);
                             }));
  named = {};
  ReturnFreedMemory();
  // Step 3, a chunk at a time again: each subject's group from its ha and its
  // objects' new hashes (rule 12), sorted (rule 4), and hashed to its leaf.
  // A damaged object is named by its path, read again (it is rare).
  auto path_of = [&](const std::string& id, const storage::ContentDigest& sha256) -> std::string {
    auto record = SubjectRecord(id);
    if (record.ok())
      for (const auto& o : record->objects)
        if (std::equal(o.sha256.begin(), o.sha256.end(), sha256.begin(), sha256.end())) return o.path;
    return "SHA-256 " + ToHex(sha256);
  };
  PRESERVE_RETURN_IF_ERROR(pending.Rewind());
  for (std::size_t first = 0; first < n; first += config.commit_subjects) {
    const std::size_t count = std::min(config.commit_subjects, n - first);
    std::vector<PendingGroup> groups(count);
    std::vector<std::vector<Bytes>> data(count);  // a content subject's objects' new hashes, in the record's order
    for (std::size_t i = 0; i < count; ++i) {
      PRESERVE_ASSIGN_OR_RETURN(groups[i], PendingGroup::ReadFrom(pending, digest_size));
      data[i].reserve(groups[i].sha256s.size());
      for (const auto& sha256 : groups[i].sha256s)
        PRESERVE_RETURN_IF_ERROR(content.Next(sha256, data[i].emplace_back(digest_size)));
    }
    // A content subject whose object is damaged is left out, naming it.
    auto leave_out_if_damaged = [&](std::size_t i) {
      PendingGroup& group = groups[i];
      if (group.kind != Kind::kContent || content.damage.empty()) return;
      for (const auto& sha256 : group.sha256s) {
        if (auto damaged = content.damage.find(sha256); damaged != content.damage.end()) {
          group.kind = Kind::kLeftOut;
          const std::string id(subjects[first + i]);
          group.left_out = SubjectName(id) + ": " + path_of(id, sha256) + ": " + damaged->second;
          return;
        }
      }
    };
    // Where each subject's members will lie, sorted, one after another (a
    // damaged subject's place stays unused).
    std::vector<std::size_t> members_at(count + 1, 0);
    for (std::size_t i = 0; i < count; ++i) {
      const PendingGroup& group = groups[i];
      const std::size_t members = group.kind == Kind::kGroup     ? group.members.size()
                                  : group.kind == Kind::kContent ? data[i].size()
                                                                 : 0;
      members_at[i + 1] = members_at[i] + members;
    }
    Bytes sorted_members(members_at[count] * digest_size);
    auto members_of = [&](std::size_t i) {
      return std::span(sorted_members)
          .subspan(members_at[i] * digest_size, (members_at[i + 1] - members_at[i]) * digest_size);
    };
    // A block of subjects at a time: every member H'(H'(d) || ha) of the
    // content subjects, data hash first (rule 12), hashed at once
    // (DigestMany) into its subject's place; each group sorted (rule 4); then
    // every group of more than one member hashed to its leaf at once (rule 2).
    Bytes leaves(count * digest_size);
    auto hash_groups = [&](std::size_t begin, std::size_t end) -> Status {
      Bytes messages;
      std::vector<ByteView> views;
      for (std::size_t i = begin; i < end; ++i) {
        leave_out_if_damaged(i);
        if (groups[i].kind != Kind::kContent) continue;
        if (data[i].empty()) return Status::InvalidArgument("hash-tree renewal: no data-object hash given");
        for (const Bytes& h : data[i]) {
          messages.insert(messages.end(), h.begin(), h.end());
          messages.insert(messages.end(), groups[i].sequence_hash.begin(), groups[i].sequence_hash.end());
        }
      }
      Bytes hashes(messages.size() / 2);
      for (std::size_t at = 0; at < messages.size(); at += 2 * digest_size)
        views.push_back(ByteView(messages).subspan(at, 2 * digest_size));
      DigestMany(alg, views, hashes);
      std::size_t member = 0;
      for (std::size_t i = begin; i < end; ++i) {
        const PendingGroup& group = groups[i];
        if (group.kind == Kind::kLeftOut) continue;
        const std::span<std::uint8_t> place = members_of(i);
        if (group.kind == Kind::kContent) {
          std::copy_n(hashes.begin() + static_cast<std::ptrdiff_t>(member * digest_size), place.size(), place.begin());
          member += data[i].size();
        } else {
          for (std::size_t k = 0; k < group.members.size(); ++k)
            std::copy(group.members[k].begin(), group.members[k].end(),
                      place.begin() + static_cast<std::ptrdiff_t>(k * digest_size));
        }
        SortDigests(place, digest_size);
      }
      // Groups differ in size: hashed by size, so that DigestMany's messages are alike.
      std::map<std::size_t, std::vector<std::size_t>> by_size;
      for (std::size_t i = begin; i < end; ++i) {
        if (groups[i].kind == Kind::kLeftOut) continue;
        const std::span<const std::uint8_t> place = members_of(i);
        if (place.size() == digest_size)  // a one-member group is its own leaf (rule 9)
          std::copy(place.begin(), place.end(), leaves.begin() + static_cast<std::ptrdiff_t>(i * digest_size));
        else
          by_size[place.size()].push_back(i);
      }
      for (const auto& [size, alike] : by_size) {
        views.clear();
        for (std::size_t i : alike) views.push_back(members_of(i));
        Bytes group_hashes(alike.size() * digest_size);
        DigestMany(alg, views, group_hashes);
        for (std::size_t k = 0; k < alike.size(); ++k)
          std::copy_n(group_hashes.begin() + static_cast<std::ptrdiff_t>(k * digest_size), digest_size,
                      leaves.begin() + static_cast<std::ptrdiff_t>(alike[k] * digest_size));
      }
      return Status::Ok();
    };
    PRESERVE_RETURN_IF_ERROR(ParallelRanges(count, kMinPackagesPerThread, [&](std::size_t begin, std::size_t end) {
      Status hashed = Status::Ok();
      for (std::size_t block = begin; block < end && hashed.ok(); block += kSubjectsReadTogether)
        hashed = hash_groups(block, std::min(end, block + kSubjectsReadTogether));
      return hashed;
    }));
    for (std::size_t i = 0; i < count; ++i)
      PRESERVE_RETURN_IF_ERROR(take(first + i, members_of(i), ByteView(leaves).subspan(i * digest_size, digest_size),
                                    std::move(groups[i].left_out)));
  }
  return Status::Ok();
}

namespace {

// A renewal event names the first of the subjects it left out, and why.
constexpr std::size_t kLeftOutNamedInEvent = 100;

std::string LeftOutSummary(const std::vector<std::string>& left_out) {
  std::string out;
  for (std::size_t i = 0; i < left_out.size() && i < kLeftOutNamedInEvent; ++i)
    out += (i == 0 ? "" : "; ") + left_out[i];
  return out;
}

}  // namespace

// Over 60 lines: one renewal batch is one time-stamp, written a chunk of subjects per commit; its steps in order,
// each commented.
Result<RenewalBatch> Archive::Impl::RenewBatch(RenewalKind kind, HashAlgorithm alg, const SubjectIds& subjects,
                                               TimePoint horizon, std::string* renewed_subject) {
  using Members = EvidenceSkeleton::Ats::Members;
  const std::size_t n = subjects.size();
  const std::size_t digest_size = HashAlgorithmSize(alg);
  const bool hash_tree = kind == RenewalKind::kHashTree;
  BatchCache batches;
  // Pass 1, a chunk at a time: the group each subject's renewal must seal,
  // hashed (rule 2) to a leaf of the batch's tree. leaf_of[i] is subject i's
  // leaf in `leaves`, in input order.
  Bytes leaves;
  leaves.reserve((n + 1) * digest_size);  // at most a leaf per subject and the trail head's: no copy as it grows
  std::vector<std::uint32_t> leaf_of(n);
  // A hash-tree renewal leaves out subjects whose content is damaged (HashTreeRenewalGroups): no leaf, no new evidence.
  constexpr std::uint32_t kLeftOut = UINT32_MAX;
  std::vector<std::string> left_out;
  auto next_leaf = [&] { return static_cast<std::uint32_t>(leaves.size() / digest_size); };
  // Timestamp renewal (rule 11): the group is the last chain's tokens.
  // Subjects sealed and renewed in the same batches (the packages of a batch,
  // and the trail head it sealed) share every token, hence the group: one
  // leaf serves them all, hashed once. By the last chain's batch ids.
  std::map<std::string, std::uint32_t> chain_leaves;
  // Hash-tree renewal (rule 12): a group per subject, whose members the
  // evidence stores (they cannot be derived cheaply), spooled for pass 2;
  // and every subject's evidence as pass 1 read it, in a spool of its own
  // (pass 2 adds the new ATS to those bytes: no second read, no decoding).
  std::optional<Spool> pass2_spool;
  std::optional<Spool> evidence_spool;
  if (hash_tree) {
    PRESERVE_ASSIGN_OR_RETURN(pass2_spool, Spool::Create());
    PRESERVE_ASSIGN_OR_RETURN(evidence_spool, Spool::Create());
    PRESERVE_RETURN_IF_ERROR(HashTreeRenewalGroups(
        subjects, alg, batches, [&](ByteView stored) { return evidence_spool->AppendSized(stored); },
        [&](std::size_t i, ByteView sorted_members, ByteView leaf, std::string why) -> Status {
          if (!why.empty()) {
            leaf_of[i] = kLeftOut;
            left_out.push_back(std::move(why));
            return Status::Ok();
          }
          leaf_of[i] = next_leaf();
          leaves.insert(leaves.end(), leaf.begin(), leaf.end());
          return pass2_spool->AppendHashes(sorted_members, digest_size);
        }));
    // The trees the subjects were sealed in gave their reduced trees; nothing from here on reads them.
    batches.DropTreeChunks();
  }
  for (std::size_t first = 0; first < n && !hash_tree; first += config.commit_subjects) {
    const auto chunk = subjects.Slice(first, std::min(config.commit_subjects, n - first));
    PRESERVE_ASSIGN_OR_RETURN(std::vector<EvidenceSkeleton> skeletons, LoadRenewalSkeletons(chunk));
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      std::string chain_key;
      for (const auto& ats : skeletons[i].chains.back()) chain_key.append(ats.batch_id).push_back('\n');
      auto [it, added] = chain_leaves.emplace(std::move(chain_key), next_leaf());
      if (added) {
        std::vector<Bytes> members;
        for (const auto& ats : skeletons[i].chains.back()) {
          PRESERVE_ASSIGN_OR_RETURN(const BatchRecord* batch, LoadBatch(ats.batch_id, batches));
          members.push_back(Digest(alg, batch->token));
        }
        const Bytes leaf = timestamp::GroupHash(alg, std::move(members));
        leaves.insert(leaves.end(), leaf.begin(), leaf.end());
      }
      leaf_of[first + i] = it->second;
    }
  }
  ReturnFreedMemory();
  // The trail's head is the last leaf, so even one subject makes a tree.
  PRESERVE_ASSIGN_OR_RETURN(HeadToSeal head, NextHeadToSeal(alg));
  const std::size_t head_leaf = next_leaf();
  leaves.insert(leaves.end(), head.leaf.begin(), head.leaf.end());
  PRESERVE_FAULT_POINT("renew.before_tsa");
  std::size_t heads = 0;
  for (std::size_t i = 0; i < n; ++i) heads += leaf_of[i] != kLeftOut && IsHeadSubject(subjects[i]);
  PRESERVE_ASSIGN_OR_RETURN(timestamp::HashTree built, timestamp::BuildHashTreeOverLeaves(alg, leaves));
  leaves = {};  // the tree holds them now
  PRESERVE_ASSIGN_OR_RETURN(TimeStampedTree renewed, TimeStampTree(alg, std::move(built), n - heads - left_out.size(), horizon));
  PRESERVE_FAULT_POINT("renew.after_tsa");
  BatchRecord& batch = renewed.batch;
  const Deadline& deadline = renewed.deadline;

  // Pass 2: the tree first, in commits of its own (a crash after them
  // leaves a tree no batch names: 'check' counts it, 'gc' erases it). Then
  // a chunk of subjects at a time, one commit each: every subject's new ATS.
  // The first of these also holds the batch, the trail head it seals and
  // the audit event. A crash between two commits leaves the later chunks'
  // subjects as they were: their evidence unchanged and still due, so the
  // next run renews them (in a batch of their own), and this batch's token
  // covers leaves that nothing refers to, which proves nothing about them.
  // Once the tree is stored, only where each leaf went is needed: the tree
  // (96 MB at a million SHA-384 leaves) is freed at the end of this block.
  std::vector<std::uint32_t> leaf_position;
  {
    const timestamp::HashTree tree = std::move(renewed.tree);
    batch.leaves = tree.groups();
    NoteSealedHead(batch, head.head, tree, head_leaf);
    PRESERVE_RETURN_IF_ERROR(CommitTreeInSteps(*store, batch.id, tree));
    leaf_position.resize(tree.groups());
    for (std::size_t g = 0; g < leaf_position.size(); ++g)
      leaf_position[g] = static_cast<std::uint32_t>(tree.LeafPosition(g));
  }
  PRESERVE_FAULT_POINT("renew.after_tree");
  if (pass2_spool) PRESERVE_RETURN_IF_ERROR(pass2_spool->Rewind());
  if (evidence_spool) PRESERVE_RETURN_IF_ERROR(evidence_spool->Rewind());
  // Each chunk's commit (the memtable's inserts, on one thread) runs beside
  // the next chunk's reading and encoding. Commits still happen one at a
  // time and in order: a chunk's starts once the one before has ended.
  std::future<Status> committing;
  auto committed = [&committing]() -> Status { return committing.valid() ? committing.get() : Status::Ok(); };
  for (std::size_t first = 0; first < n; first += config.commit_subjects) {
    const auto chunk = subjects.Slice(first, std::min(config.commit_subjects, n - first));
    // Each subject's evidence as stored: a hash-tree renewal spooled it in
    // pass 1 (every subject's, and the groups of those not left out); a
    // timestamp renewal reads it again. The chunk's evidence, as read and as
    // made, lies in a few large buffers, not in a block a subject: such
    // blocks, freed a chunk later on the commit's thread, left holes in the
    // heap that only ReturnFreedMemory gave back, at 2.5 s a million subjects.
    Bytes spooled_evidence;
    std::vector<Bytes> loaded;
    std::vector<ByteView> stored(chunk.size());
    std::vector<timestamp::PartialHashtree> members(hash_tree ? chunk.size() : 0);
    if (hash_tree) {
      std::vector<std::size_t> ends(chunk.size());
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        PRESERVE_RETURN_IF_ERROR(evidence_spool->ReadSizedTo(spooled_evidence));
        ends[i] = spooled_evidence.size();
        if (leaf_of[first + i] != kLeftOut) {
          PRESERVE_ASSIGN_OR_RETURN(members[i], pass2_spool->ReadHashes(digest_size));
        }
      }
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        const std::size_t begin = i == 0 ? 0 : ends[i - 1];
        stored[i] = ByteView(spooled_evidence).subspan(begin, ends[i] - begin);
      }
    } else {
      PRESERVE_ASSIGN_OR_RETURN(loaded, LoadStoredEvidence(chunk));
      for (std::size_t i = 0; i < chunk.size(); ++i) stored[i] = loaded[i];
    }
    // Each stretch of the chunk's new evidence in a buffer of its own.
    std::vector<ByteView> evidence(chunk.size());
    std::vector<TimePoint> previous_renewal(chunk.size());
    std::mutex made_mutex;
    std::vector<Bytes> made;  // moving a buffer leaves its bytes, and the views into them, in place
    auto add_renewals = [&](std::size_t begin, std::size_t end) -> Status {
      Bytes buffer;
      std::vector<std::size_t> ends(end - begin);
      for (std::size_t i = begin; i < end; ++i) {
        if (leaf_of[first + i] != kLeftOut) {
          EvidenceSkeleton::Ats ats{alg, batch.id, leaf_position[leaf_of[first + i]], Members::kChainTokens, {}};
          if (hash_tree) {
            ats.members_source = Members::kStored;
            ats.members = std::move(members[i]);
          }
          auto added = AddRenewalToSkeleton(stored[i], ats, hash_tree ? RenewalChain::kNew : RenewalChain::kLast,
                                            deadline.when, &previous_renewal[i]);
          if (!added.ok()) return added.status().WithContext("evidence of " + SubjectName(chunk[i]));
          buffer.insert(buffer.end(), added->begin(), added->end());
        }
        ends[i - begin] = buffer.size();
      }
      for (std::size_t i = begin; i < end; ++i) {
        const std::size_t at = i == begin ? 0 : ends[i - 1 - begin];
        evidence[i] = ByteView(buffer).subspan(at, ends[i - begin] - at);
      }
      std::lock_guard lock(made_mutex);
      made.push_back(std::move(buffer));
      return Status::Ok();
    };
    PRESERVE_RETURN_IF_ERROR(ParallelRanges(chunk.size(), kMinPackagesPerThread, add_renewals));
    spooled_evidence = {};
    loaded = {};
    storage::WriteSet w;
    if (first == 0) {
      w.PutBatch(batch.id, EncodeBatchRecord(batch));
      PutSealedHead(w, batch, head, deadline.when);
      w.AppendAudit(AuditEvent(*clock, "renew",
                               {{"kind", std::string(RenewalKindName(kind))},
                                {"batch", batch.id},
                                {"packages", std::to_string(batch.packages)},
                                {"hash", std::string(HashAlgorithmName(alg))},
                                {"root", ToHex(batch.root)},
                                {"token_time", Until(batch.time)},
                                {"audit_head_events", std::to_string(batch.audit_head->events)},
                                {"left_out", std::to_string(left_out.size())},
                                {"left_out_why", LeftOutSummary(left_out)}},
                               TsaAuditFields(renewed.answer)));
    }
    PRESERVE_RETURN_IF_ERROR(committed());
    if (first > 0) PRESERVE_FAULT_POINT("renew.between_commits");
    // The commit's thread also fills in the subjects' writes: three a
    // subject, in room reserved at once (a buffer grown by doubling would
    // hold up to twice the chunk's evidence), the chunk's buffers freed once copied.
    committing = std::async(std::launch::async, [this, &leaf_of, first, chunk, when = deadline.when, id = batch.id,
                                                 writes = std::move(w), evidence = std::move(evidence),
                                                 made = std::move(made),
                                                 previous_renewal = std::move(previous_renewal)]() mutable {
      std::size_t bytes = 0;
      for (std::size_t i = 0; i < chunk.size(); ++i) bytes += evidence[i].size() + 3 * chunk[i].size() + id.size() + 64;
      writes.Reserve(3 * chunk.size(), bytes);
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        if (leaf_of[first + i] == kLeftOut) continue;
        writes.PutEvidence(chunk[i], evidence[i]);
        writes.Unschedule(previous_renewal[i], chunk[i]);
        writes.Schedule(when, chunk[i], id);
      }
      made = {};  // copied into `writes`
      return store->Commit(std::move(writes));
    });
    TrimGlibcHeap();
  }
  PRESERVE_RETURN_IF_ERROR(committed());
  PRESERVE_FAULT_POINT("renew.after_commit");
  for (std::size_t i = 0; i < n && renewed_subject->empty(); ++i)
    if (leaf_of[i] != kLeftOut) *renewed_subject = std::string(subjects[i]);
  return RenewalBatch{batch.id,  kind,  alg, batch.packages, batch.time, heads, std::move(renewed.answer.failovers),
                      std::move(left_out)};
}

namespace {

// The "lapse" audit event of a run: how many, why, and the first of them by id.
constexpr std::size_t kLapsedNamedInEvent = 100;

std::string LapsedSummary(const std::vector<RenewalItem>& lapsed) {
  std::map<std::string, std::size_t> by_reason;
  for (const auto& item : lapsed) ++by_reason[item.reason];
  std::string out;
  for (const auto& [reason, n] : by_reason)
    out += (out.empty() ? "" : "; ") + std::to_string(n) + " because " + reason;
  return out;
}

}  // namespace

Status Archive::Impl::CheckRenewedEvidence(const std::string& subject, RenewalOutcome& outcome) const {
  BatchCache cache;
  PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, LoadSkeleton(subject));
  auto er = AssembleSubject(subject, skeleton, cache);
  timestamp::EvidenceReport report =
      er.ok() ? VerifySubjectEvidence(subject, er.value(), cache) : timestamp::EvidenceReport{};
  if (!er.ok()) report.failure = er.status().message();
  if (er.ok() && report.verdict == Verdict::kValid) return Status::Ok();
  outcome.self_check_failures.push_back(SubjectName(subject) + ": its renewed evidence is " +
                                        std::string(VerdictName(report.verdict)) + ": " + report.failure);
  return Status::Ok();
}

Result<RenewalOutcome> Sealing::Renew(const RenewOptions& options) {
  if (!impl_->writable()) return Status::FailedPrecondition("the store is open read-only");
  if (options.max_batch == 0) return Status::InvalidArgument("the batch size must be at least 1");
  RenewalOutcome outcome;
  const TimePoint now = impl_->clock->Now();
  const TimePoint horizon = now + options.margin.value_or(impl_->config.renewal_margin);
  PRESERVE_ASSIGN_OR_RETURN(outcome.tsa_rollover, impl_->RollOverTsaIfDue(horizon, false));
  PRESERVE_RETURN_IF_ERROR(impl_->EnsureHeadSubjects().status());
  PRESERVE_ASSIGN_OR_RETURN(outcome.trail_anchor, impl_->AnchorTrailIfDue(horizon, false));
  // One time-stamp per (kind, hash algorithm) and per max_batch subjects. The
  // schedule is read a window at a time, and a batch renewed as soon as
  // max_batch subjects of one kind wait: what the run holds is bounded by the
  // batch size, not by the holdings. Renewed subjects move past the horizon,
  // so the windows still to come are not disturbed.
  std::map<std::pair<RenewalKind, HashAlgorithm>, SubjectIds> waiting;
  auto renew = [&](RenewalKind kind, HashAlgorithm alg, SubjectIds& subjects) -> Status {
    std::string renewed_subject;
    PRESERVE_ASSIGN_OR_RETURN(RenewalBatch batch, impl_->RenewBatch(kind, alg, subjects, horizon, &renewed_subject));
    subjects.Release();
    ReturnFreedMemory();
    // Never leave a run that wrote evidence its own verification rejects without saying so.
    if (!renewed_subject.empty()) PRESERVE_RETURN_IF_ERROR(impl_->CheckRenewedEvidence(renewed_subject, outcome));
    outcome.batches.push_back(std::move(batch));
    return Status::Ok();
  };
  const Status scanned =
      ScanDue(now, horizon, false, [&](std::vector<RenewalItem>& items, std::vector<RenewalItem>& lapsed) -> Status {
        std::move(lapsed.begin(), lapsed.end(), std::back_inserter(outcome.lapsed));
        for (auto& item : items) {
          const auto key = std::make_pair(item.kind, item.hash_algorithm);
          SubjectIds& group = waiting[key];
          group.Add(item.package_id);
          if (group.size() >= options.max_batch) PRESERVE_RETURN_IF_ERROR(renew(key.first, key.second, group));
        }
        return Status::Ok();
      });
  PRESERVE_RETURN_IF_ERROR(scanned);
  for (auto& [key, subjects] : waiting)
    if (!subjects.empty()) PRESERVE_RETURN_IF_ERROR(renew(key.first, key.second, subjects));
  if (!outcome.lapsed.empty()) {
    // Said loudly, and kept: every run finds them again until a new chain is started.
    std::string named;
    for (std::size_t i = 0; i < outcome.lapsed.size() && i < kLapsedNamedInEvent; ++i)
      named += (i == 0 ? "" : " ") + outcome.lapsed[i].package_id;
    storage::WriteSet w;
    w.AppendAudit(AuditEvent(*impl_->clock, "lapse",
                             {{"subjects", std::to_string(outcome.lapsed.size())},
                              {"why", LapsedSummary(outcome.lapsed)},
                              {"first", named}}));
    PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  }
  // A new anchor must be sealed before the hash it replaces ends: with the
  // run's batches, or alone.
  if (!outcome.trail_anchor.empty() && outcome.batches.empty()) {
    PRESERVE_ASSIGN_OR_RETURN(RenewalBatch batch, impl_->SealTrailHeadAlone(horizon));
    PRESERVE_RETURN_IF_ERROR(impl_->CheckRenewedEvidence(HeadSubjectId(batch.batch_id), outcome));
    outcome.batches.push_back(std::move(batch));
  }
  // For `preserve status`: when renewal last ran and how it ended, even when nothing was due.
  std::size_t renewed = 0;
  std::size_t left_out = 0;
  for (const auto& b : outcome.batches) {
    renewed += b.packages + b.trail_heads;
    left_out += b.left_out.size();
  }
  storage::WriteSet w;
  PutJobRun(w, "renew",
            {impl_->clock->Now(),
             "renewed " + std::to_string(renewed) + " in " + std::to_string(outcome.batches.size()) + " batches; " +
                 std::to_string(outcome.lapsed.size()) + " lapsed" +
                 (outcome.self_check_failures.empty()
                      ? std::string()
                      : "; " + std::to_string(outcome.self_check_failures.size()) + " not verified") +
                 (left_out == 0 ? std::string() : "; " + std::to_string(left_out) + " left out, damaged"),
             outcome.lapsed.empty() && outcome.self_check_failures.empty() && left_out == 0,
             false,
             {{"renewed", renewed},
              {"batches", outcome.batches.size()},
              {"lapsed", outcome.lapsed.size()},
              {"not_verified", outcome.self_check_failures.size()},
              {"left_out", left_out}}});
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  return outcome;
}

}  // namespace preserve::archive
