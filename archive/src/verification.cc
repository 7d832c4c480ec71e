// Verification and export: a package's evidence, signatures and data checked
// as audit/ checks them, and its contents handed out (a ZIP, files, or in
// memory). Verify and Export are audited on a writable archive.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "archive_impl.h"
#include "damage.h"
#include "lifecycle.h"
#include "trust.h"
#include "preserve/audit/package_archive.h"
#include "preserve/package/manifest.h"
#include "preserve/util/digest.h"

namespace preserve::archive {

Verification::Verification(Archive& archive) : impl_(archive.impl_.get()) {}

Result<audit::PackageContents> Verification::Contents(const std::string& package_id) {
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, impl_->LoadRecord(package_id));
  audit::PackageContents contents;
  for (const auto& o : record.objects) {
    if (o.size > impl_->content_chunk_size) {
      // Read when used, as often as used: never whole.
      const storage::Store* store = impl_->store.get();
      contents.streamed.emplace(o.path, audit::StreamedObject{o.size, [store, digest = o.sha256](
                                                                           const ContentSink& sink) {
                                  return store->ReadContent(digest, sink);
                                }});
      continue;
    }
    auto bytes = impl_->store->GetContent(o.sha256);
    if (!bytes.ok()) return bytes.status().WithContext(o.path);  // names the object that cannot be read
    contents.data.emplace(o.path, std::move(bytes).value());
  }
  PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, impl_->LoadSkeleton(package_id));
  BatchCache batches;
  PRESERVE_ASSIGN_OR_RETURN(timestamp::EvidenceRecord er, impl_->Assemble(record, skeleton, batches));
  PRESERVE_ASSIGN_OR_RETURN(contents.evidence_record, timestamp::EncodeEvidenceRecord(er));
  for (const EvidenceSkeleton::Lapsed& lapsed : skeleton.lapsed) {
    EvidenceSkeleton earlier;
    earlier.digest_algorithms = lapsed.digest_algorithms;
    earlier.chains = lapsed.chains;
    PRESERVE_ASSIGN_OR_RETURN(timestamp::EvidenceRecord earlier_er, impl_->Assemble(record, earlier, batches));
    PRESERVE_ASSIGN_OR_RETURN(Bytes der, timestamp::EncodeEvidenceRecord(earlier_er));
    contents.lapsed_evidence.push_back(
        {std::move(der), "at " + FormatUtcTime(lapsed.restarted_at) + " by " + lapsed.restarted_by + " (" +
                             lapsed.reason + "), after it lapsed on " + FormatUtcTime(lapsed.lapsed_at) + ": " +
                             lapsed.what_ended});
  }
  // The trust anchors first (the local CA is tsa/ca.pem), then each TSA certificate that signed a token.
  contents.tsa_certificates = impl_->TsaTrustAnchors();
  contents.sealing_policy = ToBytes(impl_->policy.ToJson());
  contents.archive_tsa_ca_sha256 = ToHex(Digest(HashAlgorithm::kSha256, impl_->ca_certificate));
  for (const auto& [id, batch] : batches.records) {
    PRESERVE_ASSIGN_OR_RETURN(timestamp::TokenInfo info, timestamp::ParseToken(batch.token));
    auto& certs = contents.tsa_certificates;
    if (!info.tsa_certificate.empty() && std::find(certs.begin(), certs.end(), info.tsa_certificate) == certs.end())
      certs.push_back(info.tsa_certificate);
  }
  return contents;
}

namespace {

// A later version names the version it follows and that version's manifest
// (SHA-256): both sealed, so the chain of versions is as proven as each one.
// Checks the link against the stored earlier version.
void CheckVersionLink(const storage::Store& store, const std::string& id, const audit::PackageContents& contents,
                      audit::PackageReport& report) {
  auto manifest_bytes = contents.data.find(package::kManifestPath);
  if (manifest_bytes == contents.data.end()) return;  // VerifyPackage has said so
  auto manifest = package::ManifestFromJson(manifest_bytes->second);
  if (!manifest.ok() || manifest->previous_version.empty()) return;
  const std::string what = "version " + std::to_string(manifest->version) + " follows " + manifest->previous_version +
                           " (manifest SHA-256 " + ToHex(manifest->previous_manifest_sha256) + ")";
  std::string problem;
  auto [base, version] = SplitVersionId(id);
  auto [previous_base, previous_version] = SplitVersionId(manifest->previous_version);
  auto stored = store.GetPackage(manifest->previous_version);
  auto previous = stored.ok() ? DecodeStoredPackageRecord(stored.value()) : Result<PackageRecord>(stored.status());
  if (previous_base != base || previous_version >= version || manifest->version != version) {
    problem = "the manifest does not name an earlier version of package " + std::string(base);
  } else if (!previous.ok()) {
    problem = "the earlier version cannot be read: " + previous.status().message();
  } else {
    auto found = std::find_if(previous->objects.begin(), previous->objects.end(),
                              [](const PackageRecord::Object& o) { return o.path == package::kManifestPath; });
    if (found == previous->objects.end() || found->sha256 != manifest->previous_manifest_sha256)
      problem = "the stored earlier version's manifest is not the one this version names";
  }
  report.steps.push_back({"versions", what, problem.empty() ? Verdict::kValid : Verdict::kInvalid, problem});
  if (!problem.empty()) {
    report.reasons.push_back("versions: " + problem);
    report.verdict = Verdict::kInvalid;
  }
}

}  // namespace

Result<audit::PackageReport> Verification::Verify(const std::string& package_id, const VerifyOptions& options) {
  auto loaded = impl_->LoadRecord(package_id);
  if (!loaded.ok() && loaded.status().code() != StatusCode::kCorruption) return loaded.status();
  audit::PackageVerifyOptions verify;
  verify.tsa_trust.certificates = impl_->TsaTrustAnchors();
  verify.tsa_trust.source = impl_->config.external_tsas.empty()
                                ? "the store's time-stamping CA"
                                : "the store's time-stamping CA and the external TSAs' anchors in config.json";
  PRESERVE_ASSIGN_OR_RETURN(std::vector<TrustListEntry> listed, LoadTrustList(*impl_->store));
  for (auto& entry : listed) verify.signer_trust.certificates.push_back(std::move(entry.certificate));
  verify.signer_trust.source = "the store's trust list";
  if (!options.signer_trust_anchors.empty()) {
    verify.signer_trust.certificates.insert(verify.signer_trust.certificates.end(),
                                            options.signer_trust_anchors.begin(), options.signer_trust_anchors.end());
    verify.signer_trust.source = listed.empty() ? "given with --trust" : "the store's trust list and --trust";
  }
  verify.signer_trust.missing_hint =
      "the store's trust list is empty: add the signers' CA with 'preserve trust add', or give --trust";
  verify.clock = impl_->clock;
  verify.policy_source = "the store's, " + impl_->policy.name();
  audit::UsePolicy(impl_->policy, verify);
  auto verified = [&]() -> Result<audit::PackageReport> {
    PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, std::move(loaded));
    if (record.state == PackageState::kDeleted) {
      PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, impl_->LoadSkeleton(package_id));
      BatchCache batches;
      PRESERVE_ASSIGN_OR_RETURN(timestamp::EvidenceRecord er, impl_->Assemble(record, skeleton, batches));
      return VerifyTombstone(*impl_->store, record, er, verify);
    }
    PRESERVE_ASSIGN_OR_RETURN(audit::PackageContents contents, Contents(package_id));
    audit::PackageReport checked = audit::VerifyPackage(contents, verify);
    if (checked.package_id != package_id) {
      std::string detail = "the manifest names package '" + checked.package_id + "'";
      checked.steps.push_back({"data", "manifest.json", Verdict::kInvalid, detail});
      checked.reasons.push_back("manifest.json: " + detail);
      checked.verdict = Verdict::kInvalid;
    }
    checked.package_id = package_id;
    CheckVersionLink(*impl_->store, package_id, contents, checked);
    return checked;
  }();
  // Once its record was found, a package whose record, content, evidence or
  // batches cannot be read (damage, or an object gone) is INVALID, naming what.
  const StatusCode failed = verified.status().code();
  if (!verified.ok() && (failed == StatusCode::kCorruption || failed == StatusCode::kNotFound))
    verified = UnreadablePackageReport(package_id, verified.status());
  PRESERVE_ASSIGN_OR_RETURN(audit::PackageReport report, std::move(verified));
  // Who verified what, and the outcome, is part of the record's history; a
  // read-only archive (beside a writer) cannot append, and the caller says so.
  if (impl_->writable()) {
    storage::WriteSet w;
    w.AppendAudit(AuditEvent(*impl_->clock, "verify",
                             {{"package", package_id},
                              {"verdict", std::string(VerdictName(report.verdict))},
                              {"reason", report.reasons.empty() ? "" : report.reasons.front()}}));
    PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)).WithContext("recording the verification"));
  }
  return report;
}

Status Verification::Export(const std::string& package_id, const std::filesystem::path& zip_path) {
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, impl_->LoadRecord(package_id));
  if (record.state == PackageState::kDeleted)
    return DeletedError(*impl_->store, record, "there is nothing to export ('preserve verify' shows what its "
                                               "evidence still proves)");
  PRESERVE_ASSIGN_OR_RETURN(audit::PackageContents contents, Contents(package_id));
  PRESERVE_RETURN_IF_ERROR(audit::WritePackageZip(contents, zip_path));
  if (!impl_->writable()) return Status::Ok();
  // The digest names exactly which copy left the archive.
  std::error_code ec;
  auto recorded = [&]() -> Status {
    PRESERVE_ASSIGN_OR_RETURN(Bytes zip_sha256, DigestFile(kContentHash, zip_path));
    storage::WriteSet w;
    w.AppendAudit(AuditEvent(*impl_->clock, "export",
                             {{"package", package_id},
                              {"destination", std::filesystem::absolute(zip_path, ec).string()},
                              {"zip_sha256", ToHex(zip_sha256)}}));
    return impl_->store->Commit(std::move(w));
  }();
  // An export the trail does not show must not exist.
  if (!recorded.ok()) std::filesystem::remove(zip_path, ec);
  return recorded.WithContext("recording the export");
}

namespace {

// Writes the new file `path` (never an existing one) from `content`'s
// pieces; on failure removes what it wrote.
Status WriteNewFile(const std::filesystem::path& path, const ContentSource& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST) return Status::AlreadyExists(path.string() + " already exists: not overwritten");
  if (fd < 0) return Status::IOError(path.string() + ": cannot create: " + std::strerror(errno));
  Status written = content([&](ByteView bytes) -> Status {
    for (std::size_t done = 0; done < bytes.size();) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::IOError(path.string() + ": write failed: " + std::strerror(errno));
      done += static_cast<std::size_t>(n);
    }
    return Status::Ok();
  });
  if (::close(fd) != 0 && written.ok())
    written = Status::IOError(path.string() + ": close failed: " + std::strerror(errno));
  if (!written.ok()) ::unlink(path.c_str());
  return written;
}

Status WriteNewFile(const std::filesystem::path& path, ByteView bytes) {
  return WriteNewFile(path, [bytes](const ContentSink& sink) { return sink(bytes); });
}

}  // namespace

// Over 60 lines: everything is read and checked before anything is written; the order is the guarantee.
Result<std::vector<std::filesystem::path>> Verification::Get(const std::string& package_id,
                                                             const std::filesystem::path& out_dir) {
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, impl_->LoadRecord(package_id));
  if (record.state == PackageState::kDeleted)
    return DeletedError(*impl_->store, record, "its content is gone ('preserve verify' shows what its evidence "
                                               "still proves)");
  // Everything is read and checked before anything is written: no half
  // output. A large object is streamed into a staging file beside its place,
  // checked as it goes, and linked into place with the rest.
  std::vector<std::pair<std::filesystem::path, Bytes>> files;
  std::vector<std::pair<std::filesystem::path, const PackageRecord::Object*>> large;
  for (const auto& o : record.objects) {
    if (!IsSafeRelativePath(o.path))
      return Status::Corruption("package " + package_id + ": unsafe data object path '" + o.path + "'");
    if (o.size > impl_->content_chunk_size) {
      large.emplace_back(out_dir / o.path, &o);
      continue;
    }
    PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, impl_->store->GetContent(o.sha256));
    if (Digest(HashAlgorithm::kSha256, bytes) != o.sha256)
      return Status::Corruption("package " + package_id + ": " + o.path +
                                " does not match its SHA-256 (run 'preserve fixity')");
    files.emplace_back(out_dir / o.path, std::move(bytes));
  }
  if (record.state == PackageState::kSealed) {
    PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, impl_->LoadSkeleton(package_id));
    BatchCache batches;
    PRESERVE_ASSIGN_OR_RETURN(timestamp::EvidenceRecord er, impl_->Assemble(record, skeleton, batches));
    PRESERVE_ASSIGN_OR_RETURN(Bytes der, timestamp::EncodeEvidenceRecord(er));
    files.emplace_back(out_dir / "evidence.ers", std::move(der));
  }
  std::error_code ec;
  std::vector<std::filesystem::path> targets;
  for (const auto& f : files) targets.push_back(f.first);
  for (const auto& l : large) targets.push_back(l.first);
  for (const auto& path : targets) {
    if (std::filesystem::exists(path, ec))
      return Status::AlreadyExists(path.string() + " already exists: refusing to overwrite it");
  }
  std::vector<std::filesystem::path> staged;
  auto remove_staged = [&] {
    for (const auto& path : staged) std::filesystem::remove(path, ec);
  };
  auto unstage = [&](Status s) {
    remove_staged();
    return s;
  };
  for (const auto& [path, o] : large) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return unstage(Status::IOError("cannot create " + path.parent_path().string() + ": " + ec.message()));
    std::filesystem::path partial = path;
    partial += ".partial-" + std::to_string(::getpid());
    Hasher hasher(HashAlgorithm::kSha256);
    Status s = WriteNewFile(partial, [&](const ContentSink& sink) {
      return impl_->store->ReadContent(o->sha256, [&](ByteView piece) {
        hasher.Update(piece);
        return sink(piece);
      });
    });
    if (!s.ok()) return unstage(s);
    staged.push_back(partial);
    if (hasher.Finish() != o->sha256)
      return unstage(Status::Corruption("package " + package_id + ": " + o->path +
                                        " does not match its SHA-256 (run 'preserve fixity')"));
  }
  std::vector<std::filesystem::path> written;
  for (const auto& [path, bytes] : files) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return unstage(Status::IOError("cannot create " + path.parent_path().string() + ": " + ec.message()));
    if (Status s = WriteNewFile(path, bytes); !s.ok()) return unstage(s);
    written.push_back(path);
  }
  for (std::size_t i = 0; i < large.size(); ++i) {
    // link, unlike rename, never replaces a file that appeared meanwhile.
    if (::link(staged[i].c_str(), large[i].first.c_str()) != 0)
      return unstage(Status::IOError("cannot create " + large[i].first.string() + ": " + std::strerror(errno)));
    written.push_back(large[i].first);
  }
  remove_staged();  // each is linked into place now
  return written;
}

}  // namespace preserve::archive
