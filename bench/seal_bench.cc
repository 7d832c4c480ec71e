// Sealing and renewal benchmark (issue 3 part 8): one phase per process so
// each phase's peak RSS is its own; bench/seal_bench.sh runs them in order.
//
//   seal_bench populate STORE N [BYTES]     new store + N queued synthetic packages
//   seal_bench populate-catalogue STORE N   the same, with real manifests and record metadata
//   seal_bench seal STORE N [BYTES]         Sealing::Seal of all of them
//   seal_bench renew-ts STORE N [BYTES]     timestamp renewal (TSA certificate ending)
//   seal_bench renew-hash STORE N [BYTES]   hash-tree renewal (SHA-256 retired; SHA-384 next)
//   seal_bench content - N [BYTES]          every package's content, as stored, to stdout
// BYTES: each package's content in all (bench_support.h ObjectContent); by
// default about 360 bytes. `content` is for `sha384sum` and `sha512sum`: the
// bytes a hash-tree renewal must read and hash again, hashed by the tools.
//
// Each phase prints one line: phase, N, seconds, packages/s, TSA requests,
// peak RSS (MiB), the plain OpenSSL baseline (seconds: SHA-256, or for
// renew-hash the SHA-384 it hashes the content with), the ratio, and
// the CPU seconds (user + system, all threads) the phase itself used: on a
// shared machine wall time says more about the neighbours than about us.
// Then the same figures as a result line (bench/README.md).
//
// This is a benchmark, not a client: it writes packages straight into the
// store (preserve/archive/bulk_load.h, through bench/bench_support.h), because
// ingesting through Ingestion::Ingest (CMS
// validation, one fsync per package) would take hours at a million packages
// and is not what is measured here.
#include <openssl/evp.h>

#include <algorithm>
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

// The lower bound: a plain loop of `md` over the N*6 leaves' bytes, then over
// the N groups (each its six leaf hashes concatenated). The content is made
// a chunk of packages at a time, outside the timing.
double BaselineSeconds(std::size_t n, std::size_t package_bytes, const EVP_MD* md) {
  constexpr std::size_t kChunk = 10000;
  auto digest = [md](ByteView data) {
    Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
    EVP_Digest(data.data(), data.size(), out.data(), nullptr, md, nullptr);
    return out;
  };
  Seconds total{0};
  Bytes group;
  std::size_t sink = 0;
  std::vector<Bytes> contents;
  for (std::size_t first = 0; first < n; first += kChunk) {
    const std::size_t end = std::min(n, first + kChunk);
    contents.clear();
    for (std::size_t i = first; i < end; ++i)
      for (std::size_t j = 0; j < kObjectsPerPackage; ++j) contents.push_back(ObjectContent(i, j, package_bytes));
    auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < end - first; ++i) {
      group.clear();
      for (std::size_t j = 0; j < kObjectsPerPackage; ++j) {
        Bytes h = digest(contents[i * kObjectsPerPackage + j]);
        group.insert(group.end(), h.begin(), h.end());
      }
      sink += digest(group)[0];
    }
    total += std::chrono::steady_clock::now() - start;
  }
  if (sink == SIZE_MAX) std::cerr << sink;  // keeps the loop from being optimised away
  return total.count();
}

// The phase's row, then its result line.
void Report(const char* phase, std::size_t n, std::size_t package_bytes, const Timer& timer, std::size_t requests,
            const EVP_MD* md = EVP_sha256()) {
  const double seconds = timer.wall();
  const double cpu = timer.cpu();
  const double rss = PeakRssMiB();  // before the baseline, whose copy of every object's content would count
  const double baseline = BaselineSeconds(n, package_bytes, md);
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
int Populate(const std::filesystem::path& root, std::size_t n, bool manifests, std::size_t package_bytes) {
  ManualClock clock(kInit);
  archive::InitOptions init;
  init.tsa.tsa_validity_years = 2;
  if (Status s = archive::Archive::Init(root, init, clock); !s.ok()) return Fail(s);
  auto store = storage::Store::Open(archive::DatabaseDir(root), {});
  if (!store.ok()) return Fail(store.status());
  Timer timer;
  bench::SyntheticOptions synthetic{.created = kInit, .manifest = manifests, .package_bytes = package_bytes};
  if (Status s = bench::WriteSyntheticPackages(*store.value(), clock, 0, n, synthetic); !s.ok()) return Fail(s);
  Report("populate", n, package_bytes, timer, 0);
  return 0;
}

int Seal(const std::filesystem::path& root, std::size_t n, std::size_t package_bytes) {
  ManualClock clock(kSeal);
  auto archive = archive::Archive::Open(root, clock, {.mode = archive::OpenMode::kWritable});
  if (!archive.ok()) return Fail(archive.status());
  Timer timer;
  auto outcomes = archive::Sealing(*archive.value()).Seal(1'000'000);
  if (!outcomes.ok()) return Fail(outcomes.status());
  std::size_t sealed = 0;
  for (const auto& o : outcomes.value()) sealed += o.packages;
  if (sealed != n) return Fail(Status::Internal("sealed " + std::to_string(sealed) + " packages"));
  Report("seal", n, package_bytes, timer, outcomes->size());
  ReportClose(std::move(archive).value());
  return 0;
}

int Renew(const std::filesystem::path& root, std::size_t n, std::size_t package_bytes, archive::RenewalKind kind) {
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
    if (!b.left_out.empty()) return Fail(Status::Internal("left out, damaged: " + b.left_out.front()));
  }
  if (renewed != n) return Fail(Status::Internal("renewed " + std::to_string(renewed) + " packages"));
  Report(hash ? "renew-hash" : "renew-ts", n, package_bytes, timer, outcome->batches.size(),
         hash ? EVP_sha384() : EVP_sha256());
  ReportClose(std::move(archive).value());
  return 0;
}

// The bytes of every package's objects, in package order, to stdout.
int Content(std::size_t n, std::size_t package_bytes) {
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < kObjectsPerPackage; ++j) {
      Bytes content = ObjectContent(i, j, package_bytes);
      if (std::fwrite(content.data(), 1, content.size(), stdout) != content.size()) return 1;
    }
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::cerr << "usage: seal_bench populate|populate-catalogue|seal|renew-ts|renew-hash|content STORE N [BYTES]\n";
    return 2;
  }
  std::string phase = argv[1];
  std::filesystem::path root = argv[2];
  std::size_t n = std::stoul(argv[3]);
  std::size_t bytes = argc == 5 ? std::stoul(argv[4]) : 0;
  if (phase == "populate") return Populate(root, n, false, bytes);
  if (phase == "populate-catalogue") return Populate(root, n, true, bytes);
  if (phase == "seal") return Seal(root, n, bytes);
  if (phase == "renew-ts") return Renew(root, n, bytes, archive::RenewalKind::kTimeStamp);
  if (phase == "renew-hash") return Renew(root, n, bytes, archive::RenewalKind::kHashTree);
  if (phase == "content") return Content(n, bytes);
  std::cerr << "seal_bench: unknown phase " << phase << "\n";
  return 2;
}
