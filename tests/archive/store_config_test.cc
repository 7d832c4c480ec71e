// A store's config.json read strictly (archive/src/store_config.cc): a
// misspelt key, a wrong type or a syntax error names the key or the line and
// column, instead of being ignored.
#include "store_config.h"

#include <gtest/gtest.h>

#include "testing.h"

namespace preserve::archive {
namespace {

namespace fs = std::filesystem;

const std::string kTrust = (testing::SourceDir() / "tests" / "fixtures" / "pki" / "root-ca.pem").string();

struct Bad {
  std::string text;
  std::string message;  // after "ROOT/config.json: "
};

TEST(StoreConfig, ReadsEveryKey) {
  testing::TempDir root;
  auto config = ParseStoreConfig(R"({"renewal_margin_days": 90, "tsa_key": "rsa-3072", "tsa_validity_years": 5,
    "tsas": [{"name": "first", "url": "http://127.0.0.1:9/", "trust": ")" + kTrust + R"(", "hash": "SHA-384",
              "timeout_ms": 2000, "retries": 0, "backoff_ms": 10, "policy": "1.2.3"},
             {"url": "https://tsa.example/", "trust": ")" + kTrust + R"(", "tls_ca_file": "ca.pem"}],
    "commit_subjects": 1000})",
                                 root.path());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->renewal_margin, std::chrono::days(90));
  EXPECT_EQ(config->tsa_key, timestamp::TsaKeyType::kRsa3072);
  EXPECT_EQ(config->tsa_validity_years, 5);
  EXPECT_EQ(config->commit_subjects, 1000u);
  ASSERT_EQ(config->external_tsas.size(), 2u);
  EXPECT_EQ(config->external_tsas[0].name, "first");
  EXPECT_EQ(config->external_tsas[0].hash, HashAlgorithm::kSha384);
  EXPECT_EQ(config->external_tsas[0].timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(config->external_tsas[0].retries, 0);
  EXPECT_FALSE(config->external_tsas[0].tsa_trust_anchors.empty());
  EXPECT_EQ(config->external_tsas[1].tls_ca_file, (root / "ca.pem").string());  // relative to the store

  auto empty = ParseStoreConfig("{}", root.path());
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->external_tsas.empty());
  EXPECT_EQ(empty->jobs.seal_every, std::chrono::seconds(60));  // the defaults of jobs.h
  EXPECT_EQ(empty->commit_subjects, 16384u);
  EXPECT_EQ(empty->jobs.renew_every, std::chrono::hours(24));
  EXPECT_EQ(empty->jobs.fixity_every, std::chrono::days(7));
  EXPECT_EQ(empty->jobs.fixity_sample, 0.01);
  EXPECT_EQ(empty->jobs.retry_after, std::chrono::minutes(15));
}

TEST(StoreConfig, ReadsTheJobsSchedule) {
  testing::TempDir root;
  auto config = ParseStoreConfig(R"({"renewal_margin_days": 30, "jobs": {"seal_every": "10s", "renew_every": "6h",
    "fixity_every": "2d", "fixity_sample": 0.5, "retry_after": "5m"}})",
                                 root.path());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->jobs.seal_every, std::chrono::seconds(10));
  EXPECT_EQ(config->jobs.renew_every, std::chrono::hours(6));
  EXPECT_EQ(config->jobs.fixity_every, std::chrono::days(2));
  EXPECT_EQ(config->jobs.fixity_sample, 0.5);
  EXPECT_EQ(config->jobs.retry_after, std::chrono::minutes(5));
  // Keys left out keep their defaults; a sample of 1 (every package) is a whole number in JSON.
  auto some = ParseStoreConfig(R"({"jobs": {"fixity_sample": 1}})", root.path());
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  EXPECT_EQ(some->jobs.fixity_sample, 1.0);
  EXPECT_EQ(some->jobs.seal_every, std::chrono::seconds(60));
}

TEST(StoreConfig, JobsMistakesNameTheKeyAndTheLine) {
  testing::TempDir root;
  const std::vector<Bad> cases = {
      {"{\"jobs\": {\n\"seal_evry\": \"60s\"}}",
       "line 2: unknown key \"jobs.seal_evry\" (known: seal_every, renew_every, fixity_every, fixity_sample, "
       "retry_after)"},
      {"{\"jobs\": {\"seal_every\": \"60\"}}",
       "line 1: \"jobs.seal_every\" must be a duration: a whole number and a unit, s, m, h or d (\"60s\", \"15m\", "
       "\"24h\", \"7d\"), not \"60\""},
      {"{\"jobs\": {\"renew_every\": \"1w\"}}", "\"jobs.renew_every\" must be a duration"},
      {"{\"jobs\": {\"renew_every\": \"-1h\"}}", "\"jobs.renew_every\" must be a duration"},
      {"{\"jobs\": {\"renew_every\": \"1.5h\"}}", "\"jobs.renew_every\" must be a duration"},
      {"{\"jobs\": {\"seal_every\": \"0s\"}}", "line 1: \"jobs.seal_every\" must be positive, not \"0s\""},
      {"{\"jobs\": {\"retry_after\": 900}}",
       "line 1: \"jobs.retry_after\" must be a duration in a string, such as \"60s\", \"24h\" or \"7d\", not a whole "
       "number"},
      {"{\"jobs\": {\"fixity_every\": \"99999999d\"}}", "\"jobs.fixity_every\" must be at most 36500d"},
      {"{\"jobs\": {\"fixity_sample\": 0}}", "line 1: \"jobs.fixity_sample\" must be a fraction in (0, 1]"},
      {"{\"jobs\": {\"fixity_sample\": 1.5}}", "line 1: \"jobs.fixity_sample\" must be a fraction in (0, 1]"},
      {"{\"jobs\": {\"fixity_sample\": \"1%\"}}", "\"jobs.fixity_sample\" must be a fraction in (0, 1], such as 0.01, not a string"},
      {"{\"jobs\": [\"seal\"]}", "line 1: \"jobs\" must be an object {\"seal_every\": \"60s\", ...}, not an array"},
      {"{\"renewal_margin_days\": 1,\n \"jobs\": {\n  \"renew_every\": \"2d\"}}",
       "line 3: \"jobs.renew_every\" must be shorter than the renewal margin (1 day, renewal_margin_days)"},
      {"{\"jobs\": {\"seal_every\": \"1m\",\n\"seal_every\": \"2m\"}}", "line 2: \"seal_every\" is given twice"},
  };
  for (const Bad& c : cases) {
    auto config = ParseStoreConfig(c.text, root.path());
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(config.status().message().find(c.message), std::string::npos) << c.text << "\n"
                                                                          << config.status().message();
  }
}

TEST(StoreConfig, MistakesNameTheKeyAndTheLine) {
  testing::TempDir root;
  const std::string tsa = R"({"url": "http://127.0.0.1:9/", "trust": ")" + kTrust + R"("})";
  const std::vector<Bad> cases = {
      // The misspelling that used to seal silently with the embedded TSA.
      {"{\"renewal_margin_days\": 180,\n \"tsa_list\": [" + tsa + "]}",
       "line 2: unknown key \"tsa_list\" (known: renewal_margin_days, tsa_key, tsa_validity_years, tsas, jobs, "
       "commit_subjects, renewal_objects_per_pass, cache_mib, content)"},
      {"{\"renewal_margin_days\": \"180\"}",
       "line 1: \"renewal_margin_days\" must be a whole number between 0 and 36500, not a string"},
      {"{\"renewal_margin_days\": -1}", "line 1: \"renewal_margin_days\" must be between 0 and 36500"},
      {"{\"tsa_validity_years\": 0}", "line 1: \"tsa_validity_years\" must be between 1 and 100"},
      {"{\n\"tsa_key\": 256}", "line 2: \"tsa_key\" must be a string, not a whole number"},
      {"{\"tsas\": {}}", "line 1: \"tsas\" must be an array, not an object"},
      {"{\"tsas\": [\"http://x/\"]}", "line 1: \"tsas[0]\" must be an object {\"url\": ..., \"trust\": ...}, not a string"},
      {"{\"tsas\": [\n" + tsa + ",\n {\"url\": 8080}]}", "line 3: \"tsas[1].url\" must be a string, not a whole number"},
      {"{\"tsas\": [\n {\"url\": \"http://x/\",\n  \"trusted\": \"ca.pem\"}]}",
       "line 3: unknown key \"tsas[0].trusted\" (known: name, url, policy, hash, trust, basic_auth_user, "
       "basic_auth_password_file, basic_auth_password_env, tls_ca_file, client_cert_file, client_key_file, "
       "timeout_ms, retries, backoff_ms)"},
      {"{\"tsas\": [{\"trust\": \"ca.pem\"}]}", "line 1: \"tsas[0].url\" is required (the TSA's http:// or https:// address)"},
      {"{\"tsas\": [{\"url\": \"http://x/\"}]}", "line 1: \"tsas[0].trust\" is required (the file of the TSA's CA certificates)"},
      {"{\"tsas\": [{\"url\": \"http://x/\", \"trust\": \"ca.pem\"}]}",
       "line 1: \"tsas[0].trust\" cannot be read: " + (root / "ca.pem").string()},
      {"{\"tsas\": [{\"url\": \"http://x/\", \"trust\": \"" + kTrust + "\", \"timeout_ms\": 1.5}]}",
       "line 1: \"tsas[0].timeout_ms\" must be a whole number between 1 and 86400000, not a number"},
      {"{\"tsa_key\": \"ec-p256\",\n\"tsa_key\": \"rsa-3072\"}", "line 2: \"tsa_key\" is given twice (first on line 1)"},
      {"{\"tsa_key\": \"ec-p256\"\n \"tsas\": []}", "line 2, column 2: not valid JSON: expected ',' or '}', found \"tsas\""},
      {"{\"tsas\": [\n  {\"url\": \"x\",}\n]}", "line 2, column 15: not valid JSON: expected a key in double quotes, found '}'"},
      {"[]", "must be a JSON object {...}, not an array"},
      {"{\"content\": {\"kind\": \"s4\"}}",
       "line 1: \"content.kind\" is required: \"rocksdb\" (content in the database) or \"s3\" (an S3 bucket)"},
      {"{\"content\": {\"kind\": \"s3\", \"endpoint\": \"http://127.0.0.1:7480\"}}",
       "line 1: \"content.bucket\" is required"},
      {"{\"content\": {\"kind\": \"s3\", \"bucket\": \"b\"}}", "line 1: \"content.endpoint\" is required"},
      {"{\"content\": {\"kind\": \"s3\", \"bucket\": \"b\", \"endpoint\": \"http://h\",\n\"lock_mode\": \"STRICT\"}}",
       "line 2: \"content.lock_mode\" an object lock mode is COMPLIANCE, GOVERNANCE or NONE"},
      {"{\"content\": {\"kind\": \"s3\", \"bucket\": \"b\", \"endpoint\": \"http://h\", \"secret_key\": \"x\"}}",
       "unknown key \"content.secret_key\""},
      {"{\"content\": {\"kind\": \"s3\", \"bucket\": \"b\", \"endpoint\": \"http://h\", \"part_size_mib\": 4}}",
       "\"content.part_size_mib\" must be between 5 and 512"},
  };
  for (const Bad& c : cases) {
    auto config = ParseStoreConfig(c.text, root.path());
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << c.text;
    const std::string prefix = (root / "config.json").string() + ": ";
    const std::string message = config.status().message();
    EXPECT_EQ(message.substr(0, prefix.size()), prefix) << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << c.text << "\n" << message;
  }
}

// The content location: S3 read with its defaults, saved and read back the same; rocksdb is the default.
TEST(StoreConfig, ReadsAndSavesTheContentLocation) {
  testing::TempDir root;
  auto s3 = ParseStoreConfig(R"({"content": {"kind": "s3", "bucket": "archive", "prefix": "vn/dak-nong",
                                             "endpoint": "http://127.0.0.1:7480", "lock_mode": "GOVERNANCE",
                                             "credentials_file": "s3.keys", "part_size_mib": 8}})",
                             root.path());
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  ASSERT_TRUE(s3->content.has_value());
  EXPECT_EQ(s3->content->bucket, "archive");
  EXPECT_EQ(s3->content->prefix, "vn/dak-nong/");
  EXPECT_EQ(s3->content->region, "us-east-1");
  EXPECT_TRUE(s3->content->path_style);
  EXPECT_EQ(s3->content->lock_mode, storage::ObjectLockMode::kGovernance);
  EXPECT_EQ(s3->content->credentials_file, (root / "s3.keys").string());
  EXPECT_EQ(s3->content->part_size, 8u << 20);
  ASSERT_TRUE(SaveStoreConfig(root.path(), s3.value()).ok());
  auto again = LoadStoreConfig(root.path());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_TRUE(again->content.has_value());
  EXPECT_EQ(again->content->prefix, "vn/dak-nong/");
  EXPECT_EQ(again->content->endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(again->content->lock_mode, storage::ObjectLockMode::kGovernance);
  EXPECT_EQ(again->content->part_size, 8u << 20);

  auto rocks = ParseStoreConfig(R"({"content": {"kind": "rocksdb"}})", root.path());
  ASSERT_TRUE(rocks.ok());
  EXPECT_FALSE(rocks->content.has_value());
}

TEST(StoreConfig, LoadGivesDefaultsWhenAbsentAndRefusesWhatIsWrong) {
  testing::TempDir root;
  auto absent = LoadStoreConfig(root.path());
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_EQ(absent->renewal_margin, std::chrono::days(180));
  testing::WriteFile(root / "config.json", "{\"tsa_lsit\": []}");
  auto bad = LoadStoreConfig(root.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown key \"tsa_lsit\""), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace preserve::archive
