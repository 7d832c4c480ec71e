// Positions in JSON text that people write (util/src/json_text.cc) and the
// strict reader over Boost.JSON (util/json_reader.h).
#include "preserve/util/json_text.h"

#include <gtest/gtest.h>

#include "preserve/util/json_reader.h"

namespace preserve {
namespace {

TEST(JsonText, PositionsCountLinesAndCharacters) {
  const std::string text = "{\n  \"tên\": 1,\n  x";
  EXPECT_EQ(JsonPositionOf(text, 0).line, 1u);
  EXPECT_EQ(JsonPositionOf(text, 0).column, 1u);
  const JsonTextPosition x = JsonPositionOf(text, text.size() - 1);
  EXPECT_EQ(x.line, 3u);
  EXPECT_EQ(x.column, 3u);
  // "ê" is two bytes and one character.
  const JsonTextPosition colon = JsonPositionOf(text, text.find(':'));
  EXPECT_EQ(colon.line, 2u);
  EXPECT_EQ(colon.column, 8u);
  EXPECT_EQ(JsonPositionOf(text, 1000).line, 3u);  // past the end: the end
}

TEST(JsonText, SyntaxProblemsSayWhatWasExpected) {
  struct Case {
    std::string text;
    std::size_t offset;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {R"({"a":1 "b":2})", 7, R"(expected ',' or '}', found "b")"},
      {R"({"a":1,})", 7, "expected a key in double quotes, found '}'"},
      {R"({a:1})", 1, "expected a key in double quotes or '}', found 'a'"},
      {R"({"a" 1})", 5, "expected ':' after the key, found '1'"},
      {R"({"a":tru })", 5, "expected a value, found 'tru'"},
      {"[1,2", 4, "expected ',' or ']', found the end of the text"},
      {"[", 1, "expected a value or ']', found the end of the text"},
      {R"({"a":1}x)", 7, "expected the end of the text, found 'x'"},
      {"// note\n{}", 0, "expected a value, found a comment (JSON has none)"},
      {R"({"a":"x)", 7, "inside a string"},
      {R"({"a":"\q"})", 7, "inside a string"},
      {"{\"a\": t\x01ên}", 6, "expected a value, found 't%01ên'"},  // a control character escaped
  };
  for (const Case& c : cases) EXPECT_EQ(JsonSyntaxProblem(c.text, c.offset), c.problem) << c.text;
}

TEST(JsonText, KeysAreFoundByPointerNotBySpelling) {
  // "name" is a value on line 2 and a key on lines 3 and 4; "a/b" and "~" need escaping.
  const std::string text =
      "{\"title\": \"name\",\n"
      " \"tsas\": [{\"name\": \"one\"},\n"
      "          {\"url\": \"x\", \"name\": \"two\"}],\n"
      " \"a/b\": {\"~\": [1, {\"deep\": true}]},\n"
      " \"esc\\u0061ped\": 0}";
  const JsonKeyLines keys = ScanJsonKeys(text);
  EXPECT_EQ(keys.lines.at("/title"), 1u);
  EXPECT_EQ(keys.lines.at("/tsas"), 2u);
  EXPECT_EQ(keys.lines.at("/tsas/0/name"), 2u);
  EXPECT_EQ(keys.lines.at("/tsas/1/url"), 3u);
  EXPECT_EQ(keys.lines.at("/tsas/1/name"), 3u);
  EXPECT_EQ(keys.lines.at("/a~1b"), 4u);
  EXPECT_EQ(keys.lines.at("/a~1b/~0/1/deep"), 4u);
  EXPECT_EQ(keys.lines.at("/escaped"), 5u);
  EXPECT_EQ(keys.lines.count("/name"), 0u);
  EXPECT_TRUE(keys.repeated.empty());
}

TEST(JsonText, RepeatedKeysAreListedWithTheirLine) {
  const JsonKeyLines keys = ScanJsonKeys("{\"a\": 1,\n \"b\": {\"a\": 2},\n \"a\": 3}");
  EXPECT_EQ(keys.lines.at("/a"), 1u);
  EXPECT_EQ(keys.lines.at("/b/a"), 2u);  // another object: not a repetition
  ASSERT_EQ(keys.repeated.size(), 1u);
  EXPECT_EQ(keys.repeated[0], (std::pair<std::string, std::size_t>{"/a", 3u}));
}

TEST(JsonReader, ErrorsNameTheOriginLineAndKey) {
  auto bad = UserJson::Parse("{\n  \"a\": [1,\n  2\n", "f.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "f.json: line 4, column 1: not valid JSON: expected ',' or ']', found the end of the text (incomplete JSON)");

  auto doc = UserJson::Parse("{\"n\": \"7\",\n \"list\": 3,\n \"obj\": {\"x\": 1,\n \"misspelt\": 2}}", "f.json");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const JsonObjectReader root(*doc, doc->root().get_object(), "", "");
  EXPECT_EQ(root.Integer("n", 0, 10).status().message(),
            "f.json: line 1: \"n\" must be a whole number between 0 and 10, not a string");
  EXPECT_EQ(root.Array("list").status().message(), "f.json: line 2: \"list\" must be an array, not a whole number");
  EXPECT_EQ(root.OnlyKeys({"n", "list"}).message(), "f.json: line 3: unknown key \"obj\" (known: n, list)");
  const JsonObjectReader obj(*doc, root.Find("obj")->get_object(), "/obj", "obj");
  EXPECT_EQ(obj.OnlyKeys({"x"}).message(), "f.json: line 4: unknown key \"obj.misspelt\" (known: x)");
  EXPECT_EQ(obj.String("x").status().message(), "f.json: line 3: \"obj.x\" must be a string, not a whole number");
  auto absent = obj.String("absent");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());

  auto twice = UserJson::Parse("{\"a\": 1,\n\"a\": 2}", "f.json");
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->CheckRepeatedKeys().message(), "f.json: line 2: \"a\" is given twice (first on line 1)");
}

}  // namespace
}  // namespace preserve
