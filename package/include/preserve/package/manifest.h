// The package manifest: what a package holds and what ingest found.
//
// The manifest is itself one of the package's data objects (data/manifest.json),
// sealed with the others, so the ingest decision, the signature reports and
// the record metadata are covered by the same evidence as the documents.
// It lists every other data object with its SHA-256 and size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "preserve/package/record_metadata.h"
#include "preserve/signature/signature_validation.h"

namespace preserve::package {

inline constexpr const char* kManifestPath = "manifest.json";
inline constexpr const char* kManifestFormat = "preserve-package/1";

// Where each kind of data object lives inside a package (relative to data/).
inline constexpr const char* kDocumentsDir = "documents/";
inline constexpr const char* kSignaturesDir = "signatures/";
inline constexpr const char* kValidationDir = "validation/";

struct DataObjectEntry {
  std::string path;  // relative to data/, '/'-separated
  std::string role;  // "document", "signature", "signed-document" (enveloping CMS), "signed-pdf",
                     // "signed-container" (ASiC), "certificate", "crl", "ocsp-response"
  Bytes sha256;
  std::uint64_t size = 0;
};

struct SignatureEntry {
  std::string signature_path;  // the .p7s, .p7m, PDF or ASiC data object that holds the signature
  std::string document_path;   // the signed content's data object
  bool enveloping = false;
  // Which kind of signature and where it sits: "CAdES detached", "CAdES enveloping",
  // "PAdES Signature1 (ETSI.CAdES.detached)", "PDF document time-stamp DocTS1",
  // "ASiC-E META-INF/signature001.p7s".
  std::string format;
  Verdict verdict = Verdict::kInvalid;
  std::string sub_indication;  // "" when VALID
  std::string reason;          // "" when VALID
  std::string signer_subject;
  std::string signer_organization;
  std::optional<TimePoint> signing_time;
  std::string signing_time_source;
  bool signing_time_claimed = true;
  std::string digest_algorithm;
  std::string signature_algorithm;
  std::string revocation;  // how revocation was settled
  std::vector<std::string> warnings;
  std::vector<std::string> certificate_paths;  // validation material, signer first
  std::vector<std::string> revocation_paths;   // CRLs and OCSP responses used (validation/)
};

struct Manifest {
  std::string format = kManifestFormat;
  std::string package_id;
  std::uint32_t version = 1;
  // A later version (2, 3, ...) names the one it follows and that one's
  // manifest (SHA-256), so the versions of a record form a sealed chain.
  std::string previous_version;  // that version's package id; empty for version 1
  Bytes previous_manifest_sha256;
  TimePoint created;
  std::vector<DataObjectEntry> objects;  // every data object but the manifest itself
  std::vector<SignatureEntry> signatures;
  std::vector<std::string> trust_anchors;  // subjects of the anchors the signatures were validated against
  std::string producer;                    // "preserve 0.1.0"
  std::optional<RecordMetadata> metadata;  // Decree 30/2020 record metadata, when a sidecar came with it
  // How the ingest policy decided: "accepted: every signature TOTAL-PASSED" or
  // "accepted with INDETERMINATE signatures (--accept-indeterminate)".
  std::string decision;
};

// Canonical JSON (stable key order, no insignificant whitespace variation): the
// bytes that are hashed and sealed.
Bytes ManifestToJson(const Manifest& manifest);
Result<Manifest> ManifestFromJson(ByteView json);

}  // namespace preserve::package
