// RFC 4998 Evidence Records: hash trees, encoding, renewal and verification.
//
// Hashing and ordering follow ../shared/ERS-RULES.md exactly, so that records
// written here pass BouncyCastle 1.72's org.bouncycastle.tsp.ers checks and
// records BouncyCastle writes pass ours. Encoding and decoding go through
// OpenSSL ASN.1 templates (never by hand). Verification follows RFC 4998
// section 5.3 and is stricter than BouncyCastle's (see ERS-RULES.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "preserve/timestamp/time_stamp.h"
#include "preserve/util/verdict.h"

namespace preserve::timestamp {

using PartialHashtree = std::vector<Bytes>;
using ReducedHashtree = std::vector<PartialHashtree>;

// The hash of a data-object group given its members' hashes (rule 2):
// one member: that hash; two or more: H(sorted concatenation).
Bytes GroupHash(HashAlgorithm alg, std::vector<Bytes> member_hashes);

// A hash tree over one batch (rules 3-5). It keeps every level once, in one
// flat array of fixed-size digests, and each group's sorted members in
// another; a group's reduced hash tree is assembled only when asked for. A
// million groups of six SHA-256 members thus cost about 290 MB and no small
// allocations; a tree built over given leaves (BuildHashTreeOverLeaves) keeps
// no members, about 64 MB for a million. Immutable once built: const methods
// may be called concurrently.
class HashTree {
 public:
  const Bytes& root() const { return root_; }  // what the TSA time-stamps
  std::size_t groups() const { return leaf_position_.size(); }
  // The reduced hash tree for input group `group_index` (< groups()), rules
  // 4-5; nullopt when the batch is a single data object (the imprint is its
  // hash) or when the tree was built over leaves (list 0 is not known).
  std::optional<ReducedHashtree> ReducedFor(std::size_t group_index) const;
  // False only for a single data object sealed alone: no reduced tree (rule 5).
  bool has_reduced_trees() const { return nodes_ != nullptr; }
  // Input group `group_index`'s member hashes, sorted: list 0 of its reduced
  // tree. Empty for a tree built over leaves.
  PartialHashtree Members(std::size_t group_index) const;
  // Where input group `group_index` sits in level 0 (the leaves, sorted).
  std::size_t LeafPosition(std::size_t group_index) const { return leaf_position_[group_index]; }
  // The levels below the root, so that a caller can store the tree once per
  // batch and derive reduced trees later (rules 3-4: the sibling of the leaf at
  // position p on level l is node (p >> l) ^ 1 of that level, when it
  // exists). Level 0 holds the leaves in sorted order, each next level the
  // parents of the one below. None for a single data object or a single group.
  std::size_t StoredLevels() const { return nodes_ ? level_offsets_.size() - 2 : 0; }
  // Level l's nodes, concatenated (digest_size() bytes each).
  ByteView Level(std::size_t l) const {
    return {nodes_.get() + level_offsets_[l] * digest_size_, (level_offsets_[l + 1] - level_offsets_[l]) * digest_size_};
  }
  std::size_t digest_size() const { return digest_size_; }

 private:
  friend Result<HashTree> BuildHashTree(HashAlgorithm alg, const std::vector<std::vector<Bytes>>& groups);
  friend Result<HashTree> BuildHashTreeOverLeaves(HashAlgorithm alg, ByteView leaves);
  HashTree() = default;
  // Sizes the levels for `leaves` leaves; the builder then writes input leaf
  // i, unsorted, at Scratch(i) and calls SortAndBuildLevels.
  Status Shape(HashAlgorithm alg, std::size_t leaves);
  std::uint8_t* Scratch(std::size_t i) { return nodes_.get() + (groups() + i) * digest_size_; }
  Status SortAndBuildLevels(HashAlgorithm alg);

  std::size_t digest_size_ = 0;
  Bytes root_;
  // Level l holds nodes level_offsets_[l] .. level_offsets_[l + 1] - 1 of
  // nodes_: level 0 the leaves (group hashes) in sorted order, each next level
  // the parents of the one below, up to the root. Empty for a single object.
  std::unique_ptr<std::uint8_t[]> nodes_;
  std::vector<std::size_t> level_offsets_;
  // Every group's members, sorted within the group, in input order; group i
  // holds digests member_offsets_[i] .. member_offsets_[i + 1] - 1. Empty for
  // a tree built over leaves.
  std::unique_ptr<std::uint8_t[]> members_;
  std::vector<std::size_t> member_offsets_;
  std::vector<std::size_t> leaf_position_;  // input group -> its leaf's position in level 0
};

// Builds the tree over a batch of groups, each given as its members' hashes
// under `alg` (a group of one member is a single data object). Fails on an
// empty batch, an empty group, or a member that is not a digest of `alg`'s size.
Result<HashTree> BuildHashTree(HashAlgorithm alg, const std::vector<std::vector<Bytes>>& groups);

// The same tree over two or more groups whose hashes (rule 2), the leaves, the
// caller already has: `leaves` holds them concatenated in input order, one
// digest of `alg` each. For a sealing batch of a million packages this is one
// contiguous array in and no group hashing; the tree keeps no member lists
// (the caller derives list 0 of each reduced tree itself). Fails unless
// `leaves` is two or more whole digests: a lone leaf may be a single data
// object, which has no tree (rule 5) -- use BuildHashTree for it.
Result<HashTree> BuildHashTreeOverLeaves(HashAlgorithm alg, ByteView leaves);

// Recomputes the root a reduced hash tree leads to (rule 9), starting from list 0.
Bytes ReducedTreeRoot(HashAlgorithm alg, const ReducedHashtree& tree);

struct ArchiveTimeStamp {
  std::optional<HashAlgorithm> digest_algorithm;   // written exactly when reduced_hashtree is
  std::optional<ReducedHashtree> reduced_hashtree;
  Bytes time_stamp;                                // DER ContentInfo: the RFC 3161 token
};
using ArchiveTimeStampChain = std::vector<ArchiveTimeStamp>;
using ArchiveTimeStampSequence = std::vector<ArchiveTimeStampChain>;

struct EvidenceRecord {
  std::vector<HashAlgorithm> digest_algorithms;
  ArchiveTimeStampSequence sequence;
};

Result<Bytes> EncodeEvidenceRecord(const EvidenceRecord& record);
// Accepts NULL or absent AlgorithmIdentifier parameters; rejects trailing bytes,
// unknown versions and unsupported algorithms with a reason.
Result<EvidenceRecord> DecodeEvidenceRecord(ByteView der);

// A new record for one group sealed in a batch by `token` (DER).
EvidenceRecord NewEvidenceRecord(HashAlgorithm alg, std::optional<ReducedHashtree> reduced, Bytes token);

// --- Renewal (RFC 4998 section 5.2) ---

// Timestamp renewal (rule 11): the member hashes, under the last chain's
// algorithm, of the group a renewal must seal: H(DER(timeStamp)) of every ATS
// of the last chain.
Result<std::vector<Bytes>> TimeStampRenewalGroup(const EvidenceRecord& record);
// Appends the renewal ATS to the last chain.
Status AppendTimeStampRenewal(EvidenceRecord& record, std::optional<ReducedHashtree> reduced, Bytes token);

// Hash-tree renewal (rule 12): given the data objects' hashes under the new
// algorithm, the member hashes H'(H'(d) || ha) of the group to seal.
Result<std::vector<Bytes>> HashTreeRenewalGroup(const EvidenceRecord& record, HashAlgorithm new_alg,
                                                const std::vector<Bytes>& data_hashes);
// The same in two steps, for a renewal that hashes the sequences of many
// records before it has re-read their data objects: ha = H'(DER(sequence)),
// then the members from ha.
Result<Bytes> HashTreeRenewalSequenceHash(const EvidenceRecord& record, HashAlgorithm new_alg);
// An ArchiveTimeStamp by reference: its reduced hash tree's values and its
// token lie wherever the caller keeps them.
struct ArchiveTimeStampView {
  std::optional<HashAlgorithm> digest_algorithm;                           // as ArchiveTimeStamp's
  std::optional<std::span<const std::span<const ByteView>>> reduced_hashtree;  // each list's values
  ByteView time_stamp;
};
// DER(ArchiveTimeStampSequence) of `timestamps`, chain c being the next
// chain_sizes[c] of them, appended to `out`: the bytes
// EncodeArchiveTimeStampSequence gives. A renewal of a million subjects
// sealed by the same few batches need not copy each one's hashes and tokens
// into an ArchiveTimeStampSequence first; it gathers each one's encoding and
// hashes them many at a time (DigestMany) to their ha.
Status AppendArchiveTimeStampSequence(std::span<const ArchiveTimeStampView> timestamps,
                                      std::span<const std::size_t> chain_sizes, Bytes& out);
Result<std::vector<Bytes>> HashTreeRenewalGroup(ByteView sequence_hash, HashAlgorithm new_alg,
                                                const std::vector<Bytes>& data_hashes);
// Starts a new chain with the renewal ATS; adds new_alg to digest_algorithms.
Status AppendHashTreeRenewal(EvidenceRecord& record, HashAlgorithm new_alg,
                             std::optional<ReducedHashtree> reduced, Bytes token);

// --- Verification (RFC 4998 section 5.3) ---

// The hashes of the protected data objects under `alg` (one per data object,
// in any order): the caller streams its content through whatever algorithms
// the record's chains use.
using DataObjectHashes = std::function<Result<std::vector<Bytes>>(HashAlgorithm alg)>;

struct EvidenceVerifyOptions {
  TokenVerifyOptions tokens;  // trust anchors for the TSA certificates
  // The date from which an algorithm may no longer protect evidence (nullopt: no
  // end known). Default: every algorithm still valid. Filled from the catalogue.
  // Asked for each ATS's hash algorithm and for its token's signature digest.
  std::function<std::optional<TimePoint>(HashAlgorithm)> hash_algorithm_end;
  // Likewise for a token's signature: key_type as TokenInfo::signature_algorithm
  // ("RSA", "ECDSA"), key_bits as TokenInfo::signature_key_bits. Unset: no
  // signature algorithm has a known end.
  std::function<std::optional<TimePoint>(const std::string& key_type, int key_bits)> signature_algorithm_end;
  const Clock* clock = nullptr;  // "now", for what the last ATS relies on; required
};

// One checked step, for the report people read.
struct EvidenceStep {
  std::string what;    // "chain 1, ATS 1: token of 2026-11-27T10:00:00Z by CN=..."
  Verdict verdict = Verdict::kValid;
  std::string detail;  // why, when not VALID
};

struct EvidenceReport {
  Verdict verdict = Verdict::kInvalid;
  std::vector<EvidenceStep> steps;
  std::string failure;                   // the first failing step's reason
  std::optional<TimePoint> first_time;   // genTime of the first ATS: the existence proof
  std::optional<TimePoint> last_time;
};

// Checks every chain and ATS: the data (or previous sequence) leads to each
// token's imprint; each token's signature and TSA path; times increase; and
// everything an ATS relies on was still valid when the ATS that covers it was
// made (or is valid now, for the last ATS): its hash algorithm, its token's TSA
// certificate (notAfter), signature algorithm and key size, and signature
// digest. The ATS that covers ATS i is the next one of its chain (timestamp
// renewal) or, after a chain's last, the first ATS of the next chain (a
// hash-tree renewal covers the whole sequence). With no TSA trust anchor
// given, nothing can be proven about the tokens: INDETERMINATE. With anchors
// given, a token whose TSA does not chain to one of them (at its time) is
// INVALID: it was not made by a TSA the verifier trusts. Any broken link, or
// anything that ended too early, is INVALID.
EvidenceReport VerifyEvidenceRecord(const EvidenceRecord& record, const DataObjectHashes& data_hashes,
                                    const EvidenceVerifyOptions& options);

}  // namespace preserve::timestamp
