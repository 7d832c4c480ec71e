// Starting a new evidence chain for subjects whose evidence lapsed
// (Sealing::RestartLapsedEvidence). A lapsed chain cannot be repaired: what
// its newest time-stamp relied on ended before a newer one covered it, so
// nothing proves any more that the data existed then. A new chain, sealed now
// over the same data objects, proves existence from now on; the lapsed chain
// is kept beside it, for the record, and verification says both. Nothing is
// back-dated.
#include <algorithm>
#include <set>

#include "archive_impl.h"
#include "preserve/util/fault_point.h"

namespace preserve::archive {

namespace {

constexpr std::size_t kRestartedNamedInEvent = 100;

}  // namespace

// Over 60 lines: one restart batch is one atomic write; its steps in order, each commented.
Result<RestartOutcome> Sealing::RestartLapsedEvidence(const std::vector<std::string>& subject_ids,
                                                      const std::string& reason, const std::string& actor) {
  using Members = EvidenceSkeleton::Ats::Members;
  if (!impl_->writable()) return Status::FailedPrecondition("the store is open read-only");
  if (reason.empty()) return Status::InvalidArgument("a reason is required");
  const TimePoint now = impl_->clock->Now();
  const TimePoint horizon = now + impl_->config.renewal_margin;
  // What lapsed may be the TSA certificate itself: the new chain needs one that holds.
  PRESERVE_RETURN_IF_ERROR(impl_->RollOverTsaIfDue(horizon, false).status());
  PRESERVE_RETURN_IF_ERROR(impl_->EnsureHeadSubjects().status());
  PRESERVE_ASSIGN_OR_RETURN(RenewalPlan plan, PlanRenewal({}));

  // Which subjects: those given, each of which must have lapsed, or every lapsed one.
  std::vector<RenewalItem> targets;
  if (subject_ids.empty()) {
    targets = plan.lapsed;
  } else {
    std::set<std::string> seen;
    for (const std::string& id : subject_ids) {
      if (!seen.insert(id).second) continue;
      auto found = std::find_if(plan.lapsed.begin(), plan.lapsed.end(),
                                [&id](const RenewalItem& item) { return item.package_id == id; });
      if (found != plan.lapsed.end()) {
        targets.push_back(*found);
        continue;
      }
      auto evidence = impl_->store->GetEvidence(id);
      if (!evidence.ok() && evidence.status().code() == StatusCode::kNotFound)
        return Status::NotFound(SubjectName(id) + " has no evidence (no such package, or not sealed yet)");
      PRESERVE_RETURN_IF_ERROR(evidence.status());
      return Status::FailedPrecondition(SubjectName(id) + " has not lapsed: 'preserve renew' keeps its evidence");
    }
  }
  RestartOutcome outcome;
  if (targets.empty()) return outcome;

  // The new chains: one batch over every target's data objects, under the
  // preferred hash, with the trail's head; as a seal makes them.
  PRESERVE_ASSIGN_OR_RETURN(HashAlgorithm alg, impl_->policy.PreferredHash(horizon));
  const std::size_t n = targets.size();
  BatchCache batches;
  std::vector<std::vector<Bytes>> groups(n);
  for (std::size_t i = 0; i < n; ++i) {
    PRESERVE_ASSIGN_OR_RETURN(groups[i], impl_->SubjectDataHashes(targets[i].package_id, alg, batches));
    if (groups[i].empty()) return Status::Corruption(SubjectName(targets[i].package_id) + " has no data object");
  }
  PRESERVE_ASSIGN_OR_RETURN(Archive::Impl::HeadToSeal head, impl_->NextHeadToSeal(alg));
  groups.push_back({head.leaf});
  std::vector<std::vector<Bytes>> members;  // each target's sorted member hashes, stored in its skeleton
  members.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<Bytes> sorted = groups[i];
    std::sort(sorted.begin(), sorted.end());
    members.push_back(std::move(sorted));
  }
  PRESERVE_FAULT_POINT("restart.before_tsa");
  PRESERVE_ASSIGN_OR_RETURN(Archive::Impl::TimeStampedTree stamped,
                            impl_->TimeStampGroups(alg, std::move(groups), n, horizon));
  const timestamp::HashTree& tree = stamped.tree;
  BatchRecord& batch = stamped.batch;
  batch.leaves = tree.has_reduced_trees() ? tree.groups() : 0;
  batch.audit_head = head.head;
  batch.audit_head->leaf = static_cast<std::uint32_t>(tree.LeafPosition(n));

  storage::WriteSet w;
  w.PutBatch(batch.id, EncodeBatchRecord(batch));
  PutTree(w, batch.id, tree);
  std::string named;
  for (std::size_t i = 0; i < n; ++i) {
    const RenewalItem& target = targets[i];
    PRESERVE_ASSIGN_OR_RETURN(EvidenceSkeleton skeleton, impl_->LoadSkeleton(target.package_id));
    EvidenceSkeleton::Lapsed lapsed{std::move(skeleton.digest_algorithms), std::move(skeleton.chains),
                                    target.deadline, target.reason, batch.time, actor, reason};
    const TimePoint previous_renewal = skeleton.next_renewal;
    skeleton.lapsed.push_back(std::move(lapsed));
    skeleton.digest_algorithms = {alg};
    EvidenceSkeleton::Ats ats{alg, batch.id, std::nullopt, Members::kStored, std::move(members[i])};
    if (tree.has_reduced_trees()) ats.leaf = static_cast<std::uint32_t>(tree.LeafPosition(i));
    skeleton.chains = {{std::move(ats)}};
    skeleton.next_renewal = stamped.deadline.when;
    w.PutEvidence(target.package_id, EncodeEvidenceSkeleton(skeleton));
    w.Unschedule(previous_renewal, target.package_id);
    w.Schedule(stamped.deadline.when, target.package_id, batch.id);
    outcome.subjects.push_back(target.package_id);
    if (i < kRestartedNamedInEvent) named += (i == 0 ? "" : " ") + target.package_id;
  }
  impl_->PutSealedHead(w, batch, head, stamped.deadline.when);
  w.AppendAudit(AuditEvent(*impl_->clock, "evidence-restart",
                           {{"batch", batch.id},
                            {"subjects", std::to_string(n)},
                            {"first", named},
                            {"hash", std::string(HashAlgorithmName(alg))},
                            {"token_time", FormatUtcTime(batch.time)},
                            {"audit_head_events", std::to_string(batch.audit_head->events)},
                            {"by", actor},
                            {"reason", reason}},
                           Archive::Impl::TsaAuditFields(stamped.answer)));
  PRESERVE_RETURN_IF_ERROR(impl_->store->Commit(std::move(w)));
  outcome.batch_id = batch.id;
  outcome.time = batch.time;
  outcome.tsa_failovers = std::move(stamped.answer.failovers);
  return outcome;
}

}  // namespace preserve::archive
