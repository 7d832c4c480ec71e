// The archive: ingest, seal, verify and export over one store directory.
//
// This is the one place where signature validation (ingest/), time-stamping
// and evidence (timestamp/), the store (storage/) and verification (audit/)
// meet; the modules below know nothing of each other's internals.
//
// A store directory holds:
//   db/    the RocksDB database
//   tsa/   the embedded TSA: local CA (ca.pem, ca.key) and TSA (tsa.pem, tsa.key)
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "preserve/audit/package_verification.h"
#include "preserve/ingest/signature_validation.h"
#include "preserve/timestamp/embedded_tsa.h"

namespace preserve::archive {

struct InitOptions {
  timestamp::EmbeddedTsaOptions tsa;
};

// What a records officer hands in: one signed document.
struct Submission {
  std::filesystem::path signature;              // .p7s (detached) or .p7m (enveloping CMS)
  std::optional<std::filesystem::path> content;  // the signed document, for a detached signature
};

struct IngestOptions {
  std::vector<Bytes> trust_anchors;  // DER
  std::vector<Bytes> intermediates;  // DER
};

struct IngestOutcome {
  std::string input;          // what the officer named: the document (or the .p7m)
  bool accepted = false;
  std::string package_id;     // when accepted
  std::string reason;         // when refused: one line
  std::vector<ingest::SignatureReport> signatures;
};

struct SealOutcome {
  std::string batch_id;
  std::size_t packages = 0;
  TimePoint time;  // the token's genTime
};

struct PackageSummary {
  std::string id;
  TimePoint created;
  std::string state;                   // "queued" or "sealed"
  std::vector<std::string> documents;  // paths under data/documents/
  std::optional<TimePoint> next_renewal;
};

struct VerifyOptions {
  std::vector<Bytes> signer_trust_anchors;  // empty: those kept in each package
};

class Archive {
 public:
  // Makes a new store at `root`: the database and the embedded TSA.
  static Status Init(const std::filesystem::path& root, const InitOptions& options, const Clock& clock);
  // Opens an existing store; read-only opens may run beside a writer.
  static Result<std::unique_ptr<Archive>> Open(const std::filesystem::path& root, bool read_only,
                                               const Clock& clock);
  ~Archive();

  // Validates one submission and, when it is trustworthy, stores it as a new
  // package queued for sealing (one atomic write). A refusal stores nothing but
  // an audit event. Errors are for inputs that cannot be read at all.
  Result<IngestOutcome> Ingest(const Submission& submission, const IngestOptions& options);

  // Seals every queued package, at most `max_batch` per time-stamp request.
  // Each batch is one atomic write: a failure leaves its packages queued.
  Result<std::vector<SealOutcome>> Seal(std::size_t max_batch);

  // Packages in id (= creation) order, starting after `after` ("" for the first page).
  Result<std::vector<PackageSummary>> List(const std::string& after, std::size_t limit);

  Result<audit::PackageReport> Verify(const std::string& package_id, const VerifyOptions& options);
  Status Export(const std::string& package_id, const std::filesystem::path& zip_path);

  // The package's data objects, evidence record and TSA certificates.
  Result<audit::PackageContents> Contents(const std::string& package_id);

  // The store's local CA certificate (DER): the trust anchor for its time-stamps.
  const Bytes& tsa_trust_anchor() const;

 private:
  struct Impl;
  explicit Archive(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve::archive
