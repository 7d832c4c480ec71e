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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/audit/audit_trail.h"
#include "preserve/audit/package_verification.h"
#include "preserve/package/record_metadata.h"
#include "preserve/signature/signature_validation.h"
#include "preserve/policy/algorithm_catalogue.h"
#include "preserve/timestamp/embedded_tsa.h"

namespace preserve::archive {

struct InitOptions {
  timestamp::EmbeddedTsaOptions tsa;
  std::string policy = "etsi";  // a built-in profile (etsi, sogis, bsi) or a catalogue file
  std::chrono::days renewal_margin{180};
};

// What a records officer hands in: one signed document.
struct Submission {
  // The file that carries the signature: a detached CMS/CAdES signature
  // (.p7s, with `content`), an enveloping one (.p7m), a signed PDF (PAdES) or
  // an ASiC-S/ASiC-E container. PDF and ASiC are recognised by their bytes.
  std::filesystem::path signature;
  std::optional<std::filesystem::path> content;   // the signed document, for a detached signature
  std::optional<std::filesystem::path> metadata;  // record metadata sidecar (ingest/record_metadata.h)
  std::string name;  // how outcomes and the audit trail name it; empty: the document's path
  // The names the package gives `signature` and `content` (their last part),
  // as the input layer recorded them: UTF-8 in NFC (bulk_input.h). Empty: the
  // files' own names. A name that is not UTF-8 in NFC refuses the submission
  // (NAME_INVALID): no name that could not be read back enters the store.
  std::string signature_name = {};
  std::string content_name = {};
};

struct IngestOptions {
  std::vector<Bytes> trust_anchors;  // DER
  std::vector<Bytes> intermediates;  // DER
  std::vector<Bytes> timestamp_trust_anchors;  // for signature time-stamps; empty: trust_anchors
  signature::RevocationOptions revocation;
  // The ingest policy: TOTAL-FAILED is always refused; INDETERMINATE is
  // refused unless this is set (then accepted, and the manifest says so).
  bool accept_indeterminate = false;
};

// One signature of a submission, as a records officer reads it.
struct SignatureOutcome {
  std::string label;  // "CAdES detached", "PAdES Signature1 (adbe.pkcs7.detached)", "ASiC-E META-INF/signature.p7s"
  signature::SignatureReport report;
};

struct IngestOutcome {
  std::string input;          // what the officer named: the document (or the signed file)
  bool accepted = false;
  bool error = false;         // the input could not be read at all (nothing was decided)
  std::string package_id;     // when accepted
  std::string reason;         // when refused or in error: one line
  std::string format;         // "CAdES detached", "CAdES enveloping", "PAdES", "ASiC-S", "ASiC-E"
  std::vector<SignatureOutcome> signatures;
  std::optional<package::RecordMetadata> metadata;
};

struct SealOutcome {
  std::string batch_id;
  std::size_t packages = 0;
  TimePoint time;  // the token's genTime
};

struct PackageSummary {
  std::string id;
  // Set when the package could not be read (a damaged block, a record that
  // is not JSON): what, and why; the fields below are then empty. `id` is
  // empty too when damage hid even the ids (`unreadable` names the ids the
  // damaged stretch lies between). Listed whatever the filter.
  std::string unreadable;
  TimePoint created;
  // How many versions the package has; the fields below (but `created`) are
  // those of the latest, which is stored as `latest_id`.
  std::uint32_t versions = 1;
  std::string latest_id;
  std::optional<package::RecordMetadata> metadata;  // from the manifest, when the package has record metadata
  std::vector<std::string> signer_organizations;    // of the package's signatures, without repeats
  std::string state;                   // "queued", "sealed" or "deleted" (a tombstone)
  std::vector<std::string> documents;  // paths under data/documents/
  std::optional<TimePoint> next_renewal;
};

// One version of a package (Archive::Versions).
struct VersionSummary {
  std::string unreadable;  // set when this version's records could not be read: why (`id` is set, little else)
  std::uint32_t version = 1;
  // What Verify, Export, Get and Contents take for this version: the
  // package's id for version 1, "ID.v0002" for version 2, and so on.
  std::string id;
  TimePoint created;
  std::string state;  // "queued", "sealed" or "deleted"
  std::vector<std::string> documents;  // paths under data/documents/
  std::string change;  // what it changed, from its manifest ("document added: documents/x.pdf"); "" for version 1
};

// What a new version of a package changes (Archive::AddVersion): a signed
// document added, the record metadata replaced, or both.
struct VersionChange {
  std::optional<Submission> document;  // its own `metadata` is not used: `metadata` below is
  std::optional<std::filesystem::path> metadata;
};

enum class RenewalKind {
  kTimeStamp,  // RFC 4998 5.2: a new ATS over the last chain's tokens (TSA key, certificate or signature algorithm ending)
  kHashTree,   // RFC 4998 5.2: a new chain under a stronger hash over the data and the whole sequence
};
std::string_view RenewalKindName(RenewalKind kind);  // "timestamp renewal", "hash-tree renewal"

// One evidence subject due for renewal, and why. Subjects are packages and
// the audit trail's sealed heads (renewed alike, so that the trail's own
// evidence outlives its algorithms too).
struct RenewalItem {
  std::string package_id;  // a package (or version) id, or a head's id (SubjectName says which)
  RenewalKind kind = RenewalKind::kTimeStamp;
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha256;  // of the new ATS
  TimePoint deadline;  // when what the newest time-stamp relies on ends
  std::string reason;  // "the TSA certificate expires 2031-11-27T07:00:00Z"
};

// How people read an evidence subject's id: the package id, or "the audit trail head sealed by batch B".
std::string SubjectName(std::string_view subject_id);

struct RenewalPlan {
  TimePoint now;
  TimePoint horizon;  // now + margin: everything ending before it is renewed now
  std::string tsa_rollover;  // why the embedded TSA must roll over first; empty if it need not
  std::string trail_anchor;  // why the audit trail is anchored under a stronger hash first; empty if it need not
  std::vector<RenewalItem> items;  // renewed in time: their deadline is still ahead
  // Lapsed: their deadline had passed when the run started, so their newest
  // time-stamp stopped protecting them before any newer one covered it.
  // Renewal cannot repair that (a new time-stamp over a lapsed chain proves
  // nothing about the time before it); they are not renewed, and stay listed
  // until RestartLapsedEvidence starts a new chain for them.
  std::vector<RenewalItem> lapsed;
};

struct RenewOptions {
  std::optional<std::chrono::days> margin;  // default: the store's (config.json)
  std::size_t max_batch = 1000000;          // most packages renewed by one time-stamp
};

struct RenewalBatch {
  std::string batch_id;
  RenewalKind kind = RenewalKind::kTimeStamp;
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha256;
  std::size_t packages = 0;  // packages and versions renewed
  TimePoint time;
  std::size_t trail_heads = 0;  // the audit trail's sealed heads renewed with them
};

struct RenewalOutcome {
  std::string tsa_rollover;  // what the TSA rollover did, if one was due
  std::string trail_anchor;  // what anchoring the audit trail did, if it was due
  std::vector<RenewalBatch> batches;
  std::vector<RenewalItem> lapsed;  // found lapsed, not renewed (RenewalPlan::lapsed); recorded in a "lapse" event
  // Each batch's new evidence is verified, once committed, as `verify` would
  // (one subject per batch); what did not verify, one line each. Empty when all did.
  std::vector<std::string> self_check_failures;
};

// A new evidence chain started for lapsed subjects (RestartLapsedEvidence).
struct RestartOutcome {
  std::string batch_id;
  std::vector<std::string> subjects;  // in the order given or found
  TimePoint time;                     // the new chains' first time-stamp: existence is proven from then on
};

struct VerifyOptions {
  // Trust anchors for the signers besides the store's trust list (TrustList).
  std::vector<Bytes> signer_trust_anchors;
};

// One trust anchor of the store's trust list: a CA whose signers this
// archive accepts. Anchors come only from here (and from what a verifier
// supplies), never from the package being verified.
struct TrustListEntry {
  Bytes certificate;        // DER
  std::string subject;      // RFC 2253
  std::string fingerprint;  // SHA-256, "AB:CD:..."
  TimePoint added;
  std::string added_by;
  std::string reason;       // "given with --trust at ingest", or what `trust add` was told
};

// ---- Maintenance types (archive/src/maintenance.cc): audit trail, fixity,
// consistency, backup ----

// One audit event as stored: the event's JSON and where it sits in the chain.
struct AuditLogEvent {
  std::uint64_t sequence = 0;
  // {"event": TYPE, "time": ..., fields...}. An event recorded before
  // preserve escaped bytes that are not UTF-8 may hold such bytes raw (a file
  // name): it is shown as EscapeInvalidUtf8 shows it (each such byte "%XX",
  // preserve/util/unicode.h), and `escaped` is set. The stored bytes are never
  // rewritten: the chain's hashes are over them.
  std::string json;
  bool escaped = false;
  Bytes hash;  // SHA-256 of the stored entry (previous hash || event): what the next entry chains to
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
  std::size_t deleted = 0;  // tombstones
  std::size_t schedule_entries = 0;
  // Evidence subjects (packages and the trail's sealed heads) whose renewal
  // came too late: each is also a problem line.
  std::size_t lapsed = 0;
  std::vector<std::string> problems;  // one line each; empty: consistent
  // Content no package refers to: exactly what CollectGarbage would collect
  // (chunks of an ingest killed just before its commit, or left by refusals
  // in earlier versions). Harmless; not a problem.
  std::size_t garbage_objects = 0;
  std::uint64_t garbage_bytes = 0;
};

// What CollectGarbage found and, unless it was a dry run, erased.
struct GarbageCollection {
  std::size_t values = 0;   // values of the content family no package refers to: objects, chunks, chunk lists
  std::uint64_t bytes = 0;  // their size
  bool erased = false;
};

// One row Repair rewrote (or, in a dry run, would).
struct RepairedRow {
  std::string row;        // "package ID", "lifecycle record of package ID", "trust list entry SHA256"
  Bytes original_sha256;  // of the bytes as they were
  std::string kept_as;    // the store setting that keeps those bytes ("repair/original/packages/ID")
};

struct RepairOutcome {
  std::vector<RepairedRow> repaired;
  // Rows that are not UTF-8 and would not read even once escaped (damaged
  // beyond their names): what, and why. Left as they are.
  std::vector<std::string> unrepairable;
};

// ---- Retention, holds and deletion types (archive/src/retention.cc) ----

// How long a package must be kept: the retention period of its record
// metadata (Decree 30/2020/ND-CP, "thời hạn bảo quản"), permanently or for a
// number of years from the package's creation.
struct Retention {
  bool permanent = true;
  int years = 0;  // when not permanent: 1 to 1000
};

// A hold (litigation, audit, inquiry): while any is in force the package may
// not be deleted, whatever its retention says.
struct Hold {
  std::uint32_t number = 0;  // per package, from 1, never reused
  std::string reason;
  std::string placed_by;
  TimePoint placed_at;
};

// What is kept, forever, of a deleted package: with the package's evidence
// record, the proof that data objects with these digests existed, and when,
// why and by whom they were deleted.
struct Tombstone {
  TimePoint deleted_at;
  std::string reason;
  std::string deleted_by;
  struct Object {
    std::string path;  // relative to data/
    std::uint64_t size = 0;
    // Under every hash algorithm preserve knows, computed from the content
    // before it was erased: hash-tree renewal of the evidence needs H'(data).
    std::map<HashAlgorithm, Bytes> digests;
  };
  std::vector<Object> objects;
};

struct PackageLifecycle {
  std::string package_id;
  std::string unreadable;  // Held() only: set when this record could not be read: why (the rest is empty)
  Retention retention;                    // permanent for a package without a lifecycle record
  std::optional<TimePoint> retain_until;  // unset: permanent
  std::vector<Hold> holds;                // in force
  std::uint32_t holds_placed = 0;         // hold numbers used so far
  std::optional<Tombstone> tombstone;     // set once deleted
};

struct DeletionOutcome {
  std::string package_id;
  TimePoint deleted_at;
  std::size_t objects = 0;  // data objects of the package
  std::size_t erased = 0;   // content blobs removed from the store
  std::size_t shared = 0;   // content kept because another package holds the same bytes
  std::uint64_t bytes_erased = 0;
};

// Which packages `List` returns: all of them, or those matching every field
// set. Text fields match when the package's field contains the text
// (byte-wise: "Đắk Nông" finds "UBND tỉnh Đắk Nông").
struct ListFilter {
  std::string organ;                // organ_name or organ_id of the record metadata
  std::string type_name;            // "Công văn"
  std::string issued_from;          // YYYY-MM-DD, inclusive
  std::string issued_to;            // YYYY-MM-DD, inclusive
  std::string signer_organization;  // O= of any signer
  bool empty() const {
    return organ.empty() && type_name.empty() && issued_from.empty() && issued_to.empty() &&
           signer_organization.empty();
  }
};

// The signature-use report (the province monitors digital-signature use per
// agency): what was submitted between two times, from the audit trail, so
// refusals (which store nothing else) are counted too.
enum class ReportGrouping { kNone, kOrgan, kSignerOrganization, kMonth };
struct SignatureUseRow {
  std::string group;  // the organ, signer organization or month ("2026-11"); "(none)" when unknown; "" without grouping
  std::size_t submitted = 0;
  std::size_t accepted = 0;
  std::size_t refused = 0;
  std::map<std::string, std::size_t> refused_by_reason;  // "NO_CERTIFICATE_CHAIN_FOUND" -> 3
};
struct SignatureUseReport {
  TimePoint from;
  TimePoint to;
  ReportGrouping grouping = ReportGrouping::kNone;
  std::vector<SignatureUseRow> rows;  // sorted by group
  SignatureUseRow total;
  // Audit events that could not be read (damage, or not JSON), one line
  // each: what they were is not counted.
  std::vector<std::string> unreadable;
};

struct BackupOutcome {
  std::filesystem::path destination;
  std::uint64_t audit_events = 0;  // events in the backed-up trail
  Bytes audit_head;                // the backed-up trail's head hash
  std::size_t files = 0;
  std::uint64_t bytes = 0;
};

// The last run of a scheduled job (renew, fixity), as the store recorded it.
struct JobRun {
  TimePoint time;
  std::string outcome;  // "renewed 120 subjects in 2 batches; 0 lapsed", "1000 checked, 0 damaged"
  bool ok = true;       // false: it found lapsed evidence, damage, or failed to verify its own work
};

// What an operator looks at first (`preserve status`).
struct StoreStatus {
  std::size_t packages = 0;  // holdings: packages, counted once whatever their versions
  std::size_t versions = 0;  // stored versions beyond each package's first
  std::size_t sealed = 0;    // of packages and versions
  std::size_t queued = 0;
  std::size_t deleted = 0;
  struct Deadline {
    std::string subject;  // a package or a trail head (SubjectName)
    TimePoint due;
  };
  std::vector<Deadline> next_deadlines;  // the nearest renewal deadlines still ahead, earliest first
  std::size_t lapsed = 0;                // subjects whose deadline has passed (renew lists them)
  std::vector<Deadline> first_lapsed;    // the earliest of them
  std::optional<JobRun> last_renewal;
  std::optional<JobRun> last_fixity;
  std::uint64_t store_bytes = 0;  // the database's files on disk
  Bytes tsa_ca_certificate;       // DER: the archive's time-stamping CA, whose fingerprint auditors compare
  std::optional<TimePoint> tsa_certificate_not_after;  // the embedded TSA's active certificate
  std::string policy;
  std::size_t trust_anchors = 0;  // on the signers' trust list
};

// How a store is opened, beyond read-only.
struct ArchiveOpenOptions {
  // Data objects above this size are stored, and read, in chunks of it
  // (storage::StoreOptions); 0: the store's default, 4 MiB. Tests shrink it
  // to exercise chunking quickly.
  std::size_t content_chunk_size = 0;
};

class Archive {
 public:
  // Makes a new store at `root`: the database, the embedded TSA, the policy.
  static Status Init(const std::filesystem::path& root, const InitOptions& options, const Clock& clock);
  // Opens an existing store; read-only opens may run beside a writer.
  static Result<std::unique_ptr<Archive>> Open(const std::filesystem::path& root, bool read_only,
                                               const Clock& clock, const ArchiveOpenOptions& options = {});
  ~Archive();

  // Validates one submission and, when it is trustworthy, stores it as a new
  // package queued for sealing (one atomic write). A refusal stores nothing but
  // an audit event. An input that cannot be read is an outcome with `error`
  // set; errors are for a store that cannot be written.
  Result<IngestOutcome> Ingest(const Submission& submission, const IngestOptions& options);
  // Ingests many submissions: validates them in parallel and commits them in
  // groups (group commit: one synced write per group), calling `each` for every
  // submission, in order, once its group is durable (an accepted package is
  // acknowledged only then). Stops at the first store error, returning it;
  // outcomes already reported stay committed.
  Status IngestAll(const std::vector<Submission>& submissions, const IngestOptions& options,
                   const std::function<void(const IngestOutcome&)>& each);

  // Seals every queued package, at most `max_batch` per time-stamp request.
  // Each batch is one atomic write: a failure leaves its packages queued.
  Result<std::vector<SealOutcome>> Seal(std::size_t max_batch);

  // What Renew would do now, without doing it.
  Result<RenewalPlan> PlanRenewal(const RenewOptions& options);
  // Renews every package (and sealed trail head) whose evidence relies on
  // something ending before now + margin: rolls the embedded TSA over first
  // when its certificate or key algorithm is ending, anchors the audit trail
  // under a stronger hash when its link hash is ending, then one time-stamp
  // per batch, each batch one atomic write (killed anywhere and run again,
  // nothing is lost or done twice). What had already lapsed when the run
  // started is not renewed but reported (outcome.lapsed) and recorded in a
  // "lapse" audit event; each batch's new evidence is verified once committed.
  Result<RenewalOutcome> Renew(const RenewOptions& options);

  // Starts a new evidence chain, in one batch, for each of `subject_ids`
  // (package or version ids, or heads' ids), or for every lapsed subject when
  // it is empty. Each must have lapsed (kFailedPrecondition otherwise: renewal
  // keeps it). The lapsed evidence is kept beside the new chain, for the
  // record, and verification then says that existence is proven only from the
  // new chain's first time-stamp, and when the earlier one lapsed. Nothing is
  // back-dated. One "evidence-restart" audit event with `reason` and `actor`.
  Result<RestartOutcome> RestartLapsedEvidence(const std::vector<std::string>& subject_ids,
                                               const std::string& reason, const std::string& actor);

  // Holdings, deadlines, lapsed evidence, the last renewal and fixity runs.
  // Reads every package record (seconds at a million packages); `deadlines`
  // bounds how many nearest deadlines and lapsed subjects it names.
  Result<StoreStatus> Overview(std::size_t deadlines = 5);

  // The algorithm catalogue in force.
  const policy::AlgorithmCatalogue& policy() const;
  // Replaces the store's policy (a profile name or a catalogue file) and
  // reschedules every sealed package under it.
  Status SetPolicy(const std::string& profile_or_file);

  // Packages in id (= creation) order, starting after `after` ("" for the first
  // page), up to `limit` of those matching `filter`. A filter reads each
  // package's manifest: a scan of the whole store when few packages match.
  // A package that cannot be read is listed with PackageSummary::unreadable
  // set, and the listing goes on; errors are for a store that cannot be read.
  Result<std::vector<PackageSummary>> List(const std::string& after, std::size_t limit, const ListFilter& filter = {});

  // ---- Versions ----
  //
  // Makes version N+1 of a package from its latest version N: N's data
  // objects and manifest, with the change's document added (validated as an
  // ingest validates it, with its signatures and validation material; a
  // refusal stores nothing but its audit event) and/or its record metadata in
  // place of N's. The new version is stored as a package of its own
  // (VersionSummary::id), queued for sealing, so its evidence covers every
  // data object it holds; its manifest names version N and N's manifest's
  // SHA-256. Version N stays as it was, with its own evidence. The outcome's
  // package_id is the new version's id. A document of a path N holds with
  // other content, or a change that changes nothing, is refused like a
  // document at ingest (VERSION_CONFLICT, VERSION_UNCHANGED). kNotFound: no
  // such package; kInvalidArgument: no change, or `package_id` names a
  // version; kFailedPrecondition: the package is deleted.
  Result<IngestOutcome> AddVersion(const std::string& package_id, const VersionChange& change,
                                   const IngestOptions& options);
  // Every version of a package, oldest first; one that cannot be read has
  // VersionSummary::unreadable set. kNotFound: no such package.
  Result<std::vector<VersionSummary>> Versions(const std::string& package_id);
  // The id under which version `version` (0: the latest) of a package is stored.
  Result<std::string> VersionId(const std::string& package_id, std::uint32_t version);

  // Ingests and refusals with an event time in [from, to), counted per group.
  // Events that cannot be read are named in SignatureUseReport::unreadable.
  Result<SignatureUseReport> ReportSignatureUse(TimePoint from, TimePoint to, ReportGrouping grouping);

  Result<audit::PackageReport> Verify(const std::string& package_id, const VerifyOptions& options);
  Status Export(const std::string& package_id, const std::filesystem::path& zip_path);

  // The package's data objects, evidence record and TSA certificates. Objects
  // larger than the content chunk size are streamed from the store when read:
  // the result must not outlive this Archive.
  Result<audit::PackageContents> Contents(const std::string& package_id);

  // The store's local CA certificate (DER): the trust anchor for its time-stamps.
  const Bytes& tsa_trust_anchor() const;

  // ---- The signers' trust list (archive/src/trust.cc) ----
  //
  // The CAs whose signers this archive accepts, kept in the store: ingest
  // validates against them (and against any anchor given for one run, which
  // joins the list, audited, once a package is accepted on it), and Verify
  // re-validates against them. Each change is an audit event.

  Result<std::vector<TrustListEntry>> TrustList() const;
  // kAlreadyExists when it is listed; kInvalidArgument when `der` is not a certificate.
  Status AddTrustAnchor(const Bytes& der, const std::string& reason, const std::string& actor);
  // kNotFound when no anchor has that SHA-256 fingerprint.
  Status RemoveTrustAnchor(const Bytes& sha256, const std::string& reason, const std::string& actor);

  // ---- Maintenance (archive/src/maintenance.cc) ----

  // Audit events from `first_sequence` on, in order; stops when `visit` returns false.
  // With `unreadable`, a stretch of the trail that cannot be read (a damaged
  // block) is named to it, and the scan goes on past it; without, it fails.
  Status ScanAuditLog(std::uint64_t first_sequence, const std::function<bool(const AuditLogEvent&)>& visit,
                      const std::function<void(const std::string&)>& unreadable = {});
  // Walks the audit chain from its start (see audit/audit_trail.h).
  Result<audit::AuditTrailReport> VerifyAuditLog();

  // Re-reads and re-hashes the data objects of every package (or a random
  // sample), calling `each` per package checked, then, on an archive open for
  // writing, records a "fixity" audit event with the counts (a read-only one,
  // on read-only media or beside a writer, cannot: the caller says so).
  // Damage, a record or a stretch of records that cannot be read included,
  // is reported, not returned as an error; errors are for a store that cannot
  // be read at all.
  Result<FixitySummary> Fixity(const FixityOptions& options, const std::function<void(const PackageFixity&)>& each);

  // Checks that records, evidence, batches, the seal queue and the renewal
  // schedule agree with each other (content presence, not content hashes).
  // What cannot be read (damage) is a problem, and the check goes on.
  Result<ConsistencyReport> Check();

  // Finds the content no package record refers to (garbage.h: what Check
  // counts as garbage) and, unless `dry_run`, erases it in one atomic write
  // with a "gc" audit event (none when there is nothing to erase), then
  // compacts the content family to give the space back. Erases nothing while
  // any package record, or chunk list, cannot be read (kFailedPrecondition).
  // Must not run concurrently with Ingest on the same Archive (it could erase
  // what an ingest is about to refer to); other processes are kept out by
  // the writer lock. A dry run works on a read-only archive.
  Result<GarbageCollection> CollectGarbage(bool dry_run);

  // Rewrites the package records, lifecycle records and trust list entries
  // that hold bytes that are not UTF-8 (a raw file name: JSON must be UTF-8)
  // as every reader already reads them: each such byte "%XX" (preserve/util/
  // unicode.h). Keeps each original, byte for byte, in a setting
  // (RepairedRow::kept_as), and records one "repair" audit event naming every
  // row and its original's SHA-256, all in one atomic write. Never rewrites
  // sealed data (manifests) or the audit trail, which readers go on decoding
  // leniently. A dry run changes nothing and works read-only.
  Result<RepairOutcome> Repair(bool dry_run);

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

  // ---- Retention, holds and deletion (archive/src/retention.cc) ----
  //
  // Each change is one atomic write with its audit event ("retention", "hold",
  // "release", "delete"); `reason` is required and `actor` names who asked. The
  // archive must be open for writing. Not to be called concurrently with
  // Ingest on the same Archive: Delete decides which content no other package
  // uses by a scan, and an ingest in between could come to rely on it.

  // A package's retention, holds and tombstone. kNotFound: no such package.
  Result<PackageLifecycle> Lifecycle(const std::string& package_id);
  // Every package with a hold in force, in id order (a scan of the lifecycle records).
  Result<std::vector<PackageLifecycle>> Held();
  // Replaces the retention (an appraisal decision, or corrected metadata).
  Status SetRetention(const std::string& package_id, const Retention& retention, const std::string& reason,
                      const std::string& actor);
  // Places a hold; returns it with its number.
  Result<Hold> AddHold(const std::string& package_id, const std::string& reason, const std::string& actor);
  // Lifts hold `number`, or with 0 the only hold in force (kInvalidArgument
  // when there are several); returns the hold lifted.
  Result<Hold> RemoveHold(const std::string& package_id, std::uint32_t number, const std::string& reason,
                          const std::string& actor);
  // Deletes a sealed package whose retention has passed (by the archive's
  // clock) and that has no hold; otherwise kFailedPrecondition naming the date
  // or the holds. Erases the content blobs no other package uses; keeps the
  // package record (state "deleted"), its evidence and its renewal schedule,
  // and writes its tombstone. Verify of a deleted package then reports what the
  // evidence still proves (existence of data with the tombstone's digests) and
  // is INDETERMINATE at best; Export and Get refuse, naming the deletion.
  // Cost: one scan of every package record (about 1 GB read at a million packages).
  Result<DeletionOutcome> Delete(const std::string& package_id, const std::string& reason, const std::string& actor);

 private:
  struct Impl;
  explicit Archive(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve::archive
