// End-to-end: the audit trail, fixity, consistency checks, backup and restore,
// and get, through the real executable. Damage is done below the store layer,
// with RocksDB opened directly on the store's database (or its files flipped),
// as a disk, a stray tool or an intruder would.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "preserve/archive/archive.h"
#include "preserve/archive/ingestion.h"
#include "preserve/util/certificates.h"
#include "preserve/util/digest.h"
#include "raw_db.h"
#include "testing.h"

namespace preserve {
namespace {

using testing::CommandResult;
using testing::RawDb;
using testing::TempDir;

const std::filesystem::path kFixtures = testing::SourceDir() / "tests" / "fixtures";
const std::string kRootCa = (kFixtures / "pki" / "root-ca.pem").string();

std::string Fixture(const std::string& name) { return (kFixtures / "signed" / name).string(); }

std::string BigEndianKey(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

class Maintenance : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(Preserve({"init"}).exit_code, 0); }

  CommandResult Preserve(std::vector<std::string> args, const std::filesystem::path& store = {}) {
    args.insert(args.begin(), PRESERVE_BIN);
    return testing::Run(args, {"PRESERVE_STORE=" + (store.empty() ? store_ : store).string()});
  }

  std::string IngestOne(const std::vector<std::string>& files) {
    // The fixtures hold a few signed letters; tests make packages of them again and again.
    std::vector<std::string> args = {"ingest", "--ids-only", "--allow-duplicate", "--trust", kRootCa};
    args.insert(args.end(), files.begin(), files.end());
    CommandResult r = Preserve(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  std::string IngestDetached() { return IngestOne({Fixture("letter.txt"), "--signature", Fixture("letter.txt.p7s")}); }

  std::filesystem::path Db() const { return store_ / "db"; }

  TempDir dir_;
  std::filesystem::path store_ = dir_ / "store";
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- Audit trail ----

TEST_F(Maintenance, AuditLogShowsEventsAsTextAndJsonAndVerifies) {
  std::string id = IngestDetached();  // events: 0 init, 1 ingest, 2 seal
  CommandResult text = Preserve({"audit-log", "show"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  std::vector<std::string> lines = Lines(text.out);
  ASSERT_EQ(lines.size(), 3u) << text.out;
  EXPECT_EQ(lines[0].rfind("0  ", 0), 0u) << lines[0];
  EXPECT_TRUE(Contains(lines[1], "  ingest  package=" + id)) << lines[1];
  EXPECT_TRUE(Contains(lines[2], "  seal  ")) << lines[2];

  CommandResult page = Preserve({"audit-log", "show", "--json", "--from", "1", "--limit", "1"});
  ASSERT_EQ(page.exit_code, 0) << page.err;
  ASSERT_EQ(Lines(page.out).size(), 1u) << page.out;
  EXPECT_EQ(page.out.rfind("{\"sequence\":1,\"hash\":\"", 0), 0u) << page.out;
  EXPECT_TRUE(Contains(page.out, "\"event\":\"ingest\"")) << page.out;

  CommandResult verify = Preserve({"audit-log", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_TRUE(Contains(verify.out, "VALID, 3 events")) << verify.out;
  // The seal time-stamped the trail's first two events (init, ingest), then recorded its own.
  EXPECT_TRUE(Contains(verify.out, "its head was time-stamped in 1 batch; the last, batch ")) << verify.out;
  EXPECT_TRUE(Contains(verify.out, "covers its first 2 events")) << verify.out;
  CommandResult json_verify = Preserve({"audit-log", "verify", "--json"});
  EXPECT_TRUE(Contains(json_verify.out, "\"sealed_heads\":1,\"last_sealed_head\":{\"events\":2,")) << json_verify.out;
  EXPECT_EQ(Preserve({"audit-log", "--help"}).exit_code, 0);
  EXPECT_EQ(Preserve({"audit-log", "verify", "--help"}).exit_code, 0);
  EXPECT_EQ(Preserve({"audit-log"}).exit_code, 64);
}

// Events 0..4: init, ingest, seal, ingest, seal.
class AuditTamper : public Maintenance {
 protected:
  void SetUp() override {
    Maintenance::SetUp();
    IngestDetached();
    IngestOne({Fixture("letter.p7m")});
  }
  CommandResult Verify() { return Preserve({"audit-log", "verify", "--json"}); }
};

TEST_F(AuditTamper, EditedEventIsNamed) {
  {
    RawDb raw(Db());
    std::string value = raw.Get("audit", BigEndianKey(2));
    std::size_t at = value.find("\"seal\"");
    ASSERT_NE(at, std::string::npos);
    value.replace(at, 6, "\"SEAL\"");  // same length, previous-event hash untouched
    raw.Put("audit", BigEndianKey(2), value);
  }
  CommandResult r = Verify();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "\"first_bad_sequence\":2")) << r.out;
  EXPECT_TRUE(Contains(r.out, "event 2 was altered")) << r.out;
}

TEST_F(AuditTamper, DeletedEventIsNamed) {
  {
    RawDb raw(Db());
    raw.Delete("audit", BigEndianKey(2));
  }
  CommandResult r = Preserve({"audit-log", "verify"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "INVALID from event 2: event 2 is missing")) << r.out;
}

TEST_F(AuditTamper, SwappedEventsAreNamed) {
  {
    RawDb raw(Db());
    std::string one = raw.Get("audit", BigEndianKey(1));
    std::string two = raw.Get("audit", BigEndianKey(2));
    raw.Put("audit", BigEndianKey(1), two);
    raw.Put("audit", BigEndianKey(2), one);
  }
  CommandResult r = Verify();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "\"first_bad_sequence\":1")) << r.out;
  EXPECT_TRUE(Contains(r.out, "event 1 was replaced, moved")) << r.out;
}

TEST_F(AuditTamper, RewrittenLinkIsNamed) {
  {
    RawDb raw(Db());
    std::string value = raw.Get("audit", BigEndianKey(3));
    value[0] = static_cast<char>(value[0] ^ 0x01);
    raw.Put("audit", BigEndianKey(3), value);
  }
  CommandResult r = Verify();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "\"first_bad_sequence\":3")) << r.out;
}

// An intruder with write access to the database edits event 1 and computes
// the chain again from there: every link holds, but the seals of events 2 and
// 4 time-stamped heads the trail no longer passes through.
TEST_F(AuditTamper, EditReChainedIsCaughtByTheSealedHeads) {
  ASSERT_EQ(Preserve({"audit-log", "verify"}).exit_code, 0);
  {
    RawDb raw(Db());
    std::string previous;
    for (std::uint64_t sequence = 1; sequence <= 4; ++sequence) {
      std::string value = raw.Get("audit", BigEndianKey(sequence));
      if (sequence == 1) {
        std::size_t at = value.find("\"ingest\"");
        ASSERT_NE(at, std::string::npos);
        value.replace(at, 8, "\"INGEST\"");
      } else {
        Bytes link = Digest(HashAlgorithm::kSha256, AsBytes(previous));
        value.replace(0, link.size(), reinterpret_cast<const char*>(link.data()), link.size());
      }
      raw.Put("audit", BigEndianKey(sequence), value);
      previous = value;
    }
  }
  CommandResult r = Verify();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "\"first_bad_sequence\":1")) << r.out;
  EXPECT_TRUE(Contains(r.out, "the trail's first 2 events differ from those batch ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "altered, inserted or removed and the chain computed again")) << r.out;
}

// Cutting the last events leaves a chain whose links all hold; the last seal
// (events 0-3, and its own event 4) says the trail went further.
TEST_F(AuditTamper, CutTailIsCaughtByTheLastSealedHead) {
  {
    RawDb raw(Db());
    raw.Delete("audit", BigEndianKey(4));
    raw.Delete("audit", BigEndianKey(3));
  }
  CommandResult r = Preserve({"audit-log", "verify"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "INVALID from event 3: the trail ends after 3 events, but batch ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "events were removed from the end")) << r.out;
}

// The batch a seal event names, from the event's JSON.
std::string BatchOfEvent(const std::string& stored_event) {
  std::size_t at = stored_event.find("\"batch\":\"");
  if (at == std::string::npos) return "";
  at += 9;
  return stored_event.substr(at, stored_event.find('"', at) - at);
}

// Removing the head from the last batch's record: the trail (event 4) says the
// batch sealed one, and a batch made after one that seals a head must too.
TEST_F(AuditTamper, SealedHeadStrippedFromTheBatchRecordIsCaught) {
  {
    RawDb raw(Db());
    std::string batch_id = BatchOfEvent(raw.Get("audit", BigEndianKey(4)));
    ASSERT_FALSE(batch_id.empty());
    std::string record = raw.Get("batches", batch_id);
    std::size_t at = record.find(",\"audit_head\":{");
    ASSERT_NE(at, std::string::npos) << record;
    record.erase(at, record.find('}', at) + 1 - at);
    raw.Put("batches", batch_id, record);
  }
  CommandResult r = Preserve({"audit-log", "verify"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "seals no audit trail head, though batches before it do")) << r.out;
}

TEST_F(AuditTamper, DeletedBatchRecordIsCaught) {
  std::string batch_id;
  {
    RawDb raw(Db());
    batch_id = BatchOfEvent(raw.Get("audit", BigEndianKey(4)));
    raw.Delete("batches", batch_id);
  }
  CommandResult r = Preserve({"audit-log", "verify"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "event 4 records batch " + batch_id + ", whose record is gone")) << r.out;
}

// Nor can the intruder move a batch's sealed head to match a rewritten trail:
// the batch's time-stamp covers the head as it was.
TEST_F(AuditTamper, SealedHeadRewrittenInTheBatchRecordIsNotProven) {
  std::string batch_id;
  {
    RawDb raw(Db());
    batch_id = BatchOfEvent(raw.Get("audit", BigEndianKey(4)));
    ASSERT_FALSE(batch_id.empty());
    std::string record = raw.Get("batches", batch_id);
    std::size_t hash_at = record.find("\"hash\":\"", record.find("\"audit_head\""));
    ASSERT_NE(hash_at, std::string::npos);
    char& digit = record[hash_at + 8];
    digit = digit == '0' ? '1' : '0';
    raw.Put("batches", batch_id, record);
  }
  CommandResult r = Preserve({"audit-log", "verify"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "INVALID: the evidence of the trail head sealed by batch " + batch_id)) << r.out;
  EXPECT_TRUE(Contains(r.out, "does not prove it")) << r.out;
}

// ---- Versions ----

TEST_F(Maintenance, VersionsAreMadeListedGotAndVerified) {
  std::string id = IngestDetached();
  std::filesystem::path sidecar = dir_ / "v2.metadata.json";
  testing::WriteFile(sidecar, std::string(R"({"code_number": "12", "code_notation": "UBND-VP", )"
                                          R"("issued_date": "2024-05-06", "organ_name": "UBND tỉnh Đắk Nông", )"
                                          R"("type_name": "Công văn", "subject": "Trích yếu"})"));
  CommandResult v2 = Preserve({"ingest", "--ids-only", "--new-version-of", id, "--metadata", sidecar.string()});
  ASSERT_EQ(v2.exit_code, 0) << v2.out << v2.err;
  EXPECT_EQ(Lines(v2.out).front(), id + ".v0002") << v2.out;

  CommandResult versions = Preserve({"versions", id});
  ASSERT_EQ(versions.exit_code, 0) << versions.err;
  std::vector<std::string> lines = Lines(versions.out);
  ASSERT_EQ(lines.size(), 2u) << versions.out;
  EXPECT_EQ(lines[0].rfind("1  " + id + "  ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("2  " + id + ".v0002  ", 0), 0u) << lines[1];
  EXPECT_TRUE(Contains(lines[1], "  sealed  letter.txt  (version 2: record metadata replaced)")) << lines[1];
  EXPECT_TRUE(Contains(Preserve({"list"}).out, id + "  ")) << "listed once";
  EXPECT_TRUE(Contains(Preserve({"list"}).out, "  v2  12/UBND-VP")) << Preserve({"list"}).out;

  for (const auto& [version, expected] : std::vector<std::pair<std::string, std::string>>{
           {"1", "\"version\":1"}, {"2", "\"version\":2"}, {"", "\"version\":2"}}) {
    std::filesystem::path out = dir_ / ("get" + version);
    std::vector<std::string> args = {"get", id, "--out", out.string()};
    if (!version.empty()) args.insert(args.end(), {"--version", version});
    CommandResult got = Preserve(args);
    ASSERT_EQ(got.exit_code, 0) << got.err;
    EXPECT_TRUE(Contains(ToString(testing::ReadFileOrDie(out / "manifest.json")), expected)) << version;
  }
  CommandResult verified = Preserve({"verify", id, "--version", "1"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_EQ(Preserve({"verify", id + ".v0002"}).exit_code, 0);
  CommandResult missing = Preserve({"verify", id, "--version", "3"});
  EXPECT_EQ(missing.exit_code, 4);
  EXPECT_TRUE(Contains(missing.err, "has 2 versions, not a version 3")) << missing.err;
  EXPECT_EQ(Preserve({"export", id, (dir_ / "v1.zip").string(), "--version", "1"}).exit_code, 0);
  EXPECT_EQ(Preserve({"ingest", "--new-version-of", id}).exit_code, 64);
  EXPECT_EQ(Preserve({"versions", "--help"}).exit_code, 0);
}

// ---- Fixity ----

TEST_F(Maintenance, FixityPassesAndIsRecorded) {
  std::string detached = IngestDetached();
  std::string enveloping = IngestOne({Fixture("letter.p7m")});
  CommandResult r = Preserve({"fixity"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "OK       " + detached)) << r.out;
  EXPECT_TRUE(Contains(r.out, "OK       " + enveloping)) << r.out;
  EXPECT_TRUE(Contains(r.out, "checked 2 of 2 packages")) << r.out;
  CommandResult log = Preserve({"audit-log", "show", "--json"});
  EXPECT_TRUE(Contains(Lines(log.out).back(), "\"event\":\"fixity\"")) << log.out;
  EXPECT_TRUE(Contains(Lines(log.out).back(), "\"damaged\":\"0\"")) << log.out;
  EXPECT_EQ(Preserve({"audit-log", "verify"}).exit_code, 0);

  CommandResult sample = Preserve({"fixity", "--sample", "0.5", "--json"});
  EXPECT_EQ(sample.exit_code, 0) << sample.out << sample.err;
  EXPECT_TRUE(Contains(Lines(sample.out).back(), "\"packages\":2")) << sample.out;
  EXPECT_EQ(Preserve({"fixity", "--sample", "0"}).exit_code, 64);
  EXPECT_EQ(Preserve({"fixity", "--help"}).exit_code, 0);
}

// compact rewrites every table: what was stored reads back the same, and the run is recorded.
TEST_F(Maintenance, CompactKeepsEveryPackageAndIsRecorded) {
  std::string detached = IngestDetached();
  std::string enveloping = IngestOne({Fixture("letter.p7m")});
  CommandResult r = Preserve({"compact", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("{\"bytes_before\":", 0), 0u) << r.out;
  EXPECT_FALSE(Contains(r.out, "\"bytes_after\":0}")) << r.out;
  CommandResult log = Preserve({"audit-log", "show", "--json"});
  EXPECT_TRUE(Contains(Lines(log.out).back(), "\"event\":\"compact\"")) << log.out;
  EXPECT_EQ(Preserve({"audit-log", "verify"}).exit_code, 0);
  CommandResult check = Preserve({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_TRUE(Contains(check.out, "consistent: packages 2 (2 sealed, 0 queued)")) << check.out;
  for (const std::string& id : {detached, enveloping}) {
    CommandResult verify = Preserve({"verify", id});
    EXPECT_EQ(verify.exit_code, 0) << id << verify.out << verify.err;
  }
  CommandResult text = Preserve({"compact"});
  EXPECT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_TRUE(Contains(text.out, "compact: db/ ")) << text.out;
  EXPECT_EQ(Preserve({"compact", "--help"}).exit_code, 0);
}

TEST_F(Maintenance, FixityNamesThePackageAndObjectWhoseContentWasRewritten) {
  std::string detached = IngestDetached();
  std::string enveloping = IngestOne({Fixture("letter.p7m")});
  Bytes letter = testing::ReadFileOrDie(Fixture("letter.txt"));
  {
    RawDb raw(Db());
    std::string key = ToString(Digest(HashAlgorithm::kSha256, letter));
    std::string value = raw.Get("content", key);
    ASSERT_EQ(value, ToString(letter));
    value[0] = static_cast<char>(value[0] ^ 0x20);
    raw.Put("content", key, value);
  }
  CommandResult r = Preserve({"fixity"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "DAMAGED  " + detached + "  documents/letter.txt: content changed")) << r.out;
  // letter.p7m encapsulates the same letter, stored once: the damage reaches both packages.
  EXPECT_TRUE(Contains(r.out, "DAMAGED  " + enveloping + "  documents/letter: content changed")) << r.out;
  EXPECT_TRUE(Contains(r.out, "2 damaged")) << r.out;

  // The indexes are still consistent (content is present), but nothing damaged is handed out.
  EXPECT_EQ(Preserve({"check"}).exit_code, 0);
  CommandResult get = Preserve({"get", detached, "--out", (dir_ / "out").string()});
  EXPECT_EQ(get.exit_code, 4);
  EXPECT_TRUE(Contains(get.err, "documents/letter.txt does not match its SHA-256")) << get.err;
  EXPECT_NE(Preserve({"verify", detached}).exit_code, 0);
}

TEST_F(Maintenance, FixityNamesObjectsTheEvidenceDoesNotCover) {
  std::string detached = IngestDetached();
  std::string enveloping = IngestOne({Fixture("letter.p7m")});
  {
    // Another package's evidence in its place: well-formed, but over other data.
    RawDb raw(Db());
    raw.Put("evidence", detached, raw.Get("evidence", enveloping));
  }
  CommandResult r = Preserve({"fixity"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  // A package's evidence starts from its own data hashes (the batch tree is stored once), so
  // the swapped-in evidence no longer leads to its batch's time-stamped root.
  EXPECT_TRUE(Contains(r.out, "DAMAGED  " + detached + "  evidence: the first archive time-stamp's hash tree no "
                              "longer leads to batch"))
      << r.out;
  EXPECT_TRUE(Contains(r.out, "OK       " + enveloping)) << r.out;
}

// Flips a byte of every table file holding content; `from_end`: counted from the file's end.
void FlipContentTables(const std::filesystem::path& db, std::size_t offset, bool from_end) {
  std::vector<std::filesystem::path> tables;
  {
    RawDb raw(db);
    tables = raw.FlushAndListFiles("content");
  }
  ASSERT_FALSE(tables.empty());
  for (const auto& table : tables) {
    Bytes bytes = testing::ReadFileOrDie(table);
    ASSERT_GT(bytes.size(), offset + 1);
    bytes[from_end ? bytes.size() - 1 - offset : offset] ^= 0xff;
    testing::WriteFile(table, bytes);
  }
}

TEST_F(Maintenance, FlippedByteInADataBlockNamesThePackage) {
  std::string detached = IngestDetached();
  FlipContentTables(Db(), 40, false);  // inside the first data block
  CommandResult r = Preserve({"fixity"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "DAMAGED  " + detached + "  documents/letter.txt: unreadable: ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "Corruption: block checksum mismatch")) << r.out;
}

TEST_F(Maintenance, FlippedByteInATableFooterIsAClearErrorNotACrash) {
  IngestDetached();
  FlipContentTables(Db(), 2, true);  // the footer's magic number: the table cannot be opened at all
  for (const char* command : {"fixity", "check"}) {
    CommandResult r = Preserve({command});
    EXPECT_EQ(r.exit_code, 4) << command << r.out << r.err;
    EXPECT_TRUE(Contains(r.err, "preserve: error: ")) << r.err;
    EXPECT_TRUE(Contains(r.err, "Corruption")) << r.err;
  }
}

// ---- Consistency ----

TEST_F(Maintenance, CheckFindsBrokenIndexes) {
  std::string sealed = IngestDetached();
  std::string queued = IngestOne({"--no-seal", Fixture("letter.p7m")});
  CommandResult ok = Preserve({"check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  // The sealed package and the trail head its batch sealed each have one schedule entry.
  EXPECT_TRUE(Contains(ok.out, "consistent: packages 2 (1 sealed, 1 queued), schedule entries 2")) << ok.out;

  Bytes letter = testing::ReadFileOrDie(Fixture("letter.txt"));
  {
    RawDb raw(Db());
    std::vector<std::string> schedule = raw.Keys("schedule");
    ASSERT_EQ(schedule.size(), 2u);
    const auto package_entry = std::find_if(schedule.begin(), schedule.end(), [](const std::string& key) {
      return key.find("audit-head:") == std::string::npos;
    });
    ASSERT_NE(package_entry, schedule.end());
    raw.Delete("schedule", *package_entry);
    raw.Put("schedule", BigEndianKey(4102444800) + "no-such-package", "");
    raw.Delete("queue", queued);
    raw.Put("queue", "orphan-in-queue", "");
    raw.Delete("content", ToString(Digest(HashAlgorithm::kSha256, letter)));
  }
  CommandResult r = Preserve({"check"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "package " + sealed + ": data object documents/letter.txt")) << r.out;
  EXPECT_TRUE(Contains(r.out, "package " + sealed + ": renewal due ")) << r.out;
  EXPECT_TRUE(Contains(r.out, "but the schedule has no entry")) << r.out;
  EXPECT_TRUE(Contains(r.out, "package " + queued + ": queued, but not in the seal queue")) << r.out;
  EXPECT_TRUE(Contains(r.out, "seal queue: orphan-in-queue is not a package")) << r.out;
  EXPECT_TRUE(Contains(r.out, "schedule: 2100-01-01T00:00:00Z for no-such-package, which is not a package")) << r.out;
  EXPECT_TRUE(Contains(r.out, "INCONSISTENT")) << r.out;
  CommandResult json = Preserve({"check", "--json"});
  EXPECT_TRUE(Contains(json.out, "\"consistent\":false")) << json.out;
}

// ---- Backup and restore ----

TEST_F(Maintenance, BackupWhileAWriterIsActiveRestoresToAVerifiableStore) {
  std::string before = IngestDetached();
  std::filesystem::path backup = dir_ / "backup";
  std::string after;
  {
    // Another process holds the store for writing (this test), and writes while the backup runs.
    ManualClock clock(std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
    auto writer = archive::Archive::Open(store_, clock, {.mode = archive::OpenMode::kWritable});
    ASSERT_TRUE(writer.ok()) << writer.status().message();
    EXPECT_EQ(Preserve({"seal"}).exit_code, 4);  // the writer lock holds
    CommandResult r = Preserve({"backup", backup.string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(Contains(r.out, "backed up the store to " + backup.string())) << r.out;

    archive::IngestOptions options;
    auto anchors = LoadCertificates(kRootCa);
    ASSERT_TRUE(anchors.ok());
    options.trust_anchors = anchors.value();
    archive::Submission submission;
    submission.signature = Fixture("letter.p7m");
    auto outcome = archive::Ingestion(*writer.value()).Ingest(submission, options);
    ASSERT_TRUE(outcome.ok() && outcome->accepted) << outcome.status().message();
    after = outcome->package_id;
  }
  // Every file is the backup's own: damage to the live store cannot reach it.
  for (const auto& e : std::filesystem::recursive_directory_iterator(backup)) {
    if (e.is_regular_file()) {
      EXPECT_EQ(std::filesystem::hard_link_count(e.path()), 1u) << e.path();
    }
  }

  std::filesystem::path restored = dir_ / "restored";
  CommandResult r = Preserve({"restore", backup.string()}, restored);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  CommandResult check = Preserve({"check"}, restored);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  CommandResult verify = Preserve({"verify", before}, restored);
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_TRUE(Contains(verify.out, "Package " + before + ": VALID")) << verify.out;
  EXPECT_EQ(Preserve({"verify", after}, restored).exit_code, 4);  // ingested after the backup
  CommandResult log = Preserve({"audit-log", "verify"}, restored);
  EXPECT_EQ(log.exit_code, 0) << log.out;
  EXPECT_TRUE(Contains(Preserve({"audit-log", "show"}, restored).out, "  restore  ")) << log.out;
  // The restored store is a working one: it seals new work.
  EXPECT_EQ(Preserve({"ingest", "--trust", kRootCa, Fixture("letter.p7m")}, restored).exit_code, 0);

  CommandResult again = Preserve({"restore", backup.string()}, restored);
  EXPECT_EQ(again.exit_code, 4);
  EXPECT_TRUE(Contains(again.err, "refusing to overwrite")) << again.err;
  CommandResult into_used = Preserve({"backup", backup.string()});
  EXPECT_EQ(into_used.exit_code, 4);
  EXPECT_TRUE(Contains(into_used.err, "refusing to overwrite")) << into_used.err;
}

TEST_F(Maintenance, DamagedBackupIsRefusedAndNothingIsRestored) {
  IngestDetached();
  std::filesystem::path backup = dir_ / "backup";
  ASSERT_EQ(Preserve({"backup", backup.string()}).exit_code, 0);
  Bytes ca = testing::ReadFileOrDie(backup / "tsa" / "ca.pem");
  ca[ca.size() / 2] ^= 0x01;
  testing::WriteFile(backup / "tsa" / "ca.pem", ca);
  std::filesystem::path restored = dir_ / "restored";
  CommandResult r = Preserve({"restore", backup.string()}, restored);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_TRUE(Contains(r.err, "the backup is damaged: tsa/ca.pem")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(restored));
  for (const auto& e : std::filesystem::directory_iterator(dir_.path()))
    EXPECT_EQ(e.path().filename().string().find(".partial-"), std::string::npos) << e.path();
}

// ---- Get ----

TEST_F(Maintenance, GetWritesTheDataObjectsAndEvidenceThatVerify) {
  std::string id = IngestDetached();
  std::filesystem::path out = dir_ / "got";
  CommandResult r = Preserve({"get", id, "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::ReadFileOrDie(out / "documents" / "letter.txt"), testing::ReadFileOrDie(Fixture("letter.txt")));
  EXPECT_TRUE(std::filesystem::exists(out / "signatures" / "letter.txt.p7s"));
  EXPECT_TRUE(std::filesystem::exists(out / "manifest.json"));
  ASSERT_TRUE(std::filesystem::exists(out / "evidence.ers"));

  std::vector<std::string> args = {PRESERVE_BIN, "verify-er", "--er", (out / "evidence.ers").string(), "--tsa-trust",
                                   (store_ / "tsa" / "ca.pem").string()};
  for (const auto& e : std::filesystem::recursive_directory_iterator(out))
    if (e.is_regular_file() && e.path().filename() != "evidence.ers") args.push_back(e.path().string());
  CommandResult er = testing::Run(args);
  EXPECT_EQ(er.exit_code, 0) << er.out << er.err;

  CommandResult again = Preserve({"get", id, "--out", out.string()});
  EXPECT_EQ(again.exit_code, 4);
  EXPECT_TRUE(Contains(again.err, "already exists")) << again.err;
  EXPECT_EQ(Preserve({"get", "--help"}).exit_code, 0);
}

}  // namespace
}  // namespace preserve
