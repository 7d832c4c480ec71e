#include <algorithm>
#include <atomic>

#include <boost/json.hpp>

#include "archive_impl.h"
#include "damage.h"
#include "lifecycle.h"
#include "stored_json.h"
#include "trust.h"
#include "preserve/audit/package_archive.h"
#include "preserve/package/manifest.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"
#include "preserve/util/fault_point.h"

namespace preserve::archive {

namespace json = boost::json;

std::filesystem::path DbDir(const std::filesystem::path& root) { return root / "db"; }
std::filesystem::path TsaDir(const std::filesystem::path& root) { return root / "tsa"; }

Result<std::string> NewId(const Clock& clock) {
  // RFC 9562 6.2 method 1: the 12 rand_a bits count ids within one
  // millisecond, so ids made by one process sort in creation order even when
  // the clock does not move (a simulated clock, or many ids per millisecond).
  static std::atomic<std::uint64_t> last{0};
  auto ms = static_cast<std::uint64_t>(clock.Now().time_since_epoch().count()) * 1000;
  std::uint64_t stamp = last.load();
  std::uint64_t next;
  do {
    next = std::max(ms << 12, stamp + 1);
  } while (!last.compare_exchange_weak(stamp, next));
  std::array<std::uint8_t, 16> b{};
  PRESERVE_RETURN_IF_ERROR(RandomBytes(b));
  std::uint64_t unix_ms = next >> 12;
  for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(unix_ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | ((next >> 8) & 0x0f));
  b[7] = static_cast<std::uint8_t>(next & 0xff);
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));
  std::string hex = ToHex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

Bytes AuditEvent(const Clock& clock, std::string_view type,
                 std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  json::object event{{"event", type}, {"time", FormatUtcTime(clock.Now())}};
  for (const auto& [key, value] : fields) event[key] = value;
  return ToBytes(SerializeForStore(event));
}

Result<PackageRecord> Archive::Impl::LoadRecord(const std::string& id) const {
  PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, store->GetPackage(id));
  return DecodePackageRecord(bytes, *store);
}

Result<EvidenceSkeleton> Archive::Impl::LoadSkeleton(const std::string& id) const {
  auto bytes = store->GetEvidence(id);
  if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound)
    return Status::FailedPrecondition("package " + id + " is not sealed yet (run 'preserve seal')");
  if (!bytes.ok()) return bytes.status();
  return DecodeEvidenceSkeleton(bytes.value());
}

Result<const BatchRecord*> Archive::Impl::LoadBatch(const std::string& batch_id, BatchCache& cache) const {
  {
    std::shared_lock<std::shared_mutex> lock(cache.mutex);
    auto found = cache.records.find(batch_id);
    if (found != cache.records.end()) return &found->second;
  }
  std::lock_guard<std::shared_mutex> lock(cache.mutex);
  auto found = cache.records.find(batch_id);
  if (found != cache.records.end()) return &found->second;
  PRESERVE_ASSIGN_OR_RETURN(Bytes bytes, store->GetBatch(batch_id));
  PRESERVE_ASSIGN_OR_RETURN(BatchRecord batch, DecodeBatchRecord(bytes));
  return &cache.records.emplace(batch_id, std::move(batch)).first->second;
}

namespace {

// Node `index` of `level` of a batch's stored hash tree (records.h).
Result<Bytes> TreeNode(const storage::Store& store, const BatchRecord& batch, std::size_t level, std::size_t index,
                       BatchCache& cache) {
  const std::size_t size = HashAlgorithmSize(batch.hash_algorithm);
  const auto chunk = static_cast<std::uint32_t>(index / kTreeChunkNodes);
  const std::size_t offset = (index % kTreeChunkNodes) * size;
  const std::uint64_t key = (std::uint64_t{static_cast<std::uint32_t>(level)} << 32) | chunk;
  const Bytes* nodes = nullptr;
  {
    std::shared_lock<std::shared_mutex> lock(cache.mutex);
    if (auto tree = cache.tree_chunks.find(batch.id); tree != cache.tree_chunks.end())
      if (auto found = tree->second.find(key); found != tree->second.end()) nodes = &found->second;
  }
  if (nodes == nullptr) {
    // Read outside the lock; a thread that read the same chunk meanwhile keeps its copy.
    PRESERVE_ASSIGN_OR_RETURN(Bytes read, store.GetTreeNodes(batch.id, static_cast<std::uint32_t>(level), chunk));
    std::lock_guard<std::shared_mutex> lock(cache.mutex);
    auto tree = cache.tree_chunks.try_emplace(batch.id).first;
    nodes = &tree->second.try_emplace(key, std::move(read)).first->second;
  }
  if (nodes->size() < offset + size)
    return Status::Corruption("hash tree of batch " + batch.id + ": level " + std::to_string(level) + " has no node " +
                              std::to_string(index));
  return Bytes(nodes->begin() + static_cast<std::ptrdiff_t>(offset),
               nodes->begin() + static_cast<std::ptrdiff_t>(offset + size));
}

}  // namespace

Result<timestamp::EvidenceRecord> Archive::Impl::Assemble(const PackageRecord& package,
                                                          const EvidenceSkeleton& skeleton, BatchCache& cache) const {
  using Members = EvidenceSkeleton::Ats::Members;
  timestamp::EvidenceRecord record;
  record.digest_algorithms = skeleton.digest_algorithms;
  for (const auto& chain : skeleton.chains) {
    timestamp::ArchiveTimeStampChain out;
    for (const auto& ats : chain) {
      PRESERVE_ASSIGN_OR_RETURN(const BatchRecord* batch, LoadBatch(ats.batch_id, cache));
      timestamp::ArchiveTimeStamp a;
      if (ats.leaf) {
        if (*ats.leaf >= batch->leaves)
          return Status::Corruption("evidence of package " + package.id + ": leaf " + std::to_string(*ats.leaf) +
                                    " is outside batch " + batch->id + "'s tree");
        // List 0: the group's member hashes, sorted (rule 4).
        timestamp::PartialHashtree members;
        if (ats.members_source == Members::kStored) {
          members = ats.members;
        } else if (ats.members_source == Members::kDataObjects) {
          PRESERVE_ASSIGN_OR_RETURN(members, DataHashes(package, ats.digest_algorithm));
        } else {  // the tokens of the chain's ATSs before this one (rule 11)
          for (const auto& earlier : out) members.push_back(Digest(ats.digest_algorithm, earlier.time_stamp));
        }
        std::sort(members.begin(), members.end());
        timestamp::ReducedHashtree reduced{std::move(members)};
        // Then the sibling of the leaf's ancestor on each level where it has one.
        std::size_t position = *ats.leaf;
        for (std::size_t count = batch->leaves, level = 0; count > 1; count = (count + 1) / 2, ++level, position /= 2) {
          if ((position ^ 1) >= count) continue;  // promoted: no list
          PRESERVE_ASSIGN_OR_RETURN(Bytes sibling, TreeNode(*store, *batch, level, position ^ 1, cache));
          reduced.push_back({std::move(sibling)});
        }
        a.digest_algorithm = ats.digest_algorithm;
        a.reduced_hashtree = std::move(reduced);
      }
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
  // A deleted package's content is gone; its tombstone kept the digests (lifecycle.h).
  if (record.state == kStateDeleted && alg != kContentHash) return TombstoneHashes(*store, record, alg);
  for (const auto& o : record.objects) {
    if (alg == kContentHash) {
      out.push_back(o.sha256);
      continue;
    }
    PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> digest, DigestContent(o.sha256, {alg}));
    out.push_back(std::move(digest.front()));
  }
  return out;
}

Result<std::vector<Bytes>> Archive::Impl::DigestContent(ByteView sha256, const std::vector<HashAlgorithm>& algs,
                                                        std::uint64_t* size) const {
  std::vector<std::unique_ptr<Hasher>> hashers;
  for (HashAlgorithm alg : algs) hashers.push_back(std::make_unique<Hasher>(alg));
  std::uint64_t read = 0;
  PRESERVE_RETURN_IF_ERROR(store->ReadContent(sha256, [&](ByteView piece) {
    for (auto& h : hashers) h->Update(piece);
    read += piece.size();
    return Status::Ok();
  }));
  if (size != nullptr) *size = read;
  std::vector<Bytes> out;
  for (auto& h : hashers) out.push_back(h->Finish());
  return out;
}

namespace {
// A built-in profile name, else a catalogue file.
Result<policy::AlgorithmCatalogue> ResolvePolicy(const std::string& profile_or_file) {
  const auto& profiles = policy::AlgorithmCatalogue::BuiltinProfiles();
  if (std::find(profiles.begin(), profiles.end(), profile_or_file) != profiles.end())
    return policy::AlgorithmCatalogue::Builtin(profile_or_file);
  return policy::AlgorithmCatalogue::Load(profile_or_file);
}
}  // namespace

Archive::Archive(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Archive::~Archive() = default;

constexpr const char* kInitStagingDir = ".init";

// Init builds the whole store in a staging directory inside `root`, then moves
// its parts into place, the database last: a store exists exactly when db/ does,
// so an init killed at any moment leaves either a whole store or leftovers that
// the next init removes (they are never mistaken for a store).
Status Archive::Init(const std::filesystem::path& root, const InitOptions& options, const Clock& clock) {
  std::error_code ec;
  if (std::filesystem::exists(DbDir(root), ec)) return Status::AlreadyExists("a store already exists at " + root.string());
  bool made_root = !std::filesystem::exists(root, ec);
  const std::filesystem::path staging = root / kInitStagingDir;
  if (std::filesystem::exists(staging, ec)) {
    // An interrupted init: its staging directory goes last, so what it moved
    // into place beside it is its own, and no store.
    for (const auto& leftover : {staging, TsaDir(root), PolicyPath(root), ConfigPath(root)})
      std::filesystem::remove_all(leftover, ec);
  } else if (std::filesystem::exists(TsaDir(root), ec)) {
    // Keys with no database beside them (a store being restored, a volume not
    // mounted): never init over them.
    return Status::AlreadyExists("a TSA key directory exists at " + TsaDir(root).string() + " without a database");
  }
  std::filesystem::create_directories(staging, ec);
  if (ec) return Status::IOError("cannot create " + staging.string() + ": " + ec.message());
  std::vector<std::filesystem::path> published;  // moved into place so far
  auto undo = [&](Status s) {
    std::filesystem::remove_all(staging, ec);
    for (const auto& part : published) std::filesystem::remove_all(part, ec);
    if (made_root) std::filesystem::remove(root, ec);
    return s;
  };
  auto policy = ResolvePolicy(options.policy);
  if (!policy.ok()) return undo(policy.status());
  StoreConfig config;
  config.renewal_margin = options.renewal_margin;
  config.tsa_key = options.tsa.key_type;
  config.tsa_validity_years = options.tsa.tsa_validity_years;
  if (Status s = SavePolicy(staging, policy.value()); !s.ok()) return undo(s);
  if (Status s = SaveStoreConfig(staging, config); !s.ok()) return undo(s);
  if (Status s = timestamp::CreateEmbeddedTsa(TsaDir(staging), options.tsa, clock); !s.ok()) return undo(s);
  {
    auto store = storage::Store::Open(DbDir(staging), {.create_if_missing = true});
    if (!store.ok()) return undo(store.status());
    storage::WriteSet w;
    w.AppendAudit(AuditEvent(clock, "init", {{"producer", kProducer}, {"policy", policy->name()}}));
    auto tsa_certificate = LoadCertificates(TsaDir(staging) / "tsa.pem");
    if (!tsa_certificate.ok()) return undo(tsa_certificate.status());
    w.PutSetting(kActiveTsaSetting, Digest(HashAlgorithm::kSha256, tsa_certificate->front()));
    if (Status s = store.value()->Commit(std::move(w)); !s.ok()) return undo(s);
  }  // closed (and flushed) before it moves
  PRESERVE_FAULT_POINT("init.before_publish");
  for (const auto& [from, to] : {std::pair{PolicyPath(staging), PolicyPath(root)},
                                 {ConfigPath(staging), ConfigPath(root)},
                                 {TsaDir(staging), TsaDir(root)},
                                 {DbDir(staging), DbDir(root)}}) {
    std::filesystem::rename(from, to, ec);
    if (ec) return undo(Status::IOError("cannot move " + from.string() + " to " + to.string() + ": " + ec.message()));
    published.push_back(to);
    PRESERVE_FAULT_POINT("init.publishing");
  }
  if (Status s = SyncDirectory(root); !s.ok()) return s;
  std::filesystem::remove(staging, ec);
  return Status::Ok();
}

Result<std::unique_ptr<Archive>> Archive::Open(const std::filesystem::path& root, bool read_only,
                                               const Clock& clock, const ArchiveOpenOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(DbDir(root), ec))
    return Status::NotFound("no store at " + root.string() + " (make one with 'preserve init --store " +
                            root.string() + "')");
  auto impl = std::make_unique<Impl>();
  impl->root = root;
  impl->clock = &clock;
  PRESERVE_ASSIGN_OR_RETURN(impl->config, LoadStoreConfig(root));
  PRESERVE_ASSIGN_OR_RETURN(impl->policy, LoadPolicy(root));
  if (options.content_chunk_size != 0) impl->content_chunk_size = options.content_chunk_size;
  PRESERVE_ASSIGN_OR_RETURN(impl->store,
                            storage::Store::Open(DbDir(root), {.read_only = read_only,
                                                               .content_chunk_size = impl->content_chunk_size}));
  PRESERVE_ASSIGN_OR_RETURN(auto ca, LoadCertificates(TsaDir(root) / "ca.pem"));
  impl->ca_certificate = ca.front();
  if (!read_only) {
    // An init killed after publishing db/ leaves its emptied staging directory.
    std::filesystem::remove_all(root / kInitStagingDir, ec);
    PRESERVE_ASSIGN_OR_RETURN(impl->tsa, timestamp::EmbeddedTsa::Open(TsaDir(root), clock));
    PRESERVE_RETURN_IF_ERROR(impl->RecordInterruptedTsaRollover());
    if (!impl->config.external_tsas.empty()) {
      PRESERVE_ASSIGN_OR_RETURN(impl->external, timestamp::FailoverTimeStamper::Create(impl->config.external_tsas, clock));
    }
  }
  return std::unique_ptr<Archive>(new Archive(std::move(impl)));
}

const Bytes& Archive::tsa_trust_anchor() const { return impl_->ca_certificate; }

Result<audit::PackageContents> Archive::Contents(const std::string& package_id) {
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

Result<audit::PackageReport> Archive::Verify(const std::string& package_id, const VerifyOptions& options) {
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
    if (record.state == kStateDeleted) {
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
  if (impl_->tsa) {
    storage::WriteSet w;
    w.AppendAudit(AuditEvent(*impl_->clock, "verify",
                             {{"package", package_id},
                              {"verdict", std::string(VerdictName(report.verdict))},
                              {"reason", report.reasons.empty() ? "" : report.reasons.front()}}));
    PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)).WithContext("recording the verification"));
  }
  return report;
}

Status Archive::Export(const std::string& package_id, const std::filesystem::path& zip_path) {
  PRESERVE_ASSIGN_OR_RETURN(PackageRecord record, impl_->LoadRecord(package_id));
  if (record.state == kStateDeleted)
    return DeletedError(*impl_->store, record, "there is nothing to export ('preserve verify' shows what its "
                                               "evidence still proves)");
  PRESERVE_ASSIGN_OR_RETURN(audit::PackageContents contents, Contents(package_id));
  PRESERVE_RETURN_IF_ERROR(audit::WritePackageZip(contents, zip_path));
  if (!impl_->tsa) return Status::Ok();
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

}  // namespace preserve::archive

namespace preserve::archive {

const policy::AlgorithmCatalogue& Archive::policy() const { return impl_->policy; }

Status Archive::SetPolicy(const std::string& profile_or_file) {
  if (!impl_->tsa) return Status::FailedPrecondition("the store is open read-only");
  PRESERVE_ASSIGN_OR_RETURN(policy::AlgorithmCatalogue policy, ResolvePolicy(profile_or_file));
  PRESERVE_RETURN_IF_ERROR(SavePolicy(impl_->root, policy));
  impl_->policy = std::move(policy);
  // Deadlines depend on the policy: recompute every evidence subject's (the
  // sealed packages, a page at a time, and the trail's sealed heads).
  BatchCache batches;
  std::map<std::string, Deadline> deadlines;  // per batch: its token is parsed once, not once per package
  std::size_t rescheduled = 0;
  auto reschedule = [&](const std::string& id, storage::WriteSet& w) -> Status {
    auto loaded = impl_->LoadSkeleton(id);
    if (!loaded.ok() && loaded.status().code() == StatusCode::kFailedPrecondition) return Status::Ok();  // unsealed
    PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, std::move(loaded));
    const std::string& last_batch = skeleton.chains.back().back().batch_id;
    auto known = deadlines.find(last_batch);
    if (known == deadlines.end()) {
      PRESERVE_ASSIGN_OR_RETURN(const BatchRecord* last, impl_->LoadBatch(last_batch, batches));
      PRESERVE_ASSIGN_OR_RETURN(Deadline d, impl_->DeadlineOf(*last));
      known = deadlines.emplace(last_batch, std::move(d)).first;
    }
    const Deadline& deadline = known->second;
    if (skeleton.next_renewal == deadline.when) return Status::Ok();
    w.Unschedule(skeleton.next_renewal, id);
    w.Schedule(deadline.when, id);
    skeleton.next_renewal = deadline.when;
    w.PutEvidence(id, EncodeEvidenceSkeleton(skeleton));
    ++rescheduled;
    return Status::Ok();
  };
  std::string after;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto page, impl_->store->ListPackages(after, 10000));
    if (page.empty()) break;
    storage::WriteSet w;
    for (const auto& [id, bytes] : page) {
      after = id;
      PRESERVE_RETURN_IF_ERROR(reschedule(id, w));
    }
    if (!w.empty()) PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  }
  std::vector<std::string> heads;
  PRESERVE_RETURN_IF_ERROR(impl_->store->ScanBatches([&](std::string_view id, ByteView) {
    heads.push_back(HeadSubjectId(id));
    return true;
  }));
  storage::WriteSet w;
  for (const std::string& id : heads) PRESERVE_RETURN_IF_ERROR(reschedule(id, w));
  w.AppendAudit(AuditEvent(*impl_->clock, "policy",
                           {{"policy", impl_->policy.name()}, {"rescheduled", std::to_string(rescheduled)}}));
  return impl_->store->Commit(std::move(w));
}

}  // namespace preserve::archive
