// A store's config.json through the real `preserve` command (issue 15,
// part 5): a misspelt key, a syntax error or a value of the wrong type stops
// `seal` with a message that names the key, its line (and column), a non-zero
// exit, and nothing sealed. ("tsa_list" for "tsas" used to seal silently with
// the embedded TSA.)
#include <gtest/gtest.h>

#include "store_cli_fixture.h"

namespace preserve {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::Contains;
using testing::kCliRootCa;
using testing::SignedFixturePath;

class ConfigCli : public testing::StoreCli {
 protected:
  // One package ingested and queued, not sealed.
  void SetUp() override {
    StoreCli::SetUp();
    CommandResult r = Preserve({"ingest", "--no-seal", "--trust", kCliRootCa, SignedFixturePath("letter.p7m")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // "INPUT -> ID", or the id alone.
    const std::size_t arrow = r.out.find(" -> ");
    id_ = r.out.substr(arrow == std::string::npos ? 0 : arrow + 4, 36);
  }

  // Runs `seal` under `config` and expects it refused with `expected` in its
  // message; then, with a good config.json, the package is still queued.
  void ExpectSealRefused(const std::string& config, const std::vector<std::string>& expected) {
    testing::WriteFile(store_ / "config.json", config);
    CommandResult seal = Preserve({"seal"});
    EXPECT_NE(seal.exit_code, 0) << seal.out << seal.err;
    EXPECT_TRUE(Contains(seal.err, (store_ / "config.json").string())) << seal.err;
    for (const std::string& e : expected) EXPECT_TRUE(Contains(seal.err, e)) << e << " in " << seal.err;
    EXPECT_FALSE(Contains(seal.err, "sealed ")) << seal.err;

    testing::WriteFile(store_ / "config.json", kGoodConfig);
    CommandResult list = Preserve({"list"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    EXPECT_TRUE(Contains(list.out, id_) && Contains(list.out, "queued")) << list.out;
  }

  static constexpr const char* kGoodConfig =
      "{\"renewal_margin_days\": 180, \"tsa_key\": \"ec-p256\", \"tsa_validity_years\": 10}\n";
  std::string id_;
};

TEST_F(ConfigCli, AMisspeltKeyStopsSealNamingTheKeyAndLine) {
  ExpectSealRefused(
      "{\n"
      "  \"renewal_margin_days\": 180,\n"
      "  \"tsa_list\": [{\"url\": \"http://127.0.0.1:9/\", \"trust\": \"tsa/ca.pem\"}]\n"
      "}\n",
      {"line 3: unknown key \"tsa_list\""});
  // With the key spelt right the same store seals (the embedded TSA, as config.json then names no TSA).
  CommandResult seal = Preserve({"seal"});
  EXPECT_EQ(seal.exit_code, 0) << seal.err;
  EXPECT_TRUE(Contains(seal.err, "sealed 1 package")) << seal.err;
}

TEST_F(ConfigCli, ASyntaxErrorNamesLineColumnAndWhatWasExpected) {
  ExpectSealRefused(
      "{\n"
      "  \"renewal_margin_days\": 180\n"
      "  \"tsa_key\": \"ec-p256\"\n"
      "}\n",
      {"line 3, column 3: not valid JSON: expected ',' or '}', found \"tsa_key\""});
}

TEST_F(ConfigCli, AWrongTypeNamesTheKey) {
  ExpectSealRefused(
      "{\n"
      "  \"renewal_margin_days\": 180,\n"
      "  \"tsas\": [{\"url\": \"http://127.0.0.1:9/\",\n"
      "            \"trust\": 42}]\n"
      "}\n",
      {"line 4: \"tsas[0].trust\" must be a string, not a whole number"});
  ExpectSealRefused("{\"tsa_key\": 256}", {"line 1: \"tsa_key\" must be a string, not a whole number"});
}

// Policy files are read by the same rules: `policy set` refuses a misspelt
// key naming its line, and the policy in force stays as it was.
TEST_F(ConfigCli, PolicySetRefusesAMisspeltKeyNamingItsLine) {
  const fs::path policy = dir_ / "policy.json";
  testing::WriteFile(policy, "{\"base\": \"etsi\",\n \"hash_preferences\": [\"SHA-384\"]}\n");
  CommandResult set = Preserve({"policy", "set", policy.string()});
  EXPECT_NE(set.exit_code, 0) << set.out << set.err;
  EXPECT_TRUE(Contains(set.err, policy.string() + ": line 2: top level: unknown member \"hash_preferences\""))
      << set.err;
  testing::WriteFile(policy, "{\"base\": \"etsi\",\n \"hash\": [\n}\n");
  CommandResult syntax = Preserve({"policy", "set", policy.string()});
  EXPECT_NE(syntax.exit_code, 0);
  EXPECT_TRUE(Contains(syntax.err, "line 3, column 1: not valid JSON: expected a value or ']', found '}'")) << syntax.err;
}

}  // namespace
}  // namespace preserve
