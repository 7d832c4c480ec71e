// The RFC 3161 HTTP(S) client and failover, against a loopback server that
// answers honestly (through an embedded TSA) or with one fault each: TSA down,
// HTTP 500, too slow, garbage, wrong content type, oversized answer, wrong
// nonce, wrong imprint, rejection, grantedWithMods, an untrusted TSA. Every
// fault must give an error that says what happened, and no token.
#include "preserve/timestamp/http_tsa.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "loopback_http_server.h"
#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/util/certificates.h"
#include "preserve/util/openssl_ptr.h"
#include "testing.h"

namespace preserve::timestamp {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using preserve::testing::CommandResult;
using preserve::testing::DownUrl;
using preserve::testing::Handler;
using preserve::testing::Reply;
using preserve::testing::TempDir;
using preserve::testing::TestServer;
using preserve::testing::WriteFile;
using Request = preserve::testing::HttpRequest;
using std::chrono::milliseconds;

constexpr HashAlgorithm kAlg = HashAlgorithm::kSha256;

// --- mangling requests and responses with OpenSSL ---

TsReqPtr ParseRequest(const Bytes& der) {
  const unsigned char* p = der.data();
  return TsReqPtr(d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
}

Bytes WithNonce(const Bytes& request_der, long nonce) {
  TsReqPtr request = ParseRequest(request_der);
  Asn1IntegerPtr n(ASN1_INTEGER_new());
  ASN1_INTEGER_set(n.get(), nonce);
  TS_REQ_set_nonce(request.get(), n.get());
  return ToDer(i2d_TS_REQ, request.get());
}

Bytes WithImprint(const Bytes& request_der, ByteView imprint) {
  TsReqPtr request = ParseRequest(request_der);
  TS_MSG_IMPRINT_set_msg(TS_REQ_get_msg_imprint(request.get()), const_cast<std::uint8_t*>(imprint.data()),
                         static_cast<int>(imprint.size()));
  return ToDer(i2d_TS_REQ, request.get());
}

Bytes WithPolicy(const Bytes& request_der, const char* oid) {
  TsReqPtr request = ParseRequest(request_der);
  Asn1ObjectPtr policy(OBJ_txt2obj(oid, 1));
  TS_REQ_set_policy_id(request.get(), policy.get());
  return ToDer(i2d_TS_REQ, request.get());
}

Bytes WithStatus(const Bytes& response_der, long status) {
  const unsigned char* p = response_der.data();
  TsRespPtr response(d2i_TS_RESP(nullptr, &p, static_cast<long>(response_der.size())));
  TS_STATUS_INFO_set_status(TS_RESP_get_status_info(response.get()), static_cast<int>(status));
  return ToDer(i2d_TS_RESP, response.get());
}

// A TimeStampResp with `status` and, as RFC 3161 demands of any but granted, no token.
Bytes StatusOnly(int status) {
  TsRespPtr response(TS_RESP_new());
  std::unique_ptr<TS_STATUS_INFO, OpenSslFree<TS_STATUS_INFO_free>> info(TS_STATUS_INFO_new());
  TS_STATUS_INFO_set_status(info.get(), status);
  TS_RESP_set_status_info(response.get(), info.get());
  return ToDer(i2d_TS_RESP, response.get());
}

class HttpTsaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CreateEmbeddedTsa(tmp_ / "tsa", {}, clock_).ok());
    ASSERT_TRUE(CreateEmbeddedTsa(tmp_ / "other-tsa", {}, clock_).ok());
    auto tsa = EmbeddedTsa::Open(tmp_ / "tsa", clock_);
    ASSERT_TRUE(tsa.ok()) << tsa.status().ToString();
    tsa_ = std::move(tsa.value());
  }

  // The embedded TSA's honest answer to a (possibly altered) request.
  Reply Honest(const Bytes& request_der) {
    auto answer = tsa_->Exchange(request_der);
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    return Reply{200, "application/timestamp-reply", answer.ok() ? *answer : Bytes{}, milliseconds(0)};
  }
  Handler HonestHandler() {
    return [this](const Request& r) { return Honest(r.body()); };
  }

  HttpTsaConfig Config(const std::string& url, const std::string& name = "") {
    HttpTsaConfig config;
    config.name = name;
    config.url = url;
    config.tsa_trust_anchors = {tsa_->ca_certificate()};
    config.timeout = milliseconds(2000);
    config.retries = 0;
    config.backoff = milliseconds(10);
    return config;
  }

  Result<TimeStampFromTsa> Stamp(std::vector<HttpTsaConfig> configs) {
    auto stamper = FailoverTimeStamper::Create(std::move(configs), clock_);
    if (!stamper.ok()) return stamper.status();
    return stamper.value()->Stamp(kAlg, imprint_);
  }

  // Stamping through a server with `handler` fails, and the message says `expected`.
  void ExpectFault(const Handler& handler, const std::string& expected, HttpTsaConfig config = {}) {
    TestServer server(handler);
    if (config.url.empty()) config = Config(server.url());
    config.url = server.url();
    auto stamped = Stamp({config});
    ASSERT_FALSE(stamped.ok()) << "a token came back through the fault '" << expected << "'";
    EXPECT_EQ(stamped.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(stamped.status().message().find(expected), std::string::npos) << stamped.status().ToString();
    EXPECT_NE(stamped.status().message().find("127.0.0.1"), std::string::npos) << "names the TSA";
  }

  TempDir tmp_;
  SystemClock clock_;
  std::unique_ptr<EmbeddedTsa> tsa_;
  Bytes imprint_ = Digest(kAlg, AsBytes("Công văn số 6587/UBND-CNXD"));
};

TEST_F(HttpTsaTest, HonestTsaGivesAVerifiedToken) {
  TestServer server(HonestHandler());
  auto stamped = Stamp({Config(server.url(), "internal TSA")});
  ASSERT_TRUE(stamped.ok()) << stamped.status().ToString();
  EXPECT_EQ(stamped->tsa, "internal TSA");
  EXPECT_EQ(stamped->attempts, 1);
  EXPECT_EQ(stamped->info.imprint, imprint_);
  EXPECT_EQ(stamped->info.policy_oid, kEmbeddedTsaPolicyOid);
  EXPECT_TRUE(VerifyToken(stamped->token, kAlg, imprint_, {{tsa_->ca_certificate()}, {}, std::nullopt}).ok());
}

TEST_F(HttpTsaTest, TransportSendsRfc3161Headers) {
  Bytes content_type, accept;
  TestServer server([&](const Request& r) {
    content_type = ToBytes(std::string(r[http::field::content_type]));
    accept = ToBytes(std::string(r[http::field::accept]));
    EXPECT_EQ(r.method(), http::verb::post);
    EXPECT_EQ(r.target(), "/tsa");
    return Honest(r.body());
  });
  auto transport = HttpTsaTransport::Create(Config(server.url()));
  ASSERT_TRUE(transport.ok()) << transport.status().ToString();
  EXPECT_EQ(transport.value()->name(), server.url().substr(0, server.url().size() - 4));  // no path
  ASSERT_TRUE(RequestTimeStamp(*transport.value(), kAlg, imprint_).ok());
  EXPECT_EQ(ToString(content_type), "application/timestamp-query");
  EXPECT_EQ(ToString(accept), "application/timestamp-reply");
}

// --- each fault: an error, no token ---

TEST_F(HttpTsaTest, TsaDown) {
  auto stamped = Stamp({Config(DownUrl())});
  ASSERT_FALSE(stamped.ok());
  EXPECT_EQ(stamped.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(stamped.status().message().find("cannot connect"), std::string::npos) << stamped.status().ToString();
  EXPECT_NE(stamped.status().message().find("refused"), std::string::npos) << stamped.status().ToString();
}

TEST_F(HttpTsaTest, Http500) {
  ExpectFault(
      [](const Request&) {
        return Reply{500, "text/plain", ToBytes("boom"), milliseconds(0)};
      },
      "HTTP 500 Internal Server Error");
}

TEST_F(HttpTsaTest, TooSlow) {
  HttpTsaConfig config = Config("http://unused");
  config.timeout = milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  ExpectFault(
      [this](const Request& r) {
        Reply reply = Honest(r.body());
        reply.delay = milliseconds(1500);
        return reply;
      },
      "within 300 ms", config);
  // The client gave up at its deadline (the server's destructor waited for the rest).
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(300));
}

TEST_F(HttpTsaTest, GarbageBody) {
  ExpectFault(
      [](const Request&) {
        return Reply{200, "application/timestamp-reply", ToBytes("<html>"), {}};
      },
      "not a DER TimeStampResp");
}

TEST_F(HttpTsaTest, WrongContentType) {
  ExpectFault(
      [this](const Request& r) {
        Reply reply = Honest(r.body());
        reply.content_type = "text/html";
        return reply;
      },
      "content type 'text/html'");
}

TEST_F(HttpTsaTest, OversizedAnswer) {
  HttpTsaConfig config = Config("http://unused");
  config.max_response_bytes = 1000;
  ExpectFault(
      [](const Request&) {
        return Reply{200, "application/timestamp-reply", Bytes(5000, 0x30), {}};
      },
      "exceeds 1000 bytes", config);
}

TEST_F(HttpTsaTest, WrongNonce) {
  ExpectFault([this](const Request& r) { return Honest(WithNonce(r.body(), 42)); }, "nonce is not the one requested");
}

TEST_F(HttpTsaTest, WrongImprint) {
  Bytes other = Digest(kAlg, AsBytes("another document"));
  ExpectFault([&](const Request& r) { return Honest(WithImprint(r.body(), other)); },
              "imprint is not the one requested");
}

TEST_F(HttpTsaTest, Rejection) {
  ExpectFault(
      [](const Request&) {
        return Reply{200, "application/timestamp-reply", StatusOnly(TS_STATUS_REJECTION), {}};
      },
      "TSA answered rejection");
}

TEST_F(HttpTsaTest, GrantedWithMods) {
  ExpectFault(
      [this](const Request& r) {
        return Reply{
            200, "application/timestamp-reply", WithStatus(Honest(r.body()).body, TS_STATUS_GRANTED_WITH_MODS), {}};
      },
      "grantedWithMods");
}

TEST_F(HttpTsaTest, UntrustedTsa) {
  HttpTsaConfig config = Config("http://unused");
  config.tsa_trust_anchors = LoadCertificates(tmp_ / "other-tsa" / "ca.pem").value();
  ExpectFault(HonestHandler(), "time-stamp", config);
}

TEST_F(HttpTsaTest, WrongPolicy) {
  HttpTsaConfig config = Config("http://unused");
  config.policy_oid = "1.2.3.4.5";
  // A TSA that ignores the requested policy and signs under its own.
  ExpectFault([this](const Request& r) { return Honest(WithPolicy(r.body(), kEmbeddedTsaPolicyOid)); },
              "is not the requested 1.2.3.4.5", config);
}

TEST_F(HttpTsaTest, AccuracyAndClockSkew) {
  TestServer server(HonestHandler());  // the embedded TSA states 1 s
  HttpTsaConfig config = Config(server.url());
  config.max_accuracy = milliseconds(1000);
  config.max_clock_skew = std::chrono::seconds(60);
  ASSERT_TRUE(Stamp({config}).ok());
  config.max_accuracy = milliseconds(500);
  auto coarse = Stamp({config});
  ASSERT_FALSE(coarse.ok());
  EXPECT_NE(coarse.status().message().find("coarser than the 500 ms"), std::string::npos) << coarse.status().ToString();

  ManualClock far_future(clock_.Now() + std::chrono::hours(24));
  config.max_accuracy.reset();
  auto stamper = FailoverTimeStamper::Create({config}, far_future);
  ASSERT_TRUE(stamper.ok());
  auto skewed = stamper.value()->Stamp(kAlg, imprint_);
  ASSERT_FALSE(skewed.ok());
  EXPECT_NE(skewed.status().message().find("from the local clock"), std::string::npos) << skewed.status().ToString();
}

// --- retries, backoff, failover ---

TEST_F(HttpTsaTest, TransientFailuresAreRetriedWithBackoff) {
  std::atomic<int> seen{0};
  TestServer server([&](const Request& r) {
    if (++seen <= 2) return Reply{503, "text/plain", ToBytes("busy"), {}};
    return Honest(r.body());
  });
  HttpTsaConfig config = Config(server.url());
  config.retries = 2;
  config.backoff = milliseconds(100);
  auto start = std::chrono::steady_clock::now();
  auto stamped = Stamp({config});
  ASSERT_TRUE(stamped.ok()) << stamped.status().ToString();
  EXPECT_EQ(stamped->attempts, 3);
  EXPECT_EQ(server.requests(), 3);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(100 + 200));  // doubling backoff
}

TEST_F(HttpTsaTest, RetriesRunOut) {
  TestServer server([](const Request&) { return Reply{500, "text/plain", {}, {}}; });
  HttpTsaConfig config = Config(server.url());
  config.retries = 2;
  auto stamped = Stamp({config});
  ASSERT_FALSE(stamped.ok());
  EXPECT_EQ(server.requests(), 3);
  EXPECT_NE(stamped.status().message().find("after 3 attempts"), std::string::npos) << stamped.status().ToString();
}

TEST_F(HttpTsaTest, TsaWaitingStatusIsRetried) {
  std::atomic<int> seen{0};
  TestServer server([&](const Request& r) {
    if (++seen == 1) return Reply{200, "application/timestamp-reply", StatusOnly(TS_STATUS_WAITING), {}};
    return Honest(r.body());
  });
  HttpTsaConfig config = Config(server.url());
  config.retries = 1;
  auto stamped = Stamp({config});
  ASSERT_TRUE(stamped.ok()) << stamped.status().ToString();
  EXPECT_EQ(server.requests(), 2);
}

TEST_F(HttpTsaTest, MisbehaviourIsNotRetried) {
  TestServer server([this](const Request& r) { return Honest(WithNonce(r.body(), 7)); });
  HttpTsaConfig config = Config(server.url());
  config.retries = 3;
  ASSERT_FALSE(Stamp({config}).ok());
  EXPECT_EQ(server.requests(), 1);
}

TEST_F(HttpTsaTest, FailsOverInPriorityOrder) {
  TestServer broken([](const Request&) { return Reply{500, "text/plain", {}, {}}; });
  TestServer good(HonestHandler());
  TestServer unused(HonestHandler());
  auto stamped = Stamp({Config(DownUrl(), "primary"), Config(broken.url(), "secondary"), Config(good.url(), "tertiary"),
                        Config(unused.url(), "last")});
  ASSERT_TRUE(stamped.ok()) << stamped.status().ToString();
  EXPECT_EQ(stamped->tsa, "tertiary");
  EXPECT_EQ(stamped->attempts, 3);
  EXPECT_EQ(unused.requests(), 0);
}

TEST_F(HttpTsaTest, AllFailingListsEveryTsa) {
  TestServer broken([](const Request&) { return Reply{500, "text/plain", {}, {}}; });
  HttpTsaConfig sha512_only = Config(broken.url(), "sha512-tsa");
  sha512_only.hash = HashAlgorithm::kSha512;
  auto stamped = Stamp({Config(DownUrl(), "primary"), Config(broken.url(), "secondary"), sha512_only});
  ASSERT_FALSE(stamped.ok());
  std::string m = stamped.status().message();
  EXPECT_NE(m.find("primary: "), std::string::npos) << m;
  EXPECT_NE(m.find("secondary: "), std::string::npos) << m;
  EXPECT_NE(m.find("sha512-tsa: not used for SHA-256"), std::string::npos) << m;
  EXPECT_EQ(broken.requests(), 1);
}

TEST_F(HttpTsaTest, BadConfigurationsAreRefused) {
  EXPECT_EQ(HttpTsaTransport::Create(Config("ftp://tsa.example/")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpTsaTransport::Create(Config("http://tsa.example:99999/")).status().code(),
            StatusCode::kInvalidArgument);
  HttpTsaConfig no_anchors = Config("http://127.0.0.1:1/");
  no_anchors.tsa_trust_anchors.clear();
  EXPECT_EQ(FailoverTimeStamper::Create({no_anchors}, clock_).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Stamp({}).ok());
  TestServer server(HonestHandler());
  auto stamper = FailoverTimeStamper::Create({Config(server.url())}, clock_);
  ASSERT_TRUE(stamper.ok());
  EXPECT_EQ(stamper.value()->Stamp(kAlg, Bytes(20, 1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.requests(), 0);
}

// --- secrets ---

TEST_F(HttpTsaTest, BasicAuthFromFileOrEnvironment) {
  const std::string password = "s3cret-Đắk-Nông";
  const std::string expected = "Basic " + [&] {
    std::string plain = "archive:" + password;
    std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
    out.resize(static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                                        reinterpret_cast<const unsigned char*>(plain.data()),
                                                        static_cast<int>(plain.size()))));
    return out;
  }();
  TestServer server([&](const Request& r) {
    if (r[http::field::authorization] != expected) return Reply{401, "text/plain", ToBytes("who are you?"), {}};
    return Honest(r.body());
  });
  WriteFile(tmp_ / "password", password + "\n");
  HttpTsaConfig config = Config(server.url());
  config.basic_auth_user = "archive";
  config.basic_auth_password_file = (tmp_ / "password").string();
  auto stamped = Stamp({config});
  ASSERT_TRUE(stamped.ok()) << stamped.status().ToString();
  EXPECT_EQ(server.last_authorization(), expected);

  ::setenv("PRESERVE_TEST_TSA_PASSWORD", "wrong-password-42", 1);
  config.basic_auth_password_file.clear();
  config.basic_auth_password_env = "PRESERVE_TEST_TSA_PASSWORD";
  auto refused = Stamp({config});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("HTTP 401"), std::string::npos) << refused.status().ToString();
  EXPECT_EQ(refused.status().message().find("wrong-password-42"), std::string::npos);
  EXPECT_EQ(refused.status().message().find(server.last_authorization().substr(6)), std::string::npos);

  ::unsetenv("PRESERVE_TEST_TSA_PASSWORD");
  auto unset = HttpTsaTransport::Create(config);
  EXPECT_EQ(unset.status().code(), StatusCode::kNotFound) << unset.status().ToString();

  HttpTsaConfig in_url = Config("http://archive:" + password + "@127.0.0.1:1/");
  auto refused_url = HttpTsaTransport::Create(in_url);
  ASSERT_FALSE(refused_url.ok());
  EXPECT_EQ(refused_url.status().message().find(password), std::string::npos) << refused_url.status().ToString();
}

// --- TLS ---

// A test PKI made with the openssl command line: a CA, a server certificate
// for 127.0.0.1, a client certificate; and another CA trusting nothing here.
class HttpsTsaTest : public HttpTsaTest {
 protected:
  void SetUp() override {
    HttpTsaTest::SetUp();
    ASSERT_EQ(preserve::testing::Run({"openssl", "version"}).exit_code, 0) << "the openssl binary is required";
    dir_ = tmp_.path().string();
    WriteFile(tmp_ / "ext.cnf", std::string_view(R"([server]
basicConstraints = CA:FALSE
subjectAltName = IP:127.0.0.1
extendedKeyUsage = serverAuth
[client]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
)"));
    MakeCa("ca");
    MakeCa("stranger-ca");
    Issue("server", "server");
    Issue("client", "client");
    server_tls_.use_certificate_chain_file(dir_ + "/server.pem");
    server_tls_.use_private_key_file(dir_ + "/server.key", asio::ssl::context::pem);
  }

  void OpenSsl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    CommandResult r = preserve::testing::Run(args);
    ASSERT_EQ(r.exit_code, 0) << args[1] << ": " << r.err;
  }
  void MakeCa(const std::string& name) {
    OpenSsl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             dir_ + "/" + name + ".key", "-out", dir_ + "/" + name + ".pem", "-subj", "/CN=" + name, "-days", "2",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"});
  }
  void Issue(const std::string& name, const std::string& extensions) {
    OpenSsl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             dir_ + "/" + name + ".key", "-out", dir_ + "/" + name + ".csr", "-subj", "/CN=" + name});
    OpenSsl({"x509", "-req", "-in", dir_ + "/" + name + ".csr", "-CA", dir_ + "/ca.pem", "-CAkey", dir_ + "/ca.key",
             "-set_serial", "7", "-days", "2", "-extfile", dir_ + "/ext.cnf", "-extensions", extensions, "-out",
             dir_ + "/" + name + ".pem"});
  }

  HttpTsaConfig HttpsConfig(const std::string& url, const std::string& ca) {
    HttpTsaConfig config = Config(url);
    config.tls_trust_anchors = LoadCertificates(tmp_ / (ca + ".pem")).value();
    return config;
  }

  std::string dir_;
  asio::ssl::context server_tls_{asio::ssl::context::tls_server};
};

TEST_F(HttpsTsaTest, TrustedServerCertificate) {
  TestServer server(HonestHandler(), &server_tls_);
  ASSERT_EQ(server.url().substr(0, 8), "https://");
  auto stamped = Stamp({HttpsConfig(server.url(), "ca")});
  ASSERT_TRUE(stamped.ok()) << stamped.status().ToString();

  // The same, with the anchors from a PEM file.
  HttpTsaConfig from_file = Config(server.url());
  from_file.tls_ca_file = dir_ + "/ca.pem";
  EXPECT_TRUE(Stamp({from_file}).ok());
}

TEST_F(HttpsTsaTest, UntrustedServerCertificate) {
  TestServer server(HonestHandler(), &server_tls_);
  auto stamped = Stamp({HttpsConfig(server.url(), "stranger-ca")});
  ASSERT_FALSE(stamped.ok());
  EXPECT_NE(stamped.status().message().find("TLS handshake failed"), std::string::npos) << stamped.status().ToString();
  EXPECT_NE(stamped.status().message().find("certificate"), std::string::npos) << stamped.status().ToString();
  EXPECT_EQ(server.requests(), 0);
}

TEST_F(HttpsTsaTest, ClientCertificate) {
  server_tls_.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  server_tls_.load_verify_file(dir_ + "/ca.pem");
  TestServer server(HonestHandler(), &server_tls_);

  EXPECT_FALSE(Stamp({HttpsConfig(server.url(), "ca")}).ok()) << "the server demands a client certificate";
  HttpTsaConfig config = HttpsConfig(server.url(), "ca");
  config.client_cert_file = dir_ + "/client.pem";
  config.client_key_file = dir_ + "/client.key";
  auto stamped = Stamp({config});
  ASSERT_TRUE(stamped.ok()) << stamped.status().ToString();

  config.client_key_file = dir_ + "/server.key";  // not the certificate's key
  auto mismatched = HttpTsaTransport::Create(config);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("does not match"), std::string::npos) << mismatched.status().ToString();
}

}  // namespace
}  // namespace preserve::timestamp
