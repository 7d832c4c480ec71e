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

#include "preserve/ingest/signature_validation.h"
#include "preserve/timestamp/algorithm_catalogue.h"
#include "preserve/timestamp/evidence_record.h"

namespace preserve::audit {

// A data object too large to hold in memory (a large document in the store),
// read on demand, as often as needed: `read` pushes its bytes in order.
struct StreamedObject {
  std::uint64_t size = 0;
  ingest::ContentSource read;
};

// Everything needed to verify a package offline. `data` maps each data
// object's path (relative to data/) to its bytes; `streamed` holds the large
// ones, under paths `data` does not have.
struct PackageContents {
  std::map<std::string, Bytes> data;
  std::map<std::string, StreamedObject> streamed;
  Bytes evidence_record;                // DER EvidenceRecord
  std::vector<Bytes> tsa_certificates;  // DER: the local CA and TSA certificates shipped with it
};

struct PackageVerifyOptions {
  // Trust anchors for the TSA certificates (DER). Empty: none, the evidence is
  // at best INDETERMINATE.
  std::vector<Bytes> tsa_trust_anchors;
  std::string tsa_trust_source;  // said in the report: "the store's local CA", "--tsa-trust ca.pem"
  // Trust anchors for the signers (DER). Empty: the anchor kept in each
  // signature's validation material, which the report says.
  std::vector<Bytes> signer_trust_anchors;
  // When each algorithm stopped protecting evidence (see UsePolicy); unset: never.
  std::function<std::optional<TimePoint>(HashAlgorithm)> hash_algorithm_end;
  std::function<std::optional<TimePoint>(const std::string& key_type, int key_bits)> signature_algorithm_end;
  const Clock* clock = nullptr;  // required
};

// Fills the algorithm-end callbacks of `options` from `policy` (copied in).
void UsePolicy(const timestamp::AlgorithmCatalogue& policy, PackageVerifyOptions& options);

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
};

PackageReport VerifyPackage(const PackageContents& contents, const PackageVerifyOptions& options);

// An evidence record against loose data objects taken as one group (a single
// file: one data object), as any RFC 4998 verifier would check it.
PackageReport VerifyEvidenceOverFiles(const Bytes& evidence_record, const std::vector<Bytes>& data_objects,
                                      const std::vector<std::string>& names, const PackageVerifyOptions& options);

std::string ReportToText(const PackageReport& report);
std::string ReportToJson(const PackageReport& report);

}  // namespace preserve::audit
