// Sealing and renewal benchmark (issue 3 part 8): one phase per process so
// each phase's peak RSS is its own; bench/seal_bench.sh runs them in order.
//
//   seal_bench populate STORE N     new store + N queued synthetic packages
//   seal_bench populate-catalogue STORE N   the same, with real manifests and record metadata
//   seal_bench seal STORE N         Sealing::Seal of all of them
//   seal_bench renew-ts STORE N     timestamp renewal (TSA certificate ending)
//   seal_bench renew-hash STORE N   hash-tree renewal (SHA-256 retired)
//
// Each phase prints one line: phase, N, seconds, packages/s, TSA requests,
// peak RSS (MiB), the plain OpenSSL SHA-256 baseline (seconds), the ratio, and
// the CPU seconds (user + system, all threads) the phase itself used: on a
// shared machine wall time says more about the neighbours than about us.
// Then the same figures as a result line (bench/README.md).
//
// This is a benchmark, not a client: it writes packages straight into the
// store (preserve/archive/bulk_load.h, through bench/bench_support.h), because
// ingesting through Ingestion::Ingest (CMS
// validation, one fsync per package) would take hours at a million packages
// and is not what is measured here.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "bench_support.h"
#include "preserve/archive/archive.h"
#include "preserve/archive/bulk_load.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/sealing.h"
#include "preserve/storage/store.h"

namespace {

using namespace preserve;
using namespace std::chrono_literals;
using bench::kObjectsPerPackage;
using bench::ObjectContent;
using bench::PeakRssMiB;
using bench::Sha256;
using bench::Timer;
using Seconds = std::chrono::duration<double>;

// The phases' clock: the TSA certificate (2 years) ends inside renew-ts's
// 180-day margin, and renew-hash's policy retires SHA-256 inside its margin.
TimePoint At(const char* text) { return ParseUtcTime(text).value(); }
const TimePoint kInit = At("2027-01-01T00:00:00Z");
const TimePoint kSeal = At("2027-01-01T01:00:00Z");
const TimePoint kRenewTs = At("2028-09-01T00:00:00Z");
const TimePoint kRenewHash = At("2028-10-01T00:00:00Z");
constexpr const char* kSha256End = "2029-01-01";

// The lower bound: a plain loop of SHA-256 over the N*6 leaves' bytes, then
// over the N groups (each its six leaf hashes concatenated).
double BaselineSeconds(std::size_t n) {
  std::vector<Bytes> contents;
  contents.reserve(n * kObjectsPerPackage);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < kObjectsPerPackage; ++j) contents.push_back(ObjectContent(i, j));
  auto start = std::chrono::steady_clock::now();
  Bytes group;
  std::size_t sink = 0;
  for (std::size_t i = 0; i < n; ++i) {
    group.clear();
    for (std::size_t j = 0; j < kObjectsPerPackage; ++j) {
      Bytes h = Sha256(contents[i * kObjectsPerPackage + j]);
      group.insert(group.end(), h.begin(), h.end());
    }
    sink += Sha256(group)[0];
  }
  double seconds = Seconds(std::chrono::steady_clock::now() - start).count();
  if (sink == SIZE_MAX) std::cerr << sink;  // keeps the loop from being optimised away
  return seconds;
}

// The phase's row, then its result line.
void Report(const char* phase, std::size_t n, const Timer& timer, std::size_t requests) {
  const double seconds = timer.wall();
  const double cpu = timer.cpu();
  const double rss = PeakRssMiB();  // before the baseline, whose copy of every object's content would count
  const double baseline = BaselineSeconds(n);
  std::printf("%-11s %9zu %9.2f %11.0f %6zu %9.0f %9.3f %8.1f %9.2f\n", phase, n, seconds,
              static_cast<double>(n) / seconds, requests, rss, baseline, seconds / baseline, cpu);
  bench::PrintResult("seal", phase, n, seconds, rss, baseline);
}

// Closing flushes the store's memtables (storage/store.h): work the phase
// leaves behind, shown apart from it.
void ReportClose(std::unique_ptr<archive::Archive> archive) {
  Timer timer;
  archive.reset();
  std::printf("%-11s %9s %9.2f %11s %6s %9s %9s %8s %9.2f\n", "  close", "", timer.wall(), "", "", "", "", "",
              timer.cpu());
}

int Fail(const Status& s) {
  std::cerr << "seal_bench: " << s.ToString() << "\n";
  return 1;
}

// `manifests`: real manifest.json objects with record metadata (for
// benchmarks that list, filter and show packages), not filler bytes.
int Populate(const std::filesystem::path& root, std::size_t n, bool manifests) {
  ManualClock clock(kInit);
  archive::InitOptions init;
  init.tsa.tsa_validity_years = 2;
  if (Status s = archive::Archive::Init(root, init, clock); !s.ok()) return Fail(s);
  auto store = storage::Store::Open(archive::DatabaseDir(root), {});
  if (!store.ok()) return Fail(store.status());
  Timer timer;
  bench::SyntheticOptions synthetic{.created = kInit, .manifest = manifests};
  if (Status s = bench::WriteSyntheticPackages(*store.value(), clock, 0, n, synthetic); !s.ok()) return Fail(s);
  Report("populate", n, timer, 0);
  return 0;
}

int Seal(const std::filesystem::path& root, std::size_t n) {
  ManualClock clock(kSeal);
  auto archive = archive::Archive::Open(root, clock, {.mode = archive::OpenMode::kWritable});
  if (!archive.ok()) return Fail(archive.status());
  Timer timer;
  auto outcomes = archive::Sealing(*archive.value()).Seal(1'000'000);
  if (!outcomes.ok()) return Fail(outcomes.status());
  std::size_t sealed = 0;
  for (const auto& o : outcomes.value()) sealed += o.packages;
  if (sealed != n) return Fail(Status::Internal("sealed " + std::to_string(sealed) + " packages"));
  Report("seal", n, timer, outcomes->size());
  ReportClose(std::move(archive).value());
  return 0;
}

int Renew(const std::filesystem::path& root, std::size_t n, archive::RenewalKind kind) {
  bool hash = kind == archive::RenewalKind::kHashTree;
  ManualClock clock(hash ? kRenewHash : kRenewTs);
  auto archive = archive::Archive::Open(root, clock, {.mode = archive::OpenMode::kWritable});
  if (!archive.ok()) return Fail(archive.status());
  if (hash) {
    // Retiring SHA-256 reschedules every package: timed apart from the renewal.
    std::filesystem::path policy = root / "bench-policy.json";
    std::ofstream(policy) << R"({"name": "bench: SHA-256 retired", "base": "etsi", "hash": [)"
                          << R"({"algorithm": "SHA-256", "end": ")" << kSha256End
                          << R"(", "source": "benchmark"}], "signature": []})";
    auto start = std::chrono::steady_clock::now();
    if (Status s = archive::Catalogue(*archive.value()).SetPolicy(policy.string()); !s.ok()) return Fail(s);
    std::printf("%-11s %9zu %9.2f\n", "set-policy", n, Seconds(std::chrono::steady_clock::now() - start).count());
  }
  Timer timer;
  auto outcome = archive::Sealing(*archive.value()).Renew({});
  if (!outcome.ok()) return Fail(outcome.status());
  std::size_t renewed = 0;
  for (const auto& b : outcome->batches) {
    if (b.kind != kind) return Fail(Status::Internal("unexpected " + std::string(archive::RenewalKindName(b.kind))));
    renewed += b.packages;
  }
  if (renewed != n) return Fail(Status::Internal("renewed " + std::to_string(renewed) + " packages"));
  Report(hash ? "renew-hash" : "renew-ts", n, timer, outcome->batches.size());
  ReportClose(std::move(archive).value());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: seal_bench populate|populate-catalogue|seal|renew-ts|renew-hash STORE N\n";
    return 2;
  }
  std::string phase = argv[1];
  std::filesystem::path root = argv[2];
  std::size_t n = std::stoul(argv[3]);
  if (phase == "populate") return Populate(root, n, false);
  if (phase == "populate-catalogue") return Populate(root, n, true);
  if (phase == "seal") return Seal(root, n);
  if (phase == "renew-ts") return Renew(root, n, archive::RenewalKind::kTimeStamp);
  if (phase == "renew-hash") return Renew(root, n, archive::RenewalKind::kHashTree);
  std::cerr << "seal_bench: unknown phase " << phase << "\n";
  return 2;
}
