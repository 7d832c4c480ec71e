// Catalogue and reports: what the store holds (List, Overview), how digital
// signatures were used (ReportSignatureUse), the signers' trust list, and the
// algorithm policy in force.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/archive/archive.h"
#include "preserve/package/record_metadata.h"

namespace preserve::archive {

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
  PackageState state = PackageState::kQueued;
  std::vector<std::string> documents;  // paths under data/documents/
  std::optional<TimePoint> next_renewal;
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

// Which packages `List` returns: all of them, or those matching every field
// set. Text fields match as people search: by words, whatever their case,
// diacritics and Unicode normalization ("dak nong" finds "UBND tỉnh Đắk
// Nông"); every word given must be a word of the field, and the last may be
// the beginning of one ("6587/UBND-CN" finds "6587/UBND-CNXD").
struct ListFilter {
  std::string organ;                // organ_name or organ_id of the record metadata
  std::string type_name;            // "Công văn"
  std::string number;               // number and symbol: "6587/UBND-CNXD"
  std::string subject;              // words of the subject (trích yếu)
  std::string issued_from;          // YYYY-MM-DD, inclusive
  std::string issued_to;            // YYYY-MM-DD, inclusive
  std::string ingested_from;        // YYYY-MM-DD (UTC), inclusive: when the package was made
  std::string ingested_to;          // YYYY-MM-DD (UTC), inclusive
  std::string signer_organization;  // O= of any signer, of any version
  std::optional<PackageState> state;
  bool empty() const {
    return organ.empty() && type_name.empty() && number.empty() && subject.empty() && issued_from.empty() &&
           issued_to.empty() && ingested_from.empty() && ingested_to.empty() && signer_organization.empty() &&
           !state;
  }
};

// The search index's state (`preserve index status`): a store made before
// the index has none until `preserve index build` completes it.
struct SearchIndexStatus {
  bool complete = false;
  bool started = false;        // a build was started and not completed: `index build` resumes it
  std::string built_through;   // while indexing packages: the last package id indexed
  std::optional<std::uint64_t> events_through;  // while indexing the audit trail: its next event's sequence
};

// What one `BuildSearchIndex` run did.
struct SearchIndexBuild {
  std::size_t packages = 0;     // indexed by this run
  std::size_t events = 0;       // audit events read by this run (the signature-use report's tallies)
  bool resumed = false;         // it went on from where an earlier run stopped
  std::string resumed_after;    // that run's last package, or "audit event N"
  // Packages and audit events that could not be read (damage: 'check',
  // 'audit-log verify' and 'repair' say more), each with why: not indexed, so
  // a filter does not list them and the signature-use report does not count them.
  std::vector<std::string> unreadable;
};

// The signature-use report (the province monitors digital-signature use per
// agency): what was submitted between two times, from the audit trail, so
// refusals (which store nothing else) are counted too. Every input handed in
// is counted once, in exactly one class: submitted = accepted + duplicate +
// refused + refused_then_accepted + not_signed.
enum class ReportGrouping { kNone, kOrgan, kSignerOrganization, kMonth };
struct SignatureUseRow {
  std::string group;  // the organ, signer organization or month ("2026-11"); "(none)" when unknown; "" without grouping
  std::size_t submitted = 0;
  std::size_t accepted = 0;
  std::size_t duplicate = 0;  // handed in again: the archive held the same signed object already
  // Refused for good: the same signed object was not accepted later.
  std::size_t refused = 0;
  // Refused, but the same signed object was accepted later (a TRY_LATER
  // whose revocation data came, a trust anchor added since...), at any time
  // up to the report's making, inside the period or after it.
  std::size_t refused_then_accepted = 0;
  std::size_t not_signed = 0;  // documents handed in with no signature at all
  std::map<std::string, std::size_t> refused_by_reason;  // refused for good: "NO_CERTIFICATE_CHAIN_FOUND" -> 3
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

// The last run of a scheduled job (seal, renew, fixity), as the store recorded it.
struct JobRun {
  TimePoint time;
  std::string outcome;  // "renewed 120 subjects in 2 batches; 0 lapsed", "1000 checked, 0 damaged"
  bool ok = true;       // false: it found lapsed evidence, damage, or failed to verify its own work
  // It stopped on an error (the TSA unreachable) without doing its work: ok
  // is false too, and the job is due again after JobSchedule::retry_after
  // rather than a whole interval. A run that did its work and found damage or
  // lapsed evidence has not failed: running it again sooner would find the same.
  bool failed = false;
  // The outcome's figures by name, for pages that word it in their own
  // language: seal "packages", "batches"; renew "renewed", "batches",
  // "lapsed", "not_verified", "left_out"; fixity "checked", "packages",
  // "damaged"; and "late_seconds" for a run that missed its window, failed
  // or not (a failed run has no other: its outcome is its error). Empty in
  // runs recorded before the figures were kept.
  std::map<std::string, std::uint64_t> counts;
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
  std::optional<JobRun> last_seal;
  std::optional<JobRun> last_renewal;
  std::optional<JobRun> last_fixity;
  std::uint64_t store_bytes = 0;  // the database's files on disk
  Bytes tsa_ca_certificate;       // DER: the archive's time-stamping CA, whose fingerprint auditors compare
  std::optional<TimePoint> tsa_certificate_not_after;  // the embedded TSA's active certificate
  std::string policy;
  std::size_t trust_anchors = 0;  // on the signers' trust list
};

class Catalogue {
 public:
  // Works on `archive`, which must outlive it; as cheap to make as a pointer.
  explicit Catalogue(Archive& archive);

  // The shortest prefix of a package id that ResolvePackageId takes.
  static constexpr std::size_t kMinIdPrefix = 8;

  // The whole id of the package (or version) whose id starts with `prefix`,
  // as git resolves commits: a whole id, or a prefix of at least kMinIdPrefix
  // characters that one stored id alone starts with. One prefix seek over the
  // packages' keys. kInvalidArgument when `prefix` is shorter, or when several
  // ids start with it (the message names the first few); kNotFound when none
  // does. Deleted packages count: their records and tombstones stay, so their
  // ids go on naming them ('retention show' shows the tombstone).
  Result<std::string> ResolvePackageId(std::string_view prefix) const;

  // Holdings, deadlines, lapsed evidence, the last seal, renewal and fixity runs.
  // Reads every package record (seconds at a million packages); `deadlines`
  // bounds how many nearest deadlines and lapsed subjects it names.
  Result<StoreStatus> Overview(std::size_t deadlines = 5);

  // Replaces the store's policy (a profile name or a catalogue file) and
  // reschedules every sealed package under it.
  Status SetPolicy(const std::string& profile_or_file);

  // Packages in id (= creation) order, starting after `after` ("" for the first
  // page), up to `limit` of those matching `filter`. A filter is looked up in
  // the search index: a few seeks per package listed, however many the store
  // holds. Until a store made before the index has it built, a filter reads
  // each package's manifest instead (a scan of the whole store when few
  // match), with the same matching. A package that cannot be read is listed
  // with PackageSummary::unreadable set, and the listing goes on; errors are
  // for a store that cannot be read.
  Result<std::vector<PackageSummary>> List(const std::string& after, std::size_t limit, const ListFilter& filter = {});

  Result<SearchIndexStatus> IndexStatus() const;
  // Indexes every package not indexed yet, in id order, then the audit
  // trail's ingests and refusals (for ReportSignatureUse), committing every
  // `step` packages (100,000 events) with how far it got, so that a run
  // stopped (killed, the disk full) goes on from there when run again;
  // `rebuild` starts over from the first package (and rewrites every entry). `progress` is told the
  // packages indexed so far after each commit. Audited when it starts and when
  // it completes. Nothing to do on a complete index unless `rebuild`.
  Result<SearchIndexBuild> BuildSearchIndex(bool rebuild, const std::string& actor,
                                            const std::function<void(std::size_t)>& progress = nullptr,
                                            std::size_t step = 10000);

  // Ingests and refusals with an event time in [from, to), counted per group:
  // from the search index's tallies (one key per event of the period), or,
  // until a store made before the index has it built, from the whole audit
  // trail. Events that cannot be read are named in SignatureUseReport::unreadable.
  Result<SignatureUseReport> ReportSignatureUse(TimePoint from, TimePoint to, ReportGrouping grouping);

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

 private:
  Archive* archive_;
  Archive::Impl* impl_;
};

}  // namespace preserve::archive
