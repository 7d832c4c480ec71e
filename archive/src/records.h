// The archive's own records in the store: the package record and the batch
// record as JSON, the evidence skeleton in a compact binary form (records.cc
// documents its layout). Private to archive/.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "preserve/timestamp/evidence_record.h"

namespace preserve::archive {

// The store's index entry for a package: its data objects by digest.
struct PackageRecord {
  std::string id;
  std::uint32_t version = 1;
  TimePoint created;
  std::string state;  // "queued" or "sealed"
  struct Object {
    std::string path;  // relative to data/
    Bytes sha256;
    std::uint64_t size = 0;
  };
  std::vector<Object> objects;  // the manifest included
  std::optional<TimePoint> next_renewal;
};

// A package's evidence record without its tokens: each ATS names the batch
// whose token it uses, so a batch's token is stored once however many
// packages it seals. The DER record is assembled when asked for.
struct EvidenceSkeleton {
  struct Ats {
    HashAlgorithm digest_algorithm = HashAlgorithm::kSha256;
    std::optional<timestamp::ReducedHashtree> reduced_hashtree;
    std::string batch_id;
  };
  std::vector<HashAlgorithm> digest_algorithms;
  std::vector<std::vector<Ats>> chains;
};

struct BatchRecord {
  std::string id;
  TimePoint time;
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha256;
  Bytes root;
  Bytes token;  // DER TimeStampToken
  std::size_t packages = 0;
};

Bytes EncodePackageRecord(const PackageRecord& record);
Result<PackageRecord> DecodePackageRecord(ByteView bytes);
Bytes EncodeEvidenceSkeleton(const EvidenceSkeleton& skeleton);
Result<EvidenceSkeleton> DecodeEvidenceSkeleton(ByteView bytes);
Bytes EncodeBatchRecord(const BatchRecord& batch);
Result<BatchRecord> DecodeBatchRecord(ByteView bytes);

}  // namespace preserve::archive
