// Shared by evidence_record.cc (encoding, renewal) and evidence_verify.cc.
#pragma once

#include "preserve/timestamp/evidence_record.h"

namespace preserve::timestamp {

// DER of an ArchiveTimeStampSequence with its outer SEQUENCE header: what a
// hash-tree renewal hashes into `ha` (ERS-RULES.md rule 12).
Result<Bytes> EncodeArchiveTimeStampSequence(const ArchiveTimeStampSequence& sequence);

// The hash algorithm an ATS was made with: its digestAlgorithm when present,
// otherwise the algorithm of its token's message imprint (rule 5).
Result<HashAlgorithm> ArchiveTimeStampAlgorithm(const ArchiveTimeStamp& ats);

}  // namespace preserve::timestamp
