// Proving a package authentic: its data objects, its evidence record, and its
// signatures, whether the package comes from the store or from an exported zip.
//
// The report is for an auditor: one line per step, saying what was checked,
// what it proves and, when it fails, why.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "preserve/signature/signature_validation.h"
#include "preserve/policy/algorithm_catalogue.h"
#include "preserve/timestamp/evidence_record.h"

namespace preserve::audit {

// A data object too large to hold in memory (a large document in the store),
// read on demand, as often as needed: `read` pushes its bytes in order.
struct StreamedObject {
  std::uint64_t size = 0;
  ContentSource read;
};

// An evidence record that lapsed: something its newest archive time-stamp
// relied on ended before a newer one covered it, so it proves nothing any
// more. It is kept for the record beside the evidence chain that was
// started anew (Archive::RestartEvidence); nothing is back-dated.
struct LapsedEvidence {
  Bytes evidence_record;   // DER EvidenceRecord, as it was when it lapsed
  std::string restarted;   // when the new chain was started, and why: "2038-01-02T00:00:00Z by ... (reason)"
};

// Everything needed to verify a package offline. `data` maps each data
// object's path (relative to data/) to its bytes; `streamed` holds the large
// ones, under paths `data` does not have.
struct PackageContents {
  std::map<std::string, Bytes> data;
  std::map<std::string, StreamedObject> streamed;
  Bytes evidence_record;                // DER EvidenceRecord
  std::vector<LapsedEvidence> lapsed_evidence;  // earlier records, oldest first
  std::vector<Bytes> tsa_certificates;  // DER: the local CA and TSA certificates shipped with it
  // What the archive says it sealed the package under, outside the evidence:
  // information that verification may only make stricter, never looser.
  std::optional<Bytes> sealing_policy;  // the algorithm catalogue in force at export (policy file JSON)
  std::string archive_tsa_ca_sha256;    // hex SHA-256 of the archive's own time-stamping CA
};

// Trust the verifier brings. Anchors never come from the package verified:
// a package carries certificates (its archive's CA, its TSA certificates,
// its signers' paths up to the anchors ingest used), which are shown,
// compared with what is supplied here and used to build paths, but which
// make nothing VALID by themselves, since anyone can make a package that
// carries a CA of their own. Only a certificate given here, or one the
// package carries whose SHA-256 fingerprint is pinned here, is an anchor.
struct SuppliedTrust {
  std::vector<Bytes> certificates;   // DER
  std::vector<Bytes> pinned_sha256;  // fingerprints of certificates the package carries
  std::string source;                // said in the report: "--tsa-trust ca.pem", "the store's trust list"
  // Said when nothing is supplied: what to supply, and where to get it.
  std::string missing_hint;
  bool empty() const { return certificates.empty() && pinned_sha256.empty(); }
};

struct PackageVerifyOptions {
  // For the time-stamps. Nothing supplied: the evidence is at best
  // INDETERMINATE. Supplied, a token whose TSA does not chain to it is INVALID.
  SuppliedTrust tsa_trust;
  // For the signers. Nothing supplied: signatures are at best INDETERMINATE
  // (NO_CERTIFICATE_CHAIN_FOUND, naming the anchor the package keeps).
  SuppliedTrust signer_trust;
  // When each algorithm stopped protecting evidence (see UsePolicy); unset: never.
  std::function<std::optional<TimePoint>(HashAlgorithm)> hash_algorithm_end;
  std::function<std::optional<TimePoint>(const std::string& key_type, int key_bits)> signature_algorithm_end;
  std::string policy_source;     // said in the report: which catalogue judged the algorithms
  const Clock* clock = nullptr;  // required
};

// Fills the algorithm-end callbacks of `options` from `policy` (copied in).
void UsePolicy(const policy::AlgorithmCatalogue& policy, PackageVerifyOptions& options);
// The same from two catalogues: each algorithm ends at the earlier of their two
// ends, so a package judged by both is held to the stricter rule every time.
void UseStricterPolicy(const policy::AlgorithmCatalogue& a, const policy::AlgorithmCatalogue& b,
                       PackageVerifyOptions& options);

struct ReportStep {
  std::string section;  // "data", "evidence", "signature"
  std::string what;
  Verdict verdict = Verdict::kValid;
  std::string detail;
};

struct PackageReport {
  Verdict verdict = Verdict::kInvalid;
  std::string package_id;
  std::vector<ReportStep> steps;
  std::vector<std::string> reasons;  // one line per failing or undetermined step
  std::optional<TimePoint> existence_time;  // the first archive timestamp: the data existed then
  // Earlier evidence chains that lapsed, one line each ("lapsed: ...; new chain
  // started ..."): existence before existence_time is not proven by them.
  std::vector<std::string> lapsed_evidence;
};

PackageReport VerifyPackage(const PackageContents& contents, const PackageVerifyOptions& options);

// Adds to `report` the steps of verifying an evidence record over the data
// objects `hashes` gives, as an auditor reads them: which trust anchors were
// supplied and how they compare with `carried` (the certificates the package
// carries, which a pinned fingerprint may name), then every check of the
// record. Sets report.existence_time when the record is VALID.
void AddEvidenceSteps(const timestamp::EvidenceRecord& record, const timestamp::DataObjectHashes& hashes,
                      const std::vector<Bytes>& carried, const PackageVerifyOptions& options, PackageReport& report);
// The worst verdict of the report's steps.
Verdict WorstStep(const PackageReport& report);

// An evidence record against loose data objects taken as one group (a single
// file: one data object), as any RFC 4998 verifier would check it.
PackageReport VerifyEvidenceOverFiles(const Bytes& evidence_record, const std::vector<Bytes>& data_objects,
                                      const std::vector<std::string>& names, const PackageVerifyOptions& options);

std::string ReportToText(const PackageReport& report);
std::string ReportToJson(const PackageReport& report);

}  // namespace preserve::audit
