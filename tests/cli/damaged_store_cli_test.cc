// Damage reported, not fatal: a byte flipped in a table file's data block,
// where RocksDB's block checksums catch it on every read. `check` and
// `fixity` visit everything and list every problem (exit 1); `verify` says
// INVALID and names what cannot be read; listings name the rows they skip.
// Only a store that cannot be opened at all is an error (exit 4).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "raw_db.h"
#include "store_cli_fixture.h"

namespace preserve {
namespace {

using testing::CommandResult;
using testing::Contains;
using testing::Lines;

constexpr int kPackages = 60;

// Sixty packages from one bulk ingest: enough records and manifests that the
// packages and content families span many 4 KiB blocks each.
class DamagedStore : public testing::StoreCli {
 protected:
  void SetUp() override {
    StoreCli::SetUp();
    std::filesystem::path inbox = dir_ / "inbox";
    std::filesystem::create_directories(inbox);
    for (int i = 0; i < kPackages; ++i)
      std::filesystem::copy_file(testing::SignedFixturePath("letter.p7m"),
                                 inbox / ("letter-" + std::to_string(i) + ".p7m"));
    ids_ = Ingest({inbox.string()});
    ASSERT_EQ(ids_.size(), static_cast<std::size_t>(kPackages));
  }

  // The packages whose `family` row under their id, or content, can no longer be read.
  std::set<std::string> Unreadable(const std::string& family) {
    std::set<std::string> out;
    testing::RawDb raw(Db());
    for (const auto& id : ids_)
      if (!raw.Readable(family, id)) out.insert(id);
    return out;
  }

  std::vector<std::string> ids_;
};

TEST_F(DamagedStore, DamagedContentIsListedPackageByPackage) {
  testing::FlipByteInTheData(Db(), "content");
  CommandResult fixity = Preserve({"fixity"});
  EXPECT_EQ(fixity.exit_code, 1) << fixity.out << fixity.err;
  std::set<std::string> damaged, ok;
  for (const auto& line : Lines(fixity.out)) {
    if (line.rfind("DAMAGED  ", 0) == 0) damaged.insert(line.substr(9, 36));
    if (line.rfind("OK       ", 0) == 0) ok.insert(line.substr(9, 36));
  }
  ASSERT_FALSE(damaged.empty()) << fixity.out;
  // Every package was checked; when the flipped block holds what all packages
  // share (the signer's certificate), all of them are rightly DAMAGED.
  EXPECT_EQ(damaged.size() + ok.size(), static_cast<std::size_t>(kPackages)) << fixity.out;
  EXPECT_TRUE(Contains(fixity.out, "Corruption")) << fixity.out;
  EXPECT_TRUE(Contains(fixity.out, "checked " + std::to_string(kPackages) + " of " + std::to_string(kPackages)))
      << fixity.out;

  CommandResult check = Preserve({"check"});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  EXPECT_TRUE(Contains(check.out, "problem: ")) << check.out;
  EXPECT_TRUE(Contains(check.out, "cannot be read")) << check.out;
  EXPECT_TRUE(Contains(check.out, "INCONSISTENT: packages " + std::to_string(kPackages))) << check.out;

  // verify names what it cannot read, and is INVALID; an undamaged package is still VALID.
  const std::string hurt = *damaged.begin();
  CommandResult invalid = Preserve({"verify", hurt});
  EXPECT_EQ(invalid.exit_code, 1) << invalid.out << invalid.err;
  EXPECT_TRUE(Contains(invalid.out, "INVALID")) << invalid.out;
  EXPECT_TRUE(Contains(invalid.out, "Corruption")) << invalid.out;
  if (!ok.empty()) {
    CommandResult valid = Preserve({"verify", *ok.begin()});
    EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  }

  // list names the packages it cannot read on stderr and lists the others.
  CommandResult list = Preserve({"list", "--limit", "1000"});
  EXPECT_EQ(list.exit_code, 1) << list.err;
  EXPECT_GE(Lines(list.out).size(), ok.size()) << list.out;
  EXPECT_TRUE(Contains(list.err, "preserve list: package ")) << list.err;
}

TEST_F(DamagedStore, DamagedRecordsAreNamedAndTheRestIsRead) {
  testing::FlipByteInTheData(Db(), "packages");
  const std::set<std::string> lost = Unreadable("packages");
  ASSERT_FALSE(lost.empty());
  ASSERT_LT(lost.size(), static_cast<std::size_t>(kPackages));

  CommandResult list = Preserve({"list", "--limit", "1000"});
  EXPECT_EQ(list.exit_code, 1) << list.err;
  EXPECT_TRUE(Contains(list.err, "preserve list: package records after ")) << list.err;
  EXPECT_TRUE(Contains(list.err, "cannot be read (damaged; skipped)")) << list.err;
  EXPECT_EQ(Lines(list.out).size(), kPackages - lost.size()) << list.out;
  for (const auto& id : lost) EXPECT_FALSE(Contains(list.out, id));

  CommandResult fixity = Preserve({"fixity"});
  EXPECT_EQ(fixity.exit_code, 1) << fixity.out << fixity.err;
  EXPECT_TRUE(Contains(fixity.out, "DAMAGED  (records)  records: package records after ")) << fixity.out;
  EXPECT_EQ(Lines(fixity.out).size(), kPackages - lost.size() + 2) << "every readable package, the stretch, "
                                                                       "the summary: "
                                                                    << fixity.out;

  CommandResult check = Preserve({"check"});
  EXPECT_EQ(check.exit_code, 1) << check.out << check.err;
  EXPECT_TRUE(Contains(check.out, "problem: package records after ")) << check.out;

  CommandResult verify = Preserve({"verify", *lost.begin()});
  EXPECT_EQ(verify.exit_code, 1) << verify.out << verify.err;
  EXPECT_TRUE(Contains(verify.out, "cannot be read from the store")) << verify.out;
}

TEST_F(DamagedStore, AStoreThatCannotBeOpenedIsAnError) {
  std::filesystem::path current = Db() / "CURRENT";
  testing::WriteFile(current, std::string("MANIFEST-999999\n"));  // names a file that does not exist
  for (const char* command : {"check", "fixity", "list"}) {
    CommandResult r = Preserve({command});
    EXPECT_EQ(r.exit_code, 4) << command << r.out << r.err;
    EXPECT_TRUE(Contains(r.err, "preserve: error: ")) << r.err;
  }
}

}  // namespace
}  // namespace preserve
