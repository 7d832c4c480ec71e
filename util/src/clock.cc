#include "preserve/util/clock.h"

#include <cstdio>
#include <ctime>

#include "preserve/util/date.h"

namespace preserve {

TimePoint SystemClock::Now() const {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

namespace {

// The number two decimal digits at `at` spell, or -1.
int TwoDigits(std::string_view s, std::size_t at) {
  const char a = s[at], b = s[at + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
  return (a - '0') * 10 + (b - '0');
}

}  // namespace

// By hand, not sscanf: a renewal reads a time from each of a million records.
Result<TimePoint> ParseUtcTime(std::string_view text) {
  const bool date_only = text.size() == 10;
  const bool full = (text.size() == 19 || (text.size() == 20 && text.back() == 'Z')) &&
                    (text[10] == 'T' || text[10] == ' ') && text[13] == ':' && text[16] == ':';
  const int h = full ? TwoDigits(text, 11) : 0, mi = full ? TwoDigits(text, 14) : 0,
            sec = full ? TwoDigits(text, 17) : 0;
  if ((!date_only && !full) || h < 0 || mi < 0 || sec < 0) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a UTC time (use 2026-11-27 or 2026-11-27T10:00:00Z)");
  }
  auto day = ParseIsoDate(text.substr(0, 10));
  if (!day.ok() || h > 23 || mi > 59 || sec > 60) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a valid date and time");
  }
  return TimePoint(day.value()) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec);
}

std::string FormatUtcTime(TimePoint t) {
  auto days = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd(days);
  std::chrono::hh_mm_ss hms(t - days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace preserve
