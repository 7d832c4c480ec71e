// preserve tsa serve: the store's embedded TSA as an RFC 3161 HTTP service.
#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <iostream>

#include "cli_common.h"
#include "preserve/archive/sealing.h"
#include "preserve/timestamp/embedded_tsa.h"
#include "preserve/timestamp/tsa_server.h"

namespace preserve::cli {

namespace {

constexpr const char* kTsaUsage =
    R"(Usage: preserve tsa serve [--store DIR] --listen HOST:PORT [--threads N] [--max-connections N]

Serves the store's embedded TSA (STORE/tsa/) as an RFC 3161 time-stamping
authority over HTTP: POST application/timestamp-query to any path, get
application/timestamp-reply back. Clients verify the tokens with STORE/tsa/ca.pem.
Prints "listening on HOST:PORT" on stderr once it accepts requests (port 0
picks a free port); stops cleanly, answering requests in flight, on SIGTERM or SIGINT.
At most --max-connections (default 1024) are open at once; more wait in the
kernel's listen queue until one closes.
)";

// Descriptors the process needs besides its connections: stdio, the
// listening socket, each thread's event loop, the store's files.
constexpr rlim_t kOtherDescriptors = 64;

// Raises the soft descriptor limit, up to the hard one, so that `connections`
// sockets fit; else lowers `connections` to what fits and says so. Either way
// the server stops accepting before it runs out of descriptors.
void FitDescriptorLimit(std::size_t& connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = static_cast<rlim_t>(connections) + kOtherDescriptors;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= wanted) return;
  connections = limit.rlim_cur > kOtherDescriptors ? static_cast<std::size_t>(limit.rlim_cur - kOtherDescriptors) : 1;
  std::cerr << "preserve: at most " << connections << " connections: the descriptor limit is " << limit.rlim_cur
            << std::endl;
}

int Serve(int argc, char** argv) {
  CommonOptions common;
  std::string listen;
  timestamp::TsaServerOptions options;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()("listen", po::value(&listen)->required(),
                     "HOST:PORT to listen on (an IP address; port 0 picks one)")(
      "threads", po::value(&options.threads), "request threads (default: one per hardware thread)")(
      "max-connections", po::value(&options.max_connections),
      "connections open at once (default 1024); more wait to be accepted");
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
  auto tsa = archive::Sealing::OpenEmbeddedTsa(store.value(), *clock.value());
  if (!tsa.ok()) return ExitFor(tsa.status().WithContext("opening the store's TSA"));

  // Blocked before any server thread starts, so every thread inherits the
  // mask and the signals wait for sigwait below instead of killing the process.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  FitDescriptorLimit(options.max_connections);
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
