// ValidatePdf against the signed PDFs of tests/fixtures/pdf (made by
// scripts/make-pdf-fixtures.sh with poppler's pdfsig, openssl cms and openssl
// ts; tests/fixtures/README.md says what each is), plus damaged variants the
// tests make themselves.
#include "preserve/signature/pdf_validation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "preserve/util/certificates.h"
#include "testing.h"

namespace preserve::signature {
namespace {

using preserve::testing::ReadFileOrDie;
using preserve::testing::SourceDir;

std::filesystem::path Fixture(const std::string& relative) { return SourceDir() / "tests" / "fixtures" / relative; }

Bytes Pdf(const std::string& name) { return ReadFileOrDie(Fixture("pdf/" + name)); }

Bytes Certificate(const std::string& path) {
  auto certs = LoadCertificates(Fixture(path));
  EXPECT_TRUE(certs.ok()) << certs.status().ToString();
  return certs.ok() ? certs->front() : Bytes{};
}

bool HasChange(const PdfSignatureReport& s, const std::string& part, bool allowed) {
  return std::any_of(s.later_changes.begin(), s.later_changes.end(), [&](const PdfLaterChange& c) {
    return c.allowed == allowed && c.what.find(part) != std::string::npos;
  });
}

std::string Changes(const PdfSignatureReport& s) {
  std::string out;
  for (const PdfLaterChange& c : s.later_changes) out += (c.allowed ? "  allowed: " : "  FORBIDDEN: ") + c.what + "\n";
  return out;
}

class PdfValidationTest : public ::testing::Test {
 protected:
  PdfValidationTest() : clock_(SystemClock().Now()) {
    options_.trust_anchors = {Certificate("pki/root-ca.pem")};
    options_.clock = &clock_;
    options_.revocation.check = false;  // the test PKI publishes no CRL or OCSP responder
  }

  PdfValidation Validate(const Bytes& pdf) {
    auto result = ValidatePdf(pdf, options_);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(result).value() : PdfValidation{};
  }

  // The report of the one signature of a fixture.
  PdfSignatureReport ValidateOne(const std::string& name) {
    PdfValidation v = Validate(Pdf(name));
    EXPECT_EQ(v.signatures.size(), 1u) << name;
    if (v.signatures.size() != 1) return {};
    EXPECT_EQ(v.verdict, v.signatures[0].report.verdict);
    return v.signatures[0];
  }

  ManualClock clock_;
  CmsValidationOptions options_;
};

TEST_F(PdfValidationTest, LooksLikePdf) {
  EXPECT_TRUE(LooksLikePdf(Pdf("signed.pdf")));
  EXPECT_TRUE(LooksLikePdf(AsBytes("\xef\xbb\xbf%PDF-1.4\n")));
  EXPECT_FALSE(LooksLikePdf(AsBytes("PK\x03\x04 a zip, not a PDF")));
  EXPECT_FALSE(LooksLikePdf({}));
}

TEST_F(PdfValidationTest, SignedByPdfsigIsValid) {
  Bytes pdf = Pdf("signed.pdf");
  PdfValidation v = Validate(pdf);
  EXPECT_EQ(v.verdict, Verdict::kValid);
  EXPECT_EQ(v.pdf_version, "1.7");
  ASSERT_EQ(v.signatures.size(), 1u);
  const PdfSignatureReport& s = v.signatures[0];
  EXPECT_EQ(s.field_name, "Signature1");
  EXPECT_EQ(s.sub_filter, "adbe.pkcs7.detached");
  EXPECT_FALSE(s.document_timestamp);
  EXPECT_TRUE(s.covers_whole_file);
  EXPECT_EQ(s.signed_revision_end, pdf.size());
  EXPECT_TRUE(s.later_changes.empty()) << Changes(s);
  EXPECT_EQ(s.report.verdict, Verdict::kValid) << s.report.reason;
  EXPECT_EQ(s.report.signer_common_name, "Nguyễn Văn An");
  EXPECT_EQ(s.report.digest_algorithm, "SHA-256");
  // pdfsig's CMS has no signing-time attribute: the signature is judged at its /M date.
  EXPECT_EQ(s.report.signing_time_source, "PDF /M date (claimed)");
  EXPECT_TRUE(s.report.signing_time_claimed);
  ASSERT_TRUE(s.report.signing_time.has_value());
  EXPECT_GT(*s.report.signing_time, ParseUtcTime("2024-01-01").value());
  EXPECT_LE(*s.report.signing_time, clock_.Now());
  // The path up to the anchor: what the package keeps.
  ASSERT_EQ(s.report.certificates.size(), 3u);
  EXPECT_EQ(s.report.certificates[0], Certificate("pki/signer-rsa.pem"));
  EXPECT_EQ(s.report.certificates[2], Certificate("pki/root-ca.pem"));
}

TEST_F(PdfValidationTest, EcdsaSignerIsValid) {
  PdfSignatureReport s = ValidateOne("signed-ec.pdf");
  EXPECT_EQ(s.report.verdict, Verdict::kValid) << s.report.reason;
  EXPECT_EQ(s.report.signature_algorithm, "ECDSA");
  EXPECT_EQ(s.report.signer_common_name, "Trần Thị Bình");
}

TEST_F(PdfValidationTest, CadesSubFilterIsValid) {
  PdfSignatureReport s = ValidateOne("signed-cades.pdf");
  EXPECT_EQ(s.sub_filter, "ETSI.CAdES.detached");
  EXPECT_EQ(s.report.verdict, Verdict::kValid) << s.report.reason;
  EXPECT_TRUE(s.covers_whole_file);
  EXPECT_EQ(s.report.signing_time_source, "signing-time attribute (claimed)");
}

TEST_F(PdfValidationTest, SecondSignatureAsIncrementalUpdateKeepsTheFirstValid) {
  Bytes pdf = Pdf("signed-twice.pdf");
  PdfValidation v = Validate(pdf);
  EXPECT_EQ(v.verdict, Verdict::kValid);
  ASSERT_EQ(v.signatures.size(), 2u);
  const PdfSignatureReport& first = v.signatures[0];
  const PdfSignatureReport& second = v.signatures[1];
  EXPECT_EQ(first.field_name, "Signature1");
  EXPECT_EQ(second.field_name, "Signature2");
  EXPECT_EQ(first.report.verdict, Verdict::kValid) << first.report.reason;
  EXPECT_EQ(second.report.verdict, Verdict::kValid) << second.report.reason;
  EXPECT_FALSE(first.covers_whole_file);
  EXPECT_LT(first.signed_revision_end, second.signed_revision_end);
  EXPECT_TRUE(second.covers_whole_file);
  EXPECT_EQ(second.signed_revision_end, pdf.size());
  // What the second signing added is listed, and all of it is allowed.
  EXPECT_FALSE(first.later_changes.empty());
  EXPECT_TRUE(HasChange(
      first, "(signature field Signature2, page 1) added after signing, a signature over its own revision", true))
      << Changes(first);
  EXPECT_TRUE(HasChange(first, "the signature value of Signature2", true)) << Changes(first);
  EXPECT_TRUE(HasChange(first, "/Annots: added signature field Signature2", true)) << Changes(first);
  EXPECT_TRUE(HasChange(first, "/Fields: added signature field Signature2", true)) << Changes(first);
  EXPECT_FALSE(HasChange(first, "", false)) << Changes(first);
  EXPECT_TRUE(second.later_changes.empty());
}

// pdfsig over a letter whose cross-reference is a stream (qpdf's object
// streams) writes its updates with cross-reference streams too.
TEST_F(PdfValidationTest, SecondSignatureInCrossReferenceStreamUpdatesKeepsTheFirstValid) {
  PdfValidation v = Validate(Pdf("signed-twice-xref-stream.pdf"));
  EXPECT_EQ(v.verdict, Verdict::kValid);
  ASSERT_EQ(v.signatures.size(), 2u);
  const PdfSignatureReport& first = v.signatures[0];
  EXPECT_EQ(first.report.verdict, Verdict::kValid) << first.report.reason;
  EXPECT_EQ(v.signatures[1].report.verdict, Verdict::kValid) << v.signatures[1].report.reason;
  EXPECT_TRUE(HasChange(
      first, "(signature field Signature2, page 1) added after signing, a signature over its own revision", true))
      << Changes(first);
  EXPECT_FALSE(HasChange(first, "", false)) << Changes(first);
}

TEST_F(PdfValidationTest, ContentChangedAfterSigningFails) {
  PdfSignatureReport s = ValidateOne("signed-then-content-changed.pdf");
  EXPECT_EQ(s.report.verdict, Verdict::kInvalid);
  EXPECT_EQ(s.report.sub_indication, SubIndication::kFormatFailure);
  EXPECT_NE(s.report.reason.find("modified after signing"), std::string::npos) << s.report.reason;
  EXPECT_NE(s.report.reason.find("the content of page 1"), std::string::npos) << s.report.reason;
  EXPECT_FALSE(s.covers_whole_file);
  EXPECT_TRUE(HasChange(s, "changed the content of page 1", false)) << Changes(s);
  // The signer, the certificates and the time are still reported.
  EXPECT_EQ(s.report.signer_common_name, "Nguyễn Văn An");
  EXPECT_EQ(s.report.certificates.size(), 3u);
}

TEST_F(PdfValidationTest, AnnotationAddedAfterSigningFails) {
  PdfSignatureReport s = ValidateOne("signed-then-annotated.pdf");
  EXPECT_EQ(s.report.verdict, Verdict::kInvalid);
  EXPECT_EQ(s.report.sub_indication, SubIndication::kFormatFailure);
  EXPECT_NE(s.report.reason.find("modified after signing"), std::string::npos) << s.report.reason;
  EXPECT_TRUE(HasChange(s, "page 1 /Annots: added", false)) << Changes(s);
  EXPECT_TRUE(HasChange(s, "/Text", false)) << Changes(s);
}

// --- Changes after signing that add fields and bytes, no visible content of their own ---

// The sneaky signature (Mainka et al., 2021): an unsigned signature field whose
// appearance paints over the whole page.
TEST_F(PdfValidationTest, SneakySignatureFieldAddedAfterSigningFails) {
  PdfSignatureReport s = ValidateOne("signed-then-sneaky-field.pdf");
  EXPECT_EQ(s.report.verdict, Verdict::kInvalid);
  EXPECT_EQ(s.report.sub_indication, SubIndication::kFormatFailure);
  const std::string change =
      "(signature field Signature9, page 1) added after signing, unsigned, with a visible appearance covering 100% "
      "of page 1 (/Rect [ 0 0 595 842 ])";
  EXPECT_NE(s.report.reason.find("modified after signing: object "), std::string::npos) << s.report.reason;
  EXPECT_NE(s.report.reason.find(change), std::string::npos) << s.report.reason;
  EXPECT_TRUE(HasChange(s, change, false)) << Changes(s);
  EXPECT_TRUE(HasChange(s, "the appearance of signature field Signature9", false)) << Changes(s);
  EXPECT_TRUE(HasChange(s, "page 1 /Annots: added signature field Signature9", false)) << Changes(s);
  EXPECT_FALSE(HasChange(s, "", true)) << Changes(s);
}

// Replaces `from` (once) by `to`, of the same length, so no offset moves.
Bytes Patched(Bytes pdf, const std::string& from, const std::string& to) {
  EXPECT_EQ(from.size(), to.size());
  const std::string text = ToString(pdf);
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) std::copy(to.begin(), to.end(), pdf.begin() + static_cast<std::ptrdiff_t>(at));
  return pdf;
}

// The same field, made invisible three ways, is an empty field for a later signer.
TEST_F(PdfValidationTest, SneakySignatureFieldNoReaderSeesIsAllowed) {
  const Bytes sneaky = Pdf("signed-then-sneaky-field.pdf");
  const std::string field = "/T (Signature9) /Rect [0 0 595 842] /F 4 /AP";
  struct Case {
    std::string field;
    std::string because;
  };
  for (const Case& c : {Case{"/T (Signature9) /Rect [0 0 595 842] /F 2 /AP", "hidden by its flags, /F 2"},
                        Case{"/T (Signature9) /Rect [0 0 595 842] /F 32/AP", "hidden by its flags, /F 32"},
                        Case{"/T (Signature9) /Rect [0 0 595   0] /F 4 /AP", "a zero-size /Rect"}}) {
    SCOPED_TRACE(c.field);
    PdfValidation v = Validate(Patched(sneaky, field, c.field));
    ASSERT_EQ(v.signatures.size(), 1u);
    const PdfSignatureReport& s = v.signatures[0];
    EXPECT_EQ(s.report.verdict, Verdict::kValid) << s.report.reason;
    EXPECT_TRUE(HasChange(
        s, "(signature field Signature9, page 1) added after signing, empty and invisible (" + c.because, true))
        << Changes(s);
    EXPECT_FALSE(HasChange(s, "", false)) << Changes(s);
  }
  // ToggleNoView (/F 288 = NoView + ToggleNoView) shows it under the pointer: still visible.
  PdfValidation toggled = Validate(Patched(sneaky, "/F 4 /AP << ", "/F 288/AP<< "));
  ASSERT_EQ(toggled.signatures.size(), 1u);
  EXPECT_EQ(toggled.signatures[0].report.sub_indication, SubIndication::kFormatFailure);
}

TEST_F(PdfValidationTest, EmptyInvisibleSignatureFieldAddedAfterSigningIsAllowed) {
  PdfSignatureReport s = ValidateOne("signed-then-empty-field.pdf");
  EXPECT_EQ(s.report.verdict, Verdict::kValid) << s.report.reason;
  EXPECT_FALSE(s.covers_whole_file);
  EXPECT_TRUE(HasChange(s,
                        "(signature field Signature2, page 1) added after signing, empty and invisible (a zero-size "
                        "/Rect), for a later signer",
                        true))
      << Changes(s);
  EXPECT_FALSE(HasChange(s, "", false)) << Changes(s);
}

// A second signature may show itself: it signs the revision that adds it.
TEST_F(PdfValidationTest, VisibleSecondSignatureKeepsTheFirstValid) {
  PdfValidation v = Validate(Pdf("signed-then-visibly-signed.pdf"));
  EXPECT_EQ(v.verdict, Verdict::kValid);
  ASSERT_EQ(v.signatures.size(), 2u);
  const PdfSignatureReport& first = v.signatures[0];
  EXPECT_EQ(v.signatures[1].field_name, "Signature2");
  EXPECT_EQ(v.signatures[1].report.verdict, Verdict::kValid) << v.signatures[1].report.reason;
  EXPECT_EQ(v.signatures[1].report.signer_common_name, "Trần Thị Bình");
  EXPECT_EQ(first.report.verdict, Verdict::kValid) << first.report.reason;
  EXPECT_TRUE(HasChange(first,
                        "(signature field Signature2, page 1) added after signing, a signature over its own "
                        "revision, with a visible appearance covering 2% of page 1",
                        true))
      << Changes(first);
  EXPECT_FALSE(HasChange(first, "", false)) << Changes(first);
}

// The sneaky field whose /V is Signature1's signature dictionary: two fields,
// one signature. The second field's revision is not what that signature signs.
TEST_F(PdfValidationTest, FieldSharingAnotherFieldsSignatureIsNoSignature) {
  PdfValidation v = Validate(Pdf("signed-then-sneaky-field-sharing-value.pdf"));
  EXPECT_EQ(v.verdict, Verdict::kInvalid);
  ASSERT_EQ(v.signatures.size(), 2u);
  auto by_name = [&](const std::string& name) {
    return *std::find_if(v.signatures.begin(), v.signatures.end(),
                         [&](const PdfSignatureReport& s) { return s.field_name == name; });
  };
  const PdfSignatureReport sneaky = by_name("Signature9");
  EXPECT_EQ(sneaky.report.sub_indication, SubIndication::kFormatFailure);
  EXPECT_NE(sneaky.report.reason.find("The signature in field Signature9 is no signature of its own: its /V (object "),
            std::string::npos)
      << sneaky.report.reason;
  EXPECT_NE(sneaky.report.reason.find("is the signature dictionary of field Signature1, and object "),
            std::string::npos)
      << sneaky.report.reason;
  EXPECT_NE(sneaky.report.reason.find("(signature field Signature9) is not in the revision it signs (bytes 0 to " +
                                      std::to_string(sneaky.signed_revision_end) + ")"),
            std::string::npos)
      << sneaky.report.reason;
  // Signature1 itself is intact, and refused for what came after it.
  const PdfSignatureReport first = by_name("Signature1");
  EXPECT_EQ(first.report.sub_indication, SubIndication::kFormatFailure);
  EXPECT_NE(first.report.reason.find("modified after signing"), std::string::npos) << first.report.reason;
  EXPECT_TRUE(HasChange(
      first, "(signature field Signature9, page 1) added after signing, with a /V that does not sign it", false))
      << Changes(first);
  EXPECT_TRUE(HasChange(first, "and with a visible appearance covering 100% of page 1", false)) << Changes(first);
}

// The same with a copy of Signature1's dictionary in a new object: its bytes
// still verify, but the dictionary lies outside them.
TEST_F(PdfValidationTest, SignatureDictionaryOutsideItsSignedBytesIsNoSignature) {
  PdfValidation v = Validate(Pdf("signed-then-sneaky-field-copying-value.pdf"));
  EXPECT_EQ(v.verdict, Verdict::kInvalid);
  ASSERT_EQ(v.signatures.size(), 2u);
  const PdfSignatureReport& first = v.signatures[0].field_name == "Signature1" ? v.signatures[0] : v.signatures[1];
  const PdfSignatureReport& sneaky = v.signatures[0].field_name == "Signature9" ? v.signatures[0] : v.signatures[1];
  EXPECT_EQ(sneaky.field_name, "Signature9");
  EXPECT_EQ(sneaky.signed_revision_end, first.signed_revision_end);
  EXPECT_EQ(sneaky.report.verdict, Verdict::kInvalid);
  EXPECT_EQ(sneaky.report.sub_indication, SubIndication::kFormatFailure);
  EXPECT_NE(sneaky.report.reason.find("The signature in field Signature9 is no signature of its own: its signature "
                                      "dictionary (object "),
            std::string::npos)
      << sneaky.report.reason;
  EXPECT_NE(sneaky.report.reason.find("begins at byte " + std::to_string(first.signed_revision_end + 1) +
                                      ", outside the bytes it signs (0 to " +
                                      std::to_string(first.signed_revision_end) + ", its /Contents aside)"),
            std::string::npos)
      << sneaky.report.reason;
  // Who made the bytes it borrows is still said.
  EXPECT_EQ(sneaky.report.signer_common_name, "Nguyễn Văn An");
  EXPECT_EQ(first.report.sub_indication, SubIndication::kFormatFailure);
  EXPECT_TRUE(HasChange(first, "added the signature value of Signature9", false)) << Changes(first);
}

// An object after the last %%EOF with no cross-reference section: readers that
// rebuild the table by scanning show the new page content ("9999").
TEST_F(PdfValidationTest, ObjectAfterTheLastEofWithoutCrossReferenceSectionFails) {
  const Bytes signed_pdf = Pdf("signed.pdf");
  PdfSignatureReport s = ValidateOne("signed-then-object-after-eof.pdf");
  EXPECT_EQ(s.report.verdict, Verdict::kInvalid);
  EXPECT_EQ(s.report.sub_indication, SubIndication::kFormatFailure);
  EXPECT_FALSE(s.covers_whole_file);
  EXPECT_EQ(s.signed_revision_end, signed_pdf.size());
  const std::string at = std::to_string(signed_pdf.size());
  EXPECT_NE(s.report.reason.find("modified after signing: object 4 0 (the content of page 1) at byte " + at +
                                 " is listed in no cross-reference section"),
            std::string::npos)
      << s.report.reason;
  EXPECT_TRUE(HasChange(s, "the bytes from " + at + " to ", false)) << Changes(s);
  EXPECT_TRUE(HasChange(s, "end with %%EOF but hold no cross-reference section, trailer and startxref", false))
      << Changes(s);
}

// How an update lists its objects: a cross-reference table and trailer, or a
// cross-reference stream (ISO 32000-1 7.5.8), as writers do after a file that has one.
enum class Section { kTable, kStream };

// Appends an incremental update to `pdf` as ISO 32000-1 7.5.6 writes it: the
// objects (number, text between "obj" and "endobj"), a cross-reference section
// listing those in `listed` (a stream also lists itself, as the next number),
// its /Prev the last startxref, startxref, %%EOF.
void AppendUpdate(Bytes& pdf, const std::vector<std::pair<int, std::string>>& objects, const std::set<int>& listed,
                  Section section = Section::kTable) {
  const std::string text = ToString(pdf);
  const std::size_t startxref = text.rfind("startxref");
  const std::string prev = std::to_string(std::stoul(text.substr(startxref + 9)));
  int size = std::stoi(text.substr(text.rfind("/Size ") + 6));
  std::string update = "\n";
  std::map<int, std::size_t> offsets;
  for (const auto& [number, body] : objects) {
    offsets[number] = text.size() + update.size();
    update += std::to_string(number) + " 0 obj\n" + body + "\nendobj\n";
    size = std::max(size, number + 1);
  }
  const std::size_t xref = text.size() + update.size();
  if (section == Section::kTable) {
    update += "xref\n";
    for (const auto& [number, offset] : offsets) {
      if (listed.count(number) == 0) continue;
      char entry[32];
      std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
      update += std::to_string(number) + " 1\n" + entry;
    }
    update += "trailer\n<< /Size " + std::to_string(size) + " /Root 1 0 R /Prev " + prev + " >>\n";
  } else {
    const int self = size++;
    offsets[self] = xref;
    std::string index, entries;
    for (const auto& [number, offset] : offsets) {
      if (listed.count(number) == 0 && number != self) continue;
      index += std::to_string(number) + " 1 ";
      // /W [1 4 2]: type 1, the offset, generation 0.
      entries += {'\x01',
                  static_cast<char>(offset >> 24),
                  static_cast<char>(offset >> 16),
                  static_cast<char>(offset >> 8),
                  static_cast<char>(offset),
                  '\0',
                  '\0'};
    }
    update += std::to_string(self) + " 0 obj\n<< /Type /XRef /Size " + std::to_string(size) + " /Index [" + index +
              "] /W [1 4 2] /Root 1 0 R /Prev " + prev + " /Length " + std::to_string(entries.size()) +
              " >>\nstream\n" + entries + "\nendstream\nendobj\n";
  }
  update += "startxref\n" + std::to_string(xref) + "\n%%EOF\n";
  pdf.insert(pdf.end(), update.begin(), update.end());
}

TEST_F(PdfValidationTest, WellFormedUpdateAddingAnUnusedObjectIsAllowed) {
  for (Section section : {Section::kTable, Section::kStream}) {
    SCOPED_TRACE(section == Section::kTable ? "cross-reference table" : "cross-reference stream");
    Bytes pdf = Pdf("signed.pdf");
    AppendUpdate(pdf, {{40, "<< /Note (an object nothing refers to) >>"}}, {40}, section);
    PdfValidation v = Validate(pdf);
    ASSERT_EQ(v.signatures.size(), 1u);
    EXPECT_EQ(v.signatures[0].report.verdict, Verdict::kValid) << v.signatures[0].report.reason;
    EXPECT_TRUE(HasChange(v.signatures[0], "added object 40 0, referenced by nothing", true))
        << Changes(v.signatures[0]);
  }
}

// An update that defines the page content anew but lists only another object:
// readers that follow the sections see the signed page, those that scan the new one.
TEST_F(PdfValidationTest, ObjectOfAnUpdateMissingFromItsSectionFails) {
  for (Section section : {Section::kTable, Section::kStream}) {
    SCOPED_TRACE(section == Section::kTable ? "cross-reference table" : "cross-reference stream");
    Bytes pdf = Pdf("signed.pdf");
    AppendUpdate(pdf, {{4, "<< /Length 0 >>\nstream\n\nendstream"}, {40, "<< /Note (listed) >>"}}, {40}, section);
    PdfValidation v = Validate(pdf);
    ASSERT_EQ(v.signatures.size(), 1u);
    const PdfSignatureReport& s = v.signatures[0];
    EXPECT_EQ(s.report.sub_indication, SubIndication::kFormatFailure);
    EXPECT_NE(s.report.reason.find("object 4 0 (the content of page 1) at byte "), std::string::npos)
        << s.report.reason;
    EXPECT_TRUE(HasChange(s, "is listed in no cross-reference section", false)) << Changes(s);
  }
}

// An update whose /Prev skips the section before it (Signature2's): readers
// that follow the chain lose what that revision added.
TEST_F(PdfValidationTest, UpdateWhosePrevIsNotTheSectionBeforeItFails) {
  Bytes pdf = Pdf("signed-twice.pdf");
  const std::string text = ToString(pdf);
  const std::size_t second = text.find("startxref", text.find("startxref") + 1);
  const std::string signature1_section = std::to_string(std::stoul(text.substr(second + 9)));
  AppendUpdate(pdf, {{40, "<< /Note (an object nothing refers to) >>"}}, {40});
  std::string patched = ToString(pdf);
  const std::size_t prev = patched.rfind("/Prev ") + 6;
  const std::size_t digits = patched.find(' ', prev) - prev;
  ASSERT_GE(digits, signature1_section.size());
  patched.replace(prev, digits, std::string(digits - signature1_section.size(), '0') + signature1_section);
  PdfValidation v = Validate(Bytes(patched.begin(), patched.end()));
  ASSERT_EQ(v.signatures.size(), 1u);  // Signature2's revision is off the chain
  const PdfSignatureReport& s = v.signatures[0];
  EXPECT_EQ(s.report.sub_indication, SubIndication::kFormatFailure) << s.report.reason;
  EXPECT_TRUE(HasChange(s, "its /Prev (" + signature1_section + ") is not the previous cross-reference section", false))
      << Changes(s);
}

// The number after `key` in Signature1's field of signed.pdf ("/V 17 0 R": 17).
int Signature1Reference(const std::string& text, const std::string& key) {
  const std::size_t field = text.find("/T (Signature1)");
  return std::stoi(text.substr(text.find(key, field) + key.size()));
}

// The text of the newest definition of object `number`, between "obj" and "endobj".
std::string ObjectBody(const std::string& text, int number) {
  const std::size_t obj = text.rfind("\n" + std::to_string(number) + " 0 obj") + 1;
  const std::size_t begin = text.find_first_not_of("\r\n", text.find("obj", obj) + 3);
  const std::size_t end = text.find("endobj", begin);
  return text.substr(begin, text.find_last_not_of("\r\n ", end - 1) + 1 - begin);
}

// Signature1's own appearance painted anew later: its signature still signs
// its own revision; the change is a modification, named as such.
TEST_F(PdfValidationTest, SignaturesAppearanceChangedAfterSigningFails) {
  Bytes pdf = Pdf("signed.pdf");
  const int appearance = Signature1Reference(ToString(pdf), "/AP <</N ");
  AppendUpdate(
      pdf,
      {{appearance, "<< /Length 21 /Subtype /Form /BBox [0 0 595 842] >>\nstream\n0 0 1 rg 0 0 9 9 re f\nendstream"}},
      {appearance});
  PdfValidation v = Validate(pdf);
  ASSERT_EQ(v.signatures.size(), 1u);
  const PdfSignatureReport& s = v.signatures[0];
  EXPECT_EQ(s.report.sub_indication, SubIndication::kFormatFailure);
  EXPECT_NE(
      s.report.reason.find("modified after signing: changed the appearance of signature field Signature1 (object " +
                           std::to_string(appearance) + " 0)"),
      std::string::npos)
      << s.report.reason;
  EXPECT_EQ(s.report.reason.find("no signature of its own"), std::string::npos) << s.report.reason;
}

// Signature1's dictionary written again, byte for byte, after the bytes it
// signs: the dictionary readers now take lies outside them.
TEST_F(PdfValidationTest, SignatureDictionaryWrittenAgainAfterSigningIsNoSignature) {
  Bytes pdf = Pdf("signed.pdf");
  const std::string text = ToString(pdf);
  const int dictionary = Signature1Reference(text, "/V ");
  AppendUpdate(pdf, {{dictionary, ObjectBody(text, dictionary)}}, {dictionary});
  PdfValidation v = Validate(pdf);
  ASSERT_EQ(v.signatures.size(), 1u);
  const PdfSignatureReport& s = v.signatures[0];
  EXPECT_EQ(s.report.sub_indication, SubIndication::kFormatFailure);
  EXPECT_NE(s.report.reason.find("The signature in field Signature1 is no signature of its own: its signature "
                                 "dictionary (object " +
                                 std::to_string(dictionary) + " 0) begins at byte " + std::to_string(text.size() + 1) +
                                 ", outside the bytes it signs"),
            std::string::npos)
      << s.report.reason;
}

// What writers leave after %%EOF: end-of-line markers, spaces, NUL padding.
TEST_F(PdfValidationTest, WhitespaceAfterTheLastEofIsNoChange) {
  Bytes pdf = Pdf("signed-twice.pdf");
  const std::string tail("\r\n\n \t\0\0", 7);
  pdf.insert(pdf.end(), tail.begin(), tail.end());
  PdfValidation v = Validate(pdf);
  ASSERT_EQ(v.signatures.size(), 2u);
  EXPECT_EQ(v.verdict, Verdict::kValid) << v.signatures[0].report.reason << " / " << v.signatures[1].report.reason;
  EXPECT_FALSE(v.signatures[1].covers_whole_file);
  EXPECT_TRUE(v.signatures[1].later_changes.empty()) << Changes(v.signatures[1]);
}

// --- Certification signatures (DocMDP) ---

TEST_F(PdfValidationTest, CertificationSignatureIsValid) {
  PdfSignatureReport s = ValidateOne("certified.pdf");
  EXPECT_EQ(s.report.verdict, Verdict::kValid) << s.report.reason;
  EXPECT_TRUE(s.covers_whole_file);
}

// DocMDP P=1: no change after the certification signature, a second signature included.
TEST_F(PdfValidationTest, SignatureAfterACertificationThatPermitsNoChangesFailsIt) {
  PdfValidation v = Validate(Pdf("certified-then-signed.pdf"));
  EXPECT_EQ(v.verdict, Verdict::kInvalid);
  ASSERT_EQ(v.signatures.size(), 2u);
  const PdfSignatureReport& certification = v.signatures[0];
  EXPECT_EQ(certification.field_name, "Signature1");
  EXPECT_EQ(certification.report.sub_indication, SubIndication::kFormatFailure);
  EXPECT_NE(certification.report.reason.find("(signature field Signature2, page 1) added after signing, which this "
                                             "certification signature forbids: its DocMDP permissions (P=1)"),
            std::string::npos)
      << certification.report.reason;
  // The second signature is a good signature of what it signs.
  EXPECT_EQ(v.signatures[1].field_name, "Signature2");
  EXPECT_EQ(v.signatures[1].report.verdict, Verdict::kValid) << v.signatures[1].report.reason;
}

// P=1 still lets long-term validation add a document time-stamp.
TEST_F(PdfValidationTest, DocumentTimeStampAfterACertificationThatPermitsNoChangesIsAllowed) {
  PdfValidation v = Validate(Pdf("certified-then-timestamped.pdf"));
  ASSERT_EQ(v.signatures.size(), 2u);
  EXPECT_EQ(v.verdict, Verdict::kValid) << v.signatures[0].report.reason;
  EXPECT_TRUE(HasChange(v.signatures[0],
                        "(signature field DocTimeStamp1, page 1) added after signing, a document time-stamp over its "
                        "own revision",
                        true))
      << Changes(v.signatures[0]);
  EXPECT_FALSE(HasChange(v.signatures[0], "", false)) << Changes(v.signatures[0]);
}

TEST_F(PdfValidationTest, ByteChangedInsideTheSignedRangeIsHashFailure) {
  PdfSignatureReport s = ValidateOne("signed-byte-changed.pdf");
  EXPECT_EQ(s.report.verdict, Verdict::kInvalid);
  EXPECT_EQ(s.report.sub_indication, SubIndication::kHashFailure) << s.report.reason;
  EXPECT_TRUE(s.covers_whole_file);
}

TEST_F(PdfValidationTest, UntrustedSignerHasNoCertificateChain) {
  PdfSignatureReport s = ValidateOne("signed-untrusted.pdf");
  EXPECT_EQ(s.report.verdict, Verdict::kIndeterminate);
  EXPECT_EQ(s.report.sub_indication, SubIndication::kNoCertificateChainFound) << s.report.reason;
  EXPECT_EQ(s.report.signer_common_name, "Phạm Văn Lạ");
}

TEST_F(PdfValidationTest, ExpiredSignerIsExpired) {
  PdfSignatureReport s = ValidateOne("signed-expired.pdf");
  EXPECT_EQ(s.report.verdict, Verdict::kInvalid);
  EXPECT_EQ(s.report.sub_indication, SubIndication::kExpired) << s.report.reason;
}

TEST_F(PdfValidationTest, DocumentTimeStampIsValidAndNotedOnTheSignature) {
  PdfValidation v = Validate(Pdf("signed-timestamped.pdf"));
  EXPECT_EQ(v.verdict, Verdict::kValid);
  ASSERT_EQ(v.signatures.size(), 2u);
  const PdfSignatureReport& signature = v.signatures[0];
  const PdfSignatureReport& timestamp = v.signatures[1];
  EXPECT_EQ(signature.field_name, "Signature1");
  EXPECT_EQ(timestamp.field_name, "DocTimeStamp1");
  EXPECT_EQ(timestamp.sub_filter, "ETSI.RFC3161");
  EXPECT_TRUE(timestamp.document_timestamp);
  EXPECT_TRUE(timestamp.covers_whole_file);
  EXPECT_EQ(timestamp.report.verdict, Verdict::kValid) << timestamp.report.reason;
  EXPECT_FALSE(timestamp.report.signing_time_claimed);
  EXPECT_EQ(timestamp.report.signing_time_source, "document time-stamp genTime");
  EXPECT_NE(timestamp.report.signer_subject.find("Preserve Test PDF TSA"), std::string::npos)
      << timestamp.report.signer_subject;
  ASSERT_FALSE(timestamp.report.certificates.empty());
  EXPECT_EQ(timestamp.report.certificates[0], Certificate("pdf/tsa.pem"));
  ASSERT_TRUE(timestamp.report.signing_time.has_value());

  EXPECT_EQ(signature.report.verdict, Verdict::kValid) << signature.report.reason;
  EXPECT_TRUE(HasChange(signature, "the document time-stamp of DocTimeStamp1", true)) << Changes(signature);
  EXPECT_FALSE(HasChange(signature, "", false)) << Changes(signature);
  const std::string note = "proves this signature existed by " + FormatUtcTime(*timestamp.report.signing_time);
  EXPECT_TRUE(std::any_of(signature.report.warnings.begin(), signature.report.warnings.end(),
                          [&](const std::string& w) { return w.find(note) != std::string::npos; }))
      << "no warning says: " << note;
}

TEST_F(PdfValidationTest, DocumentTimeStampFromAnUntrustedTsaIsIndeterminate) {
  options_.timestamp_trust_anchors = {Certificate("pki/untrusted-root-ca.pem")};
  PdfValidation v = Validate(Pdf("signed-timestamped.pdf"));
  ASSERT_EQ(v.signatures.size(), 2u);
  EXPECT_EQ(v.signatures[1].report.sub_indication, SubIndication::kNoCertificateChainFound)
      << v.signatures[1].report.reason;
  EXPECT_EQ(v.verdict, Verdict::kIndeterminate);
  // Not valid, so it proves nothing about the signature.
  EXPECT_TRUE(v.signatures[0].report.warnings.empty());
}

TEST_F(PdfValidationTest, DocumentTimeStampOverChangedBytesIsHashFailure) {
  Bytes pdf = Pdf("signed-timestamped.pdf");
  // A byte inside the time-stamp's signed range (its own dictionary's /Type).
  const std::string text = ToString(pdf);
  std::size_t at = text.find("/Type /DocTimeStamp");
  ASSERT_NE(at, std::string::npos);
  pdf[at + 7] = 'd';  // DocTimeStamp -> docTimeStamp: same length, still a name
  PdfValidation v = Validate(pdf);
  ASSERT_EQ(v.signatures.size(), 2u);
  EXPECT_EQ(v.signatures[1].report.sub_indication, SubIndication::kHashFailure) << v.signatures[1].report.reason;
}

TEST_F(PdfValidationTest, UnsignedPdfIsAFormatFailure) {
  PdfValidation v = Validate(Pdf("unsigned.pdf"));
  EXPECT_EQ(v.verdict, Verdict::kInvalid);
  EXPECT_EQ(v.sub_indication, SubIndication::kFormatFailure);
  EXPECT_EQ(v.reason, "The PDF carries no signature.");
  EXPECT_TRUE(v.signatures.empty());
  EXPECT_EQ(v.pdf_version, "1.7");
}

TEST_F(PdfValidationTest, TruncatedPdfIsAnError) {
  auto result = ValidatePdf(Pdf("truncated.pdf"), options_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("not a readable PDF"), std::string::npos) << result.status().message();
}

TEST_F(PdfValidationTest, NotAPdfIsAnError) {
  for (const std::string& input :
       {std::string("plain text"), std::string("%PDF-1.7\n garbage, no objects"), std::string()}) {
    auto result = ValidatePdf(AsBytes(input), options_);
    ASSERT_FALSE(result.ok()) << input;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(PdfValidationTest, NeedsAClock) {
  options_.clock = nullptr;
  EXPECT_FALSE(ValidatePdf(Pdf("signed.pdf"), options_).ok());
}

// The /ByteRange of signed.pdf as text, with its four numbers.
struct ByteRangeText {
  std::size_t at = 0;
  std::size_t length = 0;
  std::uint64_t r[4] = {};
};

ByteRangeText FindByteRange(const Bytes& pdf) {
  const std::string text = ToString(pdf);
  ByteRangeText out;
  out.at = text.rfind("/ByteRange [");
  EXPECT_NE(out.at, std::string::npos);
  std::size_t close = text.find(']', out.at);
  out.length = close + 1 - out.at;
  std::sscanf(text.c_str() + out.at, "/ByteRange [%lu %lu %lu %lu", &out.r[0], &out.r[1], &out.r[2], &out.r[3]);
  return out;
}

// Rewrites the /ByteRange in place (same length, padded with spaces).
void SetByteRange(Bytes& pdf, const ByteRangeText& where, std::uint64_t a, std::uint64_t b, std::uint64_t c,
                  std::uint64_t d) {
  std::string text = "/ByteRange [" + std::to_string(a) + " " + std::to_string(b) + " " + std::to_string(c) + " " +
                     std::to_string(d) + "]";
  ASSERT_LE(text.size(), where.length);
  text.insert(text.size() - 1, where.length - text.size(), ' ');
  std::copy(text.begin(), text.end(), pdf.begin() + static_cast<std::ptrdiff_t>(where.at));
}

TEST_F(PdfValidationTest, ByteRangeMustSkipExactlyTheContents) {
  const Bytes original = Pdf("signed.pdf");
  const ByteRangeText br = FindByteRange(original);
  ASSERT_EQ(br.r[0], 0u);
  ASSERT_EQ(br.r[2] + br.r[3], original.size());
  struct Case {
    std::string name;
    std::uint64_t a, b, c, d;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"gap wider than /Contents", 0, br.r[1] - 1, br.r[2], br.r[3], "not a hex string"},
      {"gap narrower than /Contents", 0, br.r[1], br.r[2] - 2, br.r[3] + 2, "not a hex string"},
      {"not from the start", 1, br.r[1] - 1, br.r[2], br.r[3], "does not start at the beginning"},
      {"past the end", 0, br.r[1], br.r[2], br.r[3] + 10, "past the end of the file"},
      {"short of a revision end", 0, br.r[1], br.r[2], br.r[3] - 10, "not at the end of a revision"},
  };
  for (const Case& c : cases) {
    Bytes pdf = original;
    SetByteRange(pdf, br, c.a, c.b, c.c, c.d);
    PdfValidation v = Validate(pdf);
    ASSERT_EQ(v.signatures.size(), 1u) << c.name;
    EXPECT_EQ(v.signatures[0].report.sub_indication, SubIndication::kFormatFailure) << c.name;
    EXPECT_NE(v.signatures[0].report.reason.find(c.reason), std::string::npos)
        << c.name << ": " << v.signatures[0].report.reason;
  }
}

TEST_F(PdfValidationTest, BytesAfterTheLastRevisionFail) {
  Bytes pdf = Pdf("signed.pdf");
  const std::string junk = "\nnot an incremental update\n";
  pdf.insert(pdf.end(), junk.begin(), junk.end());
  PdfValidation v = Validate(pdf);
  ASSERT_EQ(v.signatures.size(), 1u);
  EXPECT_FALSE(v.signatures[0].covers_whole_file);
  EXPECT_EQ(v.signatures[0].report.sub_indication, SubIndication::kFormatFailure);
  EXPECT_NE(v.signatures[0].report.reason.find("does not end with %%EOF"), std::string::npos)
      << v.signatures[0].report.reason;
}

// No cut of a signed PDF crashes, and none validates.
TEST_F(PdfValidationTest, EveryTruncationIsRefusedWithoutACrash) {
  const Bytes pdf = Pdf("signed-twice.pdf");
  for (std::size_t cut = 0; cut < pdf.size(); cut += 97) {
    auto result = ValidatePdf(ByteView(pdf).first(cut), options_);
    if (result.ok()) {
      EXPECT_NE(result->verdict, Verdict::kValid) << "cut at " << cut;
    }
  }
}

// A changed byte anywhere in the signed ranges is never VALID, and never a crash.
TEST_F(PdfValidationTest, NoChangedByteInTheSignedRangesValidates) {
  const Bytes original = Pdf("signed.pdf");
  const ByteRangeText br = FindByteRange(original);
  for (std::size_t at = 0; at < original.size(); at += 31) {
    if (at >= br.r[1] && at < br.r[2]) continue;  // the /Contents gap is not signed
    Bytes pdf = original;
    pdf[at] = static_cast<std::uint8_t>(pdf[at] ^ 0x01);
    auto result = ValidatePdf(pdf, options_);
    if (result.ok()) {
      EXPECT_NE(result->verdict, Verdict::kValid) << "byte " << at;
    }
  }
}

}  // namespace
}  // namespace preserve::signature
