// Crash tests: ingest, seal and renew run as the real `preserve` command and
// are killed with SIGKILL, at a random moment or at a named fault point
// (preserve/util/fault_point.h). Then the store must be whole: `check` finds
// nothing wrong, every package id that ingest printed (acknowledged) is there,
// a follow-up seal and renew complete, `check` and `audit-log verify` still
// pass, every package is sealed, and the new ones verify VALID.
//
// A trial, on a store shared by kTrialsPerStore trials:
//   child:    ingest --no-seal (three documents) @ t; seal @ t; renew @ t + 200 days
//             (the store commits a batch's evidence two packages at a time:
//             config.json's commit_subjects)
//   recovery: check; seal @ t + 200 days; renew; check; audit-log verify; list; verify
// The store's TSA certificates last one year and renewal starts 180 days ahead,
// so every renew rolls the TSA over and renews every package in the store, and
// the next trial starts one day after it (simulated time only moves forward).
//
// Reproducible: each shard logs its seed. PRESERVE_CRASH_SEED sets the seed
// and PRESERVE_CRASH_TRIALS the trials per shard (scripts/crash-soak.sh).
// Random kill moments depend on timing, so a seed repeats the choices, not
// always the exact kill instruction; a failing store is kept for inspection.
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "preserve/util/clock.h"
#include "testing.h"

namespace preserve {
namespace {

using std::chrono::microseconds;

constexpr int kShards = 4;                // ctest runs them in parallel
constexpr int kDefaultTrialsPerShard = 50;  // 200 in the suite
constexpr int kTrialsPerStore = 25;       // a new store (init) every so many trials
constexpr int kKilled = 128 + SIGKILL;

enum class Step { kIngest, kSeal, kRenew };
constexpr Step kSteps[] = {Step::kIngest, Step::kSeal, Step::kRenew};

const char* StepName(Step step) {
  switch (step) {
    case Step::kIngest: return "ingest";
    case Step::kSeal: return "seal";
    case Step::kRenew: return "renew";
  }
  return "?";
}

// The named points trials arm, each in the environment of one step only (a
// hit count "name:N" counts within that one process). Trials take them in
// turn. A point the code does not have (yet) is never hit: its trials run to
// their end and the summary shows it as armed but never hit. Adding a point
// to the code and a line here is all it takes to crash there.
struct ArmedPoint {
  Step step;
  const char* point;
};
const ArmedPoint kFaultPoints[] = {
    // archive/src/ingest.cc: a trial's three documents are one group, one commit.
    {Step::kIngest, "ingest.before_commit"},
    {Step::kIngest, "ingest.after_commit"},
    // cli/ingest_command.cc: an id printed, so acknowledged.
    {Step::kIngest, "cli.ingest.after_ack"},
    {Step::kIngest, "cli.ingest.after_ack:2"},
    {Step::kIngest, "cli.ingest.after_ack:3"},
    // archive/src/sealing.cc: sealing.
    {Step::kSeal, "seal.before_tsa"},
    {Step::kSeal, "seal.after_tsa"},
    {Step::kSeal, "seal.after_tree"},
    {Step::kSeal, "seal.between_commits"},
    {Step::kSeal, "seal.after_commit"},
    // archive/src/sealing.cc: the TSA rollover every renew here starts with, then the renewal.
    {Step::kRenew, "tsa.rollover.before_audit"},
    // timestamp/src/embedded_tsa.cc, RollOverEmbeddedTsa.
    {Step::kRenew, "tsa.rollover.after_new_files"},
    {Step::kRenew, "tsa.rollover.after_key_switch"},
    {Step::kRenew, "renew.before_tsa"},
    {Step::kRenew, "renew.after_tsa"},
    {Step::kRenew, "renew.after_tree"},
    {Step::kRenew, "renew.between_commits"},
    {Step::kRenew, "renew.between_commits:3"},
    {Step::kRenew, "renew.after_commit"},
    // storage/src/store.cc, Store::Commit: ingest and seal commit once; renew commits the
    // rollover's audit event, then the renewal.
    {Step::kIngest, "store.commit.before_write"},
    {Step::kIngest, "store.commit.after_write"},
    {Step::kSeal, "store.commit.before_write"},
    {Step::kSeal, "store.commit.after_write"},
    {Step::kRenew, "store.commit.after_write"},
    {Step::kRenew, "store.commit.before_write:2"},
    {Step::kRenew, "store.commit.after_write:2"},
};
constexpr std::size_t kFaultPointCount = std::size(kFaultPoints);

const std::filesystem::path kFixtures = testing::SourceDir() / "tests" / "fixtures";
const std::string kRootCa = (kFixtures / "pki" / "root-ca.pem").string();

// ---- A child process that may be killed ----

using testing::CommandResult;

// Runs argv (no shell) with the inherited environment less every PRESERVE_*
// variable, plus `env`; sends SIGKILL `kill_after` after the spawn, if given.
// A soak run started with PRESERVE_FAULT_POINT or PRESERVE_NOW set must not leak them into every child.
CommandResult RunIsolated(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          std::optional<microseconds> kill_after = std::nullopt) {
  return testing::Run(argv, env, {.drop_inherited_preserve_env = true, .kill_after = kill_after});
}

// The package ids ingest printed: whole lines only, since a kill may cut one short.
std::vector<std::string> AcknowledgedIds(const std::string& out) {
  std::vector<std::string> ids;
  std::size_t begin = 0;
  for (std::size_t end = out.find('\n'); end != std::string::npos; begin = end + 1, end = out.find('\n', begin)) {
    std::string line = out.substr(begin, end - begin);
    if (line.size() == 36 && line[8] == '-' && line[13] == '-') ids.push_back(line);
  }
  return ids;
}

// The signed documents a trial ingests: two detached signatures (RSA and ECDSA
// signers, the same letter, so their content is stored once) and one
// enveloping. Copied so the ECDSA signature has a document named after it.
std::vector<std::string> MakeDocuments(const std::filesystem::path& dir) {
  const std::filesystem::path signed_dir = kFixtures / "signed";
  std::filesystem::create_directories(dir);
  const std::vector<std::pair<std::string, std::string>> copies = {
      {"letter.txt", "letter.txt"},       {"letter.txt.p7s", "letter.txt.p7s"}, {"letter.txt", "letter-ec.txt"},
      {"letter-ec.txt.p7s", "letter-ec.txt.p7s"}, {"letter.p7m", "letter.p7m"}};
  for (const auto& [from, to] : copies)
    std::filesystem::copy_file(signed_dir / from, dir / to, std::filesystem::copy_options::overwrite_existing);
  return {(dir / "letter.txt").string(), (dir / "letter.txt.p7s").string(), (dir / "letter-ec.txt").string(),
          (dir / "letter-ec.txt.p7s").string(), (dir / "letter.p7m").string()};
}

// ---- The trials ----

struct Summary {
  int trials = 0;
  int stores = 0;
  int crashed_at_point = 0;
  int crashed_at_random = 0;
  int ran_to_end = 0;
  std::size_t acknowledged = 0;
  std::size_t verified = 0;
  std::map<std::string, std::pair<int, int>> points;  // "step point" -> (armed, hit)
  std::map<std::string, int> random_kills;           // step -> kills
};

class CrashTrials : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    const char* seed = std::getenv("PRESERVE_CRASH_SEED");
    base_seed_ = seed != nullptr ? std::strtoull(seed, nullptr, 10) : std::random_device{}();
    seed_ = base_seed_ + static_cast<std::uint64_t>(GetParam());
    rng_.seed(seed_);
    const char* trials = std::getenv("PRESERVE_CRASH_TRIALS");
    trials_ = trials != nullptr ? std::atoi(trials) : kDefaultTrialsPerShard;
    std::cout << "crash_test shard " << GetParam() << ": seed " << seed_ << " (repeat with PRESERVE_CRASH_SEED="
              << base_seed_ << ")\n";
    documents_ = MakeDocuments(dir_ / "documents");
    // Simulated time starts tomorrow: after the fixtures were signed, before their certificates end.
    start_ = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) + std::chrono::days(1);
  }

  CommandResult Preserve(std::vector<std::string> args, TimePoint now, const std::string& fault_point = {},
                         std::optional<microseconds> kill_after = std::nullopt) {
    args.insert(args.begin(), PRESERVE_BIN);
    std::vector<std::string> env = {"PRESERVE_STORE=" + store_.string(), "PRESERVE_NOW=" + FormatUtcTime(now)};
    if (!fault_point.empty()) env.push_back("PRESERVE_FAULT_POINT=" + fault_point);
    return RunIsolated(args, env, kill_after);
  }

  void NewStore(TimePoint now) {
    std::error_code ec;
    std::filesystem::remove_all(store_, ec);
    CommandResult init = Preserve({"init", "--tsa-validity-years", "1"}, now);
    ASSERT_EQ(init.exit_code, 0) << init.err;
    // Two packages per commit: a trial's seal (three packages) and every renew
    // (all of the store's) commit their batch in several steps, and crash between them.
    const std::filesystem::path config = store_ / "config.json";
    const Bytes bytes = testing::ReadFileOrDie(config);
    std::string text(bytes.begin(), bytes.end());
    ASSERT_NE(text.rfind('}'), std::string::npos) << text;
    text.insert(text.rfind('}'), ", \"commit_subjects\": 2");
    testing::WriteFile(config, text);
    acknowledged_.clear();
    known_.clear();
    ++summary_.stores;
  }

  std::vector<std::string> StepArgs(Step step) const {
    if (step != Step::kIngest) return {StepName(step)};
    std::vector<std::string> args = {"ingest", "--ids-only", "--allow-duplicate", "--no-seal", "--trust", kRootCa};
    args.insert(args.end(), documents_.begin(), documents_.end());
    return args;
  }

  // id -> state, from `preserve list`.
  std::map<std::string, std::string> List(TimePoint now) {
    CommandResult r = Preserve({"list", "--limit", "1000000"}, now);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::string> out;
    std::istringstream lines(r.out);
    std::string id, created, state, rest;
    while (lines >> id >> created >> state && std::getline(lines, rest)) out[id] = state;
    return out;
  }

  // On failure: keep the store and say where, so the crash can be looked at.
  void KeepStore(const std::string& what) {
    std::filesystem::path kept = testing::BinaryDir() / "test-tmp" /
                                 ("crash-failure-seed" + std::to_string(seed_) + "-trial" + std::to_string(trial_));
    std::error_code ec;
    std::filesystem::remove_all(kept, ec);
    std::filesystem::copy(store_, kept, std::filesystem::copy_options::recursive, ec);
    ADD_FAILURE() << what << "\n  store kept at " << kept.string();
  }

  // Runs the child steps of trial `trial_`, killing at `point` or after `kill_after`.
  void RunChild(TimePoint t, TimePoint renew_at, const ArmedPoint* point, std::optional<microseconds> kill_after) {
    for (Step step : kSteps) {
      const bool armed = point != nullptr && point->step == step;
      CommandResult r =
          Preserve(StepArgs(step), step == Step::kRenew ? renew_at : t, armed ? point->point : "", kill_after);
      if (step == Step::kIngest)
        for (const auto& id : AcknowledgedIds(r.out))
          if (acknowledged_.insert(id).second) ++summary_.acknowledged;
      if (r.term_signal == SIGKILL && (armed || r.kill_timer_fired)) {
        if (r.kill_timer_fired) {
          ++summary_.crashed_at_random;
          ++summary_.random_kills[StepName(step)];
        } else {
          ++summary_.crashed_at_point;
          ++summary_.points[std::string(StepName(step)) + " " + point->point].second;
        }
        return;
      }
      ASSERT_EQ(r.exit_code, 0) << StepName(step) << " failed without being killed: " << r.out << r.err;
      estimate_[step] = (estimate_[step] * 3 + r.elapsed) / 4;
      if (kill_after) kill_after = std::max(microseconds(0), *kill_after - r.elapsed);
    }
    ++summary_.ran_to_end;
  }

  // After a crash: the store is consistent and holds every acknowledged package;
  // a follow-up seal and renew make it current; the new packages verify.
  void Recover(TimePoint now) {
    CommandResult check = Preserve({"check"}, now);
    if (check.exit_code != 0) return KeepStore("check after the crash: " + check.out + check.err);
    for (const char* step : {"seal", "renew"}) {
      CommandResult r = Preserve({step}, now);
      if (r.exit_code != 0) return KeepStore(std::string("follow-up ") + step + ": " + r.out + r.err);
    }
    check = Preserve({"check"}, now);
    if (check.exit_code != 0) return KeepStore("check after seal and renew: " + check.out + check.err);
    CommandResult audit = Preserve({"audit-log", "verify"}, now);
    if (audit.exit_code != 0) return KeepStore("audit-log verify: " + audit.out + audit.err);
    // Each TSA rollover retires one certificate and appends one event: none may go unrecorded.
    CommandResult events = Preserve({"audit-log", "show"}, now);
    std::size_t rollovers = 0;
    for (std::size_t at = events.out.find("  tsa-rollover  "); at != std::string::npos;
         at = events.out.find("  tsa-rollover  ", at + 1))
      ++rollovers;
    std::error_code ec;
    std::size_t retired = 0;
    for (std::filesystem::directory_iterator it(store_ / "tsa" / "retired", ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".pem") ++retired;  // not an interrupted write's leftover
    if (rollovers != retired)
      return KeepStore("the audit trail records " + std::to_string(rollovers) + " TSA rollovers, but " +
                       std::to_string(retired) + " TSA certificates were retired");

    std::map<std::string, std::string> packages = List(now);
    for (const auto& id : acknowledged_)
      if (packages.count(id) == 0) return KeepStore("acknowledged package " + id + " is lost");
    std::vector<std::string> to_verify;
    for (const auto& [id, state] : packages) {
      if (state != "sealed") return KeepStore("package " + id + " is " + state + " after seal and renew");
      if (known_.insert(id).second) to_verify.push_back(id);  // new in this trial, acknowledged or not
    }
    // And one older package, which this trial's renewal extended.
    if (known_.size() > to_verify.size()) {
      auto older = known_.begin();
      std::advance(older, static_cast<std::ptrdiff_t>(rng_() % known_.size()));
      to_verify.push_back(*older);
    }
    for (const auto& id : to_verify) {
      CommandResult v = Preserve({"verify", id}, now);
      if (v.exit_code != 0 || v.out.find(": VALID") == std::string::npos)
        return KeepStore("verify " + id + ": " + v.out + v.err);
      ++summary_.verified;
    }
  }

  void PrintSummary() const {
    std::ostringstream s;
    s << "crash_test shard " << GetParam() << " summary: seed " << seed_ << ", " << summary_.trials << " trials on "
      << summary_.stores << " stores, crashed " << summary_.crashed_at_point + summary_.crashed_at_random << " ("
      << summary_.crashed_at_point << " at fault points, " << summary_.crashed_at_random << " at random moments), "
      << summary_.ran_to_end << " ran to the end; " << summary_.acknowledged << " packages acknowledged, none lost; "
      << summary_.verified << " verifications VALID\n  random kills by step:";
    for (const auto& [step, n] : summary_.random_kills) s << " " << step << " " << n;
    s << "\n  fault points (armed/hit):";
    for (const auto& [point, counts] : summary_.points) s << "\n    " << point << " " << counts.first << "/" << counts.second;
    std::cout << s.str() << std::endl;
  }

  testing::TempDir dir_;
  std::filesystem::path store_ = dir_ / "store";
  std::vector<std::string> documents_;
  std::uint64_t base_seed_ = 0;
  std::uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  int trials_ = 0;
  int trial_ = 0;
  TimePoint start_;
  std::set<std::string> acknowledged_;  // every id ingest printed, since the store was made
  std::set<std::string> known_;         // every package seen after a trial
  std::map<Step, microseconds> estimate_ = {
      {Step::kIngest, microseconds(300000)}, {Step::kSeal, microseconds(300000)}, {Step::kRenew, microseconds(300000)}};
  Summary summary_;
};

TEST_P(CrashTrials, NothingAcknowledgedIsLostAndTheStoreStaysWhole) {
  // Simulated days per trial: a renew 200 days after the ingest, the next trial a day later.
  constexpr std::chrono::days kRenewAfter{200}, kTrialStep{201};
  TimePoint t = start_;
  std::size_t next_point = static_cast<std::size_t>(GetParam()) * kFaultPointCount / static_cast<std::size_t>(kShards);
  for (trial_ = 0; trial_ < trials_; ++trial_) {
    if (trial_ % kTrialsPerStore == 0) {
      t = start_;
      ASSERT_NO_FATAL_FAILURE(NewStore(t));
    }
    const TimePoint renew_at = t + kRenewAfter;
    const ArmedPoint* point = nullptr;
    std::optional<microseconds> kill_after;
    std::ostringstream where;
    where << "seed " << seed_ << ", trial " << trial_ << ": ";
    if (rng_() % 2 == 0) {
      point = &kFaultPoints[next_point++ % kFaultPointCount];
      ++summary_.points[std::string(StepName(point->step)) + " " + point->point].first;
      where << "fault point " << point->point << " in " << StepName(point->step);
    } else {
      microseconds total{0};
      for (const auto& [step, estimate] : estimate_) total += estimate;
      kill_after = microseconds(static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(total.count())));
      where << "SIGKILL " << kill_after->count() << " us after the first spawn";
    }
    SCOPED_TRACE(where.str());
    ++summary_.trials;
    ASSERT_NO_FATAL_FAILURE(RunChild(t, renew_at, point, kill_after));
    Recover(renew_at);
    if (HasFailure()) break;
    t += kTrialStep;
  }
  PrintSummary();
  // The ingest points exist, so a run of this length crashes: a harness that never crashes proves nothing.
  EXPECT_GT(summary_.crashed_at_point + summary_.crashed_at_random, 0);
}

INSTANTIATE_TEST_SUITE_P(Shards, CrashTrials, ::testing::Range(0, kShards));

// ---- The fault point mechanism itself ----

class FaultPoint : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult init = Run({"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }
  CommandResult Run(std::vector<std::string> args, const std::string& fault_point = {}) {
    args.insert(args.begin(), PRESERVE_BIN);
    std::vector<std::string> env = {"PRESERVE_STORE=" + store_.string()};
    if (!fault_point.empty()) env.push_back("PRESERVE_FAULT_POINT=" + fault_point);
    return RunIsolated(args, env);
  }
  CommandResult Ingest(const std::string& fault_point) {
    std::vector<std::string> args = {"ingest", "--ids-only", "--allow-duplicate", "--no-seal", "--trust", kRootCa};
    args.insert(args.end(), documents_.begin(), documents_.end());
    return Run(args, fault_point);
  }
  std::size_t Packages() {
    CommandResult list = Run({"list"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    return static_cast<std::size_t>(std::count(list.out.begin(), list.out.end(), '\n'));
  }

  testing::TempDir dir_;
  std::filesystem::path store_ = dir_ / "store";
  std::vector<std::string> documents_ = MakeDocuments(dir_ / "documents");
};

TEST_F(FaultPoint, KillsAtTheNamedHit) {
  CommandResult r = Ingest("cli.ingest.after_ack:2");
  EXPECT_EQ(r.exit_code, kKilled) << r.out << r.err;
  EXPECT_EQ(AcknowledgedIds(r.out).size(), 2u) << r.out;  // each id is out before the next step
  EXPECT_EQ(Packages(), 3u);                               // the third is durable, but unacknowledged
  EXPECT_EQ(Run({"check"}).exit_code, 0);
}

TEST_F(FaultPoint, KillsBeforeAndAfterTheCommit) {
  CommandResult before = Ingest("ingest.before_commit");
  EXPECT_EQ(before.exit_code, kKilled) << before.out << before.err;
  EXPECT_EQ(Packages(), 0u);
  CommandResult after = Ingest("ingest.after_commit");
  EXPECT_EQ(after.exit_code, kKilled) << after.out << after.err;
  EXPECT_TRUE(AcknowledgedIds(after.out).empty()) << after.out;
  EXPECT_EQ(Packages(), 3u);
  EXPECT_EQ(Run({"check"}).exit_code, 0);
}

// A seal commits its batch's tree before the batch: killed in between, it
// leaves a tree no batch names. `check` counts it (harmless: the store is
// consistent), `gc` erases it, with an audit event, and the packages are
// sealed by the next seal all the same.
TEST_F(FaultPoint, ATreeLeftByAKilledSealIsCountedByCheckAndErasedByGc) {
  CommandResult ingest = Ingest("");
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  const std::vector<std::string> ids = AcknowledgedIds(ingest.out);
  ASSERT_EQ(ids.size(), 3u) << ingest.out;
  CommandResult killed = Run({"seal"}, "seal.after_tree");
  EXPECT_EQ(killed.exit_code, kKilled) << killed.out << killed.err;
  CommandResult check = Run({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("hash trees no batch names: "), std::string::npos) << check.out;
  CommandResult dry = Run({"gc", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("chunks of hash trees no batch names, "), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("a dry run, nothing erased"), std::string::npos) << dry.out;
  CommandResult gc = Run({"gc"});
  EXPECT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_NE(gc.out.find("chunks of hash trees no batch names, "), std::string::npos) << gc.out;
  EXPECT_NE(Run({"audit-log", "show"}).out.find("tree_chunks"), std::string::npos);
  check = Run({"check", "--json"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("\"unnamed_tree_chunks\":0,"), std::string::npos) << check.out;
  CommandResult seal = Run({"seal"});
  EXPECT_EQ(seal.exit_code, 0) << seal.err;
  EXPECT_EQ(Run({"check"}).out.find("hash trees no batch names"), std::string::npos);
  for (const std::string& id : ids) {
    CommandResult verify = Run({"verify", id});
    EXPECT_EQ(verify.exit_code, 0) << id << ": " << verify.out << verify.err;
  }
}

TEST_F(FaultPoint, UnknownOrMalformedPointsKillNothing) {
  CommandResult unknown = Ingest("no.such.point");
  EXPECT_EQ(unknown.exit_code, 0) << unknown.err;
  EXPECT_EQ(AcknowledgedIds(unknown.out).size(), 3u) << unknown.out;
  for (const char* malformed : {"ingest.after_commit:0", "ingest.after_commit:x", "ingest.after_commit:", ":2"}) {
    CommandResult r = Ingest(malformed);
    EXPECT_EQ(r.exit_code, 0) << malformed << ": " << r.err;
    EXPECT_NE(r.err.find("is not NAME or NAME:N"), std::string::npos) << malformed << ": " << r.err;
  }
  EXPECT_EQ(Packages(), 15u);
}

// Init publishes the store by renames, db/ last: killed anywhere, it leaves
// either no store (and the next init makes one) or a whole one.
TEST(InitFaultPoint, AKilledInitLeavesAWholeStoreOrNone) {
  // init.publishing:N is hit after the Nth of 4 renames (policy, config, tsa, db).
  for (const char* point : {"init.before_publish", "init.publishing:1", "init.publishing:3", "init.publishing:4"}) {
    testing::TempDir dir;
    const std::vector<std::string> env = {"PRESERVE_STORE=" + (dir / "store").string()};
    auto run = [&](std::vector<std::string> args, std::vector<std::string> environment) {
      args.insert(args.begin(), PRESERVE_BIN);
      return RunIsolated(args, environment);
    };
    std::vector<std::string> armed = env;
    armed.push_back(std::string("PRESERVE_FAULT_POINT=") + point);
    CommandResult killed = run({"init"}, armed);
    EXPECT_EQ(killed.exit_code, kKilled) << point << ": " << killed.err;
    const bool published = std::string_view(point) == "init.publishing:4";
    CommandResult again = run({"init"}, env);
    if (published) {
      EXPECT_NE(again.exit_code, 0) << point << ": the store was whole, a second init must refuse";
    } else {
      EXPECT_EQ(again.exit_code, 0) << point << ": " << again.err;
    }
    CommandResult check = run({"check"}, env);
    EXPECT_EQ(check.exit_code, 0) << point << ": " << check.out << check.err;
    CommandResult seal = run({"seal"}, env);  // a writer's open tidies what init left
    EXPECT_EQ(seal.exit_code, 0) << point << ": " << seal.err;
    CommandResult audit = run({"audit-log", "show"}, env);
    EXPECT_EQ(std::count(audit.out.begin(), audit.out.end(), '\n'), 1) << point << ": one init event: " << audit.out;
    EXPECT_FALSE(std::filesystem::exists(dir / "store" / ".init")) << point;
  }
}

// Keys without a database beside them (a restore in progress, a volume not
// mounted) are not an interrupted init's: init refuses and touches nothing.
TEST(InitFaultPoint, NeverInitsOverTsaKeysWithoutADatabase) {
  testing::TempDir dir;
  const std::filesystem::path key = dir / "store" / "tsa" / "tsa.key";
  std::filesystem::create_directories(key.parent_path());
  { std::ofstream(key) << "precious"; }
  CommandResult init = RunIsolated({PRESERVE_BIN, "init"}, {"PRESERVE_STORE=" + (dir / "store").string()});
  EXPECT_NE(init.exit_code, 0);
  EXPECT_NE(init.err.find("without a database"), std::string::npos) << init.err;
  EXPECT_TRUE(std::filesystem::exists(key));
  EXPECT_FALSE(std::filesystem::exists(dir / "store" / "db"));
}

}  // namespace
}  // namespace preserve
