#include "preserve/policy/algorithm_catalogue.h"

#include <algorithm>
#include <initializer_list>
#include <sstream>

#include <gtest/gtest.h>

#include "testing.h"

namespace preserve::policy {
namespace {

using preserve::testing::TempDir;
using preserve::testing::WriteFile;

TimePoint At(std::string_view text) { return ParseUtcTime(text).value(); }

AlgorithmCatalogue Profile(std::string_view id) {
  Result<AlgorithmCatalogue> c = AlgorithmCatalogue::Builtin(id);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c).value();
}

// Loads `json` from a file in `dir` and returns the result.
Result<AlgorithmCatalogue> LoadText(const TempDir& dir, std::string_view json) {
  WriteFile(dir / "policy.json", json);
  return AlgorithmCatalogue::Load(dir / "policy.json");
}

TEST(AlgorithmCatalogue, EtsiEndsSha1In2012AndLeavesSha2AndSha3Open) {
  AlgorithmCatalogue etsi = AlgorithmCatalogue::Default();
  EXPECT_EQ(etsi.HashEnd(HashAlgorithm::kSha1), At("2012-08-01"));
  EXPECT_TRUE(etsi.HashUsableForNewEvidence(HashAlgorithm::kSha1, At("2012-07-31T23:59:59Z")));
  EXPECT_FALSE(etsi.HashUsableForNewEvidence(HashAlgorithm::kSha1, At("2012-08-01")));
  for (HashAlgorithm alg : {HashAlgorithm::kSha256, HashAlgorithm::kSha384, HashAlgorithm::kSha512,
                            HashAlgorithm::kSha3_256, HashAlgorithm::kSha3_384, HashAlgorithm::kSha3_512}) {
    EXPECT_EQ(etsi.HashEnd(alg), std::nullopt) << HashAlgorithmName(alg);
    EXPECT_TRUE(etsi.HashUsableForNewEvidence(alg, At("2100-01-01"))) << HashAlgorithmName(alg);
  }
}

TEST(AlgorithmCatalogue, RsaKeySizeBoundariesInEtsi) {
  AlgorithmCatalogue etsi = AlgorithmCatalogue::Default();
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kRsa, 1899), At("2019-10-01"));
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kRsa, 1900), At("2029-01-01"));
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kRsa, 2048), At("2029-01-01"));
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kRsa, 2999), At("2029-01-01"));
  // PKCS#1 v1.5 is legacy at every size in ETSI TS 119 312 V1.5.1; PSS is not.
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kRsa, 3000), At("2029-01-01"));
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kRsaPss, 2999), At("2029-01-01"));
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kRsaPss, 3000), std::nullopt);
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kRsaPss, 3072), std::nullopt);
  EXPECT_TRUE(etsi.SignatureUsableForNewEvidence(SignatureKeyType::kRsa, 3072, At("2028-12-31T23:59:59Z")));
  EXPECT_FALSE(etsi.SignatureUsableForNewEvidence(SignatureKeyType::kRsa, 3072, At("2029-01-01")));
}

TEST(AlgorithmCatalogue, KeysBelowEveryRuleAndUnlistedTypesAreNotApproved) {
  AlgorithmCatalogue etsi = AlgorithmCatalogue::Default();
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kRsa, 512), TimePoint{});
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kEcdsa, 128), TimePoint{});
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kEd25519, 256), TimePoint{});
  EXPECT_FALSE(etsi.SignatureUsableForNewEvidence(SignatureKeyType::kEd25519, 256, At("2026-01-01")));
}

TEST(AlgorithmCatalogue, EcdsaP256IsOpenEndedAndSmallerCurvesEnded) {
  AlgorithmCatalogue etsi = AlgorithmCatalogue::Default();
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kEcdsa, 192), At("2012-08-01"));
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kEcdsa, 224), At("2021-10-01"));
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kEcdsa, 256), std::nullopt);
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kEcdsa, 384), std::nullopt);
}

TEST(AlgorithmCatalogue, StricterProfilesEndRsa2048Earlier) {
  AlgorithmCatalogue etsi = AlgorithmCatalogue::Default();
  AlgorithmCatalogue sogis = Profile("sogis");
  AlgorithmCatalogue bsi = Profile("bsi");
  EXPECT_EQ(etsi.SignatureEnd(SignatureKeyType::kRsa, 2048), At("2029-01-01"));
  EXPECT_EQ(sogis.SignatureEnd(SignatureKeyType::kRsa, 2048), At("2025-12-31"));
  EXPECT_EQ(bsi.SignatureEnd(SignatureKeyType::kRsa, 2048), At("2024-01-01"));
  EXPECT_EQ(sogis.SignatureEnd(SignatureKeyType::kRsaPss, 2048), At("2025-12-31"));
  EXPECT_EQ(bsi.SignatureEnd(SignatureKeyType::kRsaPss, 2999), At("2024-01-01"));
  // Above the stricter range they agree with ETSI.
  for (const AlgorithmCatalogue* c : {&sogis, &bsi}) {
    EXPECT_EQ(c->SignatureEnd(SignatureKeyType::kRsaPss, 3072), std::nullopt) << c->name();
    EXPECT_EQ(c->SignatureEnd(SignatureKeyType::kEcdsa, 256), std::nullopt) << c->name();
    EXPECT_EQ(c->HashEnd(HashAlgorithm::kSha256), std::nullopt) << c->name();
    EXPECT_EQ(c->HashEnd(HashAlgorithm::kSha1), At("2012-08-01")) << c->name();
  }
  EXPECT_NE(sogis.name(), etsi.name());
}

TEST(AlgorithmCatalogue, UnknownProfileIsAnError) {
  Result<AlgorithmCatalogue> c = AlgorithmCatalogue::Builtin("nist");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("etsi, sogis, bsi"), std::string::npos) << c.status().message();
}

TEST(AlgorithmCatalogue, KeyTypeNames) {
  EXPECT_EQ(SignatureKeyTypeFromName("RSA").value(), SignatureKeyType::kRsa);
  EXPECT_EQ(SignatureKeyTypeFromName("rsassa-pss").value(), SignatureKeyType::kRsaPss);
  EXPECT_EQ(SignatureKeyTypeFromName("ECDSA").value(), SignatureKeyType::kEcdsa);
  EXPECT_EQ(SignatureKeyTypeFromName("EC").value(), SignatureKeyType::kEcdsa);
  EXPECT_EQ(SignatureKeyTypeFromName("ed25519").value(), SignatureKeyType::kEd25519);
  EXPECT_FALSE(SignatureKeyTypeFromName("DSA").ok());
  for (SignatureKeyType t : {SignatureKeyType::kRsa, SignatureKeyType::kRsaPss, SignatureKeyType::kEcdsa,
                             SignatureKeyType::kEd25519}) {
    EXPECT_EQ(SignatureKeyTypeFromName(SignatureKeyTypeName(t)).value(), t);
  }
}

TEST(AlgorithmCatalogue, PreferredHashSkipsRetiredAlgorithms) {
  TempDir dir;
  Result<AlgorithmCatalogue> c = LoadText(dir, R"({"base": "etsi", "hash": [
      {"algorithm": "SHA-256", "end": "2040-01-01"},
      {"algorithm": "SHA-384", "end": "2045-01-01"}]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->PreferredHash(At("2039-12-31")).value(), HashAlgorithm::kSha256);
  EXPECT_EQ(c->PreferredHash(At("2040-01-01")).value(), HashAlgorithm::kSha384);
  EXPECT_EQ(c->PreferredHash(At("2050-01-01")).value(), HashAlgorithm::kSha512);
}

TEST(AlgorithmCatalogue, PreferredHashFollowsConfiguredOrderAndFailsWhenNoneIsLeft) {
  TempDir dir;
  Result<AlgorithmCatalogue> c = LoadText(dir, R"({
      "hash_preference": ["SHA3-256", "SHA-256"],
      "hash": [{"algorithm": "SHA3-256", "end": "2050-01-01"}, {"algorithm": "sha256", "end": "2060-01-01"}]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->PreferredHash(At("2049-01-01")).value(), HashAlgorithm::kSha3_256);
  EXPECT_EQ(c->PreferredHash(At("2055-01-01")).value(), HashAlgorithm::kSha256);
  Result<HashAlgorithm> none = c->PreferredHash(At("2060-01-01"));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  // Without a base, what the file does not list is not approved.
  EXPECT_EQ(c->HashEnd(HashAlgorithm::kSha512), TimePoint{});
  EXPECT_EQ(c->SignatureEnd(SignatureKeyType::kEcdsa, 256), TimePoint{});
}

TEST(AlgorithmCatalogue, FileOverridesReplaceOnlyTheMatchingBaseRules) {
  TempDir dir;
  Result<AlgorithmCatalogue> c = LoadText(dir, R"({"name": "test policy", "base": "etsi", "signature": [
      {"key": "RSA", "min_bits": 2048, "end": "2030-01-01", "source": "review 2026"},
      {"key": "RSA", "min_bits": 3000, "end": null}]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->name(), "test policy");
  EXPECT_EQ(c->SignatureEnd(SignatureKeyType::kRsa, 2047), At("2029-01-01"));  // ETSI's 1900-bit rule stays
  EXPECT_EQ(c->SignatureEnd(SignatureKeyType::kRsa, 2048), At("2030-01-01"));  // a new rule between
  EXPECT_EQ(c->SignatureEnd(SignatureKeyType::kRsa, 4096), std::nullopt);      // replaced
  EXPECT_EQ(c->SignatureEnd(SignatureKeyType::kEcdsa, 256), std::nullopt);     // untouched
  const auto& rules = c->signature_rules();
  auto it = std::find_if(rules.begin(), rules.end(),
                         [](const SignatureRule& r) { return r.key == SignatureKeyType::kRsa && r.min_bits == 3000; });
  ASSERT_NE(it, rules.end());
  EXPECT_EQ(it->source, (dir / "policy.json").string());  // no "source": the file is the source
}

TEST(AlgorithmCatalogue, ShippedExamplePoliciesLoad) {
  Result<AlgorithmCatalogue> sim =
      AlgorithmCatalogue::Load(preserve::testing::SourceDir() / "examples/policy/simulation-2026-2076.json");
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  EXPECT_EQ(sim->SignatureEnd(SignatureKeyType::kRsa, 2048), At("2030-01-01"));
  EXPECT_EQ(sim->SignatureEnd(SignatureKeyType::kRsa, 3072), std::nullopt);
  EXPECT_EQ(sim->HashEnd(HashAlgorithm::kSha256), At("2040-01-01"));
  EXPECT_EQ(sim->PreferredHash(At("2040-01-01")).value(), HashAlgorithm::kSha384);

  Result<AlgorithmCatalogue> bsi =
      AlgorithmCatalogue::Load(preserve::testing::SourceDir() / "examples/policy/bsi-strict.json");
  ASSERT_TRUE(bsi.ok()) << bsi.status().ToString();
  EXPECT_EQ(bsi->SignatureEnd(SignatureKeyType::kRsa, 2048), At("2024-01-01"));
  EXPECT_EQ(bsi->PreferredHash(At("2026-06-01")).value(), HashAlgorithm::kSha512);
}

TEST(AlgorithmCatalogue, ToJsonLoadsBackToTheSameCatalogue) {
  TempDir dir;
  for (std::string_view id : AlgorithmCatalogue::BuiltinProfiles()) {
    AlgorithmCatalogue original = Profile(id);
    Result<AlgorithmCatalogue> copy = LoadText(dir, original.ToJson());
    ASSERT_TRUE(copy.ok()) << id << ": " << copy.status().ToString();
    EXPECT_EQ(copy->name(), original.name());
    EXPECT_EQ(copy->hash_rules(), original.hash_rules());
    EXPECT_EQ(copy->signature_rules(), original.signature_rules());
    EXPECT_EQ(copy->hash_preference(), original.hash_preference());
    EXPECT_EQ(copy->ToJson(), original.ToJson());
  }
}

TEST(AlgorithmCatalogue, ToJsonKeepsTimesThatAreNotMidnight) {
  TempDir dir;
  Result<AlgorithmCatalogue> c = LoadText(
      dir, R"({"name": "with \"quotes\"", "hash": [{"algorithm": "SHA-256", "end": "2040-06-01T12:30:00Z"}]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Result<AlgorithmCatalogue> copy = LoadText(dir, c->ToJson());
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(copy->HashEnd(HashAlgorithm::kSha256), At("2040-06-01T12:30:00Z"));
  EXPECT_EQ(copy->name(), "with \"quotes\"");
}

// The first line of `text` that contains every one of `needles`, or "".
std::string LineWith(const std::string& text, std::initializer_list<std::string_view> needles) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (std::all_of(needles.begin(), needles.end(),
                    [&](std::string_view n) { return line.find(n) != std::string::npos; })) {
      return line;
    }
  }
  return "";
}

TEST(AlgorithmCatalogue, ToTextMarksWhatIsInForceAndWhatIsRetired) {
  std::string text = Profile("sogis").ToText(At("2026-03-01"));
  EXPECT_NE(text.find("SOG-IS"), std::string::npos) << text;
  EXPECT_NE(text.find("Status as of 2026-03-01T00:00:00Z"), std::string::npos) << text;
  EXPECT_NE(LineWith(text, {"SHA-1 ", "2012-08-01", "retired"}), "") << text;
  EXPECT_NE(LineWith(text, {"SHA-256 ", "no end known", "in force"}), "") << text;
  EXPECT_NE(LineWith(text, {"RSA ", "1900-2999", "2025-12-31", "retired"}), "") << text;
  EXPECT_NE(LineWith(text, {"RSA-PSS ", "3000+", "in force"}), "") << text;
  EXPECT_NE(LineWith(text, {"ECDSA ", "224-255", "2021-10-01", "retired"}), "") << text;
  EXPECT_NE(text.find("New hash trees use: SHA-256"), std::string::npos) << text;
  // Before SOG-IS's date the same rule is still in force.
  EXPECT_NE(LineWith(Profile("sogis").ToText(At("2025-06-01")), {"RSA ", "1900-2999", "in force"}), "");
}

// --- malformed policy files: each error names the file and the entry ---

struct BadPolicy {
  const char* json;
  const char* expected;  // a piece of the error message
};

class MalformedPolicy : public ::testing::TestWithParam<BadPolicy> {};

TEST_P(MalformedPolicy, IsRejectedWithAClearMessage) {
  TempDir dir;
  Result<AlgorithmCatalogue> c = LoadText(dir, GetParam().json);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  const std::string msg = c.status().message();
  EXPECT_NE(msg.find((dir / "policy.json").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find(GetParam().expected), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    AlgorithmCatalogue, MalformedPolicy,
    ::testing::Values(
        BadPolicy{"{\"base\": \"etsi\",\n \"hash\": [}",
                  "line 2, column 11: not valid JSON: expected a value or ']', found '}'"},
        BadPolicy{"{\"base\": \"etsi\"\n \"hash\": []}", "line 2, column 2: not valid JSON: expected ',' or '}'"},
        // A misspelt key and a wrong type name the line they are on.
        BadPolicy{"{\"base\": \"etsi\",\n\n \"hashes\": []}", "line 3: top level: unknown member \"hashes\""},
        BadPolicy{"{\"hash\": [\n {\"algorithm\": \"SHA-256\",\n  \"end\": 2040}]}",
                  "line 3: hash entry 1 (SHA-256): \"end\" must be a date string or null, not a whole number"},
        BadPolicy{"{\"base\": \"etsi\",\n \"base\": \"bsi\"}", "line 2: \"base\" is given twice (first on line 1)"},
        BadPolicy{"[]", "must be a JSON object"},
        BadPolicy{R"({"hashes": []})", "unknown member \"hashes\""},
        BadPolicy{R"({"base": "nist"})", "unknown algorithm profile 'nist'"},
        BadPolicy{R"({"hash": [{"algorithm": "MD5", "end": null}]})", "hash entry 1: unknown hash algorithm 'MD5'"},
        BadPolicy{R"({"hash": [{"algorithm": "SHA-256"}]})", "hash entry 1 (SHA-256): \"end\" is missing"},
        BadPolicy{R"({"hash": [{"algorithm": "SHA-256", "end": null}, {"algorithm": "SHA-1", "end": "2012-13-01"}]})",
                  "hash entry 2 (SHA-1): bad \"end\""},
        BadPolicy{R"({"hash": [{"algorithm": "SHA-256", "end": 2040}]})", "\"end\" must be a date string or null"},
        BadPolicy{R"({"hash": [{"algorithm": "SHA-256", "end": null}, {"algorithm": "sha256", "end": null}]})",
                  "hash entry 2 (SHA-256): the algorithm is listed twice"},
        BadPolicy{R"({"signature": [{"key": "DSA", "min_bits": 2048, "end": null}]})",
                  "signature entry 1: unknown signature key type 'DSA'"},
        BadPolicy{R"({"signature": [{"key": "RSA", "min_bits": "2048", "end": null}]})",
                  "\"min_bits\" must be a whole number"},
        BadPolicy{R"({"signature": [{"key": "RSA", "min_bits": 0, "end": null}]})", "\"min_bits\" must be between"},
        BadPolicy{R"({"signature": [{"key": "RSA", "min_bits": 2048, "end": null, "until": "2030-01-01"}]})",
                  "signature entry 1: unknown member \"until\""},
        BadPolicy{R"({"signature": [{"key": "RSA", "min_bits": 2048, "end": null},
                                    {"key": "rsa", "min_bits": 2048, "end": "2030-01-01"}]})",
                  "signature entry 2 (RSA 2048 bits): the rule is listed twice"},
        BadPolicy{R"({"hash_preference": ["SHA-256", "SHA-256"]})", "SHA-256 is listed twice"},
        BadPolicy{R"({"hash_preference": []})", "\"hash_preference\" is empty"}));

TEST(AlgorithmCatalogue, MissingFileIsNotFound) {
  TempDir dir;
  Result<AlgorithmCatalogue> c = AlgorithmCatalogue::Load(dir / "absent.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("absent.json"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace preserve::policy
