// PresApi: the JSON binding of ETSI TS 119 512 over the archive, and the
// service's few operations of its own. Turns one HTTP request into one
// answer: who is asking (a bearer token or a client certificate), whether
// their role may, the operation itself, the standard result codes with a
// message in the request's language, and the access event.
//
// Endpoints (all JSON):
//   POST /pres/RetrieveInfo | PreservePO | RetrievePO | ValidateEvidence |
//        RetrieveTrace | Search | DeletePO | UpdatePOC (notSupported)
//   GET  /api/audit-log?from=SEQ&limit=N   the audit trail (auditor, admin)
//   GET  /health                            {"ok": true}; no account needed
//
// HTTP status: 200 Success; 400 RequesterError; 401 no valid credentials;
// 403 the role may not (min noPermission); 404 no such endpoint; 405 wrong
// method; 429 too many requests in flight for the account; 500
// ResponderError; 503 a peer was unreachable (externalServiceUnavailable).
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "access_trail.h"
#include "http_server.h"
#include "ingest_queue.h"
#include "preserve/archive/accounts.h"
#include "preserve/archive/archive.h"

namespace preserve::service {

struct PresApiOptions {
  std::filesystem::path spool;  // where submitted bytes wait for the ingest gate
  unsigned max_requests_per_account = 16;
  // RetrievePO refuses (transferError) to put more than this in one answer.
  std::uint64_t max_response_bytes = 256ull << 20;
};

class PresApi {
 public:
  // `writer` is the service's writer mutex (held around deletions); the
  // clock judges the evidence ValidateEvidence is given.
  PresApi(archive::Archive& archive, const Clock& clock, std::mutex& writer, IngestQueue& ingest, AccessTrail& trail,
          PresApiOptions options);

  HttpResponse Handle(const HttpRequest& request);
  // The answer to a request's head when it is refused whatever its body
  // (no such endpoint, wrong method, no valid credentials, a role that may
  // not): the transport then never reads the body (HttpServerOptions::screen).
  std::optional<HttpResponse> Screen(const HttpRequest& head);
  // The answer to a request the transport refused (400, 408, 413, 431).
  static HttpResponse ProtocolError(unsigned status, const std::string& detail);

 private:
  // The operation a path names and the method it takes; empty for none.
  static std::pair<std::string, std::string> EndpointOf(const std::string& path);
  // The account a bearer token or a client certificate belongs to.
  Result<archive::Account> Authenticate(const HttpRequest& request) const;

  archive::Archive& archive_;
  const Clock& clock_;
  std::mutex& writer_;
  IngestQueue& ingest_;
  AccessTrail& trail_;
  PresApiOptions options_;
  std::mutex in_flight_mutex_;
  std::map<std::string, unsigned> in_flight_;  // per account
};

}  // namespace preserve::service
