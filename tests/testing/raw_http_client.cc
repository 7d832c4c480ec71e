#include "raw_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>

namespace preserve::testing {

RawHttpClient::RawHttpClient(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval timeout{20, 0};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  connected_ = ::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

RawHttpClient::RawHttpClient(const std::string& endpoint)
    : RawHttpClient(static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)))) {}

bool RawHttpClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

RawHttpResponse RawHttpClient::Receive(bool head_request) {
  RawHttpResponse response;
  std::size_t head_end = std::string::npos;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos)
    if (!Fill()) return response;
  response.head = buffer_.substr(0, head_end + 2);
  std::size_t length = 0;
  const std::size_t field = response.head.find("\r\nContent-Length: ");
  if (field != std::string::npos && !head_request) length = std::stoul(response.head.substr(field + 18));
  while (buffer_.size() < head_end + 4 + length)
    if (!Fill()) return response;
  std::sscanf(response.head.c_str(), "HTTP/1.1 %d", &response.status);
  response.body = buffer_.substr(head_end + 4, length);
  response.close = response.head.find("\r\nConnection: close\r\n") != std::string::npos;
  buffer_.erase(0, head_end + 4 + length);
  return response;
}

void RawHttpClient::EndWrites() { ::shutdown(fd_.get(), SHUT_WR); }

bool RawHttpClient::Readable(std::chrono::milliseconds wait) {
  if (!buffer_.empty()) return true;
  pollfd p{fd_.get(), POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(wait.count())) == 1;
}

bool RawHttpClient::Closed() {
  if (!buffer_.empty()) return false;
  char byte = 0;
  const ssize_t n = ::recv(fd_.get(), &byte, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

bool RawHttpClient::Fill() {
  char chunk[4096];
  const ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

}  // namespace preserve::testing
