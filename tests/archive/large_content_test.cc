// Large documents through the archive: a detached document above the content
// chunk size is ingested streamed and stored as chunks (identical content
// once), comes back whole through get, export and verify, has a changed chunk
// found by fixity, and has its unshared chunks erased by deletion. A refusal,
// or a crash, leaves no package and a consistent store, and gc collects
// chunks no package refers to. Tests shrink the chunk size to 64 KiB (OpenOptions);
// the crash test runs the `preserve` command, so it uses the default 4 MiB.
#include <gtest/gtest.h>

#include <csignal>

#include "../signature/cms_test_signer.h"
#include "preserve/archive/archive.h"
#include "preserve/archive/ingestion.h"
#include "preserve/archive/lifecycle.h"
#include "preserve/archive/maintenance.h"
#include "preserve/archive/sealing.h"
#include "preserve/archive/verification.h"
#include "preserve/audit/package_archive.h"
#include "preserve/storage/store.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"
#include "archive_fixture.h"
#include "testing.h"

namespace preserve::archive {
namespace {

namespace fs = std::filesystem;

const fs::path kPki = testing::SourceDir() / "tests" / "fixtures" / "pki";
constexpr std::size_t kChunk = 64 << 10;

Bytes Document(std::size_t size, std::uint8_t seed) {
  Bytes out(size);
  std::uint32_t x = seed + 1u;
  for (auto& b : out) {
    x = x * 1103515245u + 12345u;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  return out;
}

class LargeContentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Archive::Init(root_, {}, clock_).ok());
    Reopen();
  }

  void Reopen(std::size_t chunk_size = kChunk) {
    archive_.reset();
    auto opened = Archive::Open(root_, clock_, {.mode = OpenMode::kWritable, .content_chunk_size = chunk_size});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    archive_ = std::move(opened).value();
  }

  // Writes `content` as NAME and its detached signature (`digest`, an OpenSSL name) as NAME.p7s.
  Submission Signed(const std::string& name, const Bytes& content, const std::string& digest = "SHA256") {
    testing::TestSignOptions sign;
    sign.digest = digest;
    sign.certificates.push_back(LoadCertificates(kPki / "issuing-ca.pem").value().front());
    Submission s;
    s.content = dir_ / name;
    s.signature = dir_ / (name + ".p7s");
    testing::WriteFile(*s.content, ByteView(content));
    testing::WriteFile(s.signature,
                       ByteView(testing::SignDetached(content, kPki / "signer-rsa.pem", kPki / "signer-rsa.key", sign)));
    return s;
  }

  IngestOptions Options() {
    IngestOptions options;
    options.trust_anchors = LoadCertificates(kPki / "root-ca.pem").value();
    options.revocation.check = false;
    return options;
  }

  // verify-package's options, trusting this archive's TSA and the test PKI's root.
  audit::PackageVerifyOptions TrustingVerifier() {
    audit::PackageVerifyOptions verify;
    verify.tsa_trust.certificates = {archive_->tsa_trust_anchor()};
    verify.signer_trust.certificates = LoadCertificates(kPki / "root-ca.pem").value();
    verify.clock = &clock_;
    return verify;
  }

  std::string IngestAndSeal(const Submission& s, bool allow_duplicate = false) {
    IngestOptions options = Options();
    options.allow_duplicate = allow_duplicate;
    auto outcome = archive::Ingestion(*archive_).Ingest(s, options);
    EXPECT_TRUE(outcome.ok() && outcome->accepted) << (outcome.ok() ? outcome->reason : outcome.status().ToString());
    EXPECT_TRUE(archive::Sealing(*archive_).Seal(1000).ok());
    return outcome.ok() ? outcome->package_id : "";
  }

  // The store below the archive, read-only beside it.
  std::unique_ptr<storage::Store> StoreView() {
    auto store = storage::Store::Open(root_ / "db", {.read_only = true, .content_chunk_size = kChunk});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Counted with nothing else open on the store: a read-only view beside a
  // writer's background compaction can meet table files being deleted.
  std::size_t ContentKeys() {
    std::unique_ptr<storage::Store> view = StoreView();
    if (view == nullptr) return SIZE_MAX;  // StoreView reported the failure
    std::size_t n = 0;
    EXPECT_TRUE(view->ScanContent([&](ByteView, bool, std::uint64_t) { return ++n > 0; }).ok());
    return n;
  }

  testing::TempDir dir_;
  fs::path root_ = dir_ / "store";
  ManualClock clock_{SystemClock().Now()};
  std::unique_ptr<Archive> archive_;
};

// An exported document larger than verify-package holds in memory (16 MiB)
// is streamed from the zip each time it is hashed, and verifies the same.
TEST_F(LargeContentTest, ExportedDocumentBeyondWhatIsHeldIsVerifiedFromTheZip) {
  const Bytes doc = Document((17 << 20) + 5, 3);
  std::string id = IngestAndSeal(Signed("scan.bin", doc));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(archive::Verification(*archive_).Export(id, dir_ / "p.zip").ok());
  auto zip = audit::ReadPackageZip(dir_ / "p.zip");
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  EXPECT_EQ(zip->data.count("documents/scan.bin"), 0u);
  ASSERT_EQ(zip->streamed.count("documents/scan.bin"), 1u);
  EXPECT_EQ(zip->streamed.at("documents/scan.bin").size, doc.size());
  Hasher streamed(HashAlgorithm::kSha256);
  ASSERT_TRUE(zip->streamed.at("documents/scan.bin").read([&streamed](ByteView piece) {
    streamed.Update(piece);
    return Status::Ok();
  }).ok());
  EXPECT_EQ(streamed.Finish(), Digest(HashAlgorithm::kSha256, doc));
  const audit::PackageVerifyOptions verify = TrustingVerifier();
  const audit::PackageReport report = audit::VerifyPackage(*zip, verify);
  EXPECT_EQ(report.verdict, Verdict::kValid) << audit::ReportToText(report);
}

TEST_F(LargeContentTest, StoredInChunksAndReturnedWholeByGetExportAndVerify) {
  const Bytes doc = Document(5 * kChunk + 123, 1);
  std::string id = IngestAndSeal(Signed("report.bin", doc));
  ASSERT_FALSE(id.empty());
  auto chunks = StoreView()->ContentChunks(Digest(HashAlgorithm::kSha256, doc));
  ASSERT_TRUE(chunks.ok());
  EXPECT_EQ(chunks->size(), 6u);

  auto files = archive::Verification(*archive_).Get(id, dir_ / "out");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(testing::ReadFileOrDie(dir_ / "out" / "documents" / "report.bin"), doc);
  for (const auto& f : fs::directory_iterator(dir_ / "out" / "documents"))
    EXPECT_EQ(f.path().string().find(".partial"), std::string::npos) << f.path();

  auto report = archive::Verification(*archive_).Verify(id, {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(*report);

  ASSERT_TRUE(archive::Verification(*archive_).Export(id, dir_ / "p.zip").ok());
  auto zip = audit::ReadPackageZip(dir_ / "p.zip");
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  EXPECT_EQ(zip->data.at("documents/report.bin"), doc);
  const audit::PackageVerifyOptions verify = TrustingVerifier();
  EXPECT_EQ(audit::VerifyPackage(*zip, verify).verdict, Verdict::kValid);

  std::vector<PackageFixity> damaged;
  auto fixity = archive::Maintenance(*archive_).Fixity({}, [&](const PackageFixity& f) {
    if (!f.damage.empty()) damaged.push_back(f);
  });
  ASSERT_TRUE(fixity.ok()) << fixity.status().ToString();
  EXPECT_TRUE(damaged.empty());
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  EXPECT_EQ(check->garbage_objects, 0u);
}

// One read of the file feeds the store and the signature: the document's
// address is its file's SHA-256 (sha256sum's), each chunk is stored under its
// own bytes' SHA-256, whether the signature's message digest is that same
// SHA-256 (computed once) or another algorithm (hashed beside it).
TEST_F(LargeContentTest, OneReadOfTheFileGivesTheAddressTheChunksAndTheMessageDigest) {
  const Bytes doc = Document(7 * kChunk + 4097, 10);
  for (const std::string digest : {"SHA256", "SHA384"}) {
    const Submission s = Signed("one-pass-" + digest + ".bin", doc, digest);
    std::string id = IngestAndSeal(s, /*allow_duplicate=*/true);
    ASSERT_FALSE(id.empty()) << digest;
    const Bytes address = DigestFile(HashAlgorithm::kSha256, *s.content).value();
    auto chunks = StoreView()->ContentChunks(address);
    ASSERT_TRUE(chunks.ok()) << chunks.status().ToString();
    ASSERT_EQ(chunks->size(), 8u) << digest;
    for (std::size_t i = 0; i < chunks->size(); ++i) {
      const ByteView bytes = ByteView(doc).subspan(i * kChunk, std::min(kChunk, doc.size() - i * kChunk));
      EXPECT_EQ((*chunks)[i], Digest(HashAlgorithm::kSha256, bytes)) << digest << " chunk " << i;
    }
    auto report = archive::Verification(*archive_).Verify(id, {});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->verdict, Verdict::kValid) << digest << ": " << audit::ReportToText(*report);
  }
}

TEST_F(LargeContentTest, IdenticalContentIsStoredOnceAndDeletionErasesOnlyUnsharedChunks) {
  const Bytes doc = Document(4 * kChunk + 1, 2);
  Submission s = Signed("minutes.bin", doc);
  std::string first = IngestAndSeal(s);
  const std::size_t after_first = ContentKeys();
  // Handed in again, it is a duplicate of the first package: found once read
  // (a large document's key is known only then), and nothing is stored.
  auto again = archive::Ingestion(*archive_).Ingest(s, Options());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_FALSE(again->accepted);
  EXPECT_EQ(again->package_id, first);
  EXPECT_EQ(ContentKeys(), after_first);
  std::string second = IngestAndSeal(s, /*allow_duplicate=*/true);
  EXPECT_EQ(ContentKeys(), after_first + 1);  // only the second package's own manifest.json

  const std::vector<Bytes> chunks = StoreView()->ContentChunks(Digest(HashAlgorithm::kSha256, doc)).value();
  ASSERT_EQ(chunks.size(), 5u);
  for (const auto& id : {first, second})
    ASSERT_TRUE(archive::Lifecycle(*archive_).SetRetention(id, {false, 1}, "appraisal", "records officer").ok());
  clock_.Set(clock_.Now() + std::chrono::days(800));

  auto deleted = archive::Lifecycle(*archive_).Delete(first, "retention ended", "records officer");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  for (const auto& c : chunks) EXPECT_TRUE(StoreView()->HasContent(c).value());
  auto files = archive::Verification(*archive_).Get(second, dir_ / "out");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(testing::ReadFileOrDie(dir_ / "out" / "documents" / "minutes.bin"), doc);

  deleted = archive::Lifecycle(*archive_).Delete(second, "retention ended", "records officer");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  auto view = StoreView();
  EXPECT_FALSE(view->HasContent(Digest(HashAlgorithm::kSha256, doc)).value());
  for (const auto& c : chunks) EXPECT_FALSE(view->HasContent(c).value());
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  EXPECT_EQ(check->garbage_objects, 0u);
}

TEST_F(LargeContentTest, FixityNamesThePackageWhoseChunkChanged) {
  const Bytes doc = Document(3 * kChunk, 3);
  std::string id = IngestAndSeal(Signed("plan.bin", doc));
  const Bytes second_chunk = StoreView()->ContentChunks(Digest(HashAlgorithm::kSha256, doc)).value().at(1);
  archive_.reset();
  {
    // One bit flipped in the chunk's stored bytes, its key unchanged.
    auto store = storage::Store::Open(root_ / "db", {.content_chunk_size = kChunk});
    ASSERT_TRUE(store.ok());
    Bytes bytes = store.value()->GetContent(second_chunk).value();
    bytes[100] ^= 0x01;
    storage::WriteSet w;
    w.PutContent(second_chunk, bytes);
    ASSERT_TRUE(store.value()->Commit(std::move(w)).ok());
  }
  Reopen();
  std::vector<PackageFixity> damaged;
  auto fixity = archive::Maintenance(*archive_).Fixity({}, [&](const PackageFixity& f) {
    if (!f.damage.empty()) damaged.push_back(f);
  });
  ASSERT_TRUE(fixity.ok()) << fixity.status().ToString();
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_EQ(damaged[0].package_id, id);
  ASSERT_EQ(damaged[0].damage.size(), 1u);
  EXPECT_EQ(damaged[0].damage[0].object, "documents/plan.bin");
  EXPECT_NE(damaged[0].damage[0].detail.find("content changed"), std::string::npos) << damaged[0].damage[0].detail;

  auto files = archive::Verification(*archive_).Get(id, dir_ / "out");
  EXPECT_EQ(files.status().code(), StatusCode::kCorruption);
  EXPECT_FALSE(fs::exists(dir_ / "out" / "documents" / "plan.bin"));
  EXPECT_TRUE(fs::is_empty(dir_ / "out" / "documents"));
  auto report = archive::Verification(*archive_).Verify(id, {});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->verdict, Verdict::kInvalid);
}

// The `preserve` command killed (SIGKILL) while it ingests a large document.
// While the document is read and validated its chunks are written into the
// store past the log: killed then, those a flush had not yet made durable
// are lost, and the rest (here at most the first) are garbage. Once
// accepted, its chunks are made durable just before the commit: killed
// between the two, they are garbage, which check counts and gc collects; an
// ingest of the same document afterwards uses what is there.
TEST_F(LargeContentTest, CrashWhileStoringLeavesNoPackageAndGcCollectsTheChunks) {
  const Bytes doc = Document(storage::kDefaultContentChunkSize * 2 + 7, 4);  // three chunks at the default size
  Submission s = Signed("scan.bin", doc);
  archive_.reset();
  for (const std::string point : {"store.content.chunk:2", "ingest.before_commit"}) {
    auto run = testing::Run({PRESERVE_BIN, "ingest", "--store", root_.string(), "--trust",
                             (kPki / "root-ca.pem").string(), "--no-revocation", "--no-seal", s.content->string(),
                             s.signature.string()},
                            {"PRESERVE_FAULT_POINT=" + point});
    EXPECT_EQ(run.exit_code, 128 + SIGKILL) << point << ": " << run.out << run.err;
    Reopen(storage::kDefaultContentChunkSize);
    auto check = archive::Maintenance(*archive_).Check();
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_EQ(check->packages, 0u) << point;
    EXPECT_TRUE(check->problems.empty()) << point << ": " << check->problems.front();
    if (point == "ingest.before_commit") {
      EXPECT_EQ(check->garbage_objects, 3u) << point;
    } else {
      EXPECT_LE(check->garbage_objects, 1u) << point;
    }
    archive_.reset();
  }
  Reopen(storage::kDefaultContentChunkSize);
  auto dry_run = archive::Maintenance(*archive_).CollectGarbage(true);
  ASSERT_TRUE(dry_run.ok()) << dry_run.status().ToString();
  EXPECT_EQ(dry_run->values, 3u);
  EXPECT_FALSE(dry_run->erased);
  EXPECT_EQ(archive::Maintenance(*archive_).Check()->garbage_objects, 3u);
  auto collected = archive::Maintenance(*archive_).CollectGarbage(false);
  ASSERT_TRUE(collected.ok()) << collected.status().ToString();
  EXPECT_EQ(collected->values, 3u);
  EXPECT_EQ(collected->bytes, doc.size());
  EXPECT_TRUE(collected->erased);
  // Counted with the archive closed: a read-only view opened beside it could
  // meet the table files gc's compaction is deleting.
  archive_.reset();
  EXPECT_EQ(ContentKeys(), 0u);
  Reopen(storage::kDefaultContentChunkSize);
  EXPECT_EQ(testing::AuditEventsOfType(*archive_, "gc").size(), 1u);

  std::string id = IngestAndSeal(s);
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->packages, 1u);
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  EXPECT_EQ(check->garbage_objects, 0u);
  EXPECT_EQ(archive::Verification(*archive_).Verify(id, {})->verdict, Verdict::kValid);
}

// A refusal leaves nothing but its audit event: the chunks the refused
// document's writer wrote go with it.
TEST_F(LargeContentTest, RefusedLargeDocumentLeavesNothingInTheStore) {
  Bytes doc = Document(3 * kChunk + 5, 7);
  Submission s = Signed("refused.bin", doc);
  doc[kChunk + 1] ^= 0x01;  // the signature no longer covers it
  testing::WriteFile(*s.content, ByteView(doc));
  auto outcome = archive::Ingestion(*archive_).Ingest(s, Options());
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_FALSE(outcome->accepted);
  EXPECT_EQ(outcome->category, "HASH_FAILURE") << outcome->reason;
  EXPECT_EQ(ContentKeys(), 0u);
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->garbage_objects, 0u);
  EXPECT_EQ(testing::AuditEventsOfType(*archive_, "refused").size(), 1u);
}

// gc erases only what no record refers to: chunks shared by several
// documents, and chunks a crashed writer found already stored, stay.
TEST_F(LargeContentTest, GcKeepsChunksSharedByDocumentsAndErasesOnlyGarbage) {
  const Bytes a = Document(3 * kChunk, 8);
  Bytes b(a.begin(), a.begin() + 2 * kChunk);  // shares a's first two chunks
  const Bytes tail = Document(kChunk / 2, 9);
  b.insert(b.end(), tail.begin(), tail.end());
  std::string id_a = IngestAndSeal(Signed("a.bin", a));
  std::string id_b = IngestAndSeal(Signed("b.bin", b));
  archive_.reset();
  const std::size_t stored = ContentKeys();
  {
    // A writer that copied its chunks and never committed (a crash): one of
    // its chunks is a's third, stored already; the other two are new.
    auto store = storage::Store::Open(root_ / "db", {.content_chunk_size = kChunk});
    ASSERT_TRUE(store.ok());
    auto writer = store.value()->NewContentWriter();
    ASSERT_TRUE(writer.ok());
    const Bytes third(a.begin() + 2 * kChunk, a.end());
    ASSERT_TRUE(writer.value()->Append(third).ok());
    ASSERT_TRUE(writer.value()->Append(Document(kChunk + 3, 10)).ok());
    ASSERT_TRUE(writer.value()->Finish().ok());
    storage::WriteSet never_committed;
    ASSERT_TRUE(writer.value()->Put(never_committed).ok());
  }
  EXPECT_EQ(ContentKeys(), stored + 2);
  Reopen();
  EXPECT_EQ(archive::Maintenance(*archive_).Check()->garbage_objects, 2u);
  auto collected = archive::Maintenance(*archive_).CollectGarbage(false);
  ASSERT_TRUE(collected.ok()) << collected.status().ToString();
  EXPECT_EQ(collected->values, 2u);
  archive_.reset();
  EXPECT_EQ(ContentKeys(), stored);
  Reopen();
  for (const auto& id : {id_a, id_b}) {
    auto report = archive::Verification(*archive_).Verify(id, {});
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->verdict, Verdict::kValid) << audit::ReportToText(*report);
  }
  auto fixity = archive::Maintenance(*archive_).Fixity(
      {}, [](const PackageFixity& p) { EXPECT_TRUE(p.damage.empty()) << p.package_id; });
  ASSERT_TRUE(fixity.ok());
  EXPECT_EQ(fixity->damaged, 0u);
  auto check = archive::Maintenance(*archive_).Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems.front();
  EXPECT_EQ(check->garbage_objects, 0u);
}

}  // namespace
}  // namespace preserve::archive
