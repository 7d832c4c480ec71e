// End-to-end: init, ingest, seal, verify, export, verify-package and verify-er
// through the real executable, on a real store, with the test PKI's fixtures.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "preserve/util/bytes.h"
#include "testing.h"

namespace preserve {
namespace {

using testing::CommandResult;

using testing::TempDir;

const std::filesystem::path kFixtures = testing::SourceDir() / "tests" / "fixtures";
const std::string kRootCa = (kFixtures / "pki" / "root-ca.pem").string();

std::string Fixture(const std::string& name) { return (kFixtures / "signed" / name).string(); }

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult init = Preserve({"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }

  CommandResult Preserve(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), PRESERVE_BIN);
    env.push_back("PRESERVE_STORE=" + store_.string());
    return testing::Run(args, env);
  }

  // Ingests and returns the one package id printed, failing the test otherwise.
  std::string IngestOne(const std::vector<std::string>& files) {
    std::vector<std::string> args = {"ingest", "--trust", kRootCa};
    args.insert(args.end(), files.begin(), files.end());
    CommandResult r = Preserve(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string id = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(id.size(), 36u) << r.out;
    return id;
  }

  std::string ListOutput() { return Preserve({"list"}).out; }

  // Unzips `zip` into a new directory and returns it.
  std::filesystem::path Unzip(const std::filesystem::path& zip) {
    std::filesystem::path out = dir_ / ("unzipped-" + zip.stem().string());
    CommandResult r = testing::Run({"unzip", "-q", "-o", zip.string(), "-d", out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
  }

  TempDir dir_;
  std::filesystem::path store_ = dir_ / "store";
};

std::vector<std::string> DataFiles(const std::filesystem::path& root) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root / "data"))
    if (e.is_regular_file()) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

void FlipLastByte(const std::filesystem::path& path) {
  Bytes b = testing::ReadFileOrDie(path);
  ASSERT_FALSE(b.empty());
  b.back() ^= 0x01;
  testing::WriteFile(path, b);
}

TEST_F(Cli, DetachedSignatureFromIngestToOfflineVerification) {
  std::string id = IngestOne({Fixture("letter.txt"), "--signature", Fixture("letter.txt.p7s")});

  CommandResult verify = Preserve({"verify", id});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("Package " + id + ": VALID"), std::string::npos) << verify.out;
  EXPECT_NE(verify.out.find("documents/letter.txt"), std::string::npos);

  std::filesystem::path zip = dir_ / "out.zip";
  CommandResult exported = Preserve({"export", id, zip.string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;

  // Offline: only the zip (and, for the strict check, the CA the auditor was given).
  CommandResult offline = testing::Run({PRESERVE_BIN, "verify-package", zip.string()});
  EXPECT_EQ(offline.exit_code, 0) << offline.out << offline.err;
  CommandResult pinned =
      testing::Run({PRESERVE_BIN, "verify-package", zip.string(), "--tsa-trust", (store_ / "tsa" / "ca.pem").string(),
           "--trust", kRootCa});
  EXPECT_EQ(pinned.exit_code, 0) << pinned.out << pinned.err;

  // The zip's evidence.ers covers exactly its data/ files, as one group.
  std::filesystem::path unzipped = Unzip(zip);
  std::vector<std::string> args = {PRESERVE_BIN, "verify-er", "--er", (unzipped / "evidence.ers").string(),
                                   "--tsa-trust", (store_ / "tsa" / "ca.pem").string()};
  std::vector<std::string> data = DataFiles(unzipped);
  EXPECT_GE(data.size(), 4u);  // document, signature, certificates, manifest
  args.insert(args.end(), data.begin(), data.end());
  CommandResult er = testing::Run(args);
  EXPECT_EQ(er.exit_code, 0) << er.out << er.err;

  // Without a trust anchor for the TSA nothing is broken, but nothing is proven.
  std::vector<std::string> untrusted = {PRESERVE_BIN, "verify-er", "--er", (unzipped / "evidence.ers").string()};
  untrusted.insert(untrusted.end(), data.begin(), data.end());
  EXPECT_EQ(testing::Run(untrusted).exit_code, 2);

  // One data object fewer is another group: INVALID.
  std::vector<std::string> missing_one = args;
  missing_one.pop_back();
  EXPECT_EQ(testing::Run(missing_one).exit_code, 1);
}

TEST_F(Cli, EnvelopingSignatureIsStoredWithItsContent) {
  std::string id = IngestOne({Fixture("letter.p7m")});
  CommandResult verify = Preserve({"verify", "--json", id});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("\"verdict\":\"VALID\""), std::string::npos);
  EXPECT_NE(ListOutput().find("letter"), std::string::npos);
}

TEST_F(Cli, JsonIngestPrintsAnObjectPerPackage) {
  CommandResult r = Preserve({"ingest", "--json", "--trust", kRootCa, Fixture("letter.txt"), Fixture("letter.txt.p7s"),
                              Fixture("letter.p7m")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int objects = 0;
  while (std::getline(lines, line)) {
    EXPECT_EQ(line.rfind("{\"id\":\"", 0), 0u) << line;
    ++objects;
  }
  EXPECT_EQ(objects, 2);
}

struct Refusal {
  std::vector<std::string> files;
  std::string sub_indication;
};

class CliRefusal : public Cli, public ::testing::WithParamInterface<Refusal> {};

TEST_P(CliRefusal, UntrustworthyDocumentIsRefusedAndNothingStored) {
  std::vector<std::string> args = {"ingest", "--trust", kRootCa};
  for (const auto& f : GetParam().files) args.push_back(f.rfind("--", 0) == 0 ? f : Fixture(f));
  CommandResult r = Preserve(args);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("refused: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(GetParam().sub_indication), std::string::npos) << r.err;
  EXPECT_TRUE(ListOutput().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Refusals, CliRefusal,
    ::testing::Values(Refusal{{"letter.txt", "letter-expired-signer.txt.p7s"}, "EXPIRED"},
                      Refusal{{"letter.txt", "letter-untrusted-signer.txt.p7s"}, "NO_CERTIFICATE_CHAIN_FOUND"},
                      Refusal{{"letter-tampered.txt", "--signature", "letter.txt.p7s"}, "HASH_FAILURE"}),
    [](const auto& param_info) { return param_info.param.sub_indication; });

TEST_F(Cli, RefusalStillAcceptsTheGoodDocumentsBesideIt) {
  CommandResult r = Preserve({"ingest", "--trust", kRootCa, Fixture("letter.p7m"), "--signature",
                              Fixture("letter-untrusted-signer.txt.p7s"), Fixture("letter.txt")});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out.size(), 37u) << r.out;  // one id and its newline
}

TEST_F(Cli, BadInputFailsClearlyAndLeavesTheStoreUnchanged) {
  std::string id = IngestOne({Fixture("letter.p7m")});
  std::string before = ListOutput();
  std::filesystem::path lonely = dir_ / "lonely.txt";  // no lonely.txt.p7s beside it
  testing::WriteFile(lonely, "unsigned\n");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"ingest", "--trust", kRootCa, (dir_ / "nope.txt").string(), "--signature", Fixture("letter.txt.p7s")},
       4, "no such file"},
      // Malformed signatures are refused (FORMAT_FAILURE, exit 3) with the reason, and audited as refusals.
      {{"ingest", "--trust", kRootCa, Fixture("letter.txt"), "--signature", Fixture("not-cms.p7s")}, 3,
       "FORMAT_FAILURE: not-cms.p7s: not a CMS signature"},
      {{"ingest", "--trust", kRootCa, Fixture("letter.txt"), "--signature", Fixture("truncated.p7s")}, 3,
       "FORMAT_FAILURE: truncated.p7s: truncated"},
      {{"ingest", "--trust", kRootCa, lonely.string()}, 64, "no signature given"},
      {{"ingest", Fixture("letter.p7m")}, 64, "--trust"},
      {{"verify", "0190aaaa-0000-7000-8000-000000000000"}, 4, "not in the store"},
      {{"export", "0190aaaa-0000-7000-8000-000000000000", (dir_ / "x.zip").string()}, 4, "not in the store"},
      {{"frobnicate"}, 64, "unknown command"},
  };
  for (const auto& c : cases) {
    CommandResult r = Preserve(c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args[0] << " " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
  EXPECT_EQ(ListOutput(), before);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.zip"));
  EXPECT_EQ(Preserve({"verify", id}).exit_code, 0);
}

TEST_F(Cli, MissingStoreIsAnErrorAndIsNotCreated) {
  std::filesystem::path nowhere = dir_ / "no-store";
  CommandResult r = testing::Run({PRESERVE_BIN, "verify", "--store", nowhere.string(), "some-id"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("no store at"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(nowhere));
  CommandResult ingest = testing::Run({PRESERVE_BIN, "ingest", "--store", nowhere.string(), "--trust", kRootCa,
                              Fixture("letter.p7m")});
  EXPECT_EQ(ingest.exit_code, 4);
  EXPECT_FALSE(std::filesystem::exists(nowhere));
}

TEST_F(Cli, InitRefusesAnExistingStore) {
  CommandResult r = Preserve({"init"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
}

TEST_F(Cli, CorruptOrForeignZipIsAnError) {
  std::filesystem::path garbage = dir_ / "garbage.zip";
  testing::WriteFile(garbage, "PK\x03\x04 this is not a zip at all");
  CommandResult r = testing::Run({PRESERVE_BIN, "verify-package", garbage.string()});
  EXPECT_EQ(r.exit_code, 4) << r.out;
  EXPECT_FALSE(r.err.empty());

  std::filesystem::path other = dir_ / "other.zip";
  ASSERT_EQ(testing::Run({"zip", "-q", "-j", other.string(), Fixture("letter.txt")}).exit_code, 0);
  CommandResult foreign = testing::Run({PRESERVE_BIN, "verify-package", other.string()});
  EXPECT_EQ(foreign.exit_code, 4);
  EXPECT_NE(foreign.err.find("not a preserve package"), std::string::npos) << foreign.err;

  EXPECT_EQ(testing::Run({PRESERVE_BIN, "verify-package", (dir_ / "absent.zip").string()}).exit_code, 4);
}

TEST_F(Cli, ChangedByteInAnExportedPackageIsInvalid) {
  std::string id = IngestOne({Fixture("letter.txt"), Fixture("letter.txt.p7s")});
  std::filesystem::path zip = dir_ / "p.zip";
  ASSERT_EQ(Preserve({"export", id, zip.string()}).exit_code, 0);
  std::filesystem::path unzipped = Unzip(zip);

  // Tamper with each kind of member in turn, re-zip, and expect INVALID.
  for (const std::string member : {"data/documents/letter.txt", "data/manifest.json", "evidence.ers"}) {
    std::filesystem::path copy = dir_ / "tampered";
    std::filesystem::remove_all(copy);
    std::filesystem::copy(unzipped, copy, std::filesystem::copy_options::recursive);
    FlipLastByte(copy / member);
    std::filesystem::path rezipped = dir_ / "tampered.zip";
    std::filesystem::remove(rezipped);
    CommandResult z = testing::Run({"sh", "-c", "cd '" + copy.string() + "' && zip -q -r '" + rezipped.string() + "' ."});
    ASSERT_EQ(z.exit_code, 0) << z.err;
    CommandResult r = testing::Run({PRESERVE_BIN, "verify-package", rezipped.string()});
    EXPECT_NE(r.exit_code, 0) << member << "\n" << r.out;
    if (member != "evidence.ers") {
      EXPECT_EQ(r.exit_code, 1) << member << "\n" << r.out;
    }
    EXPECT_NE(r.out.find("INVALID"), std::string::npos) << member << "\n" << r.out << r.err;
  }
}

TEST_F(Cli, SealCanBeDeferredAndRunLater) {
  CommandResult r = Preserve({"ingest", "--no-seal", "--trust", kRootCa, Fixture("letter.p7m")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string id = r.out.substr(0, 36);
  EXPECT_NE(ListOutput().find("queued"), std::string::npos);
  CommandResult unsealed = Preserve({"verify", id});
  EXPECT_EQ(unsealed.exit_code, 4);
  EXPECT_NE(unsealed.err.find("not sealed yet"), std::string::npos) << unsealed.err;
  CommandResult seal = Preserve({"seal"});
  EXPECT_EQ(seal.exit_code, 0) << seal.err;
  EXPECT_NE(seal.err.find("sealed 1 package"), std::string::npos) << seal.err;
  EXPECT_EQ(Preserve({"verify", id}).exit_code, 0);
}

TEST_F(Cli, ManyPackagesShareOneTimeStamp) {
  CommandResult r = Preserve({"ingest", "--no-seal", "--trust", kRootCa, Fixture("letter.p7m")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Preserve({"ingest", "--trust", kRootCa, Fixture("letter.p7m"), Fixture("letter.txt"), Fixture("letter.txt.p7s")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("sealed 3 packages in batch"), std::string::npos) << r.err;
  EXPECT_EQ(ListOutput().find("queued"), std::string::npos);
}

TEST_F(Cli, HelpAndUsage) {
  CommandResult help = testing::Run({PRESERVE_BIN, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("verify-package"), std::string::npos);
  for (const char* cmd : {"init", "ingest", "seal", "list", "verify", "export", "verify-package", "verify-er"}) {
    CommandResult r = testing::Run({PRESERVE_BIN, cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.out.find("Usage: preserve "), std::string::npos) << cmd;
  }
  EXPECT_EQ(testing::Run({PRESERVE_BIN}).exit_code, 64);
  EXPECT_EQ(testing::Run({PRESERVE_BIN, "verify", "--bogus"}).exit_code, 64);
}

}  // namespace
}  // namespace preserve
