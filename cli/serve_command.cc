// preserve serve: the archive as an ETSI TS 119 512 service (service/).
#include <pthread.h>

#include <csignal>
#include <iostream>

#include "cli_common.h"
#include "preserve/service/service.h"

namespace preserve::cli {

namespace {

constexpr const char* kServeHelp =
    R"(Serves the store over HTTPS as an ETSI TS 119 512 preservation service (JSON
binding: POST /pres/PreservePO, RetrievePO, ValidateEvidence, RetrieveTrace,
Search, DeletePO, RetrieveInfo; GET /api/audit-log), for e-office systems and
the people who hand documents in and audit them. Clients authenticate with
'Authorization: Bearer TOKEN' (preserve user add) or a client certificate
mapped to an account (--client-ca, preserve user certificate); every request
for an operation is an "access" audit event. Every other address is the web
application for people (open URL/ in a browser; Vietnamese, or English): they
sign in with an account's password (preserve user passwd), and every page they
open is an "access" audit event too. While it runs it holds the store: scheduled jobs
(seal, renew, fixity sample: config.json "jobs") run inside it; the read-only
commands (verify, list, status, audit-log show) work beside it.

Plain HTTP is served only on a loopback address unless --insecure-http.
Prints "listening on URL" on stderr once it accepts requests (port 0 picks
a free port); stops cleanly on SIGTERM or SIGINT, answering the requests
already received.)";

}  // namespace

int CmdServe(int argc, char** argv) {
  CommonOptions common;
  service::ServiceOptions options;
  std::string tls_cert, tls_key, client_ca;
  std::vector<std::string> intermediates;
  std::uint64_t max_body_mib = options.max_body_bytes >> 20;
  unsigned idle_seconds = 60, request_seconds = 120;
  bool no_jobs = false;
  po::options_description desc("Options");
  AddCommonOptions(desc, common, true);
  desc.add_options()
      ("listen", po::value(&options.listen)->default_value(options.listen),
       "HOST:PORT to listen on (an IP address; port 0 picks one)")
      ("tls-cert", po::value(&tls_cert), "the server's certificate chain (PEM)")
      ("tls-key", po::value(&tls_key), "the server's private key (PEM)")
      ("client-ca", po::value(&client_ca), "ask clients for certificates issued under this CA (PEM)")
      ("insecure-http", po::bool_switch(&options.insecure_http),
       "serve plain HTTP on a non-loopback address (only where the network in between is trusted)")
      ("max-body-mib", po::value(&max_body_mib)->default_value(max_body_mib),
       "largest request body in MiB (413 above it); base64 makes a document a third larger")
      ("max-requests-per-account", po::value(&options.max_requests_per_account)->default_value(options.max_requests_per_account),
       "requests one account may have in flight (429 above it)")
      ("threads", po::value(&options.worker_threads), "requests handled at once (default 64: submissions waiting together are ingested as one group)")
      ("idle-timeout", po::value(&idle_seconds)->default_value(idle_seconds),
       "seconds a kept-alive connection may stay silent")
      ("request-timeout", po::value(&request_seconds)->default_value(request_seconds),
       "seconds a request may take to arrive whole (408 after)")
      ("intermediates", po::value(&intermediates),
       "intermediate CA certificates signatures may need (PEM/DER file or directory; repeatable)")
      ("no-jobs", po::bool_switch(&no_jobs), "do not run the scheduled jobs (seal, renew, fixity) in the service")
      ("ocsp-max-age", po::value<std::int64_t>()->default_value(3600),
       "seconds an OCSP response fetched at ingest serves later ingests");
  // The usage line, then what the command does: ParseCommand prints both for --help.
  const std::string usage =
      std::string("[--store DIR] [--listen HOST:PORT] [--tls-cert PEM --tls-key PEM [--client-ca PEM]]\n\n") + kServeHelp;
  po::variables_map vm;
  if (auto done = ParseCommand("serve", argc, argv, desc, {}, {}, vm, usage)) return *done;
  auto clock = MakeClock(common);
  if (!clock.ok()) return ExitFor(clock.status());
  auto store = StorePath(common);
  if (!store.ok()) return ReportFailure(kExitUsage, store.status().message());
  options.store = store.value();
  if (!tls_cert.empty()) options.tls_certificate = tls_cert;
  if (!tls_key.empty()) options.tls_key = tls_key;
  if (!client_ca.empty()) options.client_ca = client_ca;
  options.max_body_bytes = max_body_mib << 20;
  options.idle_timeout = std::chrono::seconds(idle_seconds);
  options.request_timeout = std::chrono::seconds(request_seconds);
  options.run_jobs = !no_jobs;
  options.intermediates.assign(intermediates.begin(), intermediates.end());
  options.ocsp_max_age = std::chrono::seconds(vm["ocsp-max-age"].as<std::int64_t>());

  // Blocked before any server thread starts, so every thread inherits the
  // mask and the signals wait for sigwait below instead of killing the process.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto service = service::Service::Start(options, *clock.value());
  if (!service.ok()) return ExitFor(service.status().WithContext("preserve serve"));
  std::cerr << "listening on " << service.value()->url() << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cerr << "preserve serve: stopping (" << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
            << "): answering the requests already received" << std::endl;
  service.value()->Stop();
  std::cerr << "preserve serve: stopped" << std::endl;
  return kExitOk;
}

}  // namespace preserve::cli
