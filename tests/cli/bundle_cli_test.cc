// Bundles as users make them (issue 15, part 2): a folder packed with the
// system's own tar (`tar -czf b.tar.gz -C dir .`, whose entries are "./",
// "./letter.pdf", "./sub/") and zip (`cd dir && zip -r ../b.zip .`), ingested
// through the real `preserve ingest`.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <sstream>

#include "store_cli_fixture.h"

namespace preserve {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::CommandResult;
using testing::Contains;
using testing::kCliFixtures;
using testing::kCliRootCa;

class BundleCli : public testing::StoreCli {
 protected:
  // A folder as an officer has it: a signed PDF at the top, a detached
  // signature and its document in a subfolder.
  fs::path MakeFolder() {
    const fs::path folder = dir_ / "folder";
    fs::create_directories(folder / "sub");
    fs::copy_file(kCliFixtures / "pdf" / "signed.pdf", folder / "letter.pdf");
    fs::copy_file(kCliFixtures / "signed" / "letter.txt", folder / "sub" / "letter.txt");
    fs::copy_file(kCliFixtures / "signed" / "letter.txt.p7s", folder / "sub" / "letter.txt.p7s");
    return folder;
  }

  // What the system's tar or zip lists in `bundle`.
  static std::string Listing(const std::vector<std::string>& argv) {
    CommandResult r = testing::Run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  // Ingests `bundle` with --json and returns each input's outcome.
  std::map<std::string, std::string> IngestBundle(const fs::path& bundle, CommandResult& r) {
    r = Preserve({"ingest", "--json", "--trust", kCliRootCa, bundle.string()});
    std::map<std::string, std::string> outcomes;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      json::error_code ec;
      json::value v = json::parse(line, ec);
      if (ec || !v.is_object()) continue;
      const json::object& o = v.as_object();
      const json::value* input = o.if_contains("input");
      const json::value* outcome = o.if_contains("outcome");
      if (input != nullptr && input->is_string() && outcome != nullptr && outcome->is_string())
        outcomes[std::string(input->as_string())] = std::string(outcome->as_string());
    }
    return outcomes;
  }
};

bool HasZip() { return testing::Run({"sh", "-c", "command -v zip"}).exit_code == 0; }

TEST_F(BundleCli, ATarMadeWithDotIsIngested) {
  const fs::path folder = MakeFolder();
  const fs::path bundle = dir_ / "bundle.tar.gz";
  CommandResult tar = testing::Run({"tar", "-czf", bundle.string(), "-C", folder.string(), "."});
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  // The system's tar names the folder itself "./", and everything under it "./...".
  const std::string listed = Listing({"tar", "-tzf", bundle.string()});
  ASSERT_TRUE(Contains(listed, "./\n") && Contains(listed, "./letter.pdf\n") && Contains(listed, "./sub/\n"))
      << listed;

  CommandResult r;
  auto outcomes = IngestBundle(bundle, r);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(Contains(r.err, "unsafe path")) << r.err;
  ASSERT_EQ(outcomes.size(), 2u) << r.out << r.err;
  for (const auto& [input, outcome] : outcomes) {
    EXPECT_EQ(outcome, "accepted") << input << ": " << r.err;
    // Recorded without the "./" the tar put before every name.
    EXPECT_FALSE(Contains(input, "./")) << input;
  }
  CommandResult check = Preserve({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(BundleCli, AZipMadeWithDotIsIngested) {
  if (!HasZip()) GTEST_SKIP() << "zip is not installed (scripts/setup.sh installs it)";
  const fs::path folder = MakeFolder();
  const fs::path bundle = dir_ / "bundle.zip";
  CommandResult zip = testing::Run({"sh", "-c", "cd \"$0\" && zip -qr ../bundle.zip .", folder.string()});
  ASSERT_EQ(zip.exit_code, 0) << zip.err;
  ASSERT_TRUE(Contains(Listing({"unzip", "-Z1", bundle.string()}), "sub/\n"));  // a directory entry

  CommandResult r;
  auto outcomes = IngestBundle(bundle, r);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(outcomes.size(), 2u) << r.out << r.err;
  for (const auto& [input, outcome] : outcomes) EXPECT_EQ(outcome, "accepted") << input << ": " << r.err;
}

TEST_F(BundleCli, ATarWithAnEntryThatClimbsOutIsRefusedNamingIt) {
  const fs::path folder = MakeFolder();
  testing::WriteFile(dir_ / "outside.txt", "outside\n");
  const fs::path bundle = dir_ / "climbs.tar";
  // -P (--absolute-names): GNU tar keeps the "../" it would otherwise strip.
  CommandResult tar = testing::Run({"tar", "-cPf", bundle.string(), "-C", folder.string(), ".", "../outside.txt"});
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  ASSERT_TRUE(Contains(Listing({"tar", "-tf", bundle.string()}), "../outside.txt")) << "tar stripped the ../";

  CommandResult r = Preserve({"ingest", "--trust", kCliRootCa, bundle.string()});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "refused unsafe path '../outside.txt'")) << r.err;
  EXPECT_EQ(Preserve({"list"}).out, "");
}

}  // namespace
}  // namespace preserve
