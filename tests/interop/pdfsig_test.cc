// Interop with poppler's pdfsig (Debian poppler-utils 22.12, NSS underneath),
// a PAdES verifier independent of preserve's: on every PDF fixture (made by
// scripts/make-pdf-fixtures.sh, mostly by pdfsig itself) the two must agree.
// pdfsig and certutil are required: without them these tests fail, never skip.
//
// How pdfsig's words map to preserve's reports (per signature field):
//   "Signature Validation: Signature is Valid."   the CMS digest and value hold:
//                                                  preserve's sub-indication is not
//                                                  HASH_FAILURE or SIG_CRYPTO_FAILURE
//   "Signature Validation: Digest Mismatch."       HASH_FAILURE
//   "Signature Validation: Signature is Invalid."  SIG_CRYPTO_FAILURE
//   "Certificate is Trusted."                      the path holds: VALID, or the one
//                                                  failure pdfsig does not judge (below)
//   "Certificate issuer isn't Trusted." or
//   "Certificate issuer is unknown."               NO_CERTIFICATE_CHAIN_FOUND
//   "Certificate has Expired"                      EXPIRED
//   "Total document signed" / "Not total ..."      covers_whole_file true / false
//   "The signature form field is not signed."      a signature field without a value:
//                                                  no signature in preserve's report;
//                                                  it is named among the changes after
//                                                  the signatures before it
//   "does not contain any signatures" (exit 2)     preserve refuses too: an unsigned
//                                                  PDF is INVALID ("carries no
//                                                  signature"); an unreadable one an error
// Where pdfsig says less than preserve, the comparison says so and is limited:
//  - pdfsig does not judge what incremental updates after a signature changed:
//    it reports "Not total document signed" and a valid signature. preserve
//    fails such a signature (FORMAT_FAILURE, modified after signing) unless
//    every later change is allowed; the test checks pdfsig reported the
//    signature as not covering the whole document in exactly those cases.
//  - pdfsig does not check that a signature signs its own dictionary and
//    field: a field whose /V is another field's signature dictionary, or a
//    copy of one written after the bytes it signs, is to pdfsig a valid
//    signature that does not cover the whole document. preserve fails it
//    (FORMAT_FAILURE, "no signature of its own"); the test checks pdfsig found
//    the digest valid and the document not wholly signed.
//  - pdfsig does not check that the bytes after a signed revision are an
//    incremental update (an object after the last %%EOF with no
//    cross-reference section): preserve counts them as modified after
//    signing, pdfsig reports the signature as not covering the whole document.
//  - pdfsig 22.12 does not verify document time-stamps (ETSI.RFC3161): it
//    reports "Signature Type: unknown" and "Signature has not yet been
//    verified."; those fields are only matched by name.
//  - pdfsig 22.12 reports "Unknown issue with Certificate or corrupted data."
//    for the second signature it checks with the same certificate in one run
//    (signed-twice.pdf's Signature2; a fresh NSS database does not help): no
//    certificate verdict to compare there, the signature verdict still is.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "preserve/signature/pdf_validation.h"
#include "preserve/util/certificates.h"
#include "testing.h"

namespace preserve::signature {
namespace {

using preserve::testing::CommandResult;
using preserve::testing::ReadFileOrDie;
using preserve::testing::SourceDir;
using preserve::testing::TempDir;

std::filesystem::path Fixture(const std::string& relative) { return SourceDir() / "tests" / "fixtures" / relative; }

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// What pdfsig says about one signature field.
struct PdfsigSignature {
  std::string signature_validation;    // "Signature is Valid."
  std::string certificate_validation;  // "Certificate is Trusted."; empty when pdfsig prints none
  std::string type;                    // "adbe.pkcs7.detached", "unknown"
  bool total_document_signed = false;
  bool not_signed = false;  // "The signature form field is not signed.": a field without a value
};

struct PdfsigResult {
  bool has_signatures = false;
  std::map<std::string, PdfsigSignature> by_field;
  std::string raw;
};

std::string After(const std::string& line, const std::string& prefix) {
  auto at = line.find(prefix);
  return at == std::string::npos ? "" : line.substr(at + prefix.size());
}

class PdfsigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult version = preserve::testing::Run({"pdfsig", "-v"});
    ASSERT_EQ(version.exit_code, 0) << "pdfsig (poppler-utils) is required: " << Describe(version);
    // An NSS database trusting the test root, as a records office would set it up.
    CommandResult created = preserve::testing::Run({"certutil", "-N", "-d", NssDir(), "--empty-password"});
    ASSERT_EQ(created.exit_code, 0) << "certutil (libnss3-tools) is required: " << Describe(created);
    CommandResult trusted = preserve::testing::Run({"certutil", "-A", "-d", NssDir(), "-n", "Preserve Test Root CA",
                                                    "-t", "CT,C,C", "-i", Fixture("pki/root-ca.pem").string()});
    ASSERT_EQ(trusted.exit_code, 0) << Describe(trusted);

    auto root = LoadCertificates(Fixture("pki/root-ca.pem"));
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    options_.trust_anchors = *root;
    options_.clock = &clock_;
    options_.revocation.check = false;  // pdfsig finds no OCSP responder in these certificates either
  }

  std::string NssDir() const { return "sql:" + tmp_.path().string(); }

  PdfsigResult Pdfsig(const std::filesystem::path& pdf) {
    CommandResult r = preserve::testing::Run({"pdfsig", "-nssdir", NssDir(), pdf.string()});
    PdfsigResult out;
    out.raw = Describe(r);
    if (r.exit_code == 2 || r.out.find("does not contain any signatures") != std::string::npos) return out;
    EXPECT_EQ(r.exit_code, 0) << out.raw;
    out.has_signatures = true;
    std::istringstream lines(r.out);
    std::string line;
    PdfsigSignature* current = nullptr;
    while (std::getline(lines, line)) {
      if (std::string name = After(line, "- Signature Field Name: "); !name.empty()) {
        current = &out.by_field[name];
      } else if (current == nullptr) {
        continue;
      } else if (std::string v = After(line, "- Signature Validation: "); !v.empty()) {
        current->signature_validation = v;
      } else if (std::string c = After(line, "- Certificate Validation: "); !c.empty()) {
        current->certificate_validation = c;
      } else if (std::string t = After(line, "- Signature Type: "); !t.empty()) {
        current->type = t;
      } else if (line.find("- Total document signed") != std::string::npos) {
        current->total_document_signed = true;
      } else if (line.find("The signature form field is not signed.") != std::string::npos) {
        current->not_signed = true;
      }
    }
    return out;
  }

  Result<PdfValidation> Preserve(const std::filesystem::path& pdf) {
    Bytes bytes = ReadFileOrDie(pdf);
    return ValidatePdf(bytes, options_);
  }

  // Compares the two verdicts on one file, signature by signature, as the mapping above says.
  void ExpectAgreement(const std::filesystem::path& pdf) {
    SCOPED_TRACE(pdf.filename().string());
    PdfsigResult theirs = Pdfsig(pdf);
    Result<PdfValidation> ours = Preserve(pdf);
    if (!theirs.has_signatures) {
      // pdfsig finds nothing to check; preserve refuses the file.
      if (ours.ok()) {
        EXPECT_TRUE(ours->signatures.empty());
        EXPECT_EQ(ours->verdict, Verdict::kInvalid);
      }
      return;
    }
    ASSERT_TRUE(ours.ok()) << "pdfsig read it, preserve did not: " << ours.status().ToString() << "\n" << theirs.raw;
    std::size_t signed_fields = 0;
    for (const auto& [name, p] : theirs.by_field) {
      if (!p.not_signed) {
        ++signed_fields;
        continue;
      }
      SCOPED_TRACE(name);
      const bool named =
          std::any_of(ours->signatures.begin(), ours->signatures.end(), [&](const PdfSignatureReport& s) {
            return std::any_of(s.later_changes.begin(), s.later_changes.end(), [&](const PdfLaterChange& c) {
              return c.what.find("signature field " + name) != std::string::npos;
            });
          });
      EXPECT_TRUE(named) << "pdfsig sees the unsigned field " << name << "; no change preserve lists names it";
    }
    ASSERT_EQ(ours->signatures.size(), signed_fields) << theirs.raw;
    for (const PdfSignatureReport& s : ours->signatures) {
      SCOPED_TRACE(s.field_name);
      auto found = theirs.by_field.find(s.field_name);
      ASSERT_NE(found, theirs.by_field.end()) << "pdfsig does not see field " << s.field_name << "\n" << theirs.raw;
      const PdfsigSignature& p = found->second;
      if (s.document_timestamp) {
        EXPECT_EQ(p.type, "unknown") << "pdfsig now reads document time-stamps: compare them\n" << theirs.raw;
        continue;
      }
      EXPECT_EQ(p.type, s.sub_filter);
      EXPECT_EQ(p.total_document_signed, s.covers_whole_file) << theirs.raw;

      const SubIndication si = s.report.sub_indication;
      const std::string expected_signature = si == SubIndication::kHashFailure        ? "Digest Mismatch."
                                             : si == SubIndication::kSigCryptoFailure ? "Signature is Invalid."
                                                                                      : "Signature is Valid.";
      EXPECT_EQ(p.signature_validation, expected_signature) << s.report.reason << "\n" << theirs.raw;
      if (expected_signature != "Signature is Valid.") continue;  // pdfsig then checks no certificate

      const bool modified_after_signing =
          si == SubIndication::kFormatFailure && s.report.reason.find("modified after signing") != std::string::npos;
      const bool not_its_own =
          si == SubIndication::kFormatFailure && s.report.reason.find("no signature of its own") != std::string::npos;
      if (modified_after_signing || not_its_own) {
        // pdfsig's only sign of either: the signature does not cover the whole document.
        EXPECT_FALSE(p.total_document_signed) << theirs.raw;
      }
      if (p.certificate_validation == "Unknown issue with Certificate or corrupted data.") {
        std::cout << "[ note     ] pdfsig gives no certificate verdict for " << s.field_name << " of "
                  << pdf.filename().string() << "; only the signature verdict was compared\n";
        continue;
      }
      if (si == SubIndication::kNone || modified_after_signing || not_its_own) {
        EXPECT_EQ(p.certificate_validation, "Certificate is Trusted.") << s.report.reason << "\n" << theirs.raw;
      } else if (si == SubIndication::kNoCertificateChainFound) {
        EXPECT_TRUE(p.certificate_validation == "Certificate issuer isn't Trusted." ||
                    p.certificate_validation == "Certificate issuer is unknown.")
            << theirs.raw;
      } else if (si == SubIndication::kExpired) {
        EXPECT_EQ(p.certificate_validation, "Certificate has Expired") << theirs.raw;
      } else {
        ADD_FAILURE() << "no pdfsig counterpart for " << SubIndicationName(si) << ": " << s.report.reason << "\n"
                      << theirs.raw;
      }
    }
  }

  TempDir tmp_;
  SystemClock clock_;  // pdfsig checks certificates as of now
  CmsValidationOptions options_;
};

TEST_F(PdfsigTest, VerdictsAgreeOnEveryFixture) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(Fixture("pdf"))) {
    if (entry.path().extension() != ".pdf") continue;
    ExpectAgreement(entry.path());
    ++files;
  }
  EXPECT_GE(files, 21);  // every fixture of tests/fixtures/README.md
}

// The acceptance test: pdfsig's own signature is accepted by both, and
// after one changed byte refused by both.
TEST_F(PdfsigTest, PdfsigSignatureAcceptedThenRefusedAfterOneChangedByte) {
  const std::filesystem::path good = Fixture("pdf/signed.pdf");
  PdfsigResult theirs = Pdfsig(good);
  ASSERT_EQ(theirs.by_field.count("Signature1"), 1u) << theirs.raw;
  EXPECT_EQ(theirs.by_field["Signature1"].signature_validation, "Signature is Valid.") << theirs.raw;
  EXPECT_EQ(theirs.by_field["Signature1"].certificate_validation, "Certificate is Trusted.") << theirs.raw;
  auto ours = Preserve(good);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  EXPECT_EQ(ours->verdict, Verdict::kValid);

  // Another byte than signed-byte-changed.pdf (which changes the letter's text):
  // the MediaBox width 595 becomes 594.
  Bytes bytes = ReadFileOrDie(good);
  std::string text = ToString(bytes);
  auto at = text.find("/MediaBox [0 0 595");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 17] = '4';
  const std::filesystem::path changed = tmp_ / "changed.pdf";
  preserve::testing::WriteFile(changed, ByteView(bytes));
  PdfsigResult theirs_changed = Pdfsig(changed);
  ASSERT_EQ(theirs_changed.by_field.count("Signature1"), 1u) << theirs_changed.raw;
  EXPECT_EQ(theirs_changed.by_field["Signature1"].signature_validation, "Digest Mismatch.") << theirs_changed.raw;
  auto ours_changed = Preserve(changed);
  ASSERT_TRUE(ours_changed.ok()) << ours_changed.status().ToString();
  EXPECT_EQ(ours_changed->verdict, Verdict::kInvalid);
  ASSERT_EQ(ours_changed->signatures.size(), 1u);
  EXPECT_EQ(ours_changed->signatures[0].report.sub_indication, SubIndication::kHashFailure);
  ExpectAgreement(changed);
}

// The changes after signing that add no visible content of their own
// (tests/fixtures/README.md): pdfsig's one sign of each is that Signature1, a
// valid and trusted signature, does not cover the whole document; it sees the
// sneaky field as an unsigned signature field, or, holding Signature1's
// dictionary, as a second valid signature. preserve refuses them all.
TEST_F(PdfsigTest, ChangesAfterSigningShowToPdfsigOnlyAsNotTotalDocumentSigned) {
  for (const std::string name : {"signed-then-sneaky-field.pdf", "signed-then-sneaky-field-sharing-value.pdf",
                                 "signed-then-sneaky-field-copying-value.pdf", "signed-then-object-after-eof.pdf"}) {
    SCOPED_TRACE(name);
    const std::filesystem::path pdf = Fixture("pdf/" + name);
    PdfsigResult theirs = Pdfsig(pdf);
    ASSERT_EQ(theirs.by_field.count("Signature1"), 1u) << theirs.raw;
    EXPECT_EQ(theirs.by_field["Signature1"].signature_validation, "Signature is Valid.") << theirs.raw;
    EXPECT_FALSE(theirs.by_field["Signature1"].total_document_signed) << theirs.raw;
    if (name != "signed-then-object-after-eof.pdf") {
      ASSERT_EQ(theirs.by_field.count("Signature9"), 1u) << theirs.raw;
      const PdfsigSignature& sneaky = theirs.by_field["Signature9"];
      if (name == "signed-then-sneaky-field.pdf") {
        EXPECT_TRUE(sneaky.not_signed) << theirs.raw;
      } else {
        EXPECT_EQ(sneaky.signature_validation, "Signature is Valid.") << theirs.raw;
        EXPECT_FALSE(sneaky.total_document_signed) << theirs.raw;
      }
    }
    auto ours = Preserve(pdf);
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    EXPECT_EQ(ours->verdict, Verdict::kInvalid);
    for (const PdfSignatureReport& s : ours->signatures) {
      EXPECT_EQ(s.report.sub_indication, SubIndication::kFormatFailure) << s.field_name << ": " << s.report.reason;
    }
  }
}

}  // namespace
}  // namespace preserve::signature
