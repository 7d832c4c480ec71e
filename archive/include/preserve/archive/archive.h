// The archive: one opened store directory, and what every operation on it
// shares: the store, the package and batch records, audit events, the clock,
// the algorithm policy and whether it may be written.
//
// The operations are services on an opened Archive, each in its own header:
//   ingestion.h     Ingest, IngestAll: the ingest gate
//   sealing.h       Seal, Renew, RestartLapsedEvidence: evidence made and kept alive
//   verification.h  Verify, Export, Contents, Get
//   maintenance.h   audit log, Fixity, Check, CollectGarbage, Repair, Backup, Restore
//   lifecycle.h     versions, retention, holds, Delete
//   catalogue.h     List, Overview, ReportSignatureUse, trust list, policy
// e.g. `Sealing(*archive).Seal(1000)`. This is the one place where input
// (ingest/), signature validation (signature/), the package model (package/),
// time-stamping and evidence (timestamp/), the store (storage/) and
// verification (audit/) meet; the modules below know nothing of each other's
// internals.
//
// A store directory holds:
//   db/          the RocksDB database
//   tsa/         the embedded TSA: local CA (ca.pem, ca.key), the active TSA
//                (tsa.pem, tsa.key) and the certificates of retired TSAs
//   policy.json  the algorithm catalogue in force
//   config.json  renewal margin, key type and validity of new TSA keys
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "preserve/policy/algorithm_catalogue.h"
#include "preserve/storage/object_store.h"
#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/util/clock.h"
#include "preserve/util/status.h"

namespace preserve::archive {

// Where a package is in its life, as List, Versions and Check name it. The
// names are stored ("deleted" in a tombstoned package record) and printed: they
// never change.
enum class PackageState {
  kQueued,   // ingested, no evidence yet
  kSealed,   // it has evidence
  kDeleted,  // a tombstone: its record and evidence stay, its content is gone
};
std::string_view PackageStateName(PackageState state);  // "queued", "sealed", "deleted"
// The state a name gives; nullopt for any other text.
std::optional<PackageState> PackageStateFromName(std::string_view name);

struct InitOptions {
  timestamp::EmbeddedTsaOptions tsa;
  std::string policy = "etsi";  // a built-in profile (etsi, sogis, bsi) or a catalogue file
  std::chrono::days renewal_margin{180};
  // Unset: content in the store's RocksDB database. Set: in this S3 bucket,
  // recorded in config.json ("content"); init checks that the bucket answers
  // (and, for a lock mode other than NONE, that it has Object Lock enabled).
  std::optional<storage::S3Location> content;
};

// Whether an Archive may change the store. Only a writable one holds the
// writer lock and the embedded TSA's key, records audit events, seals and
// changes packages; a read-only one may run beside a writer (or on read-only
// media) and refuses every change with kFailedPrecondition.
enum class OpenMode { kReadOnly, kWritable };

struct OpenOptions {
  OpenMode mode = OpenMode::kReadOnly;
  // Data objects above this size are stored, and read, in chunks of it
  // (storage::StoreOptions); 0: the store's default, 4 MiB. Tests shrink it
  // to exercise chunking quickly.
  std::size_t content_chunk_size = 0;
  // A writable open that keeps the store (the service) says what it is, e.g.
  // "preserve serve, listening on https://127.0.0.1:8443": a second writer is
  // then told who holds the store and to stop it or use its API
  // (storage::StoreOptions::holder). Empty: it names only the pid.
  std::string holder{};
};

class Archive {
 public:
  // Makes a new store at `root`: the database, the embedded TSA, the policy.
  static Status Init(const std::filesystem::path& root, const InitOptions& options, const Clock& clock);
  // Opens an existing store; read-only opens may run beside a writer.
  static Result<std::unique_ptr<Archive>> Open(const std::filesystem::path& root, const Clock& clock,
                                               const OpenOptions& options);
  ~Archive();

  // The store's local CA certificate (PEM): what auditors are given to trust
  // the store's time-stamps ('verify-package --tsa-trust').
  static std::filesystem::path LocalCaPath(const std::filesystem::path& root);

  // Opened with OpenMode::kWritable.
  bool writable() const;

  // The algorithm catalogue in force (Catalogue::SetPolicy replaces it).
  const policy::AlgorithmCatalogue& policy() const;
  // The store's local CA certificate (DER): the trust anchor for its time-stamps.
  const Bytes& tsa_trust_anchor() const;

 private:
  // The services share the opened store through Impl (archive/src/archive_impl.h).
  friend class Ingestion;
  friend class Sealing;
  friend class Verification;
  friend class Maintenance;
  friend class Lifecycle;
  friend class Catalogue;
  friend class Accounts;
  friend class ScheduledJobs;
  struct Impl;
  explicit Archive(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve::archive
