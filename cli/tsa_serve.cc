// preserve tsa serve: the store's embedded TSA as an RFC 3161 HTTP service.
#include <pthread.h>

#include <csignal>
#include <iostream>

#include "cli_common.h"
#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/timestamp/tsa_server.h"

namespace preserve::cli {

namespace {

constexpr const char* kTsaUsage = R"(Usage: preserve tsa serve [--store DIR] --listen HOST:PORT [--threads N]

Serves the store's embedded TSA (STORE/tsa/) as an RFC 3161 time-stamping
authority over HTTP: POST application/timestamp-query to any path, get
application/timestamp-reply back. Clients verify the tokens with STORE/tsa/ca.pem.
Prints "listening on HOST:PORT" on stderr once it accepts requests (port 0
picks a free port); stops cleanly, answering requests in flight, on SIGTERM or SIGINT.
)";

int Serve(int argc, char** argv) {
  CommonOptions common;
  std::string listen;
  unsigned threads = 0;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("listen", po::value(&listen)->required(),
                     "HOST:PORT to listen on (an IP address; port 0 picks one)")(
      "threads", po::value(&threads), "request threads (default: one per hardware thread)");
  po::variables_map vm;
  if (auto done = ParseCommand("tsa serve", argc, argv, desc, {}, {}, vm, "[--store DIR] --listen HOST:PORT"))
    return *done;

  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  auto store = StorePath(common);
  if (!store.ok()) {
    std::cerr << "preserve: " << store.status().message() << "\n";
    return kExitUsage;
  }
  auto tsa = timestamp::EmbeddedTsa::Open(store.value() / "tsa", *clock.value());
  if (!tsa.ok()) return ExitFor(tsa.status().WithContext("opening the store's TSA"));

  // Blocked before any server thread starts, so every thread inherits the
  // mask and the signals wait for sigwait below instead of killing the process.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  timestamp::TsaServerOptions options;
  options.threads = threads;
  auto server = timestamp::TsaServer::Start(*tsa.value(), listen, options);
  if (!server.ok()) return ExitFor(server.status());
  std::cerr << "listening on " << server.value()->address() << std::endl;

  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cerr << "stopping on " << (signal == SIGTERM ? "SIGTERM" : "SIGINT") << std::endl;
  server.value()->Stop();
  return kExitOk;
}

}  // namespace

int CmdTsa(int argc, char** argv) {
  std::string sub = argc >= 2 ? argv[1] : "";
  if (sub == "serve") return Serve(argc - 1, argv + 1);
  if (sub == "--help" || sub == "-h") {
    std::cout << kTsaUsage;
    return kExitOk;
  }
  std::cerr << (sub.empty() ? "preserve tsa: no subcommand\n" : "preserve tsa: unknown subcommand '" + sub + "'\n")
            << kTsaUsage;
  return kExitUsage;
}

}  // namespace preserve::cli
