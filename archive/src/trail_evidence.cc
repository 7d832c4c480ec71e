// The audit trail's own evidence (trail_evidence.h): sealed heads as
// evidence subjects, the trail's anchor under a stronger hash, and the
// verification of the trail (Maintenance::VerifyAuditLog).
#include "trail_evidence.h"

#include <algorithm>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "archive_impl.h"
#include "preserve/util/fault_point.h"

namespace preserve::archive {

namespace json = boost::json;

namespace {

constexpr std::string_view kAnchorSetting = "audit/anchor";

std::string SealedBy(const BatchRecord& batch) {
  return "batch " + batch.id + " (time-stamped " + FormatUtcTime(batch.time) + ")";
}

// Carries chain value `value` (under `alg`) over one event.
void ChainStep(HashAlgorithm alg, Bytes& value, ByteView event) {
  Hasher hasher(alg);
  hasher.Update(value);
  hasher.Update(event);
  value = hasher.Finish();
}

}  // namespace

std::string SubjectName(std::string_view subject_id) {
  if (IsHeadSubject(subject_id))
    return "the audit trail head sealed by batch " + std::string(HeadBatchId(subject_id));
  return "package " + std::string(subject_id);
}

Result<std::optional<TrailAnchor>> LoadTrailAnchor(const storage::Store& store) {
  auto stored = store.GetSetting(kAnchorSetting);
  if (!stored.ok() && stored.status().code() == StatusCode::kNotFound) return std::optional<TrailAnchor>();
  PRESERVE_RETURN_IF_ERROR(stored.status());
  json::error_code ec;
  json::value parsed = json::parse(ToString(stored.value()), ec);
  auto bad = [] { return Status::Corruption("the audit trail's anchor setting is malformed"); };
  if (ec || !parsed.is_object()) return bad();
  const json::object& o = parsed.as_object();
  const json::value* alg = o.if_contains("alg");
  const json::value* events = o.if_contains("events");
  const json::value* value = o.if_contains("value");
  if (alg == nullptr || !alg->is_string() || events == nullptr || !events->is_number() || value == nullptr ||
      !value->is_string())
    return bad();
  TrailAnchor anchor;
  PRESERVE_ASSIGN_OR_RETURN(anchor.algorithm, HashAlgorithmFromName(std::string(alg->as_string())));
  json::error_code number_ec;
  anchor.events = events->to_number<std::uint64_t>(number_ec);
  if (number_ec) return bad();
  PRESERVE_ASSIGN_OR_RETURN(anchor.value, FromHex(std::string(value->as_string())));
  if (anchor.value.size() != HashAlgorithmSize(anchor.algorithm)) return bad();
  return std::optional<TrailAnchor>(std::move(anchor));
}

void PutTrailAnchor(storage::WriteSet& w, const TrailAnchor& anchor) {
  json::object o{{"alg", HashAlgorithmName(anchor.algorithm)},
                 {"events", anchor.events},
                 {"value", ToHex(anchor.value)}};
  w.PutSetting(kAnchorSetting, ToBytes(json::serialize(o)));
}

Status ExtendTrailAnchor(const storage::Store& store, TrailAnchor& anchor, std::uint64_t events) {
  if (events < anchor.events)
    return Status::Corruption("the audit trail's anchor covers " + std::to_string(anchor.events) +
                              " events, but the trail holds " + std::to_string(events));
  if (events == anchor.events) return Status::Ok();
  std::uint64_t next = anchor.events;
  PRESERVE_RETURN_IF_ERROR(store.ScanAudit(anchor.events, [&](const storage::AuditEntry& entry) {
    if (entry.sequence != next) return false;
    ChainStep(anchor.algorithm, anchor.value, entry.event);
    ++next;
    return next < events;
  }));
  if (next != events)
    return Status::Corruption("the audit trail has no event " + std::to_string(next) +
                              ": its anchor cannot be carried forward");
  anchor.events = events;
  return Status::Ok();
}

EvidenceSkeleton FirstHeadSkeleton(const BatchRecord& batch, TimePoint next_renewal) {
  using Members = EvidenceSkeleton::Ats::Members;
  EvidenceSkeleton skeleton;
  skeleton.next_renewal = next_renewal;
  skeleton.digest_algorithms = {batch.hash_algorithm};
  std::optional<std::uint32_t> leaf;
  if (batch.leaves != 0) leaf = batch.audit_head->leaf;  // 0 leaves: the head was sealed alone, with no tree
  skeleton.chains = {{{batch.hash_algorithm, batch.id, leaf, Members::kStored,
                       {Digest(batch.hash_algorithm, AuditHeadObject(*batch.audit_head))}}}};
  return skeleton;
}

Result<Archive::Impl::HeadToSeal> Archive::Impl::NextHeadToSeal(HashAlgorithm alg) const {
  PRESERVE_ASSIGN_OR_RETURN(storage::AuditChainHead chain, store->AuditHead());
  HeadToSeal sealed;
  sealed.head.events = chain.events;
  sealed.head.hash = std::move(chain.hash);
  PRESERVE_ASSIGN_OR_RETURN(sealed.anchor, LoadTrailAnchor(*store));
  if (sealed.anchor) {
    PRESERVE_RETURN_IF_ERROR(ExtendTrailAnchor(*store, *sealed.anchor, sealed.head.events));
    sealed.head.anchor_algorithm = sealed.anchor->algorithm;
    sealed.head.anchor = sealed.anchor->value;
  }
  sealed.leaf = Digest(alg, AuditHeadObject(sealed.head));
  return sealed;
}

void Archive::Impl::PutSealedHead(storage::WriteSet& w, const BatchRecord& batch, const HeadToSeal& sealed,
                                  TimePoint next_renewal) const {
  const std::string subject = HeadSubjectId(batch.id);
  w.PutEvidence(subject, EncodeEvidenceSkeleton(FirstHeadSkeleton(batch, next_renewal)));
  w.Schedule(next_renewal, subject, batch.id);
  if (sealed.anchor) PutTrailAnchor(w, *sealed.anchor);
}

Result<std::size_t> Archive::Impl::EnsureHeadSubjects() {
  std::vector<BatchRecord> missing;
  Status decoded = Status::Ok();
  PRESERVE_RETURN_IF_ERROR(store->ScanBatches([&](std::string_view id, ByteView bytes) {
    auto batch = DecodeBatchRecord(bytes);
    if (!batch.ok()) {
      decoded = batch.status().WithContext("batch " + std::string(id));
      return false;
    }
    if (!batch->audit_head) return true;
    auto evidence = store->GetEvidence(HeadSubjectId(id));
    if (evidence.ok()) return true;
    if (evidence.status().code() != StatusCode::kNotFound) {
      decoded = evidence.status();
      return false;
    }
    missing.push_back(std::move(batch).value());
    return true;
  }));
  PRESERVE_RETURN_IF_ERROR(decoded);
  if (missing.empty()) return std::size_t{0};
  storage::WriteSet w;
  for (const BatchRecord& batch : missing) {
    PRESERVE_ASSIGN_OR_RETURN(Deadline deadline, DeadlineOf(batch));
    const std::string subject = HeadSubjectId(batch.id);
    w.PutEvidence(subject, EncodeEvidenceSkeleton(FirstHeadSkeleton(batch, deadline.when)));
    w.Schedule(deadline.when, subject, batch.id);
  }
  w.AppendAudit(AuditEvent(*clock, "audit-heads",
                           {{"added", std::to_string(missing.size())},
                            {"reason", "sealed trail heads made evidence subjects, renewed with the packages"}}));
  PRESERVE_RETURN_IF_ERROR(store->Commit(std::move(w)));
  return missing.size();
}

Result<std::string> Archive::Impl::AnchorTrailIfDue(TimePoint horizon, bool dry_run) {
  // What binds heads to events now: the SHA-256 links, and the anchor if any.
  PRESERVE_ASSIGN_OR_RETURN(std::optional<TrailAnchor> anchor, LoadTrailAnchor(*store));
  std::optional<TimePoint> binding_end = policy.HashEnd(HashAlgorithm::kSha256);
  std::string ending = "the trail's SHA-256 links";
  if (anchor) {
    std::optional<TimePoint> anchor_end = policy.HashEnd(anchor->algorithm);
    if (!anchor_end || (binding_end && *anchor_end > *binding_end)) {
      binding_end = anchor_end;
      ending = "its " + std::string(HashAlgorithmName(anchor->algorithm)) + " anchor";
    }
  }
  if (!binding_end || *binding_end > horizon) return std::string();
  PRESERVE_ASSIGN_OR_RETURN(HashAlgorithm alg, policy.PreferredHash(horizon));
  const std::string what = "the audit trail anchored under " + std::string(HashAlgorithmName(alg)) + ", because " +
                           ending + " may not be relied on after " + FormatUtcTime(*binding_end);
  if (dry_run) return "would be " + what;
  TrailAnchor fresh{alg, 0, Bytes(HashAlgorithmSize(alg), 0)};
  PRESERVE_ASSIGN_OR_RETURN(storage::AuditChainHead head, store->AuditHead());
  PRESERVE_RETURN_IF_ERROR(ExtendTrailAnchor(*store, fresh, head.events));
  storage::WriteSet w;
  PutTrailAnchor(w, fresh);
  w.AppendAudit(AuditEvent(*clock, "audit-anchor",
                           {{"hash", std::string(HashAlgorithmName(alg))},
                            {"events", std::to_string(fresh.events)},
                            {"value", ToHex(fresh.value)},
                            {"reason", ending + " may not be relied on after " + FormatUtcTime(*binding_end)}}));
  PRESERVE_RETURN_IF_ERROR(store->Commit(std::move(w)));
  return what;
}

Result<RenewalBatch> Archive::Impl::SealTrailHeadAlone(TimePoint horizon) {
  PRESERVE_ASSIGN_OR_RETURN(HashAlgorithm alg, policy.PreferredHash(horizon));
  PRESERVE_ASSIGN_OR_RETURN(HeadToSeal head, NextHeadToSeal(alg));
  PRESERVE_ASSIGN_OR_RETURN(TimeStampedTree stamped, TimeStampGroups(alg, {{head.leaf}}, 0, horizon));
  BatchRecord& batch = stamped.batch;
  batch.leaves = 0;  // the head alone: no tree (ERS-RULES.md rule 5)
  batch.audit_head = head.head;
  batch.audit_head->leaf = 0;
  storage::WriteSet w;
  w.PutBatch(batch.id, EncodeBatchRecord(batch));
  PutSealedHead(w, batch, head, stamped.deadline.when);
  w.AppendAudit(AuditEvent(*clock, "renew",
                           {{"kind", "audit trail head"},
                            {"batch", batch.id},
                            {"packages", "0"},
                            {"hash", std::string(HashAlgorithmName(alg))},
                            {"root", ToHex(batch.root)},
                            {"token_time", FormatUtcTime(batch.time)},
                            {"audit_head_events", std::to_string(batch.audit_head->events)}},
                           TsaAuditFields(stamped.answer)));
  PRESERVE_RETURN_IF_ERROR(store->Commit(std::move(w)));
  return RenewalBatch{batch.id, RenewalKind::kTimeStamp, alg, 0, batch.time, 1, std::move(stamped.answer.failovers), {}};
}

Status Archive::Impl::CheckHeadSubjects(const std::map<std::string, std::vector<TimePoint>>& schedule,
                                        const std::function<void(std::string)>& problem) const {
  std::set<std::string> subjects;
  Status scanned = Status::Ok();
  PRESERVE_RETURN_IF_ERROR(store->ScanEvidenceIds([&](std::string_view id) {
    if (IsHeadSubject(id)) subjects.insert(std::string(id));
    return true;
  }));
  for (const std::string& subject : subjects) {
    const std::string p = SubjectName(subject) + ": ";
    auto batch_bytes = store->GetBatch(HeadBatchId(subject));
    if (!batch_bytes.ok() && batch_bytes.status().code() != StatusCode::kNotFound) return batch_bytes.status();
    auto batch = batch_bytes.ok() ? DecodeBatchRecord(batch_bytes.value()) : Result<BatchRecord>(batch_bytes.status());
    if (!batch.ok() || !batch->audit_head) {
      problem(p + "its batch is " + (batch.ok() ? "not one that sealed a head" : "not in the store"));
      continue;
    }
    PRESERVE_ASSIGN_OR_RETURN(Bytes stored, store->GetEvidence(subject));
    auto skeleton = DecodeEvidenceSkeleton(stored);
    if (!skeleton.ok() || skeleton->chains.empty() || skeleton->chains.front().empty()) {
      problem(p + "unreadable evidence" + (skeleton.ok() ? std::string() : ": " + skeleton.status().message()));
      continue;
    }
    auto due = schedule.find(subject);
    if (due == schedule.end() || due->second.size() != 1 || due->second.front() != skeleton->next_renewal)
      problem(p + "renewal due " + FormatUtcTime(skeleton->next_renewal) + ", but the schedule has " +
              (due == schedule.end() ? std::string("no entry") : std::to_string(due->second.size()) + " entries"));
  }
  for (const auto& [subject, due] : schedule)
    if (subjects.count(subject) == 0) problem("schedule: an entry for " + SubjectName(subject) + ", which has no evidence");
  return scanned;
}

namespace {

// What a walk of the trail finds besides its chain: the worst verdict and the
// first reason given for it.
class TrailFindings {
 public:
  void Add(Verdict verdict, std::string why) {
    if (verdict == Verdict::kValid) return;
    if (Worse(verdict_, verdict) != verdict_ || reason_.empty()) reason_ = std::move(why);
    verdict_ = Worse(verdict_, verdict);
  }
  void ApplyTo(audit::AuditTrailReport& report) const {
    if (verdict_ == Verdict::kValid || Worse(report.verdict, verdict_) == report.verdict) return;
    report.verdict = verdict_;
    report.reason = reason_;
  }

 private:
  Verdict verdict_ = Verdict::kValid;
  std::string reason_;
};

// The text of a string field of an audit event's JSON; "" when absent.
std::string EventField(const json::object& event, std::string_view key) {
  const json::value* v = event.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A head whose evidence verified: what it says, and what its binding relies on.
struct ProvenHead {
  const BatchRecord* batch;
  TimePoint sealed_at;  // its first time-stamp: the trail held its events then
  // When the strongest hash it names stops binding it to the events (nullopt: no end known).
  std::optional<TimePoint> binding_end;
  std::string binding;  // "SHA-256", or "SHA-256 and SHA-512"
};

}  // namespace

// Over 60 lines: the passes of one walk (batches, heads' evidence, binding, links) share its findings.
Result<audit::AuditTrailReport> Maintenance::VerifyAuditLog() {
  TrailFindings findings;
  const TimePoint now = impl_->clock->Now();
  std::vector<BatchRecord> sealing;  // batches that sealed a head
  std::map<std::string, std::optional<std::uint64_t>> sealed_events;  // every batch id -> its head's event count
  std::vector<BatchRecord> headless;  // made before heads were sealed, or stripped of theirs
  PRESERVE_RETURN_IF_ERROR(impl_->store->ScanBatches([&](std::string_view id, ByteView bytes) {
    auto batch = DecodeBatchRecord(bytes);
    if (!batch.ok()) {
      findings.Add(Verdict::kInvalid, "batch " + std::string(id) + " is unreadable: " + batch.status().message());
      sealed_events[std::string(id)] = std::nullopt;
      return true;
    }
    sealed_events[batch->id] =
        batch->audit_head ? std::optional<std::uint64_t>(batch->audit_head->events) : std::nullopt;
    (batch->audit_head ? sealing : headless).push_back(std::move(batch).value());
    return true;
  }));

  // A batch made after (or with) one that seals a head must seal one too: a
  // headless one then had its head removed from the record.
  std::optional<TimePoint> first_sealing;
  for (const auto& b : sealing)
    if (!first_sealing || b.time < *first_sealing) first_sealing = b.time;
  for (const auto& b : headless) {
    if (first_sealing && b.time >= *first_sealing)
      findings.Add(Verdict::kInvalid, "batch " + b.id + " (time-stamped " + FormatUtcTime(b.time) +
                                          ") seals no audit trail head, though batches before it do: the head "
                                          "was removed from its record");
  }
  if (sealing.empty() && !headless.empty())
    findings.Add(Verdict::kIndeterminate,
                 "none of the store's " + std::to_string(headless.size()) +
                     " time-stamp batches seals the trail's head (made before preserve sealed heads, or the heads "
                     "were removed): an edit whose author chained the trail again would not show; the next seal or "
                     "renewal seals one");

  // Each head's evidence, as a package's: through every renewal since its
  // seal, with everything it relied on valid until covered (or now).
  audit::AuditTrailVerifier verifier;
  BatchCache cache;
  std::vector<ProvenHead> proven;
  std::map<HashAlgorithm, std::map<std::uint64_t, std::vector<const BatchRecord*>>> anchored;  // alg -> events -> heads
  for (const BatchRecord& batch : sealing) {
    const std::string subject = HeadSubjectId(batch.id);
    auto stored = impl_->store->GetEvidence(subject);
    if (!stored.ok() && stored.status().code() != StatusCode::kNotFound) return stored.status();
    // A head sealed before heads were subjects has only its seal (until `renew` adds its subject).
    Result<EvidenceSkeleton> skeleton = stored.ok() ? DecodeEvidenceSkeleton(stored.value())
                                                    : Result<EvidenceSkeleton>(FirstHeadSkeleton(batch, {}));
    auto er = skeleton.ok() ? impl_->AssembleSubject(subject, skeleton.value(), cache)
                            : Result<timestamp::EvidenceRecord>(skeleton.status());
    if (!er.ok()) {
      findings.Add(Verdict::kInvalid, "the evidence of the trail head sealed by " + SealedBy(batch) +
                                          " cannot be read: " + er.status().message());
      continue;
    }
    timestamp::EvidenceReport report = impl_->VerifySubjectEvidence(subject, er.value(), cache);
    if (report.verdict != Verdict::kValid) {
      findings.Add(report.verdict, "the evidence of the trail head sealed by " + SealedBy(batch) +
                                       " does not prove it: " + report.failure);
      continue;
    }
    const BatchRecord::AuditHead& head = *batch.audit_head;
    verifier.ExpectSealedHead({head.events, head.hash, SealedBy(batch)});
    ProvenHead p{&batch, report.first_time.value_or(batch.time), impl_->policy.HashEnd(HashAlgorithm::kSha256),
                 "SHA-256"};
    if (head.anchor_algorithm) {
      anchored[*head.anchor_algorithm][head.events].push_back(&batch);
      std::optional<TimePoint> end = impl_->policy.HashEnd(*head.anchor_algorithm);
      if (!end || (p.binding_end && *end > *p.binding_end)) p.binding_end = end;
      p.binding += " and " + std::string(HashAlgorithmName(*head.anchor_algorithm));
    }
    proven.push_back(p);
  }

  // A head binds its events through the hashes it names only while one of
  // them holds. Once they have all ended, it still binds them if another head
  // covering at least its events, sealed before that end and itself still
  // binding, fixed them under a hash that holds: as RFC 4998 renewal carries
  // a proof on.
  // Heads covering the most events first (and, among equals, those that hold by themselves).
  auto holds_now = [now](const ProvenHead& p) { return !p.binding_end || *p.binding_end > now; };
  std::sort(proven.begin(), proven.end(), [&](const ProvenHead& a, const ProvenHead& b) {
    if (a.batch->audit_head->events != b.batch->audit_head->events)
      return a.batch->audit_head->events > b.batch->audit_head->events;
    return holds_now(a) && !holds_now(b);
  });
  std::optional<TimePoint> earliest_binding_later;  // of the binding heads seen so far (covering as many events)
  for (const ProvenHead& p : proven) {
    const bool holds = holds_now(p);
    const bool carried = earliest_binding_later && p.binding_end && *earliest_binding_later < *p.binding_end;
    if (holds || carried) {
      if (!earliest_binding_later || p.sealed_at < *earliest_binding_later) earliest_binding_later = p.sealed_at;
      continue;
    }
    findings.Add(Verdict::kIndeterminate,
                 "the trail head sealed by " + SealedBy(*p.batch) + " binds its first " +
                     std::to_string(p.batch->audit_head->events) + " events with " + p.binding +
                     ", which may not be relied on after " + FormatUtcTime(*p.binding_end) +
                     ", and no head sealed before then fixes them under a hash that still holds");
  }

  // The walk: the SHA-256 links, every seal and renewal event's batch, and
  // the anchor chains, whose value at each anchored head must be what it names.
  std::map<HashAlgorithm, Bytes> chains;
  for (const auto& [alg, heads] : anchored) chains[alg] = Bytes(HashAlgorithmSize(alg), 0);
  Bytes stored;
  Status scanned = impl_->store->ScanAudit(0, [&](const storage::AuditEntry& entry) {
    stored = entry.previous_hash;
    stored.insert(stored.end(), entry.event.begin(), entry.event.end());
    verifier.Add(entry.sequence, stored);
    for (auto& [alg, value] : chains) {
      ChainStep(alg, value, entry.event);
      const auto& at = anchored[alg];
      if (auto heads = at.find(entry.sequence + 1); heads != at.end())
        for (const BatchRecord* batch : heads->second)
          if (batch->audit_head->anchor != value)
            findings.Add(Verdict::kInvalid, "the trail's first " + std::to_string(entry.sequence + 1) +
                                                " events are not those " + SealedBy(*batch) + " sealed: their " +
                                                std::string(HashAlgorithmName(alg)) + " chain differs");
    }
    // Each seal and renewal names its batch, and the head it sealed: the
    // batch record must still be there, with that head.
    std::string_view text(reinterpret_cast<const char*>(entry.event.data()), entry.event.size());
    if (text.find("\"event\":\"seal\"") == std::string_view::npos &&
        text.find("\"event\":\"renew\"") == std::string_view::npos &&
        text.find("\"event\":\"evidence-restart\"") == std::string_view::npos)
      return true;
    json::error_code ec;
    json::value parsed = json::parse(text, ec);
    if (ec || !parsed.is_object()) return true;  // the chain walk judges the entry
    const std::string batch_id = EventField(parsed.as_object(), "batch");
    const std::string head_events = EventField(parsed.as_object(), "audit_head_events");
    const std::string seq = std::to_string(entry.sequence);
    auto batch = sealed_events.find(batch_id);
    if (batch == sealed_events.end()) {
      findings.Add(Verdict::kInvalid, "event " + seq + " records batch " + batch_id + ", whose record is gone");
    } else if (!head_events.empty() && (!batch->second || std::to_string(*batch->second) != head_events)) {
      findings.Add(Verdict::kInvalid, "event " + seq + " records that batch " + batch_id + " sealed the trail's first " +
                                          head_events + " events, but the batch record no longer says so");
    }
    return true;
  });
  // Damage to the trail's own bytes is a finding about the trail, not a failure to look.
  if (scanned.code() == StatusCode::kCorruption) {
    verifier.Unreadable(scanned.message());
  } else if (!scanned.ok()) {
    return scanned;
  }
  audit::AuditTrailReport report = verifier.Finish();
  findings.ApplyTo(report);
  return report;
}

}  // namespace preserve::archive
