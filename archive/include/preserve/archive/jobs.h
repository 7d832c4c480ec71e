// Scheduled jobs: what keeps a store's evidence alive without an operator,
// run by `preserve serve` while it holds the store (and by `preserve jobs
// run` from a timer, for deployments without the service).
//
// Three jobs, each on its own interval from config.json's "jobs" object:
//   seal    time-stamp what is queued (Sealing::Seal)          every 60 s
//   renew   renew what is about to weaken (Sealing::Renew)     daily
//   fixity  re-hash a random sample of content (Maintenance)   weekly, 1%
// A job is due when its interval has passed since its last run as the store
// recorded it ("runs/<job>", what `preserve status` shows), or when it has
// never run. A job that was due long ago (the service was down, the machine
// asleep: a missed window) runs once, at once, and its report and audit event
// say how late it was; it is never run once per missed window, and never
// skipped silently. A failed run is recorded as failed (JobRun::ok false and
// JobRun::failed) and is due again after `retry_after`, not a whole interval;
// a run that did its work and found damage or lapsed evidence has not failed
// (running it sooner would find the same): it is due after its interval.
//
// Every run leaves an audit event: seal's "seal" events, fixity's "fixity"
// event, and a "job" event (job, outcome, ok, due, late) for every renewal
// run and every run that failed or was late. An on-time seal that found
// nothing queued leaves none: an event a minute saying nothing would bury
// the trail; its run is still recorded ("runs/seal", `preserve status`).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "preserve/archive/archive.h"
#include "preserve/archive/catalogue.h"

namespace preserve::archive {

struct JobSchedule {
  std::chrono::seconds seal_every{60};
  std::chrono::seconds renew_every{std::chrono::hours(24)};
  std::chrono::seconds fixity_every{std::chrono::hours(24 * 7)};
  double fixity_sample = 0.01;  // fraction of packages each fixity run re-reads
  std::chrono::seconds retry_after{std::chrono::minutes(15)};
};

struct JobReport {
  std::string job;  // "seal", "renew", "fixity"
  TimePoint due;    // when it became due
  TimePoint started;
  std::chrono::seconds late{0};  // started - due, when more than one interval: a missed window
  JobRun run;                    // the outcome, as recorded
};

// A duration as `preserve jobs show` and the "job" events give it: its parts
// in d, h, m and s (the units config.json's "jobs" takes), largest first,
// those that are zero left out: "1m", "1d 12h", "9d 23h 59m 30s".
std::string FormatJobDuration(std::chrono::seconds d);

class ScheduledJobs {
 public:
  // Works on `archive`, which must outlive it; as cheap to make as a pointer.
  explicit ScheduledJobs(Archive& archive);

  // The jobs, in the order RunDue runs them: "seal", "renew", "fixity".
  static const std::vector<std::string>& Jobs();

  // The schedule in force (config.json's "jobs", else the defaults above).
  const JobSchedule& schedule() const;
  // How often `job` runs (kInvalidArgument for a name not in Jobs()).
  Result<std::chrono::seconds> Interval(const std::string& job) const;
  // How `job` last ran, as the store recorded it; nullopt when it never ran.
  Result<std::optional<JobRun>> LastRun(const std::string& job) const;
  // When `job` is next due by the store's records and the archive's clock:
  // its last run's time plus its interval (plus retry_after when that run
  // failed); now when it never ran.
  Result<TimePoint> NextDue(const std::string& job) const;
  // Runs, in the order seal, renew, fixity, every job due now; returns what
  // ran (nothing when none was due). The archive must be open for writing.
  // Errors are for a store that cannot be written; a job that fails is a
  // report with run.ok false.
  Result<std::vector<JobReport>> RunDue();

 private:
  Archive::Impl& impl() const;
  Archive* archive_;  // the services it runs work on the Archive, not its Impl
};

}  // namespace preserve::archive
