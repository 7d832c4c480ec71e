// The archive: ingest, seal, verify and export over one store directory.
//
// This is the one place where signature validation (ingest/), time-stamping
// and evidence (timestamp/), the store (storage/) and verification (audit/)
// meet; the modules below know nothing of each other's internals.
//
// A store directory holds:
//   db/          the RocksDB database
//   tsa/         the embedded TSA: local CA (ca.pem, ca.key), the active TSA
//                (tsa.pem, tsa.key) and the certificates of retired TSAs
//   policy.json  the algorithm catalogue in force
//   config.json  renewal margin, key type and validity of new TSA keys
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "preserve/audit/audit_trail.h"
#include "preserve/audit/package_verification.h"
#include "preserve/ingest/signature_validation.h"
#include "preserve/timestamp/algorithm_catalogue.h"
#include "preserve/timestamp/embedded_tsa.h"

namespace preserve::archive {

struct InitOptions {
  timestamp::EmbeddedTsaOptions tsa;
  std::string policy = "etsi";  // a built-in profile (etsi, sogis, bsi) or a catalogue file
  std::chrono::days renewal_margin{180};
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

enum class RenewalKind {
  kTimeStamp,  // RFC 4998 5.2: a new ATS over the last chain's tokens (TSA key, certificate or signature algorithm ending)
  kHashTree,   // RFC 4998 5.2: a new chain under a stronger hash over the data and the whole sequence
};
std::string_view RenewalKindName(RenewalKind kind);  // "timestamp renewal", "hash-tree renewal"

// One package due for renewal, and why.
struct RenewalItem {
  std::string package_id;
  RenewalKind kind = RenewalKind::kTimeStamp;
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha256;  // of the new ATS
  TimePoint deadline;  // when what the newest time-stamp relies on ends
  std::string reason;  // "the TSA certificate expires 2031-11-27T07:00:00Z"
};

struct RenewalPlan {
  TimePoint now;
  TimePoint horizon;  // now + margin: everything ending before it is renewed now
  std::string tsa_rollover;  // why the embedded TSA must roll over first; empty if it need not
  std::vector<RenewalItem> items;
};

struct RenewOptions {
  std::optional<std::chrono::days> margin;  // default: the store's (config.json)
  std::size_t max_batch = 1000000;          // most packages renewed by one time-stamp
};

struct RenewalBatch {
  std::string batch_id;
  RenewalKind kind = RenewalKind::kTimeStamp;
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha256;
  std::size_t packages = 0;
  TimePoint time;
};

struct RenewalOutcome {
  std::string tsa_rollover;  // what the TSA rollover did, if one was due
  std::vector<RenewalBatch> batches;
};

struct VerifyOptions {
  std::vector<Bytes> signer_trust_anchors;  // empty: those kept in each package
};

// ---- Maintenance types (archive/src/maintenance.cc): audit trail, fixity,
// consistency, backup ----

// One audit event as stored: the event's JSON and where it sits in the chain.
struct AuditLogEvent {
  std::uint64_t sequence = 0;
  std::string json;  // {"event": TYPE, "time": ..., fields...}
  Bytes hash;        // SHA-256 of the stored entry (previous hash || event): what the next entry chains to
};

struct FixityOptions {
  double sample = 1.0;  // fraction of packages to re-read, chosen at random (1: all)
};

// One package's fixity: every data object re-read and re-hashed, compared with
// the package record, the manifest and the first archive time-stamp's hash tree.
struct PackageFixity {
  std::string package_id;
  std::size_t objects = 0;
  struct Damage {
    std::string object;  // data object path ("documents/letter.txt"), or "evidence" / "record"
    std::string detail;
  };
  std::vector<Damage> damage;  // empty: OK
};

struct FixitySummary {
  std::size_t packages = 0;  // in the store
  std::size_t checked = 0;   // re-read (all of them, or the sample)
  std::size_t damaged = 0;
  std::size_t objects = 0;   // data objects re-hashed
};

// Internal consistency of the store's indexes (no hashing: that is fixity).
struct ConsistencyReport {
  std::size_t packages = 0;
  std::size_t sealed = 0;
  std::size_t queued = 0;
  std::size_t schedule_entries = 0;
  std::vector<std::string> problems;  // one line each; empty: consistent
};

struct BackupOutcome {
  std::filesystem::path destination;
  std::uint64_t audit_events = 0;  // events in the backed-up trail
  Bytes audit_head;                // the backed-up trail's head hash
  std::size_t files = 0;
  std::uint64_t bytes = 0;
};

class Archive {
 public:
  // Makes a new store at `root`: the database, the embedded TSA, the policy.
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

  // What Renew would do now, without doing it.
  Result<RenewalPlan> PlanRenewal(const RenewOptions& options);
  // Renews every package whose evidence relies on something ending before
  // now + margin: rolls the embedded TSA over first when its certificate or key
  // algorithm is ending, then one time-stamp per batch, each batch one atomic
  // write (killed anywhere and run again, nothing is lost or done twice).
  Result<RenewalOutcome> Renew(const RenewOptions& options);

  // The algorithm catalogue in force.
  const timestamp::AlgorithmCatalogue& policy() const;
  // Replaces the store's policy (a profile name or a catalogue file) and
  // reschedules every sealed package under it.
  Status SetPolicy(const std::string& profile_or_file);

  // Packages in id (= creation) order, starting after `after` ("" for the first page).
  Result<std::vector<PackageSummary>> List(const std::string& after, std::size_t limit);

  Result<audit::PackageReport> Verify(const std::string& package_id, const VerifyOptions& options);
  Status Export(const std::string& package_id, const std::filesystem::path& zip_path);

  // The package's data objects, evidence record and TSA certificates.
  Result<audit::PackageContents> Contents(const std::string& package_id);

  // The store's local CA certificate (DER): the trust anchor for its time-stamps.
  const Bytes& tsa_trust_anchor() const;

  // ---- Maintenance (archive/src/maintenance.cc) ----

  // Audit events from `first_sequence` on, in order; stops when `visit` returns false.
  Status ScanAuditLog(std::uint64_t first_sequence, const std::function<bool(const AuditLogEvent&)>& visit);
  // Walks the audit chain from its start (see audit/audit_trail.h).
  Result<audit::AuditTrailReport> VerifyAuditLog();

  // Re-reads and re-hashes the data objects of every package (or a random
  // sample), calling `each` per package checked, then records a "fixity" audit
  // event with the counts (the archive must be open for writing). Damage is
  // reported, not returned as an error; errors are for a store that cannot be
  // read at all.
  Result<FixitySummary> Fixity(const FixityOptions& options, const std::function<void(const PackageFixity&)>& each);

  // Checks that records, evidence, batches, the seal queue and the renewal
  // schedule agree with each other (content presence, not content hashes).
  Result<ConsistencyReport> Check();

  // Writes a consistent, self-contained copy of the store to `destination`
  // (which must not exist, or be an empty directory): db/ through a RocksDB
  // checkpoint with every file copied (never hard-linked to the live store),
  // tsa/, policy.json, config.json, and backup.json listing each file's
  // SHA-256. Runs on a read-only archive beside a writer; on a writable one it
  // also records a "backup" audit event.
  Result<BackupOutcome> Backup(const std::filesystem::path& destination);
  // Makes a new store at `root` from a backup after checking every file
  // against backup.json. Refuses when `root` exists and is not empty.
  static Result<BackupOutcome> Restore(const std::filesystem::path& backup, const std::filesystem::path& root,
                                       const Clock& clock);

  // Writes the package's data objects (documents/, signatures/, validation/,
  // manifest.json) and, when sealed, evidence.ers into `out_dir` (created if
  // missing). Checks each object's SHA-256 first; refuses to overwrite any file.
  // Returns the paths written.
  Result<std::vector<std::filesystem::path>> Get(const std::string& package_id, const std::filesystem::path& out_dir);

 private:
  struct Impl;
  explicit Archive(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve::archive
