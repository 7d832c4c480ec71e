// The scheduled jobs (archive/jobs.h) on a real store and a clock the test
// moves: each job due on its own interval under two schedules, nothing due
// right after a run, a missed window run once and said to be late, a failed
// seal (an unreachable TSA) recorded and retried after retry_after, and
// twenty years of renewal runs that keep every holding valid.
#include <gtest/gtest.h>

#include <algorithm>

#include "preserve/archive/archive.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/jobs.h"
#include "preserve/archive/maintenance.h"
#include "preserve/archive/verification.h"
#include "preserve/audit/package_archive.h"
#include "archive_fixture.h"

namespace preserve::archive {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::At;
using testing::AuditEventsOfType;

// The jobs a run ran, in order.
std::vector<std::string> Ran(const std::vector<JobReport>& reports) {
  std::vector<std::string> out;
  for (const auto& r : reports) out.push_back(r.job);
  return out;
}

const JobReport* Find(const std::vector<JobReport>& reports, const std::string& job) {
  for (const auto& r : reports)
    if (r.job == job) return &r;
  return nullptr;
}

class Jobs : public testing::ArchiveTest {
 protected:
  // config.json as `text`, then the store opened again to read it.
  void Configure(const std::string& text) {
    testing::WriteFile(root_ / "config.json", text);
    Reopen();
  }

  std::vector<JobReport> RunDue() {
    auto reports = ScheduledJobs(*archive_).RunDue();
    EXPECT_TRUE(reports.ok()) << FormatUtcTime(clock_.Now()) << ": " << reports.status().ToString();
    return reports.ok() ? std::move(reports).value() : std::vector<JobReport>{};
  }

  std::size_t Queued() {
    auto status = Catalogue(*archive_).Overview(0);
    EXPECT_TRUE(status.ok()) << status.status().ToString();
    return status.ok() ? status->queued : 0;
  }
};

// Two schedules: the defaults, and a tighter one from config.json.
struct Schedule {
  const char* name;
  const char* config;  // config.json; "" for none
  seconds seal, renew, fixity;
};

class JobsOnSchedule : public Jobs, public ::testing::WithParamInterface<Schedule> {};

TEST_P(JobsOnSchedule, EachJobIsDueOnItsIntervalAndNothingRightAfterARun) {
  const Schedule& s = GetParam();
  ASSERT_NO_FATAL_FAILURE(InitAndOpen({}));
  if (*s.config != '\0') {
    ASSERT_NO_FATAL_FAILURE(Configure(s.config));
  }
  ScheduledJobs jobs(*archive_);
  EXPECT_EQ(jobs.schedule().seal_every, s.seal);
  EXPECT_EQ(jobs.schedule().renew_every, s.renew);
  EXPECT_EQ(jobs.schedule().fixity_every, s.fixity);
  ASSERT_FALSE(Ingest("letter.p7m").empty());

  // Never run: each is due at once, and runs, in order; the package is sealed.
  const TimePoint start = clock_.Now();
  std::vector<JobReport> first = RunDue();
  EXPECT_EQ(Ran(first), (std::vector<std::string>{"seal", "renew", "fixity"}));
  for (const auto& r : first) {
    EXPECT_EQ(r.late, seconds(0)) << r.job;
    EXPECT_TRUE(r.run.ok) << r.job << ": " << r.run.outcome;
  }
  EXPECT_EQ(first[0].run.outcome, "sealed 1 package in 1 batch");
  // The figures behind the words, as stored (what the web application words in its own language).
  using Counts = std::map<std::string, std::uint64_t>;
  EXPECT_EQ(first[0].run.counts, (Counts{{"packages", 1}, {"batches", 1}}));
  const JobReport* fixity_run = Find(first, "fixity");
  ASSERT_NE(fixity_run, nullptr);
  ASSERT_EQ(fixity_run->run.counts.size(), 3u);
  const std::uint64_t checked = fixity_run->run.counts.at("checked");  // how many the schedule's sample takes
  EXPECT_EQ(fixity_run->run.counts, (Counts{{"checked", checked}, {"packages", 1}, {"damaged", 0}}));
  EXPECT_EQ(fixity_run->run.outcome, std::to_string(checked) + " of 1 packages re-read, 0 damaged");
  const JobReport* renew_run = Find(first, "renew");
  ASSERT_NE(renew_run, nullptr);
  EXPECT_EQ(renew_run->run.counts,
            (Counts{{"renewed", 0}, {"batches", 0}, {"lapsed", 0}, {"not_verified", 0}, {"left_out", 0}}));
  EXPECT_EQ(Queued(), 0u);
  EXPECT_TRUE(RunDue().empty());  // nothing is due right after
  EXPECT_EQ(jobs.NextDue("seal").value(), start + s.seal);
  EXPECT_EQ(jobs.NextDue("renew").value(), start + s.renew);
  EXPECT_EQ(jobs.NextDue("fixity").value(), start + s.fixity);

  // Seal: not a second early, then alone and on time.
  clock_.Advance(s.seal - seconds(1));
  EXPECT_TRUE(RunDue().empty());
  clock_.Advance(seconds(1));
  std::vector<JobReport> seal = RunDue();
  EXPECT_EQ(Ran(seal), std::vector<std::string>{"seal"});
  EXPECT_EQ(seal[0].late, seconds(0));
  EXPECT_EQ(seal[0].run.outcome, "nothing queued");
  EXPECT_TRUE(RunDue().empty());

  // Renewal on its interval, step by step for two fixity intervals: each
  // step renews once (on time), fixity on its own interval; the seal, due
  // every step since long ago, runs once each time and is said to be late.
  clock_.Set(start);
  int fixity_runs = 0;
  const long steps = 2 * (s.fixity / s.renew);
  for (long step = 1; step <= steps; ++step) {
    clock_.Set(start + step * s.renew);
    std::vector<JobReport> ran = RunDue();
    ASSERT_TRUE(Find(ran, "renew") != nullptr) << "step " << step;
    EXPECT_EQ(Find(ran, "renew")->late, seconds(0)) << "step " << step;
    ASSERT_TRUE(Find(ran, "seal") != nullptr) << "step " << step;
    EXPECT_GT(Find(ran, "seal")->late, seconds(0)) << "step " << step;
    EXPECT_EQ(Find(ran, "seal")->run.counts.at("late_seconds"), Find(ran, "seal")->late.count()) << "step " << step;
    if (const JobReport* fixity = Find(ran, "fixity")) {
      ++fixity_runs;
      EXPECT_EQ(fixity->late, seconds(0));
      EXPECT_EQ(clock_.Now() - start, fixity_runs * s.fixity);
    }
    EXPECT_TRUE(RunDue().empty()) << "step " << step;
  }
  EXPECT_EQ(fixity_runs, 2);
  // Every renewal run left a "job" event, the first included.
  const std::vector<std::string> events = AuditEventsOfType(*archive_, "job");
  EXPECT_EQ(std::count_if(events.begin(), events.end(),
                          [](const std::string& e) { return e.find("\"job\":\"renew\"") != std::string::npos; }),
            steps + 1);
}

INSTANTIATE_TEST_SUITE_P(
    Schedules, JobsOnSchedule,
    ::testing::Values(Schedule{"defaults", "", seconds(60), hours(24), days(7)},
                      Schedule{"tight",
                               "{\"jobs\": {\"seal_every\": \"10s\", \"renew_every\": \"6h\", \"fixity_every\": \"1d\","
                               " \"fixity_sample\": 1, \"retry_after\": \"5m\"}}\n",
                               seconds(10), hours(6), days(1)}),
    [](const ::testing::TestParamInfo<Schedule>& param) { return std::string(param.param.name); });

TEST_F(Jobs, AMissedWindowRunsOnceAndSaysHowLate) {
  ASSERT_NO_FATAL_FAILURE(InitAndOpen({}));
  ASSERT_EQ(RunDue().size(), 3u);
  const TimePoint last = clock_.Now();

  // The service was down for ten days: each job runs once, not once per window.
  clock_.Advance(days(10));
  ASSERT_FALSE(Ingest("letter.p7m").empty());
  std::vector<JobReport> ran = RunDue();
  EXPECT_EQ(Ran(ran), (std::vector<std::string>{"seal", "renew", "fixity"}));
  EXPECT_EQ(Find(ran, "seal")->due, last + minutes(1));
  EXPECT_EQ(Find(ran, "seal")->late, days(10) - minutes(1));
  EXPECT_EQ(Find(ran, "renew")->late, days(9));
  // Fixity was due three days ago: within its weekly interval, on schedule.
  EXPECT_EQ(Find(ran, "fixity")->late, seconds(0));
  EXPECT_EQ(Queued(), 0u);
  EXPECT_TRUE(RunDue().empty());

  // The record (what `preserve status` shows) and the audit trail say it.
  auto seal = ScheduledJobs(*archive_).LastRun("seal");
  ASSERT_TRUE(seal.ok() && seal->has_value());
  EXPECT_EQ((*seal)->outcome, "sealed 1 package in 1 batch; ran 9d 23h 59m late (a missed window, run once)");
  EXPECT_TRUE((*seal)->ok);
  std::vector<std::string> events = AuditEventsOfType(*archive_, "job");
  auto late_event = [&](const std::string& job, const std::string& late) {
    return std::any_of(events.begin(), events.end(), [&](const std::string& e) {
      return e.find("\"job\":\"" + job + "\"") != std::string::npos &&
             e.find("\"late\":\"" + late + "\"") != std::string::npos;
    });
  };
  EXPECT_TRUE(late_event("seal", "9d 23h 59m")) << events.size();
  EXPECT_TRUE(late_event("renew", "9d"));
  auto status = Catalogue(*archive_).Overview(5);
  ASSERT_TRUE(status.ok());
  ASSERT_TRUE(status->last_seal.has_value());
  EXPECT_EQ(status->last_seal->time, clock_.Now());
}

TEST_F(Jobs, AFailedSealIsRecordedAndRetriedAfterRetryAfter) {
  ASSERT_NO_FATAL_FAILURE(InitAndOpen({}));
  // An external TSA on a port nobody listens on: sealing fails.
  ASSERT_NO_FATAL_FAILURE(Configure(
      "{\"tsas\": [{\"url\": \"http://127.0.0.1:9/\", \"trust\": \"tsa/ca.pem\", \"retries\": 0, "
      "\"timeout_ms\": 5000}], \"jobs\": {\"retry_after\": \"15m\"}}\n"));
  ASSERT_FALSE(Ingest("letter.p7m").empty());
  std::vector<JobReport> ran = RunDue();
  ASSERT_EQ(Ran(ran), (std::vector<std::string>{"seal", "renew", "fixity"}));
  const JobRun& failed = ran[0].run;
  EXPECT_FALSE(failed.ok);
  EXPECT_TRUE(failed.failed);
  EXPECT_NE(failed.outcome.find("127.0.0.1:9"), std::string::npos) << failed.outcome;
  EXPECT_TRUE(ran[1].run.ok && !ran[1].run.failed) << ran[1].run.outcome;  // renewal had nothing to time-stamp
  EXPECT_EQ(Queued(), 1u);
  ScheduledJobs jobs(*archive_);
  EXPECT_EQ(jobs.NextDue("seal").value(), clock_.Now() + minutes(15));  // not the 60 s interval
  auto recorded = jobs.LastRun("seal");
  ASSERT_TRUE(recorded.ok() && recorded->has_value());
  EXPECT_TRUE((*recorded)->failed);
  std::vector<std::string> events = AuditEventsOfType(*archive_, "job");
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const std::string& e) {
    return e.find("\"job\":\"seal\"") != std::string::npos && e.find("\"failed\":\"true\"") != std::string::npos;
  }));

  // Retried after retry_after, not before; still failing while the TSA is.
  clock_.Advance(minutes(14));
  EXPECT_TRUE(RunDue().empty());
  clock_.Advance(minutes(1));
  ran = RunDue();
  ASSERT_EQ(Ran(ran), std::vector<std::string>{"seal"});
  EXPECT_TRUE(ran[0].run.failed);

  // With the TSA configuration fixed (the embedded TSA), the retry seals.
  ASSERT_NO_FATAL_FAILURE(Configure("{\"jobs\": {\"retry_after\": \"15m\"}}\n"));
  clock_.Advance(minutes(15));
  ran = RunDue();
  ASSERT_EQ(Ran(ran), std::vector<std::string>{"seal"});
  EXPECT_TRUE(ran[0].run.ok && !ran[0].run.failed) << ran[0].run.outcome;
  EXPECT_EQ(ran[0].run.outcome, "sealed 1 package in 1 batch");
  EXPECT_EQ(Queued(), 0u);
  EXPECT_EQ(ScheduledJobs(*archive_).NextDue("seal").value(), clock_.Now() + minutes(1));
}

TEST_F(Jobs, NeedTheStoreForWritingButShowItsScheduleReadOnly) {
  ASSERT_NO_FATAL_FAILURE(InitAndOpen({}));
  ASSERT_EQ(RunDue().size(), 3u);
  auto reader = Archive::Open(root_, clock_, {.mode = OpenMode::kReadOnly});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ScheduledJobs jobs(**reader);
  EXPECT_EQ(jobs.RunDue().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(jobs.NextDue("renew").value(), clock_.Now() + hours(24));
  EXPECT_EQ(jobs.NextDue("nightly").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(Jobs, TwentyYearsOfScheduledRenewalsKeepEveryHoldingValid) {
  // The policy retires RSA-2048 in 2030 and SHA-256 in 2040; the embedded TSA
  // starts on RSA-2048 with certificates of six years (renewal_test.cc).
  InitOptions options = SimulationOptions();
  options.tsa.key_type = timestamp::TsaKeyType::kRsa2048;
  options.tsa.tsa_validity_years = 6;
  ASSERT_NO_FATAL_FAILURE(InitAndOpen(options));
  std::vector<std::string> ids = {Ingest("letter.txt.p7s", "letter.txt"), Ingest("letter.p7m")};
  ASSERT_EQ(RunDue().size(), 3u);
  // The service runs once a year here (each run late by months): the
  // renewal margin (400 days) still covers it, and each run renews once.
  for (int year = 2027; year <= 2046; ++year) {
    clock_.Set(At(std::to_string(year) + "-06-01T08:00:00Z"));
    if (year == 2033) ids.push_back(Ingest("letter-ec.txt.p7s", "letter.txt"));  // joins midway
    std::vector<JobReport> ran = RunDue();
    ASSERT_EQ(Ran(ran), (std::vector<std::string>{"seal", "renew", "fixity"})) << year;
    const JobReport* renew = Find(ran, "renew");
    EXPECT_TRUE(renew->run.ok) << year << ": " << renew->run.outcome;
    EXPECT_GT(renew->late, days(150)) << year;  // half a year the first time, then a year
    EXPECT_TRUE(RunDue().empty()) << year;
    if (year % 10 == 0) Reopen();
  }
  for (const auto& id : ids) {
    auto report = Verification(*archive_).Verify(id, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(report.value());
  }
  auto trail = Maintenance(*archive_).VerifyAuditLog();
  ASSERT_TRUE(trail.ok());
  EXPECT_EQ(trail->verdict, Verdict::kValid) << trail->reason;
  auto check = Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
}

}  // namespace
}  // namespace preserve::archive
