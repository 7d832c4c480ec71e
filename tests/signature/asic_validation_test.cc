// ValidateAsic against the committed containers in tests/fixtures/asic/ and
// tests/fixtures/hostile/ (regenerate with scripts/make-container-fixtures.sh),
// and against containers rebuilt here from their entries to reach the cases a
// fixture file would only duplicate.
#include "preserve/signature/asic_validation.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "preserve/ingest/safe_archive.h"
#include "testing.h"

namespace preserve::signature {
namespace {

using preserve::testing::FixturePath;
using preserve::testing::PkiCertificate;
using preserve::testing::ReadFileOrDie;
using preserve::testing::TempDir;
using Entries = std::vector<std::pair<std::string, Bytes>>;

// A fixture container's entries, in order, read with the reader under test's
// sibling (the container fixtures are not hostile).
Entries EntriesOf(const std::string& fixture) {
  Bytes bytes = ReadFileOrDie(FixturePath(fixture));
  auto reader = ingest::ArchiveReader::OpenMemory(bytes, fixture, ingest::ArchiveFormat::kZip, {});
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  Entries entries;
  while (reader.ok()) {
    auto name = (*reader)->NextFile();
    EXPECT_TRUE(name.ok()) << name.status().ToString();
    if (!name.ok() || !*name) break;
    auto content = (*reader)->ReadContent();
    EXPECT_TRUE(content.ok());
    entries.emplace_back(**name, content.ok() ? *content : Bytes{});
  }
  return entries;
}

struct ArchiveWriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// A zip of `entries` in order, every entry stored (so a leading mimetype is as
// EN 319 162-1 wants it).
Bytes Zip(const Entries& entries) {
  TempDir dir;
  const auto path = dir / "c.zip";
  std::unique_ptr<struct archive, ArchiveWriteFree> zip(archive_write_new());
  archive_write_set_format_zip(zip.get());
  archive_write_set_options(zip.get(), "zip:compression=store");
  EXPECT_EQ(archive_write_open_filename(zip.get(), path.c_str()), ARCHIVE_OK);
  for (const auto& [name, bytes] : entries) {
    std::unique_ptr<archive_entry, ArchiveEntryFree> entry(archive_entry_new());
    archive_entry_set_pathname_utf8(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(bytes.size()));
    EXPECT_EQ(archive_write_header(zip.get(), entry.get()), ARCHIVE_OK);
    EXPECT_EQ(archive_write_data(zip.get(), bytes.data(), bytes.size()), static_cast<la_ssize_t>(bytes.size()));
  }
  EXPECT_EQ(archive_write_close(zip.get()), ARCHIVE_OK);
  zip.reset();
  return ReadFileOrDie(path);
}

Entries Without(Entries entries, const std::string& name) {
  std::erase_if(entries, [&](const auto& e) { return e.first == name; });
  return entries;
}

Bytes EntryOf(const Entries& entries, const std::string& name) {
  for (const auto& [n, bytes] : entries)
    if (n == name) return bytes;
  ADD_FAILURE() << "no entry " << name;
  return {};
}

const std::string kAppendix = "phụ lục.txt";

class AsicValidationTest : public ::testing::Test {
 protected:
  AsicValidationTest() : clock_(SystemClock().Now()) {
    options_.trust_anchors = {PkiCertificate("root-ca")};
    options_.clock = &clock_;
    options_.revocation.online = false;  // the test PKI names no responders; never the network
  }

  AsicValidation Validate(const Bytes& container) {
    auto result = ValidateAsic(container, options_);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(result).value() : AsicValidation{};
  }
  AsicValidation ValidateFixture(const std::string& name) {
    return Validate(ReadFileOrDie(FixturePath("asic/" + name)));
  }

  Status Refusal(const Bytes& container) {
    auto result = ValidateAsic(container, options_);
    EXPECT_FALSE(result.ok()) << "accepted, verdict " << VerdictName(result->verdict);
    return result.status();
  }

  ManualClock clock_;
  CmsValidationOptions options_;
};

TEST_F(AsicValidationTest, LooksLikeAsicReadsTheStoredMimetype) {
  EXPECT_TRUE(LooksLikeAsic(ReadFileOrDie(FixturePath("asic/simple.asics"))));
  EXPECT_TRUE(LooksLikeAsic(ReadFileOrDie(FixturePath("asic/extended.asice"))));
  EXPECT_FALSE(LooksLikeAsic(ReadFileOrDie(FixturePath("asic/simple-no-mimetype.asics"))));
  EXPECT_FALSE(LooksLikeAsic(ReadFileOrDie(FixturePath("asic/wrong-mimetype.asice"))));
  EXPECT_FALSE(LooksLikeAsic(ReadFileOrDie(FixturePath("bulk/tree.zip"))));
  EXPECT_FALSE(LooksLikeAsic(ReadFileOrDie(FixturePath("signed/letter.txt"))));
  EXPECT_FALSE(LooksLikeAsic({}));
}

TEST_F(AsicValidationTest, SimpleContainerIsValid) {
  AsicValidation v = ValidateFixture("simple.asics");
  EXPECT_EQ(v.form, AsicForm::kSimple);
  EXPECT_EQ(v.verdict, Verdict::kValid) << v.reason;
  EXPECT_EQ(v.reason, "");
  EXPECT_EQ(v.data_objects, std::vector<std::string>{"letter.txt"});
  EXPECT_TRUE(v.unsigned_objects.empty());
  EXPECT_TRUE(v.warnings.empty());
  ASSERT_EQ(v.signatures.size(), 1u);
  const AsicSignatureReport& s = v.signatures[0];
  EXPECT_EQ(s.signature_path, "META-INF/signature.p7s");
  EXPECT_EQ(s.manifest_path, "");
  EXPECT_EQ(s.signed_objects, std::vector<std::string>{"letter.txt"});
  EXPECT_EQ(s.report.verdict, Verdict::kValid) << s.report.reason;
  EXPECT_EQ(s.report.signer_common_name, "Nguyễn Văn An");
  ASSERT_EQ(s.report.certificates.size(), 3u);
  EXPECT_EQ(s.report.certificates[0], PkiCertificate("signer-rsa"));
}

TEST_F(AsicValidationTest, SimpleContainerWithoutMimetypeIsValidWithAWarning) {
  AsicValidation v = ValidateFixture("simple-no-mimetype.asics");
  EXPECT_EQ(v.form, AsicForm::kSimple);
  EXPECT_EQ(v.verdict, Verdict::kValid) << v.reason;
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_NE(v.warnings[0].find("no mimetype"), std::string::npos);
}

TEST_F(AsicValidationTest, MimetypeNotFirstIsAWarning) {
  Entries entries = EntriesOf("asic/simple.asics");
  // Moved behind the document: no longer the first entry.
  std::rotate(entries.begin(), entries.begin() + 1, entries.begin() + 2);
  AsicValidation v = Validate(Zip(entries));
  EXPECT_EQ(v.verdict, Verdict::kValid) << v.reason;
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_NE(v.warnings[0].find("not the first"), std::string::npos);
}

TEST_F(AsicValidationTest, UntrustedSignerIsIndeterminate) {
  AsicValidation v = ValidateFixture("untrusted.asics");
  EXPECT_EQ(v.verdict, Verdict::kIndeterminate);
  ASSERT_EQ(v.signatures.size(), 1u);
  EXPECT_EQ(v.signatures[0].report.sub_indication, SubIndication::kNoCertificateChainFound);
  EXPECT_EQ(v.signatures[0].report.signer_common_name, "Phạm Văn Lạ");
  EXPECT_EQ(v.reason.rfind("META-INF/signature.p7s: ", 0), 0u) << v.reason;
}

TEST_F(AsicValidationTest, ExtendedContainerWithTwoDocumentsIsValid) {
  AsicValidation v = ValidateFixture("extended.asice");
  EXPECT_EQ(v.form, AsicForm::kExtended);
  EXPECT_EQ(v.verdict, Verdict::kValid) << v.reason;
  EXPECT_EQ(v.data_objects, (std::vector<std::string>{"letter.txt", kAppendix}));
  EXPECT_TRUE(v.unsigned_objects.empty());
  ASSERT_EQ(v.signatures.size(), 1u);
  const AsicSignatureReport& s = v.signatures[0];
  EXPECT_EQ(s.signature_path, "META-INF/signature001.p7s");
  EXPECT_EQ(s.manifest_path, "META-INF/ASiCManifest001.xml");
  // The manifest's URI is percent-encoded; the report names the file.
  EXPECT_EQ(s.signed_objects, (std::vector<std::string>{"letter.txt", kAppendix}));
  EXPECT_EQ(s.report.verdict, Verdict::kValid) << s.report.reason;
  EXPECT_EQ(s.report.signer_common_name, "Trần Thị Bình");
  EXPECT_EQ(s.report.signature_algorithm, "ECDSA");
}

TEST_F(AsicValidationTest, DocumentOutsideTheManifestIsUnsigned) {
  AsicValidation v = ValidateFixture("extended-unlisted.asice");
  EXPECT_EQ(v.verdict, Verdict::kIndeterminate);
  EXPECT_EQ(v.unsigned_objects, std::vector<std::string>{"unlisted.txt"});
  EXPECT_EQ(v.data_objects.size(), 3u);
  ASSERT_EQ(v.signatures.size(), 1u);
  EXPECT_EQ(v.signatures[0].report.verdict, Verdict::kValid) << v.signatures[0].report.reason;
  EXPECT_NE(v.reason.find("unlisted.txt"), std::string::npos) << v.reason;
}

TEST_F(AsicValidationTest, TamperedDocumentFailsItsManifestDigest) {
  AsicValidation v = ValidateFixture("extended-tampered.asice");
  EXPECT_EQ(v.verdict, Verdict::kInvalid);
  ASSERT_EQ(v.signatures.size(), 1u);
  const SignatureReport& r = v.signatures[0].report;
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_EQ(r.sub_indication, SubIndication::kHashFailure);
  EXPECT_NE(r.reason.find(kAppendix), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("SHA-256"), std::string::npos) << r.reason;
  // The CMS signature over the manifest itself is sound: its signer is known.
  EXPECT_EQ(r.signer_common_name, "Trần Thị Bình");
}

TEST_F(AsicValidationTest, ManifestEntryMissingFromTheContainerIsSignedDataNotFound) {
  AsicValidation v = Validate(Zip(Without(EntriesOf("asic/extended.asice"), kAppendix)));
  EXPECT_EQ(v.verdict, Verdict::kIndeterminate);
  ASSERT_EQ(v.signatures.size(), 1u);
  EXPECT_EQ(v.signatures[0].report.sub_indication, SubIndication::kSignedDataNotFound);
  EXPECT_NE(v.signatures[0].report.reason.find("not in the container"), std::string::npos);
}

TEST_F(AsicValidationTest, SignatureNoManifestNamesIsIndeterminate) {
  Entries entries = EntriesOf("asic/extended.asice");
  entries.emplace_back("META-INF/signature002.p7s", EntryOf(entries, "META-INF/signature001.p7s"));
  AsicValidation v = Validate(Zip(entries));
  EXPECT_EQ(v.verdict, Verdict::kIndeterminate);
  ASSERT_EQ(v.signatures.size(), 2u);
  EXPECT_EQ(v.signatures[0].report.verdict, Verdict::kValid);
  EXPECT_EQ(v.signatures[1].signature_path, "META-INF/signature002.p7s");
  EXPECT_EQ(v.signatures[1].report.sub_indication, SubIndication::kSignedDataNotFound);
  EXPECT_TRUE(v.signatures[1].signed_objects.empty());
}

TEST_F(AsicValidationTest, SignatureThatIsNotCmsIsAFormatFailure) {
  Entries entries = Without(EntriesOf("asic/extended.asice"), "META-INF/signature001.p7s");
  entries.emplace_back("META-INF/signature001.p7s", ToBytes("not CMS"));
  AsicValidation v = Validate(Zip(entries));
  EXPECT_EQ(v.verdict, Verdict::kInvalid);
  ASSERT_EQ(v.signatures.size(), 1u);
  EXPECT_EQ(v.signatures[0].report.sub_indication, SubIndication::kFormatFailure);
}

TEST_F(AsicValidationTest, WrongMimetypeIsNotAnAsicContainer) {
  Status s = Refusal(ReadFileOrDie(FixturePath("asic/wrong-mimetype.asice")));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("mimetype is 'application/vnd.oasis.opendocument.text'"), std::string::npos)
      << s.message();
}

TEST_F(AsicValidationTest, XmlBombManifestIsRefused) {
  Status s = Refusal(ReadFileOrDie(FixturePath("asic/xml-bomb.asice")));
  EXPECT_NE(s.message().find("META-INF/ASiCManifest001.xml: refused: the manifest carries a DTD"), std::string::npos)
      << s.message();
}

TEST_F(AsicValidationTest, ExternalEntityManifestIsRefused) {
  Status s = Refusal(ReadFileOrDie(FixturePath("asic/xxe.asice")));
  EXPECT_NE(s.message().find("DTD"), std::string::npos) << s.message();
}

TEST_F(AsicValidationTest, MalformedManifestIsRefused) {
  Entries entries = Without(EntriesOf("asic/extended.asice"), "META-INF/ASiCManifest001.xml");
  entries.emplace_back("META-INF/ASiCManifest001.xml", ToBytes("<asic:ASiCManifest xmlns:asic="));
  Status s = Refusal(Zip(entries));
  EXPECT_NE(s.message().find("not well-formed XML"), std::string::npos) << s.message();

  entries.back().second = ToBytes("<ASiCManifest/>");  // no namespace
  s = Refusal(Zip(entries));
  EXPECT_NE(s.message().find("not an ASiCManifest"), std::string::npos) << s.message();

  entries.back().second = Bytes((1 << 20) + 1, ' ');  // one byte over asic_manifest.h's limit
  s = Refusal(Zip(entries));
  EXPECT_NE(s.message().find("larger than"), std::string::npos) << s.message();
}

TEST_F(AsicValidationTest, UnsupportedVariantsAreNamed) {
  Entries simple = EntriesOf("asic/simple.asics");
  Entries xades = simple;
  xades.emplace_back("META-INF/signatures.xml", ToBytes("<x/>"));
  EXPECT_NE(Refusal(Zip(xades)).message().find("XAdES"), std::string::npos);

  Entries timestamp = Without(simple, "META-INF/signature.p7s");
  timestamp.emplace_back("META-INF/timestamp.tst", ToBytes("token"));
  EXPECT_NE(Refusal(Zip(timestamp)).message().find("time-stamp ASiC-S"), std::string::npos);

  Entries two = simple;
  two.emplace_back("second.txt", ToBytes("a second data object"));
  EXPECT_NE(Refusal(Zip(two)).message().find("2 data objects"), std::string::npos);
}

struct HostileCase {
  const char* fixture;
  const char* reason;
};

class HostileAsic : public AsicValidationTest, public ::testing::WithParamInterface<HostileCase> {};

TEST_P(HostileAsic, IsRefusedWithAReason) {
  Status s = Refusal(ReadFileOrDie(FixturePath(GetParam().fixture)));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(GetParam().reason), std::string::npos) << s.message();
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HostileAsic,
                         ::testing::Values(HostileCase{"hostile/dotdot.zip", "unsafe path '../../escaped.txt'"},
                                           HostileCase{"hostile/absolute.zip", "unsafe path"},
                                           HostileCase{"hostile/symlink.zip", "symbolic link"},
                                           HostileCase{"hostile/duplicate.zip", "'letter.txt': appears twice"},
                                           HostileCase{"hostile/bomb.zip", "decompression bomb"},
                                           HostileCase{"hostile/bomb-lying-size.zip", "decompression bomb"},
                                           HostileCase{"signed/letter.txt", "not a readable archive"}),
                         [](const auto& param_info) {
                           std::string name = param_info.param.fixture;
                           name = name.substr(name.find('/') + 1);
                           std::erase_if(name, [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); });
                           return name;
                         });

}  // namespace
}  // namespace preserve::signature
