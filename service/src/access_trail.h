// AccessTrail: every request for an operation becomes an "access" audit
// event before its answer leaves (TS 119 511: every access logged, the log
// protected; here it is the hash-chained, sealed audit trail itself).
//
// Requests answered at about the same time share one synced write (group
// commit): the first caller to find no write in progress writes everything
// queued so far, and the others wait for the write that holds theirs. One
// sync per group, not per request, keeps reads as cheap as they can be.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "preserve/archive/maintenance.h"

namespace preserve::service {

class AccessTrail {
 public:
  explicit AccessTrail(archive::Archive& archive) : archive_(archive) {}

  // Returns once `event` is durable, or with the store's error when the
  // write that held it failed (the request is then answered 500).
  Status Record(archive::AccessEvent event);

 private:
  archive::Archive& archive_;
  std::mutex mutex_;
  std::condition_variable written_;
  std::vector<archive::AccessEvent> queued_;
  std::uint64_t enqueued_ = 0;  // events queued so far, ever
  std::uint64_t durable_ = 0;   // of those, the first durable_ are written (or failed)
  bool writing_ = false;
  // Writes that failed: the events they held, first..last.
  struct FailedWrite {
    std::uint64_t first;
    std::uint64_t last;
    Status status;
  };
  std::vector<FailedWrite> outcomes_;
};

}  // namespace preserve::service
