#include "preserve/ingest/pdf_validation.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFAcroFormDocumentHelper.hh>
#include <qpdf/QPDFFormFieldObjectHelper.hh>
#include <qpdf/QPDFObjGen.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "preserve/timestamp/time_stamp.h"
#include "preserve/util/certificates.h"
#include "preserve/util/clock.h"
#include "preserve/util/digest.h"

namespace preserve::ingest {

namespace {

constexpr std::string_view kNoSigningTimeSource = "validation time (none in signature)";
constexpr std::string_view kPdfDateSource = "PDF /M date (claimed)";
constexpr std::string_view kTimeStampSource = "document time-stamp genTime";

// The verdict EN 319 102-1 gives the sub-indications this file sets itself.
Verdict VerdictFor(SubIndication s) {
  switch (s) {
    case SubIndication::kNone:
      return Verdict::kValid;
    case SubIndication::kFormatFailure:
    case SubIndication::kHashFailure:
    case SubIndication::kSigCryptoFailure:
      return Verdict::kInvalid;
    default:
      return Verdict::kIndeterminate;
  }
}

void Fail(SignatureReport& report, SubIndication s, std::string reason) {
  report.verdict = VerdictFor(s);
  report.sub_indication = s;
  report.reason = std::move(reason);
}

std::string ObjectName(QPDFObjGen og) { return og.unparse(' '); }

// A parsed PDF over bytes the caller keeps alive (processMemoryFile does not copy).
// Recovery is off: a signature validator must read the cross-reference table
// the signer wrote, not a reconstruction of a damaged file.
Result<std::unique_ptr<QPDF>> OpenPdf(ByteView bytes, const char* description) {
  try {
    auto pdf = std::make_unique<QPDF>();
    pdf->setSuppressWarnings(true);
    pdf->setAttemptRecovery(false);
    pdf->processMemoryFile(description, reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return pdf;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("not a readable PDF: ") + e.what());
  }
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

// --- What later revisions changed ---------------------------------------------

// Every indirect object reachable from `root`, not following the keys in `skip`
// (/P and /Parent lead from a field back to its page and the whole form).
void Reach(QPDFObjectHandle root, const std::set<std::string>& skip, std::set<QPDFObjGen>& seen) {
  std::vector<QPDFObjectHandle> todo{root};
  while (!todo.empty()) {
    QPDFObjectHandle h = todo.back();
    todo.pop_back();
    if (h.isIndirect() && !seen.insert(h.getObjGen()).second) continue;
    if (h.isArray()) {
      for (QPDFObjectHandle& item : h.getArrayAsVector()) todo.push_back(item);
    } else if (h.isDictionary() || h.isStream()) {
      QPDFObjectHandle dict = h.isStream() ? h.getDict() : h;
      for (const std::string& key : dict.getKeys()) {
        if (skip.count(key) == 0) todo.push_back(dict.getKey(key));
      }
    }
  }
}

std::string FieldType(QPDFObjectHandle field) {
  // /FT is inheritable; a bounded walk up /Parent guards against loops.
  for (int depth = 0; depth < 32 && field.isDictionary(); ++depth) {
    QPDFObjectHandle ft = field.getKey("/FT");
    if (ft.isName()) return ft.getName();
    field = field.getKey("/Parent");
  }
  return "";
}

bool IsSignatureField(QPDFObjectHandle h) { return h.isDictionary() && FieldType(h) == "/Sig"; }

std::string FieldName(QPDFObjectHandle field) {
  QPDFObjectHandle t = field.getKey("/T");
  return t.isString() ? t.getUTF8Value() : "(unnamed)";
}

// The text of an object, with indirect references as "n g R", streams with their raw data.
std::string Fingerprint(QPDFObjectHandle h) {
  if (h.isStream()) {
    std::shared_ptr<Buffer> data = h.getRawStreamData();
    return h.getDict().unparse() + "stream" +
           std::string(reinterpret_cast<const char*>(data->getBuffer()), data->getSize());
  }
  return h.isIndirect() ? h.unparseResolved() : h.unparse();
}

// Items (as "n g R" or direct text) of an array.
std::vector<std::string> Items(QPDFObjectHandle array) {
  std::vector<std::string> out;
  if (!array.isArray()) return out;
  for (QPDFObjectHandle& item : array.getArrayAsVector()) out.push_back(item.unparse());
  return out;
}

class ChangeFinder {
 public:
  ChangeFinder(QPDF& signed_revision, QPDF& whole) : old_(signed_revision), new_(whole) {}

  std::vector<PdfLaterChange> Find() {
    Index();
    std::set<QPDFObjGen> old_objects;
    for (QPDFObjectHandle& h : old_.getAllObjects()) old_objects.insert(h.getObjGen());
    for (QPDFObjectHandle& h : new_.getAllObjects()) {
      const QPDFObjGen og = h.getObjGen();
      if (old_objects.erase(og) == 0) {
        Added(h);
        continue;
      }
      QPDFObjectHandle before = old_.getObjectByObjGen(og);
      if (Fingerprint(before) != Fingerprint(h)) Changed(before, h);
    }
    for (const QPDFObjGen& og : old_objects) {
      Note(false, "removed object " + ObjectName(og) + Describe(og));
    }
    return std::move(changes_);
  }

 private:
  void Note(bool allowed, std::string what) { changes_.push_back({std::move(what), allowed}); }

  // What each object of the new revision is, and which objects signatures and validation data bring.
  void Index() {
    std::set<QPDFObjGen> pages;
    const std::vector<QPDFObjectHandle>& all_pages = new_.getAllPages();
    for (std::size_t i = 0; i < all_pages.size(); ++i) {
      QPDFObjectHandle page = all_pages[i];
      const std::string number = std::to_string(i + 1);
      roles_[page.getObjGen()] = "page " + number;
      page_numbers_[page.getObjGen()] = number;
      QPDFObjectHandle contents = page.getKey("/Contents");
      std::vector<QPDFObjectHandle> streams =
          contents.isArray() ? contents.getArrayAsVector() : std::vector<QPDFObjectHandle>{contents};
      if (contents.isArray() && contents.isIndirect()) roles_[contents.getObjGen()] = "the content of page " + number;
      for (QPDFObjectHandle& s : streams) {
        if (s.isIndirect()) roles_[s.getObjGen()] = "the content of page " + number;
      }
      QPDFObjectHandle annots = page.getKey("/Annots");
      if (annots.isIndirect()) annots_arrays_[annots.getObjGen()] = number;
    }
    QPDFObjectHandle root = new_.getRoot();
    roles_[root.getObjGen()] = "the document catalog";
    QPDFObjectHandle acroform = root.getKey("/AcroForm");
    if (acroform.isIndirect()) roles_[acroform.getObjGen()] = "the AcroForm";

    QPDFAcroFormDocumentHelper form(new_);
    for (QPDFFormFieldObjectHelper& field : form.getFormFields()) {
      if (field.getFieldType() != "/Sig") continue;
      QPDFObjectHandle h = field.getObjectHandle();
      const std::string name = field.getFullyQualifiedName();
      if (h.isIndirect()) roles_[h.getObjGen()] = "signature field " + name;
      QPDFObjectHandle value = field.getValue();
      if (value.isIndirect()) {
        const bool timestamp = value.isDictionary() && value.getKey("/Type").isNameAndEquals("/DocTimeStamp");
        roles_[value.getObjGen()] = (timestamp ? "the document time-stamp of " : "the signature value of ") + name;
      }
      std::set<QPDFObjGen> reached;
      Reach(h, {"/P", "/Parent"}, reached);
      for (const QPDFObjGen& og : reached) brought_.emplace(og, "part of signature field " + name);
    }
    QPDFObjectHandle dss = root.getKey("/DSS");
    if (!dss.isNull()) {
      std::set<QPDFObjGen> reached;
      Reach(dss, {}, reached);
      for (const QPDFObjGen& og : reached) brought_.emplace(og, "validation data (DSS)");
    }
    Reach(new_.getTrailer(), {}, referenced_);
  }

  std::string Describe(QPDFObjGen og) const {
    auto role = roles_.find(og);
    return role == roles_.end() ? "" : " (" + role->second + ")";
  }

  void Added(QPDFObjectHandle h) {
    const QPDFObjGen og = h.getObjGen();
    auto role = roles_.find(og);
    if (role != roles_.end() && brought_.count(og) != 0) {
      Note(true, "added " + role->second + " (object " + ObjectName(og) + ")");
    } else if (auto by = brought_.find(og); by != brought_.end()) {
      Note(true, "added object " + ObjectName(og) + " (" + by->second + ")");
    } else if (referenced_.count(og) == 0) {
      // Nothing refers to it, so no reader shows or uses it (pdfsig leaves such objects).
      Note(true, "added object " + ObjectName(og) + ", referenced by nothing");
    } else {
      std::string what = "added object " + ObjectName(og);
      QPDFObjectHandle dict = h.isStream() ? h.getDict() : h;
      if (dict.isDictionary() && dict.getKey("/Subtype").isName()) {
        // Annotations may omit /Type; a /Rect says what they are.
        const bool annotation = dict.getKey("/Type").isNameAndEquals("/Annot") || dict.hasKey("/Rect");
        what += " (a " + dict.getKey("/Subtype").getName() + (annotation ? " annotation)" : " object)");
      } else {
        what += Describe(og);
      }
      Note(false, what);
    }
  }

  // Added entries of an array that must all be signature fields (or their widgets).
  void ArrayOfSignatureFields(QPDFObjectHandle before, QPDFObjectHandle after, const std::string& where) {
    std::vector<std::string> old_items = Items(before);
    std::vector<std::string> new_items = Items(after);
    for (const std::string& item : old_items) {
      if (std::find(new_items.begin(), new_items.end(), item) == new_items.end())
        Note(false, where + ": removed " + item);
    }
    std::vector<QPDFObjectHandle> handles =
        after.isArray() ? after.getArrayAsVector() : std::vector<QPDFObjectHandle>{};
    for (QPDFObjectHandle& item : handles) {
      if (std::find(old_items.begin(), old_items.end(), item.unparse()) != old_items.end()) continue;
      if (IsSignatureField(item)) {
        Note(true, where + ": added signature field " + FieldName(item));
      } else {
        Note(false, where + ": added " + item.unparse() + Describe(item.getObjGen()) +
                        (item.isDictionary() && item.getKey("/Subtype").isName()
                             ? " (a " + item.getKey("/Subtype").getName() + " annotation)"
                             : ""));
      }
    }
  }

  // A dictionary whose changed keys must all be in `allowed` (with /Fields and /Annots checked item by item).
  void DictionaryKeys(QPDFObjectHandle before, QPDFObjectHandle after, const std::string& where,
                      const std::set<std::string>& allowed) {
    std::set<std::string> keys = before.getKeys();
    for (const std::string& k : after.getKeys()) keys.insert(k);
    for (const std::string& key : keys) {
      QPDFObjectHandle b = before.getKey(key);
      QPDFObjectHandle a = after.getKey(key);
      if (b.unparse() == a.unparse()) continue;
      if (allowed.count(key) == 0) {
        Note(false, where + ": changed " + key);
      } else if (key == "/Fields" || key == "/Annots") {
        ArrayOfSignatureFields(b, a, where + " " + key);
      } else if (key == "/AcroForm" && !a.isIndirect()) {
        DictionaryKeys(b.isDictionary() ? b : QPDFObjectHandle::newDictionary(), a, "the AcroForm", kAcroFormKeys);
      } else {
        Note(true, where + ": changed " + key);
      }
    }
  }

  void Changed(QPDFObjectHandle before, QPDFObjectHandle after) {
    const QPDFObjGen og = after.getObjGen();
    const std::string where = roles_.count(og) != 0 ? roles_.at(og) : "object " + ObjectName(og);
    if (og == new_.getRoot().getObjGen() && before.isDictionary() && after.isDictionary()) {
      DictionaryKeys(before, after, where, {"/AcroForm", "/DSS", "/Extensions"});
    } else if (roles_.count(og) != 0 && roles_.at(og) == "the AcroForm" && before.isDictionary() &&
               after.isDictionary()) {
      DictionaryKeys(before, after, where, kAcroFormKeys);
    } else if (page_numbers_.count(og) != 0 && before.isDictionary() && after.isDictionary()) {
      DictionaryKeys(before, after, where, {"/Annots"});
    } else if (annots_arrays_.count(og) != 0 && before.isArray() && after.isArray()) {
      ArrayOfSignatureFields(before, after, "page " + annots_arrays_.at(og) + " /Annots");
    } else if (IsSignatureField(after) && before.isDictionary() && before.getKey("/V").isNull()) {
      // An empty signature field prepared before signing, now signed.
      Note(true, "signed the empty signature field " + FieldName(after) + " (object " + ObjectName(og) + ")");
    } else {
      Note(false, "changed " + where + (where.rfind("object ", 0) == 0 ? "" : " (object " + ObjectName(og) + ")"));
    }
  }

  // Signing adds fields and may add default resources for their appearance.
  inline static const std::set<std::string> kAcroFormKeys = {"/Fields", "/SigFlags", "/DR"};

  QPDF& old_;
  QPDF& new_;
  std::map<QPDFObjGen, std::string> roles_;
  std::map<QPDFObjGen, std::string> page_numbers_;
  std::map<QPDFObjGen, std::string> annots_arrays_;
  std::map<QPDFObjGen, std::string> brought_;  // objects that signatures or the DSS bring
  std::set<QPDFObjGen> referenced_;
  std::vector<PdfLaterChange> changes_;
};

// --- One signature --------------------------------------------------------------

struct SignatureField {
  std::string name;
  QPDFObjectHandle value;  // the signature dictionary (/V)
};

std::vector<SignatureField> SignatureFields(QPDF& pdf) {
  std::vector<SignatureField> out;
  QPDFAcroFormDocumentHelper form(pdf);
  for (QPDFFormFieldObjectHelper& field : form.getFormFields()) {
    if (field.getFieldType() != "/Sig") continue;
    QPDFObjectHandle value = field.getValue();
    if (value.isDictionary()) out.push_back({field.getFullyQualifiedName(), value});
  }
  return out;
}

// The checked shape of one signature dictionary.
struct SignedBytes {
  std::uint64_t first_end = 0;     // ByteRange[1]
  std::uint64_t second_start = 0;  // ByteRange[2]
  std::uint64_t end = 0;           // ByteRange[2] + ByteRange[3]
  Bytes signature;                 // the DER in /Contents, without its zero padding
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
  out.first_end = r[1];
  out.second_start = r[2];
  out.end = r[2] + r[3];
  if (out.end > pdf.size())
    return Status::InvalidArgument("its /ByteRange ends at byte " + std::to_string(out.end) +
                                   ", past the end of the file (" + std::to_string(pdf.size()) + " bytes)");
  if (revision_ends.count(out.end) == 0)
    return Status::InvalidArgument("its /ByteRange ends at byte " + std::to_string(out.end) +
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
  ManualClock at_claimed_time(*claimed);
  CmsValidationOptions at_m = options;
  at_m.clock = &at_claimed_time;
  auto again = ValidateCms(bytes.signature, content, at_m);
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

}  // namespace

bool LooksLikePdf(ByteView data) {
  constexpr std::string_view kHeader = "%PDF-";
  std::string_view head(reinterpret_cast<const char*>(data.data()), std::min<std::size_t>(data.size(), 1024));
  return head.find(kHeader) != std::string_view::npos;
}

Result<PdfValidation> ValidatePdf(ByteView pdf, const CmsValidationOptions& options) {
  if (options.clock == nullptr) return Status::InvalidArgument("PDF validation needs a clock");
  if (!LooksLikePdf(pdf)) return Status::InvalidArgument("not a PDF: no %PDF- header in its first 1024 bytes");
  PRESERVE_ASSIGN_OR_RETURN(std::unique_ptr<QPDF> whole, OpenPdf(pdf, "the PDF"));

  PdfValidation result;
  std::vector<SignatureField> fields;
  try {
    result.pdf_version = whole->getPDFVersion();
    fields = SignatureFields(*whole);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("not a readable PDF: ") + e.what());
  }
  if (fields.empty()) {
    result.verdict = Verdict::kInvalid;
    result.sub_indication = SubIndication::kFormatFailure;
    result.reason = "The PDF carries no signature.";
    return result;
  }

  const std::set<std::uint64_t> revision_ends = RevisionEnds(pdf);
  // One parse and one comparison per signed revision, shared by the signatures ending there.
  std::map<std::uint64_t, Result<std::vector<PdfLaterChange>>> changes_by_end;
  auto later_changes = [&](std::uint64_t end) -> const Result<std::vector<PdfLaterChange>>& {
    auto found = changes_by_end.find(end);
    if (found != changes_by_end.end()) return found->second;
    Result<std::vector<PdfLaterChange>> changes = [&]() -> Result<std::vector<PdfLaterChange>> {
      PRESERVE_ASSIGN_OR_RETURN(std::unique_ptr<QPDF> revision, OpenPdf(pdf.first(end), "the signed revision"));
      try {
        return ChangeFinder(*revision, *whole).Find();
      } catch (const std::exception& e) {
        return Status::InvalidArgument(std::string("its revisions cannot be compared: ") + e.what());
      }
    }();
    return changes_by_end.emplace(end, std::move(changes)).first->second;
  };

  for (SignatureField& field : fields) {
    PdfSignatureReport entry;
    entry.field_name = field.name;
    SignatureReport& report = entry.report;
    try {
      QPDFObjectHandle sig = field.value;
      entry.sub_filter = NameOr(sig.getKey("/SubFilter"), "");
      entry.document_timestamp =
          entry.sub_filter == "ETSI.RFC3161" || sig.getKey("/Type").isNameAndEquals("/DocTimeStamp");
      auto bytes = ReadSignedBytes(pdf, sig, revision_ends);
      if (!bytes.ok()) {
        Fail(report, SubIndication::kFormatFailure,
             "The signature in field " + field.name + " is malformed: " + bytes.status().message() + ".");
        result.signatures.push_back(std::move(entry));
        continue;
      }
      entry.signed_revision_end = bytes->end;
      entry.covers_whole_file = bytes->end == pdf.size();
      Bytes content(pdf.begin(), pdf.begin() + static_cast<std::ptrdiff_t>(bytes->first_end));
      content.insert(content.end(), pdf.begin() + static_cast<std::ptrdiff_t>(bytes->second_start),
                     pdf.begin() + static_cast<std::ptrdiff_t>(bytes->end));

      if (entry.sub_filter == "adbe.pkcs7.detached" || entry.sub_filter == "ETSI.CAdES.detached") {
        ValidateCmsSignature(*bytes, content, sig, options, report);
      } else if (entry.sub_filter == "ETSI.RFC3161") {
        ValidateDocumentTimeStamp(*bytes, content, options, report);
      } else {
        Fail(report, SubIndication::kFormatFailure,
             "The signature in field " + field.name + " has the unsupported /SubFilter \"" + entry.sub_filter +
                 "\" (supported: adbe.pkcs7.detached, ETSI.CAdES.detached, ETSI.RFC3161).");
      }
      if (!entry.covers_whole_file) {
        const auto& changes = later_changes(bytes->end);
        if (revision_ends.count(pdf.size()) == 0) {
          // Bytes after the last %%EOF belong to no revision: nothing can say what they are.
          Fail(report, SubIndication::kFormatFailure,
               "The signature in field " + field.name +
                   " does not cover the end of the file, and the bytes after it are no incremental update "
                   "(the file does not end with %%EOF).");
        } else if (!changes.ok()) {
          Fail(report, SubIndication::kFormatFailure,
               "The revision signed in field " + field.name + " is not readable: " + changes.status().message() + ".");
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
    } catch (const std::exception& e) {
      Fail(report, SubIndication::kFormatFailure,
           "The signature in field " + field.name + " cannot be read: " + std::string(e.what()) + ".");
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

}  // namespace preserve::ingest
