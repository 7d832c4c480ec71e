// A parallel loop for independent per-item work (hashing, signature
// validation): the items are split into a few contiguous ranges per hardware
// thread. Small inputs run on the calling thread alone, since starting a
// thread costs more than a few cheap items. And two different steps side by
// side (hashing a piece of content while writing it).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

#include "preserve/util/status.h"

namespace preserve {

// Calls fn(begin, end) for contiguous pieces that cover [0, n), each at
// least `min_per_thread` long, on up to hardware_concurrency threads (the
// calling thread one of them): for work that walks its piece in order (one
// cursor per piece). A few pieces a thread, taken in order as threads free
// up, so that work whose cost varies along the range (an object of ten
// kilobytes among five of fifty bytes) ends on every thread at about the same
// time. No piece is started once one has failed; returns the error of the
// first failed piece (by position) once all threads have ended.
inline Status ParallelRanges(std::size_t n, std::size_t min_per_thread,
                             const std::function<Status(std::size_t begin, std::size_t end)>& fn) {
  const std::size_t min_piece = std::max<std::size_t>(1, min_per_thread);
  std::size_t threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 16);
  threads = std::max<std::size_t>(1, std::min(threads, n / min_piece));
  if (threads == 1) return fn(0, n);
  constexpr std::size_t kPiecesPerThread = 4;
  const std::size_t pieces = std::clamp(n / min_piece, threads, threads * kPiecesPerThread);
  std::vector<Status> status(pieces, Status::Ok());
  std::atomic<std::size_t> next_piece{0};
  std::atomic<bool> failed{false};
  auto run = [&] {
    while (!failed.load()) {
      const std::size_t p = next_piece.fetch_add(1);
      if (p >= pieces) return;
      status[p] = fn(n * p / pieces, n * (p + 1) / pieces);
      if (!status[p].ok()) failed.store(true);
    }
  };
  std::vector<std::thread> workers;
  for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(run);
  run();
  for (auto& w : workers) w.join();
  for (auto& st : status)
    if (!st.ok()) return st;
  return Status::Ok();
}

// Calls fn(i) for every i in [0, n), on up to hardware_concurrency threads,
// in pieces of at least `min_per_thread` items (ParallelRanges). A piece
// stops at its first error; the first error (by piece) is returned once all
// threads have ended.
inline Status ParallelFor(std::size_t n, std::size_t min_per_thread, const std::function<Status(std::size_t)>& fn) {
  return ParallelRanges(n, min_per_thread, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) PRESERVE_RETURN_IF_ERROR(fn(i));
    return Status::Ok();
  });
}

// Calls a() on the calling thread and b() beside it, on a thread of its own,
// for two steps over the same `bytes` that would otherwise take turns (a
// digest and a write of them). Under 256 KiB, or with one hardware thread,
// b() runs after a(): starting a thread would cost more than it saves. Both
// always run; returns a's error, else b's.
inline Status RunSideBySide(std::size_t bytes, const std::function<Status()>& a, const std::function<Status()>& b) {
  constexpr std::size_t kWorthAThread = 256u << 10;
  Status second = Status::Ok();
  if (bytes < kWorthAThread || std::thread::hardware_concurrency() < 2) {
    Status first = a();
    second = b();
    return first.ok() ? second : first;
  }
  std::thread beside([&] { second = b(); });
  Status first = a();
  beside.join();
  return first.ok() ? second : first;
}

}  // namespace preserve
