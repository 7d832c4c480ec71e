// IngestQueue: submissions from concurrent requests, ingested in groups.
//
// Each PreservePO request hands its submissions in and waits. One thread
// takes everything queued, runs Ingestion::IngestAll on it (validation in
// parallel, one synced write per group) while holding the service's writer
// mutex, and wakes each request once its outcome is durable. Thirty-two
// clients then cost a few synced writes per round, as a bulk `preserve
// ingest` does, instead of one each.
#pragma once

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "preserve/archive/ingestion.h"

namespace preserve::service {

class IngestQueue {
 public:
  // `writer` is held around each group: the service's other changes
  // (deletion, jobs) never run beside an ingest.
  IngestQueue(archive::Archive& archive, std::mutex& writer, archive::IngestOptions options);
  ~IngestQueue();  // Stop()

  // Ingests `submissions` (in one group with whatever else is queued) and
  // returns their outcomes in order, each durable if accepted. An error is
  // for a store that cannot be written, or a queue stopped.
  Result<std::vector<archive::IngestOutcome>> Ingest(std::vector<archive::Submission> submissions);

  // Ingests what is queued, then stops the thread; later calls fail. Idempotent.
  void Stop();

 private:
  struct Waiting {
    std::vector<archive::Submission> submissions;
    std::promise<Result<std::vector<archive::IngestOutcome>>> outcomes;
  };
  void Run();

  archive::Archive& archive_;
  std::mutex& writer_;
  archive::IngestOptions options_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::deque<Waiting> queued_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace preserve::service
