// Read-only media: an archival disk, a copy on write-protected storage.
// Every command that only reads works on a store nobody can write, saying on
// stderr when the audit event it would record could not be written; a
// command that changes the store fails with a clear error.
//
// The tests run as root, and root ignores file modes. So the store is made
// read-only with chmod -R a-w, and each command runs under util-linux's
// setpriv (in Debian's base system) with every capability dropped: root then
// meets the modes like any user. Without setpriv the tests fail, never skip.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "store_cli_fixture.h"

namespace preserve {
namespace {

using testing::CommandResult;
using testing::Contains;
using testing::Lines;

// The wrapper that takes every capability away from the command it runs.
const std::vector<std::string> kWithoutCapabilities = {"setpriv", "--inh-caps=-all", "--ambient-caps=-all",
                                                       "--bounding-set=-all", "--"};

void ChangeModes(const std::filesystem::path& root, bool writable) {
  const auto perms = std::filesystem::perms::owner_write | std::filesystem::perms::group_write |
                     std::filesystem::perms::others_write;
  const auto how = writable ? std::filesystem::perm_options::add : std::filesystem::perm_options::remove;
  std::filesystem::permissions(root, writable ? std::filesystem::perms::owner_write : perms, how);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root))
    std::filesystem::permissions(entry.path(), writable ? std::filesystem::perms::owner_write : perms, how);
}

class ReadOnlyStore : public testing::StoreCli {
 protected:
  void SetUp() override {
    StoreCli::SetUp();
    id_ = IngestDetached();
    ASSERT_FALSE(id_.empty());
    CommandResult hold = Preserve({"hold", "add", id_, "--reason", "inspection", "--by", "auditor"});
    ASSERT_EQ(hold.exit_code, 0) << hold.err;
    events_ = Lines(Preserve({"audit-log", "show"}).out).size();
    ChangeModes(store_, false);
  }
  void TearDown() override { ChangeModes(store_, true); }

  CommandResult ReadOnly(const std::vector<std::string>& args) { return Preserve(args, {}, kWithoutCapabilities); }

  std::string id_;
  std::size_t events_ = 0;
};

TEST_F(ReadOnlyStore, TheMechanismReallyKeepsRootOut) {
  // Were capabilities not dropped, every test here would pass without proving anything.
  CommandResult touch = testing::Run({"setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all",
                                      "--", "sh", "-c", "echo x > '" + (store_ / "db" / "probe").string() + "'"});
  EXPECT_NE(touch.exit_code, 0) << "setpriv missing, or the store is writable: " << touch.err;
  EXPECT_FALSE(std::filesystem::exists(store_ / "db" / "probe"));
  CommandResult readable = testing::Run({"setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all",
                                         "--", "cat", (store_ / "tsa" / "ca.pem").string()});
  EXPECT_EQ(readable.exit_code, 0) << readable.err;
}

TEST_F(ReadOnlyStore, EveryReadingCommandWorks) {
  std::filesystem::path out = dir_ / "out";  // writable: only the store is read-only
  std::filesystem::create_directories(out);
  struct Case {
    std::vector<std::string> args;
    std::string says;  // on stdout
  };
  const std::vector<Case> cases = {
      {{"list"}, id_},
      {{"check"}, "consistent"},
      {{"audit-log", "show"}, "  hold  "},
      {{"audit-log", "verify"}, "audit trail: VALID"},
      {{"report", "signatures"}, "submitted 1: accepted 1, already archived 0, refused 0"},
      {{"versions", id_}, "1  " + id_},
      {{"get", id_, "--out", (out / "got").string()}, "letter.txt"},
      {{"backup", (out / "backup").string()}, "backed up the store to"},
      {{"policy", "show"}, "SHA-256"},
      {{"retention", "show", id_}, "permanent"},
      {{"hold", "list"}, "inspection"},
      {{"trust", "list"}, ""},
      {{"gc", "--dry-run"}, "gc: no unreferenced content"},
      {{"repair", "--dry-run"}, "repair: 0 rows to repair"},
  };
  for (const auto& c : cases) {
    CommandResult r = ReadOnly(c.args);
    EXPECT_EQ(r.exit_code, 0) << c.args.front() << ": " << r.out << r.err;
    EXPECT_TRUE(Contains(r.out, c.says)) << c.args.front() << ": " << r.out;
  }
}

// Commands whose use is audited do their work and say that the event could not be written.
TEST_F(ReadOnlyStore, AuditedCommandsWorkAndSayTheirEventWasNotRecorded) {
  std::filesystem::path zip = dir_ / "p.zip";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"verify", id_}, {"export", id_, zip.string()}, {"fixity"}}) {
    CommandResult r = ReadOnly(args);
    EXPECT_EQ(r.exit_code, 0) << args.front() << ": " << r.out << r.err;
    EXPECT_TRUE(Contains(r.err, "preserve " + args.front() + ": not recorded in the audit trail: ")) << r.err;
  }
  EXPECT_TRUE(std::filesystem::exists(zip));
  CommandResult fixity = ReadOnly({"fixity"});
  EXPECT_TRUE(Contains(fixity.out, "OK       " + id_)) << fixity.out;
  // Nothing was written: the trail is as it was.
  ChangeModes(store_, true);
  EXPECT_EQ(Lines(Preserve({"audit-log", "show"}).out).size(), events_);
}

TEST_F(ReadOnlyStore, ACommandThatWritesFailsClearly) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"seal"}, {"hold", "add", id_, "--reason", "x"}, {"gc"}, {"repair"}}) {
    CommandResult r = ReadOnly(args);
    EXPECT_EQ(r.exit_code, 4) << args.front() << ": " << r.out << r.err;
    EXPECT_TRUE(Contains(r.err, "preserve: error: ")) << r.err;
  }
}

}  // namespace
}  // namespace preserve
