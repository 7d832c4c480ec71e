#include <algorithm>

#include <boost/json.hpp>

#include "archive_impl.h"
#include "preserve/audit/package_archive.h"
#include "preserve/ingest/manifest.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

constexpr const char* kProducer = "preserve 0.1.0";
// Content is addressed, and manifests list digests, under SHA-256; what seals
// the evidence is the policy's choice (sealing.cc).
constexpr HashAlgorithm kContentHash = HashAlgorithm::kSha256;

// A file name as it will appear inside the package: no directories, nothing
// an extractor could misread.
std::string SafeName(const std::filesystem::path& path) {
  std::string name = path.filename().string();
  for (char& c : name)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
  if (name.empty() || name == "." || name == "..") name = "unnamed";
  return name;
}

}  // namespace

std::filesystem::path DbDir(const std::filesystem::path& root) { return root / "db"; }
std::filesystem::path TsaDir(const std::filesystem::path& root) { return root / "tsa"; }

Result<std::string> NewId(const Clock& clock) {
  std::array<std::uint8_t, 16> b{};
  PRESERVE_RETURN_IF_ERROR(RandomBytes(b));
  auto ms = static_cast<std::uint64_t>(clock.Now().time_since_epoch().count()) * 1000;
  for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0f));
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));
  std::string hex = ToHex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

Bytes AuditEvent(const Clock& clock, std::string_view type,
                 std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  json::object event{{"event", type}, {"time", FormatUtcTime(clock.Now())}};
  for (const auto& [key, value] : fields) event[key] = value;
  return ToBytes(json::serialize(event));
}

Result<PackageRecord> Archive::Impl::LoadRecord(const std::string& id) const {
  PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, store->GetPackage(id));
  return DecodePackageRecord(bytes);
}

Result<EvidenceSkeleton> Archive::Impl::LoadSkeleton(const std::string& id) const {
  auto bytes = store->GetEvidence(id);
  if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound)
    return Status::FailedPrecondition("package " + id + " is not sealed yet (run 'preserve seal')");
  if (!bytes.ok()) return bytes.status();
  return DecodeEvidenceSkeleton(bytes.value());
}

Result<const BatchRecord*> Archive::Impl::LoadBatch(const std::string& batch_id,
                                                    std::map<std::string, BatchRecord>& cache) const {
  auto found = cache.find(batch_id);
  if (found != cache.end()) return &found->second;
  PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, store->GetBatch(batch_id));
  PRESERVE_ASSIGN_OR_RETURN(BatchRecord batch, DecodeBatchRecord(bytes));
  return &cache.emplace(batch_id, std::move(batch)).first->second;
}

Result<timestamp::EvidenceRecord> Archive::Impl::Assemble(const EvidenceSkeleton& skeleton,
                                                          std::map<std::string, BatchRecord>& cache) const {
  timestamp::EvidenceRecord record;
  record.digest_algorithms = skeleton.digest_algorithms;
  for (const auto& chain : skeleton.chains) {
    timestamp::ArchiveTimeStampChain out;
    for (const auto& ats : chain) {
      PRESERVE_ASSIGN_OR_RETURN(const BatchRecord* batch, LoadBatch(ats.batch_id, cache));
      timestamp::ArchiveTimeStamp a;
      if (ats.reduced_hashtree) a.digest_algorithm = ats.digest_algorithm;
      a.reduced_hashtree = ats.reduced_hashtree;
      a.time_stamp = batch->token;
      out.push_back(std::move(a));
    }
    record.sequence.push_back(std::move(out));
  }
  return record;
}

std::vector<Bytes> Archive::Impl::TsaTrustAnchors() const {
  std::vector<Bytes> anchors = {ca_certificate};
  for (const auto& external_tsa : config.external_tsas)
    anchors.insert(anchors.end(), external_tsa.tsa_trust_anchors.begin(), external_tsa.tsa_trust_anchors.end());
  return anchors;
}

Result<std::vector<Bytes>> Archive::Impl::DataHashes(const PackageRecord& record, HashAlgorithm alg) const {
  std::vector<Bytes> out;
  out.reserve(record.objects.size());
  for (const auto& o : record.objects) {
    if (alg == kContentHash) {
      out.push_back(o.sha256);
      continue;
    }
    PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, store->GetContent(o.sha256));
    out.push_back(Digest(alg, bytes));
  }
  return out;
}

namespace {
// A built-in profile name, else a catalogue file.
Result<timestamp::AlgorithmCatalogue> ResolvePolicy(const std::string& profile_or_file) {
  const auto& profiles = timestamp::AlgorithmCatalogue::BuiltinProfiles();
  if (std::find(profiles.begin(), profiles.end(), profile_or_file) != profiles.end())
    return timestamp::AlgorithmCatalogue::Builtin(profile_or_file);
  return timestamp::AlgorithmCatalogue::Load(profile_or_file);
}
}  // namespace

Archive::Archive(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Archive::~Archive() = default;

Status Archive::Init(const std::filesystem::path& root, const InitOptions& options, const Clock& clock) {
  std::error_code ec;
  if (std::filesystem::exists(DbDir(root), ec) || std::filesystem::exists(TsaDir(root), ec))
    return Status::AlreadyExists("a store already exists at " + root.string());
  bool made_root = !std::filesystem::exists(root, ec);
  std::filesystem::create_directories(root, ec);
  if (ec) return Status::IOError("cannot create " + root.string() + ": " + ec.message());
  // Either a whole store or nothing: undo what was made on any failure.
  auto undo = [&](Status s) {
    std::filesystem::remove_all(DbDir(root), ec);
    std::filesystem::remove_all(TsaDir(root), ec);
    std::filesystem::remove(PolicyPath(root), ec);
    std::filesystem::remove(ConfigPath(root), ec);
    if (made_root) std::filesystem::remove(root, ec);
    return s;
  };
  auto policy = ResolvePolicy(options.policy);
  if (!policy.ok()) return undo(policy.status());
  StoreConfig config;
  config.renewal_margin = options.renewal_margin;
  config.tsa_key = options.tsa.key_type;
  config.tsa_validity_years = options.tsa.tsa_validity_years;
  if (Status s = SavePolicy(root, policy.value()); !s.ok()) return undo(s);
  if (Status s = SaveStoreConfig(root, config); !s.ok()) return undo(s);
  if (Status s = timestamp::CreateEmbeddedTsa(TsaDir(root), options.tsa, clock); !s.ok()) return undo(s);
  auto store = storage::Store::Open(DbDir(root), {.create_if_missing = true});
  if (!store.ok()) return undo(store.status());
  storage::WriteSet w;
  w.AppendAudit(AuditEvent(clock, "init", {{"producer", kProducer}, {"policy", policy->name()}}));
  if (Status s = store.value()->Commit(std::move(w)); !s.ok()) return undo(s);
  return Status::Ok();
}

Result<std::unique_ptr<Archive>> Archive::Open(const std::filesystem::path& root, bool read_only,
                                               const Clock& clock) {
  std::error_code ec;
  if (!std::filesystem::is_directory(DbDir(root), ec))
    return Status::NotFound("no store at " + root.string() + " (make one with 'preserve init --store " +
                            root.string() + "')");
  auto impl = std::make_unique<Impl>();
  impl->root = root;
  impl->clock = &clock;
  PRESERVE_ASSIGN_OR_RETURN(impl->config, LoadStoreConfig(root));
  PRESERVE_ASSIGN_OR_RETURN(impl->policy, LoadPolicy(root));
  PRESERVE_ASSIGN_OR_RETURN(impl->store, storage::Store::Open(DbDir(root), {.read_only = read_only}));
  PRESERVE_ASSIGN_OR_RETURN(auto ca, LoadCertificates(TsaDir(root) / "ca.pem"));
  impl->ca_certificate = ca.front();
  if (!read_only) {
    PRESERVE_ASSIGN_OR_RETURN(impl->tsa, timestamp::EmbeddedTsa::Open(TsaDir(root), clock));
    if (!impl->config.external_tsas.empty()) {
      PRESERVE_ASSIGN_OR_RETURN(impl->external, timestamp::FailoverTimeStamper::Create(impl->config.external_tsas, clock));
    }
  }
  return std::unique_ptr<Archive>(new Archive(std::move(impl)));
}

const Bytes& Archive::tsa_trust_anchor() const { return impl_->ca_certificate; }

Result<IngestOutcome> Archive::Ingest(const Submission& submission, const IngestOptions& options) {
  const Clock& clock = *impl_->clock;
  PRESERVE_ASSIGN_OR_RETURN(Bytes signature, ReadFile(submission.signature));
  std::optional<Bytes> content;
  if (submission.content) {
    PRESERVE_ASSIGN_OR_RETURN(Bytes c, ReadFile(*submission.content));
    content = std::move(c);
  }
  ingest::CmsValidationOptions cms;
  cms.trust_anchors = options.trust_anchors;
  cms.intermediates = options.intermediates;
  cms.clock = &clock;
  auto validation = ingest::ValidateCms(signature, content ? std::optional<ByteView>(*content) : std::nullopt, cms);
  if (!validation.ok()) return validation.status().WithContext(submission.signature.string());

  IngestOutcome outcome;
  outcome.input = (submission.content ? *submission.content : submission.signature).string();
  outcome.signatures = validation->signers;

  if (validation->verdict != Verdict::kValid) {
    // Refused: the store keeps only the fact, the reason and the digest.
    outcome.accepted = false;
    for (const auto& s : validation->signers) {
      if (s.verdict == Verdict::kValid) continue;
      outcome.reason = std::string(ingest::SubIndicationName(s.sub_indication)) + ": " + s.reason;
      break;
    }
    if (validation->signers.empty()) outcome.reason = "the signature has no signer";
    storage::WriteSet w;
    w.AppendAudit(AuditEvent(clock, "refused",
                             {{"input", outcome.input},
                                     {"signature_sha256", ToHex(Digest(kContentHash, signature))},
                                     {"reason", outcome.reason}}));
    PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
    return outcome;
  }

  PRESERVE_ASSIGN_OR_RETURN(std::string id, NewId(clock));
  ingest::Manifest manifest;
  manifest.package_id = id;
  manifest.created = clock.Now();
  manifest.producer = kProducer;
  for (const auto& anchor : options.trust_anchors) manifest.trust_anchors.push_back(CertificateSubject(anchor));

  std::map<std::string, Bytes> objects;  // path -> bytes
  auto add_object = [&](const std::string& path, const std::string& role, Bytes bytes) {
    manifest.objects.push_back({path, role, Digest(kContentHash, bytes), bytes.size()});
    objects.emplace(path, std::move(bytes));
  };
  ingest::SignatureEntry entry;
  entry.signature_path = std::string(ingest::kSignaturesDir) + SafeName(submission.signature);
  if (content) {
    entry.document_path = std::string(ingest::kDocumentsDir) + SafeName(*submission.content);
    add_object(entry.document_path, "document", std::move(*content));
    add_object(entry.signature_path, "signature", std::move(signature));
  } else {
    entry.enveloping = true;
    std::filesystem::path doc_name = submission.signature.filename();
    if (doc_name.extension() == ".p7m") doc_name.replace_extension();
    entry.document_path = std::string(ingest::kDocumentsDir) + SafeName(doc_name);
    add_object(entry.signature_path, "signed-document", std::move(signature));
    if (validation->encapsulated_content)
      add_object(entry.document_path, "document", std::move(*validation->encapsulated_content));
  }
  for (const auto& report : validation->signers) {
    ingest::SignatureEntry e = entry;
    e.verdict = report.verdict;
    e.signer_subject = report.signer_subject;
    e.signer_organization = report.signer_organization;
    e.signing_time = report.signing_time;
    e.signing_time_source = report.signing_time_source;
    e.digest_algorithm = report.digest_algorithm;
    e.signature_algorithm = report.signature_algorithm;
    for (const auto& cert : report.certificates) {
      std::string path = std::string(ingest::kValidationDir) + ToHex(Digest(kContentHash, cert)).substr(0, 16) + ".cer";
      if (objects.count(path) == 0) add_object(path, "certificate", cert);
      e.certificate_paths.push_back(path);
    }
    manifest.signatures.push_back(std::move(e));
  }
  Bytes manifest_json = ingest::ManifestToJson(manifest);

  PackageRecord record;
  record.id = id;
  record.created = manifest.created;
  record.state = "queued";
  storage::WriteSet w;
  auto store_object = [&](const std::string& path, const Bytes& bytes) -> Status {
    Bytes digest = Digest(kContentHash, bytes);
    PRESERVE_ASSIGN_OR_RETURN(bool present, impl_->store->HasContent(digest));
    if (!present) w.PutContent(digest, bytes);  // identical content is stored once
    record.objects.push_back({path, std::move(digest), bytes.size()});
    return Status::Ok();
  };
  for (const auto& [path, bytes] : objects) PRESERVE_RETURN_IF_ERROR(store_object(path, bytes));
  PRESERVE_RETURN_IF_ERROR(store_object(ingest::kManifestPath, manifest_json));
  w.PutPackage(id, EncodePackageRecord(record));
  w.Enqueue(id);
  w.AppendAudit(AuditEvent(clock, "ingest",
                           {{"package", id},
                                   {"input", outcome.input},
                                   {"manifest_sha256", ToHex(Digest(kContentHash, manifest_json))}}));
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  outcome.accepted = true;
  outcome.package_id = id;
  return outcome;
}

Result<audit::PackageContents> Archive::Contents(const std::string& package_id) {
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, impl_->LoadRecord(package_id));
  audit::PackageContents contents;
  for (const auto& o : record.objects) {
    PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, impl_->store->GetContent(o.sha256));
    contents.data.emplace(o.path, std::move(bytes));
  }
  PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, impl_->LoadSkeleton(package_id));
  std::map<std::string, BatchRecord> batches;
  PRESERVE_ASSIGN_OR_RETURN(timestamp::EvidenceRecord er, impl_->Assemble(skeleton, batches));
  PRESERVE_ASSIGN_OR_RETURN(contents.evidence_record, timestamp::EncodeEvidenceRecord(er));
  // The trust anchors first (the local CA is tsa/ca.pem), then each TSA certificate that signed a token.
  contents.tsa_certificates = impl_->TsaTrustAnchors();
  for (const auto& [id, batch] : batches) {
    PRESERVE_ASSIGN_OR_RETURN(timestamp::TokenInfo info, timestamp::ParseToken(batch.token));
    auto& certs = contents.tsa_certificates;
    if (!info.tsa_certificate.empty() && std::find(certs.begin(), certs.end(), info.tsa_certificate) == certs.end())
      certs.push_back(info.tsa_certificate);
  }
  return contents;
}

Result<std::vector<PackageSummary>> Archive::List(const std::string& after, std::size_t limit) {
  PRESERVE_ASSIGN_OR_RETURN(auto page, impl_->store->ListPackages(after, limit));
  std::vector<PackageSummary> out;
  for (const auto& [id, bytes] : page) {
    PRESERVE_ASSIGN_OR_RETURN(PackageRecord r, DecodePackageRecord(bytes));
    PackageSummary summary{r.id, r.created, r.state, {}, r.next_renewal};
    for (const auto& o : r.objects)
      if (o.path.rfind(ingest::kDocumentsDir, 0) == 0) summary.documents.push_back(o.path);
    out.push_back(std::move(summary));
  }
  return out;
}

Result<audit::PackageReport> Archive::Verify(const std::string& package_id, const VerifyOptions& options) {
  PRESERVE_ASSIGN_OR_RETURN(audit::PackageContents contents, Contents(package_id));
  audit::PackageVerifyOptions verify;
  verify.tsa_trust_anchors = impl_->TsaTrustAnchors();
  verify.tsa_trust_source = "the store's local CA (" + CertificateSubject(impl_->ca_certificate) + ")";
  verify.signer_trust_anchors = options.signer_trust_anchors;
  verify.clock = impl_->clock;
  audit::UsePolicy(impl_->policy, verify);
  audit::PackageReport report = audit::VerifyPackage(contents, verify);
  if (report.package_id != package_id) {
    std::string detail = "the manifest names package '" + report.package_id + "'";
    report.steps.push_back({"data", "manifest.json", Verdict::kInvalid, detail});
    report.reasons.push_back("manifest.json: " + detail);
    report.verdict = Verdict::kInvalid;
  }
  report.package_id = package_id;
  return report;
}

Status Archive::Export(const std::string& package_id, const std::filesystem::path& zip_path) {
  PRESERVE_ASSIGN_OR_RETURN(audit::PackageContents contents, Contents(package_id));
  return audit::WritePackageZip(contents, zip_path);
}

}  // namespace preserve::archive

namespace preserve::archive {

const timestamp::AlgorithmCatalogue& Archive::policy() const { return impl_->policy; }

Status Archive::SetPolicy(const std::string& profile_or_file) {
  if (!impl_->tsa) return Status::FailedPrecondition("the store is open read-only");
  PRESERVE_ASSIGN_OR_RETURN(timestamp::AlgorithmCatalogue policy, ResolvePolicy(profile_or_file));
  PRESERVE_RETURN_IF_ERROR(SavePolicy(impl_->root, policy));
  impl_->policy = std::move(policy);
  // Deadlines depend on the policy: recompute every sealed package's, a page at a time.
  std::map<std::string, BatchRecord> batches;
  std::map<std::string, Deadline> deadlines;  // per batch: its token is parsed once, not once per package
  std::string after;
  std::size_t rescheduled = 0;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, impl_->store->ListPackages(after, 10000));
    if (page.empty()) break;
    storage::WriteSet w;
    for (const auto& [id, bytes] : page) {
      after = id;
      PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, DecodePackageRecord(bytes));
      if (record.state != "sealed") continue;
      PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, impl_->LoadSkeleton(id));
      const std::string& last_batch = skeleton.chains.back().back().batch_id;
      auto known = deadlines.find(last_batch);
      if (known == deadlines.end()) {
        PRESERVE_ASSIGN_OR_RETURN(const BatchRecord* last, impl_->LoadBatch(last_batch, batches));
        PRESERVE_ASSIGN_OR_RETURN(Deadline d, impl_->DeadlineOf(*last));
        known = deadlines.emplace(last_batch, std::move(d)).first;
      }
      const Deadline& deadline = known->second;
      if (record.next_renewal == deadline.when) continue;
      if (record.next_renewal) w.Unschedule(*record.next_renewal, id);
      w.Schedule(deadline.when, id);
      record.next_renewal = deadline.when;
      w.PutPackage(id, EncodePackageRecord(record));
      ++rescheduled;
    }
    if (!w.empty()) PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  }
  storage::WriteSet w;
  w.AppendAudit(AuditEvent(*impl_->clock, "policy",
                           {{"policy", impl_->policy.name()}, {"rescheduled", std::to_string(rescheduled)}}));
  return impl_->store->Commit(std::move(w));
}

}  // namespace preserve::archive
