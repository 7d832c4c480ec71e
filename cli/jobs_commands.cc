// `preserve jobs show` and `preserve jobs run`: the scheduled jobs (seal,
// renew, fixity; archive/jobs.h) as `preserve serve` runs them, for looking
// at the schedule and for deployments that run them from a timer instead.
// Parse, call the library, print.
#include <iostream>
#include <sstream>

#include <boost/json.hpp>

#include "cli_common.h"
#include "preserve/archive/jobs.h"

namespace preserve::cli {

namespace json = boost::json;

namespace {

// "every 1d", and the sample fixity re-reads.
std::string Every(const std::string& job, std::chrono::seconds interval, const archive::JobSchedule& schedule) {
  std::string out = "every " + archive::FormatJobDuration(interval);
  if (job == "fixity") {
    std::ostringstream sample;  // "0.01", as config.json gives it
    sample << schedule.fixity_sample;
    out += " (sample " + sample.str() + ")";
  }
  return out;
}

std::string RunText(const archive::JobRun& run) {
  return FormatUtcTime(run.time) + (run.failed ? " FAILED: " : run.ok ? ": " : " NOT OK: ") + run.outcome;
}

// Over 60 lines: the option table, then both renderings (text, --json) of each job.
int JobsShow(int argc, char** argv) {
  CommonOptions common;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done = ParseCommand("jobs show", argc, argv, desc, {}, {}, vm,
                               "[--store DIR] [--now TIME] [--json]\n\n"
                               "Each scheduled job (seal, renew, fixity): its interval (config.json's \"jobs\"), its\n"
                               "last run and how it ended, when it is next due, and whether it is late: due more\n"
                               "than one interval ago, a missed window (the service or the timer was not running).\n"
                               "Reads the store only, so it runs beside 'preserve serve'."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kReadOnly, session)) return *failed;
  archive::ScheduledJobs jobs(*session.archive);
  const archive::JobSchedule& schedule = jobs.schedule();
  const TimePoint now = session.clock->Now();
  json::array rows;
  for (const std::string& job : archive::ScheduledJobs::Jobs()) {
    auto interval = jobs.Interval(job);
    if (!interval.ok()) return ExitFor(interval.status());
    auto last = jobs.LastRun(job);
    if (!last.ok()) return ExitFor(last.status());
    auto due = jobs.NextDue(job);
    if (!due.ok()) return ExitFor(due.status());
    const bool is_due = *due <= now;
    const std::chrono::seconds late = now - *due > *interval ? now - *due : std::chrono::seconds(0);
    if (common.json) {
      json::object row{{"job", job},
                       {"every", archive::FormatJobDuration(*interval)},
                       {"every_seconds", interval->count()},
                       {"last_run", JobRunJson(*last)},
                       {"next_due", FormatUtcTime(*due)},
                       {"due", is_due},
                       {"late_seconds", late.count()}};
      if (job == "fixity") row["sample"] = schedule.fixity_sample;
      rows.push_back(std::move(row));
      continue;
    }
    std::cout << job << ": " << Every(job, *interval, schedule) << "; last run "
              << (*last ? RunText(**last) : std::string("never")) << "; ";
    if (late.count() > 0) {
      std::cout << "LATE: due since " << FormatUtcTime(*due) << ", " << archive::FormatJobDuration(late)
                << " ago (a missed window: the next run runs it once)\n";
    } else if (is_due) {
      std::cout << "due now\n";
    } else {
      std::cout << "next due " << FormatUtcTime(*due) << "\n";
    }
  }
  if (common.json) {
    std::cout << json::serialize(json::object{{"now", FormatUtcTime(now)},
                                              {"jobs", std::move(rows)},
                                              {"retry_after", archive::FormatJobDuration(schedule.retry_after)},
                                              {"retry_after_seconds", schedule.retry_after.count()}})
              << "\n";
  } else {
    std::cout << "a failed run is tried again after " << archive::FormatJobDuration(schedule.retry_after) << "\n";
  }
  return kExitOk;
}

// Over 60 lines: the option table, the run, both renderings and the exit code.
int JobsRun(int argc, char** argv) {
  CommonOptions common;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  po::variables_map vm;
  if (auto done = ParseCommand(
          "jobs run", argc, argv, desc, {}, {}, vm,
          "[--store DIR] [--now TIME] [--json]\n\n"
          "Runs, once, each scheduled job that is due now, in the order seal, renew, fixity, as\n"
          "'preserve serve' would; one line per job. For deployments without the service: run it\n"
          "from a timer (packaging/systemd/preserve-jobs.timer). A job due for more than one\n"
          "interval (missed windows) runs once, and its record and audit event say how late.\n"
          "A failed run is recorded and tried again after \"retry_after\". Needs the store for\n"
          "writing: beside 'preserve serve', which runs the jobs itself, it is refused.\n"
          "Exit 0; 4 when a job failed (the TSA unreachable, say); else 5 when renewal found\n"
          "lapsed evidence or a renewal that does not verify; else 1 when fixity found damage."))
    return *done;
  Session session;
  if (auto failed = OpenSession(common, archive::OpenMode::kWritable, session)) return *failed;
  archive::ScheduledJobs jobs(*session.archive);
  auto reports = jobs.RunDue();
  if (!reports.ok()) return ExitFor(reports.status());
  int exit_code = kExitOk;
  // A failure outranks lapsed evidence, which outranks damage.
  auto rank = [](int code) { return code == kExitError ? 3 : code == kExitLapsed ? 2 : code == kExitInvalid ? 1 : 0; };
  auto worse = [&](int code) {
    if (rank(code) > rank(exit_code)) exit_code = code;
  };
  json::array rows;
  std::string failures;  // "seal (why)", for the error line
  for (const std::string& job : archive::ScheduledJobs::Jobs()) {
    const archive::JobReport* report = nullptr;
    for (const auto& r : reports.value())
      if (r.job == job) report = &r;
    if (report == nullptr) {
      auto due = jobs.NextDue(job);
      if (!due.ok()) return ExitFor(due.status());
      if (common.json)
        rows.push_back(json::object{{"job", job}, {"ran", false}, {"next_due", FormatUtcTime(*due)}});
      else
        std::cout << job << ": not due (next " << FormatUtcTime(*due) << ")\n";
      continue;
    }
    const archive::JobRun& run = report->run;
    if (run.failed) {
      worse(kExitError);
      failures += (failures.empty() ? "" : "; ") + job + " (" + run.outcome + ")";
    } else if (!run.ok) {
      worse(job == "renew" ? kExitLapsed : kExitInvalid);
    }
    if (common.json) {
      rows.push_back(json::object{{"job", job},
                                  {"ran", true},
                                  {"due", FormatUtcTime(report->due)},
                                  {"started", FormatUtcTime(report->started)},
                                  {"late_seconds", report->late.count()},
                                  {"run", JobRunJson(run)}});
    } else {
      std::cout << job << ": " << (run.failed ? "FAILED: " : run.ok ? "" : "NOT OK: ") << run.outcome << "\n";
    }
  }
  if (common.json) std::cout << json::serialize(json::object{{"jobs", std::move(rows)}}) << "\n";
  // Said on stderr (and, under --json, as the failure object) as every command's failure is.
  if (!failures.empty()) {
    std::cout.flush();
    return ReportFailure(kExitError, "scheduled jobs failed (each is tried again after " +
                                         archive::FormatJobDuration(jobs.schedule().retry_after) + "): " + failures);
  }
  return exit_code;
}

}  // namespace

json::value JobRunJson(const std::optional<archive::JobRun>& run) {
  if (!run) return nullptr;
  json::object counts;
  for (const auto& [name, value] : run->counts) counts[name] = value;
  return json::object{{"time", FormatUtcTime(run->time)},
                      {"outcome", run->outcome},
                      {"ok", run->ok},
                      {"failed", run->failed},
                      {"counts", std::move(counts)}};
}

int CmdJobs(int argc, char** argv) {
  return Dispatch(argc, argv,
                  "Usage: preserve jobs show [--store DIR] [--now TIME] [--json]\n"
                  "       preserve jobs run [--store DIR] [--now TIME] [--json]\n\n"
                  "The scheduled jobs that keep a store's evidence alive: seal what is queued, renew what\n"
                  "is about to weaken, re-hash a sample of the content (fixity), each on its interval\n"
                  "from config.json's \"jobs\". 'preserve serve' runs them itself; 'jobs run' runs what is\n"
                  "due for deployments without it. Each subcommand takes --help.\n",
                  {{"show", JobsShow}, {"run", JobsRun}});
}

}  // namespace preserve::cli
