// Rows that cannot be read, and rows that hold bytes that are not UTF-8.
//
// A store made by an ingest that let a file name that is not UTF-8 through
// holds it raw in the package record, the sealed manifest and the audit
// trail (JSON must be UTF-8). Every reader reads such rows leniently (each
// bad byte shown as %XX), `check` names the records that need repair, and
// `preserve repair` rewrites them, keeping the originals, without touching
// the sealed manifest or the hash-chained trail. A row that is not JSON at
// all is named by every listing, which goes on with the rest (exit 1).
//
// The rows are written with RocksDB itself, as such an ingest wrote them.
#include <gtest/gtest.h>

#include <utility>

#include <boost/json.hpp>

#include "preserve/util/clock.h"
#include "preserve/util/digest.h"
#include "preserve/util/unicode.h"
#include "raw_db.h"
#include "store_cli_fixture.h"

namespace preserve {
namespace {

using testing::CommandResult;
using testing::Contains;
using testing::Lines;

std::string BigEndianKey(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// Appends `event` to the trail, chained to its last entry as Store::Commit chains.
void AppendRawEvent(testing::RawDb& raw, const std::string& event) {
  std::vector<std::string> keys = raw.Keys("audit");
  ASSERT_FALSE(keys.empty());
  const std::string last = raw.Get("audit", keys.back());
  std::uint64_t next = 0;
  for (char c : keys.back()) next = (next << 8) | static_cast<unsigned char>(c);
  raw.Put("audit", BigEndianKey(next + 1), ToString(Digest(HashAlgorithm::kSha256, AsBytes(last))) + event);
}

constexpr const char* kRawName = "l\xe9tter.txt";  // Latin-1 "létter.txt": not UTF-8
constexpr const char* kShownName = "l%E9tter.txt";

// A sealed package as an ingest that let kRawName through made it, a
// refusal of another such name in the trail, and a hold whose reason has one.
class NotUtf8Rows : public testing::StoreCli {
 protected:
  void SetUp() override {
    StoreCli::SetUp();
    auto ids = Ingest({"--no-seal", testing::SignedFixturePath("letter.txt"), "--signature",
                       testing::SignedFixturePath("letter.txt.p7s")});
    ASSERT_EQ(ids.size(), 1u);
    id_ = ids.front();
    {
      testing::RawDb raw(Db());
      // The manifest names the document; the record lists the manifest by its SHA-256.
      std::string record = raw.Get("packages", id_);
      const std::string marker = "\"path\":\"manifest.json\",\"sha256\":\"";
      const std::size_t at = record.find(marker);
      ASSERT_NE(at, std::string::npos) << record;
      const std::string old_hex = record.substr(at + marker.size(), 64);
      const std::string old_key = ToString(FromHex(old_hex).value());
      const std::string manifest = ReplaceAll(raw.Get("content", old_key), "letter.txt", kRawName);
      const Bytes manifest_sha256 = Digest(HashAlgorithm::kSha256, AsBytes(manifest));
      raw.Delete("content", old_key);
      raw.Put("content", ToString(manifest_sha256), manifest);
      record = ReplaceAll(ReplaceAll(record, "letter.txt", kRawName), old_hex, ToHex(manifest_sha256));
      raw.Put("packages", id_, record);
      original_record_ = record;
      raw.Put("queue", id_, "");  // sealing then derives the package's group from its record
      // The ingest event (the trail's last: nothing chains to it yet) names the input.
      const std::string last = raw.Keys("audit").back();
      raw.Put("audit", last, ReplaceAll(raw.Get("audit", last), "letter.txt", kRawName));
    }
    ASSERT_EQ(Preserve({"hold", "add", id_, "--reason", "inspection"}).exit_code, 0);
    {
      testing::RawDb raw(Db());
      raw.Put("lifecycle", id_, ReplaceAll(raw.Get("lifecycle", id_), "inspection", "insp\xff" "ction"));
    }
    CommandResult seal = Preserve({"seal"});
    ASSERT_EQ(seal.exit_code, 0) << seal.err;
    {
      testing::RawDb raw(Db());
      AppendRawEvent(raw, "{\"event\":\"refused\",\"time\":\"" + FormatUtcTime(SystemClock().Now()) +
                              "\",\"input\":\"b\xe1\x64.txt\",\"format\":\"CAdES detached\",\"organ\":\"\","
                              "\"signer_organization\":\"\",\"category\":\"FORMAT_FAILURE\","
                              "\"reason\":\"FORMAT_FAILURE: b\xe1\x64.txt.p7s is not CMS\"}");
    }
    // Such rows come from stores made before the search index, whose build reads them.
    CommandResult index = Preserve({"index", "build", "--rebuild"});
    ASSERT_EQ(index.exit_code, 0) << index.out << index.err;
  }

  std::string id_;
  std::string original_record_;
};

TEST_F(NotUtf8Rows, EveryReaderReadsThemLeniently) {
  CommandResult list = Preserve({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Contains(list.out, id_ + "  ")) << list.out;
  EXPECT_TRUE(Contains(list.out, std::string("  ") + kShownName)) << list.out;
  CommandResult list_json = Preserve({"list", "--json"});
  EXPECT_TRUE(IsUtf8(list_json.out)) << list_json.out;

  CommandResult verify = Preserve({"verify", id_});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_TRUE(Contains(verify.out, std::string("documents/") + kShownName)) << verify.out;
  CommandResult exported = Preserve({"export", id_, (dir_ / "p.zip").string()});
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  CommandResult offline = testing::Run({PRESERVE_BIN, "verify-package", (dir_ / "p.zip").string(), "--tsa-trust",
                                        (store_ / "tsa" / "ca.pem").string(), "--trust", testing::kCliRootCa});
  EXPECT_EQ(offline.exit_code, 0) << offline.out << offline.err;
  CommandResult got = Preserve({"get", id_, "--out", (dir_ / "got").string()});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "got" / "documents" / kShownName));
  CommandResult fixity = Preserve({"fixity"});
  EXPECT_EQ(fixity.exit_code, 0) << fixity.out << fixity.err;

  CommandResult report = Preserve({"report", "signatures", "--json"});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_TRUE(Contains(report.out, "\"submitted\":2,\"accepted\":1,\"duplicate\":0,\"refused\":1")) << report.out;
  CommandResult holds = Preserve({"hold", "list"});
  EXPECT_EQ(holds.exit_code, 0) << holds.err;
  EXPECT_TRUE(Contains(holds.out, "insp%FFction")) << holds.out;

  CommandResult shown = Preserve({"audit-log", "show"});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_TRUE(Contains(shown.out, std::string("/") + kShownName + "  format=")) << shown.out;
  EXPECT_TRUE(Contains(shown.out, "(stored bytes that are not UTF-8 shown as %XX)")) << shown.out;
  CommandResult shown_json = Preserve({"audit-log", "show", "--json"});
  for (const auto& line : Lines(shown_json.out)) {
    boost::json::error_code ec;
    boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << "not JSON: " << line;
  }
  EXPECT_TRUE(Contains(shown_json.out, "\"escaped\":true")) << shown_json.out;
  CommandResult trail = Preserve({"audit-log", "verify"});
  EXPECT_EQ(trail.exit_code, 0) << trail.out << trail.err;

  // The records are readable, but not valid JSON for other tools: check says what to do.
  CommandResult check = Preserve({"check"});
  EXPECT_EQ(check.exit_code, 1) << check.out;
  EXPECT_TRUE(Contains(check.out, "package " + id_ + ": its record holds bytes that are not UTF-8")) << check.out;
  EXPECT_TRUE(Contains(check.out, "its lifecycle record holds bytes that are not UTF-8")) << check.out;
  EXPECT_TRUE(Contains(check.out, "'preserve repair'")) << check.out;
}

TEST_F(NotUtf8Rows, RepairRewritesTheRecordsKeepsTheOriginalsAndLeavesTheTrailWhole) {
  CommandResult dry = Preserve({"repair", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_TRUE(Contains(dry.out, "would repair  package " + id_)) << dry.out;
  EXPECT_TRUE(Contains(dry.out, "would repair  lifecycle record of package " + id_)) << dry.out;
  EXPECT_EQ(Preserve({"check"}).exit_code, 1) << "a dry run changes nothing";

  CommandResult repair = Preserve({"repair"});
  EXPECT_EQ(repair.exit_code, 0) << repair.out << repair.err;
  EXPECT_TRUE(Contains(repair.out, "repaired  package " + id_ + "  (original SHA-256 " +
                                       ToHex(Digest(HashAlgorithm::kSha256, AsBytes(original_record_))) +
                                       ", kept as repair/original/packages/" + id_ + ")"))
      << repair.out;
  EXPECT_TRUE(Contains(repair.out, "repair: 2 rows repaired")) << repair.out;
  {
    testing::RawDb raw(Db());
    const std::string record = raw.Get("packages", id_);
    EXPECT_TRUE(IsUtf8(record));
    EXPECT_EQ(record, EscapeInvalidUtf8(original_record_)) << "exactly what readers showed";
    EXPECT_EQ(raw.Get("default", "repair/original/packages/" + id_), original_record_);
    EXPECT_TRUE(IsUtf8(raw.Get("lifecycle", id_)));
  }
  CommandResult check = Preserve({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  CommandResult verify = Preserve({"verify", id_});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  CommandResult trail = Preserve({"audit-log", "verify"});
  EXPECT_EQ(trail.exit_code, 0) << trail.out << trail.err;
  CommandResult events = Preserve({"audit-log", "show"});
  EXPECT_TRUE(Contains(events.out, "  repair  ")) << events.out;
  EXPECT_TRUE(Contains(events.out, "(stored bytes that are not UTF-8 shown as %XX)")) << "the trail is never rewritten";
  CommandResult again = Preserve({"repair"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_TRUE(Contains(again.out, "repair: 0 rows repaired")) << again.out;
}

// Rows that are not JSON at all (damage, or an edit): each listing names them
// on stderr, lists everything else, and exits 1.
using NotJsonRows = testing::StoreCli;

TEST_F(NotJsonRows, AreNamedAndTheListingGoesOn) {
  // The test clock stands still, so two ids made in one run are ordered by their random part.
  std::string id = IngestDetached(), later = IngestDetached();
  if (later < id) std::swap(id, later);
  ASSERT_EQ(Preserve({"hold", "add", id, "--reason", "inspection"}).exit_code, 0);
  const std::string broken = id + "~";  // sorts after `id` and its versions, before `later`
  ASSERT_GT(later, broken);
  {
    testing::RawDb raw(Db());
    raw.Put("packages", broken, "{\"id\": truncat");
    raw.Put("packages", id + ".v0002", "not json");
    raw.Put("lifecycle", broken, "{");
    AppendRawEvent(raw, "\x01\x02 not an event");
  }
  // As in a store made before the search index: its build names what it cannot read.
  CommandResult index = Preserve({"index", "build", "--rebuild"});
  EXPECT_EQ(index.exit_code, 1) << index.out << index.err;
  EXPECT_TRUE(Contains(index.err, "not indexed: package " + broken + ": ")) << index.err;
  EXPECT_TRUE(Contains(index.err, " is not a JSON object")) << index.err;
  CommandResult list = Preserve({"list"});
  EXPECT_EQ(list.exit_code, 1) << list.err;
  EXPECT_TRUE(Contains(list.err, "preserve list: package " + broken + ": ")) << list.err;
  EXPECT_TRUE(Contains(list.err, "preserve list: package " + id + ": ")) << "its latest version: " << list.err;
  EXPECT_TRUE(Contains(list.out, later + "  ")) << list.out;

  CommandResult versions = Preserve({"versions", id});
  EXPECT_EQ(versions.exit_code, 1) << versions.err;
  EXPECT_TRUE(Contains(versions.out, "1  " + id + "  ")) << versions.out;
  EXPECT_TRUE(Contains(versions.err, "preserve versions: version 2 (" + id + ".v0002): ")) << versions.err;

  CommandResult report = Preserve({"report", "signatures"});
  EXPECT_EQ(report.exit_code, 1) << report.err;
  EXPECT_TRUE(Contains(report.out, "submitted 2: accepted 2")) << report.out;
  EXPECT_TRUE(Contains(report.err, "preserve report: not counted: audit event ")) << report.err;

  CommandResult holds = Preserve({"hold", "list"});
  EXPECT_EQ(holds.exit_code, 1) << holds.err;
  EXPECT_TRUE(Contains(holds.out, id + "  hold 1")) << holds.out;
  EXPECT_TRUE(Contains(holds.err, "preserve hold list: package " + broken + ": ")) << holds.err;

  CommandResult shown = Preserve({"audit-log", "show"});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_TRUE(Contains(shown.out, "(not a JSON event)")) << shown.out;

  CommandResult check = Preserve({"check"});
  EXPECT_EQ(check.exit_code, 1) << check.out;
  EXPECT_TRUE(Contains(check.out, "package " + broken + ": unreadable record: ")) << check.out;
  CommandResult fixity = Preserve({"fixity"});
  EXPECT_EQ(fixity.exit_code, 1) << fixity.out;
  EXPECT_TRUE(Contains(fixity.out, "DAMAGED  " + broken + "  record: unreadable")) << fixity.out;
  EXPECT_TRUE(Contains(fixity.out, "OK       " + id)) << fixity.out;
  EXPECT_TRUE(Contains(fixity.out, "OK       " + later)) << fixity.out;

  // gc cannot know what an unreadable record refers to: it erases nothing.
  CommandResult gc = Preserve({"gc"});
  EXPECT_EQ(gc.exit_code, 4) << gc.out << gc.err;
  EXPECT_TRUE(Contains(gc.err, "gc erases nothing while")) << gc.err;
}

}  // namespace
}  // namespace preserve
