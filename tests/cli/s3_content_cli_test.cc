// End-to-end: a store whose content is in S3, against the real RADOS Gateway
// of the CTest fixture `ceph_s3` (scripts/ceph-dev.sh, started in the build
// tree; tests/CMakeLists.txt). Each test has a prefix of its own in the
// Object Lock bucket, so they share the cluster without seeing each other's
// objects. The object store is changed behind preserve's back with the AWS
// CLI, as an intruder or a careless administrator would.
#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include <boost/json.hpp>

#include "store_cli_fixture.h"
#include "testing.h"

namespace preserve {
namespace {

using testing::CommandResult;
using testing::Contains;
using testing::ReadEnvFile;

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class S3Content : public ::testing::Test {
 protected:
  void SetUp() override {
    s3_ = ReadEnvFile(PRESERVE_CEPH_ENV);
    ASSERT_FALSE(s3_["S3_ENDPOINT"].empty())
        << "no Ceph cluster: " << PRESERVE_CEPH_ENV << " is missing (the ctest fixture ceph_s3 starts it)";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = std::string(info->name()) + "-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    bucket_ = s3_["S3_BUCKET_LOCKED"];
  }

  std::vector<std::string> S3Env() const {
    return {"AWS_ACCESS_KEY_ID=" + s3_.at("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY=" + s3_.at("AWS_SECRET_ACCESS_KEY")};
  }

  CommandResult Init(const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {"init", "--content", "s3://" + bucket_ + "/" + prefix_, "--s3-endpoint",
                                     s3_.at("S3_ENDPOINT"), "--s3-region", s3_.at("S3_REGION")};
    args.insert(args.end(), more.begin(), more.end());
    return Preserve(args);
  }

  CommandResult Preserve(std::vector<std::string> args, const std::vector<std::string>& env = {},
                         const std::string& now = "") {
    args.insert(args.begin(), PRESERVE_BIN);
    if (!now.empty()) args.push_back("--now=" + now);
    std::vector<std::string> all = S3Env();
    all.push_back("PRESERVE_STORE=" + store_.string());
    all.insert(all.end(), env.begin(), env.end());
    return testing::Run(args, all, {.drop_inherited_preserve_env = true, .kill_after = std::nullopt});
  }

  std::string IngestLetter(const std::vector<std::string>& env = {}) {
    CommandResult r = Preserve({"ingest", "--ids-only", "--allow-duplicate", "--trust", testing::kCliRootCa,
                                testing::SignedFixturePath("letter.txt"), "--signature",
                                testing::SignedFixturePath("letter.txt.p7s")},
                               env);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto lines = testing::Lines(r.out);
    return lines.empty() ? "" : lines.front();
  }

  CommandResult Aws(std::vector<std::string> args) {
    args.insert(args.begin(), {"aws", "--endpoint-url", s3_.at("S3_ENDPOINT")});
    std::vector<std::string> env = S3Env();
    env.insert(env.end(), {"AWS_DEFAULT_REGION=" + s3_.at("S3_REGION"), "AWS_EC2_METADATA_DISABLED=true",
                           "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_CONFIG_FILE=/dev/null", "NO_PROXY=127.0.0.1"});
    return testing::Run(args, env);
  }

  // Key -> size of every object under this test's prefix.
  std::map<std::string, std::uint64_t> Objects() {
    CommandResult r = Aws({"s3api", "list-objects-v2", "--bucket", bucket_, "--prefix", prefix_ + "/", "--output",
                           "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::uint64_t> out;
    if (r.out.find('{') == std::string::npos) return out;  // an empty listing prints nothing
    const boost::json::value v = boost::json::parse(r.out);
    if (const auto* contents = v.as_object().if_contains("Contents"))
      for (const auto& o : contents->as_array())
        out[std::string(o.at("Key").as_string())] = o.at("Size").to_number<std::uint64_t>();
    return out;
  }

  std::string Key(const std::string& sha256_hex) const { return prefix_ + "/" + sha256_hex; }

  // The SHA-256 of the fixture letter, as its object's name.
  static std::string LetterSha256() {
    CommandResult r = testing::Run({"sha256sum", testing::SignedFixturePath("letter.txt")});
    return r.out.substr(0, 64);
  }

  std::map<std::string, std::string> s3_;
  std::string prefix_;
  std::string bucket_;
  testing::TempDir dir_;
  std::filesystem::path store_ = dir_ / "store";
};

// Ingest, verify, export, fixity, check and backup with the documents'
// bytes in Ceph: every object under its SHA-256 with COMPLIANCE retention,
// a large document uploaded in parts, and the catalogue alone in RocksDB.
TEST_F(S3Content, IngestVerifyExportFixityCheckBackupWithContentInCeph) {
  CommandResult init = Init();
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_TRUE(Contains(init.err, "content goes to s3://" + bucket_ + "/" + prefix_)) << init.err;
  const std::string config = ReadText(store_ / "config.json");
  EXPECT_TRUE(Contains(config, "\"kind\":\"s3\"")) << config;
  EXPECT_FALSE(Contains(config, s3_.at("AWS_SECRET_ACCESS_KEY"))) << "a secret in config.json";

  const std::string id = IngestLetter();
  ASSERT_FALSE(id.empty());
  auto objects = Objects();
  ASSERT_EQ(objects.count(Key(LetterSha256())), 1u) << "the letter is not in the bucket";
  EXPECT_EQ(objects[Key(LetterSha256())], std::filesystem::file_size(testing::SignedFixturePath("letter.txt")));

  CommandResult retention = Aws({"s3api", "get-object-retention", "--bucket", bucket_, "--key", Key(LetterSha256())});
  EXPECT_EQ(retention.exit_code, 0) << retention.err;
  EXPECT_TRUE(Contains(retention.out, "COMPLIANCE")) << retention.out;

  // A 24 MiB document: staged, then uploaded in two parts of at most 16 MiB.
  const std::filesystem::path big = dir_ / "big.bin";
  {
    std::string bytes(24u << 20, '\0');
    std::mt19937_64 random(19);
    for (char& c : bytes) c = static_cast<char>(random());
    testing::WriteFile(big, bytes);
  }
  const std::string pki = (testing::kCliFixtures / "pki").string();
  CommandResult sign = testing::Run({"openssl", "cms", "-sign", "-binary", "-cades", "-md", "sha256", "-in",
                                     big.string(), "-signer", pki + "/signer-rsa.pem", "-inkey", pki + "/signer-rsa.key",
                                     "-certfile", pki + "/issuing-ca.pem", "-outform", "DER", "-out",
                                     big.string() + ".p7s"});
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  CommandResult ingest_big = Preserve({"ingest", "--ids-only", "--trust", testing::kCliRootCa, big.string(),
                                       "--signature", big.string() + ".p7s"});
  ASSERT_EQ(ingest_big.exit_code, 0) << ingest_big.err;
  const std::string big_sha = testing::Run({"sha256sum", big.string()}).out.substr(0, 64);
  CommandResult head = Aws({"s3api", "head-object", "--bucket", bucket_, "--key", Key(big_sha), "--query", "ETag",
                            "--output", "text"});
  EXPECT_EQ(head.exit_code, 0) << head.err;
  EXPECT_TRUE(Contains(head.out, "-2\"")) << "not a two-part upload: " << head.out;

  ASSERT_EQ(Preserve({"seal"}).exit_code, 0);
  CommandResult verify = Preserve({"verify", id});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  const std::filesystem::path zip = dir_ / "export.zip";
  CommandResult exported = Preserve({"export", id, zip.string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  CommandResult unzip = testing::Run({"unzip", "-p", zip.string(), "data/documents/letter.txt"});
  EXPECT_EQ(unzip.out, ReadText(testing::SignedFixturePath("letter.txt")));

  CommandResult fixity = Preserve({"fixity"});
  EXPECT_EQ(fixity.exit_code, 0) << fixity.out << fixity.err;
  EXPECT_TRUE(Contains(fixity.out, "0 damaged")) << fixity.out;

  CommandResult check = Preserve({"check", "--json"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_TRUE(Contains(check.out, "\"unreferenced_objects\":0")) << check.out;

  // The backup holds the catalogue (and config.json, naming the bucket): the content stays in Ceph.
  CommandResult backup = Preserve({"backup", (dir_ / "backup").string()});
  EXPECT_EQ(backup.exit_code, 0) << backup.out << backup.err;
  EXPECT_TRUE(Contains(ReadText(dir_ / "backup" / "config.json"), prefix_));
}

// An object overwritten, or deleted, behind preserve's back: fixity and check
// name the package. (Overwriting a key of a versioned bucket makes a new
// current version; deleting without a version lays a delete marker: Object
// Lock keeps the original version, which no plain read returns.)
TEST_F(S3Content, ObjectChangedOrDeletedBehindPreservesBackIsFoundByFixityAndCheck) {
  ASSERT_EQ(Init().exit_code, 0);
  const std::string id = IngestLetter();
  ASSERT_FALSE(id.empty());
  const std::string key = Key(LetterSha256());
  EXPECT_EQ(Preserve({"fixity"}).exit_code, 0);

  testing::WriteFile(dir_ / "forged.txt", "a forged letter\n");
  CommandResult put = Aws({"s3api", "put-object", "--bucket", bucket_, "--key", key, "--body",
                           (dir_ / "forged.txt").string()});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  CommandResult fixity = Preserve({"fixity"});
  EXPECT_NE(fixity.exit_code, 0) << fixity.out;
  EXPECT_TRUE(Contains(fixity.out, "DAMAGED  " + id)) << fixity.out;
  EXPECT_TRUE(Contains(fixity.out, "content changed")) << fixity.out;
  CommandResult check = Preserve({"check"});
  EXPECT_NE(check.exit_code, 0);
  EXPECT_TRUE(Contains(check.out, "package " + id + ": content " + LetterSha256() + " has 16 bytes")) << check.out;

  CommandResult del = Aws({"s3api", "delete-object", "--bucket", bucket_, "--key", key});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  fixity = Preserve({"fixity"});
  EXPECT_NE(fixity.exit_code, 0);
  EXPECT_TRUE(Contains(fixity.out, "DAMAGED  " + id)) << fixity.out;
  EXPECT_TRUE(Contains(fixity.out, "referenced but missing")) << fixity.out;
  check = Preserve({"check"});
  EXPECT_TRUE(Contains(check.out, "package " + id + ": content " + LetterSha256() + " is referenced but missing"))
      << check.out;
}

// Hash-tree renewal re-reads every object from the bucket and checks it
// against its SHA-256: a package whose signature was overwritten behind
// preserve's back is left out and named (exit 5), the other is renewed, and
// both stay as verify and fixity see them.
TEST_F(S3Content, HashTreeRenewalReadsTheBucketAndLeavesOutAChangedObject) {
  ASSERT_EQ(Init().exit_code, 0);
  const std::string damaged = IngestLetter();
  CommandResult p7m = Preserve({"ingest", "--ids-only", "--trust", testing::kCliRootCa,
                                testing::SignedFixturePath("letter.p7m")});
  ASSERT_EQ(p7m.exit_code, 0) << p7m.out << p7m.err;
  const std::string sound = testing::Lines(p7m.out).front();
  ASSERT_EQ(Preserve({"seal"}).exit_code, 0);
  const std::string signature_sha =
      testing::Run({"sha256sum", testing::SignedFixturePath("letter.txt.p7s")}).out.substr(0, 64);
  testing::WriteFile(dir_ / "forged.p7s", "not the signature\n");
  CommandResult put = Aws({"s3api", "put-object", "--bucket", bucket_, "--key", Key(signature_sha), "--body",
                           (dir_ / "forged.p7s").string()});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  testing::WriteFile(dir_ / "policy.json", R"({"name": "SHA-256 retired early", "base": "etsi",
    "hash": [{"algorithm": "SHA-256", "end": "2030-01-01"}]})");
  ASSERT_EQ(Preserve({"policy", "set", (dir_ / "policy.json").string()}).exit_code, 0);

  CommandResult renew = Preserve({"renew"}, {}, "2029-08-01T08:00:00Z");
  EXPECT_EQ(renew.exit_code, 5) << renew.out << renew.err;
  EXPECT_TRUE(Contains(renew.out, "NOT RENEWED, damaged: package " + damaged + ": ")) << renew.out;
  EXPECT_TRUE(Contains(renew.out, "does not match its SHA-256")) << renew.out;
  EXPECT_TRUE(Contains(renew.out, "renewed 1 package")) << renew.out;
  EXPECT_TRUE(Contains(renew.out, "hash-tree")) << renew.out;
  CommandResult verify = Preserve({"verify", sound}, {}, "2029-08-02T08:00:00Z");
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

// Object Lock refuses to delete a locked version before its date, to anyone;
// and when preserve's own rules would allow a deletion (the simulated clock
// past the package's retention) but the lock does not, the deletion fails and
// the catalogue still has the package and its content.
TEST_F(S3Content, LockedObjectIsNotDeletedBeforeItsRetentionDate) {
  ASSERT_EQ(Init().exit_code, 0);
  const std::string id = IngestLetter();
  ASSERT_FALSE(id.empty());
  const std::string key = Key(LetterSha256());

  CommandResult versions = Aws({"s3api", "list-object-versions", "--bucket", bucket_, "--prefix", key, "--query",
                                "Versions[0].VersionId", "--output", "text"});
  ASSERT_EQ(versions.exit_code, 0) << versions.err;
  const std::string version = testing::Lines(versions.out).at(0);
  CommandResult forced = Aws({"s3api", "delete-object", "--bucket", bucket_, "--key", key, "--version-id", version});
  EXPECT_NE(forced.exit_code, 0);
  EXPECT_TRUE(Contains(forced.err, "AccessDenied")) << forced.err;

  ASSERT_EQ(Preserve({"seal"}).exit_code, 0);
  ASSERT_EQ(Preserve({"retention", "set", id, "--years", "1", "--reason", "appraisal", "--by", "an"}).exit_code, 0);
  // The package was kept permanently when it was uploaded: its objects keep that (later) date, 2105-12-31.
  CommandResult deletion = Preserve({"delete", id, "--reason", "retention ended"}, {}, "2040-01-01T00:00:00Z");
  EXPECT_NE(deletion.exit_code, 0) << deletion.out;
  EXPECT_TRUE(Contains(deletion.err, "refuses to delete")) << deletion.err;
  CommandResult listed = Preserve({"list", "--json"});
  EXPECT_TRUE(Contains(listed.out, "\"state\":\"sealed\"")) << listed.out;
  EXPECT_EQ(Preserve({"fixity"}).exit_code, 0);
  EXPECT_EQ(Objects().count(key), 1u);
}

// A legal hold placed on a package holds its objects in S3 too, and lifting it lifts theirs.
TEST_F(S3Content, HoldPlacesAnS3LegalHold) {
  ASSERT_EQ(Init().exit_code, 0);
  const std::string id = IngestLetter();
  ASSERT_FALSE(id.empty());
  const std::string key = Key(LetterSha256());
  auto hold_status = [&] {
    CommandResult r = Aws({"s3api", "get-object-legal-hold", "--bucket", bucket_, "--key", key, "--query",
                           "LegalHold.Status", "--output", "text"});
    return r.out + r.err;
  };
  ASSERT_EQ(Preserve({"hold", "add", id, "--reason", "inquiry 12/2026", "--by", "an"}).exit_code, 0);
  EXPECT_TRUE(Contains(hold_status(), "ON")) << hold_status();
  ASSERT_EQ(Preserve({"hold", "remove", id, "--reason", "inquiry closed", "--by", "an"}).exit_code, 0);
  EXPECT_TRUE(Contains(hold_status(), "OFF")) << hold_status();
}

// A gateway that cannot be reached, or that accepts connections and never
// answers: ingest fails with a message naming the object store, exits
// non-zero, and acknowledges nothing.
TEST_F(S3Content, UnreachableOrSilentGatewayFailsIngestAndAcknowledgesNothing) {
  ASSERT_EQ(Init().exit_code, 0);
  std::string config = ReadText(store_ / "config.json");

  // A listening socket that never accepts: the connection is made (the
  // kernel's backlog), and no byte ever comes back.
  const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(silent, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(silent, 16), 0);
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string silent_url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));

  // A port nothing listens on: a closed socket's.
  const int closed = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in closed_address{};
  closed_address.sin_family = AF_INET;
  closed_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t closed_length = sizeof closed_address;
  ASSERT_EQ(::bind(closed, reinterpret_cast<sockaddr*>(&closed_address), closed_length), 0);
  ASSERT_EQ(::getsockname(closed, reinterpret_cast<sockaddr*>(&closed_address), &closed_length), 0);
  const std::string closed_url = "http://127.0.0.1:" + std::to_string(ntohs(closed_address.sin_port));
  ::close(closed);

  const std::string endpoint = "\"endpoint\":\"" + s3_.at("S3_ENDPOINT") + "\"";
  ASSERT_TRUE(Contains(config, endpoint)) << config;
  for (const auto& [url, expected] : {std::pair{closed_url, std::string("connect to server")},
                                      std::pair{silent_url, std::string("Timeout")}}) {
    SCOPED_TRACE(url);
    std::string changed = config;
    changed.replace(changed.find(endpoint), endpoint.size(), "\"endpoint\":\"" + url + "\"");
    changed.replace(changed.find("\"timeout_seconds\":30"), 20, "\"timeout_seconds\":2");
    testing::WriteFile(store_ / "config.json", changed);
    const auto start = std::chrono::steady_clock::now();
    CommandResult r = Preserve({"ingest", "--trust", testing::kCliRootCa, testing::SignedFixturePath("letter.txt"),
                                "--signature", testing::SignedFixturePath("letter.txt.p7s")});
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_TRUE(Contains(r.err, "s3://" + bucket_ + "/" + prefix_)) << r.err;
    EXPECT_TRUE(Contains(r.err, expected)) << r.err;
  }
  ::close(silent);

  testing::WriteFile(store_ / "config.json", config);
  CommandResult listed = Preserve({"list", "--json"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_FALSE(Contains(listed.out, "\"id\"")) << "a package was acknowledged: " << listed.out;
  EXPECT_TRUE(Objects().empty());
}

// A process killed after an upload and before its RocksDB commit: nothing
// acknowledged; 'check' counts the object as unreferenced, and 'gc' leaves
// it while Object Lock keeps it (it was uploaded with its retention). The
// package's objects go up several at a time, so which of them is up when the
// process dies is not known, only that one is.
TEST_F(S3Content, UploadWithoutCommitIsUnreferencedAndNotAcknowledged) {
  ASSERT_EQ(Init().exit_code, 0);
  CommandResult killed = Preserve({"ingest", "--trust", testing::kCliRootCa, testing::SignedFixturePath("letter.txt"),
                                   "--signature", testing::SignedFixturePath("letter.txt.p7s")},
                                  {"PRESERVE_FAULT_POINT=store.object.uploaded"});
  EXPECT_EQ(killed.term_signal, SIGKILL) << killed.out << killed.err;
  const std::map<std::string, std::uint64_t> uploaded = Objects();
  EXPECT_FALSE(uploaded.empty());

  CommandResult listed = Preserve({"list", "--json"});
  EXPECT_FALSE(Contains(listed.out, "\"id\"")) << listed.out;
  CommandResult check = Preserve({"check", "--json"});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_FALSE(Contains(check.out, "\"unreferenced_objects\":0")) << check.out;
  CommandResult gc = Preserve({"gc", "--json"});
  EXPECT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_FALSE(Contains(gc.out, "\"objects_kept_by_lock\":0")) << gc.out;
  for (const auto& [key, size] : uploaded) EXPECT_EQ(Objects().count(key), 1u) << key;
}

// The gateway killed in the middle of a large document's multipart upload
// (on a cluster of the test's own, since it is killed): ingest fails naming
// the object store, exits non-zero, and acknowledges nothing; no object was
// completed.
TEST_F(S3Content, GatewayKilledMidIngestFailsIngestAndAcknowledgesNothing) {
  const std::filesystem::path cluster = dir_ / "ceph";
  struct StopCluster {
    std::filesystem::path dir;
    ~StopCluster() { testing::Run({"bash", (testing::SourceDir() / "scripts/ceph-dev.sh").string(), "stop", dir.string()}); }
  } stop_cluster{cluster};
  CommandResult started =
      testing::Run({"bash", (testing::SourceDir() / "scripts/ceph-dev.sh").string(), "start", cluster.string()});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  s3_ = ReadEnvFile(cluster / "s3.env");
  ASSERT_EQ(Init().exit_code, 0);
  // Parts of 5 MiB: a 60 MiB document takes twelve, time enough to kill the gateway after the first.
  std::string config = ReadText(store_ / "config.json");
  config.replace(config.find("\"part_size_mib\":16"), 18, "\"part_size_mib\":5");
  config.replace(config.find("\"timeout_seconds\":30"), 20, "\"timeout_seconds\":5");
  testing::WriteFile(store_ / "config.json", config);

  const std::filesystem::path big = dir_ / "big.bin";
  {
    std::string bytes(60u << 20, '\0');
    std::mt19937_64 random(7);
    for (char& c : bytes) c = static_cast<char>(random());
    testing::WriteFile(big, bytes);
  }
  const std::string pki = (testing::kCliFixtures / "pki").string();
  ASSERT_EQ(testing::Run({"openssl", "cms", "-sign", "-binary", "-cades", "-md", "sha256", "-in", big.string(),
                          "-signer", pki + "/signer-rsa.pem", "-inkey", pki + "/signer-rsa.key", "-certfile",
                          pki + "/issuing-ca.pem", "-outform", "DER", "-out", big.string() + ".p7s"})
                .exit_code,
            0);

  CommandResult ingest;
  std::thread ingesting([&] {
    ingest = Preserve({"ingest", "--ids-only", "--trust", testing::kCliRootCa, big.string(), "--signature",
                       big.string() + ".p7s"});
  });
  // The gateway's log names each request once it is answered: kill it after the first part.
  const std::filesystem::path log = cluster / "log" / "client.rgw.dev.log";
  bool killed = false;
  for (int i = 0; i < 6000 && !killed; ++i) {
    if (ReadText(log).find("partNumber=1&") != std::string::npos) {
      const int pid = std::atoi(ReadText(cluster / "run" / "client.rgw.dev.pid").c_str());
      killed = pid > 0 && ::kill(pid, SIGKILL) == 0;
    }
    if (!killed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ingesting.join();
  ASSERT_TRUE(killed) << "the first part never arrived: " << ingest.err;
  EXPECT_NE(ingest.exit_code, 0) << ingest.out;
  EXPECT_TRUE(ingest.out.empty()) << "a package was acknowledged: " << ingest.out;
  EXPECT_TRUE(Contains(ingest.err, "s3://" + bucket_ + "/" + prefix_)) << ingest.err;
  CommandResult listed = Preserve({"list", "--json"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_FALSE(Contains(listed.out, "\"id\"")) << listed.out;
}

// Credentials from a file must be readable by its owner only.
TEST_F(S3Content, CredentialsFileReadableByOthersIsRefused) {
  const std::filesystem::path file = dir_ / "s3-credentials";
  testing::WriteFile(file, "AWS_ACCESS_KEY_ID=" + s3_.at("AWS_ACCESS_KEY_ID") + "\nAWS_SECRET_ACCESS_KEY=" +
                               s3_.at("AWS_SECRET_ACCESS_KEY") + "\n");
  std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::group_read);
  CommandResult refused = Init({"--s3-credentials-file", file.string()});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(Contains(refused.err, "may be read by its group or others")) << refused.err;
  EXPECT_FALSE(Contains(refused.err, s3_.at("AWS_SECRET_ACCESS_KEY")));

  std::filesystem::permissions(file, std::filesystem::perms::owner_read);
  CommandResult made = Init({"--s3-credentials-file", file.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  // Without the environment's keys: the file's are used.
  CommandResult r = testing::Run({PRESERVE_BIN, "ingest", "--ids-only", "--store", store_.string(), "--trust",
                                  testing::kCliRootCa, testing::SignedFixturePath("letter.txt"), "--signature",
                                  testing::SignedFixturePath("letter.txt.p7s")},
                                 {"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Objects().count(Key(LetterSha256())), 1u);
}

}  // namespace
}  // namespace preserve
