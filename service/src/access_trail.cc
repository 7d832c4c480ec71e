#include "access_trail.h"

#include <algorithm>

namespace preserve::service {

Status AccessTrail::Record(archive::AccessEvent event) {
  std::unique_lock<std::mutex> lock(mutex_);
  queued_.push_back(std::move(event));
  const std::uint64_t mine = ++enqueued_;
  while (durable_ < mine) {
    if (writing_) {
      written_.wait(lock);
      continue;
    }
    // Lead a write of everything queued, ours included.
    writing_ = true;
    std::vector<archive::AccessEvent> group;
    group.swap(queued_);
    const std::uint64_t last = enqueued_;
    lock.unlock();
    Status written;
    try {
      written = archive::Maintenance(archive_).RecordAccess(group);
    } catch (const std::exception& e) {  // the followers must not wait for a leader that is gone
      written = Status::Internal(std::string("recording the access trail: ") + e.what());
    }
    lock.lock();
    writing_ = false;
    if (!written.ok()) outcomes_.push_back({durable_ + 1, last, written});
    durable_ = last;
    written_.notify_all();
  }
  // A failed write is reported to every request it held. Failures are kept
  // (they are rare: a store that cannot be written fails everything after).
  for (const FailedWrite& failed : outcomes_)
    if (failed.first <= mine && mine <= failed.last) return failed.status;
  return Status::Ok();
}

}  // namespace preserve::service
