// Ingest benchmark (issue 4 part 10): one phase per process, so each phase's
// peak RSS is its own; bench/ingest_bench.sh runs them in order, beside
// `preserve ingest` and `sha256sum`.
//
//   ingest_bench sign PKI DIR N          N distinct 10 KB documents DIR/doc-NNNNN.txt, each
//                                        with a detached CAdES signature DIR/doc-NNNNN.txt.p7s
//   ingest_bench sign-file PKI FILE      FILE.p7s: a detached CAdES signature over FILE, streamed
//   ingest_bench ingest PKI DIR STORE    new store; IngestAll of DIR's documents, then Seal
//   ingest_bench ingest-one PKI FILE STORE [SHA256SUM_SECONDS]
//                                        new store; Ingest of FILE with FILE.p7s (the seconds
//                                        sha256sum took over FILE: the result line's baseline)
//
// PKI is a directory made by scripts/make-revocation-pki.sh: the documents are
// signed by signer-crl-only (CRL distribution point only) with the issuing CA
// in the SignedData; ingest trusts root-ca alone, gives issuing-ca as the
// intermediates pool and root.crl + issuing.crl as local CRLs, offline: the
// full path is validated and both certificates below the anchor are checked
// against a local CRL, with no network.
//
// Signing and store creation (Archive::Init, Open) are setup, not timed. Each
// timed phase prints one line: phase, N, seconds, docs/s, MB/s, CPU seconds
// (user + system, all threads: on a shared machine wall time says more about
// the neighbours than about us), and the process's peak RSS so far (VmHWM);
// then the same as a result line (bench/README.md).
#include <openssl/bio.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "bench_support.h"
#include "preserve/archive/archive.h"
#include "preserve/archive/ingestion.h"
#include "preserve/archive/sealing.h"
#include "preserve/util/certificates.h"

namespace {

using namespace preserve;
using bench::kDocumentBytes;
using bench::OpenSslError;
using bench::PeakRssMiB;
using bench::Signer;
using bench::Timer;
namespace fs = std::filesystem;

constexpr const char* kSigner = "signer-crl-only";

struct Row {
  double seconds = 0, rss_mib = 0;
};

// Prints one row of the table (bytes: what the MB/s are of).
Row Report(const char* phase, std::size_t n, std::uint64_t bytes, const Timer& timer) {
  const Row row{timer.wall(), PeakRssMiB()};
  std::printf("%-12s %7zu %9.3f %9.0f %9.1f %8.2f %8.0f\n", phase, n, row.seconds, static_cast<double>(n) / row.seconds,
              static_cast<double>(bytes) / 1e6 / row.seconds, timer.cpu(), row.rss_mib);
  std::fflush(stdout);
  return row;
}

// A measured phase (not setup: signing, or closing the store): its row, then its result line.
void ReportMeasured(const char* phase, std::size_t n, std::uint64_t bytes, const Timer& timer,
                    std::optional<double> baseline_seconds = std::nullopt) {
  const Row row = Report(phase, n, bytes, timer);
  bench::PrintResult("ingest", phase, n, row.seconds, row.rss_mib, baseline_seconds);
}

int Fail(const std::string& what) {
  std::cerr << "ingest_bench: " << what << "\n";
  return 1;
}
int Fail(const Status& s) { return Fail(s.ToString()); }

// ---- Signing (setup) ----

int Sign(const fs::path& pki, const fs::path& dir, std::size_t n) {
  Signer signer;
  if (!signer.Load(pki, kSigner)) return Fail("cannot load the signer from " + pki.string() + ": " + OpenSslError());
  Timer timer;
  if (Status s = bench::SignDocuments(signer, dir, 0, n); !s.ok()) return Fail(s);
  Report("sign", n, n * kDocumentBytes, timer);
  return 0;
}

int SignFile(const fs::path& pki, const fs::path& file) {
  Signer signer;
  if (!signer.Load(pki, kSigner)) return Fail("cannot load the signer from " + pki.string() + ": " + OpenSslError());
  BIO* data = BIO_new_file(file.c_str(), "rb");
  if (data == nullptr) return Fail("cannot open " + file.string());
  Timer timer;
  bool ok = signer.SignTo(data, file.string() + ".p7s");
  BIO_free(data);
  if (!ok) return Fail("signing " + file.string() + ": " + OpenSslError());
  Report("sign-file", 1, fs::file_size(file), timer);
  return 0;
}

// ---- Ingest (timed) ----

// What the officer gives: the root as the only trust anchor, the issuing CA
// as a pool, the CRLs as local files, and no network.
Result<archive::IngestOptions> Options(const fs::path& pki) {
  archive::IngestOptions options;
  PRESERVE_ASSIGN_OR_RETURN(options.trust_anchors, LoadCertificates(pki / "root-ca.pem"));
  PRESERVE_ASSIGN_OR_RETURN(options.intermediates, LoadCertificates(pki / "issuing-ca.pem"));
  for (const char* crl : {"root.crl", "issuing.crl"}) {
    PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> crls, LoadCrls(pki / crl));
    options.revocation.crls.insert(options.revocation.crls.end(), crls.begin(), crls.end());
  }
  options.revocation.check = true;
  options.revocation.online = false;
  return options;
}

Result<std::unique_ptr<archive::Archive>> NewStore(const fs::path& root, const Clock& clock) {
  PRESERVE_RETURN_IF_ERROR(archive::Archive::Init(root, {}, clock));
  return archive::Archive::Open(root, clock, {.mode = archive::OpenMode::kWritable});
}

int Ingest(const fs::path& pki, const fs::path& dir, const fs::path& root) {
  SystemClock clock;
  auto options = Options(pki);
  if (!options.ok()) return Fail(options.status());
  std::vector<archive::Submission> submissions;
  std::uint64_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".txt") continue;
    archive::Submission s;
    s.content = entry.path();
    s.signature = entry.path().string() + ".p7s";
    bytes += entry.file_size() + fs::file_size(s.signature);
    submissions.push_back(std::move(s));
  }
  std::sort(submissions.begin(), submissions.end(),
            [](const archive::Submission& a, const archive::Submission& b) { return *a.content < *b.content; });
  auto archive = NewStore(root, clock);
  if (!archive.ok()) return Fail(archive.status());

  bench::Tally tally;
  {
    Timer timer;
    Status s = archive::Ingestion(*archive.value()).IngestAll(submissions, options.value(), std::ref(tally));
    if (!s.ok()) return Fail(s);
    ReportMeasured("ingest", submissions.size(), bytes, timer);
  }
  if (tally.accepted != submissions.size())
    return Fail(std::to_string(tally.refused) + " of " + std::to_string(submissions.size()) +
                " refused; the first: " + tally.first_refusal);
  {
    Timer timer;
    auto sealed = archive::Sealing(*archive.value()).Seal(1'000'000);
    if (!sealed.ok()) return Fail(sealed.status());
    std::size_t packages = 0;
    for (const auto& o : sealed.value()) packages += o.packages;
    if (packages != submissions.size()) return Fail("sealed " + std::to_string(packages) + " packages");
    ReportMeasured("seal", packages, 0, timer);
  }
  {
    Timer timer;  // closing flushes the store's memtables: work the phases leave behind
    archive.value().reset();
    Report("close", submissions.size(), 0, timer);
  }
  return 0;
}

int IngestOne(const fs::path& pki, const fs::path& file, const fs::path& root,
              std::optional<double> sha256sum_seconds) {
  SystemClock clock;
  auto options = Options(pki);
  if (!options.ok()) return Fail(options.status());
  archive::Submission submission;
  submission.content = file;
  submission.signature = file.string() + ".p7s";
  auto archive = NewStore(root, clock);
  if (!archive.ok()) return Fail(archive.status());
  std::printf("%-12s %7s %9s %9s %9s %8s %8.0f\n", "  (store)", "", "", "", "", "", PeakRssMiB());
  Timer timer;
  auto outcome = archive::Ingestion(*archive.value()).Ingest(submission, options.value());
  if (!outcome.ok()) return Fail(outcome.status());
  if (!outcome->accepted) return Fail("refused: " + outcome->reason);
  // MB/s of the document, as sha256sum's
  ReportMeasured("ingest-1GB", 1, fs::file_size(file), timer, sha256sum_seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string phase = argc > 1 ? argv[1] : "";
  if (phase == "sign" && argc == 5) return Sign(argv[2], argv[3], std::stoul(argv[4]));
  if (phase == "sign-file" && argc == 4) return SignFile(argv[2], argv[3]);
  if (phase == "ingest" && argc == 5) return Ingest(argv[2], argv[3], argv[4]);
  if (phase == "ingest-one" && (argc == 5 || argc == 6))
    return IngestOne(argv[2], argv[3], argv[4], argc == 6 ? std::optional(std::stod(argv[5])) : std::nullopt);
  if (phase == "header") {
    std::printf("%-12s %7s %9s %9s %9s %8s %8s\n", "phase", "N", "seconds", "docs/s", "MB/s", "cpu_s", "RSS_MiB");
    return 0;
  }
  std::cerr << "usage: ingest_bench header | sign PKI DIR N | sign-file PKI FILE | ingest PKI DIR STORE |"
               " ingest-one PKI FILE STORE [SHA256SUM_SECONDS]\n";
  return 2;
}
