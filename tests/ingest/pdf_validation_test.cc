// ValidatePdf against the signed PDFs of tests/fixtures/pdf (made by
// scripts/make-pdf-fixtures.sh with poppler's pdfsig, openssl cms and openssl
// ts; tests/fixtures/README.md says what each is), plus damaged variants the
// tests make themselves.
#include "preserve/ingest/pdf_validation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "preserve/util/certificates.h"
#include "testing.h"

namespace preserve::ingest {
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
  EXPECT_TRUE(HasChange(first, "added signature field Signature2", true)) << Changes(first);
  EXPECT_TRUE(HasChange(first, "the signature value of Signature2", true)) << Changes(first);
  EXPECT_TRUE(HasChange(first, "/Annots: added signature field Signature2", true)) << Changes(first);
  EXPECT_TRUE(HasChange(first, "/Fields: added signature field Signature2", true)) << Changes(first);
  EXPECT_FALSE(HasChange(first, "", false)) << Changes(first);
  EXPECT_TRUE(second.later_changes.empty());
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
}  // namespace preserve::ingest
