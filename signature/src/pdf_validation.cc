#include "preserve/signature/pdf_validation.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFFormFieldObjectHelper.hh>
#include <qpdf/QPDFObjGen.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pdf_revisions.h"
#include "preserve/timestamp/time_stamp.h"
#include "preserve/util/certificates.h"
#include "preserve/util/clock.h"
#include "preserve/util/digest.h"
#include "validation_time.h"

namespace preserve::signature {

namespace {

using pdf::DocumentIndex;
using pdf::ObjectName;
using pdf::OpenPdf;
using pdf::SignatureFieldFacts;
using pdf::SignedSpan;

constexpr std::string_view kNoSigningTimeSource = "validation time (none in signature)";
constexpr std::string_view kPdfDateSource = "PDF /M date (claimed)";
constexpr std::string_view kTimeStampSource = "document time-stamp genTime";

void Fail(SignatureReport& report, SubIndication s, std::string reason) {
  report.verdict = VerdictFor(s);
  report.sub_indication = s;
  report.reason = std::move(reason);
}

// Offsets just past each "%%EOF" marker and past the end-of-line after it:
// where a revision may end (ISO 32000 7.5.6 lets writers put either).
std::set<std::uint64_t> RevisionEnds(ByteView pdf) {
  constexpr std::string_view kEof = "%%EOF";
  std::set<std::uint64_t> ends;
  std::string_view text(reinterpret_cast<const char*>(pdf.data()), pdf.size());
  for (std::size_t at = text.find(kEof); at != std::string_view::npos; at = text.find(kEof, at + 1)) {
    std::size_t end = at + kEof.size();
    ends.insert(end);
    if (end < text.size() && text[end] == '\r') ++end;
    if (end < text.size() && text[end] == '\n') ++end;
    ends.insert(end);
  }
  return ends;
}

// Parses a PDF date "D:YYYYMMDDHHmmSSOHH'mm'" (ISO 32000 7.9.4); every part after the year is optional.
std::optional<TimePoint> ParsePdfDate(std::string_view s) {
  if (s.substr(0, 2) == "D:") s.remove_prefix(2);
  auto number = [&s](std::size_t digits, int fallback) -> std::optional<int> {
    if (s.size() < digits || s.empty() || s[0] < '0' || s[0] > '9') return fallback;
    int value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      value = value * 10 + (s[i] - '0');
    }
    s.remove_prefix(digits);
    return value;
  };
  if (s.size() < 4) return std::nullopt;
  auto y = number(4, 0), mo = number(2, 1), d = number(2, 1), h = number(2, 0), mi = number(2, 0), sec = number(2, 0);
  if (!y || !mo || !d || !h || !mi || !sec) return std::nullopt;
  using namespace std::chrono;
  year_month_day date{year(*y), month(static_cast<unsigned>(*mo)), day(static_cast<unsigned>(*d))};
  if (!date.ok() || *h > 23 || *mi > 59 || *sec > 60) return std::nullopt;
  TimePoint t = TimePoint(sys_days(date)) + hours(*h) + minutes(*mi) + seconds(*sec);
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    const int sign = s[0] == '+' ? 1 : -1;
    s.remove_prefix(1);
    auto oh = number(2, 0);
    if (!s.empty() && s[0] == '\'') s.remove_prefix(1);
    auto om = number(2, 0);
    if (!oh || !om) return std::nullopt;
    t -= sign * (hours(*oh) + minutes(*om));  // local time minus its offset is UTC
  }
  return t;
}

int HexValue(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The length of the DER TLV at the start of `der`, so the signature is read
// without the zero padding that fills the rest of /Contents.
std::optional<std::size_t> DerLength(ByteView der) {
  if (der.size() < 2) return std::nullopt;
  // BER's indefinite length (some signers write it): OpenSSL reads up to the
  // end-of-contents octets and ignores the zeros after them.
  if (der[1] == 0x80) return der.size();
  std::size_t length = der[1];
  std::size_t header = 2;
  if ((length & 0x80u) != 0) {
    const std::size_t octets = length & 0x7fu;
    if (octets == 0 || octets > 4 || der.size() < 2 + octets) return std::nullopt;
    length = 0;
    for (std::size_t i = 0; i < octets; ++i) length = (length << 8) | der[2 + i];
    header += octets;
  }
  if (header + length > der.size()) return std::nullopt;
  return header + length;
}
// --- One signature --------------------------------------------------------------

// The checked shape of one signature dictionary.
struct SignedBytes {
  SignedSpan span;  // ByteRange[1], ByteRange[2], ByteRange[2] + ByteRange[3]
  Bytes signature;  // the DER in /Contents, without its zero padding
};

// Checks /ByteRange and /Contents (ISO 32000 12.8.1): two ranges from the
// start of the file whose gap is exactly this dictionary's /Contents hex
// string, delimiters included, ending where a revision ends.
Result<SignedBytes> ReadSignedBytes(ByteView pdf, QPDFObjectHandle sig, const std::set<std::uint64_t>& revision_ends) {
  QPDFObjectHandle range = sig.getKey("/ByteRange");
  if (!range.isArray() || range.getArrayNItems() != 4)
    return Status::InvalidArgument("its /ByteRange is not an array of four numbers");
  std::uint64_t r[4];
  for (int i = 0; i < 4; ++i) {
    QPDFObjectHandle n = range.getArrayItem(i);
    if (!n.isInteger() || n.getIntValue() < 0) return Status::InvalidArgument("its /ByteRange holds a non-integer");
    r[i] = static_cast<std::uint64_t>(n.getIntValue());
  }
  if (r[0] != 0) return Status::InvalidArgument("its /ByteRange does not start at the beginning of the file");
  if (r[1] + 2 > r[2])
    return Status::InvalidArgument("the ranges of its /ByteRange overlap or leave no room for /Contents");
  SignedBytes out;
  out.span = {r[1], r[2], r[2] + r[3]};
  if (out.span.end > pdf.size())
    return Status::InvalidArgument("its /ByteRange ends at byte " + std::to_string(out.span.end) +
                                   ", past the end of the file (" + std::to_string(pdf.size()) + " bytes)");
  if (revision_ends.count(out.span.end) == 0)
    return Status::InvalidArgument("its /ByteRange ends at byte " + std::to_string(out.span.end) +
                                   ", not at the end of a revision (%%EOF)");
  if (pdf[r[1]] != '<' || pdf[r[2] - 1] != '>')
    return Status::InvalidArgument("the gap in its /ByteRange is not a hex string");
  Bytes decoded;
  decoded.reserve((r[2] - r[1]) / 2);
  for (std::uint64_t i = r[1] + 1; i + 1 < r[2]; i += 2) {
    int hi = HexValue(pdf[i]);
    int lo = i + 2 < r[2] ? HexValue(pdf[i + 1]) : 0;
    if (hi < 0 || lo < 0) return Status::InvalidArgument("the gap in its /ByteRange holds more than one hex string");
    decoded.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  QPDFObjectHandle contents = sig.getKey("/Contents");
  if (!contents.isString() || contents.getStringValue() != ToString(decoded))
    return Status::InvalidArgument("the gap in its /ByteRange is not its own /Contents");
  std::optional<std::size_t> length = DerLength(decoded);
  if (!length) return Status::InvalidArgument("its /Contents holds no DER structure");
  decoded.resize(*length);
  out.signature = std::move(decoded);
  return out;
}

std::string NameOr(QPDFObjectHandle h, const std::string& fallback) {
  return h.isName() ? h.getName().substr(1) : fallback;
}

void ValidateCmsSignature(const SignedBytes& bytes, ByteView content, QPDFObjectHandle sig,
                          const CmsValidationOptions& options, SignatureReport& report) {
  auto cms = ValidateCms(bytes.signature, content, options);
  if (!cms.ok()) {
    Fail(report, SubIndication::kFormatFailure,
         "Its /Contents is not a usable CMS signature: " + cms.status().message() + ".");
    return;
  }
  if (cms->signers.size() != 1) {
    Fail(report, SubIndication::kFormatFailure,
         "Its CMS signature has " + std::to_string(cms->signers.size()) + " signers; a PDF signature has one.");
    return;
  }
  report = std::move(cms->signers.front());
  // Without a signing-time attribute ValidateCms used the validation time; the
  // signer's claim in /M is the better (still claimed) time to judge the path at.
  QPDFObjectHandle m = sig.getKey("/M");
  if (report.signing_time_source != kNoSigningTimeSource || !m.isString()) return;
  std::optional<TimePoint> claimed = ParsePdfDate(m.getUTF8Value());
  if (!claimed) {
    report.warnings.push_back("its /M date \"" + m.getUTF8Value() + "\" cannot be read");
    return;
  }
  auto again = internal::ValidateCmsAt(bytes.signature, content, options, *claimed);
  if (!again.ok() || again->signers.size() != 1) return;  // cannot happen: it parsed above
  report = std::move(again->signers.front());
  report.signing_time_source = kPdfDateSource;
}

void ValidateDocumentTimeStamp(const SignedBytes& bytes, ByteView content, const CmsValidationOptions& options,
                               SignatureReport& report) {
  report.signing_time_claimed = false;
  auto info = timestamp::ParseToken(bytes.signature);
  if (!info.ok()) {
    Fail(report, SubIndication::kFormatFailure,
         "Its /Contents is not an RFC 3161 time-stamp token: " + info.status().message() + ".");
    return;
  }
  report.signing_time = info->gen_time;
  report.signing_time_source = kTimeStampSource;
  report.certificates = info->certificates;
  report.digest_algorithm = std::string(HashAlgorithmName(info->imprint_algorithm));
  report.signature_algorithm = info->signature_algorithm;
  if (!info->tsa_certificate.empty()) {
    report.signer_subject = CertificateSubject(info->tsa_certificate);
    // The TSA certificate first, as for a signer.
    auto& certs = report.certificates;
    auto tsa = std::find(certs.begin(), certs.end(), info->tsa_certificate);
    if (tsa != certs.end()) std::rotate(certs.begin(), tsa, tsa + 1);
  }
  if (Digest(info->imprint_algorithm, content) != info->imprint) {
    Fail(report, SubIndication::kHashFailure,
         "The document time-stamp's imprint does not match the document: it was changed after time-stamping.");
    return;
  }
  timestamp::TokenVerifyOptions verify;
  verify.trust_anchors =
      options.timestamp_trust_anchors.empty() ? options.trust_anchors : options.timestamp_trust_anchors;
  verify.intermediates = options.intermediates;
  auto verified = timestamp::VerifyToken(bytes.signature, info->imprint_algorithm, info->imprint, verify);
  if (!verified.ok()) {
    if (verified.status().code() == StatusCode::kFailedPrecondition) {
      Fail(report, SubIndication::kNoCertificateChainFound,
           "The document time-stamp's TSA certificate has no path to a configured trust anchor: " +
               verified.status().message() + ".");
    } else {
      Fail(report, SubIndication::kSigCryptoFailure,
           "The document time-stamp token does not verify: " + verified.status().message() + ".");
    }
    return;
  }
  report.verdict = Verdict::kValid;
}

std::string ChangeList(const std::vector<PdfLaterChange>& changes) {
  std::string out;
  for (const PdfLaterChange& c : changes) {
    if (c.allowed) continue;
    if (!out.empty()) out += "; ";
    out += c.what;
  }
  return out;
}

// True when `sig` is a certification signature whose DocMDP permissions
// (ISO 32000-2 12.8.2.2, Table 257) are P=1: no change after it, but the
// validation data (DSS) and document time-stamps that long-term validation
// adds (ISO 32000-2 12.8.4 and 12.8.5; EN 319 142-1; EU DSS reads it so too).
// An absent /P means 2; a /P other than 1, 2 or 3 is read as the strictest, 1.
bool PermitsNoChanges(QPDFObjectHandle sig) {
  QPDFObjectHandle references = sig.getKey("/Reference");
  if (!references.isArray()) return false;
  for (QPDFObjectHandle& reference : references.getArrayAsVector()) {
    if (!reference.isDictionary() || !reference.getKey("/TransformMethod").isNameAndEquals("/DocMDP")) continue;
    QPDFObjectHandle params = reference.getKey("/TransformParams");
    QPDFObjectHandle p = params.isDictionary() ? params.getKey("/P") : QPDFObjectHandle::newNull();
    if (p.isNull()) return false;
    return !(p.isInteger() && (p.getIntValue() == 2 || p.getIntValue() == 3));
  }
  return false;
}

// Why the revision a signature signs (its bytes up to `end`) does not hold it
// in `field`, or "": that field must be there already, with the same
// signature dictionary as its /V. A field added later that borrows an earlier
// signature's dictionary is not.
std::string NotInItsRevision(const SignatureFieldFacts& field, QPDF& revision, std::uint64_t end) {
  const std::string where = "the revision it signs (bytes 0 to " + std::to_string(end) + ")";
  // Looked up in the table first: asking qpdf for an object its file lacks
  // would leave a placeholder that the comparison with later revisions sees.
  if (revision.getXRefTable().count(field.object) == 0)
    return "object " + ObjectName(field.object) + " (signature field " + field.name + ") is not in " + where;
  QPDFObjectHandle then = revision.getObjectByObjGen(field.object);
  QPDFObjectHandle value =
      then.isDictionary() ? QPDFFormFieldObjectHelper(then).getValue() : QPDFObjectHandle::newNull();
  const bool same = field.value.isIndirect() ? value.isIndirect() && value.getObjGen() == field.value.getObjGen()
                                             : value.isDictionary();
  if (same) return "";
  return "in " + where + ", field " + field.name + " (object " + ObjectName(field.object) + ") holds " +
         (value.isNull() ? std::string("no /V") : "another /V, " + value.unparse());
}

}  // namespace

bool LooksLikePdf(ByteView data) {
  constexpr std::string_view kHeader = "%PDF-";
  std::string_view head(reinterpret_cast<const char*>(data.data()), std::min<std::size_t>(data.size(), 1024));
  return head.find(kHeader) != std::string_view::npos;
}

Result<PdfValidation> ValidatePdf(ByteView pdf, const CmsValidationOptions& options) {
  if (!options.validation_time && options.clock == nullptr)
    return Status::InvalidArgument("PDF validation needs a clock or a validation time");
  if (!LooksLikePdf(pdf)) return Status::InvalidArgument("not a PDF: no %PDF- header in its first 1024 bytes");
  PRESERVE_ASSIGN_OR_RETURN(std::unique_ptr<QPDF> whole, OpenPdf(pdf, "the PDF"));

  PdfValidation result;
  DocumentIndex index;
  try {
    result.pdf_version = whole->getPDFVersion();
    index = pdf::IndexDocument(*whole);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("not a readable PDF: ") + e.what());
  }
  std::vector<const SignatureFieldFacts*> fields;
  for (const SignatureFieldFacts& field : index.fields) {
    if (field.has_value) fields.push_back(&field);
  }
  if (fields.empty()) {
    result.verdict = Verdict::kInvalid;
    result.sub_indication = SubIndication::kFormatFailure;
    result.reason = "The PDF carries no signature.";
    return result;
  }

  const std::set<std::uint64_t> revision_ends = RevisionEnds(pdf);
  // Each signed revision parsed once, shared by the signatures ending there.
  std::map<std::uint64_t, Result<std::unique_ptr<QPDF>>> revisions;
  auto revision_at = [&](std::uint64_t end) -> Result<QPDF*> {
    if (end == pdf.size()) return whole.get();
    auto found = revisions.find(end);
    if (found == revisions.end()) found = revisions.emplace(end, OpenPdf(pdf.first(end), "the signed revision")).first;
    if (!found->second.ok()) return found->second.status();
    return found->second.value().get();
  };
  // The whole PDF once more, for reading bytes no cross-reference section
  // lists; opened only when a signature leaves bytes after it.
  std::unique_ptr<QPDF> context;
  // One comparison per signed revision (and DocMDP reading), shared by the signatures ending there.
  std::map<std::pair<std::uint64_t, bool>, Result<std::vector<PdfLaterChange>>> changes_by_end;
  auto later_changes = [&](std::uint64_t end, bool no_changes_permitted) -> const Result<std::vector<PdfLaterChange>>& {
    const auto key = std::make_pair(end, no_changes_permitted);
    auto found = changes_by_end.find(key);
    if (found != changes_by_end.end()) return found->second;
    Result<std::vector<PdfLaterChange>> changes = [&]() -> Result<std::vector<PdfLaterChange>> {
      PRESERVE_ASSIGN_OR_RETURN(QPDF * revision, revision_at(end));
      if (context == nullptr) {
        PRESERVE_ASSIGN_OR_RETURN(context, OpenPdf(pdf, "the PDF"));
      }
      try {
        std::vector<PdfLaterChange> out = pdf::CheckUpdatesAfter(pdf, *revision, end, *context, index);
        std::vector<PdfLaterChange> objects = pdf::FindChanges(*revision, *whole, index, no_changes_permitted);
        out.insert(out.end(), std::make_move_iterator(objects.begin()), std::make_move_iterator(objects.end()));
        return out;
      } catch (const std::exception& e) {
        return Status::InvalidArgument(std::string("its revisions cannot be compared: ") + e.what());
      }
    }();
    return changes_by_end.emplace(key, std::move(changes)).first->second;
  };

  // A signature is its own only where its signed revision holds it (rule in
  // the header). Where several fields hold one dictionary, it is the
  // signature of the first, in file order, whose revision holds it.
  std::map<const SignatureFieldFacts*, std::string> not_in_revision;
  std::map<QPDFObjGen, const SignatureFieldFacts*> owners;
  auto offset = [&index](QPDFObjGen og) {
    auto at = index.offsets.find(og);
    return at == index.offsets.end() ? UINT64_MAX : at->second;
  };
  for (const SignatureFieldFacts* field : fields) {
    // ReadSignedBytes below says what is wrong with a range or revision that cannot be read.
    std::optional<SignedSpan> span = pdf::SpanOf(field->value);
    if (!span || span->end > pdf.size()) continue;
    Result<QPDF*> revision = revision_at(span->end);
    if (!revision.ok()) continue;
    try {
      // The whole file holds every field it lists.
      std::string why = span->end == pdf.size() ? "" : NotInItsRevision(*field, **revision, span->end);
      if (!why.empty()) {
        not_in_revision.emplace(field, std::move(why));
      } else if (field->value.isIndirect()) {
        auto [owner, inserted] = owners.emplace(field->value.getObjGen(), field);
        if (!inserted && offset(field->object) < offset(owner->second->object)) owner->second = field;
      }
    } catch (const std::exception& e) {
      not_in_revision.emplace(field, std::string("its revision cannot be read: ") + e.what());
    }
  }
  // Why `field`'s dictionary is no signature of its own, "" when it is.
  auto not_its_own = [&](const SignatureFieldFacts& field, const SignedSpan& span) {
    std::vector<std::string> why;
    if (field.value.isIndirect()) {
      auto owner = owners.find(field.value.getObjGen());
      if (owner != owners.end() && owner->second != &field) {
        why.push_back("its /V (object " + ObjectName(field.value.getObjGen()) +
                      ") is the signature dictionary of field " + owner->second->name);
      }
    }
    // Where the dictionary is now: inside the field when direct.
    const QPDFObjGen dictionary = field.value.isIndirect() ? field.value.getObjGen() : field.object;
    if (const std::uint64_t at = offset(dictionary); at != UINT64_MAX && at >= span.first_end) {
      why.push_back("its signature dictionary (object " + ObjectName(dictionary) + ") begins at byte " +
                    std::to_string(at) + ", outside the bytes it signs (0 to " + std::to_string(span.end) +
                    ", its /Contents aside)");
    }
    if (auto found = not_in_revision.find(&field); found != not_in_revision.end()) why.push_back(found->second);
    std::string out;
    for (const std::string& w : why) out += (out.empty() ? "" : ", and ") + w;
    return out;
  };

  for (const SignatureFieldFacts* field : fields) {
    PdfSignatureReport entry;
    entry.field_name = field->name;
    SignatureReport& report = entry.report;
    try {
      QPDFObjectHandle sig = field->value;
      entry.sub_filter = NameOr(sig.getKey("/SubFilter"), "");
      entry.document_timestamp = field->document_timestamp;
      auto bytes = ReadSignedBytes(pdf, sig, revision_ends);
      if (!bytes.ok()) {
        Fail(report, SubIndication::kFormatFailure,
             "The signature in field " + field->name + " is malformed: " + bytes.status().message() + ".");
        result.signatures.push_back(std::move(entry));
        continue;
      }
      const SignedSpan& span = bytes->span;
      entry.signed_revision_end = span.end;
      entry.covers_whole_file = span.end == pdf.size();
      Bytes content(pdf.begin(), pdf.begin() + static_cast<std::ptrdiff_t>(span.first_end));
      content.insert(content.end(), pdf.begin() + static_cast<std::ptrdiff_t>(span.second_start),
                     pdf.begin() + static_cast<std::ptrdiff_t>(span.end));

      if (entry.sub_filter == "adbe.pkcs7.detached" || entry.sub_filter == "ETSI.CAdES.detached") {
        ValidateCmsSignature(*bytes, content, sig, options, report);
      } else if (entry.sub_filter == "ETSI.RFC3161") {
        ValidateDocumentTimeStamp(*bytes, content, options, report);
      } else {
        Fail(report, SubIndication::kFormatFailure,
             "The signature in field " + field->name + " has the unsupported /SubFilter \"" + entry.sub_filter +
                 "\" (supported: adbe.pkcs7.detached, ETSI.CAdES.detached, ETSI.RFC3161).");
      }
      if (!entry.covers_whole_file) {
        if (!pdf::EndsWithEof(pdf)) {
          // Bytes after the last %%EOF belong to no revision: nothing can say what they are.
          Fail(report, SubIndication::kFormatFailure,
               "The signature in field " + field->name +
                   " does not cover the end of the file, and the bytes after it are no incremental update "
                   "(the file does not end with %%EOF).");
        } else if (const auto& changes = later_changes(span.end, PermitsNoChanges(sig)); !changes.ok()) {
          Fail(report, SubIndication::kFormatFailure,
               "The revision signed in field " + field->name + " is not readable: " + changes.status().message() + ".");
        } else {
          entry.later_changes = *changes;
          std::string forbidden = ChangeList(entry.later_changes);
          // A broken signature stays reported as broken; otherwise what was
          // changed after signing decides.
          if (!forbidden.empty() && report.verdict != Verdict::kInvalid) {
            Fail(report, SubIndication::kFormatFailure, "The document was modified after signing: " + forbidden + ".");
          }
        }
      }
      // Decided last, whatever the bytes say: a dictionary that does not sign
      // its own field's revision is no signature of that field. FORMAT_FAILURE
      // (EN 319 102-1 5.2.2, format checking), not HASH_FAILURE: the digest over
      // the ranges matches; the PDF form of the signature is wrong (ISO 32000-1
      // 12.8.1: the byte range is the whole file as signed, the signature
      // dictionary included, but /Contents).
      if (std::string why = not_its_own(*field, span); !why.empty()) {
        Fail(report, SubIndication::kFormatFailure,
             "The signature in field " + field->name + " is no signature of its own: " + why + ".");
      }
    } catch (const std::exception& e) {
      Fail(report, SubIndication::kFormatFailure,
           "The signature in field " + field->name + " cannot be read: " + std::string(e.what()) + ".");
    }
    result.signatures.push_back(std::move(entry));
  }

  std::stable_sort(result.signatures.begin(), result.signatures.end(),
                   [](const PdfSignatureReport& a, const PdfSignatureReport& b) {
                     return a.signed_revision_end < b.signed_revision_end;
                   });
  // A valid document time-stamp over a signature's revision proves the
  // signature existed at its genTime. It is noted, not used as the signing
  // time: the signature was judged at its own (claimed) time, and changing
  // that time would mean judging it anew.
  for (PdfSignatureReport& s : result.signatures) {
    if (s.document_timestamp || s.signed_revision_end == 0) continue;
    for (const PdfSignatureReport& ts : result.signatures) {
      if (!ts.document_timestamp || ts.report.verdict != Verdict::kValid || !ts.report.signing_time ||
          ts.signed_revision_end <= s.signed_revision_end)
        continue;
      s.report.warnings.push_back("the document time-stamp in field " + ts.field_name +
                                  " proves this signature existed by " + FormatUtcTime(*ts.report.signing_time));
      break;
    }
  }
  result.verdict = Verdict::kValid;
  for (const PdfSignatureReport& s : result.signatures) result.verdict = Worse(result.verdict, s.report.verdict);
  return result;
}

}  // namespace preserve::signature
