// A throw-away revocation PKI (scripts/make-revocation-pki.sh) whose CRL
// distribution points, and optionally OCSP responder, are a loopback server
// that counts what it is asked: for tests of how often revocation data is
// fetched. Header-only; includers link Boost::headers and OpenSSL::SSL (the
// loopback server).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "loopback_http_server.h"
#include "testing.h"

namespace preserve::testing {

// Serves files of a directory by request target ("/issuing.crl" -> a file
// name, GET), and one file for every POST (an OCSP response), counting the
// requests per target.
class CountingFileServer {
 public:
  explicit CountingFileServer(std::filesystem::path dir)
      : dir_(std::move(dir)), server_([this](const HttpRequest& request) { return Serve(request); }) {}

  // The port, for the certificates' URLs.
  std::string port() const {
    const std::string url = server_.url();
    const std::size_t start = url.rfind(':') + 1;
    return url.substr(start, url.find('/', start) - start);
  }

  void ServeGet(const std::string& target, const std::string& file) {
    std::lock_guard lock(mutex_);
    files_[target] = file;
  }
  // What every POST gets (an OCSP response file); "" for a 404.
  void ServePost(const std::string& file) {
    std::lock_guard lock(mutex_);
    post_file_ = file;
  }
  void Delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    delay_ = delay;
  }
  int Count(const std::string& method_and_target) const {
    std::lock_guard lock(mutex_);
    auto it = counts_.find(method_and_target);
    return it == counts_.end() ? 0 : it->second;
  }
  int total() const { return server_.requests(); }

 private:
  Reply Serve(const HttpRequest& request) {
    std::lock_guard lock(mutex_);
    const bool post = request.method() == http::verb::post;
    const std::string target(request.target());
    ++counts_[(post ? "POST " : "GET ") + target];
    std::string file;
    if (post) {
      file = post_file_;
    } else if (auto it = files_.find(target); it != files_.end()) {
      file = it->second;
    }
    if (file.empty()) return Reply{404, "text/plain", ToBytes("not here"), delay_};
    return Reply{200, post ? "application/ocsp-response" : "application/pkix-crl", ReadFileOrDie(dir_ / file), delay_};
  }

  std::filesystem::path dir_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> files_;
  std::string post_file_;
  std::map<std::string, int> counts_;
  std::chrono::milliseconds delay_{0};
  TestServer server_;  // last: stopped first, while the rest is still there
};

// scripts/make-revocation-pki.sh into `dir`, its CRL distribution points
// (and OCSP responder, at "/") on `server`'s port; serves root.crl and
// issuing.crl there. Fails the current test when the script does.
inline void MakeRevocationPki(const std::filesystem::path& dir, CountingFileServer& server) {
  auto made = Run({"bash", (SourceDir() / "scripts/make-revocation-pki.sh").string(), dir.string(), server.port(),
                   server.port()});
  if (made.exit_code != 0) ADD_FAILURE() << made.out << made.err;
  server.ServeGet("/root.crl", "root.crl");
  server.ServeGet("/issuing.crl", "issuing.crl");
}

// `openssl date`-style times for the openssl command line: YYYYMMDDHHMMSSZ.
inline std::string OpenSslTime(TimePoint t) {
  std::string s = FormatUtcTime(t);  // 2026-11-27T10:00:00Z
  std::string out;
  for (char c : s)
    if (c >= '0' && c <= '9') out += c;
  return out + "Z";
}

// Issues a new CRL of `ca` ("root" or "issuing") in `dir` as `out` (DER),
// valid from `last_update` to `next_update`. Fails the current test on error.
inline void IssueCrl(const std::filesystem::path& dir, const std::string& ca, const std::string& out,
                     TimePoint last_update, TimePoint next_update) {
  const std::string pem = (dir / (out + ".pem")).string();
  auto made = Run({"openssl", "ca", "-gencrl", "-config", (dir / "ca.cnf").string(), "-name", ca, "-crl_lastupdate",
                   OpenSslTime(last_update), "-crl_nextupdate", OpenSslTime(next_update), "-out", pem});
  if (made.exit_code != 0) ADD_FAILURE() << made.err;
  auto der = Run({"openssl", "crl", "-in", pem, "-outform", "DER", "-out", (dir / out).string()});
  if (der.exit_code != 0) ADD_FAILURE() << der.err;
}

}  // namespace preserve::testing
