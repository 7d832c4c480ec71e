// Validating the signatures of a signed PDF (PAdES, ISO 32000 12.8).
//
// Every signature field with a value is judged: its /ByteRange must cover the
// whole revision it signs except its own /Contents, and the signature over
// those bytes is validated as CMS (adbe.pkcs7.detached, ETSI.CAdES.detached:
// ValidateCms, so EN 319 102-1 indications) or as a document time-stamp
// (ETSI.RFC3161: the token's imprint over the ranges, its signature and its
// TSA's certificate path).
//
// A signature is its own only when its /ByteRange covers its own revision:
// its signature dictionary begins in the first range (before its /Contents),
// and the newest definitions of its field, the field's widgets and their
// appearances lie in the signed bytes (ISO 32000-1 12.8.1: the whole file as
// the signer wrote it, but /Contents). A field whose dictionary lies outside
// (a copy written later), or that holds another field's dictionary, is no
// signature: INVALID, FORMAT_FAILURE, "no signature of its own". FORMAT_FAILURE
// and not HASH_FAILURE, because the digest over the ranges does match: what
// fails is the signature's form in the PDF, which EN 319 102-1's format
// checking judges.
//
// What may follow a signature (incremental updates, ISO 32000-1 7.5.6), read
// as strictly as ETSI EN 319 142-1 and ISO 32000-2 12.8.2.2 (DocMDP) allow:
// - a later signature or document time-stamp that is its own (above), with
//   whatever appearance it has: its signer signed that;
// - validation data (the DSS) and document time-stamps, as long-term
//   validation adds them;
// - an empty signature field for a later signer that no reader sees: each of
//   its widgets is on no page, has a zero-size /Rect or one outside the page,
//   is hidden (/F Hidden, or NoView without ToggleNoView), or paints nothing
//   (no appearance stream with content, no /MK background or border colour);
//   and it has no actions (/A, /AA);
// - the AcroForm (/Fields, /SigFlags, /DR), page /Annots and catalog
//   (/AcroForm, /DSS, /Extensions) bookkeeping those need, and objects
//   nothing refers to.
// Anything else fails the signature with FORMAT_FAILURE, "modified after
// signing", naming each change. That includes what DocMDP P=2 and P=3 would
// permit, filled-in form values and annotations: an archive must show what
// was signed, so the strictest sound reading applies to every signature,
// approval or certification (without a certification signature nothing more
// is permitted than with P=2). It includes a signature field added or filled
// that is no signature of its own, or that a reader sees unsigned (the
// "sneaky signature": an unsigned field whose appearance covers the page). A
// certification signature with DocMDP P=1 permits only validation data and
// document time-stamps after it: a later signature or empty field fails it.
// The bytes after a signed revision must themselves be incremental updates:
// objects, a cross-reference table and trailer or a cross-reference stream,
// startxref pointing at it, %%EOF; each /Prev naming the section before, each
// section listing exactly its update's objects at their offsets. Whitespace
// after %%EOF is fine; an object no section lists (readers that rebuild the
// table by scanning would show it), a missing section or a broken /Prev is a
// modification. Every later change is listed either way, so a reader sees
// what the signer did not sign.
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

#include "preserve/signature/signature_validation.h"
#include "preserve/util/bytes.h"
#include "preserve/util/verdict.h"

namespace preserve::signature {

// True when `data` starts like a PDF ("%PDF-" within its first 1024 bytes, as
// readers allow). Says nothing about whether the rest is readable.
bool LooksLikePdf(ByteView data);

// One change an incremental update made after a signature's revision.
struct PdfLaterChange {
  // "object 19 0 (signature field Signature9, page 1) added after signing, unsigned, with a visible
  // appearance covering 100% of page 1 (/Rect [ 0 0 595 842 ])", "changed the content of page 1 (object 4 0)"
  std::string what;
  bool allowed = false;  // one of the changes that may follow a signature (above)
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

}  // namespace preserve::signature
