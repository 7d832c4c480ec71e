// End-to-end: retention, holds and deletion through the real executable, and
// verify / export recorded in the audit trail, or saying plainly that they
// could not be because another process holds the store for writing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>

#include "preserve/archive/archive.h"
#include "preserve/util/digest.h"
#include "testing.h"

namespace preserve {
namespace {

using testing::CommandResult;
using testing::TempDir;

const std::filesystem::path kFixtures = testing::SourceDir() / "tests" / "fixtures";
const std::string kRootCa = (kFixtures / "pki" / "root-ca.pem").string();

std::string Fixture(const std::string& name) { return (kFixtures / "signed" / name).string(); }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class RetentionCli : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(Preserve({"init"}).exit_code, 0); }

  // `now`: the simulated time (--now), empty for the real one.
  CommandResult Preserve(std::vector<std::string> args, const std::string& now = "") {
    args.insert(args.begin(), PRESERVE_BIN);
    if (!now.empty()) args.push_back("--now=" + now);
    return testing::Run(args, {"PRESERVE_STORE=" + store_.string()});
  }

  std::string Ingest(const std::vector<std::string>& files) {
    std::vector<std::string> args = {"ingest", "--ids-only", "--allow-duplicate", "--trust", kRootCa};
    args.insert(args.end(), files.begin(), files.end());
    CommandResult r = Preserve(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }

  std::vector<std::string> AuditLog() { return Lines(Preserve({"audit-log", "show"}).out); }

  TempDir dir_;
  std::filesystem::path store_ = dir_ / "store";
};

TEST_F(RetentionCli, DeleteIsRefusedUntilRetentionEndsAndWhileHeldThenLeavesATombstone) {
  std::string id = Ingest({Fixture("letter.txt"), "--signature", Fixture("letter.txt.p7s")});
  std::string other = Ingest({Fixture("letter.p7m")});

  CommandResult permanent = Preserve({"delete", id, "--reason", "clearing out"});
  EXPECT_EQ(permanent.exit_code, 4);
  EXPECT_TRUE(Contains(permanent.err, "is kept permanently")) << permanent.err;

  CommandResult set = Preserve({"retention", "set", id, "--years", "1", "--reason", "appraisal 7/2026", "--by", "an"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_TRUE(Contains(set.out, id + ": kept until ")) << set.out;
  CommandResult early = Preserve({"delete", id, "--reason", "retention ended"});
  EXPECT_EQ(early.exit_code, 4);
  EXPECT_TRUE(Contains(early.err, "preserve: error: package " + id + " must be kept until ")) << early.err;

  CommandResult hold = Preserve({"hold", "add", id, "--reason", "court case 12/2029", "--by", "legal"});
  ASSERT_EQ(hold.exit_code, 0) << hold.err;
  EXPECT_EQ(hold.out, "hold 1 placed on " + id + "\n");
  CommandResult list = Preserve({"hold", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Contains(list.out, "\"package\":\"" + id + "\",\"hold\":1,\"reason\":\"court case 12/2029\"")) << list.out;
  CommandResult held = Preserve({"delete", id, "--reason", "retention ended"}, "2030-01-01");
  EXPECT_EQ(held.exit_code, 4);
  EXPECT_TRUE(Contains(held.err, "is under hold 1 (court case 12/2029, placed by legal")) << held.err;

  CommandResult lifted = Preserve({"hold", "remove", id, "--reason", "judgment final"}, "2030-01-01");
  ASSERT_EQ(lifted.exit_code, 0) << lifted.err;
  EXPECT_EQ(lifted.out, "hold 1 on " + id + " lifted\n");
  CommandResult deleted = Preserve({"delete", id, "--reason", "destruction list 3/2030", "--json"}, "2030-01-02");
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_TRUE(Contains(deleted.out, "\"package\":\"" + id + "\",\"deleted_at\":\"2030-01-02T00:00:00Z\"")) << deleted.out;
  EXPECT_TRUE(Contains(deleted.out, "\"erased\":2")) << deleted.out;  // the signature and the manifest

  for (const auto& line : Lines(Preserve({"list"}).out)) {
    if (line.rfind(id, 0) == 0) {
      EXPECT_TRUE(Contains(line, "  deleted")) << line;
    }
  }
  EXPECT_TRUE(Contains(Preserve({"list", "--json"}).out, "\"state\":\"deleted\""));
  CommandResult show = Preserve({"retention", "show", id});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_TRUE(Contains(show.out, "deleted: 2030-01-02T00:00:00Z by ")) << show.out;
  EXPECT_TRUE(Contains(show.out, "(destruction list 3/2030)")) << show.out;

  CommandResult verify = Preserve({"verify", id}, "2030-01-02");
  EXPECT_EQ(verify.exit_code, 2) << verify.out << verify.err;
  EXPECT_TRUE(Contains(verify.out, "Package " + id + ": INDETERMINATE")) << verify.out;
  EXPECT_TRUE(Contains(verify.out, "deleted at 2030-01-02T00:00:00Z")) << verify.out;
  CommandResult exported = Preserve({"export", id, (dir_ / "out.zip").string()});
  EXPECT_EQ(exported.exit_code, 4);
  EXPECT_TRUE(Contains(exported.err, "package " + id + " was deleted at 2030-01-02T00:00:00Z")) << exported.err;
  CommandResult get = Preserve({"get", id, "--out", (dir_ / "got").string()});
  EXPECT_EQ(get.exit_code, 4);
  EXPECT_TRUE(Contains(get.err, "its content is gone")) << get.err;

  // The other package shares the letter and the certificates, and is whole.
  EXPECT_EQ(Preserve({"verify", other}).exit_code, 0);
  CommandResult check = Preserve({"check"});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_EQ(Preserve({"fixity"}).exit_code, 0);

  std::string log;
  for (const auto& line : AuditLog()) log += line + "\n";
  EXPECT_TRUE(Contains(log, "  retention  package=" + id)) << log;
  EXPECT_TRUE(Contains(log, "  hold  package=" + id + "  hold=1  reason=court case 12/2029  by=legal")) << log;
  EXPECT_TRUE(Contains(log, "  release  package=" + id)) << log;
  EXPECT_TRUE(Contains(log, "  delete  package=" + id + "  reason=destruction list 3/2030")) << log;
  EXPECT_TRUE(Contains(log, "  verify  package=" + id + "  verdict=INDETERMINATE")) << log;
  EXPECT_EQ(Preserve({"audit-log", "verify"}).exit_code, 0);
}

// A folder handed in twice by mistake, with --allow-duplicate: the second
// package goes as a duplicate of the first, whatever its retention, but not
// under a hold, and not as a duplicate of a package that holds other documents.
TEST_F(RetentionCli, AnAccidentalDuplicateIsDeletedWhileTheIdenticalPackageStays) {
  const std::string first = Ingest({Fixture("letter.p7m")});
  const std::string second = Ingest({Fixture("letter.p7m")});
  const std::string other = Ingest({Fixture("letter.txt"), "--signature", Fixture("letter.txt.p7s")});
  ASSERT_NE(first, second);

  CommandResult not_same = Preserve({"delete", second, "--duplicate-of", other, "--reason", "ingested twice"});
  EXPECT_EQ(not_same.exit_code, 4);
  EXPECT_TRUE(Contains(not_same.err, "is not a duplicate of package " + other)) << not_same.err;
  ASSERT_EQ(Preserve({"hold", "add", second, "--reason", "inspection", "--by", "an"}).exit_code, 0);
  CommandResult held = Preserve({"delete", second, "--duplicate-of", first, "--reason", "ingested twice"});
  EXPECT_EQ(held.exit_code, 4);
  EXPECT_TRUE(Contains(held.err, "lift the holds first")) << held.err;
  ASSERT_EQ(Preserve({"hold", "remove", second, "--reason", "inspection over", "--by", "an"}).exit_code, 0);

  // Kept permanently (the default retention), yet deleted: its documents stay in `first`.
  CommandResult deleted = Preserve({"delete", second, "--duplicate-of", first, "--reason", "ingested twice"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_TRUE(Contains(deleted.out, "deleted " + second)) << deleted.out;
  EXPECT_EQ(Preserve({"verify", first}).exit_code, 0);
  bool audited = false;
  for (const auto& line : AuditLog()) audited = audited || (Contains(line, "delete") && Contains(line, first));
  EXPECT_TRUE(audited);
  // Handed in once more, it is a duplicate of the package that stays.
  CommandResult again = Preserve({"ingest", "--trust", kRootCa, Fixture("letter.p7m")});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(Contains(again.out, "-> duplicate of " + first)) << again.out;
  CommandResult itself = Preserve({"delete", first, "--duplicate-of", first, "--reason", "x"});
  EXPECT_EQ(itself.exit_code, 4);
  EXPECT_TRUE(Contains(itself.err, "cannot be a duplicate of itself")) << itself.err;
}

TEST_F(RetentionCli, UsageErrors) {
  std::string id = Ingest({Fixture("letter.p7m")});
  EXPECT_EQ(Preserve({"delete", id}).exit_code, 64);  // --reason is required
  EXPECT_EQ(Preserve({"hold"}).exit_code, 64);
  EXPECT_EQ(Preserve({"hold", "add", id}).exit_code, 64);
  EXPECT_EQ(Preserve({"retention", "set", id, "--reason", "r"}).exit_code, 64);  // neither --years nor --permanent
  EXPECT_EQ(Preserve({"retention", "set", id, "--years", "0", "--reason", "r"}).exit_code, 4);
  EXPECT_EQ(Preserve({"hold", "remove", id, "--reason", "r"}).exit_code, 4);  // no hold in force
  EXPECT_EQ(Preserve({"delete", "no-such-package", "--reason", "r"}).exit_code, 4);
  for (const char* command : {"delete", "hold", "retention"}) EXPECT_EQ(Preserve({command, "--help"}).exit_code, 0);
  EXPECT_EQ(Preserve({"hold", "add", "--help"}).exit_code, 0);
  EXPECT_TRUE(Contains(Preserve({"--help"}).out, "  delete  "));
}

TEST_F(RetentionCli, VerifyAndExportAreAuditedOrSayWhyNot) {
  std::string id = Ingest({Fixture("letter.p7m")});
  ASSERT_EQ(Preserve({"verify", id}).exit_code, 0);
  const std::filesystem::path zip = dir_ / "letter.zip";
  CommandResult exported = Preserve({"export", id, zip.string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  std::vector<std::string> log = AuditLog();
  ASSERT_GE(log.size(), 2u);
  EXPECT_TRUE(Contains(log[log.size() - 2], "  verify  package=" + id + "  verdict=VALID")) << log[log.size() - 2];
  EXPECT_TRUE(Contains(log.back(), "  export  package=" + id + "  destination=" + zip.string() + "  zip_sha256=" +
                                       ToHex(DigestFile(HashAlgorithm::kSha256, zip).value())))
      << log.back();

  {
    // Another process holds the store for writing: both still run, read-only, and say so.
    ManualClock clock(std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
    auto writer = archive::Archive::Open(store_, clock, {.mode = archive::OpenMode::kWritable});
    ASSERT_TRUE(writer.ok()) << writer.status().message();
    CommandResult verify = Preserve({"verify", id});
    EXPECT_EQ(verify.exit_code, 0) << verify.err;
    EXPECT_TRUE(Contains(verify.out, "Package " + id + ": VALID")) << verify.out;
    EXPECT_EQ(Lines(verify.err).size(), 1u) << verify.err;
    EXPECT_TRUE(Contains(verify.err, "preserve verify: not recorded in the audit trail: ")) << verify.err;
    EXPECT_TRUE(Contains(verify.err, "(pid " + std::to_string(::getpid()) + ")")) << verify.err;
    CommandResult again = Preserve({"export", id, (dir_ / "again.zip").string()});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_TRUE(Contains(again.err, "preserve export: not recorded in the audit trail: ")) << again.err;
    EXPECT_TRUE(std::filesystem::exists(dir_ / "again.zip"));
  }
  EXPECT_EQ(AuditLog().size(), log.size());
  EXPECT_EQ(Preserve({"audit-log", "verify"}).exit_code, 0);
}

}  // namespace
}  // namespace preserve
