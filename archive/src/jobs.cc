// Scheduled jobs (jobs.h): when each is due, running what is due, and the
// record and audit event of every run.
#include "preserve/archive/jobs.h"

#include "archive_impl.h"

namespace preserve::archive {

namespace {

// Packages sealed under one time-stamp, as `preserve seal` seals by default.
constexpr std::size_t kSealBatch = 1000000;

}  // namespace

std::string FormatJobDuration(std::chrono::seconds d) {
  static constexpr std::pair<std::int64_t, char> kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  std::int64_t left = d.count();
  if (left <= 0) return "0s";
  std::string out;
  for (const auto& [size, unit] : kUnits) {
    if (left < size) continue;
    out += (out.empty() ? "" : " ") + std::to_string(left / size) + unit;
    left %= size;
  }
  return out;
}

ScheduledJobs::ScheduledJobs(Archive& archive) : archive_(&archive) {}

Archive::Impl& ScheduledJobs::impl() const { return *archive_->impl_; }

const std::vector<std::string>& ScheduledJobs::Jobs() {
  static const std::vector<std::string> jobs = {"seal", "renew", "fixity"};
  return jobs;
}

const JobSchedule& ScheduledJobs::schedule() const { return impl().config.jobs; }

Result<std::chrono::seconds> ScheduledJobs::Interval(const std::string& job) const {
  const JobSchedule& s = schedule();
  if (job == "seal") return s.seal_every;
  if (job == "renew") return s.renew_every;
  if (job == "fixity") return s.fixity_every;
  return Status::InvalidArgument("no scheduled job '" + job + "' (the jobs are seal, renew and fixity)");
}

Result<std::optional<JobRun>> ScheduledJobs::LastRun(const std::string& job) const {
  PRESERVE_RETURN_IF_ERROR(Interval(job).status());
  return LoadJobRun(*impl().store, job);
}

Result<TimePoint> ScheduledJobs::NextDue(const std::string& job) const {
  PRESERVE_ASSIGN_OR_RETURN(std::chrono::seconds interval, Interval(job));
  PRESERVE_ASSIGN_OR_RETURN(std::optional<JobRun> last, LoadJobRun(*impl().store, job));
  if (!last) return impl().clock->Now();
  return last->time + (last->failed ? schedule().retry_after : interval);
}

namespace {

// Runs `job` once; each records its own run ("runs/JOB") when it does its
// work. The job's error when it failed.
Status RunJob(Archive& archive, const std::string& job, const JobSchedule& schedule) {
  if (job == "seal") return Sealing(archive).Seal(kSealBatch).status();
  if (job == "renew") return Sealing(archive).Renew({}).status();
  return Maintenance(archive).Fixity({.sample = schedule.fixity_sample}, [](const PackageFixity&) {}).status();
}

}  // namespace

Result<std::vector<JobReport>> ScheduledJobs::RunDue() {
  if (!impl().writable()) return Status::FailedPrecondition("the store is open read-only");
  std::vector<JobReport> reports;
  for (const std::string& job : Jobs()) {
    PRESERVE_ASSIGN_OR_RETURN(std::chrono::seconds interval, Interval(job));
    JobReport report;
    report.job = job;
    PRESERVE_ASSIGN_OR_RETURN(report.due, NextDue(job));
    report.started = impl().clock->Now();
    if (report.due > report.started) continue;
    // Within one interval of its due time a run is on schedule (a timer's
    // jitter, a long run before it); beyond, at least one window was missed.
    // Either way it runs once, now: the next window counts from this run.
    if (report.started - report.due > interval) report.late = report.started - report.due;

    const Status ran = RunJob(*archive_, job, schedule());
    if (ran.ok()) {
      PRESERVE_ASSIGN_OR_RETURN(std::optional<JobRun> recorded, LoadJobRun(*impl().store, job));
      if (!recorded) return Status::Internal("the " + job + " job ran but recorded no run");
      report.run = std::move(*recorded);
    } else {
      // A job that fails records nothing of itself.
      report.run = JobRun{impl().clock->Now(), ran.message(), false, true, {}};
    }
    // The "job" event, with the run's record as it then stands: for every
    // failed or late run, and for every renewal (whose own events are per
    // batch: a run that renewed nothing would leave none).
    if (!ran.ok() || report.late.count() > 0 || job == "renew") {
      std::vector<std::pair<std::string, std::string>> late;
      if (report.late.count() > 0) {
        report.run.outcome += "; ran " + FormatJobDuration(report.late) + " late (a missed window, run once)";
        report.run.counts["late_seconds"] = static_cast<std::uint64_t>(report.late.count());
        late = {{"late", FormatJobDuration(report.late)}, {"late_seconds", std::to_string(report.late.count())}};
      }
      storage::WriteSet w;
      PutJobRun(w, job, report.run);
      w.AppendAudit(AuditEvent(*impl().clock, "job",
                               {{"job", job},
                                {"ok", report.run.ok ? "true" : "false"},
                                {"failed", report.run.failed ? "true" : "false"},
                                {"outcome", report.run.outcome},
                                {"due", FormatUtcTime(report.due)},
                                {"started", FormatUtcTime(report.started)}},
                               late));
      PRESERVE_RETURN_IF_ERROR(impl().store->Commit(std::move(w)).WithContext("recording the " + job + " run"));
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace preserve::archive
