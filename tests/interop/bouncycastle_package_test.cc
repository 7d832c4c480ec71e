// An exported package, checked by BouncyCastle 1.72 (ErsCheck.java): its
// evidence.ers covers exactly the files under data/ as one data-object group.
// Changing one byte of a data object, of the ER or of the token inside it makes
// both BouncyCastle and preserve reject the package.
#include <gtest/gtest.h>

#include <algorithm>

#include "preserve/util/bytes.h"
#include "testing.h"

namespace preserve {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;

const fs::path kFixtures = testing::SourceDir() / "tests" / "fixtures";

class BouncyCastlePackage : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(PRESERVE_JAVA)) << "no java runtime found at configure time";
    ASSERT_TRUE(fs::exists(fs::path(PRESERVE_ERS_CHECK_CLASSES) / "ErsCheck.class")) << "ErsCheck.java not compiled";
    ASSERT_EQ(Preserve({"init"}).exit_code, 0);
  }

  CommandResult Preserve(std::vector<std::string> args) {
    args.insert(args.begin(), PRESERVE_BIN);
    return testing::Run(args, {"PRESERVE_STORE=" + (dir_ / "store").string()});
  }

  // BouncyCastle's verdict: exit code 0 and "VALID", or not.
  CommandResult BouncyCastle(const fs::path& unzipped) {
    std::vector<std::string> argv = {PRESERVE_JAVA, "-cp",
                                     std::string(PRESERVE_ERS_CHECK_CLASSES) + ":" + PRESERVE_BC_CLASSPATH, "ErsCheck",
                                     "verify", (unzipped / "evidence.ers").string()};
    for (const auto& e : fs::recursive_directory_iterator(unzipped / "data"))
      if (e.is_regular_file()) argv.push_back(e.path().string());
    return testing::Run(argv);
  }

  fs::path ExportAndUnzip(const std::string& id, const std::string& name) {
    fs::path zip = dir_ / (name + ".zip");
    EXPECT_EQ(Preserve({"export", id, zip.string()}).exit_code, 0);
    fs::path out = dir_ / name;
    EXPECT_EQ(testing::Run({"unzip", "-q", zip.string(), "-d", out.string()}).exit_code, 0);
    return out;
  }

  CommandResult PreserveVerifiesUnzipped(const fs::path& unzipped) {
    fs::path zip = unzipped;
    zip += ".rezipped.zip";
    fs::remove(zip);
    EXPECT_EQ(testing::Run({"sh", "-c", "cd '" + unzipped.string() + "' && zip -q -r '" + zip.string() + "' ."})
                  .exit_code,
              0);
    return testing::Run({PRESERVE_BIN, "verify-package", zip.string()});
  }

  testing::TempDir dir_;
};

TEST_F(BouncyCastlePackage, AcceptsEveryPackageOfABatch) {
  CommandResult ingest =
      Preserve({"ingest", "--ids-only", "--trust", (kFixtures / "pki" / "root-ca.pem").string(),
                (kFixtures / "signed" / "letter.txt").string(), (kFixtures / "signed" / "letter.txt.p7s").string(),
                (kFixtures / "signed" / "letter.p7m").string()});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  ASSERT_NE(ingest.err.find("sealed 2 packages in batch"), std::string::npos) << ingest.err;
  std::istringstream ids(ingest.out);
  std::string id;
  int checked = 0;
  while (std::getline(ids, id)) {
    fs::path unzipped = ExportAndUnzip(id, "p" + std::to_string(checked));
    CommandResult bc = BouncyCastle(unzipped);
    EXPECT_EQ(bc.exit_code, 0) << bc.out << bc.err;
    EXPECT_EQ(bc.out, "VALID\n");
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST_F(BouncyCastlePackage, OneChangedByteIsRejectedByBoth) {
  CommandResult ingest = Preserve({"ingest", "--ids-only", "--trust", (kFixtures / "pki" / "root-ca.pem").string(),
                                   (kFixtures / "signed" / "letter.p7m").string()});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  std::string id = ingest.out.substr(0, 36);
  fs::path original = ExportAndUnzip(id, "original");
  ASSERT_EQ(BouncyCastle(original).exit_code, 0);
  Bytes er = testing::ReadFileOrDie(original / "evidence.ers");

  struct Tamper {
    std::string label;
    std::string file;
    std::size_t offset;  // byte to flip
  };
  // The token is the ER's last element, so its signature value ends the file;
  // the reduced hash tree sits before the token, near the start.
  std::vector<Tamper> cases = {
      {"document", "data/documents/letter", 10},
      {"manifest", "data/manifest.json", 20},
      {"reduced hash tree", "evidence.ers", 40},
      {"token signature", "evidence.ers", er.size() - 5},
  };
  for (const auto& t : cases) {
    fs::path copy = dir_ / ("tampered-" + std::to_string(&t - cases.data()));
    fs::copy(original, copy, fs::copy_options::recursive);
    Bytes bytes = testing::ReadFileOrDie(copy / t.file);
    ASSERT_LT(t.offset, bytes.size()) << t.label;
    bytes[t.offset] ^= 0x01;
    testing::WriteFile(copy / t.file, bytes);
    CommandResult bc = BouncyCastle(copy);
    EXPECT_NE(bc.exit_code, 0) << t.label << ": BouncyCastle accepted " << bc.out;
    CommandResult ours = PreserveVerifiesUnzipped(copy);
    EXPECT_EQ(ours.exit_code, 1) << t.label << ": " << ours.out << ours.err;
  }
}

}  // namespace
}  // namespace preserve
