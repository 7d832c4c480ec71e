// What the benchmark drivers share: timing (wall, CPU, peak RSS), synthetic
// packages written straight into a store, and detached CAdES signatures made
// with OpenSSL over distinct generated documents. Benchmarks only: nothing
// here is part of the library.
//
// Synthetic packages are written through the archive's bulk loading
// (preserve/archive/bulk_load.h), as a million real ingests (CMS validation,
// one synced commit per group) would take hours and are not what seal_bench
// and store_bench measure.
#pragma once

#include <openssl/bio.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "preserve/archive/archive.h"
#include "preserve/archive/ingestion.h"
#include "preserve/package/record_metadata.h"
#include "preserve/storage/store.h"
#include "preserve/util/bytes.h"
#include "preserve/util/clock.h"
#include "preserve/util/status.h"

namespace preserve::bench {

// ---- Timing ----

double PeakRssMiB();  // the process's peak resident set so far (VmHWM)
double CpuSeconds();  // user + system, all threads, since the process started

// Wall and CPU time since construction.
class Timer {
 public:
  Timer();
  double wall() const;
  double cpu() const;

 private:
  std::chrono::steady_clock::time_point wall_;
  double cpu_;
};

// The machine-readable line of one measured phase (bench/README.md), on stdout:
//   result bench=BENCH phase=PHASE n=N seconds=S rss_mib=M baseline_seconds=B
// B is "-" when the phase has no baseline. The bench/*.sh scripts keep these
// lines apart from the table and print them last (bench/bench_lib.sh).
void PrintResult(const std::string& bench, const std::string& phase, std::size_t n, double seconds, double rss_mib,
                 std::optional<double> baseline_seconds = std::nullopt);

Bytes Sha256(ByteView data);

// ---- Synthetic packages ----

inline constexpr std::size_t kObjectsPerPackage = 6;  // the last is manifest.json

// Object j's path in a synthetic package: signatures/letter.p7s, documents/part-J.txt, manifest.json.
std::string ObjectPath(std::size_t j);
// Distinct small content (about 60 bytes) for object j of package `package`:
// the same in every run and phase, so a baseline can hash it again. With
// `package_bytes`, the document object (j = 1) is filled with generated text
// so that the package's objects hold that many bytes in all (at least their
// small content): what hashing real documents costs.
Bytes ObjectContent(std::size_t package, std::size_t j, std::size_t package_bytes = 0);

// The organisations synthetic packages (and store_bench's signed documents)
// are issued by: package i by SyntheticOrgan(i % kSyntheticOrgans).
inline constexpr std::size_t kSyntheticOrgans = 16;
std::string SyntheticOrgan(std::size_t k);

// The record metadata of synthetic package i (organ SyntheticOrgan(i), an
// issue date spread over 2016-2025, code number i % 100000 + 1).
package::RecordMetadata SyntheticMetadata(std::size_t i);

struct SyntheticOptions {
  TimePoint created;  // the packages' creation time (ids still come from the clock)
  // false: the manifest object is ObjectContent like the others (seal_bench:
  // sealing never reads it). true: a real manifest.json (ingest/manifest.h)
  // with SyntheticMetadata(i) and one VALID signature entry, so that
  // Catalogue::List and its filters read it as they read an ingested one.
  bool manifest = false;
  std::size_t package_bytes = 0;  // ObjectContent's
};

// Writes packages number [first, first + count) as queued packages straight
// into `store` (package record, content, queue entry), 10,000 per commit.
Status WriteSyntheticPackages(storage::Store& store, const Clock& clock, std::size_t first, std::size_t count,
                              const SyntheticOptions& options);

// ---- Signed documents ----

// Distinct 10 KB of text per document: a header naming it, then lines from a
// per-document xorshift stream (no two documents share content, so the store
// deduplicates nothing).
inline constexpr std::size_t kDocumentBytes = 10 * 1024;
std::string DocumentText(std::size_t i);
std::filesystem::path DocumentPath(const std::filesystem::path& dir, std::size_t i);  // DIR/doc-NNNNN.txt

// The OpenSSL error queue as one line, emptied.
std::string OpenSslError();

// A signer from a PKI directory: NAME.pem and NAME.key, with issuing-ca.pem
// carried in every SignedData.
class Signer {
 public:
  Signer() = default;
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;
  ~Signer();
  // False (with the OpenSSL error queue set) when a file is missing or unreadable.
  bool Load(const std::filesystem::path& pki, const std::string& name);
  // A detached CAdES signature (CMS_BINARY | CMS_DETACHED, SHA-256, signed
  // attributes with OpenSSL's signing time) over what `data` reads, written
  // as DER to `out`. The content is digested as it is read.
  bool SignTo(BIO* data, const std::filesystem::path& out) const;

 private:
  X509* cert_ = nullptr;
  EVP_PKEY* key_ = nullptr;
  STACK_OF(X509)* chain_ = nullptr;  // the issuing CA, carried in every SignedData
};

// Writes documents [first, first + count) as DIR/doc-NNNNN.txt, each with its
// detached signature DIR/doc-NNNNN.txt.p7s, on every core (at most 16 threads).
Status SignDocuments(const Signer& signer, const std::filesystem::path& dir, std::size_t first, std::size_t count);

// Counts ingest outcomes; every document must be accepted, or the figure means nothing.
struct Tally {
  std::size_t accepted = 0, refused = 0;
  std::string first_refusal;
  void operator()(const archive::IngestOutcome& o) {
    if (o.accepted) {
      ++accepted;
    } else if (refused++ == 0) {
      first_refusal = o.input + ": " + o.reason;
    }
  }
};

}  // namespace preserve::bench
