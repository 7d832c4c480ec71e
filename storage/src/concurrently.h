// Running many calls that wait (on the network, not on a core) side by side.
// Private to storage/.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "preserve/util/status.h"

namespace preserve::storage {

// Calls fn(i) for every i in [0, n) on up to `width` threads (the calling one
// among them), whatever the number of cores: unlike ParallelFor (util's, for
// work that keeps a core busy), these calls mostly wait for an answer. After
// the first error no new call starts; that error is returned once all running
// calls have ended.
inline Status Concurrently(std::size_t n, std::size_t width, const std::function<Status(std::size_t)>& fn) {
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  Status first = Status::Ok();
  auto work = [&] {
    for (std::size_t i = next++; i < n; i = next++) {
      Status s = fn(i);
      if (s.ok()) continue;
      std::lock_guard<std::mutex> guard(mutex);
      if (first.ok()) first = std::move(s);
      next = n;
      return;
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < std::min(width, n); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return first;
}

}  // namespace preserve::storage
