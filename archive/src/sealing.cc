// Sealing and renewal: the only code that asks a TSA for tokens and appends
// to evidence. Each batch is one time-stamp request and one atomic write: a
// crash before the write leaves everything as it was (packages still queued,
// renewals still due); after it, the batch is complete.
#include <algorithm>
#include <thread>

#include "archive_impl.h"
#include "preserve/util/certificates.h"

namespace preserve::archive {

namespace {

std::string Until(TimePoint t) { return FormatUtcTime(t); }

// Runs fn(i) for every i in [0, n) over the machine's cores, in contiguous
// slices; returns the first error of the lowest slice. fn must only touch
// slot i of shared output. A batch seals up to a million packages, and the
// per-package work (decoding records, reducing the hash tree, encoding the
// evidence) is independent from package to package.
Status ParallelFor(std::size_t n, const std::function<Status(std::size_t)>& fn) {
  constexpr std::size_t kMinPerThread = 4096;  // below this a thread costs more than it saves
  std::size_t threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 16);
  threads = std::max<std::size_t>(1, std::min(threads, n / kMinPerThread));
  std::vector<Status> status(threads, Status::Ok());
  auto run = [&](std::size_t t) {
    for (std::size_t i = n * t / threads; i < n * (t + 1) / threads; ++i) {
      status[t] = fn(i);
      if (!status[t].ok()) return;
    }
  };
  std::vector<std::thread> workers;
  for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(run, t);
  run(0);
  for (auto& w : workers) w.join();
  for (auto& st : status)
    if (!st.ok()) return st;
  return Status::Ok();
}

}  // namespace

std::string_view RenewalKindName(RenewalKind kind) {
  return kind == RenewalKind::kHashTree ? "hash-tree renewal" : "timestamp renewal";
}

Result<Deadline> Archive::Impl::DeadlineOf(const BatchRecord& batch) const {
  PRESERVE_ASSIGN_OR_RETURN(timestamp::TokenInfo info, timestamp::ParseToken(batch.token));
  PRESERVE_ASSIGN_OR_RETURN(TimePoint cert_end, CertificateNotAfter(info.tsa_certificate));
  Deadline d{cert_end, "the TSA certificate that signed it expires " + Until(cert_end), false};
  auto consider = [&d](std::optional<TimePoint> end, std::string reason, bool hash) {
    // At equal dates a hash-tree renewal wins: it re-seals everything.
    if (end && (*end < d.when || (*end == d.when && hash))) d = {*end, std::move(reason), hash};
  };
  if (auto key = timestamp::SignatureKeyTypeFromName(info.signature_algorithm); key.ok()) {
    consider(policy.SignatureEnd(key.value(), info.signature_key_bits),
             info.signature_algorithm + "-" + std::to_string(info.signature_key_bits) +
                 " signatures may not be used after it",
             false);
  }
  if (auto digest = HashAlgorithmFromName(info.signature_digest); digest.ok()) {
    std::optional<TimePoint> end = policy.HashEnd(digest.value());
    if (end) consider(end, "the token's signature digest " + info.signature_digest + " ends " + Until(*end), false);
  }
  if (std::optional<TimePoint> end = policy.HashEnd(batch.hash_algorithm)) {
    consider(end, "the hash algorithm " + std::string(HashAlgorithmName(batch.hash_algorithm)) + " ends " + Until(*end),
             true);
  }
  if (d.reason.find(" may not be used after it") != std::string::npos) d.reason += " (" + Until(d.when) + ")";
  return d;
}

Result<std::string> Archive::Impl::RollOverTsaIfDue(TimePoint horizon, bool dry_run) {
  using timestamp::TsaKeyType;
  if (external) return std::string();  // the embedded TSA is not used
  auto key_end = [this](TsaKeyType type) {
    auto [key, bits] = timestamp::TsaKeySignature(type);
    return policy.SignatureEnd(key, bits);
  };
  std::string why;
  TimePoint cert_end = tsa->certificate_not_after();
  std::optional<TimePoint> alg_end = key_end(tsa->key_type());
  if (cert_end <= horizon) {
    why = "the TSA certificate expires " + Until(cert_end);
  } else if (alg_end && *alg_end <= horizon) {
    why = std::string("its ") + std::string(timestamp::TsaKeyTypeName(tsa->key_type())) + " key may not be used after " +
          Until(*alg_end);
  }
  if (why.empty()) return std::string();

  // The configured key type while the policy allows it, else the first that lasts.
  std::optional<TsaKeyType> chosen;
  for (TsaKeyType candidate : {config.tsa_key, TsaKeyType::kEcdsaP256, TsaKeyType::kRsa3072, TsaKeyType::kEcdsaP384}) {
    std::optional<TimePoint> end = key_end(candidate);
    if (!end || *end > horizon) {
      chosen = candidate;
      break;
    }
  }
  if (!chosen)
    return Status::FailedPrecondition("the embedded TSA must roll over (" + why +
                                      "), but the policy allows none of its key types beyond " + Until(horizon));
  std::string what = "embedded TSA rolled over to a new " + std::string(timestamp::TsaKeyTypeName(*chosen)) +
                     " key: " + why;
  if (dry_run) return "would roll over to a new " + std::string(timestamp::TsaKeyTypeName(*chosen)) + " key: " + why;
  PRESERVE_RETURN_IF_ERROR(
      timestamp::RollOverEmbeddedTsa(TsaDir(root), *chosen, config.tsa_validity_years, *clock));
  PRESERVE_ASSIGN_OR_RETURN(tsa, timestamp::EmbeddedTsa::Open(TsaDir(root), *clock));
  if (tsa->certificate_not_after() <= horizon)
    return Status::FailedPrecondition("the new TSA certificate expires " + Until(tsa->certificate_not_after()) +
                                      ", within the renewal margin: raise tsa_validity_years in config.json");
  storage::WriteSet w;
  w.AppendAudit(AuditEvent(*clock, "tsa-rollover",
                           {{"key", std::string(timestamp::TsaKeyTypeName(*chosen))},
                            {"reason", why},
                            {"certificate_not_after", Until(tsa->certificate_not_after())}}));
  PRESERVE_RETURN_IF_ERROR(store->Commit(std::move(w)));
  return what;
}

Result<BatchRecord> Archive::Impl::TimeStampBatch(HashAlgorithm alg, const Bytes& tree_root, std::size_t packages) {
  Bytes token;
  timestamp::TokenInfo info;
  if (external) {
    // Checked by the stamper: status, nonce, imprint, policy, signature, TSA path, accuracy.
    PRESERVE_ASSIGN_OR_RETURN(timestamp::TimeStampFromTsa stamped, external->Stamp(alg, tree_root));
    token = std::move(stamped.token);
    info = std::move(stamped.info);
  } else {
    PRESERVE_ASSIGN_OR_RETURN(token, timestamp::RequestTimeStamp(*tsa, alg, tree_root));
    // Never commit evidence that would not verify: check the token as an auditor will.
    timestamp::TokenVerifyOptions verify;
    verify.trust_anchors = {ca_certificate};
    PRESERVE_ASSIGN_OR_RETURN(info, timestamp::VerifyToken(token, alg, tree_root, verify));
  }
  BatchRecord batch;
  PRESERVE_ASSIGN_OR_RETURN(batch.id, NewId(*clock));
  batch.time = info.gen_time;
  batch.hash_algorithm = alg;
  batch.root = tree_root;
  batch.token = std::move(token);
  batch.packages = packages;
  return batch;
}

Result<Archive::Impl::TimeStampedTree> Archive::Impl::TimeStampGroups(HashAlgorithm alg,
                                                                     std::vector<std::vector<Bytes>> groups,
                                                                     TimePoint horizon) {
  const std::size_t packages = groups.size();
  PRESERVE_ASSIGN_OR_RETURN(timestamp::HashTree tree, timestamp::BuildHashTree(alg, groups));
  groups = {};  // the tree keeps what it needs; free the rest before the big write
  PRESERVE_ASSIGN_OR_RETURN(BatchRecord batch, TimeStampBatch(alg, tree.root(), packages));
  PRESERVE_ASSIGN_OR_RETURN(Deadline deadline, DeadlineOf(batch));
  if (deadline.when <= horizon)
    return Status::FailedPrecondition("the new evidence would be due for renewal again at once (" + deadline.reason +
                                      "): check the policy and the TSA");
  return TimeStampedTree{std::move(tree), std::move(batch), std::move(deadline)};
}

Result<SealOutcome> Archive::Impl::SealBatch(const std::vector<std::string>& ids) {
  TimePoint horizon = clock->Now() + config.renewal_margin;
  PRESERVE_ASSIGN_OR_RETURN(HashAlgorithm alg, policy.PreferredHash(horizon));
  std::vector<PackageRecord> records(ids.size());
  std::vector<std::vector<Bytes>> groups(ids.size());
  PRESERVE_RETURN_IF_ERROR(ParallelFor(ids.size(), [&](std::size_t i) -> Status {
    PRESERVE_ASSIGN_OR_RETURN(records[i], LoadRecord(ids[i]));
    PRESERVE_ASSIGN_OR_RETURN(groups[i], DataHashes(records[i], alg));
    return Status::Ok();
  }));
  PRESERVE_ASSIGN_OR_RETURN(TimeStampedTree sealed, TimeStampGroups(alg, std::move(groups), horizon));
  const timestamp::HashTree& tree = sealed.tree;
  const BatchRecord& batch = sealed.batch;
  const Deadline& deadline = sealed.deadline;

  std::vector<Bytes> evidence(records.size());
  std::vector<Bytes> encoded(records.size());
  PRESERVE_RETURN_IF_ERROR(ParallelFor(records.size(), [&](std::size_t i) -> Status {
    EvidenceSkeleton skeleton;
    skeleton.digest_algorithms = {alg};
    skeleton.chains = {{{alg, tree.ReducedFor(i), batch.id}}};
    evidence[i] = EncodeEvidenceSkeleton(skeleton);
    records[i].state = "sealed";
    records[i].next_renewal = deadline.when;
    encoded[i] = EncodePackageRecord(records[i]);
    return Status::Ok();
  }));
  storage::WriteSet w;
  w.PutBatch(batch.id, EncodeBatchRecord(batch));
  for (std::size_t i = 0; i < records.size(); ++i) {
    w.PutEvidence(records[i].id, evidence[i]);
    evidence[i] = {};
    w.PutPackage(records[i].id, encoded[i]);
    encoded[i] = {};
    w.Dequeue(records[i].id);
    w.Schedule(deadline.when, records[i].id);
  }
  w.AppendAudit(AuditEvent(*clock, "seal",
                           {{"batch", batch.id},
                            {"packages", std::to_string(batch.packages)},
                            {"hash", std::string(HashAlgorithmName(alg))},
                            {"root", ToHex(batch.root)},
                            {"token_time", Until(batch.time)}}));
  PRESERVE_RETURN_IF_ERROR(store->Commit(std::move(w)));
  return SealOutcome{batch.id, batch.packages, batch.time};
}

Result<std::vector<SealOutcome>> Archive::Seal(std::size_t max_batch) {
  if (!impl_->tsa) return Status::FailedPrecondition("the store is open read-only");
  if (max_batch == 0) return Status::InvalidArgument("the batch size must be at least 1");
  std::vector<SealOutcome> outcomes;
  PRESERVE_ASSIGN_OR_RETURN(auto first, impl_->store->ListQueued(1));
  if (first.empty()) return outcomes;
  PRESERVE_ASSIGN_OR_RETURN(std::string rollover,
                            impl_->RollOverTsaIfDue(impl_->clock->Now() + impl_->config.renewal_margin, false));
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(auto ids, impl_->store->ListQueued(max_batch));
    if (ids.empty()) break;
    PRESERVE_ASSIGN_OR_RETURN(SealOutcome outcome, impl_->SealBatch(ids));
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

Result<RenewalPlan> Archive::PlanRenewal(const RenewOptions& options) {
  RenewalPlan plan;
  plan.now = impl_->clock->Now();
  plan.horizon = plan.now + options.margin.value_or(impl_->config.renewal_margin);
  if (impl_->tsa) {
    PRESERVE_ASSIGN_OR_RETURN(plan.tsa_rollover, impl_->RollOverTsaIfDue(plan.horizon, true));
  }
  PRESERVE_ASSIGN_OR_RETURN(auto due, impl_->store->ScheduledBefore(plan.horizon, SIZE_MAX));
  std::map<std::string, BatchRecord> batches;
  // A batch's deadline parses its token: worked out once per batch, not per package.
  std::map<std::string, Deadline> deadlines;
  for (const auto& entry : due) {
    PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, impl_->LoadSkeleton(entry.package_id));
    const EvidenceSkeleton::Ats& last = skeleton.chains.back().back();
    PRESERVE_ASSIGN_OR_RETURN(const BatchRecord* batch, impl_->LoadBatch(last.batch_id, batches));
    auto known = deadlines.find(last.batch_id);
    if (known == deadlines.end()) {
      PRESERVE_ASSIGN_OR_RETURN(Deadline d, impl_->DeadlineOf(*batch));
      known = deadlines.emplace(last.batch_id, std::move(d)).first;
    }
    const Deadline& deadline = known->second;
    RenewalItem item{entry.package_id, RenewalKind::kTimeStamp, batch->hash_algorithm, deadline.when,
                     deadline.reason};
    // The chain's hash ending before the horizon calls for a hash-tree renewal
    // even when something else (an expiring TSA certificate) ends first: a
    // timestamp renewal under that hash would be due again at once.
    std::optional<TimePoint> hash_end = impl_->policy.HashEnd(batch->hash_algorithm);
    if (deadline.hash_ends || (hash_end && *hash_end <= plan.horizon)) {
      item.kind = RenewalKind::kHashTree;
      PRESERVE_ASSIGN_OR_RETURN(item.hash_algorithm, impl_->policy.PreferredHash(plan.horizon));
      if (!deadline.hash_ends) item.reason += ", and " + std::string(HashAlgorithmName(batch->hash_algorithm)) +
                                              " ends " + Until(*hash_end);
    }
    plan.items.push_back(std::move(item));
  }
  return plan;
}

Result<RenewalBatch> Archive::Impl::RenewBatch(RenewalKind kind, HashAlgorithm alg,
                                               const std::vector<RenewalItem>& items, TimePoint horizon) {
  std::vector<PackageRecord> records(items.size());
  std::vector<EvidenceSkeleton> skeletons(items.size());
  PRESERVE_RETURN_IF_ERROR(ParallelFor(items.size(), [&](std::size_t i) -> Status {
    PRESERVE_ASSIGN_OR_RETURN(records[i], LoadRecord(items[i].package_id));
    PRESERVE_ASSIGN_OR_RETURN(skeletons[i], LoadSkeleton(items[i].package_id));
    return Status::Ok();
  }));
  // Every batch the skeletons name is loaded here, so the parallel Assemble
  // below only reads the cache.
  std::map<std::string, BatchRecord> batches;
  for (const auto& skeleton : skeletons)
    for (const auto& chain : skeleton.chains)
      for (const auto& ats : chain) PRESERVE_RETURN_IF_ERROR(LoadBatch(ats.batch_id, batches).status());
  std::vector<std::vector<Bytes>> groups(items.size());
  PRESERVE_RETURN_IF_ERROR(ParallelFor(items.size(), [&](std::size_t i) -> Status {
    PRESERVE_ASSIGN_OR_RETURN(timestamp::EvidenceRecord er, Assemble(skeletons[i], batches));
    if (kind == RenewalKind::kTimeStamp) {
      PRESERVE_ASSIGN_OR_RETURN(groups[i], timestamp::TimeStampRenewalGroup(er));
    } else {
      PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> data, DataHashes(records[i], alg));
      PRESERVE_ASSIGN_OR_RETURN(groups[i], timestamp::HashTreeRenewalGroup(er, alg, data));
    }
    return Status::Ok();
  }));
  PRESERVE_ASSIGN_OR_RETURN(TimeStampedTree renewed, TimeStampGroups(alg, std::move(groups), horizon));
  const timestamp::HashTree& tree = renewed.tree;
  const BatchRecord& batch = renewed.batch;
  const Deadline& deadline = renewed.deadline;

  std::vector<Bytes> evidence(records.size());
  std::vector<Bytes> encoded(records.size());
  std::vector<std::optional<TimePoint>> previous_renewal(records.size());
  PRESERVE_RETURN_IF_ERROR(ParallelFor(records.size(), [&](std::size_t i) -> Status {
    EvidenceSkeleton& skeleton = skeletons[i];
    EvidenceSkeleton::Ats ats{alg, tree.ReducedFor(i), batch.id};
    if (kind == RenewalKind::kTimeStamp) {
      skeleton.chains.back().push_back(std::move(ats));
    } else {
      skeleton.chains.push_back({std::move(ats)});
      if (std::find(skeleton.digest_algorithms.begin(), skeleton.digest_algorithms.end(), alg) ==
          skeleton.digest_algorithms.end())
        skeleton.digest_algorithms.push_back(alg);
    }
    evidence[i] = EncodeEvidenceSkeleton(skeleton);
    skeleton = {};
    previous_renewal[i] = records[i].next_renewal;
    records[i].next_renewal = deadline.when;
    encoded[i] = EncodePackageRecord(records[i]);
    return Status::Ok();
  }));
  storage::WriteSet w;
  w.PutBatch(batch.id, EncodeBatchRecord(batch));
  for (std::size_t i = 0; i < records.size(); ++i) {
    w.PutEvidence(records[i].id, evidence[i]);
    evidence[i] = {};
    if (previous_renewal[i]) w.Unschedule(*previous_renewal[i], records[i].id);
    w.Schedule(deadline.when, records[i].id);
    w.PutPackage(records[i].id, encoded[i]);
    encoded[i] = {};
  }
  w.AppendAudit(AuditEvent(*clock, "renew",
                           {{"kind", std::string(RenewalKindName(kind))},
                            {"batch", batch.id},
                            {"packages", std::to_string(batch.packages)},
                            {"hash", std::string(HashAlgorithmName(alg))},
                            {"root", ToHex(batch.root)},
                            {"token_time", Until(batch.time)}}));
  PRESERVE_RETURN_IF_ERROR(store->Commit(std::move(w)));
  return RenewalBatch{batch.id, kind, alg, batch.packages, batch.time};
}

Result<RenewalOutcome> Archive::Renew(const RenewOptions& options) {
  if (!impl_->tsa) return Status::FailedPrecondition("the store is open read-only");
  if (options.max_batch == 0) return Status::InvalidArgument("the batch size must be at least 1");
  RenewalOutcome outcome;
  TimePoint horizon = impl_->clock->Now() + options.margin.value_or(impl_->config.renewal_margin);
  PRESERVE_ASSIGN_OR_RETURN(outcome.tsa_rollover, impl_->RollOverTsaIfDue(horizon, false));
  PRESERVE_ASSIGN_OR_RETURN(RenewalPlan plan, PlanRenewal(options));
  // One time-stamp per (kind, hash algorithm) and per max_batch packages.
  std::map<std::pair<RenewalKind, HashAlgorithm>, std::vector<RenewalItem>> by_kind;
  for (auto& item : plan.items) by_kind[{item.kind, item.hash_algorithm}].push_back(std::move(item));
  for (const auto& [key, items] : by_kind) {
    for (std::size_t start = 0; start < items.size(); start += options.max_batch) {
      std::size_t end = std::min(items.size(), start + options.max_batch);
      std::vector<RenewalItem> chunk(items.begin() + static_cast<std::ptrdiff_t>(start),
                                     items.begin() + static_cast<std::ptrdiff_t>(end));
      PRESERVE_ASSIGN_OR_RETURN(RenewalBatch batch, impl_->RenewBatch(key.first, key.second, chunk, plan.horizon));
      outcome.batches.push_back(std::move(batch));
    }
  }
  return outcome;
}

}  // namespace preserve::archive
