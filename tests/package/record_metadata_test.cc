#include "preserve/package/record_metadata.h"

#include <gtest/gtest.h>

#include "preserve/package/manifest.h"

namespace preserve::package {
namespace {

const char* kComplete = R"({
  "organ_id": "000.00.12.H17",
  "file_notation": "HS-2017-CNXD-04",
  "code_number": "6587",
  "code_notation": "UBND-CNXD",
  "issued_date": "2017-11-22",
  "type_name": "Công văn",
  "organ_name": "Ủy ban nhân dân tỉnh Đắk Nông",
  "subject": "Về việc tăng cường sử dụng chữ ký số trong cơ quan nhà nước",
  "language": "vi",
  "page_amount": 2,
  "signer": {"position": "Phó Chủ tịch", "full_name": "Nguyễn Văn An"},
  "recipients": ["Các sở, ban, ngành", "UBND các huyện, thị xã"],
  "priority": "urgent",
  "secrecy": "normal",
  "due_date": "2017-12-31",
  "retention": 20
})";

Result<RecordMetadata> Parse(const std::string& text) { return ParseRecordMetadata(ToBytes(text)); }

TEST(RecordMetadata, ReadsEveryDecree30Field) {
  auto m = Parse(kComplete);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->organ_id, "000.00.12.H17");
  EXPECT_EQ(m->Citation(), "6587/UBND-CNXD");
  EXPECT_EQ(m->issued_date, "2017-11-22");
  EXPECT_EQ(m->organ_name, "Ủy ban nhân dân tỉnh Đắk Nông");
  EXPECT_EQ(m->page_amount, 2u);
  EXPECT_EQ(m->signer_full_name, "Nguyễn Văn An");
  ASSERT_EQ(m->recipients.size(), 2u);
  EXPECT_EQ(m->priority, "urgent");
  EXPECT_EQ(m->retention_years, 20u);
}

TEST(RecordMetadata, RoundTripsThroughCanonicalJson) {
  auto m = Parse(kComplete);
  ASSERT_TRUE(m.ok());
  std::string json = RecordMetadataToJson(*m);
  auto again = Parse(json);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(RecordMetadataToJson(*again), json);
}

TEST(RecordMetadata, MinimalSidecarGetsDefaults) {
  auto m = Parse(R"({"code_number": "12", "code_notation": "QĐ-UBND", "issued_date": "2020-03-05",
                     "organ_name": "Sở Nội vụ", "subject": "Quyết định"})");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->language, "vi");
  EXPECT_EQ(m->priority, "normal");
  EXPECT_EQ(m->secrecy, "normal");
  EXPECT_EQ(m->retention_years, 0u);  // permanent
}

TEST(RecordMetadata, NamesEveryMissingRequiredField) {
  auto m = Parse(R"({"type_name": "Công văn"})");
  ASSERT_FALSE(m.ok());
  for (const char* field : {"code_number: required", "code_notation: required", "issued_date: required",
                            "organ_name: required", "subject: required"})
    EXPECT_NE(m.status().message().find(field), std::string::npos) << field << " in " << m.status().message();
}

TEST(RecordMetadata, RefusesBadTypesDatesAndLengths) {
  struct Case {
    std::string field;
    std::string value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"issued_date", R"("2017-13-01")", "is not a date"},
      {"issued_date", R"("2019-02-29")", "is not a date"},
      {"issued_date", R"("22/11/2017")", "is not a date"},
      {"page_amount", R"("two")", "whole number"},
      {"page_amount", "0", "between 1 and 100000"},
      {"code_number", R"("123456789012")", "longer than 11"},
      {"organ_id", R"("ĐĐĐĐĐĐĐĐĐĐĐĐĐĐ")", "longer than 13"},
      {"priority", R"("asap")", "is not one of"},
      {"secrecy", "3", "must be text"},
      {"retention", R"("forever")", "permanent"},
      {"retention", "0", "permanent"},
      {"signer", R"("Nguyễn Văn An")", "must be an object"},
      {"recipients", R"(["ok", 7])", "recipients[1]: must be text"},
      {"subject", R"("line\u0001break")", "control character"},
      {"colour", R"("blue")", "colour: unknown field"},
  };
  for (const auto& c : cases) {
    std::string text = R"({"code_number": "1", "code_notation": "UBND", "issued_date": "2020-01-02",
                          "organ_name": "UBND", "subject": "x", ")" +
                       c.field + "\": " + c.value + "}";
    // A repeated key replaces the earlier one in Boost.JSON, so the case's value wins.
    auto m = Parse(text);
    ASSERT_FALSE(m.ok()) << c.field << " = " << c.value;
    EXPECT_NE(m.status().message().find(c.expected), std::string::npos)
        << c.field << " = " << c.value << ": " << m.status().message();
  }
}

TEST(RecordMetadata, ProblemsNameTheirLineAndSyntaxErrorsTheirColumn) {
  auto m = Parse("{\"code_number\": \"1\", \"code_notation\": \"A\", \"issued_date\": \"2020-01-02\",\n"
                 " \"organ_name\": \"B\",\n"
                 " \"subjetc\": \"C\",\n"
                 " \"signer\": {\"position\": \"x\",\n  \"fullname\": \"y\"},\n"
                 " \"organ_name\": \"B again\"}");
  ASSERT_FALSE(m.ok());
  const std::string message = m.status().message();
  for (const char* expected : {"subject: required", "subjetc: unknown field (line 3)",
                               "signer.fullname: unknown field (line 5)", "organ_name: given twice (line 2 and line 6)"})
    EXPECT_NE(message.find(expected), std::string::npos) << expected << " in " << message;

  auto syntax = Parse("{\"code_number\": \"1\",\n \"code_notation\": \"A\"\n \"subject\": \"C\"}");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().message(),
            "record metadata: line 3, column 2: not valid JSON: expected ',' or '}', found \"subject\" (syntax error)");
}

TEST(RecordMetadata, CountsCharactersNotBytes) {
  // 13 Vietnamese letters of two bytes each: 26 bytes, but within organ_id's 13 characters.
  auto m = Parse(R"({"organ_id": "ĐĐĐĐĐĐĐĐĐĐĐĐĐ", "code_number": "1", "code_notation": "A", "issued_date": "2020-01-02",
                     "organ_name": "B", "subject": "C"})");
  EXPECT_TRUE(m.ok()) << m.status().message();
}

TEST(RecordMetadata, RefusesInvalidUtf8AndNonObjects) {
  EXPECT_FALSE(Parse("[1, 2]").ok());
  EXPECT_FALSE(Parse("not json").ok());
  std::string bad = "{\"code_number\": \"1\", \"code_notation\": \"A\", \"issued_date\": \"2020-01-02\", "
                    "\"organ_name\": \"\xc0\xaf\", \"subject\": \"C\"}";
  auto m = Parse(bad);
  // Boost.JSON itself rejects invalid UTF-8 in strings; either way it is refused.
  EXPECT_FALSE(m.ok());
}

TEST(RecordMetadata, TravelsInTheManifest) {
  auto m = Parse(kComplete);
  ASSERT_TRUE(m.ok());
  Manifest manifest;
  manifest.package_id = "p1";
  manifest.metadata = *m;
  manifest.decision = "accepted: every signature TOTAL-PASSED";
  auto parsed = ManifestFromJson(ManifestToJson(manifest));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_TRUE(parsed->metadata.has_value());
  EXPECT_EQ(parsed->metadata->Citation(), "6587/UBND-CNXD");
  EXPECT_EQ(parsed->metadata->recipients, m->recipients);
  EXPECT_EQ(parsed->decision, manifest.decision);
}

}  // namespace
}  // namespace preserve::package
