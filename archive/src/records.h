// The archive's own records in the store: the package record and the batch
// record as JSON, the evidence skeleton in a compact binary form (records.cc
// documents its layout). Private to archive/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "preserve/archive/archive.h"
#include "preserve/storage/store.h"
#include "preserve/timestamp/evidence_record.h"

namespace preserve::archive {

// The store's index entry for a package: its data objects by digest.
//
// Stored once at ingest and rewritten only when the package is deleted: a
// seal or renewal (a million packages at a time) writes the package's small
// evidence skeleton instead, which is where `state` and `next_renewal` come
// from when the record is read (DecodePackageRecord).
struct PackageRecord {
  std::string id;
  std::uint32_t version = 1;
  TimePoint created;
  // Queued (no evidence yet), sealed (it has evidence) or deleted (a
  // tombstone; the only state the stored record itself holds).
  PackageState state = PackageState::kQueued;
  struct Object {
    std::string path;  // relative to data/
    Bytes sha256;
    std::uint64_t size = 0;
  };
  std::vector<Object> objects;  // the manifest included
  std::optional<TimePoint> next_renewal;  // from the evidence skeleton, when sealed
};

// Versions. Version 1 of a package is stored under the package's id; each
// later version is a package record of its own, "ID.v0002" up to "ID.v9999",
// ingested, sealed and renewed like any other, so its evidence covers every
// data object of that version. The ids sort right after the package's own.
inline constexpr std::uint32_t kMaxVersions = 9999;
std::string StoredVersionId(std::string_view package_id, std::uint32_t version);
// The package and version a stored id names: ("ID", 1) for "ID", ("ID", 2) for "ID.v0002".
std::pair<std::string_view, std::uint32_t> SplitVersionId(std::string_view id);

// A package's evidence record without its tokens and without its reduced hash
// trees: each ATS names the batch whose token it uses and the leaf its group
// holds in that batch's hash tree, which is stored once per batch (the
// "trees" family). A batch's token and tree are thus stored once however many
// packages it seals; the DER record is assembled when asked for
// (Archive::Impl::Assemble), byte for byte the record a whole-tree store
// would give.
struct EvidenceSkeleton {
  struct Ats {
    HashAlgorithm digest_algorithm = HashAlgorithm::kSha256;
    std::string batch_id;
    // The group's leaf position in the batch's tree; nullopt when the batch
    // was one data object alone, which has no reduced hash tree (rule 5).
    std::optional<std::uint32_t> leaf;
    // Where the first list of the reduced tree (the group's member hashes,
    // sorted) comes from. Those that can be derived are not stored.
    enum class Members : std::uint8_t {
      kStored = 0,       // `members`, as stored
      kDataObjects = 1,  // the package's data objects' hashes under digest_algorithm (a seal)
      kChainTokens = 2,  // the hashes of the tokens of the chain's earlier ATSs (a timestamp renewal, rule 11)
    };
    Members members_source = Members::kStored;
    timestamp::PartialHashtree members;  // kStored only
  };
  TimePoint next_renewal;  // the package's entry in the renewal schedule
  std::vector<HashAlgorithm> digest_algorithms;
  std::vector<std::vector<Ats>> chains;

  // Earlier evidence that lapsed (something its newest ATS relied on ended
  // before a newer ATS covered it) and was replaced by a new chain started
  // over the same data objects (Sealing::RestartLapsedEvidence). Kept for the
  // record, oldest first; never renewed.
  struct Lapsed {
    std::vector<HashAlgorithm> digest_algorithms;
    std::vector<std::vector<Ats>> chains;
    TimePoint lapsed_at;      // when what its newest ATS relied on ended
    std::string what_ended;   // why: "the TSA certificate that signed it expires ..."
    TimePoint restarted_at;   // the new chain's first time-stamp
    std::string restarted_by;
    std::string reason;
  };
  std::vector<Lapsed> lapsed;
};

struct BatchRecord {
  std::string id;
  TimePoint time;
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha256;
  Bytes root;
  Bytes token;  // DER TimeStampToken
  std::size_t packages = 0;
  // Leaves of the batch's hash tree (distinct groups; a timestamp renewal
  // seals packages that share their earlier tokens as one group). 0 when the
  // batch was one data object alone.
  std::size_t leaves = 0;
  // The audit trail's head when the batch was made, sealed as one more data
  // object of the batch's tree (AuditHeadObject): a trail edited and
  // re-chained afterwards no longer passes through it. Absent from batches
  // made before heads were sealed.
  struct AuditHead {
    std::uint64_t events = 0;  // the trail's entries then
    Bytes hash;                // the last one's hash (32 zeros when there was none)
    std::uint32_t leaf = 0;    // the object's position among the tree's leaves
    // Once the trail is anchored under a stronger hash than its SHA-256
    // links (trail_evidence.h), the head names that chain's value too.
    std::optional<HashAlgorithm> anchor_algorithm;
    Bytes anchor;
  };
  std::optional<AuditHead> audit_head;
};

// The data object that seals an audit trail's head: a short text naming the
// number of events and the last one's SHA-256, and the anchor chain's value
// when there is one, so a person can read what the time-stamp covers.
Bytes AuditHeadObject(std::uint64_t events, ByteView hash);
Bytes AuditHeadObject(const BatchRecord::AuditHead& head);

// Nodes per stored chunk of a batch's hash tree: a reduced tree reads one
// chunk per level (32 KB for SHA-256) rather than the whole tree.
inline constexpr std::size_t kTreeChunkNodes = 1024;

// A seal-queue entry (storage::WriteSet::Enqueue): the package's group hash
// (ERS-RULES.md rule 2) over its data objects' SHA-256 content hashes, so
// that sealing builds its tree from the queue alone. Layout: u8 length +
// hash algorithm name, then the hash.
Bytes EncodeQueueEntry(const PackageRecord& record);
// The group hash `entry` carries under `alg`; empty when it carries none under
// `alg` (an empty entry, or another algorithm): sealing then derives the
// group from the package record. kCorruption for a malformed entry.
Result<ByteView> QueuedGroupHash(ByteView entry, HashAlgorithm alg);

// Sealing writes a million skeletons that differ only in their one ATS's leaf
// position: encoded once, then only the leaf is rewritten per package.
class SealSkeletonEncoder {
 public:
  // `skeleton`: one chain of one ATS, with a leaf and members not stored.
  explicit SealSkeletonEncoder(const EvidenceSkeleton& skeleton);
  // EncodeEvidenceSkeleton of the skeleton with its leaf set to `leaf`; valid
  // until the next call.
  ByteView Encode(std::uint32_t leaf);

 private:
  Bytes encoded_;
  std::size_t leaf_offset_ = 0;
};

// Stores `state` only when it is deleted; never `next_renewal`.
Bytes EncodePackageRecord(const PackageRecord& record);
// The record as read: the stored fields, then `state` and `next_renewal` from
// the package's evidence in `store`.
Result<PackageRecord> DecodePackageRecord(ByteView bytes, const storage::Store& store);
// The same with the package's evidence as read already (Store::GetEvidence or
// MultiGetEvidence: kNotFound when it has none); its skeleton, when it has
// evidence, goes to `skeleton` if given.
Result<PackageRecord> DecodePackageRecord(ByteView bytes, const Result<Bytes>& evidence,
                                          EvidenceSkeleton* skeleton = nullptr);
// The stored fields only (`state` queued unless deleted, no `next_renewal`):
// for sealing, which needs only the data objects.
Result<PackageRecord> DecodeStoredPackageRecord(ByteView bytes);
Bytes EncodeEvidenceSkeleton(const EvidenceSkeleton& skeleton);
Result<EvidenceSkeleton> DecodeEvidenceSkeleton(ByteView bytes);
// Where a renewal's new ATS goes (ERS-RULES.md): after the last chain's ATSs
// (a timestamp renewal), or as the first of a new chain (a hash-tree renewal).
enum class RenewalChain { kLast, kNew };
// The stored skeleton `stored` renewed by `ats`: with `ats` added where
// `chain` says (a new chain's algorithm added to the digest algorithms when it
// is new to them) and `next_renewal` set. Byte for byte what decoding, changing
// and encoding it gives, without building the skeleton: a renewal of a million
// subjects does this a million times. `previous_renewal`, when given, gets the
// stored skeleton's. kCorruption as DecodeEvidenceSkeleton, or when there is
// no ATS to follow.
Result<Bytes> AddRenewalToSkeleton(ByteView stored, const EvidenceSkeleton::Ats& ats, RenewalChain chain,
                                   TimePoint next_renewal, TimePoint* previous_renewal = nullptr);
// Package `id`'s skeleton from what reading its evidence gave:
// kFailedPrecondition when it has none (it is not sealed yet).
Result<EvidenceSkeleton> DecodeStoredSkeleton(std::string_view id, const Result<Bytes>& stored);
Bytes EncodeBatchRecord(const BatchRecord& batch);
Result<BatchRecord> DecodeBatchRecord(ByteView bytes);

}  // namespace preserve::archive
