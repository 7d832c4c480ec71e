// ReadFile: whole files of any size, in one read of the size they have, and
// the errors callers tell apart (a missing file, a directory); base64; hex.
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "preserve/util/bytes.h"
#include "preserve/util/digest.h"
#include "testing.h"

namespace preserve {
namespace {

using preserve::testing::TempDir;
using preserve::testing::WriteFile;

TEST(ReadFile, ReadsWholeFilesOfAnySize) {
  TempDir dir;
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{10240}, std::size_t{16384},
                           std::size_t{(1u << 20) + 7}}) {
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 7 + size);
    const auto path = dir / ("file-" + std::to_string(size));
    WriteFile(path, data);
    auto read = ReadFile(path);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(ToString(*read), data) << size;
  }
}

TEST(ReadFile, ReadsAFileWhoseSizeIsNotKnownAhead) {
  // procfs files say they are empty; their content comes only from reading.
  auto read = ReadFile("/proc/self/status");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_NE(ToString(*read).find("Name:"), std::string::npos);
}

TEST(ReadFile, SaysWhatIsWrong) {
  TempDir dir;
  auto missing = ReadFile(dir / "no-such-file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no such file"), std::string::npos);
  WriteFile(dir / "plain", std::string("x"));
  auto under_a_file = ReadFile(dir / "plain" / "below");
  EXPECT_EQ(under_a_file.status().code(), StatusCode::kNotFound);
  auto directory = ReadFile(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(directory.status().message().find("is a directory"), std::string::npos);
  if (::geteuid() != 0) {  // root reads it regardless
    const auto locked = dir / "locked";
    WriteFile(locked, std::string("secret"));
    ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
    auto denied = ReadFile(locked);
    EXPECT_EQ(denied.status().code(), StatusCode::kIOError);
  }
}

// Issue 13: an input linked to /dev/zero was read without end. Devices, FIFOs
// and sockets are refused before a byte is read (a FIFO would block the open).
TEST(ReadFile, RefusesWhatIsNotARegularFileWithoutReadingIt) {
  TempDir dir;
  const auto zero = dir / "letter.txt";
  std::filesystem::create_symlink("/dev/zero", zero);
  const auto fifo = dir / "fifo.p7s";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const auto& [path, kind] : {std::pair{zero, "is a character device"}, std::pair{fifo, "is a FIFO"}}) {
    auto read = ReadFile(path);
    ASSERT_FALSE(read.ok()) << path;
    EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(read.status().message().find(kind), std::string::npos) << read.status().message();
    EXPECT_NE(read.status().message().find(path.filename().string()), std::string::npos) << read.status().message();
    auto digest = DigestFile(HashAlgorithm::kSha256, path);
    ASSERT_FALSE(digest.ok());
    EXPECT_NE(digest.status().message().find(kind), std::string::npos) << digest.status().message();
  }
  EXPECT_NE(ReadFile(zero).status().message().find("a link to /dev/zero"), std::string::npos);
  // A link to a regular file is followed.
  WriteFile(dir / "real.txt", std::string("content"));
  std::filesystem::create_symlink(dir / "real.txt", dir / "link.txt");
  auto linked = ReadFile(dir / "link.txt");
  ASSERT_TRUE(linked.ok()) << linked.status().ToString();
  EXPECT_EQ(ToString(*linked), "content");
}

// Digest reuses a context per thread and Hasher::Restart its own: each
// digest must still be that of its input alone, whatever came before it and
// under whichever algorithm. The SHA-256 and SHA-384 of "abc" are FIPS 180-2's.
TEST(Digest, EachIsOfItsInputAloneWhateverCameBefore) {
  const Bytes abc{'a', 'b', 'c'};
  const std::string sha256_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const std::string sha384_abc =
      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7";
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(ToHex(Digest(HashAlgorithm::kSha256, abc)), sha256_abc);
    EXPECT_EQ(ToHex(Digest(HashAlgorithm::kSha384, abc)), sha384_abc);
    (void)Digest(HashAlgorithm::kSha512, Bytes(1000, 7));
  }
  Hasher hasher(HashAlgorithm::kSha384);
  for (int round = 0; round < 3; ++round) {
    hasher.Update(Bytes(5000, static_cast<std::uint8_t>(round)));
    (void)hasher.Finish();
    hasher.Restart();
    hasher.Update(abc);
    EXPECT_EQ(ToHex(hasher.Finish()), sha384_abc);
    hasher.Restart();
  }
}

TEST(Hex, RoundTripsEveryByteInEitherCase) {
  Bytes all(256);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
  const std::string hex = ToHex(all);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& text : {hex, upper}) {
    auto bytes = FromHex(text);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(*bytes, all);
  }
  EXPECT_TRUE(FromHex("").ok());
}

TEST(Hex, RefusesOddLengthsAndEveryNonHexCharacter) {
  EXPECT_EQ(FromHex("abc").status().message(), "odd-length hex string");
  for (int c = 0; c < 256; ++c) {
    if (std::isxdigit(c)) continue;
    const char bad = static_cast<char>(c);
    // In either place of a byte, and after good bytes.
    for (const std::string& text : {std::string{'0', bad}, std::string{bad, 'f'}, std::string{'0', '0', 'f', 'f', bad, '0'}})
      EXPECT_EQ(FromHex(text).status().message(), "not a hex string") << c;
  }
}

}  // namespace
TEST(Base64, RoundTripsEveryLengthAndMatchesRfc4648) {
  // RFC 4648 section 10.
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(EncodeBase64(AsBytes(plain)), encoded);
    auto decoded = DecodeBase64(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(ToString(*decoded), plain);
  }
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<std::uint8_t>(i));
  for (std::size_t n = 0; n <= all.size(); ++n) {
    Bytes part(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
    auto back = DecodeBase64(EncodeBase64(part));
    ASSERT_TRUE(back) << n;
    EXPECT_EQ(*back, part);
  }
}

TEST(Base64, SkipsWhiteSpaceAndRefusesEverythingElse) {
  EXPECT_EQ(ToString(*DecodeBase64("Zm9v\r\nYmFy\n")), "foobar");
  for (const char* bad : {"Zm9v*", "Zg", "Zg=", "Z===", "Zg==Zg==", "=Zg=", "Zh==", "Zm9=", "Zm9v\x80"})
    EXPECT_FALSE(DecodeBase64(bad)) << bad;
}

}  // namespace preserve
