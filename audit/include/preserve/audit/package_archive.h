// Exported packages: a zip that an auditor can verify with nothing else.
//
// Layout:
//   evidence.ers      DER RFC 4998 EvidenceRecord over exactly the files under data/,
//                     taken as one data-object group
//   data/...          documents, signatures, validation material, manifest.json,
//                     each byte for byte as hashed
//   tsa/ca.pem        the local CA: the trust anchor for the time-stamps
//   tsa/tsa-N.pem     the TSA certificates that signed the tokens
//   README.txt        how to check it, with preserve, BouncyCastle or by hand
#pragma once

#include <filesystem>

#include "preserve/audit/package_verification.h"

namespace preserve::audit {

// Writes the zip atomically (a temporary file renamed into place).
Status WritePackageZip(const PackageContents& contents, const std::filesystem::path& zip_path);

// Reads an exported zip. Refuses hostile archives (absolute or '..' paths,
// links, device files, duplicate names, oversized entries) and anything that
// is not such a package, with a reason.
Result<PackageContents> ReadPackageZip(const std::filesystem::path& zip_path);

}  // namespace preserve::audit
