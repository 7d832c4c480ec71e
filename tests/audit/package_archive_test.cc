// Exported zips: round trip, and hostile archives refused before anything is used.
#include "preserve/audit/package_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include "testing.h"

namespace preserve::audit {
namespace {

using preserve::testing::TempDir;

struct Member {
  Member(std::string n, std::string b, mode_t t = AE_IFREG, std::string link = "")
      : name(std::move(n)), body(std::move(b)), type(t), link_target(std::move(link)) {}
  std::string name;
  std::string body;
  mode_t type;
  std::string link_target;
};

// Writes a zip with exactly these members, hostile ones included.
void WriteRawZip(const std::filesystem::path& path, const std::vector<Member>& members) {
  struct archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const auto& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_filetype(e, m.type);
    archive_entry_set_perm(e, 0644);
    if (!m.link_target.empty()) archive_entry_set_symlink(e, m.link_target.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(m.body.size()));
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (!m.body.empty()) archive_write_data(a, m.body.data(), m.body.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

TEST(PackageArchive, RoundTripKeepsEveryByte) {
  TempDir dir;
  PackageContents in;
  in.data["documents/công-văn.txt"] = ToBytes("Công văn số 6587/UBND-CNXD");
  in.data["manifest.json"] = ToBytes("{}");
  in.evidence_record = {0x30, 0x03, 0x02, 0x01, 0x01};
  ASSERT_TRUE(WritePackageZip(in, dir / "p.zip").ok());
  auto out = ReadPackageZip(dir / "p.zip");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->data, in.data);
  EXPECT_EQ(out->evidence_record, in.evidence_record);
}

TEST(PackageArchive, UnwritableDestinationLeavesNothing) {
  TempDir dir;
  PackageContents in;
  in.data["manifest.json"] = ToBytes("{}");
  Status s = WritePackageZip(in, dir / "missing-dir" / "p.zip");
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "missing-dir"));
}

struct HostileCase {
  const char* label;
  std::vector<Member> members;
  const char* message;
};

class HostileZip : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileZip, IsRefusedWithAReason) {
  TempDir dir;
  std::vector<Member> members = {{"evidence.ers", "x"}, {"data/manifest.json", "{}"}};
  members.insert(members.end(), GetParam().members.begin(), GetParam().members.end());
  WriteRawZip(dir / "h.zip", members);
  auto read = ReadPackageZip(dir / "h.zip");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find(GetParam().message), std::string::npos) << read.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HostileZip,
    ::testing::Values(HostileCase{"DotDot", {{"data/../../etc/passwd", "x"}}, "unsafe path"},
                      HostileCase{"Absolute", {{"/etc/passwd", "x"}}, "unsafe path"},
                      HostileCase{"Symlink", {{"data/link", "", AE_IFLNK, "/etc/passwd"}}, "not a regular file"},
                      HostileCase{"Duplicate", {{"data/a", "1"}, {"data/a", "2"}}, "appears twice"},
                      HostileCase{"Backslash", {{"data\\..\\x", "1"}}, "unsafe path"}),
    [](const auto& param_info) { return std::string(param_info.param.label); });

TEST(PackageArchive, NotAZipIsRefused) {
  TempDir dir;
  testing::WriteFile(dir / "x.zip", "definitely not a zip file");
  auto read = ReadPackageZip(dir / "x.zip");
  ASSERT_FALSE(read.ok());
}

TEST(PackageArchive, ZipWithoutEvidenceIsNotAPackage) {
  TempDir dir;
  WriteRawZip(dir / "x.zip", {{"data/a", "1"}});
  auto read = ReadPackageZip(dir / "x.zip");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("no evidence.ers"), std::string::npos);
}

// What is held in memory is bounded whatever the entries' sizes: data
// objects over 16 MiB, or beyond 64 MiB held in all, stay in the zip and are
// streamed from it when used.
TEST(PackageArchive, LargeDataObjectsAreStreamedFromTheZipNotHeld) {
  TempDir dir;
  PackageContents in;
  in.evidence_record = {0x30, 0x03, 0x02, 0x01, 0x01};
  in.data["manifest.json"] = ToBytes("{}");
  in.data["documents/big.bin"] = Bytes((16 << 20) + 1, 0x42);
  for (int i = 0; i < 6; ++i) in.data["documents/part-" + std::to_string(i) + ".bin"] = Bytes(12 << 20, 0x43);
  ASSERT_TRUE(WritePackageZip(in, dir / "p.zip").ok());
  auto out = ReadPackageZip(dir / "p.zip");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->streamed.count("documents/big.bin"), 1u);
  EXPECT_EQ(out->streamed.at("documents/big.bin").size, (16u << 20) + 1);
  std::uint64_t held = 0;
  for (const auto& [path, bytes] : out->data) held += bytes.size();
  EXPECT_LE(held, 64u << 20);
  EXPECT_EQ(out->data.size() + out->streamed.size(), in.data.size());
  for (const auto& [path, object] : out->streamed) {
    Bytes bytes;
    ASSERT_TRUE(object.read([&bytes](ByteView piece) {
      bytes.insert(bytes.end(), piece.begin(), piece.end());
      return Status::Ok();
    }).ok());
    EXPECT_EQ(bytes, in.data.at(path)) << path;
  }
}

TEST(PackageArchive, AnEvidenceRecordBeyondWhatIsHeldIsRefused) {
  TempDir dir;
  WriteRawZip(dir / "x.zip", {{"evidence.ers", std::string((16 << 20) + 1, 'x')}, {"data/manifest.json", "{}"}});
  auto read = ReadPackageZip(dir / "x.zip");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("'evidence.ers' is larger than 16777216 bytes"), std::string::npos)
      << read.status().message();
}

}  // namespace
}  // namespace preserve::audit
