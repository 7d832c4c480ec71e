// scripts/ceph-dev.sh: a one-node Ceph whose RADOS Gateway speaks S3, in a fresh
// folder. The S3 features that preserve's object storage will rest on are checked
// with two independent clients: curl signing with AWS SigV4 itself (as libcurl
// will for preserve) and Debian's AWS CLI (multipart uploads). A cluster that
// cannot start fails the test; nothing here is skipped.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "testing.h"

namespace preserve {
namespace {

using testing::CommandResult;
using testing::ReadEnvFile;

const std::string kScript = (testing::SourceDir() / "scripts" / "ceph-dev.sh").string();
// Debian's awscli; a python3 on PATH ahead of /usr/bin may bring another `aws`.
const std::string kAws = "/usr/bin/aws";

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Pids of the processes whose command line names `needle` (the cluster's ceph.conf).
std::vector<int> ProcessesNaming(const std::string& needle) {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::string cmdline = ReadText(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    const std::string stat = ReadText(entry.path() / "stat");
    const bool zombie = Contains(stat, ") Z ");
    if (!zombie && Contains(cmdline, needle)) pids.push_back(std::stoi(name));
  }
  return pids;
}

// UTC time `ahead` from now, as S3 dates are written: 2026-06-01T12:00:00Z.
std::string UtcIso8601(std::chrono::seconds ahead) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + ahead);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string HeaderValue(const std::string& headers, const std::string& name) {
  std::istringstream in(headers);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > name.size() + 1 && line[name.size()] == ':' &&
        std::equal(name.begin(), name.end(), line.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return line.substr(line.find_first_not_of(' ', name.size() + 1));
    }
  }
  return "";
}

struct HttpReply {
  int status = 0;  // 0: curl failed (see error)
  std::string headers;
  std::string body;
  std::string error;
};

// A cluster started by scripts/ceph-dev.sh in a fresh folder, stopped when the
// object goes (so a failed assertion leaves no daemon behind).
class CephDev : public ::testing::Test {
 protected:
  ~CephDev() override {
    if (started_) testing::Run({kScript, "stop", cluster_.string()});
  }

  CommandResult Script(const std::string& command, const std::vector<std::string>& env = {}) {
    if (command == "start") started_ = true;
    return testing::Run({kScript, command, cluster_.string()}, env);
  }

  // Starts the cluster and reads its s3.env; fails the test when it cannot.
  void StartCluster() {
    CommandResult start = Script("start");
    ASSERT_EQ(start.exit_code, 0) << "scripts/ceph-dev.sh start failed:\n" << start.out << start.err;
    start_seconds_ = std::chrono::duration<double>(start.elapsed).count();
    std::printf("cluster started in %.1f s\n", start_seconds_);
    s3_ = ReadEnvFile(cluster_ / "s3.env");
    for (const char* name : {"S3_ENDPOINT", "S3_REGION", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_BUCKET_LOCKED",
                             "S3_BUCKET_PLAIN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}) {
      ASSERT_FALSE(s3_[name].empty()) << name << " missing from s3.env:\n" << ReadText(cluster_ / "s3.env");
    }
    testing::WriteFile(aws_config_,
                       "[default]\n"
                       "s3 =\n"
                       "  multipart_threshold = 5MB\n"
                       "  multipart_chunksize = 5MB\n");
  }

  std::string Url(const std::string& bucket, const std::string& key_and_query = "") const {
    return s3_.at("S3_ENDPOINT") + "/" + bucket + (key_and_query.empty() ? "" : "/" + key_and_query);
  }

  // One S3 request with curl's own SigV4 signing. Subresources are written `?retention=`:
  // curl 7.88 signs a bare `?retention` differently from the gateway.
  HttpReply S3(const std::string& method, const std::string& url, std::vector<std::string> extra = {}) {
    const std::filesystem::path headers = dir_ / "reply-headers";
    const std::filesystem::path body = dir_ / "reply-body";
    std::vector<std::string> argv = {"curl", "-sS", "--noproxy", "*", "--max-time", "60", "-X", method,
                                     "--aws-sigv4", "aws:amz:" + s3_.at("S3_REGION") + ":s3",
                                     "--user", s3_.at("S3_ACCESS_KEY") + ":" + s3_.at("S3_SECRET_KEY"),
                                     "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                                     "-D", headers.string(), "-o", body.string(), "-w", "%{http_code}"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    CommandResult r = testing::Run(argv);
    HttpReply reply;
    reply.error = r.err;
    if (r.exit_code == 0) reply.status = std::atoi(r.out.c_str());
    reply.headers = ReadText(headers);
    reply.body = ReadText(body);
    return reply;
  }

  CommandResult Aws(std::vector<std::string> args) {
    args.insert(args.begin(), {kAws, "--endpoint-url", s3_.at("S3_ENDPOINT")});
    std::vector<std::string> env = {"AWS_CONFIG_FILE=" + aws_config_.string(), "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
                                    "NO_PROXY=127.0.0.1"};
    for (const auto& [name, value] : s3_)
      if (name.rfind("AWS_", 0) == 0) env.push_back(name + "=" + value);
    return testing::Run(args, env);
  }

  testing::TempDir dir_;
  std::filesystem::path cluster_ = dir_ / "cluster";  // the script's folder; the test's own files sit beside it
  std::filesystem::path aws_config_ = dir_ / "aws-config";
  std::map<std::string, std::string> s3_;
  double start_seconds_ = 0;
  bool started_ = false;
};

TEST_F(CephDev, StartServesS3WithObjectLockAndStopLeavesNoDaemon) {
  const auto test_start = std::chrono::steady_clock::now();
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string locked = s3_["S3_BUCKET_LOCKED"];
  const std::string plain = s3_["S3_BUCKET_PLAIN"];

  {
    SCOPED_TRACE("status and a second start");
    CommandResult status = Script("status");
    EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
    EXPECT_TRUE(Contains(status.out, "mon.a: running")) << status.out;
    EXPECT_TRUE(Contains(status.out, "osd.0: running")) << status.out;
    EXPECT_TRUE(Contains(status.out, "client.rgw.dev: running")) << status.out;
    CommandResult again = Script("start");
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_TRUE(Contains(again.err, "already running")) << again.err;
    EXPECT_EQ(ReadEnvFile(cluster_ / "s3.env"), s3_);
  }

  {
    SCOPED_TRACE("bucket configuration");
    HttpReply lock = S3("GET", Url(locked, "?object-lock="));
    EXPECT_EQ(lock.status, 200) << lock.error << lock.body;
    EXPECT_TRUE(Contains(lock.body, "<ObjectLockEnabled>Enabled</ObjectLockEnabled>")) << lock.body;
    HttpReply versioning = S3("GET", Url(locked, "?versioning="));
    EXPECT_TRUE(Contains(versioning.body, "<Status>Enabled</Status>")) << versioning.body;  // Object Lock needs it
    HttpReply none = S3("GET", Url(plain, "?object-lock="));
    EXPECT_EQ(none.status, 404) << none.error << none.body;
    EXPECT_TRUE(Contains(none.body, "ObjectLockConfigurationNotFoundError")) << none.body;
  }

  {
    SCOPED_TRACE("put and get");
    testing::WriteFile(dir_ / "letter.txt", "Công văn số 12/UBND\n");
    HttpReply put = S3("PUT", Url(plain, "letters/12.txt"), {"-T", (dir_ / "letter.txt").string()});
    EXPECT_EQ(put.status, 200) << put.error << put.body;
    HttpReply get = S3("GET", Url(plain, "letters/12.txt"));
    EXPECT_EQ(get.status, 200) << get.error;
    EXPECT_EQ(get.body, "Công văn số 12/UBND\n");
    HttpReply list = S3("GET", Url(plain, "?list-type=2&prefix=letters%2F"));
    EXPECT_TRUE(Contains(list.body, "<Key>letters/12.txt</Key>")) << list.body;
    HttpReply missing = S3("GET", Url(plain, "letters/13.txt"));
    EXPECT_EQ(missing.status, 404);
  }

  {
    SCOPED_TRACE("multipart upload of 10 MiB into the Object Lock bucket");
    std::string content(10u << 20, '\0');
    std::mt19937 random(19);
    for (char& c : content) c = static_cast<char>(random());
    testing::WriteFile(dir_ / "big", content);
    CommandResult cp = Aws({"s3", "cp", "--only-show-errors", (dir_ / "big").string(), "s3://" + locked + "/big"});
    ASSERT_EQ(cp.exit_code, 0) << cp.out << cp.err;
    // An S3 ETag of a multipart object ends in -PARTS: two parts of 5 MiB.
    CommandResult head = Aws({"s3api", "head-object", "--bucket", locked, "--key", "big", "--query", "ETag",
                              "--output", "text"});
    EXPECT_EQ(head.exit_code, 0) << head.err;
    EXPECT_TRUE(Contains(head.out, "-2\"")) << head.out;
    HttpReply get = S3("GET", Url(locked, "big"));
    EXPECT_EQ(get.status, 200) << get.error;
    EXPECT_TRUE(get.body == content) << "the object read back differs (" << get.body.size() << " bytes)";
  }

  {
    SCOPED_TRACE("COMPLIANCE retention");
    testing::WriteFile(dir_ / "sealed", "sealed package");
    const std::string until = UtcIso8601(std::chrono::hours(1));
    HttpReply put = S3("PUT", Url(locked, "sealed"),
                       {"-T", (dir_ / "sealed").string(), "-H", "x-amz-object-lock-mode: COMPLIANCE", "-H",
                        "x-amz-object-lock-retain-until-date: " + until});
    ASSERT_EQ(put.status, 200) << put.error << put.body;
    const std::string version = HeaderValue(put.headers, "x-amz-version-id");
    ASSERT_FALSE(version.empty()) << put.headers;

    HttpReply retention = S3("GET", Url(locked, "sealed?retention=&versionId=" + version));
    EXPECT_EQ(retention.status, 200) << retention.body;
    EXPECT_TRUE(Contains(retention.body, "<Mode>COMPLIANCE</Mode>")) << retention.body;
    EXPECT_TRUE(Contains(retention.body, "<RetainUntilDate>" + until.substr(0, 19))) << retention.body;

    HttpReply del = S3("DELETE", Url(locked, "sealed?versionId=" + version));
    EXPECT_EQ(del.status, 403) << del.body;
    EXPECT_TRUE(Contains(del.body, "<Code>AccessDenied</Code>")) << del.body;
    // The bypass that lifts GOVERNANCE does nothing to COMPLIANCE.
    HttpReply bypass = S3("DELETE", Url(locked, "sealed?versionId=" + version),
                          {"-H", "x-amz-bypass-governance-retention: true"});
    EXPECT_EQ(bypass.status, 403) << bypass.body;
    // Nor can the date be brought forward.
    HttpReply shorten = S3("PUT", Url(locked, "sealed?retention=&versionId=" + version),
                           {"--data-binary", "<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>" +
                                                 UtcIso8601(std::chrono::minutes(1)) +
                                                 "</RetainUntilDate></Retention>"});
    EXPECT_EQ(shorten.status, 403) << shorten.body;

    // A DELETE without a version only lays a delete marker over it; the version stays.
    HttpReply marker = S3("DELETE", Url(locked, "sealed"));
    EXPECT_EQ(marker.status, 204) << marker.body;
    EXPECT_EQ(S3("GET", Url(locked, "sealed")).status, 404);
    HttpReply kept = S3("GET", Url(locked, "sealed?versionId=" + version));
    EXPECT_EQ(kept.status, 200);
    EXPECT_EQ(kept.body, "sealed package");
  }

  {
    SCOPED_TRACE("legal hold");
    testing::WriteFile(dir_ / "held", "held package");
    HttpReply put = S3("PUT", Url(locked, "held"), {"-T", (dir_ / "held").string()});
    ASSERT_EQ(put.status, 200) << put.error << put.body;
    const std::string version = HeaderValue(put.headers, "x-amz-version-id");
    ASSERT_FALSE(version.empty()) << put.headers;
    const std::string hold_url = Url(locked, "held?legal-hold=&versionId=" + version);

    HttpReply on = S3("PUT", hold_url, {"--data-binary", "<LegalHold><Status>ON</Status></LegalHold>"});
    EXPECT_EQ(on.status, 200) << on.body;
    HttpReply read = S3("GET", hold_url);
    EXPECT_TRUE(Contains(read.body, "<Status>ON</Status>")) << read.body;
    EXPECT_EQ(S3("DELETE", Url(locked, "held?versionId=" + version)).status, 403);

    HttpReply off = S3("PUT", hold_url, {"--data-binary", "<LegalHold><Status>OFF</Status></LegalHold>"});
    EXPECT_EQ(off.status, 200) << off.body;
    EXPECT_TRUE(Contains(S3("GET", hold_url).body, "<Status>OFF</Status>"));
    EXPECT_EQ(S3("DELETE", Url(locked, "held?versionId=" + version)).status, 204);  // nothing holds it now
  }

  {
    SCOPED_TRACE("stop");
    const std::string conf = (cluster_ / "ceph.conf").string();
    EXPECT_EQ(ProcessesNaming(conf).size(), 3u);
    CommandResult stop = Script("stop");
    EXPECT_EQ(stop.exit_code, 0) << stop.err;
    started_ = false;
    CommandResult status = Script("status");
    EXPECT_EQ(status.exit_code, 3) << status.out;
    EXPECT_TRUE(ProcessesNaming(conf).empty()) << "daemons left after stop";
    EXPECT_FALSE(std::filesystem::exists(cluster_ / "s3.env"));
  }
  std::printf("whole test: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - test_start).count());
}

// A gateway that cannot start: start fails with its output, and stops the monitor
// and the OSD it had started.
TEST_F(CephDev, StartThatCannotCompleteFailsWithTheLogTailAndLeavesNoDaemon) {
  const std::filesystem::path bin = dir_ / "fake-bin";
  testing::WriteFile(bin / "radosgw", "#!/bin/sh\necho 'fake radosgw: cannot start' >&2\nexit 1\n");
  std::filesystem::permissions(bin / "radosgw", std::filesystem::perms::owner_all);
  // Run puts these after the inherited environment, and the shell takes the last PATH.
  const char* path = std::getenv("PATH");
  CommandResult start = Script("start", {"PATH=" + bin.string() + ":" + (path != nullptr ? path : "/usr/bin:/bin")});
  EXPECT_EQ(start.exit_code, 1) << start.err;
  EXPECT_TRUE(Contains(start.err, "client.rgw.dev did not start")) << start.err;
  EXPECT_TRUE(Contains(start.err, "fake radosgw: cannot start")) << start.err;
  EXPECT_TRUE(ProcessesNaming((cluster_ / "ceph.conf").string()).empty()) << "daemons left after a failed start";
  EXPECT_FALSE(std::filesystem::exists(cluster_ / "s3.env"));
  CommandResult status = Script("status");
  EXPECT_EQ(status.exit_code, 3) << status.out;
}

// A port that is taken is refused before anything starts.
TEST_F(CephDev, StartRefusesAPortInUse) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string port = std::to_string(ntohs(address.sin_port));

  CommandResult start = Script("start", {"CEPH_DEV_RGW_PORT=" + port});
  ::close(listener);
  EXPECT_EQ(start.exit_code, 1) << start.err;
  EXPECT_TRUE(Contains(start.err, "port " + port + " on 127.0.0.1 is already in use")) << start.err;
  EXPECT_TRUE(ProcessesNaming((cluster_ / "ceph.conf").string()).empty());
}

}  // namespace
}  // namespace preserve
