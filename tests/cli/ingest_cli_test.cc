// The records officer at the command line: signed PDFs and ASiC containers,
// bulk ingest of a folder, a zip and a tar, hostile bundles, record metadata,
// list filters and the signature-use report.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <sstream>

#include "testing.h"

namespace preserve {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::CommandResult;

const fs::path kFixtures = testing::SourceDir() / "tests" / "fixtures";
const std::string kRootCa = (kFixtures / "pki" / "root-ca.pem").string();

std::vector<json::object> JsonLines(const std::string& text) {
  std::vector<json::object> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json::value v = json::parse(line);
    out.push_back(v.as_object());
  }
  return out;
}

std::string Text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

class IngestCli : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult init = Preserve({"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  CommandResult Preserve(std::vector<std::string> args) {
    args.insert(args.begin(), PRESERVE_BIN);
    return testing::Run(args, {"PRESERVE_STORE=" + store_.string()});
  }

  CommandResult Ingest(std::vector<std::string> args) {
    args.insert(args.begin(), {"ingest", "--json", "--trust", kRootCa});
    return Preserve(args);
  }

  // input -> outcome ("accepted", "refused") from ingest --json.
  std::map<std::string, std::string> Outcomes(const CommandResult& r) {
    std::map<std::string, std::string> out;
    for (const auto& o : JsonLines(r.out)) out[fs::path(Text(o, "input")).filename().string()] = Text(o, "outcome");
    return out;
  }

  testing::TempDir dir_;
  fs::path store_ = dir_ / "store";
};

TEST_F(IngestCli, SignedPdfsAreAcceptedAndChangedOnesRefused) {
  CommandResult r = Ingest({(kFixtures / "pdf" / "signed.pdf").string(), (kFixtures / "pdf" / "signed-twice.pdf").string(),
                            (kFixtures / "pdf" / "signed-byte-changed.pdf").string(),
                            (kFixtures / "pdf" / "signed-then-annotated.pdf").string(),
                            (kFixtures / "pdf" / "truncated.pdf").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto outcomes = Outcomes(r);
  EXPECT_EQ(outcomes["signed.pdf"], "accepted");
  EXPECT_EQ(outcomes["signed-twice.pdf"], "accepted");
  EXPECT_EQ(outcomes["signed-byte-changed.pdf"], "refused");
  EXPECT_EQ(outcomes["signed-then-annotated.pdf"], "refused");
  EXPECT_EQ(outcomes["truncated.pdf"], "refused");
  EXPECT_NE(r.err.find("signed-byte-changed.pdf: HASH_FAILURE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("signed-then-annotated.pdf: FORMAT_FAILURE"), std::string::npos) << r.err;
  // Each signature of the twice-signed PDF is reported.
  for (const auto& o : JsonLines(r.out)) {
    if (Text(o, "input").find("signed-twice.pdf") == std::string::npos) continue;
    const auto& sigs = o.at("signatures").as_array();
    ASSERT_EQ(sigs.size(), 2u);
    for (const auto& s : sigs) EXPECT_EQ(Text(s.as_object(), "indication"), "TOTAL-PASSED");
    EXPECT_EQ(Text(o, "format"), "PAdES");
  }
}

TEST_F(IngestCli, AsicContainersFollowThePolicy) {
  CommandResult r = Ingest({(kFixtures / "asic" / "simple.asics").string(), (kFixtures / "asic" / "extended.asice").string(),
                            (kFixtures / "asic" / "extended-unlisted.asice").string(),
                            (kFixtures / "asic" / "extended-tampered.asice").string(),
                            (kFixtures / "asic" / "xml-bomb.asice").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto outcomes = Outcomes(r);
  EXPECT_EQ(outcomes["simple.asics"], "accepted");
  EXPECT_EQ(outcomes["extended.asice"], "accepted");
  EXPECT_EQ(outcomes["extended-unlisted.asice"], "refused");  // INDETERMINATE: refused by default
  EXPECT_EQ(outcomes["extended-tampered.asice"], "refused");
  EXPECT_EQ(outcomes["xml-bomb.asice"], "refused");
  EXPECT_NE(r.err.find("extended-unlisted.asice: SIGNED_DATA_NOT_FOUND"), std::string::npos) << r.err;

  CommandResult lenient = Ingest({"--accept-indeterminate", (kFixtures / "asic" / "extended-unlisted.asice").string()});
  EXPECT_EQ(lenient.exit_code, 0) << lenient.err;
}

// On a terminal (a pty, through script(1)) the progress bar is drawn again
// after every outcome line, so it stays on screen while the next group is
// validated; it was once erased right after it was drawn.
TEST_F(IngestCli, ProgressBarStaysVisibleOnATerminal) {
  const fs::path examples = testing::SourceDir() / "examples";
  const std::string command = std::string(PRESERVE_BIN) + " ingest --no-seal --trust '" +
                              (examples / "trust" / "ca.pem").string() + "' '" + (examples / "documents").string() + "'";
  CommandResult r = testing::Run({"script", "-qec", command, "/dev/null"}, {"PRESERVE_STORE=" + store_.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string& screen = r.out;
  EXPECT_NE(screen.find("] 0/4 documents"), std::string::npos) << screen;
  // Each of the four outcome lines is followed by the bar, counting it.
  for (int done = 1; done <= 4; ++done) {
    const std::string bar = "] " + std::to_string(done) + "/4 documents";
    const std::size_t at = screen.find(bar);
    ASSERT_NE(at, std::string::npos) << screen;
    const std::size_t line_end = screen.rfind("\r\n", at);
    ASSERT_NE(line_end, std::string::npos) << screen;
    // Between the line's end and the bar: only the bar's own start, no erasing.
    EXPECT_EQ(screen.substr(line_end, at - line_end).find("\r["), 2u) << screen.substr(line_end, at - line_end);
  }
  // It is erased only before the summary line, which stays.
  const std::size_t summary = screen.find("ingest: 4 accepted");
  ASSERT_NE(summary, std::string::npos) << screen;
  const std::size_t last_bar = screen.find("] 4/4 documents");
  EXPECT_GT(summary, last_bar);
  EXPECT_EQ(screen.substr(last_bar, summary - last_bar).find(" -> "), std::string::npos)  // no line after the last bar
      << screen.substr(last_bar, summary - last_bar);
  // In a pipe there is no bar.
  CommandResult piped = Preserve({"ingest", "--no-seal", "--allow-duplicate", "--trust",
                                  (examples / "trust" / "ca.pem").string(), (examples / "documents").string()});
  EXPECT_EQ(piped.err.find("documents\r"), std::string::npos) << piped.err;
  EXPECT_EQ(piped.err.find("/4 documents"), std::string::npos) << piped.err;
}

TEST_F(IngestCli, BulkIngestOfAFolderAZipAndATarAgree) {
  std::map<std::string, std::string> first;
  for (const char* input : {"tree", "tree.zip", "tree.tar.gz"}) {
    CommandResult r = Ingest({"--no-seal", (kFixtures / "bulk" / input).string()});
    EXPECT_EQ(r.exit_code, 3) << input << ": " << r.err;  // the bundle holds unpaired files and a fake PDF
    auto outcomes = Outcomes(r);
    // The same documents three times: stored by the first run, duplicates of it in the next two.
    const std::string stored = first.empty() ? "accepted" : "duplicate";
    EXPECT_EQ(outcomes["letter.txt"], stored) << input << r.err;
    EXPECT_EQ(outcomes["công văn 15.txt"], stored) << input << r.err;
    EXPECT_EQ(outcomes["report.p7m"], stored) << input << r.err;
    EXPECT_EQ(outcomes["container.asics"], stored) << input << r.err;
    // Every input has its outcome, the unusable ones too.
    EXPECT_EQ(outcomes["orphan.p7s"], "refused") << input << r.out;
    EXPECT_EQ(outcomes["unsigned.txt"], "not-signed") << input << r.out;
    EXPECT_EQ(outcomes.count(".hidden.txt"), 0u) << r.out;
    EXPECT_NE(r.err.find("ingest: "), std::string::npos) << r.err;  // the summary line
    for (auto& [name, outcome] : outcomes)
      if (outcome == "accepted") outcome = "duplicate";
    if (first.empty()) {
      first = outcomes;
    } else {
      EXPECT_EQ(outcomes, first) << input;
    }
  }
  CommandResult seal = Preserve({"seal"});
  EXPECT_EQ(seal.exit_code, 0) << seal.err;
  CommandResult check = Preserve({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(IngestCli, HostileBundlesAreRefusedBeforeAnythingIsStored) {
  for (const char* name : {"dotdot.zip", "absolute.zip", "symlink.zip", "duplicate.zip", "bomb.zip",
                           "bomb-lying-size.zip", "device.tar", "hardlink.tar", "dotdot.tar.gz"}) {
    CommandResult r = Ingest({(kFixtures / "hostile" / name).string()});
    EXPECT_EQ(r.exit_code, 4) << name << ": " << r.err;
    EXPECT_NE(r.err.find(name), std::string::npos) << r.err;
  }
  CommandResult list = Preserve({"list"});
  EXPECT_EQ(list.out, "");
  EXPECT_FALSE(fs::exists("/tmp/preserve-escaped.txt"));
}

TEST_F(IngestCli, MetadataSidecarsFeedListFiltersAndTheReport) {
  fs::path docs = dir_ / "docs";
  fs::create_directories(docs);
  fs::copy(kFixtures / "signed" / "letter.txt", docs / "letter.txt");
  fs::copy(kFixtures / "signed" / "letter.txt.p7s", docs / "letter.txt.p7s");
  testing::WriteFile(docs / "letter.txt.metadata.json",
                     R"({"code_number": "6587", "code_notation": "UBND-CNXD", "issued_date": "2017-11-22",
                         "organ_name": "UBND tỉnh Đắk Nông", "type_name": "Công văn",
                         "subject": "Tăng cường sử dụng chữ ký số"})");
  CommandResult r = Preserve({"ingest", "--trust", kRootCa, docs.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Refused twice: an untrusted signer, and a sidecar that misses required fields.
  CommandResult bad = Preserve({"ingest", "--trust", kRootCa, (kFixtures / "signed" / "letter.txt").string(),
                                (kFixtures / "signed" / "letter-untrusted-signer.txt.p7s").string()});
  EXPECT_EQ(bad.exit_code, 3);
  fs::path sidecar = dir_ / "bad.json";
  testing::WriteFile(sidecar, R"({"code_number": "1"})");
  CommandResult bad_metadata = Preserve({"ingest", "--trust", kRootCa, "--metadata", sidecar.string(),
                                         (kFixtures / "signed" / "letter.p7m").string()});
  EXPECT_EQ(bad_metadata.exit_code, 3);
  EXPECT_NE(bad_metadata.out.find("-> refused: METADATA_INVALID"), std::string::npos) << bad_metadata.out;
  // The folder again: a duplicate. The letter without the bad sidecar: accepted,
  // so its refusal above counts as refused-then-accepted. An unsigned file: not signed.
  CommandResult again = Preserve({"ingest", "--trust", kRootCa, docs.string()});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("-> duplicate of "), std::string::npos) << again.out;
  EXPECT_EQ(Preserve({"ingest", "--trust", kRootCa, (kFixtures / "signed" / "letter.p7m").string()}).exit_code, 0);
  testing::WriteFile(dir_ / "note.txt", "not signed\n");
  CommandResult unsigned_file = Preserve({"ingest", "--trust", kRootCa, (dir_ / "note.txt").string()});
  EXPECT_EQ(unsigned_file.exit_code, 3) << unsigned_file.err;
  EXPECT_NE(unsigned_file.out.find("note.txt -> not a signed document: "), std::string::npos) << unsigned_file.out;

  CommandResult list = Preserve({"list", "--organ", "Đắk Nông", "--issued-from", "2017-01-01"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("6587/UBND-CNXD 2017-11-22"), std::string::npos) << list.out;
  EXPECT_EQ(Preserve({"list", "--type", "Quyết định"}).out, "");

  // CSV for spreadsheets: a UTF-8 BOM, CRLF rows, every input in one class, one column per refusal reason.
  CommandResult csv = Preserve({"report", "signatures", "--by", "organ", "--csv"});
  EXPECT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out,
            "\xEF\xBB\xBFgroup,submitted,accepted,duplicate,refused,refused_then_accepted,not_signed,"
            "refused NO_CERTIFICATE_CHAIN_FOUND\r\n"
            "(none),4,1,0,1,1,1,1\r\n"
            "UBND tỉnh Đắk Nông,2,1,1,0,0,0,0\r\n"
            "TOTAL,6,2,1,1,1,1,1\r\n");
  CommandResult as_json = Preserve({"report", "signatures", "--json", "--from", "2000-01-01"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  json::object report = json::parse(as_json.out).as_object();
  const json::object& total = report.at("rows").as_array().at(0).as_object();
  EXPECT_EQ(total.at("submitted").as_int64(), 6);
  EXPECT_EQ(total.at("refused_then_accepted").as_int64(), 1);
  EXPECT_EQ(total.at("not_signed").as_int64(), 1);
  EXPECT_EQ(total.at("duplicate").as_int64(), 1);
  EXPECT_EQ(Preserve({"report", "signatures", "--by", "colour"}).exit_code, 64);
}

}  // namespace
}  // namespace preserve
