// Store-scale benchmark (issue 5 part 10): one store grown in steps, and at
// each step what a records officer and the renewal schedule see of it.
// bench/store_bench.sh runs one process per step, in order.
//
//   store_bench header
//   store_bench step FIXTURES STORE FROM TO [DOCS]
//
// A step (the first makes STORE with Archive::Init):
//   grow     synthetic packages number FROM..TO-1 written straight into the
//            store (bench/bench_support.h: private record format, a real
//            manifest.json with record metadata, 10,000 per commit), then
//   seal     Sealing::Seal of them (so the renewal schedule holds them);
//   settle   the compactions those bulk writes left pending, run to the end,
//            and their dirty pages written back (SettleCompactions: a store
//            grown by months of ingest has done both long before), seconds;
//   ingest   3 rounds of DOCS (default 500) new real 10 KB documents, each
//            signed as detached CAdES by FIXTURES/pki/signer-rsa with a
//            record-metadata sidecar (signing is setup, not timed), one
//            Ingestion::IngestAll per round: trust anchor
//            FIXTURES/pki/root-ca.pem, intermediates issuing-ca.pem, no
//            revocation check. The median round's docs/s and CPU seconds
//            (all threads of the process). They are then sealed too (not
//            timed), and the archive closed, which flushes its memtables;
//   db       size of STORE/db/ (every file, RocksDB's info LOG included)
//            after that flush, no manual compaction; B/pkg = it / packages;
//   scan     the baseline: a plain RocksDB iteration (DB::OpenForReadOnly,
//            no preserve code) over every key and value of the packages,
//            evidence and content column families, the most a search without
//            an index must read; ms, and MB read;
// then, on the store reopened read-only (as a query beside a writer):
//   list     Catalogue::List of the first page of 100, and of the page of 100
//            after the package in the middle of the id range: median of 7;
//   search   Catalogue::List over the whole store (no limit) with a filter on
//            one of the 16 organs (1/16 of the packages match): median of 3,
//            or one run when the first takes over 2 s; search/scan is its
//            ratio to the baseline;
//   plan     Sealing::PlanRenewal with margin 0 (nothing due) and with 11
//            years (beyond the embedded TSA's 10-year certificate: every
//            sealed package due), seconds, same runs as search; `due` is the
//            second plan's item count, which must equal the packages.
// The page cache is warm throughout (the store was just written).
//
// After its row, a step prints one result line (bench/README.md) per phase:
// grow, seal, settle, ingest (the median round), list-first, list-middle,
// search (baseline: scan), plan-none and plan-all, each with n=TO, the size
// the step grew the store to, and the step process's peak RSS at the end of
// the phase.
#include <fcntl.h>
#include <rocksdb/db.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "preserve/archive/archive.h"
#include "preserve/archive/bulk_load.h"
#include "preserve/archive/catalogue.h"
#include "preserve/archive/ingestion.h"
#include "preserve/archive/sealing.h"
#include "preserve/util/certificates.h"

namespace {

using namespace preserve;
using bench::Timer;
namespace fs = std::filesystem;

constexpr std::size_t kDefaultDocs = 500;
constexpr std::size_t kIngestRounds = 3;  // of DOCS new documents each; the median round is reported
constexpr std::size_t kPage = 100;
constexpr const char* kSigner = "signer-rsa";
const std::string kSearchOrgan = bench::SyntheticOrgan(3);
constexpr std::chrono::days kEverythingDue{11 * 366};

int Fail(const std::string& what) {
  std::cerr << "store_bench: " << what << "\n";
  return 1;
}
int Fail(const Status& s) { return Fail(s.ToString()); }

// Median wall seconds of up to `runs` calls of `fn`, one only when the first
// takes longer than `single_over` seconds. Stops at the first error.
Result<double> MedianSeconds(std::size_t runs, double single_over, const std::function<Status()>& fn) {
  std::vector<double> seconds;
  for (std::size_t r = 0; r < runs; ++r) {
    Timer timer;
    PRESERVE_RETURN_IF_ERROR(fn());
    seconds.push_back(timer.wall());
    if (seconds.front() > single_over) break;
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

std::uint64_t DirectoryBytes(const fs::path& dir) {
  std::uint64_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) bytes += entry.file_size();
  return bytes;
}

// ---- The baseline: plain RocksDB ----

struct ScanResult {
  double seconds = 0;
  std::uint64_t bytes = 0;
  std::vector<std::string> package_ids;  // in id order
};

Result<ScanResult> PlainScan(const fs::path& db_dir) {
  const std::vector<std::string> families = {rocksdb::kDefaultColumnFamilyName, "packages", "evidence", "content"};
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& f : families) descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), db_dir.string(), descriptors, &handles, &raw);
  if (!s.ok()) return Status::IOError("rocksdb open: " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  ScanResult out;
  Timer timer;
  for (std::size_t f = 1; f < handles.size(); ++f) {
    const bool packages = families[f] == "packages";
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[f]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.bytes += it->key().size() + it->value().size();
      if (packages) out.package_ids.push_back(it->key().ToString());
    }
    if (!it->status().ok()) s = it->status();
  }
  out.seconds = timer.wall();
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  if (!s.ok()) return Status::IOError("rocksdb scan: " + s.ToString());
  return out;
}

// Lets RocksDB finish the compactions that the bulk writes of a step left
// pending, as months of ingest would have: opens the database itself (the
// archive closed) with the store's content-family options, waits until no
// family has a compaction pending or running, closes it and writes back the
// file system's dirty pages (syncfs). Without this, a
// step's ingest shares the 2 cores with a compaction of the whole content
// family that a store grown by ingests would have done long before.
Status SettleCompactions(const fs::path& db_dir) {
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db_dir.string(), &names);
  if (!s.ok()) return Status::IOError("rocksdb list families: " + s.ToString());
  rocksdb::DBOptions db_options;
  db_options.paranoid_checks = true;
  db_options.max_background_jobs = 2;  // as the store (storage/src/store.cc)
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) {
    rocksdb::ColumnFamilyOptions options;
    if (name == "content") {
      options.enable_blob_files = true;
      options.min_blob_size = 64 * 1024;
      options.write_buffer_size = 16u << 20;
      options.max_write_buffer_number = 2;
    }
    descriptors.emplace_back(name, options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::Open(db_options, db_dir.string(), descriptors, &handles, &raw);
  if (!s.ok()) return Status::IOError("rocksdb open: " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  for (;;) {
    std::uint64_t busy = 0, value = 0;
    if (db->GetIntProperty("rocksdb.num-running-compactions", &value)) busy += value;
    if (db->GetIntProperty("rocksdb.num-running-flushes", &value)) busy += value;
    for (auto* h : handles)
      if (db->GetIntProperty(h, "rocksdb.compaction-pending", &value)) busy += value;
    if (busy == 0) break;
    if (std::chrono::steady_clock::now() > give_up) {
      std::cerr << "store_bench: compactions still pending after 10 minutes; measuring anyway\n";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  s = db->Close();
  if (!s.ok()) return Status::IOError("rocksdb close: " + s.ToString());
  // The bulk writes' dirty pages too: left in the page cache, the ingest's
  // synced commits would wait for their writeback.
  int fd = ::open(db_dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0 || ::syncfs(fd) != 0) {
    if (fd >= 0) ::close(fd);
    return Status::IOError("syncfs " + db_dir.string());
  }
  ::close(fd);
  return Status::Ok();
}

// ---- Real ingest ----

// The number of the first of `n` new documents: a counter kept beside the
// store, so that every step signs documents of its own whatever the sizes.
Result<std::size_t> NextDocument(const fs::path& root, std::size_t n) {
  const fs::path counter = root / "store_bench-next-document";
  std::size_t first = 0;
  std::ifstream(counter) >> first;
  std::ofstream out(counter, std::ios::trunc);
  out << first + n << "\n";
  if (!out.flush()) return Status::IOError("cannot write " + counter.string());
  return first;
}

Result<archive::IngestOptions> Options(const fs::path& pki) {
  archive::IngestOptions options;
  PRESERVE_ASSIGN_OR_RETURN(options.trust_anchors, LoadCertificates(pki / "root-ca.pem"));
  PRESERVE_ASSIGN_OR_RETURN(options.intermediates, LoadCertificates(pki / "issuing-ca.pem"));
  options.revocation.check = false;  // the committed test PKI names no CRL or OCSP responder
  options.revocation.online = false;
  return options;
}

// Documents [first, first + n) in `dir`, signed, each with a metadata sidecar
// as organ SyntheticOrgan(i) would issue it.
Result<std::vector<archive::Submission>> MakeDocuments(const fs::path& pki, const fs::path& dir, std::size_t first,
                                                       std::size_t n) {
  bench::Signer signer;
  if (!signer.Load(pki, kSigner))
    return Status::InvalidArgument("cannot load " + std::string(kSigner) + " from " + pki.string() + ": " +
                                   bench::OpenSslError());
  PRESERVE_RETURN_IF_ERROR(bench::SignDocuments(signer, dir, first, n));
  std::vector<archive::Submission> submissions;
  for (std::size_t i = first; i < first + n; ++i) {
    archive::Submission s;
    s.content = bench::DocumentPath(dir, i);
    s.signature = s.content->string() + ".p7s";
    s.metadata = s.content->string() + ".json";
    std::ofstream(*s.metadata) << package::RecordMetadataToJson(bench::SyntheticMetadata(i));
    submissions.push_back(std::move(s));
  }
  return submissions;
}

Result<std::size_t> SealAll(archive::Archive& archive) {
  PRESERVE_ASSIGN_OR_RETURN(auto outcomes, archive::Sealing(archive).Seal(1'000'000));
  std::size_t sealed = 0;
  for (const auto& o : outcomes) sealed += o.packages;
  return sealed;
}

// ---- One step ----

struct Row {
  std::size_t synthetic = 0, packages = 0;
  double grow_s = 0, seal_s = 0, settle_s = 0;
  double ingest_docs_per_s = 0, ingest_cpu_s = 0;
  std::uint64_t db_bytes = 0;
  double list_first_ms = 0, list_mid_ms = 0;
  double search_ms = 0;
  std::size_t matches = 0;
  double plan_none_s = 0, plan_all_s = 0;
  std::size_t due_none = 0, due_all = 0;
  double scan_ms = 0;
  std::uint64_t scan_bytes = 0;
};

// A phase's figures for its result line, printed after the row.
struct PhaseResult {
  std::string phase;
  double seconds = 0, rss_mib = 0;
  std::optional<double> baseline_seconds;
};

int Step(const fs::path& fixtures, const fs::path& root, std::size_t from, std::size_t to, std::size_t docs) {
  if (to < from) return Fail("TO is below FROM");
  SystemClock clock;
  const fs::path pki = fixtures / "pki";
  Row row;
  row.synthetic = to;
  std::vector<PhaseResult> results;
  auto measured = [&results](std::string phase, double seconds, std::optional<double> baseline = std::nullopt) {
    results.push_back({std::move(phase), seconds, bench::PeakRssMiB(), baseline});
  };
  if (!fs::exists(root)) {
    if (Status s = archive::Archive::Init(root, {}, clock); !s.ok()) return Fail(s);
  }

  {  // grow: the store closes (flushing its memtables) inside the timing
    Timer timer;
    auto store = storage::Store::Open(archive::DatabaseDir(root), {});
    if (!store.ok()) return Fail(store.status());
    bench::SyntheticOptions synthetic{.created = clock.Now(), .manifest = true};
    if (Status s = bench::WriteSyntheticPackages(*store.value(), clock, from, to - from, synthetic); !s.ok())
      return Fail(s);
    store.value().reset();
    row.grow_s = timer.wall();
    measured("grow", row.grow_s);
  }

  {
    auto archive = archive::Archive::Open(root, clock, {.mode = archive::OpenMode::kWritable});
    if (!archive.ok()) return Fail(archive.status());
    Timer timer;
    auto sealed = SealAll(*archive.value());
    if (!sealed.ok()) return Fail(sealed.status());
    if (sealed.value() != to - from) return Fail("sealed " + std::to_string(sealed.value()) + " packages");
    row.seal_s = timer.wall();
    measured("seal", row.seal_s);
  }

  {
    Timer timer;
    if (Status s = SettleCompactions(archive::DatabaseDir(root)); !s.ok()) return Fail(s);
    row.settle_s = timer.wall();
    measured("settle", row.settle_s);
  }

  if (docs > 0) {
    auto options = Options(pki);
    if (!options.ok()) return Fail(options.status());
    // Every round's documents are signed first (setup), then ingested round by round.
    std::vector<std::vector<archive::Submission>> rounds;
    const fs::path dir = root.parent_path() / "store_bench-docs";
    for (std::size_t r = 0; r < kIngestRounds; ++r) {
      auto first = NextDocument(root, docs);
      if (!first.ok()) return Fail(first.status());
      auto submissions = MakeDocuments(pki, dir, first.value(), docs);
      if (!submissions.ok()) return Fail(submissions.status());
      rounds.push_back(std::move(submissions).value());
    }
    auto archive = archive::Archive::Open(root, clock, {.mode = archive::OpenMode::kWritable});
    if (!archive.ok()) return Fail(archive.status());
    std::vector<std::pair<double, double>> timings;  // (seconds, CPU seconds) per round
    for (const auto& submissions : rounds) {
      bench::Tally tally;
      Timer timer;
      if (Status s = archive::Ingestion(*archive.value()).IngestAll(submissions, options.value(), std::ref(tally));
          !s.ok())
        return Fail(s);
      timings.emplace_back(timer.wall(), timer.cpu());
      if (tally.accepted != docs)
        return Fail(std::to_string(tally.refused) + " of " + std::to_string(docs) +
                    " refused; the first: " + tally.first_refusal);
    }
    fs::remove_all(dir);
    std::sort(timings.begin(), timings.end());
    row.ingest_docs_per_s = static_cast<double>(docs) / timings[timings.size() / 2].first;
    row.ingest_cpu_s = timings[timings.size() / 2].second;
    measured("ingest", timings[timings.size() / 2].first);
    auto sealed = SealAll(*archive.value());
    if (!sealed.ok()) return Fail(sealed.status());
  }  // closing flushes the memtables

  row.db_bytes = DirectoryBytes(archive::DatabaseDir(root));
  auto scan = PlainScan(archive::DatabaseDir(root));
  if (!scan.ok()) return Fail(scan.status());
  row.packages = scan->package_ids.size();
  row.scan_ms = scan->seconds * 1e3;
  row.scan_bytes = scan->bytes;
  const std::string middle = row.packages > 0 ? scan->package_ids[row.packages / 2] : "";

  auto archive = archive::Archive::Open(root, clock, {.mode = archive::OpenMode::kReadOnly});
  if (!archive.ok()) return Fail(archive.status());
  archive::Archive& a = *archive.value();
  auto list = [&](const std::string& after) -> std::function<Status()> {
    return [&a, after]() -> Status {
      PRESERVE_ASSIGN_OR_RETURN(auto page, archive::Catalogue(a).List(after, kPage));
      if (page.empty()) return Status::Internal("an empty page");
      return Status::Ok();
    };
  };
  auto first_ms = MedianSeconds(7, 1e9, list(""));
  if (!first_ms.ok()) return Fail(first_ms.status());
  auto mid_ms = MedianSeconds(7, 1e9, list(middle));
  if (!mid_ms.ok()) return Fail(mid_ms.status());
  row.list_first_ms = first_ms.value() * 1e3;
  row.list_mid_ms = mid_ms.value() * 1e3;
  measured("list-first", first_ms.value());
  measured("list-middle", mid_ms.value());

  archive::ListFilter filter;
  filter.organ = kSearchOrgan;
  auto search = MedianSeconds(3, 2.0, [&]() -> Status {
    PRESERVE_ASSIGN_OR_RETURN(auto found, archive::Catalogue(a).List("", SIZE_MAX, filter));
    row.matches = found.size();
    return Status::Ok();
  });
  if (!search.ok()) return Fail(search.status());
  row.search_ms = search.value() * 1e3;
  measured("search", search.value(), scan->seconds);

  auto plan = [&](std::chrono::days margin, std::size_t& due) -> std::function<Status()> {
    return [&a, margin, &due]() -> Status {
      archive::RenewOptions options;
      options.margin = margin;
      PRESERVE_ASSIGN_OR_RETURN(auto p, archive::Sealing(a).PlanRenewal(options));
      due = p.items.size();
      return Status::Ok();
    };
  };
  auto none = MedianSeconds(3, 2.0, plan(std::chrono::days(0), row.due_none));
  if (!none.ok()) return Fail(none.status());
  row.plan_none_s = none.value();
  measured("plan-none", row.plan_none_s);
  auto all = MedianSeconds(3, 2.0, plan(kEverythingDue, row.due_all));
  if (!all.ok()) return Fail(all.status());
  row.plan_all_s = all.value();
  measured("plan-all", row.plan_all_s);
  if (row.due_none != 0 || row.due_all != row.packages)
    std::cerr << "store_bench: plans found " << row.due_none << " and " << row.due_all << " of " << row.packages
              << " packages due (expected 0 and all)\n";

  const double db_mib = static_cast<double>(row.db_bytes) / (1 << 20);
  const double per_package =
      row.packages > 0 ? static_cast<double>(row.db_bytes) / static_cast<double>(row.packages) : 0;
  std::printf(
      "%9zu %9zu %7.2f %7.2f %8.2f %8.0f %7.2f %8.1f %6.0f %8.2f %8.2f %9.1f %7zu %8.3f %8.3f %9zu %8.1f %7.1f %7.1f "
      "%7.0f\n",
      row.synthetic, row.packages, row.grow_s, row.seal_s, row.settle_s, row.ingest_docs_per_s, row.ingest_cpu_s,
      db_mib, per_package, row.list_first_ms, row.list_mid_ms, row.search_ms, row.matches, row.plan_none_s,
      row.plan_all_s, row.due_all, row.scan_ms, static_cast<double>(row.scan_bytes) / 1e6,
      row.scan_ms > 0 ? row.search_ms / row.scan_ms : 0.0, bench::PeakRssMiB());
  for (const auto& r : results) bench::PrintResult("store", r.phase, to, r.seconds, r.rss_mib, r.baseline_seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string phase = argc > 1 ? argv[1] : "";
  if (phase == "header") {
    std::printf("%9s %9s %7s %7s %8s %8s %7s %8s %6s %8s %8s %9s %7s %8s %8s %9s %8s %7s %7s %7s\n", "synthetic",
                "packages", "grow_s", "seal_s", "settle_s", "docs/s", "ing_cpu", "db_MiB", "B/pkg", "list1_ms",
                "listM_ms", "search_ms", "matches", "plan0_s", "planA_s", "due", "scan_ms", "scan_MB", "srch/sc",
                "RSS_MiB");
    return 0;
  }
  if (phase == "step" && (argc == 6 || argc == 7))
    return Step(argv[2], argv[3], std::stoul(argv[4]), std::stoul(argv[5]),
                argc == 7 ? std::stoul(argv[6]) : kDefaultDocs);
  std::cerr << "usage: store_bench header | step FIXTURES STORE FROM TO [DOCS]\n";
  return 2;
}
