#include "preserve/util/clock.h"

#include <cstdio>
#include <ctime>

#include "preserve/util/date.h"

namespace preserve {

TimePoint SystemClock::Now() const {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

Result<TimePoint> ParseUtcTime(std::string_view text) {
  std::string s(text);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  char sep = 0;
  int n = std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &sep, &h, &mi, &sec);
  bool date_only = (n == 3 && s.size() == 10);
  bool full = (n == 7 && (sep == 'T' || sep == ' ') &&
               (s.size() == 19 || (s.size() == 20 && s.back() == 'Z')));
  if (!date_only && !full) {
    return Status::InvalidArgument("'" + s + "' is not a UTC time (use 2026-11-27 or 2026-11-27T10:00:00Z)");
  }
  auto day = ParseIsoDate(std::string_view(s).substr(0, 10));
  if (!day.ok() || h > 23 || mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0) {
    return Status::InvalidArgument("'" + s + "' is not a valid date and time");
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
