// RFC 4998 Evidence Records: hash trees, encoding, renewal and verification.
//
// Hashing and ordering follow ../shared/ERS-RULES.md exactly, so that records
// written here pass BouncyCastle 1.72's org.bouncycastle.tsp.ers checks and
// records BouncyCastle writes pass ours. Encoding and decoding go through
// OpenSSL ASN.1 templates (never by hand). Verification follows RFC 4998
// section 5.3 and is stricter than BouncyCastle's (see ERS-RULES.md).
#pragma once

#include <functional>
#include <optional>
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

// A hash tree over one batch (rules 3-5).
struct HashTree {
  Bytes root;  // what the TSA time-stamps
  // Per input group, in input order, its reduced hash tree; nullopt only when the
  // batch is a single group of one member (rule 5: the imprint is its hash).
  std::vector<std::optional<ReducedHashtree>> reduced;
};

// Builds the tree over a batch of groups, each given as its members' hashes
// (a group of one member is a single data object). Fails on an empty batch or
// an empty group.
Result<HashTree> BuildHashTree(HashAlgorithm alg, const std::vector<std::vector<Bytes>>& groups);

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
  std::function<std::optional<TimePoint>(HashAlgorithm)> hash_algorithm_end;
  const Clock* clock = nullptr;  // "now", for the last ATS's algorithm check; required
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
// token's imprint; each token's signature and TSA path; times increase; each
// hash algorithm was still valid when the next ATS covered it (or now, for the
// last). An untrusted TSA yields INDETERMINATE; any broken link INVALID.
EvidenceReport VerifyEvidenceRecord(const EvidenceRecord& record, const DataObjectHashes& data_hashes,
                                    const EvidenceVerifyOptions& options);

}  // namespace preserve::timestamp
