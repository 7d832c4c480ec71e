#include "preserve/archive/archive.h"

#include <algorithm>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "preserve/audit/package_archive.h"
#include "preserve/ingest/manifest.h"
#include "preserve/storage/store.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"
#include "records.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

constexpr const char* kProducer = "preserve 0.1.0";
constexpr HashAlgorithm kSealHash = HashAlgorithm::kSha256;
// Renewal is due this long before the TSA certificate that sealed a package expires.
constexpr auto kRenewalMargin = std::chrono::days(180);

std::filesystem::path DbDir(const std::filesystem::path& root) { return root / "db"; }
std::filesystem::path TsaDir(const std::filesystem::path& root) { return root / "tsa"; }

// A UUIDv7 (RFC 9562): time-ordered, so ids sort by creation and the seal
// queue is served oldest first.
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

// A file name as it will appear inside the package: no directories, nothing
// an extractor could misread.
std::string SafeName(const std::filesystem::path& path) {
  std::string name = path.filename().string();
  for (char& c : name)
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
  if (name.empty() || name == "." || name == "..") name = "unnamed";
  return name;
}

Bytes AuditEvent(const Clock& clock, json::object event) {
  event["time"] = FormatUtcTime(clock.Now());
  return ToBytes(json::serialize(event));
}

}  // namespace

struct Archive::Impl {
  std::filesystem::path root;
  const Clock* clock = nullptr;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<timestamp::EmbeddedTsa> tsa;  // only when open for writing
  Bytes ca_certificate;

  Result<PackageRecord> LoadRecord(const std::string& id) const {
    PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, store->GetPackage(id));
    return DecodePackageRecord(bytes);
  }
  Result<timestamp::EvidenceRecord> AssembleEvidence(const std::string& id, std::vector<Bytes>& tsa_certs) const;
  Result<SealOutcome> SealBatch(const std::vector<std::string>& ids);
};

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
    if (made_root) std::filesystem::remove(root, ec);
    return s;
  };
  if (Status s = timestamp::CreateEmbeddedTsa(TsaDir(root), options.tsa, clock); !s.ok()) return undo(s);
  auto store = storage::Store::Open(DbDir(root), {.create_if_missing = true});
  if (!store.ok()) return undo(store.status());
  storage::WriteSet w;
  w.AppendAudit(AuditEvent(clock, {{"event", "init"}, {"producer", kProducer}}));
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
  PRESERVE_ASSIGN_OR_RETURN(impl->store, storage::Store::Open(DbDir(root), {.read_only = read_only}));
  PRESERVE_ASSIGN_OR_RETURN(auto ca, LoadCertificates(TsaDir(root) / "ca.pem"));
  impl->ca_certificate = ca.front();
  if (!read_only) {
    PRESERVE_ASSIGN_OR_RETURN(impl->tsa, timestamp::EmbeddedTsa::Open(TsaDir(root), clock));
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
    w.AppendAudit(AuditEvent(clock, {{"event", "refused"},
                                     {"input", outcome.input},
                                     {"signature_sha256", ToHex(Digest(kSealHash, signature))},
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
    manifest.objects.push_back({path, role, Digest(kSealHash, bytes), bytes.size()});
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
      std::string path = std::string(ingest::kValidationDir) + ToHex(Digest(kSealHash, cert)).substr(0, 16) + ".cer";
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
    Bytes digest = Digest(kSealHash, bytes);
    PRESERVE_ASSIGN_OR_RETURN(bool present, impl_->store->HasContent(digest));
    if (!present) w.PutContent(digest, bytes);  // identical content is stored once
    record.objects.push_back({path, std::move(digest), bytes.size()});
    return Status::Ok();
  };
  for (const auto& [path, bytes] : objects) PRESERVE_RETURN_IF_ERROR(store_object(path, bytes));
  PRESERVE_RETURN_IF_ERROR(store_object(ingest::kManifestPath, manifest_json));
  w.PutPackage(id, EncodePackageRecord(record));
  w.Enqueue(id);
  w.AppendAudit(AuditEvent(clock, {{"event", "ingest"},
                                   {"package", id},
                                   {"input", outcome.input},
                                   {"manifest_sha256", ToHex(Digest(kSealHash, manifest_json))}}));
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  outcome.accepted = true;
  outcome.package_id = id;
  return outcome;
}

Result<SealOutcome> Archive::Impl::SealBatch(const std::vector<std::string>& ids) {
  std::vector<PackageRecord> records;
  std::vector<std::vector<Bytes>> groups;
  for (const auto& id : ids) {
    PRESERVE_ASSIGN_OR_RETURN(PackageRecord r, LoadRecord(id));
    std::vector<Bytes> members;
    for (const auto& o : r.objects) members.push_back(o.sha256);
    groups.push_back(std::move(members));
    records.push_back(std::move(r));
  }
  PRESERVE_ASSIGN_OR_RETURN(timestamp::HashTree tree, timestamp::BuildHashTree(kSealHash, groups));
  PRESERVE_ASSIGN_OR_RETURN(Bytes token, timestamp::RequestTimeStamp(*tsa, kSealHash, tree.root));
  // Never commit evidence that would not verify: check the token as an auditor will.
  timestamp::TokenVerifyOptions verify;
  verify.trust_anchors = {ca_certificate};
  PRESERVE_ASSIGN_OR_RETURN(timestamp::TokenInfo info, timestamp::VerifyToken(token, kSealHash, tree.root, verify));
  PRESERVE_ASSIGN_OR_RETURN(TimePoint tsa_expiry, CertificateNotAfter(info.tsa_certificate));

  BatchRecord batch;
  PRESERVE_ASSIGN_OR_RETURN(batch.id, NewId(*clock));
  batch.time = info.gen_time;
  batch.hash_algorithm = kSealHash;
  batch.root = tree.root;
  batch.token = std::move(token);
  batch.packages = ids.size();

  storage::WriteSet w;
  w.PutBatch(batch.id, EncodeBatchRecord(batch));
  TimePoint due = tsa_expiry - kRenewalMargin;
  for (std::size_t i = 0; i < records.size(); ++i) {
    EvidenceSkeleton skeleton;
    skeleton.digest_algorithms = {kSealHash};
    skeleton.chains = {{{kSealHash, tree.reduced[i], batch.id}}};
    w.PutEvidence(records[i].id, EncodeEvidenceSkeleton(skeleton));
    records[i].state = "sealed";
    records[i].next_renewal = due;
    w.PutPackage(records[i].id, EncodePackageRecord(records[i]));
    w.Dequeue(records[i].id);
    w.Schedule(due, records[i].id);
  }
  w.AppendAudit(AuditEvent(*clock, {{"event", "seal"},
                                    {"batch", batch.id},
                                    {"packages", batch.packages},
                                    {"root", ToHex(batch.root)},
                                    {"token_time", FormatUtcTime(batch.time)}}));
  PRESERVE_RETURN_IF_ERROR(store->Commit(std::move(w)));
  return SealOutcome{batch.id, batch.packages, batch.time};
}

Result<std::vector<SealOutcome>> Archive::Seal(std::size_t max_batch) {
  if (!impl_->tsa) return Status::FailedPrecondition("the store is open read-only");
  if (max_batch == 0) return Status::InvalidArgument("the batch size must be at least 1");
  std::vector<SealOutcome> outcomes;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto ids, impl_->store->ListQueued(max_batch));
    if (ids.empty()) break;
    PRESERVE_ASSIGN_OR_RETURN(SealOutcome outcome, impl_->SealBatch(ids));
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

Result<timestamp::EvidenceRecord> Archive::Impl::AssembleEvidence(const std::string& id,
                                                                  std::vector<Bytes>& tsa_certs) const {
  auto skeleton_bytes = store->GetEvidence(id);
  if (!skeleton_bytes.ok() && skeleton_bytes.status().code() == StatusCode::kNotFound)
    return Status::FailedPrecondition("package " + id + " is not sealed yet (run 'preserve seal')");
  if (!skeleton_bytes.ok()) return skeleton_bytes.status();
  PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, DecodeEvidenceSkeleton(skeleton_bytes.value()));
  timestamp::EvidenceRecord record;
  record.digest_algorithms = skeleton.digest_algorithms;
  for (const auto& chain : skeleton.chains) {
    timestamp::ArchiveTimeStampChain out;
    for (const auto& ats : chain) {
      PRESERVE_ASSIGN_OR_RETURN(Bytes batch_bytes, store->GetBatch(ats.batch_id));
      PRESERVE_ASSIGN_OR_RETURN(BatchRecord batch, DecodeBatchRecord(batch_bytes));
      PRESERVE_ASSIGN_OR_RETURN(timestamp::TokenInfo info, timestamp::ParseToken(batch.token));
      if (!info.tsa_certificate.empty() &&
          std::find(tsa_certs.begin(), tsa_certs.end(), info.tsa_certificate) == tsa_certs.end())
        tsa_certs.push_back(info.tsa_certificate);
      timestamp::ArchiveTimeStamp a;
      if (ats.reduced_hashtree) a.digest_algorithm = ats.digest_algorithm;
      a.reduced_hashtree = ats.reduced_hashtree;
      a.time_stamp = std::move(batch.token);
      out.push_back(std::move(a));
    }
    record.sequence.push_back(std::move(out));
  }
  return record;
}

Result<audit::PackageContents> Archive::Contents(const std::string& package_id) {
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, impl_->LoadRecord(package_id));
  audit::PackageContents contents;
  for (const auto& o : record.objects) {
    PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, impl_->store->GetContent(o.sha256));
    contents.data.emplace(o.path, std::move(bytes));
  }
  contents.tsa_certificates.push_back(impl_->ca_certificate);
  PRESERVE_ASSIGN_OR_RETURN(timestamp::EvidenceRecord er, impl_->AssembleEvidence(package_id, contents.tsa_certificates));
  PRESERVE_ASSIGN_OR_RETURN(contents.evidence_record, timestamp::EncodeEvidenceRecord(er));
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
  verify.tsa_trust_anchors = {impl_->ca_certificate};
  verify.tsa_trust_source = "the store's local CA (" + CertificateSubject(impl_->ca_certificate) + ")";
  verify.signer_trust_anchors = options.signer_trust_anchors;
  verify.clock = impl_->clock;
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
