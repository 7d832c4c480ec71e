// Verification and export: a package's evidence, signatures and data checked
// as an independent verifier would (audit/), and its contents handed out: as
// a self-contained ZIP (Export), as files (Get) or in memory (Contents). On an
// archive open for writing, Verify and Export record an audit event; a
// read-only one (beside a writer) cannot, and the caller says so.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "preserve/archive/archive.h"
#include "preserve/audit/package_verification.h"

namespace preserve::archive {

struct VerifyOptions {
  // Trust anchors for the signers besides the store's trust list (TrustList).
  std::vector<Bytes> signer_trust_anchors;
};

class Verification {
 public:
  // Works on `archive`, which must outlive it; as cheap to make as a pointer.
  explicit Verification(Archive& archive);

  Result<audit::PackageReport> Verify(const std::string& package_id, const VerifyOptions& options);
  Status Export(const std::string& package_id, const std::filesystem::path& zip_path);

  // The package's data objects, evidence record and TSA certificates. Objects
  // larger than the content chunk size are streamed from the store when read:
  // the result must not outlive this Archive.
  Result<audit::PackageContents> Contents(const std::string& package_id);

  // Writes the package's data objects (documents/, signatures/, validation/,
  // manifest.json) and, when sealed, evidence.ers into `out_dir` (created if
  // missing). Checks each object's SHA-256 first; refuses to overwrite any file.
  // Returns the paths written.
  Result<std::vector<std::filesystem::path>> Get(const std::string& package_id, const std::filesystem::path& out_dir);

 private:
  Archive::Impl* impl_;
};

}  // namespace preserve::archive
