// Inputs that must not exhaust anything (issue 13, part 5), end to end through
// the real executable: explicit inputs are regular files only; verify-package
// holds a bounded amount in memory whatever its entries' sizes; unpacking is
// bounded by the headers and the scratch limit, and what a killed ingest left
// in the scratch space is removed by the next one.
//
// The zips with huge entries and lying headers are written byte by byte
// (tests/testing/raw_zip.h).
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <csignal>
#include <random>

#include "raw_zip.h"
#include "store_cli_fixture.h"

namespace preserve::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

// The entries of a zip, each to be stored as it is.
std::vector<ZipMember> Entries(const fs::path& zip) {
  std::vector<ZipMember> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_zip(a);
  EXPECT_EQ(archive_read_open_filename(a, zip.c_str(), 1 << 16), ARCHIVE_OK) << archive_error_string(a);
  archive_entry* entry = nullptr;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    std::string content;
    char buffer[1 << 16];
    for (la_ssize_t n; (n = archive_read_data(a, buffer, sizeof buffer)) > 0;)
      content.append(buffer, static_cast<std::size_t>(n));
    out.push_back(StoredMember(archive_entry_pathname(entry), content));
  }
  archive_read_free(a);
  return out;
}

class InputBoundsCli : public StoreCli {
 protected:
  // `preserve ARGS`, killed if it runs past `limit`.
  CommandResult Bounded(std::vector<std::string> args, seconds limit, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), PRESERVE_BIN);
    std::vector<std::string> all_env = {"PRESERVE_STORE=" + store_.string()};
    all_env.insert(all_env.end(), env.begin(), env.end());
    return testing::Run(args, all_env, {.drop_inherited_preserve_env = true, .kill_after = limit});
  }

  std::vector<fs::path> ScratchEntries() const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(store_ / "scratch", ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      out.push_back(it->path().filename());
    return out;
  }
};

TEST_F(InputBoundsCli, DevicesAndFifosOnTheCommandLineAreRefusedAtOnceNamingThem) {
  const fs::path in = dir_ / "in";
  fs::create_directories(in);
  fs::create_symlink("/dev/zero", in / "zero.txt");
  fs::copy_file(SignedFixturePath("letter.txt.p7s"), in / "zero.txt.p7s");
  fs::create_symlink("/dev/zero", in / "zero.p7m");
  fs::create_symlink("/dev/zero", in / "zero.zip");
  ASSERT_EQ(::mkfifo((in / "fifo.pdf").c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo((in / "fifo.json").c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo((in / "fifo.zip").c_str(), 0600), 0);
  const std::string letter = SignedFixturePath("letter.txt");
  struct Case {
    std::vector<std::string> args;
    std::string named;  // what the message must name
    std::string kind;
  };
  const std::vector<Case> cases = {
      {{"ingest", "--trust", kCliRootCa, (in / "zero.txt").string()}, "zero.txt (a link to /dev/zero)",
       "character device"},
      {{"ingest", "--trust", kCliRootCa, (in / "zero.p7m").string()}, "zero.p7m (a link to /dev/zero)",
       "character device"},
      {{"ingest", "--trust", kCliRootCa, (in / "zero.zip").string()}, "zero.zip (a link to /dev/zero)",
       "character device"},
      {{"ingest", "--trust", kCliRootCa, (in / "fifo.pdf").string()}, "fifo.pdf", "FIFO"},
      {{"ingest", "--trust", kCliRootCa, letter, "--signature", "/dev/zero"}, "/dev/zero", "character device"},
      {{"ingest", "--trust", kCliRootCa, letter, "--signature", SignedFixturePath("letter.txt.p7s"), "--metadata",
        (in / "fifo.json").string()},
       "fifo.json", "FIFO"},
      {{"verify-package", (in / "fifo.zip").string()}, "fifo.zip", "FIFO"},
      {{"verify-package", (in / "zero.zip").string()}, "zero.zip (a link to /dev/zero)", "character device"},
  };
  for (const Case& c : cases) {
    CommandResult r = Bounded(c.args, seconds(60));
    const std::string what = ::testing::PrintToString(c.args);
    EXPECT_FALSE(r.kill_timer_fired) << what;
    EXPECT_LT(r.elapsed, seconds(10)) << what;
    EXPECT_NE(r.exit_code, 0) << what;
    EXPECT_TRUE(Contains(r.err, c.named + ": is a " + c.kind + ", not a regular file")) << what << "\n" << r.err;
  }
  EXPECT_EQ(Preserve({"list"}).out, "");
}

// A 4 MB zip whose entries unpack to 4 x 1023 MiB: a package exported by
// preserve with four such entries added under data/, and the four alone.
TEST_F(InputBoundsCli, VerifyPackageOfHugeEntriesIsBoundedInMemoryAndTime) {
  const std::string id = IngestDetached();
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(Preserve({"export", id, (dir_ / "exported.zip").string()}).exit_code, 0);
  std::vector<ZipMember> package = Entries(dir_ / "exported.zip");
  ASSERT_GT(package.size(), 3u);
  std::vector<ZipMember> huge;
  for (int i = 1; i <= 4; ++i) huge.push_back(DeflatedZeros("data/huge-" + std::to_string(i) + ".bin", 1023));
  std::vector<ZipMember> with_package = package;
  with_package.insert(with_package.end(), huge.begin(), huge.end());
  WriteFile(dir_ / "huge-package.zip", ZipOf(with_package));
  WriteFile(dir_ / "huge-alone.zip", ZipOf(huge));
  EXPECT_LT(fs::file_size(dir_ / "huge-package.zip"), 5u << 20);

  // Every huge entry is hashed for the evidence (it is a data object), a
  // piece at a time: the package is INVALID, as it holds what it does not list.
  CommandResult r = Bounded({"verify-package", (dir_ / "huge-package.zip").string()}, seconds(120));
  EXPECT_FALSE(r.kill_timer_fired);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "huge-4.bin")) << r.out;
  EXPECT_TRUE(Contains(r.out, "not listed in the manifest")) << r.out;
  EXPECT_LT(r.elapsed, seconds(30));
  EXPECT_LT(r.peak_rss_kib, 300u << 10) << "peak RSS " << r.peak_rss_kib << " KiB";
  std::cout << "verify-package of 4 x 1023 MiB entries: " << r.elapsed.count() / 1000 << " ms, peak RSS "
            << r.peak_rss_kib / 1024 << " MiB\n";

  CommandResult alone = Bounded({"verify-package", (dir_ / "huge-alone.zip").string()}, seconds(120));
  EXPECT_EQ(alone.exit_code, 4) << alone.err;
  EXPECT_TRUE(Contains(alone.err, "not a preserve package (no evidence.ers)")) << alone.err;
  EXPECT_LT(alone.elapsed, seconds(5));
  EXPECT_LT(alone.peak_rss_kib, 300u << 10);
}

// A zip entry whose headers declare 1000 bytes and which unpacks to 1023 MiB:
// stopped as its output passes what it declared, before that reaches the
// scratch space, and said so.
TEST_F(InputBoundsCli, ABombWhoseHeadersLieIsStoppedAtItsDeclaredSize) {
  ZipMember bomb = DeflatedZeros("zeros.bin", 1023);
  bomb.size = 1000;
  WriteFile(dir_ / "lying.zip", ZipOf({StoredMember("letter.txt", "a letter\n"), bomb}));
  CommandResult r = Bounded({"ingest", "--trust", kCliRootCa, (dir_ / "lying.zip").string()}, seconds(60));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(Contains(r.err, "lying.zip: refused entry 'zeros.bin': unpacks beyond the 1000 bytes its header "
                              "declares (a decompression bomb?)"))
      << r.err;
  EXPECT_FALSE(Contains(r.err, "No space left")) << r.err;
  EXPECT_LT(r.elapsed, seconds(10));
  EXPECT_TRUE(ScratchEntries().empty());
  EXPECT_EQ(Preserve({"list"}).out, "");
}

TEST_F(InputBoundsCli, ABundleLargerThanTheScratchLimitIsRefusedBeforeUnpacking) {
  // Incompressible, so that only the scratch limit, not the ratio, can refuse it.
  std::mt19937 random(13);
  auto noise = [&random](std::size_t size) {
    std::string out(size, '\0');
    for (char& c : out) c = static_cast<char>(random());
    return out;
  };
  WriteFile(dir_ / "large.zip", ZipOf({StoredMember("a.bin", noise(3 << 20)), StoredMember("b.bin", noise(3 << 20))}));
  CommandResult r =
      Bounded({"ingest", "--trust", kCliRootCa, "--scratch-limit", "4M", (dir_ / "large.zip").string()}, seconds(60));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(Contains(r.err, "large.zip: refused 'b.bin': the archive unpacks to more than 4194304 bytes")) << r.err;
  EXPECT_TRUE(ScratchEntries().empty());

  CommandResult usage = Preserve({"ingest", "--trust", kCliRootCa, "--scratch-limit", "lots", "x.zip"});
  EXPECT_EQ(usage.exit_code, 64) << usage.err;
  EXPECT_TRUE(Contains(usage.err, "--scratch-limit: 'lots' is not a size")) << usage.err;
}

// What an ingest killed with SIGKILL (no destructor runs) left in the scratch
// space is removed by the next ingest, whatever it ingests; what belongs to a
// run still alive, or is not a run's, is left alone.
TEST_F(InputBoundsCli, ScratchLeftByAKilledIngestIsRemovedByTheNext) {
  const std::string bundle = (kCliFixtures / "bulk" / "tree.zip").string();
  CommandResult killed = Preserve({"ingest", "--trust", kCliRootCa, bundle},
                                  {"PRESERVE_FAULT_POINT=cli.ingest.after_unpack"});
  ASSERT_EQ(killed.term_signal, SIGKILL) << killed.err;
  const std::vector<fs::path> left = ScratchEntries();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(fs::exists(store_ / "scratch" / left.front() / "0" / "letter.txt"));

  // A run that still lives (this test's own pid), and a file of somebody else's.
  const fs::path alive = store_ / "scratch" / ("ingest-" + std::to_string(::getpid()) + "-Alive1");
  fs::create_directories(alive);
  WriteFile(store_ / "scratch" / "notes.txt", "not a run's\n");

  CommandResult next = Preserve({"ingest", "--trust", kCliRootCa, SignedFixturePath("letter.txt"), "--signature",
                                 SignedFixturePath("letter.txt.p7s")});
  EXPECT_EQ(next.exit_code, 0) << next.err;
  EXPECT_TRUE(Contains(next.err, "removed the scratch an interrupted ingest left: " +
                                     (store_ / "scratch" / left.front()).string()))
      << next.err;
  EXPECT_FALSE(fs::exists(store_ / "scratch" / left.front()));
  EXPECT_TRUE(fs::exists(alive));
  EXPECT_TRUE(fs::exists(store_ / "scratch" / "notes.txt"));

  // A run that ends by itself leaves nothing.
  fs::remove_all(alive);
  fs::remove(store_ / "scratch" / "notes.txt");
  CommandResult whole = Preserve({"ingest", "--trust", kCliRootCa, bundle});
  EXPECT_EQ(whole.exit_code, 3) << whole.err;  // the tree holds unpaired files
  EXPECT_TRUE(ScratchEntries().empty()) << ::testing::PrintToString(ScratchEntries());
}

}  // namespace
}  // namespace preserve::testing
