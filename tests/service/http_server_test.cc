// The HTTP(S) transport of `preserve serve` (service/src/http_server.cc),
// served in this process and spoken to by real peers: curl, openssl s_client,
// and a raw socket for what no client sends on purpose (malformed, slow,
// pipelined requests). The certificates are made with the openssl command for
// each test process, on first use.
#include "http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "preserve/util/file_descriptor.h"
#include "raw_http_client.h"
#include "testing.h"

namespace preserve::service {
namespace {

using preserve::testing::CommandResult;
using preserve::testing::TempDir;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

milliseconds Since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// --- certificates, made with the openssl command ---

struct Pki {
  TempDir dir;
  fs::path ca;                       // issued the server's certificate
  fs::path server_cert, server_key;  // 127.0.0.1 and localhost
  fs::path client_ca;                // the CA the server asks client certificates under
  fs::path client_cert, client_key, client_der;
  fs::path other_cert, other_key;  // a client certificate under another CA
};

void Openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = preserve::testing::Run(argv);
  ASSERT_EQ(r.exit_code, 0) << "openssl " << args.front() << ": " << r.err;
}

void MakeCa(const Pki& pki, const std::string& name) {
  Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
           (pki.dir / (name + ".key")).string(), "-out", (pki.dir / (name + ".pem")).string(), "-days", "2", "-subj",
           "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign,cRLSign"});
}

void MakeLeaf(const Pki& pki, const std::string& name, const std::string& ca, const std::string& extensions,
              int serial) {
  const fs::path ext = pki.dir / (name + ".ext");
  preserve::testing::WriteFile(
      ext, "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n" + extensions + "\n");
  Openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
           (pki.dir / (name + ".key")).string(), "-out", (pki.dir / (name + ".csr")).string(), "-subj", "/CN=" + name});
  Openssl({"x509", "-req", "-in", (pki.dir / (name + ".csr")).string(), "-CA", (pki.dir / (ca + ".pem")).string(),
           "-CAkey", (pki.dir / (ca + ".key")).string(), "-set_serial", std::to_string(serial), "-days", "2", "-out",
           (pki.dir / (name + ".pem")).string(), "-extfile", ext.string()});
}

// Made once per test process, by the first test that needs it.
const Pki& TestPki() {
  static const std::unique_ptr<Pki> pki = [] {
    auto made = std::make_unique<Pki>();
    MakeCa(*made, "server-ca");
    MakeCa(*made, "client-ca");
    MakeCa(*made, "other-ca");
    MakeLeaf(*made, "server", "server-ca", "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost", 1);
    MakeLeaf(*made, "client", "client-ca", "extendedKeyUsage=clientAuth", 2);
    MakeLeaf(*made, "other", "other-ca", "extendedKeyUsage=clientAuth", 3);
    made->ca = made->dir / "server-ca.pem";
    made->server_cert = made->dir / "server.pem";
    made->server_key = made->dir / "server.key";
    made->client_ca = made->dir / "client-ca.pem";
    made->client_cert = made->dir / "client.pem";
    made->client_key = made->dir / "client.key";
    made->client_der = made->dir / "client.der";
    made->other_cert = made->dir / "other.pem";
    made->other_key = made->dir / "other.key";
    Openssl({"x509", "-in", made->client_cert.string(), "-outform", "DER", "-out", made->client_der.string()});
    return made;
  }();
  return *pki;
}

// --- a raw client ---

using Client = preserve::testing::RawHttpClient;
using Response = preserve::testing::RawHttpResponse;

std::string Get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

// --- the fixture ---

class HttpServerTest : public ::testing::Test {
 protected:
  // Short limits, so that the time limits are tested in well under a second or two.
  static HttpServerOptions Options() {
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.worker_threads = 4;
    options.max_body_bytes = 1000;
    options.max_head_bytes = 2048;
    options.max_connections = 16;
    options.idle_timeout = milliseconds(5000);
    options.request_timeout = milliseconds(5000);
    return options;
  }

  static HttpServerOptions TlsOptions(bool ask_client_certificates) {
    const Pki& pki = TestPki();
    HttpServerOptions options = Options();
    options.tls = HttpTlsFiles{pki.server_cert, pki.server_key, std::nullopt};
    if (ask_client_certificates) options.tls->client_ca = pki.client_ca;
    return options;
  }

  void StartServer(const HttpServerOptions& options) {
    auto started = HttpServer::Start(
        options, [this](const HttpRequest& request) { return Handle(request); },
        [](unsigned status, const std::string& detail) {
          return HttpResponse{status, "text/plain", "refused " + std::to_string(status) + ": " + detail, {}};
        });
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started.value());
    base_ = std::string(options.tls ? "https://" : "http://") + server_->local_endpoint();
  }

  // /slow?ms=N sleeps; /throw throws; /bad-field answers a field with a line
  // break; anything else is echoed.
  HttpResponse Handle(const HttpRequest& request) {
    ++calls_;
    {
      std::lock_guard lock(mutex_);
      last_ = request;
    }
    if (request.target.starts_with("/slow?ms=")) {
      slow_entered_ = true;
      std::this_thread::sleep_for(milliseconds(std::stoi(request.target.substr(9))));
    }
    if (request.target == "/throw") throw std::runtime_error("a handler's bug");
    if (request.target == "/bad-field") return HttpResponse{200, "text/plain", "x", {{"X-Bad", "a\r\nSet-Cookie: y"}}};
    std::string echo =
        "method=" + request.method + "\ntarget=" + request.target + "\nbody=" + request.body +
        "\nremote=" + request.remote_address + "\ntls=" + (request.tls ? "yes" : "no") + "\nclient-certificate=" +
        (request.client_certificate ? std::to_string(request.client_certificate->size()) + " bytes" : "none") + "\n";
    return HttpResponse{200, "text/plain", echo, {{"X-Echo", "1"}}};
  }

  HttpRequest LastRequest() {
    std::lock_guard lock(mutex_);
    return last_;
  }

  // curl, told to ignore proxies and ~/.curlrc, and to give up rather than hang.
  static CommandResult Curl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"curl", "-q", "-sS", "--noproxy", "*", "--max-time", "10", "--http1.1"};
    argv.insert(argv.end(), args.begin(), args.end());
    return preserve::testing::Run(argv);
  }

  // curl over TLS to this server, trusting its CA.
  CommandResult CurlTls(std::vector<std::string> args) {
    args.insert(args.begin(), {"--cacert", TestPki().ca.string()});
    return Curl(args);
  }

  std::string base_;  // "http://127.0.0.1:PORT"
  std::atomic<int> calls_{0};
  std::atomic<bool> slow_entered_{false};
  std::mutex mutex_;
  HttpRequest last_;
  std::unique_ptr<HttpServer> server_;  // last: stopped before what its handler uses goes
};

// --- plain HTTP/1.1 ---

TEST_F(HttpServerTest, CurlReusesTheConnectionForTwoRequests) {
  StartServer(Options());
  const CommandResult r = Curl({"-v", base_ + "/a", base_ + "/b?x=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "method=GET\ntarget=/a\nbody=\nremote=127.0.0.1\ntls=no\nclient-certificate=none\n"
            "method=GET\ntarget=/b?x=1\nbody=\nremote=127.0.0.1\ntls=no\nclient-certificate=none\n");
  EXPECT_TRUE(Contains(r.err, "Re-using existing connection")) << r.err;
  EXPECT_TRUE(Contains(r.err, "< X-Echo: 1")) << r.err;
  EXPECT_TRUE(Contains(r.err, "< Date: ")) << r.err;
  EXPECT_EQ(calls_, 2);
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  StartServer(Options());
  const CommandResult r = Curl({"-v", "-H", "Connection: close", base_ + "/a", base_ + "/b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(Contains(r.err, "Re-using existing connection")) << r.err;
  EXPECT_TRUE(Contains(r.err, "< Connection: close")) << r.err;

  Client client(server_->local_endpoint());
  ASSERT_TRUE(client.Send(Get("/a", "Connection: close\r\n")));
  const Response response = client.Receive();
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.close);
  EXPECT_TRUE(client.Closed());
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer(Options());
  Client client(server_->local_endpoint());
  ASSERT_TRUE(client.Send(Get("/slow?ms=300") + Get("/second") + Get("/third", "Connection: close\r\n")));
  EXPECT_TRUE(Contains(client.Receive().body, "target=/slow?ms=300\n"));
  EXPECT_TRUE(Contains(client.Receive().body, "target=/second\n"));
  const Response third = client.Receive();
  EXPECT_TRUE(Contains(third.body, "target=/third\n"));
  EXPECT_TRUE(third.close);
  EXPECT_TRUE(client.Closed());
}

// Fields of one name come together, in the order received (Beast keeps them
// so); the order between names carries no meaning (RFC 9110 5.3).
TEST_F(HttpServerTest, FieldsReachTheHandlerLowerCasedInOrder) {
  StartServer(Options());
  Client client(server_->local_endpoint());
  ASSERT_TRUE(
      client.Send("POST /p HTTP/1.1\r\nHost: test\r\nX-Test: one\r\nContent-Length: 3\r\nx-TEST: two\r\n\r\nabc"));
  EXPECT_EQ(client.Receive().status, 200);
  const HttpRequest request = LastRequest();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.body, "abc");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"host", "test"}, {"x-test", "one"}, {"x-test", "two"}, {"content-length", "3"}};
  EXPECT_EQ(request.headers, expected);
  ASSERT_NE(request.Header("x-test"), nullptr);
  EXPECT_EQ(*request.Header("x-test"), "one");
  EXPECT_EQ(request.Header("x-absent"), nullptr);
}

TEST_F(HttpServerTest, HeadIsAnsweredWithoutABody) {
  StartServer(Options());
  Client client(server_->local_endpoint());
  // Were a body sent after the HEAD answer, the next answer would not parse.
  ASSERT_TRUE(client.Send("HEAD /a HTTP/1.1\r\nHost: test\r\n\r\n" + Get("/b")));
  const Response head = client.Receive(/*head_request=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(Contains(head.head, "\r\nContent-Length: 76\r\n")) << head.head;  // the echo's length
  const Response next = client.Receive();
  EXPECT_EQ(next.status, 200);
  EXPECT_TRUE(Contains(next.body, "target=/b\n"));
}

TEST_F(HttpServerTest, Http10KeepsTheConnectionOnlyWhenAsked) {
  StartServer(Options());
  Client kept(server_->local_endpoint());
  ASSERT_TRUE(kept.Send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const Response first = kept.Receive();
  EXPECT_EQ(first.status, 200);
  EXPECT_TRUE(Contains(first.head, "\r\nConnection: keep-alive\r\n")) << first.head;
  ASSERT_TRUE(kept.Send("GET /b HTTP/1.0\r\n\r\n"));
  const Response second = kept.Receive();
  EXPECT_TRUE(Contains(second.body, "target=/b\n"));
  EXPECT_TRUE(second.close);
  EXPECT_TRUE(kept.Closed());
}

// --- the limits ---

TEST_F(HttpServerTest, BodyAtTheLimitIsServedAndOneByteMoreIs413) {
  StartServer(Options());
  TempDir dir;
  preserve::testing::WriteFile(dir / "limit", std::string(1000, 'a'));
  preserve::testing::WriteFile(dir / "over", std::string(1001, 'a'));
  const CommandResult at =
      Curl({"-w", "\n%{http_code}", "--data-binary", "@" + (dir / "limit").string(), base_ + "/up"});
  ASSERT_EQ(at.exit_code, 0) << at.err;
  EXPECT_TRUE(Contains(at.out, "body=" + std::string(1000, 'a') + "\n"));
  EXPECT_TRUE(at.out.ends_with("\n200"));
  EXPECT_EQ(calls_, 1);

  const CommandResult over =
      Curl({"-v", "-w", "\n%{http_code}", "--data-binary", "@" + (dir / "over").string(), base_ + "/up"});
  EXPECT_EQ(over.out, "refused 413: the body exceeds 1000 bytes\n413");
  EXPECT_TRUE(Contains(over.err, "< Connection: close")) << over.err;
  EXPECT_EQ(calls_, 1) << "the handler never sees a refused request";
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  StartServer(Options());
  Client client(server_->local_endpoint());
  std::string request = "POST /up HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 11; ++i) request += "64\r\n" + std::string(100, 'b') + "\r\n";  // 1100 bytes
  request += "0\r\n\r\n";
  ASSERT_TRUE(client.Send(request));
  const Response response = client.Receive();
  EXPECT_EQ(response.status, 413);
  EXPECT_TRUE(response.close);
  EXPECT_EQ(calls_, 0);
}

TEST_F(HttpServerTest, ExpectContinueIsAnsweredBeforeTheBody) {
  StartServer(Options());
  Client client(server_->local_endpoint());
  ASSERT_TRUE(client.Send("POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(client.Receive().status, 100);
  ASSERT_TRUE(client.Send("hello"));
  EXPECT_TRUE(Contains(client.Receive().body, "body=hello\n"));

  // Too large: refused at once, the body never asked for.
  Client over(server_->local_endpoint());
  ASSERT_TRUE(over.Send("POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(over.Receive().status, 413);
  EXPECT_TRUE(over.Closed());
  EXPECT_EQ(calls_, 1);
}

// A head the screen refuses is answered before its body is sent, and the
// body is never read; one it lets through is read and handled as usual.
TEST_F(HttpServerTest, ScreenAnswersFromTheHeadWithoutReadingTheBody) {
  HttpServerOptions options = Options();
  std::atomic<int> screened{0};
  options.screen = [&screened](const HttpRequest& head) -> std::optional<HttpResponse> {
    ++screened;
    EXPECT_TRUE(head.body.empty());
    if (head.Header("authorization") != nullptr) return std::nullopt;
    return HttpResponse{401, "text/plain", "who are you?", {{"WWW-Authenticate", "Bearer"}}};
  };
  StartServer(options);
  Client refused(server_->local_endpoint());
  // Announces a body of 1000 bytes (the limit) and sends none of it: the answer comes anyway.
  ASSERT_TRUE(refused.Send("POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n"));
  Response r = refused.Receive();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "who are you?");
  EXPECT_TRUE(r.close);
  EXPECT_EQ(calls_, 0);  // the handler never saw it

  Client admitted(server_->local_endpoint());
  ASSERT_TRUE(admitted.Send("POST /upload HTTP/1.1\r\nHost: test\r\nAuthorization: x\r\nContent-Length: 3\r\n\r\nabc"));
  r = admitted.Receive();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(Contains(r.body, "body=abc")) << r.body;
  EXPECT_EQ(calls_, 1);
  // A request without a body is not screened: the handler decides.
  ASSERT_TRUE(admitted.Send(Get("/no-body")));
  EXPECT_EQ(admitted.Receive().status, 200);
  EXPECT_EQ(screened, 2);
}

TEST_F(HttpServerTest, MalformedRequestsAre400AndClosed) {
  StartServer(Options());
  for (const std::string& request :
       {std::string("THIS IS NOT HTTP\r\n\r\n"), std::string("GET / HTTP/1.1\r\n\r\n"),  // no Host
        std::string("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nHost: a\r\nbad field\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15)}) {
    Client client(server_->local_endpoint());
    ASSERT_TRUE(client.Send(request));
    const Response response = client.Receive();
    EXPECT_EQ(response.status, 400) << request;
    EXPECT_TRUE(response.body.starts_with("refused 400: ")) << response.body;
    EXPECT_TRUE(response.close);
    EXPECT_TRUE(client.Closed());
  }
  Client future(server_->local_endpoint());
  ASSERT_TRUE(future.Send("GET / HTTP/2.0\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(future.Receive().body, "refused 400: malformed HTTP request: bad version");
  EXPECT_EQ(calls_, 0);
}

TEST_F(HttpServerTest, HeadOverTheLimitIs431) {
  StartServer(Options());
  Client client(server_->local_endpoint());
  ASSERT_TRUE(client.Send(Get("/a", "X-Big: " + std::string(3000, 'x') + "\r\n")));
  const Response response = client.Receive();
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(response.body, "refused 431: the request line and header fields exceed 2 KiB");
  EXPECT_TRUE(client.Closed());
  EXPECT_EQ(calls_, 0);
}

TEST_F(HttpServerTest, SlowClientGets408AtTheRequestTimeout) {
  HttpServerOptions options = Options();
  options.request_timeout = milliseconds(600);
  StartServer(options);

  // Half a head, then silence.
  Client silent(server_->local_endpoint());
  const auto start = SteadyClock::now();
  ASSERT_TRUE(silent.Send("GET /a HTTP/1.1\r\nHost: te"));
  const Response response = silent.Receive();
  EXPECT_EQ(response.status, 408);
  EXPECT_EQ(response.body, "refused 408: the request did not arrive within 600 ms");
  EXPECT_GE(Since(start), milliseconds(550));
  EXPECT_LT(Since(start), milliseconds(2000));
  EXPECT_TRUE(silent.Closed());

  // A byte every 100 ms: progress does not extend the deadline.
  Client dribbling(server_->local_endpoint());
  const auto dribble_start = SteadyClock::now();
  const std::string request = Get("/a", "X-Long: " + std::string(40, 'x') + "\r\n");
  for (char byte : request) {
    if (!dribbling.Send(std::string(1, byte)) || dribbling.Readable(milliseconds(100))) break;
  }
  EXPECT_EQ(dribbling.Receive().status, 408);
  EXPECT_LT(Since(dribble_start), milliseconds(2000));
  EXPECT_EQ(calls_, 0);
}

TEST_F(HttpServerTest, IdleConnectionsAreClosedSilently) {
  HttpServerOptions options = Options();
  options.idle_timeout = milliseconds(400);
  StartServer(options);

  Client served(server_->local_endpoint());
  ASSERT_TRUE(served.Send(Get("/a")));
  EXPECT_EQ(served.Receive().status, 200);
  const auto start = SteadyClock::now();
  EXPECT_TRUE(served.Readable(milliseconds(3000)));
  EXPECT_TRUE(served.Closed()) << "closed without a 408: no request had begun";
  EXPECT_GE(Since(start), milliseconds(350));

  Client never(server_->local_endpoint());
  EXPECT_TRUE(never.Readable(milliseconds(3000)));
  EXPECT_TRUE(never.Closed());
}

TEST_F(HttpServerTest, AtMaxConnectionsTheNextWaitsForOneToClose) {
  HttpServerOptions options = Options();
  options.max_connections = 2;
  StartServer(options);
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<Client>(server_->local_endpoint()));
    ASSERT_TRUE(held.back()->Send(Get("/a")));
    EXPECT_EQ(held.back()->Receive().status, 200);  // kept alive
  }
  // The kernel completes the handshake and holds the request; the server
  // does not take the connection while two are open.
  Client waiting(server_->local_endpoint());
  ASSERT_TRUE(waiting.connected());
  ASSERT_TRUE(waiting.Send(Get("/waiting")));
  EXPECT_FALSE(waiting.Readable(milliseconds(300)));
  held.front().reset();
  const Response response = waiting.Receive();
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(Contains(response.body, "target=/waiting\n"));

  // Stop does not wait for the accept loop's turn: it is woken.
  Client another(server_->local_endpoint());
  Client in_backlog(server_->local_endpoint());
  ASSERT_TRUE(in_backlog.connected());
  const auto stop = SteadyClock::now();
  server_->Stop();
  EXPECT_LT(Since(stop), milliseconds(1000));
}

TEST_F(HttpServerTest, GarbageNeverStopsTheServer) {
  HttpServerOptions options = Options();
  options.max_connections = 200;
  StartServer(options);
  std::mt19937 random(16);
  const std::vector<std::string> starts = {"", "GET / HTTP/1.1\r\n", "POST / HTTP/1.1\r\nHost: a\r\n",
                                           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"};
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 100; ++i) {
    std::string bytes = starts[random() % starts.size()];
    const std::size_t length = random() % 3000;
    for (std::size_t j = 0; j < length; ++j) {
      // Mostly the bytes HTTP is made of, so that parsing goes some way.
      static constexpr std::string_view kHttpish = "\r\n: \t;=0123456789abcdefGHPOST/";
      bytes += random() % 4 == 0 ? static_cast<char>(random() % 256) : kHttpish[random() % kHttpish.size()];
    }
    clients.push_back(std::make_unique<Client>(server_->local_endpoint()));
    clients.back()->Send(bytes);  // the server may have refused and closed already
    clients.back()->EndWrites();
  }
  for (auto& client : clients) {
    for (Response r = client->Receive(); r.status != 0; r = client->Receive()) EXPECT_NE(r.status, 500);
  }
  const CommandResult r = Curl({base_ + "/after"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "target=/after\n"));
}

// --- the handlers ---

TEST_F(HttpServerTest, ASlowHandlerHoldsUpNoOtherConnection) {
  HttpServerOptions options = Options();
  options.io_threads = 1;
  StartServer(options);
  Client slow(server_->local_endpoint());
  ASSERT_TRUE(slow.Send(Get("/slow?ms=1000")));
  const auto wait_start = SteadyClock::now();
  while (!slow_entered_ && Since(wait_start) < milliseconds(5000)) std::this_thread::sleep_for(milliseconds(10));
  const auto start = SteadyClock::now();
  const CommandResult fast = Curl({base_ + "/fast"});
  EXPECT_EQ(fast.exit_code, 0) << fast.err;
  EXPECT_LT(Since(start), milliseconds(700)) << "the handler ran on the I/O thread";
  EXPECT_EQ(slow.Receive().status, 200);
}

TEST_F(HttpServerTest, HandlerFailuresAre500AndTheServerGoesOn) {
  StartServer(Options());
  const CommandResult r = Curl({"-w", "\n%{http_code}\n", base_ + "/throw", base_ + "/bad-field", base_ + "/a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(
      r.out.starts_with("refused 500: the server failed to handle the request\n500\n"
                        "refused 500: the server failed to handle the request\n500\n"
                        "method=GET\ntarget=/a\n"))
      << r.out;
  EXPECT_FALSE(Contains(r.out, "Set-Cookie"));
}

// --- Stop ---

TEST_F(HttpServerTest, StopLetsARunningHandlerAnswerAndClosesIdleConnections) {
  StartServer(Options());
  Client idle(server_->local_endpoint());
  ASSERT_TRUE(idle.Send(Get("/a")));
  EXPECT_EQ(idle.Receive().status, 200);

  CommandResult slow;
  std::thread client([&] { slow = Curl({"-i", base_ + "/slow?ms=1500"}); });
  const auto wait_start = SteadyClock::now();
  while (!slow_entered_ && Since(wait_start) < milliseconds(5000)) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_TRUE(slow_entered_);

  const auto stop_start = SteadyClock::now();
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    server_->Stop();
    stopped = true;
  });
  // The idle connection goes at once, while the handler still sleeps.
  EXPECT_TRUE(idle.Readable(milliseconds(1000)));
  EXPECT_TRUE(idle.Closed());
  EXPECT_FALSE(stopped);
  client.join();
  stopper.join();
  const milliseconds stop_took = Since(stop_start);
  EXPECT_EQ(slow.exit_code, 0) << slow.err;
  EXPECT_TRUE(Contains(slow.out, "HTTP/1.1 200 OK\r\n")) << slow.out;
  EXPECT_TRUE(Contains(slow.out, "Connection: close\r\n")) << slow.out;
  EXPECT_TRUE(slow.out.ends_with("target=/slow?ms=1500\nbody=\nremote=127.0.0.1\ntls=no\nclient-certificate=none\n"))
      << slow.out;
  EXPECT_GE(stop_took, milliseconds(1000)) << "Stop returned before the handler";
  EXPECT_LT(stop_took, milliseconds(5000));

  EXPECT_NE(Curl({base_ + "/a"}).exit_code, 0) << "no longer listening";
  server_->Stop();  // idempotent
}

TEST_F(HttpServerTest, StopClosesIdleConnectionsAtOnce) {
  HttpServerOptions options = Options();
  options.idle_timeout = milliseconds(30000);
  StartServer(options);
  Client idle(server_->local_endpoint());
  ASSERT_TRUE(idle.Send(Get("/a")));
  EXPECT_EQ(idle.Receive().status, 200);
  const auto start = SteadyClock::now();
  server_.reset();  // the destructor stops
  EXPECT_LT(Since(start), milliseconds(1000));
  EXPECT_TRUE(idle.Closed());
}

// --- Start's refusals ---

TEST_F(HttpServerTest, StartRefusesBadOptions) {
  auto handler = [](const HttpRequest&) { return HttpResponse{}; };
  auto renderer = [](unsigned status, const std::string&) { return HttpResponse{status, "text/plain", "", {}}; };
  auto start = [&](const HttpServerOptions& options) { return HttpServer::Start(options, handler, renderer).status(); };

  for (const char* listen : {"localhost:80", "127.0.0.1", "127.0.0.1:65536", "127.0.0.1:x"}) {
    HttpServerOptions options = Options();
    options.listen = listen;
    EXPECT_EQ(start(options).code(), StatusCode::kInvalidArgument) << listen;
  }
  HttpServerOptions no_time = Options();
  no_time.request_timeout = milliseconds(0);
  EXPECT_EQ(start(no_time).code(), StatusCode::kInvalidArgument);

  StartServer(Options());
  HttpServerOptions taken = Options();
  taken.listen = server_->local_endpoint();
  EXPECT_EQ(start(taken).code(), StatusCode::kIOError);

  const Pki& pki = TestPki();
  HttpServerOptions missing = TlsOptions(false);
  missing.tls->certificate = pki.dir.path() / "absent.pem";
  Status s = start(missing);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "absent.pem")) << s.message();

  HttpServerOptions mismatch = TlsOptions(false);
  mismatch.tls->private_key = pki.client_key;
  s = start(mismatch);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "does not match")) << s.message();
  EXPECT_TRUE(Contains(s.message(), pki.client_key.string())) << s.message();

  HttpServerOptions not_a_key = TlsOptions(false);
  not_a_key.tls->private_key = pki.ca;
  s = start(not_a_key);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), pki.ca.string())) << s.message();

  HttpServerOptions no_ca = TlsOptions(true);
  no_ca.tls->client_ca = pki.dir.path() / "absent-ca.pem";
  s = start(no_ca);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "absent-ca.pem")) << s.message();
}

// --- TLS ---

TEST_F(HttpServerTest, Tls12And13AreServed) {
  StartServer(TlsOptions(false));
  for (const std::string version : {"1.2", "1.3"}) {
    const CommandResult r = CurlTls({"-v", "--tlsv" + version, "--tls-max", version, base_ + "/a", base_ + "/b"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(Contains(r.err, "SSL connection using TLSv" + version)) << r.err;
    EXPECT_TRUE(Contains(r.err, "Re-using existing connection")) << r.err;
    EXPECT_TRUE(Contains(r.out, "target=/b\nbody=\nremote=127.0.0.1\ntls=yes\nclient-certificate=none\n")) << r.out;
  }
}

TEST_F(HttpServerTest, Tls11IsRefused) {
  StartServer(TlsOptions(false));
  // SECLEVEL=0 lets this OpenSSL offer TLS 1.1 at all: the refusal is the server's.
  const CommandResult r =
      preserve::testing::Run({"openssl", "s_client", "-connect", server_->local_endpoint(), "-tls1_1", "-cipher",
                              "DEFAULT@SECLEVEL=0", "-CAfile", TestPki().ca.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.err, "alert protocol version")) << r.err << r.out;
  EXPECT_NE(CurlTls({"--tlsv1.1", "--tls-max", "1.1", base_ + "/a"}).exit_code, 0);
  EXPECT_EQ(calls_, 0);
}

TEST_F(HttpServerTest, OpensslSClientKeepsTheConnectionForSeveralRequests) {
  StartServer(TlsOptions(false));
  const CommandResult r = preserve::testing::Run(
      {"sh", "-c",
       "printf 'GET /one HTTP/1.1\\r\\nHost: test\\r\\n\\r\\nGET /two HTTP/1.1\\r\\nHost: test\\r\\nConnection: "
       "close\\r\\n\\r\\n' | openssl s_client -quiet -connect " +
           server_->local_endpoint() + " -CAfile " + TestPki().ca.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::size_t one = r.out.find("target=/one\n");
  const std::size_t two = r.out.find("target=/two\n");
  EXPECT_NE(one, std::string::npos) << r.out;
  EXPECT_NE(two, std::string::npos) << r.out;
  EXPECT_LT(one, two);
  EXPECT_TRUE(Contains(r.out, "tls=yes\n"));
}

TEST_F(HttpServerTest, ClientCertificateUnderTheClientCaReachesTheHandler) {
  StartServer(TlsOptions(true));
  const Pki& pki = TestPki();
  const Bytes der = preserve::testing::ReadFileOrDie(pki.client_der);
  for (const std::string version : {"1.2", "1.3"}) {
    const CommandResult r = CurlTls({"--tlsv" + version, "--tls-max", version, "--cert", pki.client_cert.string(),
                                     "--key", pki.client_key.string(), base_ + "/a"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(Contains(r.out, "client-certificate=" + std::to_string(der.size()) + " bytes\n")) << r.out;
    const HttpRequest request = LastRequest();
    ASSERT_TRUE(request.client_certificate.has_value());
    EXPECT_EQ(*request.client_certificate, der);
  }
}

TEST_F(HttpServerTest, ClientWithoutACertificateIsServedWithoutOne) {
  StartServer(TlsOptions(true));
  const CommandResult r = CurlTls({base_ + "/a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "tls=yes\nclient-certificate=none\n")) << r.out;
}

// A certificate that does not verify fails the handshake (the server's
// unknown_ca alert): the client learns why, and the Handler never sees it.
TEST_F(HttpServerTest, ClientCertificateUnderAnotherCaFailsTheHandshake) {
  StartServer(TlsOptions(true));
  const Pki& pki = TestPki();
  for (const std::string version : {"1.2", "1.3"}) {
    const CommandResult r = CurlTls({"--tlsv" + version, "--tls-max", version, "--cert", pki.other_cert.string(),
                                     "--key", pki.other_key.string(), base_ + "/a"});
    EXPECT_NE(r.exit_code, 0) << version;
    EXPECT_TRUE(Contains(r.err, "unknown ca")) << r.err;
  }
  // Nor is a client certificate asked for when no client CA is configured.
  StartServer(TlsOptions(false));
  const CommandResult r = CurlTls({"--cert", pki.client_cert.string(), "--key", pki.client_key.string(), base_ + "/a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "client-certificate=none\n")) << r.out;
  EXPECT_EQ(calls_, 1);
}

TEST_F(HttpServerTest, TlsSlowClientGets408) {
  HttpServerOptions options = TlsOptions(false);
  options.request_timeout = milliseconds(600);
  StartServer(options);
  // s_client sends half a head and then waits on its input (sleep) for longer than the limit.
  const auto start = SteadyClock::now();
  const CommandResult r =
      preserve::testing::Run({"sh", "-c",
                              "(printf 'GET /a HTTP/1.1\\r\\nHost: te'; sleep 2) | openssl s_client -quiet -connect " +
                                  server_->local_endpoint() + " -CAfile " + TestPki().ca.string()});
  EXPECT_TRUE(Contains(r.out, "HTTP/1.1 408 Request Timeout\r\n")) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "refused 408: ")) << r.out;
  EXPECT_EQ(calls_, 0);
  EXPECT_LT(Since(start), milliseconds(5000));

  // No handshake at all: closed at the limit, with nothing to say.
  Client silent(server_->local_endpoint());
  const auto silent_start = SteadyClock::now();
  EXPECT_TRUE(silent.Readable(milliseconds(3000)));
  EXPECT_TRUE(silent.Closed());
  EXPECT_GE(Since(silent_start), milliseconds(550));
}

}  // namespace
}  // namespace preserve::service
