// tsa_load: POSTs one RFC 3161 query over and over on keep-alive connections
// to an HTTP TSA for a fixed time and prints how many were answered per second.
//
//   tsa_load HOST PORT QUERY.tsq CONNECTIONS SECONDS
//
// Every answer must be HTTP 200 application/timestamp-reply holding a granted
// TimeStampResp; anything else is counted as an error and makes the exit code 1.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "preserve/util/bytes.h"
#include "preserve/util/openssl_ptr.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

bool Granted(const std::vector<std::uint8_t>& body) {
  const unsigned char* p = body.data();
  preserve::TsRespPtr response(d2i_TS_RESP(nullptr, &p, static_cast<long>(body.size())));
  return response &&
         ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(response.get()))) == TS_STATUS_GRANTED;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: tsa_load HOST PORT QUERY.tsq CONNECTIONS SECONDS\n";
    return 64;
  }
  std::string host = argv[1];
  std::string port = argv[2];
  auto query = preserve::ReadFile(argv[3]);
  if (!query.ok()) {
    std::cerr << "tsa_load: " << query.status().ToString() << "\n";
    return 1;
  }
  int connections = std::stoi(argv[4]);
  auto duration = std::chrono::seconds(std::stoi(argv[5]));

  std::atomic<long> answered{0};
  std::atomic<long> errors{0};
  std::atomic<bool> checked_one{false};
  auto deadline = std::chrono::steady_clock::now() + duration;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < connections; ++c) {
    clients.emplace_back([&] {
      try {
        asio::io_context io;
        tcp::resolver resolver(io);
        beast::tcp_stream stream(io);
        stream.connect(resolver.resolve(host, port));
        http::request<http::vector_body<std::uint8_t>> request{http::verb::post, "/", 11};
        request.set(http::field::host, host);
        request.set(http::field::content_type, "application/timestamp-query");
        request.body() = query.value();
        request.prepare_payload();
        beast::flat_buffer buffer;
        while (std::chrono::steady_clock::now() < deadline) {
          http::write(stream, request);
          http::response<http::vector_body<std::uint8_t>> response;
          http::read(stream, buffer, response);
          bool ok = response.result() == http::status::ok &&
                    response[http::field::content_type] == "application/timestamp-reply";
          // Parsing every answer would load the client; one per run shows they are tokens.
          if (ok && !checked_one.exchange(true)) ok = Granted(response.body());
          (ok ? answered : errors)++;
        }
      } catch (const std::exception& e) {
        std::cerr << "tsa_load: " << e.what() << "\n";
        errors++;
      }
    });
  }
  for (auto& t : clients) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("answered %ld in %.1f s with %d connections: %.1f requests/s; errors %ld\n", answered.load(), seconds,
              connections, static_cast<double>(answered.load()) / seconds, errors.load());
  return errors.load() == 0 ? 0 : 1;
}
