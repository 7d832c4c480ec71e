// Search benchmark (issue 18 part 1): filtered pages of Catalogue::List from
// the search index, on a store that `seal_bench populate-catalogue` filled
// (synthetic packages with real manifests and record metadata: 16 organs,
// issue dates over 2016-2025, code numbers i % 100000 + 1, subjects "Trích
// yếu văn bản tổng hợp số i"). bench/search_bench.sh runs it.
//
//   search_bench query STORE     each query below: the median of 5 first pages
//                                of 50, in ms, and the matches on the page
//   search_bench forget STORE    erases the index, as a store made before it
//   search_bench scan STORE      the same queries through the manifests, as a
//                                store without the index lists (the baseline),
//                                once each
//   search_bench build STORE     BuildSearchIndex of the whole store, seconds
//   search_bench trail STORE N   appends N audit events as ingest writes them
//                                (one per synthetic package: its organ, a
//                                submission key, an hour each over 2026-2027)
//   search_bench report STORE    Catalogue::ReportSignatureUse of the whole
//                                trail by organ and by month, seconds
//
// Every line: `query <name> <ms> <matches>`, `build <seconds> <packages>` or
// `report <grouping> <seconds> <rows>`, then the process's peak RSS in MiB.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "bench_support.h"
#include "preserve/archive/archive.h"
#include "preserve/archive/bulk_load.h"
#include "preserve/archive/catalogue.h"
#include "preserve/storage/store.h"

namespace {

using namespace preserve;

constexpr std::size_t kPage = 50;

struct Query {
  const char* name;
  archive::ListFilter filter;
};

std::vector<Query> Queries() {
  auto with = [](auto set) {
    archive::ListFilter f;
    set(f);
    return f;
  };
  return {
      {"organ", with([](auto& f) { f.organ = "dak nong"; })},                  // 1 in 16
      {"organ+type+year", with([](auto& f) {                                    // 1 in 160
         f.organ = "so tu phap";
         f.type_name = "cong van";
         f.issued_from = "2019-01-01";
         f.issued_to = "2019-12-31";
       })},
      {"month", with([](auto& f) {                                              // 1 in 120
         f.issued_from = "2021-03-01";
         f.issued_to = "2021-03-31";
       })},
      {"number", with([](auto& f) { f.number = "4711/UBND-BENCH"; })},        // 1 in 100,000
      {"number-prefix", with([](auto& f) { f.number = "47"; })},               // words 47, 470..., 4700...
      {"subject-word", with([](auto& f) { f.subject = "tong hop so 4567"; })},     // a few packages
      {"rare-and-common", with([](auto& f) {                                    // a rare word joined to a common one
         f.subject = "van ban";
         f.number = "9999";
       })},
      {"none", with([](auto& f) { f.organ = "khong co co quan nay"; })},
  };
}

int Fail(const Status& s) {
  std::cerr << "search_bench: " << s.ToString() << "\n";
  return 1;
}

int RunQueries(const std::filesystem::path& root, bool through_index) {
  SystemClock clock;
  auto opened = archive::Archive::Open(root, clock, {.mode = archive::OpenMode::kReadOnly});
  if (!opened.ok()) return Fail(opened.status());
  archive::Archive& a = *opened.value();
  auto status = archive::Catalogue(a).IndexStatus();
  if (!status.ok()) return Fail(status.status());
  if (status->complete != through_index) {
    std::cerr << "search_bench: the index is " << (status->complete ? "complete" : "not complete") << "\n";
    return 1;
  }
  for (const Query& q : Queries()) {
    const int runs = through_index ? 5 : 1;
    std::vector<double> ms;
    std::size_t matches = 0;
    for (int i = 0; i < runs; ++i) {
      bench::Timer timer;
      auto page = archive::Catalogue(a).List("", kPage, q.filter);
      if (!page.ok()) return Fail(page.status());
      ms.push_back(timer.wall() * 1e3);
      matches = page->size();
    }
    std::sort(ms.begin(), ms.end());
    std::printf("query %s %.2f %zu %.0f\n", q.name, ms[ms.size() / 2], matches, bench::PeakRssMiB());
    std::fflush(stdout);
  }
  return 0;
}

// Erases the index, as a store made before it has none.
int Forget(const std::filesystem::path& root) {
  {
    auto store = storage::Store::Open(archive::DatabaseDir(root), {});
    if (!store.ok()) return Fail(store.status());
    std::size_t erased = 0;
    auto cursor = (*store)->NewIndexCursor();
    storage::WriteSet w;
    for (cursor->Seek(""); cursor->Valid(); cursor->Next()) {
      w.EraseIndex(cursor->key());
      if (++erased % 1000000 == 0) {
        if (Status s = (*store)->Commit(std::move(w)); !s.ok()) return Fail(s);
        w = storage::WriteSet();
      }
    }
    if (!cursor->status().ok()) return Fail(cursor->status());
    w.EraseSetting("search_index");
    if (Status s = (*store)->Commit(std::move(w)); !s.ok()) return Fail(s);
  }
  return 0;
}

int Build(const std::filesystem::path& root) {
  SystemClock clock;
  auto opened = archive::Archive::Open(root, clock, {.mode = archive::OpenMode::kWritable});
  if (!opened.ok()) return Fail(opened.status());
  bench::Timer timer;
  auto build = archive::Catalogue(*opened.value()).BuildSearchIndex(false, "search_bench");
  if (!build.ok()) return Fail(build.status());
  std::printf("build %.2f %zu %.0f\n", timer.wall(), build->packages, bench::PeakRssMiB());
  return 0;
}

int Trail(const std::filesystem::path& root, std::size_t n) {
  auto store = storage::Store::Open(archive::DatabaseDir(root), {});
  if (!store.ok()) return Fail(store.status());
  const TimePoint start = ParseUtcTime("2026-01-01T00:00:00Z").value();
  constexpr std::size_t kPerCommit = 10000;
  for (std::size_t first = 0; first < n; first += kPerCommit) {
    storage::WriteSet w;
    for (std::size_t i = first; i < std::min(n, first + kPerCommit); ++i) {
      const std::string organ = bench::SyntheticOrgan(i);
      const std::string hex = ToHex(bench::Sha256(AsBytes(std::to_string(i))));
      boost::json::object event{{"event", "ingest"},
                                {"time", FormatUtcTime(start + std::chrono::hours(i % (2 * 365 * 24)))},
                                {"package", "0190c3d2-5a1b-7000-8000-" + hex.substr(0, 12)},
                                {"input", "doc-" + std::to_string(i) + ".txt"},
                                {"format", "CAdES detached"},
                                {"organ", organ},
                                {"signer_organization", organ},
                                {"manifest_sha256", hex},
                                {"submission", hex},
                                {"trust_list_added", ""}};
      archive::AppendLoadedAuditEvent(w, ToBytes(boost::json::serialize(event)));
    }
    if (Status s = (*store)->Commit(std::move(w)); !s.ok()) return Fail(s);
  }
  return 0;
}

int Report(const std::filesystem::path& root) {
  SystemClock clock;
  auto opened = archive::Archive::Open(root, clock, {.mode = archive::OpenMode::kReadOnly});
  if (!opened.ok()) return Fail(opened.status());
  const TimePoint from = ParseUtcTime("2000-01-01T00:00:00Z").value();
  const TimePoint to = ParseUtcTime("2100-01-01T00:00:00Z").value();
  for (const auto& [name, grouping] : {std::pair{"organ", archive::ReportGrouping::kOrgan},
                                       {"month", archive::ReportGrouping::kMonth}}) {
    bench::Timer timer;
    auto report = archive::Catalogue(*opened.value()).ReportSignatureUse(from, to, grouping);
    if (!report.ok()) return Fail(report.status());
    std::printf("report %s %.3f %zu %.0f\n", name, timer.wall(), report->rows.size(), bench::PeakRssMiB());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "trail") return Trail(argv[2], std::stoul(argv[3]));
  if (argc != 3) {
    std::cerr << "usage: search_bench query|forget|scan|build|report STORE | trail STORE N\n";
    return 2;
  }
  const std::string phase = argv[1];
  if (phase == "query") return RunQueries(argv[2], true);
  if (phase == "scan") return RunQueries(argv[2], false);
  if (phase == "forget") return Forget(argv[2]);
  if (phase == "build") return Build(argv[2]);
  if (phase == "report") return Report(argv[2]);
  std::cerr << "search_bench: unknown phase " << phase << "\n";
  return 2;
}
