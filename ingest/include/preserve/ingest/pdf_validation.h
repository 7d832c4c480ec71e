// Validating the signatures of a signed PDF (PAdES, ISO 32000 12.8).
//
// Every signature field with a value is judged: its /ByteRange must cover the
// whole revision it signs except its own /Contents, and the signature over
// those bytes is validated as CMS (adbe.pkcs7.detached, ETSI.CAdES.detached:
// ValidateCms, so EN 319 102-1 indications) or as a document time-stamp
// (ETSI.RFC3161: the token's imprint over the ranges, its signature and its
// TSA's certificate path).
//
// A signature may be followed by incremental updates. Those that only add
// signatures, document time-stamps or validation data (DSS), with the
// AcroForm, page /Annots and catalog bookkeeping they need, keep it valid;
// anything else (changed page content, a new comment, a changed form value)
// fails it with FORMAT_FAILURE, "modified after signing". Every later change
// is listed either way, so a reader sees what the signer did not sign.
//
// Errors: only bytes that are not a readable PDF (no header, broken cross
// reference table, truncated) give an error Status. A PDF without any
// signature is a report: INVALID, FORMAT_FAILURE, "the PDF carries no
// signature", so a caller can refuse it with that reason like any other.
// Thread-safe: no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "preserve/ingest/signature_validation.h"
#include "preserve/util/bytes.h"
#include "preserve/util/verdict.h"

namespace preserve::ingest {

// True when `data` starts like a PDF ("%PDF-" within its first 1024 bytes, as
// readers allow). Says nothing about whether the rest is readable.
bool LooksLikePdf(ByteView data);

// One change an incremental update made after a signature's revision.
struct PdfLaterChange {
  std::string what;      // "added signature field Signature2", "changed the content of page 1 (object 4 0)"
  bool allowed = false;  // adds a signature, a document time-stamp or validation data, or their bookkeeping
};

struct PdfSignatureReport {
  std::string field_name;           // fully qualified name of the signature field
  std::string sub_filter;           // "adbe.pkcs7.detached", "ETSI.CAdES.detached", "ETSI.RFC3161", or as found
  bool document_timestamp = false;  // ETSI.RFC3161: a document time-stamp rather than a signature
  // Where the signed revision ends: the end of the /ByteRange's second range.
  std::uint64_t signed_revision_end = 0;
  bool covers_whole_file = false;             // signed_revision_end is the file's size
  std::vector<PdfLaterChange> later_changes;  // empty when covers_whole_file
  // The indication. For a document time-stamp: signer = the TSA, signing_time =
  // genTime (signing_time_claimed false), certificates = those the token carries.
  // A CMS signature without a signing-time attribute is validated at its /M
  // date when it has one (signing_time_source "PDF /M date (claimed)"). A
  // later valid document time-stamp over a signature is noted in its warnings.
  SignatureReport report;
};

struct PdfValidation {
  Verdict verdict = Verdict::kInvalid;  // the worst over `signatures`; INVALID when there are none
  // Set only for a failure of the document as a whole (no signature at all).
  SubIndication sub_indication = SubIndication::kNone;
  std::string reason;
  std::string pdf_version;                     // from the header, e.g. "1.7"
  std::vector<PdfSignatureReport> signatures;  // in the order of their revisions, oldest first
};

// Validates every signature and document time-stamp of `pdf`. CMS signatures
// use `options` as ValidateCms does; document time-stamps are checked against
// options.timestamp_trust_anchors (or options.trust_anchors when that is
// empty) with options.intermediates as a pool. Fails (kInvalidArgument) only
// when `pdf` is not a readable PDF; options.clock is required.
Result<PdfValidation> ValidatePdf(ByteView pdf, const CmsValidationOptions& options);

}  // namespace preserve::ingest
