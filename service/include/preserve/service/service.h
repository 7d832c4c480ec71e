// `preserve serve`: the archive as a network service speaking the JSON
// binding of ETSI TS 119 512 (POST /pres/<Operation>), for the e-office
// systems that hand documents over and the people who read them.
//
// The service is thin over archive/: PreservePO goes through the same ingest
// gate as `preserve ingest` (Ingestion::IngestAll, in groups, so concurrent
// submissions share one synced write), RetrievePO, ValidateEvidence and
// Search through Verification and Catalogue, DeletePO through Lifecycle with
// retention and holds enforced as for the CLI. What it adds:
//  - who is asking (accounts.h: a bearer token or a client certificate) and
//    whether their role may (pres_api.cc has the table);
//  - the access trail: every request for an operation, reads and refusals
//    (401, 403, 429) included, is an "access" audit event (account,
//    operation, package, outcome, address), durable before the answer is
//    sent (requests for no operation, 404 and 405, and those the transport
//    refuses, 400, 408, 413 and 431, are not);
//  - the scheduled jobs (jobs.h) while it holds the store.
// The store is held for writing while it runs; the CLI's read-only commands
// work beside it, and its writing commands are told the service holds it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "preserve/util/clock.h"
#include "preserve/util/status.h"

namespace preserve::service {

struct ServiceOptions {
  std::filesystem::path store;
  std::string listen = "127.0.0.1:8443";  // HOST:PORT; port 0 picks a free one
  // TLS: both or neither. Without them the service listens only on a loopback
  // address, unless insecure_http says the network in between is trusted.
  std::optional<std::filesystem::path> tls_certificate;
  std::optional<std::filesystem::path> tls_key;
  // Ask clients for certificates issued under this CA; a verified one that
  // an account has (preserve user certificate) authenticates as that account.
  std::optional<std::filesystem::path> client_ca;
  bool insecure_http = false;
  std::uint64_t max_body_bytes = 64ull << 20;  // 413 above it
  unsigned max_requests_per_account = 16;      // in flight at once; 429 above it
  // Requests handled at once (more wait, read, in their connections). A
  // PreservePO waits for its ingest group, which is as large as the
  // submissions waiting together: 0 is 64.
  unsigned worker_threads = 0;
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds request_timeout = std::chrono::seconds(120);
  // Intermediate CA certificates (PEM/DER files or directories) that
  // signatures may need to reach the store's trust list, as `ingest --intermediates`.
  std::vector<std::filesystem::path> intermediates;
  bool run_jobs = true;                        // seal, renew, fixity on the store's schedule
  std::chrono::seconds ocsp_max_age{3600};     // as `ingest --ocsp-max-age`
};

class Service {
 public:
  // Opens the store for writing and starts serving. kInvalidArgument for
  // options that do not fit (plain HTTP on a non-loopback address without
  // insecure_http, a TLS key without its certificate), kBusy when another
  // process holds the store.
  static Result<std::unique_ptr<Service>> Start(const ServiceOptions& options, const Clock& clock);
  ~Service();  // Stop()

  // "https://127.0.0.1:8443": where clients reach it.
  std::string url() const;
  // Stops accepting, answers the requests already received (their ingests
  // committed, their access events recorded), waits for a running job to
  // finish, and closes the store. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve::service
