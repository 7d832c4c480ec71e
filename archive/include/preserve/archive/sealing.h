// Sealing and renewal: queued packages sealed in batches under one RFC 3161
// time-stamp each (an RFC 4998 evidence record per package), evidence renewed
// before what it relies on ends (TSA rollover and the audit trail's anchoring
// included), and new chains for evidence that lapsed. Every change needs an
// archive open for writing (kFailedPrecondition otherwise).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/archive/archive.h"
#include "preserve/timestamp/embedded_tsa.h"

namespace preserve::archive {

// A failover between the external TSAs config.json lists ("tsas"): one that
// was asked and failed, and the one that then gave the batch's token.
// Recorded in the batch's audit event too ("tsa", "tsa_failed").
struct TsaFailover {
  std::string failed;    // the TSA's name: config.json's "name", else its URL
  std::string reason;    // why ("connection refused (after 3 attempts)")
  std::string answered;  // the TSA that answered
};

struct SealOutcome {
  std::string batch_id;
  std::size_t packages = 0;
  TimePoint time;  // the token's genTime
  std::vector<TsaFailover> tsa_failovers;  // empty when the first TSA asked answered
};

enum class RenewalKind {
  kTimeStamp,  // RFC 4998 5.2: a new ATS over the last chain's tokens (TSA key, certificate or signature algorithm ending)
  kHashTree,   // RFC 4998 5.2: a new chain under a stronger hash over the data and the whole sequence
};
std::string_view RenewalKindName(RenewalKind kind);  // "timestamp renewal", "hash-tree renewal"

// One evidence subject due for renewal, and why. Subjects are packages and
// the audit trail's sealed heads (renewed alike, so that the trail's own
// evidence outlives its algorithms too).
struct RenewalItem {
  std::string package_id;  // a package (or version) id, or a head's id (SubjectName says which)
  RenewalKind kind = RenewalKind::kTimeStamp;
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha256;  // of the new ATS
  TimePoint deadline;  // when what the newest time-stamp relies on ends
  std::string reason;  // "the TSA certificate expires 2031-11-27T07:00:00Z"
};

// How people read an evidence subject's id: the package id, or "the audit trail head sealed by batch B".
std::string SubjectName(std::string_view subject_id);

struct RenewalPlan {
  TimePoint now;
  TimePoint horizon;  // now + margin: everything ending before it is renewed now
  std::string tsa_rollover;  // why the embedded TSA must roll over first; empty if it need not
  std::string trail_anchor;  // why the audit trail is anchored under a stronger hash first; empty if it need not
  std::vector<RenewalItem> items;  // renewed in time: their deadline is still ahead
  // Lapsed: their deadline had passed when the run started, so their newest
  // time-stamp stopped protecting them before any newer one covered it.
  // Renewal cannot repair that (a new time-stamp over a lapsed chain proves
  // nothing about the time before it); they are not renewed, and stay listed
  // until RestartLapsedEvidence starts a new chain for them.
  std::vector<RenewalItem> lapsed;
};

struct RenewOptions {
  std::optional<std::chrono::days> margin;  // default: the store's (config.json)
  std::size_t max_batch = 1000000;          // most packages renewed by one time-stamp
};

struct RenewalBatch {
  std::string batch_id;
  RenewalKind kind = RenewalKind::kTimeStamp;
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha256;
  std::size_t packages = 0;  // packages and versions renewed
  TimePoint time;
  std::size_t trail_heads = 0;  // the audit trail's sealed heads renewed with them
  std::vector<TsaFailover> tsa_failovers;  // as SealOutcome's
  // Subjects of a hash-tree renewal not renewed because a data object is
  // absent or no longer matches its SHA-256, or their record cannot be read:
  // one line each ("ID: PATH: why"). Their evidence is unchanged and still
  // due; the batch's audit event names them too.
  std::vector<std::string> left_out;
};

struct RenewalOutcome {
  std::string tsa_rollover;  // what the TSA rollover did, if one was due
  std::string trail_anchor;  // what anchoring the audit trail did, if it was due
  std::vector<RenewalBatch> batches;
  std::vector<RenewalItem> lapsed;  // found lapsed, not renewed (RenewalPlan::lapsed); recorded in a "lapse" event
  // Each batch's new evidence is verified, once committed, as `verify` would
  // (one subject per batch); what did not verify, one line each. Empty when all did.
  std::vector<std::string> self_check_failures;
};

// A new evidence chain started for lapsed subjects (RestartLapsedEvidence).
struct RestartOutcome {
  std::string batch_id;
  std::vector<std::string> subjects;  // in the order given or found
  TimePoint time;                     // the new chains' first time-stamp: existence is proven from then on
  std::vector<TsaFailover> tsa_failovers;  // as SealOutcome's
};

class Sealing {
 public:
  // Works on `archive`, which must outlive it; as cheap to make as a pointer.
  explicit Sealing(Archive& archive);

  // Seals every queued package, at most `max_batch` per time-stamp request.
  // Each batch's evidence is committed in atomic steps of config.json's
  // commit_subjects packages: a failure leaves the packages of the steps not
  // committed queued, and the next seal seals them.
  Result<std::vector<SealOutcome>> Seal(std::size_t max_batch);

  // What Renew would do now, without doing it.
  Result<RenewalPlan> PlanRenewal(const RenewOptions& options);
  // Renews every package (and sealed trail head) whose evidence relies on
  // something ending before now + margin: rolls the embedded TSA over first
  // when its certificate or key algorithm is ending, anchors the audit trail
  // under a stronger hash when its link hash is ending, then one time-stamp
  // per batch, its evidence committed in atomic steps of commit_subjects
  // subjects (killed anywhere and run again, nothing is lost or done twice:
  // a subject whose step was not committed is still due). What had already lapsed when the run
  // started is not renewed but reported (outcome.lapsed) and recorded in a
  // "lapse" audit event; each batch's new evidence is verified once committed.
  Result<RenewalOutcome> Renew(const RenewOptions& options);

  // Starts a new evidence chain, in one batch, for each of `subject_ids`
  // (package or version ids, or heads' ids), or for every lapsed subject when
  // it is empty. Each must have lapsed (kFailedPrecondition otherwise: renewal
  // keeps it). The lapsed evidence is kept beside the new chain, for the
  // record, and verification then says that existence is proven only from the
  // new chain's first time-stamp, and when the earlier one lapsed. Nothing is
  // back-dated. One "evidence-restart" audit event with `reason` and `actor`.
  Result<RestartOutcome> RestartLapsedEvidence(const std::vector<std::string>& subject_ids,
                                               const std::string& reason, const std::string& actor);

  // The store at `root`'s embedded TSA, for serving it (`preserve tsa serve`)
  // without opening the store: its key and certificates only, so it runs
  // beside a writer. Clients verify its tokens with tsa_trust_anchor().
  static Result<std::unique_ptr<timestamp::EmbeddedTsa>> OpenEmbeddedTsa(const std::filesystem::path& root,
                                                                         const Clock& clock);

 private:
  // PlanRenewal's plan; without `item_reasons` the items' reasons are left
  // empty (Renew needs the ids alone, and a reason a million times is 100 MB).
  Result<RenewalPlan> Plan(const RenewOptions& options, bool item_reasons);
  // The subjects due by `horizon`, in schedule order, a window of
  // config.json's commit_subjects at a time, so that a renewal holds what its
  // batch needs, not the whole schedule:
  // `window_done` gets each window's items to renew and those that had
  // lapsed by `now` (moved from as it likes). Its error ends the scan.
  Status ScanDue(TimePoint now, TimePoint horizon, bool item_reasons,
                 const std::function<Status(std::vector<RenewalItem>& items, std::vector<RenewalItem>& lapsed)>&
                     window_done);

  Archive::Impl* impl_;
};

}  // namespace preserve::archive
