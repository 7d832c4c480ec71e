#include "preserve/service/service.h"

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "access_trail.h"
#include "http_server.h"
#include "ingest_queue.h"
#include "pres_api.h"
#include "preserve/archive/archive.h"
#include "preserve/archive/jobs.h"
#include "preserve/util/certificates.h"
#include "preserve/web/web_app.h"

namespace preserve::service {

namespace {

// The host part of "HOST:PORT" or "[V6]:PORT".
std::string HostOf(const std::string& listen) {
  if (!listen.empty() && listen.front() == '[') return listen.substr(1, listen.find(']') - 1);
  return listen.substr(0, listen.rfind(':'));
}

bool IsLoopback(const std::string& host) { return host.rfind("127.", 0) == 0 || host == "::1"; }

// How long the jobs thread sleeps at most between looks at the schedule:
// a job's interval may be changed, and the clock may be a simulated one.
constexpr std::chrono::seconds kJobsLookEvery{30};

// Request threads unless told otherwise (ServiceOptions::worker_threads).
constexpr unsigned kDefaultWorkers = 64;

}  // namespace

struct Service::Impl {
  ServiceOptions options;
  const Clock* clock = nullptr;
  std::unique_ptr<archive::Archive> archive;
  std::mutex writer;  // one change at a time: an ingest group, a deletion, a job
  std::unique_ptr<AccessTrail> trail;
  std::unique_ptr<IngestQueue> ingest;
  std::unique_ptr<PresApi> api;
  std::unique_ptr<web::WebApp> web;
  std::unique_ptr<HttpServer> http;
  std::string url;

  std::thread jobs;
  std::mutex jobs_mutex;
  std::condition_variable jobs_wake;
  bool stopping = false;

  void RunJobs();
};

void Service::Impl::RunJobs() {
  archive::ScheduledJobs scheduled(*archive);
  std::unique_lock<std::mutex> lock(jobs_mutex);
  while (!stopping) {
    lock.unlock();
    Result<std::vector<archive::JobReport>> ran = Status::Ok();
    try {
      std::lock_guard<std::mutex> writing(writer);
      ran = scheduled.RunDue();
    } catch (const std::exception& e) {  // reported, and tried again at the next look
      ran = Status::Internal(e.what());
    }
    if (!ran.ok()) {
      std::cerr << "preserve serve: scheduled jobs: " << ran.status().message() << std::endl;
    } else {
      for (const archive::JobReport& r : ran.value()) {
        // Seal runs every minute; say only what did something or went wrong.
        if (r.job == "seal" && r.run.ok && r.late.count() == 0 && r.run.outcome == "nothing queued") continue;
        std::cerr << "preserve serve: job " << r.job << ": " << (r.run.ok ? "" : "FAILED: ") << r.run.outcome
                  << (r.late.count() > 0 ? " (ran " + std::to_string(r.late.count()) + " s late)" : "") << std::endl;
      }
    }
    // Sleep until the next job is due (by the archive's clock), looking again
    // at least every kJobsLookEvery.
    std::chrono::seconds sleep = kJobsLookEvery;
    for (const char* job : {"seal", "renew", "fixity"}) {
      auto due = scheduled.NextDue(job);
      if (due.ok()) sleep = std::min(sleep, std::max(std::chrono::seconds(1), due.value() - clock->Now()));
    }
    lock.lock();
    jobs_wake.wait_for(lock, sleep, [this] { return stopping; });
  }
}

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Service::~Service() { Stop(); }

Result<std::unique_ptr<Service>> Service::Start(const ServiceOptions& options, const Clock& clock) {
  if (options.tls_certificate.has_value() != options.tls_key.has_value())
    return Status::InvalidArgument("--tls-cert and --tls-key go together");
  const bool tls = options.tls_certificate.has_value();
  if (options.client_ca && !tls) return Status::InvalidArgument("--client-ca needs TLS (--tls-cert and --tls-key)");
  if (!tls && !options.insecure_http && !IsLoopback(HostOf(options.listen)))
    return Status::InvalidArgument("plain HTTP is served only on a loopback address: give --tls-cert and --tls-key "
                                   "to listen on " +
                                   options.listen + ", or --insecure-http if the network in between is trusted");

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = &clock;
  const std::string scheme = tls ? "https://" : "http://";
  archive::OpenOptions open;
  open.mode = archive::OpenMode::kWritable;
  open.holder = "preserve serve, listening on " + scheme + options.listen;
  PRESERVE_ASSIGN_OR_RETURN(impl->archive, archive::Archive::Open(options.store, clock, open));

  // Bytes submitted wait here for the ingest gate; what a killed service
  // left is not acknowledged, and goes.
  const std::filesystem::path spool = options.store / "spool";
  std::error_code ec;
  std::filesystem::remove_all(spool, ec);
  std::filesystem::create_directories(spool, ec);
  if (ec) return Status::IOError("cannot make " + spool.string() + ": " + ec.message());

  archive::IngestOptions ingest;
  for (const auto& path : options.intermediates) {
    PRESERVE_ASSIGN_OR_RETURN(std::vector<Bytes> certificates, LoadCertificates(path));
    ingest.intermediates.insert(ingest.intermediates.end(), certificates.begin(), certificates.end());
  }
  ingest.revocation.online = true;
  ingest.revocation.ocsp_max_age = options.ocsp_max_age;
  impl->trail = std::make_unique<AccessTrail>(*impl->archive);
  impl->ingest = std::make_unique<IngestQueue>(*impl->archive, impl->writer, std::move(ingest));
  impl->api = std::make_unique<PresApi>(*impl->archive, clock, impl->writer, *impl->ingest, *impl->trail,
                                        PresApiOptions{.spool = spool,
                                                       .max_requests_per_account = options.max_requests_per_account});

  web::WebHooks hooks;
  hooks.ingest = [queue = impl->ingest.get()](std::vector<archive::Submission> submissions) {
    return queue->Ingest(std::move(submissions));
  };
  hooks.record_access = [trail = impl->trail.get()](archive::AccessEvent event) {
    return trail->Record(std::move(event));
  };
  impl->web = std::make_unique<web::WebApp>(*impl->archive, clock, impl->writer, std::move(hooks),
                                            web::WebAppOptions{.spool = spool, .tls = tls});

  HttpServerOptions http;
  http.listen = options.listen;
  if (tls) http.tls = HttpTlsFiles{*options.tls_certificate, *options.tls_key, options.client_ca};
  // A PreservePO handler waits for its ingest group; the group can only be
  // as large as the handlers waiting at once, so there are many of them (a
  // waiting thread costs its stack, not CPU).
  http.worker_threads = options.worker_threads != 0 ? options.worker_threads : kDefaultWorkers;
  http.max_body_bytes = options.max_body_bytes;
  // Each connection may buffer a body of up to max_body_bytes: fewer
  // connections than the transport's default bound what slow senders can hold.
  http.max_connections = 256;
  http.idle_timeout = options.idle_timeout;
  http.request_timeout = options.request_timeout;
  PresApi* api = impl->api.get();
  web::WebApp* web = impl->web.get();
  // Requests refused whatever their body (no credentials, no session, a role
  // that may not) are answered from their head: their bodies are never held.
  http.screen = [api, web](const HttpRequest& head) {
    return web::WebApp::Serves(head.target) ? web->Screen(head) : api->Screen(head);
  };
  PRESERVE_ASSIGN_OR_RETURN(impl->http,
                            HttpServer::Start(
                                http,
                                [api, web](const HttpRequest& r) {
                                  return web::WebApp::Serves(r.target) ? web->Handle(r) : api->Handle(r);
                                },
                                [](unsigned status, const std::string& detail) {
                                  return PresApi::ProtocolError(status, detail);
                                }));
  impl->url = scheme + impl->http->local_endpoint();
  if (options.run_jobs) impl->jobs = std::thread([raw = impl.get()] { raw->RunJobs(); });
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

std::string Service::url() const { return impl_->url; }

void Service::Stop() {
  if (!impl_ || !impl_->archive) return;
  // No new job starts; requests received are answered (their ingests need
  // the queue); then the queue stops, a running job finishes, the store closes.
  {
    std::lock_guard<std::mutex> lock(impl_->jobs_mutex);
    impl_->stopping = true;
  }
  impl_->jobs_wake.notify_all();
  if (impl_->http) impl_->http->Stop();
  if (impl_->ingest) impl_->ingest->Stop();
  if (impl_->jobs.joinable()) impl_->jobs.join();
  impl_->http.reset();
  impl_->api.reset();
  impl_->web.reset();
  impl_->ingest.reset();
  impl_->trail.reset();
  impl_->archive.reset();
}

}  // namespace preserve::service
