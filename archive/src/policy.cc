// The algorithm policy in force: replacing it reschedules every evidence
// subject, since renewal deadlines follow from the policy.
#include "archive_impl.h"

namespace preserve::archive {

Status Catalogue::SetPolicy(const std::string& profile_or_file) {
  if (!impl_->writable()) return Status::FailedPrecondition("the store is open read-only");
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
    w.Schedule(deadline.when, id, last_batch);
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
