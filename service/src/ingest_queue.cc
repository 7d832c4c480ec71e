#include "ingest_queue.h"

#include "preserve/signature/revocation_cache.h"

namespace preserve::service {

namespace {
// Submissions per IngestAll call: bounds the memory and the wait of a group.
constexpr std::size_t kMaxGroup = 256;
}  // namespace

IngestQueue::IngestQueue(archive::Archive& archive, std::mutex& writer, archive::IngestOptions options)
    : archive_(archive), writer_(writer), options_(std::move(options)) {
  // Revocation data fetched for one group serves the next ones while fresh,
  // as within one long `preserve ingest` run.
  if (!options_.revocation.cache) options_.revocation.cache = std::make_shared<signature::RevocationCache>();
  thread_ = std::thread([this] { Run(); });
}

IngestQueue::~IngestQueue() { Stop(); }

void IngestQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<std::vector<archive::IngestOutcome>> IngestQueue::Ingest(std::vector<archive::Submission> submissions) {
  std::future<Result<std::vector<archive::IngestOutcome>>> done;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return Status::Unavailable("the service is stopping");
    queued_.push_back(Waiting{std::move(submissions), {}});
    done = queued_.back().outcomes.get_future();
  }
  work_.notify_one();
  return done.get();
}

void IngestQueue::Run() {
  for (;;) {
    std::vector<Waiting> group;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
      if (queued_.empty()) return;  // stopping, and everything handed in was ingested
      std::size_t submissions = 0;
      while (!queued_.empty() && (group.empty() || submissions + queued_.front().submissions.size() <= kMaxGroup)) {
        submissions += queued_.front().submissions.size();
        group.push_back(std::move(queued_.front()));
        queued_.pop_front();
      }
    }
    std::vector<archive::Submission> all;
    for (Waiting& w : group)
      for (archive::Submission& s : w.submissions) all.push_back(std::move(s));
    std::vector<archive::IngestOutcome> outcomes;
    outcomes.reserve(all.size());
    Status status;
    try {
      std::lock_guard<std::mutex> writing(writer_);
      status = archive::Ingestion(archive_).IngestAll(
          all, options_, [&outcomes](const archive::IngestOutcome& o) { outcomes.push_back(o); });
    } catch (const std::exception& e) {  // std::async or an allocation failing: not this thread's end
      status = Status::Internal(std::string("ingest failed: ") + e.what());
    }
    // Outcomes come in submission order, each reported once durable. A store
    // error stops the rest: those are answered as errors (nothing of theirs
    // was acknowledged), beside whatever of the same request was.
    std::size_t next = 0;
    for (Waiting& w : group) {
      const std::size_t n = w.submissions.size();
      if (next >= outcomes.size() && !status.ok()) {
        w.outcomes.set_value(status);
      } else {
        std::vector<archive::IngestOutcome> mine;
        for (std::size_t i = next; i < next + n; ++i) {
          if (i < outcomes.size()) {
            mine.push_back(outcomes[i]);
            continue;
          }
          archive::IngestOutcome failed;
          failed.input = w.submissions[i - next].name;
          failed.error = true;
          failed.reason = status.ok() ? "ingest ended without an outcome for it" : status.message();
          mine.push_back(std::move(failed));
        }
        w.outcomes.set_value(std::move(mine));
      }
      next += n;
    }
  }
}

}  // namespace preserve::service
