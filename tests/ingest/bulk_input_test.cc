// ReadBulkInput over tests/fixtures/bulk/ (a tree, its zip and its tar.gz) and
// every archive in tests/fixtures/hostile/ (regenerate with
// scripts/make-container-fixtures.sh). A refusal must leave the scratch
// directory as it was: absent, or empty.
#include "preserve/ingest/bulk_input.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "testing.h"

namespace preserve::ingest {
namespace {

namespace fs = std::filesystem;
using preserve::testing::ReadFileOrDie;
using preserve::testing::SourceDir;
using preserve::testing::TempDir;

fs::path Fixture(const std::string& relative) { return SourceDir() / "tests" / "fixtures" / relative; }

// What a submission is, relative to `root`, for comparison.
struct Expected {
  std::string name;
  std::string primary;
  std::string signature;  // "" for none
  std::string metadata;   // "" for none
};

std::string Relative(const std::optional<fs::path>& path, const fs::path& root) {
  return path ? path->lexically_relative(root).generic_string() : "";
}

// The tree's submissions and problems, the same from the directory, the zip and the tar.gz.
const std::vector<Expected> kTreeSubmissions = {
    {"2024/container.asics", "2024/container.asics", "", ""},
    {"2024/notice.pdf", "2024/notice.pdf", "2024/notice.pdf.p7s", ""},
    {"2024/report.p7m", "2024/report.p7m", "", "2024/report.p7m.metadata.json"},
    {"2024/scan.pdf", "2024/scan.pdf", "", ""},
    {"công văn 15.txt", "công văn 15.txt", "công văn 15.txt.p7s", ""},
    {"letter.txt", "letter.txt", "letter.txt.p7s", "letter.txt.metadata.json"},
};
const std::vector<std::string> kTreeProblems = {
    "orphan.p7s: no document named orphan",
    "stray.metadata.json: no document named stray",
};
const std::vector<std::string> kTreeUnsigned = {"unsigned.txt"};

void ExpectTree(const BulkInput& input, const fs::path& root) {
  ASSERT_EQ(input.submissions.size(), kTreeSubmissions.size());
  for (std::size_t i = 0; i < kTreeSubmissions.size(); ++i) {
    const SubmissionFiles& got = input.submissions[i];
    const Expected& want = kTreeSubmissions[i];
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(Relative(got.primary, root), want.primary);
    EXPECT_EQ(Relative(got.detached_signature, root), want.signature) << want.name;
    EXPECT_EQ(Relative(got.metadata, root), want.metadata) << want.name;
    // Byte for byte what the tree holds.
    EXPECT_EQ(ReadFileOrDie(got.primary), ReadFileOrDie(Fixture("bulk/tree") / want.primary)) << want.name;
  }
  EXPECT_EQ(input.problems, kTreeProblems);
  EXPECT_EQ(input.unsigned_files, kTreeUnsigned);
}

bool EmptyOrAbsent(const fs::path& dir) {
  std::error_code ec;
  return !fs::exists(dir, ec) || fs::is_empty(dir, ec);
}

TEST(BulkInput, DirectoryIsPairedInPlace) {
  TempDir scratch;
  auto input = ReadBulkInput(Fixture("bulk/tree"), scratch / "unused");
  ASSERT_TRUE(input.ok()) << input.status().ToString();
  ExpectTree(*input, Fixture("bulk/tree"));
  EXPECT_FALSE(fs::exists(scratch / "unused"));  // a directory is never copied
}

class BulkArchive : public ::testing::TestWithParam<const char*> {};

TEST_P(BulkArchive, IsExtractedIntoScratchAndPairedLikeTheTree) {
  TempDir dir;
  const fs::path scratch = dir / "scratch";
  auto input = ReadBulkInput(Fixture(std::string("bulk/") + GetParam()), scratch);
  ASSERT_TRUE(input.ok()) << input.status().ToString();
  ExpectTree(*input, scratch);
  // Skipped entries (dot files, __MACOSX) are not even written.
  EXPECT_FALSE(fs::exists(scratch / ".hidden.txt"));
  EXPECT_FALSE(fs::exists(scratch / "__MACOSX"));
}

TEST_P(BulkArchive, ExtractsIntoAnEmptyScratchDirectoryToo) {
  TempDir scratch;
  auto input = ReadBulkInput(Fixture(std::string("bulk/") + GetParam()), scratch.path());
  ASSERT_TRUE(input.ok()) << input.status().ToString();
  ExpectTree(*input, scratch.path());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BulkArchive, ::testing::Values("tree.zip", "tree.tar.gz"),
                         [](const auto& param_info) { return std::string(param_info.param).find("zip") != std::string::npos
                                                           ? std::string("Zip")
                                                           : std::string("TarGz"); });

TEST(BulkInput, LinksAndSpecialFilesInADirectoryAreProblemsNotFollowed) {
  TempDir dir;
  const fs::path root = dir / "in";
  fs::create_directories(root / "sub");
  fs::copy_file(Fixture("bulk/tree/letter.txt"), root / "letter.txt");
  fs::copy_file(Fixture("bulk/tree/letter.txt.p7s"), root / "letter.txt.p7s");
  fs::create_symlink("/etc/passwd", root / "passwd.p7m");
  fs::create_directory_symlink("/etc", root / "etc");
  ASSERT_EQ(::mkfifo((root / "sub" / "pipe.p7m").c_str(), 0600), 0);
  auto input = ReadBulkInput(root, dir / "scratch");
  ASSERT_TRUE(input.ok()) << input.status().ToString();
  ASSERT_EQ(input->submissions.size(), 1u);
  EXPECT_EQ(input->submissions[0].name, "letter.txt");
  EXPECT_EQ(input->problems, (std::vector<std::string>{"etc: a symbolic link, not followed",
                                                       "passwd.p7m: a symbolic link, not followed",
                                                       "sub/pipe.p7m: not a regular file"}));
}

TEST(BulkInput, DetachedSignatureOverASignedFileTakesThatFileAsItsDocument) {
  TempDir dir;
  for (const char* name : {"report.p7m", "report.p7m.p7s", "report.p7m.metadata.json", "a.PDF", "a.PDF.P7S"})
    testing::WriteFile(dir / name, std::string_view("x"));
  auto input = ReadBulkInput(dir.path(), dir / "scratch");
  ASSERT_TRUE(input.ok()) << input.status().ToString();
  ASSERT_EQ(input->submissions.size(), 2u);
  EXPECT_EQ(input->submissions[0].name, "a.PDF");
  EXPECT_EQ(Relative(input->submissions[0].detached_signature, dir.path()), "a.PDF.P7S");
  EXPECT_EQ(input->submissions[1].name, "report.p7m");
  EXPECT_EQ(Relative(input->submissions[1].detached_signature, dir.path()), "report.p7m.p7s");
  EXPECT_EQ(Relative(input->submissions[1].metadata, dir.path()), "report.p7m.metadata.json");
  EXPECT_TRUE(input->problems.empty());
}

// Names on disk are bytes: a folder copied from a Windows zip tool holds
// CP1258 names, which are read only with their code page.
TEST(BulkInput, FolderNamesInACodePageNeedIt) {
  TempDir dir;
  const fs::path root = dir / "in";
  fs::create_directories(root);
  const std::string cp1258 = "C\xF4ng v\xE3n.txt";  // "Công văn.txt"
  fs::copy_file(Fixture("bulk/tree/letter.txt"), root / cp1258);
  fs::copy_file(Fixture("bulk/tree/letter.txt.p7s"), root / (cp1258 + ".p7s"));
  auto unknown = ReadBulkInput(root, dir / "scratch");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(unknown.status().message().find("'C%F4ng v%E3n.txt"), std::string::npos) << unknown.status().message();

  auto decoded = ReadBulkInput(root, dir / "scratch", {}, "cp1258");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->submissions.size(), 1u);
  EXPECT_EQ(decoded->submissions[0].name, "C\xC3\xB4ng v\xC4\x83n.txt");
  EXPECT_EQ(decoded->submissions[0].signature_name, "C\xC3\xB4ng v\xC4\x83n.txt.p7s");
  EXPECT_EQ(decoded->submissions[0].primary, root / cp1258);  // read where it is
  EXPECT_TRUE(decoded->problems.empty());
}

// Two files whose names are one name once normalized cannot be told apart in a record: both are problems.
TEST(BulkInput, NamesThatAreOneOnceNormalizedAreBothProblems) {
  TempDir dir;
  const std::string nfc = "c\xC3\xB4ng.txt", nfd = "co\xCC\x82ng.txt";
  for (const std::string& name : {nfc, nfd}) {
    fs::copy_file(Fixture("bulk/tree/letter.txt"), dir / name);
    fs::copy_file(Fixture("bulk/tree/letter.txt.p7s"), dir / (name + ".p7s"));
  }
  auto input = ReadBulkInput(dir.path(), dir / "scratch");
  ASSERT_TRUE(input.ok()) << input.status().ToString();
  EXPECT_TRUE(input->submissions.empty());
  EXPECT_EQ(input->problems.size(), 4u) << ::testing::PrintToString(input->problems);
  for (const std::string& problem : input->problems)
    EXPECT_NE(problem.find("another file is also named"), std::string::npos) << problem;
}

TEST(BulkInput, ZipNamesAreDecodedAndUnreadableOnesAreProblems) {
  TempDir dir;
  auto vietnamese = ReadBulkInput(Fixture("names/cp1258-no-flag.zip"), dir / "a", {}, "cp1258");
  ASSERT_TRUE(vietnamese.ok()) << vietnamese.status().ToString();
  ASSERT_EQ(vietnamese->submissions.size(), 2u);
  // "Công văn Đắk Nông.txt", NFC; its sidecar came with it.
  EXPECT_EQ(vietnamese->submissions[0].name, "C\xC3\xB4ng v\xC4\x83n \xC4\x90\xE1\xBA\xAFk N\xC3\xB4ng.txt");
  EXPECT_TRUE(vietnamese->submissions[0].metadata.has_value());
  EXPECT_EQ(vietnamese->submissions[1].name, "letter.txt");

  auto flagged = ReadBulkInput(Fixture("names/utf8-flag-invalid.zip"), dir / "b");
  ASSERT_TRUE(flagged.ok()) << flagged.status().ToString();
  ASSERT_EQ(flagged->submissions.size(), 1u);
  EXPECT_EQ(flagged->problems, (std::vector<std::string>{
                                   "b%E1o c%E1o.txt.p7s: flagged as UTF-8 in the zip, but not UTF-8",
                                   "b%E1o c%E1o.txt: flagged as UTF-8 in the zip, but not UTF-8"}));
}

struct HostileCase {
  const char* fixture;
  const char* reason;
};

class HostileBulk : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileBulk, IsRefusedAndLeavesAnAbsentScratchAbsent) {
  TempDir dir;
  const fs::path scratch = dir / "scratch";
  auto input = ReadBulkInput(Fixture(std::string("hostile/") + GetParam().fixture), scratch);
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(input.status().message().find(GetParam().reason), std::string::npos) << input.status().message();
  EXPECT_FALSE(fs::exists(scratch));
  // Nothing escaped beside it either.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 0);
}

TEST_P(HostileBulk, IsRefusedAndLeavesAnEmptyScratchEmpty) {
  TempDir scratch;
  auto input = ReadBulkInput(Fixture(std::string("hostile/") + GetParam().fixture), scratch.path());
  ASSERT_FALSE(input.ok());
  EXPECT_TRUE(EmptyOrAbsent(scratch.path()));
  EXPECT_TRUE(fs::exists(scratch.path()));
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, HostileBulk,
    ::testing::Values(HostileCase{"dotdot.zip", "refused unsafe path '../../escaped.txt'"},
                      HostileCase{"absolute.zip", "refused unsafe path '/tmp/preserve-escaped.txt'"},
                      HostileCase{"symlink.zip", "'passwd': not a regular file (symbolic link)"},
                      HostileCase{"duplicate.zip", "'letter.txt': appears twice"},
                      HostileCase{"file-and-directory.zip", "'letter.txt': a file and a directory of that name"},
                      HostileCase{"bomb.zip", "times its own size (a decompression bomb)"},
                      HostileCase{"bomb-lying-size.zip",
                                  "entry 'zeros.bin': unpacks beyond the 1000 bytes its header declares "
                                  "(a decompression bomb?)"},
                      HostileCase{"device.tar", "'null': not a regular file (character device)"},
                      HostileCase{"hardlink.tar", "'passwd': not a regular file (hard link)"},
                      HostileCase{"dotdot.tar.gz", "refused unsafe path '../../escaped.txt'"}),
    [](const auto& param_info) {
      std::string name = param_info.param.fixture;
      std::erase_if(name, [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); });
      return name;
    });

TEST(BulkInput, LimitsAreEnforcedBeforeExtraction) {
  struct Case {
    BulkLimits limits;
    const char* reason;
  };
  BulkLimits few_entries;
  few_entries.max_entries = 3;
  BulkLimits small_files;
  small_files.max_entry_bytes = 100;
  BulkLimits small_total;
  small_total.max_total_bytes = 1000;
  for (const Case& c : {Case{few_entries, "more than 3 entries"}, Case{small_files, "more than the limit of 100"},
                        Case{small_total, "more than 1000 bytes"}}) {
    for (const char* archive : {"bulk/tree.zip", "bulk/tree.tar.gz"}) {
      TempDir dir;
      auto input = ReadBulkInput(Fixture(archive), dir / "scratch", c.limits);
      ASSERT_FALSE(input.ok()) << archive;
      EXPECT_NE(input.status().message().find(c.reason), std::string::npos) << input.status().message();
      EXPECT_FALSE(fs::exists(dir / "scratch"));
    }
  }
}

TEST(BulkInput, NonEmptyScratchIsNotTouched) {
  TempDir scratch;
  testing::WriteFile(scratch / "mine.txt", std::string_view("the caller's"));
  auto input = ReadBulkInput(Fixture("bulk/tree.zip"), scratch.path());
  ASSERT_FALSE(input.ok());
  EXPECT_EQ(input.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::distance(fs::directory_iterator(scratch.path()), fs::directory_iterator()), 1);
}

TEST(BulkInput, MissingInputAndNonArchivesAreErrors) {
  TempDir dir;
  auto missing = ReadBulkInput(dir / "nothing-here", dir / "scratch");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  auto text = ReadBulkInput(Fixture("signed/letter.txt"), dir / "scratch");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir / "scratch"));
}

TEST(SafeArchivePath, RefusesWhatCouldEscapeOrForgeALine) {
  for (const char* good : {"a", "a/b.txt", "dir/", "công văn.txt", "a..b", ".hidden", "./a", "a/./b", "./sub/"})
    EXPECT_TRUE(IsSafeArchivePath(good)) << good;
  for (const char* bad : {"", ".", "./", "/etc/passwd", "../x", "a/../../x", "a//b", "a\\..\\b", "..", "a/..",
                          "line\nbreak", "tab\there", "del\x7f"})
    EXPECT_FALSE(IsSafeArchivePath(bad)) << bad;
}

}  // namespace
}  // namespace preserve::ingest
