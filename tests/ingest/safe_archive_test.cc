// ArchiveReader over zips written byte by byte (tests/testing/raw_zip.h) and
// tars written with libarchive: the names it records (UTF-8 in NFC, whatever
// code page the archive used), the zip directory checks, and the running
// limit that stops an entry at the size its headers declare.
#include "preserve/ingest/safe_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include "raw_zip.h"
#include "testing.h"

namespace preserve::ingest {
namespace {

using testing::StoredMember;
using testing::ZipMember;
using testing::ZipOf;

// "Công văn.txt": as Vietnamese Windows stores it (CP1258), and in NFC UTF-8.
const std::string kCp1258Name = "C\xF4ng v\xE3n.txt";
const std::string kNfcName = "C\xC3\xB4ng v\xC4\x83n.txt";

ZipMember Named(std::string name, bool utf8_flag) {
  ZipMember m = StoredMember(std::move(name), "content\n");
  m.utf8_flag = utf8_flag;
  return m;
}

struct Listing {
  std::vector<std::string> names;   // as recorded
  std::vector<std::string> stored;  // as stored
  std::vector<std::string> skipped;
};

Result<Listing> List(ByteView archive, ArchiveFormat format, const NameRules& rules = {}) {
  PRESERVE_ASSIGN_OR_RETURN(auto reader, ArchiveReader::OpenMemory(archive, "test", format, ArchiveLimits{}, rules));
  Listing out;
  while (true) {
    PRESERVE_ASSIGN_OR_RETURN(std::optional<std::string> name, reader->NextFile());
    if (!name) break;
    out.names.push_back(*name);
    out.stored.push_back(reader->StoredName());
  }
  out.skipped = reader->Skipped();
  return out;
}

TEST(ArchiveNames, AZipNameWithoutTheUtf8FlagIsCp437UnlessACodePageIsGiven) {
  const Bytes zip = ZipOf({Named(kCp1258Name, false), Named("plain.txt", false)});
  auto standard = List(zip, ArchiveFormat::kZip);
  ASSERT_TRUE(standard.ok()) << standard.status().ToString();
  // "C⌠ng vπn.txt": what the zip standard's code page makes of the bytes.
  EXPECT_EQ(standard->names, (std::vector<std::string>{"C\xE2\x8C\xA0ng v\xCF\x80n.txt", "plain.txt"}));
  EXPECT_EQ(standard->stored, (std::vector<std::string>{kCp1258Name, "plain.txt"}));

  auto vietnamese = List(zip, ArchiveFormat::kZip, {"cp1258", false});
  ASSERT_TRUE(vietnamese.ok()) << vietnamese.status().ToString();
  EXPECT_EQ(vietnamese->names, (std::vector<std::string>{kNfcName, "plain.txt"}));
}

TEST(ArchiveNames, AZipNameFlaggedUtf8ThatIsNotIsRefusedOrSkippedNamingIt) {
  const Bytes zip = ZipOf({Named(kCp1258Name, true), Named("plain.txt", false)});
  auto refused = List(zip, ArchiveFormat::kZip, {"cp1258", false});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "test: refused 'C%F4ng v%E3n.txt': flagged as UTF-8 in the zip, but not UTF-8");

  auto skipped = List(zip, ArchiveFormat::kZip, {"", true});
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_EQ(skipped->names, std::vector<std::string>{"plain.txt"});
  EXPECT_EQ(skipped->skipped,
            std::vector<std::string>{"C%F4ng v%E3n.txt: flagged as UTF-8 in the zip, but not UTF-8"});
}

TEST(ArchiveNames, AnNfdNameIsRecordedNfcAndStoredAsItWas) {
  const std::string nfd = "Co\xCC\x82ng va\xCC\x86n.txt";
  const Bytes zip = ZipOf({Named(nfd, true)});
  auto listed = List(zip, ArchiveFormat::kZip);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->names, std::vector<std::string>{kNfcName});
  EXPECT_EQ(listed->stored, std::vector<std::string>{nfd});
}

// A tar whose one file is named `name`, bytes as they are (ustar keeps them).
Bytes TarWith(const std::string& name) {
  Bytes out(1 << 16);
  std::size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_ustar(a);
  archive_write_open_memory(a, out.data(), out.size(), &used);
  archive_entry* e = archive_entry_new();
  archive_entry_copy_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, 8);
  archive_write_header(a, e);
  archive_write_data(a, "content\n", 8);
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

TEST(ArchiveNames, ATarNameThatIsNotUtf8NeedsItsCodePage) {
  const Bytes tar = TarWith(kCp1258Name);
  auto unknown = List(tar, ArchiveFormat::kZipOrTar);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(unknown.status().message().find("'C%F4ng v%E3n.txt': the name is not UTF-8"), std::string::npos)
      << unknown.status().message();

  auto decoded = List(tar, ArchiveFormat::kZipOrTar, {"cp1258", false});
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->names, std::vector<std::string>{kNfcName});

  auto undefined = List(TarWith("a\x81.txt"), ArchiveFormat::kZipOrTar, {"cp1258", false});  // 0x81: not CP1258
  ASSERT_FALSE(undefined.ok());
  EXPECT_EQ(undefined.status().message(), "test: refused 'a%81.txt': the name is neither UTF-8 nor cp1258");
}

TEST(ZipDirectory, ALocalHeaderThatNamesTheEntryOtherwiseIsRefused) {
  ZipMember m = StoredMember("letter.txt", "content\n");
  m.local_name = "letter.exe";
  auto listed = List(ZipOf({m}), ArchiveFormat::kZip);
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.status().message(), "test: refused the archive: an entry named otherwise in its local header");
}

// The non-recursive zip bomb: central directory records sharing one entry's data.
TEST(ZipDirectory, EntriesThatShareTheirDataAreRefused) {
  ZipMember first = testing::DeflatedZeros("a.bin", 1);
  ZipMember second = first;
  second.name = "b.bin";
  second.shares_entry = 0;
  auto listed = List(ZipOf({first, second}), ArchiveFormat::kZip);
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.status().message(), "test: refused the archive: entries whose local headers overlap");
}

// Headers that say 1000 bytes over data that unpacks to 1 MiB: the sink gets
// no more than the 1000 bytes, and the refusal says what and the bound.
TEST(ArchiveLimitsTest, AnEntryStopsAtTheSizeItsHeadersDeclare) {
  ZipMember bomb = testing::DeflatedZeros("zeros.bin", 1);
  bomb.size = 1000;
  const Bytes zip = ZipOf({bomb});
  auto reader = ArchiveReader::OpenMemory(zip, "bomb.zip", ArchiveFormat::kZip, ArchiveLimits{});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto name = (*reader)->NextFile();
  ASSERT_TRUE(name.ok() && *name) << name.status().ToString();
  EXPECT_EQ((*reader)->DeclaredSize(), std::optional<std::uint64_t>(1000));
  std::uint64_t received = 0;
  Status read = (*reader)->ReadContent([&received](ByteView piece) {
    received += piece.size();
    return Status::Ok();
  });
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.message(),
            "bomb.zip: refused entry 'zeros.bin': unpacks beyond the 1000 bytes its header declares (a decompression "
            "bomb?)");
  EXPECT_LE(received, 1000u);
}

// ---- Bundles as users make them: `tar -czf b.tar.gz -C dir .` and `zip -r`.

// One entry of a tar written with libarchive: a regular file unless `type`
// says otherwise; `link` is a symbolic link's target, or a hard link's.
struct TarMember {
  std::string name;
  unsigned type = AE_IFREG;
  std::string content;
  std::string link;
  bool hardlink = false;
};

Bytes TarOf(const std::vector<TarMember>& members) {
  Bytes out(1 << 16);
  std::size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open_memory(a, out.data(), out.size(), &used);
  for (const TarMember& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, m.name.c_str());
    archive_entry_set_filetype(e, m.type);
    archive_entry_set_perm(e, m.type == AE_IFDIR ? 0755 : 0644);
    if (m.type == AE_IFLNK) archive_entry_copy_symlink(e, m.link.c_str());
    if (m.hardlink) archive_entry_copy_hardlink(e, m.link.c_str());
    archive_entry_set_size(e, m.type == AE_IFREG && !m.hardlink ? static_cast<la_int64_t>(m.content.size()) : 0);
    archive_write_header(a, e);
    if (m.type == AE_IFREG && !m.hardlink) archive_write_data(a, m.content.data(), m.content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

TarMember Directory(std::string name) { return {std::move(name), AE_IFDIR, "", "", false}; }
TarMember File(std::string name) { return {std::move(name), AE_IFREG, "content\n", "", false}; }

TEST(BundleNames, DotEntriesAndDirectoriesAreOrdinary) {
  // What GNU tar writes for `tar -czf b.tar.gz -C dir .`, with a "." inside a name too.
  const Bytes tar = TarOf({Directory("./"), File("./letter.pdf"), Directory("./sub/"), File("./sub/notice.pdf"),
                           Directory("a/"), File("a/./b.pdf"), Directory("a/./c/")});
  auto listed = List(tar, ArchiveFormat::kZipOrTar);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->names, (std::vector<std::string>{"letter.pdf", "sub/notice.pdf", "a/b.pdf"}));
  // The stored name is still the archive's own.
  EXPECT_EQ(listed->stored, (std::vector<std::string>{"./letter.pdf", "./sub/notice.pdf", "a/./b.pdf"}));

  const Bytes zip = ZipOf({StoredMember("./", ""), StoredMember("./sub/", ""), StoredMember("./sub/a.txt", "x"),
                           StoredMember("b.txt", "y")});
  auto zipped = List(zip, ArchiveFormat::kZipOrTar);
  ASSERT_TRUE(zipped.ok()) << zipped.status().ToString();
  EXPECT_EQ(zipped->names, (std::vector<std::string>{"sub/a.txt", "b.txt"}));
}

TEST(BundleNames, TheSameFileNamedWithAndWithoutDotIsNamedTwice) {
  auto listed = List(TarOf({File("./letter.pdf"), File("letter.pdf")}), ArchiveFormat::kZipOrTar);
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.status().message(), "test: refused 'letter.pdf': appears twice");
}

TEST(BundleNames, WhatClimbsOutOrIsNotAFileIsRefusedNamingTheEntry) {
  struct Case {
    std::vector<TarMember> members;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{File("../x")}, "test: refused unsafe path '../x'"},
      {{File("./../x")}, "test: refused unsafe path './../x'"},
      {{File("/abs")}, "test: refused unsafe path '/abs'"},
      {{File("a/../../x")}, "test: refused unsafe path 'a/../../x'"},
      {{Directory("./"), Directory("../up/")}, "test: refused unsafe path '../up'"},
      {{File(".")}, "test: refused unsafe path '.'"},
      {{{"./passwd", AE_IFLNK, "", "/etc/passwd", false}}, "test: refused './passwd': not a regular file (symbolic link)"},
      {{File("./a.txt"), {"./b.txt", AE_IFREG, "", "./a.txt", true}},
       "test: refused './b.txt': not a regular file (hard link)"},
      {{{"./null", AE_IFCHR, "", "", false}}, "test: refused './null': not a regular file (character device)"},
      {{{"./disk", AE_IFBLK, "", "", false}}, "test: refused './disk': not a regular file (block device)"},
      {{{"./pipe", AE_IFIFO, "", "", false}}, "test: refused './pipe': not a regular file (FIFO)"},
  };
  for (const Case& c : cases) {
    auto listed = List(TarOf(c.members), ArchiveFormat::kZipOrTar);
    ASSERT_FALSE(listed.ok()) << c.message;
    EXPECT_EQ(listed.status().code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(listed.status().message(), c.message);
  }
}

TEST(BundleNames, NormalizeArchivePathDropsDotPartsOnly) {
  EXPECT_EQ(NormalizeArchivePath("./"), std::optional<std::string>(""));
  EXPECT_EQ(NormalizeArchivePath("."), std::optional<std::string>(""));
  EXPECT_EQ(NormalizeArchivePath("./sub/"), std::optional<std::string>("sub"));
  EXPECT_EQ(NormalizeArchivePath("./letter.pdf"), std::optional<std::string>("letter.pdf"));
  EXPECT_EQ(NormalizeArchivePath("a/./b"), std::optional<std::string>("a/b"));
  EXPECT_EQ(NormalizeArchivePath("a/."), std::optional<std::string>("a"));
  EXPECT_EQ(NormalizeArchivePath(".hidden"), std::optional<std::string>(".hidden"));
  for (const char* bad : {"", "/", "/abs", "../x", "./../x", "a/../b", "a/../../x", "a//b", ".//a", "..", "a\\b"})
    EXPECT_EQ(NormalizeArchivePath(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace preserve::ingest
