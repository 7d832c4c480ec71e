// The one source of time in preserve.
//
// Every module takes a `const Clock&` instead of reading the system clock, so
// tests (and `--now` / PRESERVE_NOW simulations) can run decades of renewals in
// seconds. Times are UTC with one-second resolution, as in RFC 3161 genTime.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "preserve/util/status.h"

namespace preserve {

using TimePoint = std::chrono::sys_seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // True when the time is simulated (set by --now); the embedded TSA says so
  // in its tokens' policy so such tokens are never mistaken for real ones.
  virtual bool simulated() const { return false; }
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
};

// A clock that stands still until told to move. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(std::chrono::seconds(now_.load())); }
  bool simulated() const override { return true; }
  void Set(TimePoint t) { now_.store(t.time_since_epoch().count()); }
  void Advance(std::chrono::seconds d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<std::int64_t> now_;
};

// Parses "2026-11-27", "2026-11-27T10:00:00Z" or "2026-11-27 10:00:00" (UTC).
Result<TimePoint> ParseUtcTime(std::string_view text);
// Formats as "2026-11-27T10:00:00Z".
std::string FormatUtcTime(TimePoint t);

}  // namespace preserve
