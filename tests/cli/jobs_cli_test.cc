// The scheduled jobs through the real `preserve` command: `jobs show` and
// `jobs run` on a simulated clock (--now), a missed window said to be late,
// a failed seal's exit status, config.json's "jobs" mistakes named, and the
// message a writing command gets while a service holds the store.
#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json.hpp>

#include "preserve/archive/archive.h"
#include "store_cli_fixture.h"

namespace preserve {
namespace {

namespace json = boost::json;
using testing::CommandResult;
using testing::Contains;

constexpr const char* kT0 = "2026-12-01T08:00:00Z";

class JobsCli : public testing::StoreCli {
 protected:
  // The store made on the simulated clock, so that its local CA is valid
  // from the times the tests run the jobs at, whenever they run.
  void SetUp() override {
    CommandResult init = Preserve({"init", "--now", kT0});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  // One package ingested at `now` and left queued for the seal job.
  void IngestQueued(const std::string& now) {
    CommandResult r = Preserve({"ingest", "--no-seal", "--now", now, "--trust", testing::kCliRootCa,
                                testing::SignedFixturePath("letter.p7m")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  json::object ShowJson(const std::string& now) {
    CommandResult r = Preserve({"jobs", "show", "--json", "--now", now});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json::error_code ec;
    json::value v = json::parse(r.out, ec);
    EXPECT_FALSE(ec) << r.out;
    return ec || !v.is_object() ? json::object() : v.as_object();
  }
  static const json::object& Job(const json::object& show, const std::string& name) {
    for (const auto& j : show.at("jobs").as_array())
      if (j.as_object().at("job").as_string() == name) return j.as_object();
    static const json::object none;
    ADD_FAILURE() << "no job " << name;
    return none;
  }
};

TEST_F(JobsCli, ShowAndRunOnASimulatedClock) {
  const std::string t0 = kT0;
  // Never run: each is due now.
  CommandResult show = Preserve({"jobs", "show", "--now", t0});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_TRUE(Contains(show.out, "seal: every 1m; last run never; due now")) << show.out;
  EXPECT_TRUE(Contains(show.out, "renew: every 1d; last run never; due now")) << show.out;
  EXPECT_TRUE(Contains(show.out, "fixity: every 7d (sample 0.01); last run never; due now")) << show.out;
  EXPECT_TRUE(Contains(show.out, "a failed run is tried again after 15m")) << show.out;

  ASSERT_NO_FATAL_FAILURE(IngestQueued(t0));
  CommandResult run = Preserve({"jobs", "run", "--now", t0});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  std::vector<std::string> lines = testing::Lines(run.out);
  ASSERT_EQ(lines.size(), 3u) << run.out;
  EXPECT_EQ(lines[0], "seal: sealed 1 package in 1 batch");
  EXPECT_EQ(lines[1], "renew: renewed 0 in 0 batches; 0 lapsed");
  EXPECT_TRUE(Contains(lines[2], "fixity: ") && Contains(lines[2], " of 1 packages re-read, 0 damaged")) << run.out;
  // Run again at once: nothing is due.
  run = Preserve({"jobs", "run", "--now", t0});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(testing::Lines(run.out), (std::vector<std::string>{"seal: not due (next 2026-12-01T08:01:00Z)",
                                                               "renew: not due (next 2026-12-02T08:00:00Z)",
                                                               "fixity: not due (next 2026-12-08T08:00:00Z)"}))
      << run.out;

  json::object shown = ShowJson("2026-12-01T08:00:30Z");
  const json::object& seal = Job(shown, "seal");
  EXPECT_EQ(seal.at("every").as_string(), "1m");
  EXPECT_EQ(seal.at("every_seconds").as_int64(), 60);
  EXPECT_EQ(seal.at("next_due").as_string(), "2026-12-01T08:01:00Z");
  EXPECT_FALSE(seal.at("due").as_bool());
  EXPECT_EQ(seal.at("last_run").as_object().at("outcome").as_string(), "sealed 1 package in 1 batch");
  EXPECT_EQ(Job(shown, "fixity").at("sample").as_double(), 0.01);
  EXPECT_EQ(shown.at("retry_after_seconds").as_int64(), 900);

  // Ten days later (the timer was off): late, said before and by the run, each job once.
  const std::string t10 = "2026-12-11T08:00:00Z";
  show = Preserve({"jobs", "show", "--now", t10});
  EXPECT_TRUE(Contains(show.out, "renew: every 1d; last run 2026-12-01T08:00:00Z: renewed 0 in 0 batches; 0 "
                                 "lapsed; LATE: due since 2026-12-02T08:00:00Z, 9d ago"))
      << show.out;
  EXPECT_EQ(Job(ShowJson(t10), "renew").at("late_seconds").as_int64(), 9 * 86400);
  run = Preserve({"jobs", "run", "--json", "--now", t10});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  json::value ran = json::parse(run.out);
  const json::array& jobs = ran.at("jobs").as_array();
  ASSERT_EQ(jobs.size(), 3u) << run.out;
  EXPECT_EQ(jobs[1].at("job").as_string(), "renew");
  EXPECT_EQ(jobs[1].at("late_seconds").as_int64(), 9 * 86400);
  // The run's figures, for scripts and for pages in other languages.
  EXPECT_EQ(jobs[1].at("run").at("counts").at("late_seconds").to_number<std::int64_t>(), 9 * 86400) << run.out;
  EXPECT_EQ(jobs[1].at("run").at("counts").at("lapsed").to_number<std::int64_t>(), 0) << run.out;
  EXPECT_TRUE(Contains(std::string(jobs[1].at("run").at("outcome").as_string()), "ran 9d late (a missed window"))
      << run.out;
  CommandResult log = Preserve({"audit-log", "show"});
  EXPECT_TRUE(Contains(log.out, "job  job=renew  ok=true  failed=false")) << log.out;
  EXPECT_TRUE(Contains(log.out, "late=9d  late_seconds=777600")) << log.out;

  // `status` shows the seal's last run too.
  CommandResult status = Preserve({"status", "--now", t10});
  EXPECT_TRUE(Contains(status.out, "last seal: 2026-12-11T08:00:00Z (nothing queued; ran 9d 23h 59m late")) << status.out;
}

TEST_F(JobsCli, AFailedSealExitsNonZeroAndIsRetriedLater) {
  testing::WriteFile(store_ / "config.json",
                     "{\"tsas\": [{\"url\": \"http://127.0.0.1:9/\", \"trust\": \"tsa/ca.pem\", \"retries\": 0}]}\n");
  ASSERT_NO_FATAL_FAILURE(IngestQueued(kT0));
  CommandResult run = Preserve({"jobs", "run", "--now", kT0});
  EXPECT_EQ(run.exit_code, 4) << run.out << run.err;
  EXPECT_TRUE(Contains(run.out, "seal: FAILED: ")) << run.out;
  EXPECT_TRUE(Contains(run.err, "preserve: error: scheduled jobs failed (each is tried again after 15m): seal (")) << run.err;
  CommandResult show = Preserve({"jobs", "show", "--now", kT0});
  EXPECT_TRUE(Contains(show.out, "next due 2026-12-01T08:15:00Z")) << show.out;
  CommandResult status = Preserve({"status", "--now", kT0});
  EXPECT_TRUE(Contains(status.out, ") FAILED")) << status.out;
}

TEST_F(JobsCli, ConfigMistakesInJobsAreNamed) {
  testing::WriteFile(store_ / "config.json", "{\n  \"jobs\": {\n    \"seal_evry\": \"60s\"\n  }\n}\n");
  CommandResult r = Preserve({"jobs", "show"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_TRUE(Contains(r.err, (store_ / "config.json").string() + ": line 3: unknown key \"jobs.seal_evry\""))
      << r.err;

  testing::WriteFile(store_ / "config.json", "{\"jobs\": {\"renew_every\": \"24\"}}\n");
  r = Preserve({"jobs", "run"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_TRUE(Contains(r.err, "line 1: \"jobs.renew_every\" must be a duration: a whole number and a unit")) << r.err;
  EXPECT_TRUE(Contains(r.err, "not \"24\"")) << r.err;
}

TEST_F(JobsCli, WritingCommandsNameTheServiceThatHoldsTheStore) {
  const std::string id = IngestDetached();
  ASSERT_FALSE(id.empty());
  ManualClock clock(ParseUtcTime(kT0).value());
  auto service = archive::Archive::Open(
      store_, clock,
      {.mode = archive::OpenMode::kWritable, .holder = "preserve serve, listening on https://127.0.0.1:8443"});
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  const std::string held = "is held by preserve serve, listening on https://127.0.0.1:8443 (pid " +
                           std::to_string(::getpid()) + "): stop the service, or use its API or web application, to change the store";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"seal"}, {"hold", "add", id, "--reason", "litigation"}, {"jobs", "run"}}) {
    CommandResult r = Preserve(args);
    EXPECT_EQ(r.exit_code, 4) << args[0] << ": " << r.err;
    EXPECT_TRUE(Contains(r.err, held)) << args[0] << ": " << r.err;
  }
  // What only reads runs beside it.
  CommandResult show = Preserve({"jobs", "show"});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(Preserve({"list"}).exit_code, 0);
}

}  // namespace
}  // namespace preserve
