// serve_load: POSTs JSON requests to `preserve serve` over keep-alive
// connections, as e-office systems would, and prints the rate and latency.
//
//   serve_load HOST PORT TOKEN PATH CONNECTIONS BODIES
//
// BODIES is a directory (each file one request body, sent once, spread over
// the connections in turn) or a file followed by a count ("body.json:2000",
// the same body sent that many times). Each connection has one request in
// flight at a time and waits for its answer, as a client waiting for its
// package id does. Prints one line:
//   requests=N ok=K seconds=S rate=R p50_ms=A p99_ms=B
// where ok counts HTTP 200 answers; the exit code is 1 when any was not.
// Plain HTTP only: the benchmark measures the service, not TLS.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string ReadWhole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int Connect(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads one answer (head and Content-Length body); returns its status, 0 on failure.
int ReadAnswer(int fd, std::string& buffer) {
  std::size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    char chunk[65536];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return 0;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  const std::string head = buffer.substr(0, head_end);
  int status = 0;
  if (head.size() > 12) status = std::atoi(head.c_str() + 9);
  std::size_t length = 0;
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (auto at = lower.find("content-length:"); at != std::string::npos) length = std::stoul(lower.substr(at + 15));
  const std::size_t total = head_end + 4 + length;
  while (buffer.size() < total) {
    char chunk[65536];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return 0;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  buffer.erase(0, total);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: serve_load HOST PORT TOKEN PATH CONNECTIONS BODIES_DIR|BODY_FILE:COUNT\n";
    return 2;
  }
  const std::string host = argv[1];
  const int port = std::atoi(argv[2]);
  const std::string token = argv[3];
  const std::string path = argv[4];
  const int connections = std::max(1, std::atoi(argv[5]));
  const std::string bodies_arg = argv[6];

  std::vector<std::string> bodies;
  if (auto colon = bodies_arg.rfind(':'); colon != std::string::npos && !std::filesystem::is_directory(bodies_arg)) {
    const std::string body = ReadWhole(bodies_arg.substr(0, colon));
    bodies.assign(std::stoul(bodies_arg.substr(colon + 1)), body);
  } else {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(bodies_arg)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) bodies.push_back(ReadWhole(f));
  }
  // Requests are made before the clock starts.
  std::vector<std::vector<std::string>> per_connection(static_cast<std::size_t>(connections));
  for (std::size_t i = 0; i < bodies.size(); ++i)
    per_connection[i % per_connection.size()].push_back("POST " + path + " HTTP/1.1\r\nHost: " + host +
                                                         "\r\nAuthorization: Bearer " + token +
                                                         "\r\nContent-Type: application/json\r\nContent-Length: " +
                                                         std::to_string(bodies[i].size()) + "\r\n\r\n" + bodies[i]);
  bodies.clear();

  std::vector<std::vector<double>> latencies(per_connection.size());
  std::atomic<std::size_t> ok{0}, failed{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < per_connection.size(); ++c) {
    threads.emplace_back([&, c] {
      int fd = Connect(host, port);
      if (fd < 0) {
        failed += per_connection[c].size();
        return;
      }
      std::string buffer;
      for (const std::string& request : per_connection[c]) {
        const auto sent = Clock::now();
        const int status = SendAll(fd, request) ? ReadAnswer(fd, buffer) : 0;
        latencies[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        (status == 200 ? ok : failed)++;
        if (status == 0) break;
      }
      ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto percentile = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<std::size_t>(p * static_cast<double>(all.size())))]; };
  const std::size_t requests = ok + failed;
  std::printf("requests=%zu ok=%zu seconds=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f\n", requests, ok.load(), seconds,
              static_cast<double>(requests) / seconds, percentile(0.50), percentile(0.99));
  return failed == 0 ? 0 : 1;
}
