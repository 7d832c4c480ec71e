#include "submissions.h"

#include <set>

#include "archive_impl.h"
#include "preserve/util/digest.h"

namespace preserve::archive {

namespace {

// Set once every package stored before the index was indexed.
constexpr std::string_view kIndexBuiltSetting = "submissions.indexed";
constexpr std::string_view kDetachedLabel = "preserve detached signature\n";
// Packages read per step of the one-time scan.
constexpr std::size_t kScanPage = 1024;

const package::DataObjectEntry* Find(const package::Manifest& manifest, const std::string& path) {
  for (const auto& o : manifest.objects)
    if (o.path == path) return &o;
  return nullptr;
}

}  // namespace

Bytes SubmissionKey(ByteView signed_file_sha256, const Bytes* document_sha256) {
  if (document_sha256 == nullptr) return Bytes(signed_file_sha256.begin(), signed_file_sha256.end());
  Bytes input(kDetachedLabel.begin(), kDetachedLabel.end());
  input.insert(input.end(), signed_file_sha256.begin(), signed_file_sha256.end());
  input.insert(input.end(), document_sha256->begin(), document_sha256->end());
  return Digest(HashAlgorithm::kSha256, input);
}

std::vector<Bytes> SubmissionKeys(const package::Manifest& manifest) {
  std::set<Bytes> keys;
  for (const auto& s : manifest.signatures) {
    const package::DataObjectEntry* signed_file = Find(manifest, s.signature_path);
    if (signed_file == nullptr) continue;
    // Detached: the signature and its document are two data objects.
    const bool detached = !s.enveloping && s.document_path != s.signature_path;
    const package::DataObjectEntry* document = detached ? Find(manifest, s.document_path) : nullptr;
    if (detached && document == nullptr) continue;
    keys.insert(SubmissionKey(signed_file->sha256, detached ? &document->sha256 : nullptr));
  }
  return {keys.begin(), keys.end()};
}

Status EnsureSubmissionIndex(storage::Store& store) {
  if (store.GetSetting(kIndexBuiltSetting).ok()) return Status::Ok();
  storage::WriteSet w;
  std::set<Bytes> indexed;
  std::string after;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, store.ListPackages(after, kScanPage));
    if (page.empty()) break;
    after = page.back().first;
    for (const auto& [id, bytes] : page) {
      PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, DecodePackageRecord(bytes, store));
      if (record.state == PackageState::kDeleted) continue;  // its manifest is gone with its content
      for (const auto& o : record.objects) {
        if (o.path != package::kManifestPath) continue;
        PRESERVE_ASSIGN_OR_RETURN(Bytes json, store.GetContent(o.sha256));
        PRESERVE_ASSIGN_OR_RETURN(package::Manifest manifest, package::ManifestFromJson(json));
        for (Bytes& key : SubmissionKeys(manifest)) {
          if (!indexed.insert(key).second) continue;  // an earlier package (or version) holds it
          w.PutSubmission(key, id);
        }
      }
    }
  }
  w.PutSetting(kIndexBuiltSetting, AsBytes("1"));
  return store.Commit(std::move(w));
}

Result<std::optional<std::string>> FindHolder(const storage::Store& store, ByteView key) {
  auto id = store.GetSubmission(key);
  if (!id.ok()) {
    if (id.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
    return id.status();
  }
  auto bytes = store.GetPackage(*id);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
    return bytes.status();
  }
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, DecodePackageRecord(bytes.value(), store));
  if (record.state == PackageState::kDeleted) return std::optional<std::string>();
  return std::optional<std::string>(std::move(id).value());
}

}  // namespace preserve::archive
