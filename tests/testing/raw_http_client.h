// A raw HTTP/1.1 client for the tests of preserve's servers: it sends the
// bytes it is given, exactly, however malformed, split or slow, and reads
// answers by their Content-Length, so a test controls what curl would not.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "preserve/util/file_descriptor.h"

namespace preserve::testing {

struct RawHttpResponse {
  int status = 0;  // 0: the connection ended (or the read timed out) first
  std::string head;
  std::string body;
  bool close = false;  // "Connection: close"
};

// A blocking connection to 127.0.0.1:`port`. TCP_NODELAY: each write is sent
// at once as its own segment, so a byte written alone arrives alone. Reads
// wait at most 20 s: a test fails rather than hangs.
class RawHttpClient {
 public:
  explicit RawHttpClient(std::uint16_t port);
  // "127.0.0.1:8443", "http://127.0.0.1:8443": the port after the last ':'.
  explicit RawHttpClient(const std::string& endpoint);

  bool connected() const { return connected_; }
  // False once the server has closed the connection.
  bool Send(std::string_view bytes);
  // One response; `head_request`: its Content-Length announces no body.
  RawHttpResponse Receive(bool head_request = false);
  // Tells the server nothing more comes.
  void EndWrites();
  // True when bytes (or the end of the connection) arrive within `wait`.
  bool Readable(std::chrono::milliseconds wait);
  // True when the server has closed the connection, and sent nothing more.
  bool Closed();

 private:
  bool Fill();

  FileDescriptor fd_;
  bool connected_ = false;
  std::string buffer_;
};

}  // namespace preserve::testing
