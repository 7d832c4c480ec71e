// The opened store's internals, which the services (ingestion.h, sealing.h,
// verification.h, maintenance.h, lifecycle.h, catalogue.h) share: the store,
// records and batch cache, audit events, clock, policy and mode. Private to
// archive/.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <unordered_map>

#include "preserve/archive/archive.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/ingestion.h"
#include "preserve/archive/lifecycle.h"
#include "preserve/archive/maintenance.h"
#include "preserve/archive/sealing.h"
#include "preserve/archive/verification.h"
#include "preserve/storage/store.h"
#include "checked_content.h"
#include "subject_ids.h"
#include "records.h"
#include "store_config.h"
#include "trail_evidence.h"

namespace preserve::archive {

inline constexpr const char* kProducer = "preserve 0.1.0";
inline constexpr std::string_view kActiveTsaSetting = "tsa.active_certificate_sha256";

std::filesystem::path DbDir(const std::filesystem::path& root);
std::filesystem::path TsaDir(const std::filesystem::path& root);

// A path from a package record or a backup manifest, before it is joined to a
// directory: relative, '/'-separated, nothing that climbs out.
bool IsSafeRelativePath(std::string_view path);

// A UUIDv7 (RFC 9562): time-ordered, so ids sort by creation.
Result<std::string> NewId(const Clock& clock);

// An audit event as stored: the event's fields plus the time.
Bytes AuditEvent(const Clock& clock, std::string_view type,
                 std::initializer_list<std::pair<std::string_view, std::string>> fields);
// The same, with fields known only at run time after `fields`.
Bytes AuditEvent(const Clock& clock, std::string_view type,
                 std::initializer_list<std::pair<std::string_view, std::string>> fields,
                 const std::vector<std::pair<std::string, std::string>>& more);

// Content is addressed, and package records list digests, under SHA-256; what
// seals the evidence is the policy's choice (sealing.cc).
inline constexpr HashAlgorithm kContentHash = HashAlgorithm::kSha256;

// What BatchCache keeps of the trees it reads. A run that reads paths from
// all over a ten-million-leaf tree (a fixity sample) would otherwise end up
// holding most of it: 1356 MiB at 10M. Paths read in leaf order (a renewal)
// lose nothing by the bound: a chunk is done with once the next is reached.
inline constexpr std::size_t kTreeChunkCacheBytes = 64u << 20;

// The batches one operation has read: their records and chunks of their hash
// trees, each read from the store once while it is kept. Safe to share
// between threads: a renewal assembles a million records on every core
// through one cache, so look-ups of what it holds (nearly all of them) share
// the lock, and only a miss takes it alone. Pointers to batch records stay
// valid as long as it lives; tree chunks may be dropped, so nodes are copied.
struct BatchCache {
  std::shared_mutex mutex;
  std::map<std::string, BatchRecord, std::less<>> records;
  // Per batch id, chunks of its tree read so far, by level << 32 | chunk; at
  // most kTreeChunkCacheBytes in all (TreeNode, archive.cc).
  std::map<std::string, std::unordered_map<std::uint64_t, Bytes>, std::less<>> tree_chunks;
  std::size_t tree_chunk_bytes = 0;
  void DropTreeChunks() {
    tree_chunks.clear();
    tree_chunk_bytes = 0;
  }
  // Digests of batches' tokens, by batch id + '/' + algorithm name (rule 11's groups).
  std::map<std::string, Bytes, std::less<>> token_digests;
};

// An evidence record's ArchiveTimeStampSequence as Archive::Impl::GatherSequence
// finds it from a skeleton: every hash value of its reduced trees in one flat
// buffer, each list a run of values, each ATS its lists and its batch's token
// (which stays in the BatchCache). Assemble copies these into an
// EvidenceRecord; a hash-tree renewal encodes each of a million subjects'
// sequences straight from them (AppendSequence), one SequenceParts reused for
// all, rather than a block allocated for every value.
struct SequenceParts {
  Bytes bytes;                          // every value, one after another
  std::vector<std::size_t> value_ends;  // each value's end in `bytes`
  std::vector<std::size_t> list_ends;   // each list's end in value_ends
  struct Ats {
    std::optional<HashAlgorithm> digest_algorithm;  // exactly when it has a reduced tree
    std::size_t lists_end = 0;  // its lists end here in list_ends (they begin where the ATS before's end)
    ByteView token;
  };
  std::vector<Ats> timestamps;           // chain by chain
  std::vector<std::size_t> chain_sizes;  // each chain's ATSs
  void Clear();                          // keeps the capacity
  void AddValue(ByteView value);
  ByteView Value(std::size_t v) const;
  std::size_t ValuesBegin(std::size_t list) const { return list == 0 ? 0 : list_ends[list - 1]; }
  std::size_t ListsBegin(std::size_t ats) const { return ats == 0 ? 0 : timestamps[ats - 1].lists_end; }
};

// Records in `w` how a scheduled job's run ended, for `preserve status` and
// the schedule (jobs.h), in setting "runs/JOB" (status.cc).
void PutJobRun(storage::WriteSet& w, std::string_view job, const JobRun& run);
// How `job` last ran; nullopt when it never has.
Result<std::optional<JobRun>> LoadJobRun(const storage::Store& store, std::string_view job);

// A batch's hash tree, stored once in chunks of kTreeChunkNodes (records.h),
// into `w`: the batch's own write, for the small trees of restart-evidence.
void PutTree(storage::WriteSet& w, const std::string& batch_id, const timestamp::HashTree& tree);
// The same in commits of its own, a few MB each, before the batch's: how seal
// and renewal store theirs (a crash between them and the batch's commit
// leaves a tree no batch names; see garbage.h).
Status CommitTreeInSteps(storage::Store& store, const std::string& batch_id, const timestamp::HashTree& tree);

// When the newest time-stamp of a record stops protecting it, and why.
struct Deadline {
  TimePoint when;
  std::string reason;
  bool hash_ends = false;  // the chain's hash algorithm is what ends: hash-tree renewal
};

struct Archive::Impl {
  std::filesystem::path root;
  const Clock* clock = nullptr;
  StoreConfig config;
  policy::AlgorithmCatalogue policy = policy::AlgorithmCatalogue::Default();
  std::unique_ptr<storage::Store> store;
  std::size_t content_chunk_size = storage::kDefaultContentChunkSize;  // larger objects are never read whole
  OpenMode mode = OpenMode::kReadOnly;
  bool writable() const { return mode == OpenMode::kWritable; }
  std::unique_ptr<timestamp::EmbeddedTsa> tsa;  // exactly when writable()
  std::unique_ptr<timestamp::FailoverTimeStamper> external;  // when config.json names external TSAs
  // Whom time-stamps of this store may chain to: the local CA, then the external TSAs' anchors.
  std::vector<Bytes> TsaTrustAnchors() const;
  Bytes ca_certificate;

  Result<PackageRecord> LoadRecord(const std::string& id) const;
  // The stored records of every version of a package, oldest first: (id, record bytes).
  // kNotFound: no such package; kInvalidArgument: `package_id` names a version.
  Result<std::vector<std::pair<std::string, Bytes>>> VersionRecords(const std::string& package_id) const;
  // kFailedPrecondition when the package is not sealed (it has no evidence).
  Result<EvidenceSkeleton> LoadSkeleton(const std::string& id) const;
  // Batch records are read once per operation: a batch seals up to a million packages.
  Result<const BatchRecord*> LoadBatch(const std::string& batch_id, BatchCache& cache) const;
  // The DER-ready evidence record: tokens from the batches, each ATS's reduced
  // tree from its batch's stored tree and its first list from where the
  // skeleton says (`record` gives the data objects' hashes). GatherSequence's
  // parts, copied.
  Result<timestamp::EvidenceRecord> Assemble(const PackageRecord& record, const EvidenceSkeleton& skeleton,
                                             BatchCache& cache) const;
  // The parts of that record's ArchiveTimeStampSequence, into `parts`
  // (cleared first); its tokens stay valid as long as `cache` does.
  Status GatherSequence(const PackageRecord& record, const EvidenceSkeleton& skeleton, BatchCache& cache,
                        SequenceParts& parts) const;
  // DER(ArchiveTimeStampSequence) of that record, appended to `out`, through
  // `parts` (GatherSequence) and views of them; no allocation once `parts`
  // and the thread's views have grown to a subject's size.
  Status AppendSequence(const PackageRecord& record, const EvidenceSkeleton& skeleton, BatchCache& cache,
                        SequenceParts& parts, Bytes& out) const;
  // Every data object's hash under `alg`, in the record's order (read from content).
  Result<std::vector<Bytes>> DataHashes(const PackageRecord& record, HashAlgorithm alg) const;
  // Data objects re-read for a hash-tree renewal, which must seal afresh
  // what was sealed: each object once, in key order (Store::ReadContents, on
  // every core), hashed under `alg` and checked against the SHA-256 it is
  // stored under. An object absent or changed is not an error but named in
  // `damage`, so that one damaged package does not hold back the others.
  // `sha256s` must be ascending and unique.
  Result<CheckedContent> HashCheckedContent(std::vector<storage::ContentDigest> sha256s, HashAlgorithm alg) const;
  // A stored object's digest under each of `algs`, its bytes streamed once
  // (Store::ReadContent's errors as they are); `size` gets the bytes read.
  Result<std::vector<Bytes>> DigestContent(ByteView sha256, const std::vector<HashAlgorithm>& algs,
                                           std::uint64_t* size = nullptr) const;

  Result<Deadline> DeadlineOf(const BatchRecord& batch) const;

  // ---- Evidence subjects: packages and the audit trail's sealed heads ----
  // The evidence record of subject `id` (a package or version id, or a head's)
  // as its skeleton gives it.
  Result<timestamp::EvidenceRecord> AssembleSubject(const std::string& id, const EvidenceSkeleton& skeleton,
                                                    BatchCache& cache) const;
  // The record Assemble needs for subject `id`: a package's as stored, or for
  // a head, one that names it (its first list is stored: no data objects).
  Result<PackageRecord> SubjectRecord(const std::string& id) const;
  // SubjectRecord of each of `ids`, the stored ones read together (Store::MultiGetPackages).
  std::vector<Result<PackageRecord>> SubjectRecords(std::span<const std::string_view> ids) const;
  // The hashes under `alg` of the data objects a subject's evidence covers: a
  // package's data objects (a deleted one's from its tombstone), or a head's text.
  Result<std::vector<Bytes>> SubjectDataHashes(const std::string& id, HashAlgorithm alg, BatchCache& cache) const;
  // The same, `record` being SubjectRecord(id).
  Result<std::vector<Bytes>> SubjectDataHashes(const std::string& id, const PackageRecord& record, HashAlgorithm alg,
                                               BatchCache& cache) const;
  // Verifies evidence record `er` of subject `id` now, with the store's TSA
  // anchors and policy, over the subject's data objects.
  timestamp::EvidenceReport VerifySubjectEvidence(const std::string& id, const timestamp::EvidenceRecord& er,
                                                  BatchCache& cache) const;
  // The policy's algorithm ends, as verification asks for them.
  timestamp::EvidenceVerifyOptions EvidenceOptions(const Clock& at) const;

  // ---- The audit trail's evidence (trail_evidence.cc) ----
  // The trail's head to seal in a batch under `alg`: its object's hash is the
  // leaf. Names the anchor chain when the trail is anchored (carried forward
  // to the head; `anchor` is then what to store with the batch).
  struct HeadToSeal {
    BatchRecord::AuditHead head;
    Bytes leaf;
    std::optional<TrailAnchor> anchor;
  };
  Result<HeadToSeal> NextHeadToSeal(HashAlgorithm alg) const;
  // Puts in `w` what sealing the head in `batch` leaves: the head's evidence
  // subject, scheduled at `next_renewal`, and the anchor carried forward.
  void PutSealedHead(storage::WriteSet& w, const BatchRecord& batch, const HeadToSeal& sealed,
                     TimePoint next_renewal) const;
  // Gives every head sealed before heads were evidence subjects its subject.
  // Returns how many it added.
  Result<std::size_t> EnsureHeadSubjects();
  // Anchors the trail under the policy's preferred hash when every hash that
  // binds its heads to its events ends before `horizon`: the chain of every
  // event so far under the new hash, stored with an "audit-anchor" event.
  // Returns what it did ("" when nothing was due); with `dry_run`, what it would.
  Result<std::string> AnchorTrailIfDue(TimePoint horizon, bool dry_run);
  // A batch that seals the trail's head alone (when anchoring found nothing
  // else to seal in the run: the anchor must be sealed before the old hash ends).
  Result<RenewalBatch> SealTrailHeadAlone(TimePoint horizon);
  // `check` of the heads' subjects: each batch that sealed a head has one
  // (or none yet, for a store from before), readable, naming that batch, with
  // exactly one schedule entry at its renewal date (`schedule`: the heads'
  // entries by subject id).
  Status CheckHeadSubjects(const std::map<std::string, std::vector<TimePoint>>& schedule,
                           const std::function<void(std::string)>& problem) const;
  // Rolls the embedded TSA over when its certificate or key algorithm ends
  // before `horizon`. Returns what it did ("" when nothing was due).
  Result<std::string> RollOverTsaIfDue(TimePoint horizon, bool dry_run);
  // A rollover switches the TSA's files before its audit event is committed;
  // a run stopped in between leaves a rollover the trail does not show. The
  // store keeps the active TSA certificate's SHA-256 (kActiveTsaSetting),
  // changed in the rollover's own commit: on a writable open a mismatch means
  // such an interrupted rollover, and its event is recorded then.
  Status RecordInterruptedTsaRollover();
  // Which TSA gave a batch's token: an external TSA's name ("" for the
  // embedded TSA), and those that failed over to it.
  struct TsaAnswer {
    std::string tsa;
    std::vector<TsaFailover> failovers;
  };
  // The audit event fields that say which external TSA gave a batch's token
  // ("tsa") and which failed before it, and why ("tsa_failed": "NAME: why;
  // ..."); none for the embedded TSA. In the seal, renew and evidence-restart events.
  static std::vector<std::pair<std::string, std::string>> TsaAuditFields(const TsaAnswer& answer);
  // Requests, checks and returns a token over `root`; `answer` says who gave it.
  Result<BatchRecord> TimeStampBatch(HashAlgorithm alg, const Bytes& root, std::size_t packages, TsaAnswer& answer);
  // A batch's hash tree over `groups` (its leaves), time-stamped, for
  // `packages` packages. Refuses evidence that would be due for renewal again
  // before `horizon`.
  struct TimeStampedTree {
    timestamp::HashTree tree;
    BatchRecord batch;
    Deadline deadline;
    TsaAnswer answer;
  };
  Result<TimeStampedTree> TimeStampGroups(HashAlgorithm alg, std::vector<std::vector<Bytes>> groups,
                                          std::size_t packages, TimePoint horizon);
  // The same for a tree already built.
  Result<TimeStampedTree> TimeStampTree(HashAlgorithm alg, timestamp::HashTree tree, std::size_t packages,
                                        TimePoint horizon);

  // Seals the oldest `max_batch` queued packages as one batch (one
  // time-stamp), committed config.commit_subjects packages at a time;
  // nullopt when none is queued.
  Result<std::optional<SealOutcome>> SealBatch(std::size_t max_batch);
  // `horizon`: the new evidence must last beyond it, or the batch is refused.
  // One time-stamp; the new evidence is committed config.commit_subjects
  // subjects at a time (sealing.cc says how a crash between commits ends).
  // `renewed_subject` gets one subject it renewed (for the run's self-check),
  // or stays empty when every one was left out.
  Result<RenewalBatch> RenewBatch(RenewalKind kind, HashAlgorithm alg, const SubjectIds& subjects,
                                  TimePoint horizon, std::string* renewed_subject);
  // The evidence of `subjects` as stored, read on every core a block at a
  // time (Store::MultiGetEvidence); kFailedPrecondition for one not sealed.
  Result<std::vector<Bytes>> LoadStoredEvidence(SubjectIds::Range subjects) const;
  // The same decoded; kCorruption for one without an ATS. `stored`, when
  // given, gets the bytes as read.
  Result<std::vector<EvidenceSkeleton>> LoadRenewalSkeletons(SubjectIds::Range subjects,
                                                             std::vector<Bytes>* stored = nullptr) const;
  // Pass 1 of a hash-tree renewal: each subject's group under `alg` (rule
  // 12), from its evidence and its data objects re-read and checked
  // (HashCheckedContent, one pass for the whole batch), sorted, and its hash
  // (the subject's leaf); to `take` in input order, the members one after
  // another (each of HashAlgorithmSize(alg) bytes). A subject whose content or
  // record is damaged gets no group but `left_out` saying why (empty when it
  // has a group): it stays due, and the others are renewed. Memory: a chunk of subjects, and a digest
  // (32 bytes) and a new hash per data object; the rest goes through a
  // temporary file. `keep_evidence` gets every subject's evidence as step 1
  // read it, in input order, before any group is taken.
  using KeepEvidence = std::function<Status(ByteView stored_evidence)>;
  using TakeGroup =
      std::function<Status(std::size_t index, ByteView sorted_members, ByteView leaf, std::string left_out)>;
  Status HashTreeRenewalGroups(const SubjectIds& subjects, HashAlgorithm alg, BatchCache& cache,
                               const KeepEvidence& keep_evidence, const TakeGroup& take) const;
  // Verifies `subject`'s evidence as `verify` would, now; adds a line to
  // outcome.self_check_failures when it does not verify.
  Status CheckRenewedEvidence(const std::string& subject, RenewalOutcome& outcome) const;

  // ---- Maintenance (fixity.cc) ----
  // Re-reads one package's data objects and records in `out` every one that no
  // longer matches its record, its manifest or its first archive time-stamp.
  // Errors only when the store cannot be read at all.
  Status CheckFixity(const PackageRecord& record, BatchCache& batches, PackageFixity& out) const;
};

}  // namespace preserve::archive
