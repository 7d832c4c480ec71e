// tsa_load: POSTs one RFC 3161 query over and over on keep-alive connections
// to an HTTP TSA for a fixed time and prints how many were answered per second
// and how much CPU time the load generator itself used.
//
//   tsa_load HOST PORT QUERY.tsq CONNECTIONS SECONDS
//
// Every answer must be HTTP 200 application/timestamp-reply; the first must
// hold a granted TimeStampResp. Anything else is counted as an error and makes
// the exit code 1.
//
// The server it measures usually runs on the same cores, so the generator is
// kept cheap: one thread drives every connection through epoll (registered
// once, where poll() would set up and tear down a wait on every socket at
// every call), sends a request serialized once, and reads only the status line
// and the headers it needs to find the end of each answer. Each connection has one request in
// flight at a time, as a client waiting for its token would.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "preserve/util/bytes.h"
#include "preserve/util/openssl_ptr.h"

namespace {

bool Granted(std::string_view body) {
  const auto* p = reinterpret_cast<const unsigned char*>(body.data());
  preserve::TsRespPtr response(d2i_TS_RESP(nullptr, &p, static_cast<long>(body.size())));
  return response &&
         ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(response.get()))) == TS_STATUS_GRANTED;
}

// In place, so that no copy is made per answer.
void Lower(std::span<char> s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

// One answer, once its headers and Content-Length bytes of body are in `buffer`.
struct Answer {
  std::size_t size = 0;  // bytes of `buffer` it takes
  bool ok = false;       // 200 application/timestamp-reply
  std::string_view body;
};

// nullopt: not all of it has arrived yet. An answer without Content-Length
// cannot be delimited on a keep-alive connection: it is an error. Lowers the
// head in `buffer` (the same head may be looked at again, lowered already).
std::optional<Answer> ParseAnswer(std::string& buffer) {
  const std::size_t end = buffer.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  Lower(std::span<char>(buffer.data(), end + 2));
  const std::string_view headers = std::string_view(buffer).substr(0, end + 2);
  Answer answer;
  const std::size_t length_at = headers.find("\r\ncontent-length:");
  if (length_at == std::string_view::npos) return answer;
  std::size_t length = 0;
  std::size_t digits = headers.find_first_not_of(' ', length_at + 17);
  std::from_chars(headers.data() + digits, headers.data() + headers.size(), length);
  if (buffer.size() < end + 4 + length) return std::nullopt;
  answer.size = end + 4 + length;
  answer.body = std::string_view(buffer).substr(end + 4, length);
  answer.ok = headers.starts_with("http/1.1 200 ") &&
              headers.find("\r\ncontent-type: application/timestamp-reply\r\n") != std::string_view::npos;
  return answer;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: tsa_load HOST PORT QUERY.tsq CONNECTIONS SECONDS\n";
    return 64;
  }
  const std::string host = argv[1];
  const int port = std::stoi(argv[2]);
  auto query = preserve::ReadFile(argv[3]);
  if (!query.ok()) {
    std::cerr << "tsa_load: " << query.status().ToString() << "\n";
    return 1;
  }
  const int connections = std::stoi(argv[4]);
  const auto duration = std::chrono::seconds(std::stoi(argv[5]));

  const std::string request = "POST / HTTP/1.1\r\nHost: " + host +
                              "\r\nContent-Type: application/timestamp-query\r\nContent-Length: " +
                              std::to_string(query->size()) + "\r\n\r\n" + preserve::ToString(*query);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    std::cerr << "tsa_load: " << host << " is not an IPv4 address\n";
    return 64;
  }

  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0) {
    std::cerr << "tsa_load: epoll_create1: " << std::strerror(errno) << "\n";
    return 1;
  }
  std::vector<int> fds;  // by connection; -1 once closed
  std::vector<std::string> received(static_cast<std::size_t>(connections));
  for (int c = 0; c < connections; ++c) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      std::cerr << "tsa_load: cannot connect to " << host << ":" << port << ": " << std::strerror(errno) << "\n";
      return 1;
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u32 = static_cast<std::uint32_t>(c);
    if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
      std::cerr << "tsa_load: epoll_ctl: " << std::strerror(errno) << "\n";
      return 1;
    }
    fds.push_back(fd);
  }

  long answered = 0;
  long errors = 0;
  int open_connections = connections;
  bool checked_one = false;
  const double cpu_start = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + duration;
  auto close_connection = [&](int& fd) {
    ::close(fd);  // which also takes it out of the epoll set
    fd = -1;
    --open_connections;
  };
  // A request is small enough for the socket buffer: a send never blocks.
  auto send_request = [&](int& fd) {
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      ++errors;
      close_connection(fd);
    }
  };
  for (int& fd : fds) send_request(fd);
  std::vector<char> chunk(65536);
  std::vector<epoll_event> ready(fds.size());
  while (open_connections > 0) {
    const int count = ::epoll_wait(epoll, ready.data(), static_cast<int>(ready.size()), 1000);
    if (count < 0 && errno != EINTR) {
      std::cerr << "tsa_load: epoll_wait: " << std::strerror(errno) << "\n";
      ++errors;
      break;
    }
    const bool time_up = std::chrono::steady_clock::now() >= deadline;
    if (count == 0 && time_up) {
      // A second past the end with no answer: what is still waiting never came.
      for (int& fd : fds)
        if (fd >= 0) {
          ++errors;
          close_connection(fd);
        }
      break;
    }
    for (int r = 0; r < count; ++r) {
      const std::size_t i = ready[static_cast<std::size_t>(r)].data.u32;
      int& fd = fds[i];
      if (fd < 0) continue;
      ssize_t n = ::recv(fd, chunk.data(), chunk.size(), 0);
      if (n <= 0) {
        ++errors;  // the server closed a connection mid-run
        close_connection(fd);
        continue;
      }
      received[i].append(chunk.data(), static_cast<std::size_t>(n));
      std::optional<Answer> answer = ParseAnswer(received[i]);
      if (!answer) continue;
      bool ok = answer->ok && answer->size != 0;
      // Parsing every answer would load the client; one per run shows they are tokens.
      if (ok && !checked_one) ok = checked_one = Granted(answer->body);
      (ok ? answered : errors)++;
      if (!ok || answer->size != received[i].size() || time_up) {
        // An error, or bytes beyond the answer we asked for: stop this connection.
        if (answer->size != received[i].size()) ++errors;
        close_connection(fd);
        continue;
      }
      received[i].clear();
      send_request(fd);
    }
  }
  ::close(epoll);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_start;
  std::printf(
      "answered %ld in %.3f s with %d connections: %.1f requests/s; errors %ld; load generator CPU %.2f s (%.2f cores)\n",
      answered, seconds, connections, static_cast<double>(answered) / seconds, errors, cpu, cpu / seconds);
  return errors == 0 ? 0 : 1;
}
