// Ingestion: the ingest gate. Each submission's signatures are validated
// (ingest/) and only a trustworthy one is stored, as a package queued for
// sealing (sealing.h); a refusal stores nothing but its audit event.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "preserve/archive/archive.h"
#include "preserve/ingest/bulk_input.h"
#include "preserve/package/record_metadata.h"
#include "preserve/signature/signature_validation.h"

namespace preserve::archive {

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
  // An input the input layer could not make a submission of (a document with
  // no signature, a detached signature without its document, a link): it is
  // not read, only counted and audited as refused with this category
  // ("NOT_SIGNED" for an unsigned document) and reason, so that every input
  // handed in has one outcome.
  struct Unusable {
    std::string category;
    std::string reason;
  };
  std::optional<Unusable> unusable = {};
};

struct IngestOptions {
  std::vector<Bytes> trust_anchors;  // DER
  std::vector<Bytes> intermediates;  // DER
  std::vector<Bytes> timestamp_trust_anchors;  // for signature time-stamps; empty: trust_anchors
  signature::RevocationOptions revocation;
  // The ingest policy: TOTAL-FAILED is always refused; INDETERMINATE is
  // refused unless this is set (then accepted, and the manifest says so).
  bool accept_indeterminate = false;
  // A signed object the archive holds already (the same bytes: the signed
  // file, and a detached signature's document) is reported as a duplicate of
  // the package that holds it, and not stored again. Set: stored again as a
  // new package (and then reported as accepted).
  bool allow_duplicate = false;
};

// One signature of a submission, as a records officer reads it.
struct SignatureOutcome {
  std::string label;  // "CAdES detached", "PAdES Signature1 (adbe.pkcs7.detached)", "ASiC-E META-INF/signature.p7s"
  signature::SignatureReport report;
};

// Every input ends in exactly one class: accepted (a new package), duplicate
// (held already: `package_id` names the package that holds it), refused
// (`category` says why; "NOT_SIGNED" is the class "not a signed document"),
// or error (unreadable: nothing was decided, nothing recorded).
struct IngestOutcome {
  std::string input;          // what the officer named: the document (or the signed file)
  bool accepted = false;
  bool duplicate = false;
  bool error = false;         // the input could not be read at all (nothing was decided)
  std::string package_id;     // when accepted, or the package holding a duplicate
  std::string category;       // when refused: the EN 319 102-1 sub-indication, or NOT_SIGNED, METADATA_INVALID...
  std::string reason;         // when refused or in error: one line
  std::string format;         // "CAdES detached", "CAdES enveloping", "PAdES", "ASiC-S", "ASiC-E"
  std::vector<SignatureOutcome> signatures;
  std::optional<package::RecordMetadata> metadata;
};

inline constexpr std::string_view kNotSigned = "NOT_SIGNED";
// The category of a file that could not be made a submission (a signature
// without its document, a metadata sidecar without its document, a link).
inline constexpr std::string_view kInputUnusable = "INPUT_UNUSABLE";

// A submission that is refused before it is read: `name` with its category and reason.
Submission UnusableSubmission(std::string name, std::string_view category, std::string reason);
// The submissions of a folder or bundle as the input layer read it: one per
// signed object, and one marked unusable per unsigned document (kNotSigned)
// and per file that could not be paired (kInputUnusable), so that every file
// handed in has an outcome. `name_of` turns a path inside the input
// ("2024/letter.txt") into the name outcomes and the audit trail use.
std::vector<Submission> SubmissionsOf(const ingest::BulkInput& bulk,
                                      const std::function<std::string(const std::string&)>& name_of);

// "accepted", "duplicate", "refused", "not-signed" or "error".
std::string_view OutcomeClass(const IngestOutcome& outcome);

class Ingestion {
 public:
  // Works on `archive`, which must outlive it; as cheap to make as a pointer.
  explicit Ingestion(Archive& archive);

  // Validates one submission and, when it is trustworthy, stores it as a new
  // package queued for sealing (one atomic write). A refusal, or a duplicate
  // of what the archive holds (IngestOptions::allow_duplicate), stores nothing
  // but an audit event ("refused", "duplicate"). An input that cannot be read is an outcome with `error`
  // set; errors are for a store that cannot be written.
  Result<IngestOutcome> Ingest(const Submission& submission, const IngestOptions& options);
  // Ingests many submissions: validates them in parallel and commits them in
  // groups (group commit: one synced write per group), calling `each` for every
  // submission, in order, once its group is durable (an accepted package is
  // acknowledged only then). Stops at the first store error, returning it;
  // outcomes already reported stay committed.
  Status IngestAll(const std::vector<Submission>& submissions, const IngestOptions& options,
                   const std::function<void(const IngestOutcome&)>& each);

 private:
  Archive::Impl* impl_;
};

}  // namespace preserve::archive
