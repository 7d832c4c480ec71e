// tsa_canned_serve: the HTTP side of `preserve tsa serve` alone. It runs the
// same TsaServer, but every request is answered with one DER TimeStampResp
// made at start, so nothing is signed per request. Against the same load
// generator it shows what the HTTP and socket path costs, and so the most the
// real service could answer per core: bench/tsa_serve_bench.sh reports it on
// its own row, never as the service's rate.
//
//   tsa_canned_serve TSA_DIR QUERY.tsq THREADS
//
// Prints "listening on 127.0.0.1:PORT" on stderr once it accepts requests,
// and stops on SIGTERM or SIGINT, as `preserve tsa serve` does.
#include <pthread.h>

#include <csignal>
#include <iostream>

#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/timestamp/tsa_server.h"
#include "preserve/util/clock.h"

namespace {

class CannedTsa final : public preserve::timestamp::TsaTransport {
 public:
  explicit CannedTsa(preserve::Bytes response) : response_(std::move(response)) {}
  preserve::Result<preserve::Bytes> Exchange(const preserve::Bytes&) override { return response_; }

 private:
  const preserve::Bytes response_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: tsa_canned_serve TSA_DIR QUERY.tsq THREADS\n";
    return 64;
  }
  preserve::SystemClock clock;
  auto tsa = preserve::timestamp::EmbeddedTsa::Open(argv[1], clock);
  auto query = preserve::ReadFile(argv[2]);
  if (!tsa.ok() || !query.ok()) {
    std::cerr << "tsa_canned_serve: " << (tsa.ok() ? query.status() : tsa.status()).ToString() << "\n";
    return 1;
  }
  auto response = tsa.value()->Exchange(*query);
  if (!response.ok()) {
    std::cerr << "tsa_canned_serve: " << response.status().ToString() << "\n";
    return 1;
  }
  CannedTsa canned(std::move(response.value()));

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  preserve::timestamp::TsaServerOptions options;
  options.threads = static_cast<unsigned>(std::stoul(argv[3]));
  auto server = preserve::timestamp::TsaServer::Start(canned, "127.0.0.1:0", options);
  if (!server.ok()) {
    std::cerr << "tsa_canned_serve: " << server.status().ToString() << "\n";
    return 1;
  }
  std::cerr << "listening on " << server.value()->address() << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  server.value()->Stop();
  return 0;
}
