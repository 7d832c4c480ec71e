// What the revisions of a signed PDF are and what each later one changed: the
// part of PAdES validation (pdf_validation.cc) that reads PDF structure
// through qpdf. Internal to preserve_ingest; qpdf's types stay out of the
// public header.
//
// Functions taking QPDF objects may throw what qpdf throws (std::exception);
// the caller turns that into a report or an error Status.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjGen.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <set>
#include <string>
#include <vector>

#include "preserve/signature/pdf_validation.h"
#include "preserve/util/bytes.h"
#include "preserve/util/status.h"

namespace preserve::signature::pdf {

// "12 0"
std::string ObjectName(QPDFObjGen og);

// A parsed PDF over bytes the caller keeps alive (processMemoryFile does not copy).
// Recovery is off: a signature validator must read the cross-reference table
// the signer wrote, not a reconstruction of a damaged file.
Result<std::unique_ptr<QPDF>> OpenPdf(ByteView bytes, const char* description);

// The bytes a signature's /ByteRange signs: [0, first_end) and [second_start,
// end); the gap between them is its /Contents.
struct SignedSpan {
  std::uint64_t first_end = 0;
  std::uint64_t second_start = 0;
  std::uint64_t end = 0;

  bool Covers(std::uint64_t offset) const { return offset < first_end || (offset >= second_start && offset < end); }
};

// The span of a signature dictionary's /ByteRange when it is four
// non-negative integers from the start of the file, in order (the validator
// checks the rest: that the gap is exactly /Contents, that it ends a revision).
std::optional<SignedSpan> SpanOf(QPDFObjectHandle sig);

// A signature field of the whole document: whether its value signs the field
// itself, and what a reader sees of it.
struct SignatureFieldFacts {
  std::string name;        // fully qualified
  QPDFObjGen object;       // the (terminal) field
  std::string page;        // "page 1": the first page showing one of its widgets; empty when none does
  bool has_value = false;  // its /V is a (signature) dictionary
  QPDFObjectHandle value;  // that dictionary
  bool document_timestamp = false;
  // Which part of the field as it now is its /V does not sign, "" when it
  // signs all (or there is no value): the dictionary must begin before its
  // /Contents, and the newest definitions of the field, its widgets and their
  // appearances lie in the bytes it signs. A later field that passes is a
  // signature over its own revision, appearance included.
  std::string unsigned_part;
  // What a reader sees of it: "" when nothing, else for example "a visible
  // appearance covering 100% of page 1 (/Rect [ 0 0 595 842 ])".
  std::string visible;
  std::string invisible_because;  // when `visible` is empty: "a zero-size /Rect", "no appearance", ...
  bool has_actions = false;       // /A or /AA on the field or a widget
};

// What each object of the whole document is: pages, their content and
// annotations, signature fields and what they bring, validation data (DSS).
// Built once per document; the comparisons with each signed revision share it.
struct DocumentIndex {
  std::map<QPDFObjGen, std::uint64_t> offsets;         // where each object's newest definition begins
  std::map<QPDFObjGen, std::string> roles;             // "page 1", "signature field Signature2", ...
  std::map<QPDFObjGen, std::string> page_numbers;      // page object -> "1"
  std::map<QPDFObjGen, std::string> annots_arrays;     // an indirect /Annots array -> its page's number
  std::map<QPDFObjGen, std::string> annotation_pages;  // annotation -> the first page listing it
  std::vector<SignatureFieldFacts> fields;             // in the AcroForm's order
  std::map<QPDFObjGen, std::size_t> field_of;          // field and widget objects -> their entry in `fields`
  std::map<QPDFObjGen, std::string> brought;           // objects a signature field or the DSS brings -> which
  std::map<QPDFObjGen, std::vector<std::size_t>> brought_by_fields;
  std::set<QPDFObjGen> validation_data;  // brought by the DSS
  std::set<QPDFObjGen> referenced;       // reachable from the trailer

  // " (the content of page 1)", or "" for an object without a role.
  std::string Describe(QPDFObjGen og) const;
  // The signature field whose field or widget object `og` is, or null.
  const SignatureFieldFacts* FieldAt(QPDFObjGen og) const;
  // "object 19 0 (signature field Signature9, page 1)"
  std::string Label(QPDFObjGen og) const;
};

DocumentIndex IndexDocument(QPDF& whole);

// The changes from `signed_revision` (the PDF as a signature signed it) to
// `whole` (the PDF as it is), object by object, each judged allowed or not.
// Allowed: signatures and document time-stamps that sign their own revision,
// validation data (DSS), empty signature fields no reader sees, and the
// AcroForm, page /Annots and catalog bookkeeping they need.
// `no_changes_permitted`: the signature is a certification signature with
// DocMDP P=1, which allows validation data and document time-stamps only.
std::vector<PdfLaterChange> FindChanges(QPDF& signed_revision, QPDF& whole, const DocumentIndex& index,
                                        bool no_changes_permitted);

// True when `pdf`, trailing whitespace aside, ends with "%%EOF".
bool EndsWithEof(ByteView pdf);

// The bytes of `pdf` from `from`, where `signed_revision` ends, on, checked to
// be whitespace and incremental updates as ISO 32000-1 7.5.6 writes them:
// objects, a cross-reference table and trailer or a cross-reference stream,
// startxref pointing at that section, %%EOF; each trailer's /Prev naming the
// section before, each section listing exactly the objects its update
// defines. Returns what does not fit, as changes nobody signed (never
// allowed); empty when all fits. `context` is the whole PDF opened apart from
// `index`'s, because parsing objects no section lists must not touch that one.
std::vector<PdfLaterChange> CheckUpdatesAfter(ByteView pdf, QPDF& signed_revision, std::uint64_t from, QPDF& context,
                                              const DocumentIndex& index);

}  // namespace preserve::signature::pdf
