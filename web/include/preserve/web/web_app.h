// The web application of `preserve serve`: the archive for people, in
// Vietnamese (the default) and English, for records officers, auditors and
// administrators at their own desks on a network that reaches no internet.
//
// Pages are HTML made on the server: every page reads without JavaScript,
// and every asset (style sheet, the little script that shows upload
// progress) is served by preserve itself, from the binary. Like the API
// beside it, the application is thin over archive/: it asks Catalogue,
// Verification, Lifecycle, Maintenance and Accounts, and hands documents to
// the service's ingest queue.
//
// Who is asking: an account of `preserve user` signs in with its password;
// its session is a random id in a cookie (HttpOnly, SameSite=Strict, and
// Secure with a __Host- name over TLS), kept in memory: a restarted service
// signs everyone out. Every form carries the session's CSRF token, checked
// on every POST, with the Origin header when the browser sends one. An
// account is locked for a while after repeated failed sign-ins. Every page
// request by a signed-in account, and every sign-in attempt, is an "access"
// audit event, as API requests are.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "preserve/archive/archive.h"
#include "preserve/archive/ingestion.h"
#include "preserve/archive/maintenance.h"
#include "preserve/service/http_message.h"

namespace preserve::web {

// What the application needs from the service that hosts it.
struct WebHooks {
  // Ingests submissions through the service's queue (the same gate, group
  // and writer mutex as PreservePO); outcomes in order, accepted ones durable.
  std::function<Result<std::vector<archive::IngestOutcome>>(std::vector<archive::Submission>)> ingest;
  // Records one access event; returns once it is durable.
  std::function<Status(archive::AccessEvent)> record_access;
};

struct WebAppOptions {
  std::filesystem::path spool;  // where uploaded files wait for the ingest gate (emptied by the service at start)
  bool tls = false;             // the service speaks HTTPS: cookies are Secure, with the __Host- prefix
  // Sessions end after this long without a request, and after session_lifetime in any case.
  std::chrono::minutes session_idle{30};
  std::chrono::hours session_lifetime{12};
  // Failed sign-ins in a row that lock an account, and for how long.
  unsigned lockout_after = 5;
  std::chrono::minutes lockout_for{15};
  // Dates and times are shown in this offset from UTC (Vietnam: UTC+7, no summer time).
  std::chrono::minutes utc_offset{7 * 60};
};

class WebApp {
 public:
  // `writer` is the service's writer mutex (held around the changes the
  // application makes itself: accounts, retention, holds, deletion, policy).
  WebApp(archive::Archive& archive, const Clock& clock, std::mutex& writer, WebHooks hooks, WebAppOptions options);
  ~WebApp();

  // Whether a request target is the application's: everything but the API
  // (/pres/..., /api/...) and /health.
  static bool Serves(std::string_view target);
  // Answers one request; may block (it runs on the service's worker pool).
  service::HttpResponse Handle(const service::HttpRequest& request);
  // The answer to a request's head when it is refused whatever its body (no
  // such page; signed out; a role that may not): the service's transport
  // then never reads the body. nullopt: read it, and Handle the request.
  std::optional<service::HttpResponse> Screen(const service::HttpRequest& head);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace preserve::web
