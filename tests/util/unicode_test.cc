// Names as preserve records them: UTF-8 checked strictly, NFC through ICU,
// code pages through iconv (CP1258's held-back letter included), escapes for
// display, and the folding a later search will use.
#include "preserve/util/unicode.h"

#include <gtest/gtest.h>

namespace preserve {
namespace {

TEST(Utf8, AcceptsWellFormedAndRefusesEveryIllFormedKind) {
  for (std::string_view good : {"", "letter.txt", "công văn.txt", "Đắk Nông", "\xF0\x9F\x93\x9C scroll",
                                "\xEF\xBF\xBD", "\xF4\x8F\xBF\xBF"})
    EXPECT_TRUE(IsUtf8(good)) << good;
  for (std::string_view bad : {"\xE0", "C\xF4ng", "\x80", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xED\xA0\x80",
                               "\xF0\x80\x80\xAF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "ab\xC3",
                               "\xE1\xBB"})
    EXPECT_FALSE(IsUtf8(bad)) << EscapeForDisplay(bad);
}

TEST(Utf8, NfcComposesWhatMacOsDecomposes) {
  // "công văn" as macOS writes file names: o + U+0302, a + U+0306.
  const std::string nfd = "co\xCC\x82ng va\xCC\x86n.txt";
  EXPECT_FALSE(IsNfcUtf8(nfd));
  auto nfc = ToNfc(nfd);
  ASSERT_TRUE(nfc.ok()) << nfc.status().ToString();
  EXPECT_EQ(*nfc, "công văn.txt");
  EXPECT_TRUE(IsNfcUtf8(*nfc));
  EXPECT_FALSE(IsNfcUtf8("C\xF4ng"));
  EXPECT_FALSE(ToNfc("C\xF4ng").ok());
}

TEST(CodePage, Cp1258DecodesVietnameseWithItsLastLetter) {
  // "Công văn Đắk Nông.txt" as Vietnamese Windows writes it: ắ as ă + a
  // combining acute (0xEC), ô precomposed (0xF4).
  const std::string cp1258 = "C\xF4ng v\xE3n \xD0\xE3\xECk N\xF4ng.txt";
  auto decoded = DecodeCodePage(cp1258, "cp1258");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, "Công văn Đắk Nông.txt");
  EXPECT_TRUE(IsNfcUtf8(*decoded));
  // The stateful decoder holds the last letter back until flushed.
  auto short_name = DecodeCodePage("\xF4", "CP1258");
  ASSERT_TRUE(short_name.ok());
  EXPECT_EQ(*short_name, "ô");
}

TEST(CodePage, Cp437IsTheZipDefaultAndUndefinedBytesAreRefused) {
  auto decoded = DecodeCodePage("Gr\x81\xE1" "e.txt", "CP437");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, "Grüße.txt");
  auto undefined = DecodeCodePage("a\x81.txt", "CP1258");  // 0x81 is not defined in CP1258
  ASSERT_FALSE(undefined.ok());
  EXPECT_NE(undefined.status().message().find("a%81.txt"), std::string::npos) << undefined.status().message();
  EXPECT_NE(undefined.status().message().find("at byte 1"), std::string::npos) << undefined.status().message();
  EXPECT_TRUE(CheckCodePage("windows-1258").ok());
  EXPECT_FALSE(CheckCodePage("klingon-1").ok());
  EXPECT_FALSE(DecodeCodePage("x", "klingon-1").ok());
}

TEST(EscapeForDisplay, KeepsUtf8AndEscapesBadBytesAndControls) {
  EXPECT_EQ(EscapeForDisplay("công văn.txt"), "công văn.txt");
  // Bytes that are not UTF-8 as the store's readers show them (EscapeInvalidUtf8), controls alike.
  EXPECT_EQ(EscapeForDisplay("C\xF4ng v\xE3n.txt"), "C%F4ng v%E3n.txt");
  EXPECT_EQ(EscapeForDisplay("C\xF4ng v\xE3n.txt"), EscapeInvalidUtf8("C\xF4ng v\xE3n.txt"));
  EXPECT_EQ(EscapeForDisplay("line\nbreak\x1B[31m"), "line%0Abreak%1B[31m");
  EXPECT_EQ(EscapeForDisplay("c1\xC2\x85 del\x7F"), "c1%C2%85 del%7F");
  EXPECT_EQ(EscapeForDisplay("cut\xE1\xBB"), "cut%E1%BB");
  EXPECT_EQ(EscapeForDisplay("\xC2\xA0nbsp \xC3\xA9"), "\xC2\xA0nbsp \xC3\xA9");
  EXPECT_TRUE(IsUtf8(EscapeForDisplay("\xFF\xFE\xC0\xAF")));
}

TEST(NameForDisplay, NfcWhenUtf8EscapedWhenNot) {
  EXPECT_EQ(NameForDisplay("co\xCC\x82ng.txt"), "c\xC3\xB4ng.txt");
  EXPECT_EQ(NameForDisplay("C\xF4ng.txt"), "C%F4ng.txt");
  EXPECT_EQ(NameForDisplay("two\nlines.txt"), "two%0Alines.txt");
}

TEST(FoldForSearch, DakNongFindsDakNong) {
  for (std::string_view text : {"Đắk Nông", "ĐẮK NÔNG", "dak nong", "Dak Nong", "đắk nông"}) {
    auto folded = FoldForSearch(text);
    ASSERT_TRUE(folded.ok()) << text;
    EXPECT_EQ(*folded, "dak nong") << text;
  }
  EXPECT_EQ(*FoldForSearch("Ủy ban nhân dân tỉnh"), "uy ban nhan dan tinh");
  EXPECT_EQ(*FoldForSearch("Sở Thông tin và Truyền thông"), "so thong tin va truyen thong");
  EXPECT_FALSE(FoldForSearch("C\xF4ng").ok());
}

}  // namespace
}  // namespace preserve
