// Names that enter the store (issue 13, part 1), end to end through the real
// executable and real zips: every name recorded is UTF-8 in NFC, whatever code
// page a zip used, and no name can leave the store unreadable.
//
// Fixtures: tests/fixtures/names/ and tests/fixtures/asic/extended-*.asice
// (scripts/make-container-fixtures.sh, tests/fixtures/README.md).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "preserve/util/unicode.h"
#include "store_cli_fixture.h"

namespace preserve::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// "Công văn Đắk Nông.txt" in NFC (ô U+00F4, ă U+0103, Đ U+0110, ắ U+1EAF), as
// the CP1258 bytes C\xF4ng v\xE3n \xD0\xE3\xECk N\xF4ng.txt decode.
const std::string kDakNong = "C\xC3\xB4ng v\xC4\x83n \xC4\x90\xE1\xBA\xAFk N\xC3\xB4ng.txt";
// The same bytes read as CP437, the zip standard's code page: "C⌠ng vπn ╨π∞k N⌠ng.txt".
const std::string kDakNongAsCp437 =
    "C\xE2\x8C\xA0ng v\xCF\x80n \xE2\x95\xA8\xCF\x80\xE2\x88\x9Ek N\xE2\x8C\xA0ng.txt";

std::string Fixture(const std::string& relative) { return (kCliFixtures / relative).string(); }

// The document names `list --json` gives, across every package.
std::vector<std::string> ListedDocuments(const CommandResult& list) {
  std::vector<std::string> out;
  for (const std::string& line : Lines(list.out)) {
    const json::value package = json::parse(line);
    for (const json::value& document : package.at("documents").as_array())
      out.emplace_back(document.as_string());
  }
  return out;
}

class InputNamesCli : public StoreCli {
 protected:
  // Every reader that a name that is not UTF-8 used to break, on the whole store.
  void ExpectEveryReaderWorks() {
    CommandResult list = Preserve({"list", "--json"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    for (const std::string& line : Lines(list.out)) EXPECT_TRUE(IsNfcJsonLine(line)) << line;
    CommandResult check = Preserve({"check"});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    CommandResult report = Preserve({"report", "signatures"});
    EXPECT_EQ(report.exit_code, 0) << report.out << report.err;
    CommandResult verify_log = Preserve({"audit-log", "verify"});
    EXPECT_EQ(verify_log.exit_code, 0) << verify_log.out << verify_log.err;
    CommandResult show = Preserve({"audit-log", "show", "--json"});
    EXPECT_EQ(show.exit_code, 0) << show.err;
    for (const std::string& line : Lines(show.out)) EXPECT_TRUE(IsNfcJsonLine(line)) << line;
  }

  // A line of JSON output that parses and is UTF-8 in NFC throughout.
  static bool IsNfcJsonLine(const std::string& line) {
    boost::system::error_code ec;
    json::parse(line, ec);
    return !ec && IsNfcUtf8(line);
  }
};

TEST_F(InputNamesCli, Cp1258ZipWithNameEncodingGivesTheVietnameseNameInNfc) {
  CommandResult r = Preserve(
      {"ingest", "--trust", kCliRootCa, "--name-encoding", "cp1258", Fixture("names/cp1258-no-flag.zip")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(Lines(r.out).size(), 2u) << r.out;

  CommandResult list = Preserve({"list"});
  EXPECT_TRUE(Contains(list.out, kDakNong)) << list.out;
  const std::vector<std::string> documents = ListedDocuments(Preserve({"list", "--json"}));
  EXPECT_NE(std::find(documents.begin(), documents.end(), "documents/" + kDakNong), documents.end());

  // get writes the document under its name, and the manifest records it.
  std::string id;
  for (const std::string& line : Lines(list.out))
    if (Contains(line, kDakNong)) id = line.substr(0, line.find(' '));
  ASSERT_FALSE(id.empty()) << list.out;
  CommandResult get = Preserve({"get", id, "--out", (dir_ / "out").string()});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(ToString(ReadFileOrDie(dir_ / "out" / "documents" / kDakNong)),
            ToString(ReadFileOrDie(kCliFixtures / "bulk" / "tree" / "công văn 15.txt")));
  const std::string manifest = ToString(ReadFileOrDie(dir_ / "out" / "manifest.json"));
  EXPECT_TRUE(Contains(manifest, "\"documents/" + kDakNong + "\"")) << manifest;
  EXPECT_TRUE(Contains(manifest, "\"signatures/" + kDakNong + ".p7s\"")) << manifest;
  ExpectEveryReaderWorks();
}

TEST_F(InputNamesCli, Cp1258ZipWithoutNameEncodingIsReadAsCp437AndTheStoreStaysReadable) {
  CommandResult r = Preserve({"ingest", "--trust", kCliRootCa, Fixture("names/cp1258-no-flag.zip")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> documents = ListedDocuments(Preserve({"list", "--json"}));
  EXPECT_NE(std::find(documents.begin(), documents.end(), "documents/" + kDakNongAsCp437), documents.end());
  EXPECT_NE(std::find(documents.begin(), documents.end(), "documents/letter.txt"), documents.end());
  ExpectEveryReaderWorks();
  for (const std::string& line : Lines(Preserve({"list"}).out)) {
    CommandResult verify = Preserve({"verify", line.substr(0, line.find(' '))});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }
}

TEST_F(InputNamesCli, ZipFlaggedUtf8WithBytesThatAreNotIsRefusedEntryByEntryNamingIt) {
  CommandResult r = Preserve({"ingest", "--trust", kCliRootCa, Fixture("names/utf8-flag-invalid.zip")});
  EXPECT_EQ(r.exit_code, 3) << r.err;  // refused: the two entries; letter.txt is accepted
  EXPECT_EQ(Lines(r.out).size(), 3u) << r.out;  // one line per input
  // "báo cáo.txt" in CP1258, shown escaped as the store's readers show such bytes.
  EXPECT_TRUE(Contains(r.out, "b%E1o c%E1o.txt -> refused: INPUT_UNUSABLE: flagged as UTF-8 in the zip, but not UTF-8"))
      << r.out;
  EXPECT_TRUE(Contains(r.out, "b%E1o c%E1o.txt.p7s -> refused: INPUT_UNUSABLE: flagged as UTF-8 in the zip, but not UTF-8"))
      << r.out;
  EXPECT_EQ(ListedDocuments(Preserve({"list", "--json"})), std::vector<std::string>{"documents/letter.txt"});
  ExpectEveryReaderWorks();
}

// An ASiC-E container with a data file added after signing under a CP1258
// name without the UTF-8 flag: refused by default (no signature covers it),
// accepted on request; either way the store stays readable.
TEST_F(InputNamesCli, RenamedAsicEntryDoesNotPoisonTheStore) {
  const std::string container = Fixture("asic/extended-unsigned-non-utf8.asice");
  // "Công văn.txt" in CP1258 read as CP437.
  const std::string shown = "C\xE2\x8C\xA0ng v\xCF\x80n.txt";
  CommandResult refused = Preserve({"ingest", "--trust", kCliRootCa, container});
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  EXPECT_TRUE(Contains(refused.out, "no signature covers " + shown)) << refused.out;
  ExpectEveryReaderWorks();

  CommandResult accepted = Preserve({"ingest", "--ids-only", "--trust", kCliRootCa, "--accept-indeterminate", container});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.err;
  const std::string id = Lines(accepted.out).front();
  ExpectEveryReaderWorks();
  CommandResult verify = Preserve({"verify", id});
  EXPECT_NE(verify.exit_code, 4) << verify.out << verify.err;  // a verdict, not an unreadable package
  CommandResult exported = Preserve({"export", id, (dir_ / "p.zip").string()});
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  CommandResult get = Preserve({"get", id, "--out", (dir_ / "out").string()});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  const std::string manifest = ToString(ReadFileOrDie(dir_ / "out" / "manifest.json"));
  EXPECT_TRUE(IsNfcUtf8(manifest)) << manifest;
}

TEST_F(InputNamesCli, NfdNamesAreStoredNfc) {
  // "công văn.txt" as macOS writes names: o + U+0302, a + U+0306.
  const std::string nfd = "co\xCC\x82ng va\xCC\x86n.txt";
  const std::string nfc = "c\xC3\xB4ng v\xC4\x83n.txt";
  const fs::path folder = dir_ / "folder";
  fs::create_directories(folder);
  fs::copy_file(SignedFixturePath("letter.txt"), folder / nfd);
  fs::copy_file(SignedFixturePath("letter.txt.p7s"), folder / (nfd + ".p7s"));
  CommandResult from_folder = Preserve({"ingest", "--trust", kCliRootCa, folder.string()});
  ASSERT_EQ(from_folder.exit_code, 0) << from_folder.err;

  // Named on the command line, the same.
  const fs::path single = dir_ / "single";
  fs::create_directories(single);
  fs::copy_file(SignedFixturePath("letter.txt"), single / nfd);
  // (The same bytes as from the folder: stored again on purpose, to see both names.)
  CommandResult explicit_file = Preserve({"ingest", "--allow-duplicate", "--trust", kCliRootCa, (single / nfd).string(), "--signature",
                                          SignedFixturePath("letter.txt.p7s")});
  ASSERT_EQ(explicit_file.exit_code, 0) << explicit_file.err;

  // An ASiC-E container whose covered names are stored and signed in NFD:
  // VALID (the signature covers those bytes), reported in NFC.
  CommandResult container =
      Preserve({"ingest", "--trust", kCliRootCa, "--json", Fixture("asic/extended-nfd-names.asice")});
  ASSERT_EQ(container.exit_code, 0) << container.err;
  // "phụ lục.txt", ụ precomposed (U+1EE5).
  EXPECT_TRUE(Contains(container.out, "over letter.txt, ph\xE1\xBB\xA5 l\xE1\xBB\xA5" "c.txt")) << container.out;
  EXPECT_TRUE(IsNfcUtf8(container.out)) << container.out;

  const std::vector<std::string> documents = ListedDocuments(Preserve({"list", "--json"}));
  EXPECT_EQ(std::count(documents.begin(), documents.end(), "documents/" + nfc), 2)
      << ::testing::PrintToString(documents);
  EXPECT_EQ(std::count(documents.begin(), documents.end(), "documents/" + nfd), 0);
  ExpectEveryReaderWorks();
}

}  // namespace
}  // namespace preserve::testing
