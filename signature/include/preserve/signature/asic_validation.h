// Validating ASiC containers with CAdES signatures (ETSI EN 319 162-1).
//
// ASiC-S: one data object and META-INF/signature.p7s, a detached CMS over it.
// ASiC-E: META-INF/*signature*.p7s, each a detached CMS over the
// META-INF/ASiCManifest*.xml whose SigReference names it; the manifest lists
// the data objects it covers with their digests, and every digest is checked.
// EN 319 162-1 makes a signature cover exactly what its manifest lists, so a
// data object that no manifest lists is unsigned: it is named in
// `unsigned_objects` and makes the verdict INDETERMINATE (its origin cannot be
// established), never VALID.
//
// Errors (a Status, not a verdict) are for what is not a readable ASiC
// container: not a zip, a mimetype naming another media type, a hostile zip
// (see safe_archive.h), a manifest that is not well-formed, carries a DTD (XML
// bombs) or exceeds 1 MiB, a missing META-INF/signature.p7s, more than one
// data object in ASiC-S, two manifests for one signature, and the variants not
// supported: XAdES signatures (META-INF/*signatures*.xml) and the time-stamp
// ASiC-S (META-INF/timestamp.tst without a signature). Everything about the
// signatures themselves is in the reports.
//
// The container is read into memory under ArchiveLimits' defaults, except
// 2 GiB in all rather than 4 (AsicLimits() in asic_validation.cc).
#pragma once

#include <string>
#include <vector>

#include "preserve/signature/signature_validation.h"
#include "preserve/util/bytes.h"
#include "preserve/util/verdict.h"

namespace preserve::signature {

inline constexpr std::string_view kAsicSimpleMediaType = "application/vnd.etsi.asic-s+zip";
inline constexpr std::string_view kAsicExtendedMediaType = "application/vnd.etsi.asic-e+zip";

// True for a zip whose first entry is "mimetype", stored uncompressed, holding
// one of the two ASiC media types (the magic number EN 319 162-1 A.1 sets up).
// Containers without a mimetype entry are recognised by the caller from their
// extension (.asics, .scs: ASiC-S; .asice, .sce: ASiC-E).
bool LooksLikeAsic(ByteView bytes);

enum class AsicForm { kSimple, kExtended };

struct AsicSignatureReport {
  std::string signature_path;   // "META-INF/signature.p7s"
  std::string manifest_path;    // "META-INF/ASiCManifest.xml"; empty for ASiC-S, or when no manifest names it
  std::vector<std::string> signed_objects;  // the data objects it covers, as the manifest lists them
  // One signer's report; a CMS with several signers gives one entry per signer.
  // For ASiC-E a data object that does not match its manifest digest makes it
  // INVALID / HASH_FAILURE, and one missing from the container
  // INDETERMINATE / SIGNED_DATA_NOT_FOUND, naming the object.
  SignatureReport report;
};

struct AsicValidation {
  AsicForm form = AsicForm::kSimple;
  // The worst over the signatures, and INDETERMINATE while any data object is unsigned.
  Verdict verdict = Verdict::kInvalid;
  std::string reason;  // one sentence when not VALID: the first problem found
  std::vector<std::string> data_objects;      // every file outside META-INF/ except mimetype, sorted
  std::vector<std::string> unsigned_objects;  // data objects no signature's manifest lists, sorted
  std::vector<AsicSignatureReport> signatures;  // sorted by signature_path
  // Departures from EN 319 162-1 that do not change the verdict (no mimetype
  // entry, mimetype compressed or not first).
  std::vector<std::string> warnings;
};

Result<AsicValidation> ValidateAsic(ByteView container, const CmsValidationOptions& options);

}  // namespace preserve::signature
