// RFC 3161 over HTTP against independent implementations:
//  - `preserve tsa serve` answers `openssl ts -query` sent by curl, and
//    `openssl ts -verify` accepts the reply; it serves concurrent clients with
//    distinct serial numbers, and exits 0 on SIGTERM; it fits its connection
//    limit to the descriptor limit;
//  - preserve's HTTP client gets verified tokens from a TSA made of
//    `openssl ts -reply` behind a loopback HTTP adapter.
// openssl and curl are required: without them these tests fail, never skip.
#include <gtest/gtest.h>
#include <signal.h>

#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "background_process.h"
#include "loopback_http_server.h"
#include "preserve/timestamp/http_tsa.h"
#include "preserve/util/certificates.h"
#include "openssl_tsa.h"
#include "testing.h"

namespace preserve::timestamp {
namespace {

using preserve::testing::CommandResult;
using preserve::testing::HttpRequest;
using preserve::testing::ReadFileOrDie;
using preserve::testing::Reply;
using preserve::testing::TempDir;
using preserve::testing::TestServer;
using preserve::testing::WriteFile;

constexpr HashAlgorithm kAlg = HashAlgorithm::kSha256;

// testing::Run, under a name that a test fixture's Run() does not hide.
CommandResult Command(const std::vector<std::string>& argv) { return preserve::testing::Run(argv); }

std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// `preserve tsa serve` in the background, on a free loopback port.
class TsaServeProcess : public preserve::testing::BackgroundProcess {
 public:
  explicit TsaServeProcess(const std::filesystem::path& store)
      : BackgroundProcess({PRESERVE_BIN, "tsa", "serve", "--store", store.string(), "--listen", "127.0.0.1:0",
                           "--threads", "4"}) {}
  std::string url() const { return "http://" + address() + "/"; }
};

void RequireTools() {
  CommandResult openssl = Command({"openssl", "version"});
  ASSERT_EQ(openssl.exit_code, 0) << "openssl is required for these tests: " << Describe(openssl);
  CommandResult curl = Command({"curl", "--version"});
  ASSERT_EQ(curl.exit_code, 0) << "curl is required for these tests (scripts/setup.sh): " << Describe(curl);
}

// --- preserve tsa serve, with openssl and curl as the clients ---

class TsaServeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    RequireTools();
    CommandResult init = Command(
        {PRESERVE_BIN, "init", "--store", store_.string(), "--tsa-key", GetParam(), "--organization", "Sở Nội vụ"});
    ASSERT_EQ(init.exit_code, 0) << Describe(init);
    ca_ = LoadCertificates(store_ / "tsa" / "ca.pem").value();
  }

  TempDir tmp_;
  SystemClock clock_;
  std::filesystem::path store_ = tmp_ / "store";
  std::vector<Bytes> ca_;
};

TEST_P(TsaServeTest, OpenSslQueryThroughCurlVerifies) {
  TsaServeProcess server(store_);
  ASSERT_FALSE(server.address().empty()) << server.output();
  std::string data = (tmp_ / "letter.txt").string();
  std::string query = (tmp_ / "q.tsq").string();
  std::string reply = (tmp_ / "r.tsr").string();
  WriteFile(data, std::string_view("Công văn 6587/UBND-CNXD"));
  CommandResult q = Command({"openssl", "ts", "-query", "-data", data, "-sha256", "-cert", "-out", query});
  ASSERT_EQ(q.exit_code, 0) << Describe(q);
  CommandResult curl =
      Command({"curl", "-sS", "--fail", "--data-binary", "@" + query, "-H", "Content-Type: application/timestamp-query",
               server.url(), "-o", reply, "-w", "%{content_type}"});
  ASSERT_EQ(curl.exit_code, 0) << Describe(curl);
  EXPECT_EQ(curl.out, "application/timestamp-reply");
  CommandResult verify = Command(
      {"openssl", "ts", "-verify", "-in", reply, "-queryfile", query, "-CAfile", (store_ / "tsa" / "ca.pem").string()});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
  EXPECT_NE(verify.out.find("Verification: OK"), std::string::npos) << Describe(verify);

  // The same query answered twice: two tokens, two serial numbers.
  std::string reply2 = (tmp_ / "r2.tsr").string();
  ASSERT_EQ(Command({"curl", "-sS", "--fail", "--data-binary", "@" + query, "-H",
                     "Content-Type: application/timestamp-query", server.url(), "-o", reply2})
                .exit_code,
            0);
  CommandResult text1 = Command({"openssl", "ts", "-reply", "-in", reply, "-text"});
  CommandResult text2 = Command({"openssl", "ts", "-reply", "-in", reply2, "-text"});
  std::regex serial("Serial number: (0x[0-9A-F]+)");
  std::smatch m1, m2;
  ASSERT_TRUE(std::regex_search(text1.out, m1, serial)) << text1.out;
  ASSERT_TRUE(std::regex_search(text2.out, m2, serial)) << text2.out;
  EXPECT_NE(m1[1], m2[1]);

  // Not a time-stamp query: refused at the HTTP level.
  CommandResult wrong_type = Command({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary",
                                      "@" + query, "-H", "Content-Type: text/plain", server.url()});
  EXPECT_EQ(wrong_type.out, "415") << Describe(wrong_type);
  CommandResult get = Command({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", server.url()});
  EXPECT_EQ(get.out, "405") << Describe(get);

  EXPECT_EQ(server.Stop(SIGTERM), 0) << server.output();
  EXPECT_NE(server.output().find("stopping on SIGTERM"), std::string::npos) << server.output();
}

TEST_P(TsaServeTest, ConcurrentClientsAndRestartsGetDistinctSerials) {
  std::mutex mutex;
  std::set<std::string> serials;
  std::vector<std::string> failures;
  Bytes imprint = Digest(kAlg, AsBytes("hồ sơ"));
  auto stamp_from = [&](const std::string& url, int clients, int requests) {
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&] {
        HttpTsaConfig config;
        config.url = url;
        config.tsa_trust_anchors = ca_;
        config.retries = 0;
        auto stamper = FailoverTimeStamper::Create({config}, clock_);
        for (int i = 0; i < requests && stamper.ok(); ++i) {
          auto stamped = stamper.value()->Stamp(kAlg, imprint);
          std::lock_guard lock(mutex);
          if (stamped.ok()) {
            serials.insert(stamped->info.serial_hex);
          } else {
            failures.push_back(stamped.status().ToString());
          }
        }
      });
    }
    for (auto& t : threads) t.join();
  };
  {
    TsaServeProcess server(store_);
    ASSERT_FALSE(server.address().empty()) << server.output();
    stamp_from(server.url(), 8, 20);
    EXPECT_EQ(server.Stop(SIGTERM), 0) << server.output();
  }
  {
    TsaServeProcess restarted(store_);
    ASSERT_FALSE(restarted.address().empty()) << restarted.output();
    stamp_from(restarted.url(), 2, 10);
    EXPECT_EQ(restarted.Stop(SIGINT), 0) << restarted.output();
  }
  ASSERT_TRUE(failures.empty()) << failures.size() << " failed, the first: " << failures.front();
  EXPECT_EQ(serials.size(), 180u);
}

INSTANTIATE_TEST_SUITE_P(TsaKeys, TsaServeTest, ::testing::Values("ec-p256", "rsa-3072"),
                         [](const auto& param_info) { return param_info.param == "rsa-3072" ? "Rsa3072" : "EcP256"; });

// A connection limit the descriptor limit cannot hold, which the process may
// not raise (the shell's ulimit sets the hard limit too): the server takes
// fewer connections, so it never runs out of descriptors, and says so.
TEST(TsaServe, FitsTheConnectionLimitToTheDescriptorLimit) {
  TempDir tmp;
  const std::filesystem::path store = tmp / "store";
  CommandResult init = Command({PRESERVE_BIN, "init", "--store", store.string(), "--tsa-key", "ec-p256"});
  ASSERT_EQ(init.exit_code, 0) << Describe(init);
  // The listen address has no port: the command ends once the limit is fitted.
  CommandResult serve = Command({"/bin/sh", "-c", "ulimit -n 100 && exec \"$0\" \"$@\"", PRESERVE_BIN, "tsa", "serve",
                                 "--store", store.string(), "--listen", "127.0.0.1", "--max-connections", "1000"});
  EXPECT_NE(serve.err.find("at most 36 connections: the descriptor limit is 100"), std::string::npos)
      << Describe(serve);
}

// --- preserve's client, with openssl ts -reply as the TSA ---

class OpenSslTsaOverHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    RequireTools();
    ASSERT_NO_FATAL_FAILURE(preserve::testing::MakeOpenSslTsa(tmp_.path()));
  }

  // The adapter: each POSTed query goes to `openssl ts -reply` through files.
  Reply OpenSslReply(const HttpRequest& request) {
    std::string query = (tmp_ / "request.tsq").string();
    std::string reply = (tmp_ / "reply.tsr").string();
    WriteFile(query, ByteView(request.body()));
    CommandResult r = preserve::testing::OpenSslTsReply(tmp_.path(), query, reply);
    if (r.exit_code != 0) return Reply{500, "text/plain", ToBytes(r.err), {}};
    return Reply{200, "application/timestamp-reply", ReadFileOrDie(reply), {}};
  }

  HttpTsaConfig Config(const std::string& url) {
    HttpTsaConfig config;
    config.name = "openssl ts -reply";
    config.url = url;
    config.tsa_trust_anchors = LoadCertificates(tmp_ / "ca.pem").value();
    config.max_accuracy = std::chrono::seconds(1);
    config.retries = 0;
    return config;
  }

  TempDir tmp_;
  SystemClock clock_;
};

TEST_F(OpenSslTsaOverHttp, PreserveClientGetsVerifiedTokens) {
  TestServer adapter([this](const HttpRequest& r) { return OpenSslReply(r); });
  HttpTsaConfig config = Config(adapter.url());
  config.policy_oid = "1.2.3.4.5";
  config.max_clock_skew = std::chrono::seconds(300);
  auto stamper = FailoverTimeStamper::Create({config}, clock_);
  ASSERT_TRUE(stamper.ok()) << stamper.status().ToString();
  for (HashAlgorithm alg : {HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
    Bytes imprint = Digest(alg, AsBytes("Nghị định 30/2020/NĐ-CP"));
    auto stamped = stamper.value()->Stamp(alg, imprint);
    ASSERT_TRUE(stamped.ok()) << stamped.status().ToString();
    EXPECT_EQ(stamped->tsa, "openssl ts -reply");
    EXPECT_EQ(stamped->info.policy_oid, "1.2.3.4.5");
    EXPECT_EQ(stamped->info.imprint, imprint);
    EXPECT_FALSE(stamped->info.nonce.empty());
  }
  EXPECT_EQ(adapter.requests(), 2);

  // openssl's TSA refuses a digest its configuration does not list; that
  // refusal comes through HTTP intact, and no token with it.
  auto refused = stamper.value()->Stamp(HashAlgorithm::kSha3_256, Digest(HashAlgorithm::kSha3_256, AsBytes("x")));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("badAlg"), std::string::npos) << refused.status().ToString();
}

TEST_F(OpenSslTsaOverHttp, FailsOverFromADeadTsaToOpenSsl) {
  TestServer adapter([this](const HttpRequest& r) { return OpenSslReply(r); });
  HttpTsaConfig dead = Config(preserve::testing::DownUrl());
  dead.name = "dead";
  auto stamper = FailoverTimeStamper::Create({dead, Config(adapter.url())}, clock_);
  ASSERT_TRUE(stamper.ok()) << stamper.status().ToString();
  auto stamped = stamper.value()->Stamp(kAlg, Digest(kAlg, AsBytes("x")));
  ASSERT_TRUE(stamped.ok()) << stamped.status().ToString();
  EXPECT_EQ(stamped->tsa, "openssl ts -reply");
  EXPECT_EQ(stamped->attempts, 2);
  // The failover is handed to the caller, which reports it.
  ASSERT_EQ(stamped->failed_over.size(), 1u);
  EXPECT_EQ(stamped->failed_over[0].tsa, "dead");
  EXPECT_NE(stamped->failed_over[0].reason.find("cannot connect"), std::string::npos) << stamped->failed_over[0].reason;
}

}  // namespace
}  // namespace preserve::timestamp

namespace preserve::timestamp {
namespace {

// --- an archive sealing through external TSAs over HTTP ---

// Points `store`'s config.json at these TSA URLs (priority order), all trusting `trust`.
void UseExternalTsas(const std::filesystem::path& store, const std::vector<std::string>& urls,
                     const std::filesystem::path& trust) {
  std::string tsas;
  for (const auto& url : urls) {
    if (!tsas.empty()) tsas += ",";
    tsas += R"({"url":")" + url + R"(","trust":")" + trust.string() + R"(","timeout_ms":2000,"retries":1,"backoff_ms":50})";
  }
  WriteFile(store / "config.json", R"({"renewal_margin_days":180,"tsa_key":"ec-p256","tsa_validity_years":10,"tsas":[)" +
                                       tsas + "]}");
}

TEST(ExternalTsa, UnreachableTsaLeavesPackagesQueuedAndTheNextRunSeals) {
  RequireTools();
  TempDir tmp;
  std::filesystem::path tsa_store = tmp / "tsa-store";
  std::filesystem::path archive = tmp / "archive";
  ASSERT_EQ(Command({PRESERVE_BIN, "init", "--store", tsa_store.string()}).exit_code, 0);
  ASSERT_EQ(Command({PRESERVE_BIN, "init", "--store", archive.string()}).exit_code, 0);
  const std::filesystem::path fixtures = preserve::testing::SourceDir() / "tests" / "fixtures";
  const std::filesystem::path tsa_ca = tsa_store / "tsa" / "ca.pem";

  // Nothing listens on port 9 of loopback: the TSA is down.
  UseExternalTsas(archive, {"http://127.0.0.1:9/"}, tsa_ca);
  CommandResult ingest = Command({PRESERVE_BIN, "ingest", "--store", archive.string(), "--trust",
                                  (fixtures / "pki" / "root-ca.pem").string(), (fixtures / "signed" / "letter.p7m").string()});
  EXPECT_EQ(ingest.exit_code, 4) << Describe(ingest);
  EXPECT_NE(ingest.err.find("sealing failed"), std::string::npos) << Describe(ingest);
  const std::size_t arrow = ingest.out.find(" -> ");  // "INPUT -> ID", or the id alone
  std::string id = ingest.out.substr(arrow == std::string::npos ? 0 : arrow + 4, 36);
  CommandResult list = Command({PRESERVE_BIN, "list", "--store", archive.string()});
  EXPECT_NE(list.out.find(id + "  "), std::string::npos) << Describe(list);
  EXPECT_NE(list.out.find("queued"), std::string::npos) << Describe(list);

  // The next run, with a second TSA that answers: failover seals the queue.
  TsaServeProcess server(tsa_store);
  ASSERT_FALSE(server.address().empty()) << server.output();
  UseExternalTsas(archive, {"http://127.0.0.1:9/", server.url()}, tsa_ca);
  CommandResult seal = Command({PRESERVE_BIN, "seal", "--store", archive.string()});
  EXPECT_EQ(seal.exit_code, 0) << Describe(seal);
  EXPECT_NE(seal.err.find("sealed 1 package"), std::string::npos) << Describe(seal);
  // The failover is said on stderr, and recorded in the seal's audit event:
  // which TSA failed, why, and which one answered.
  // A TSA is named by its URL ("http://host:port" without the path) when config.json gives it no name.
  const std::string answered = "http://" + server.address();
  EXPECT_NE(seal.err.find("preserve: TSA failover: http://127.0.0.1:9 failed ("), std::string::npos)
      << Describe(seal);
  EXPECT_NE(seal.err.find("Connection refused"), std::string::npos) << Describe(seal);
  EXPECT_NE(seal.err.find("); " + answered + " answered\n"), std::string::npos) << Describe(seal);
  CommandResult log = Command({PRESERVE_BIN, "audit-log", "show", "--json", "--store", archive.string()});
  ASSERT_EQ(log.exit_code, 0) << Describe(log);
  std::string seal_event;
  for (std::size_t start = 0, end; start < log.out.size(); start = end + 1) {
    end = std::min(log.out.find('\n', start), log.out.size());
    const std::string line = log.out.substr(start, end - start);
    if (line.find(R"("event":"seal")") != std::string::npos) seal_event = line;
  }
  EXPECT_NE(seal_event.find(R"("tsa":")" + answered + "\""), std::string::npos) << log.out;
  EXPECT_NE(seal_event.find(R"("tsa_failed":"http://127.0.0.1:9: )"), std::string::npos) << log.out;
  CommandResult verify = Command({PRESERVE_BIN, "verify", "--store", archive.string(), id});
  EXPECT_EQ(verify.exit_code, 0) << Describe(verify);

  // Exported, it verifies offline against the external TSA's CA.
  std::string zip = (tmp / "p.zip").string();
  ASSERT_EQ(Command({PRESERVE_BIN, "export", "--store", archive.string(), id, zip}).exit_code, 0);
  CommandResult offline = Command({PRESERVE_BIN, "verify-package", zip, "--tsa-trust", tsa_ca.string(), "--trust",
                                   (fixtures / "pki" / "root-ca.pem").string()});
  EXPECT_EQ(offline.exit_code, 0) << Describe(offline);
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace preserve::timestamp
