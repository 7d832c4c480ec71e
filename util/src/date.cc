#include "preserve/util/date.h"

#include <cstdio>
#include <optional>

namespace preserve {

namespace {

// The number the digits of `s` spell when there are between `min` and `max` of them.
std::optional<unsigned> Digits(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

Status NotADate(std::string_view text, const char* forms) {
  return Status::InvalidArgument("'" + std::string(text) + "' is not a date (give " + forms + ")");
}

Result<std::chrono::sys_days> Day(std::optional<unsigned> y, std::optional<unsigned> m, std::optional<unsigned> d,
                                  std::string_view text, const char* forms) {
  if (!y || !m || !d) return NotADate(text, forms);
  const std::chrono::year_month_day ymd{std::chrono::year(static_cast<int>(*y)), std::chrono::month(*m),
                                        std::chrono::day(*d)};
  if (!ymd.ok()) return Status::InvalidArgument("'" + std::string(text) + "' is not a date that exists (give " +
                                                forms + ")");
  return std::chrono::sys_days(ymd);
}

// Day, month and year of "YYYY-MM-DD", each empty when that shape is not there.
struct Parts {
  std::optional<unsigned> year, month, day;
};
Parts IsoParts(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return {};
  return {Digits(text.substr(0, 4), 4, 4), Digits(text.substr(5, 2), 2, 2), Digits(text.substr(8, 2), 2, 2)};
}

// "d/m/yyyy", "dd/mm/yyyy".
Parts SlashParts(std::string_view text) {
  const std::size_t first = text.find('/');
  const std::size_t second = first == std::string_view::npos ? first : text.find('/', first + 1);
  if (second == std::string_view::npos || text.find('/', second + 1) != std::string_view::npos) return {};
  return {Digits(text.substr(second + 1), 4, 4), Digits(text.substr(first + 1, second - first - 1), 1, 2),
          Digits(text.substr(0, first), 1, 2)};
}

}  // namespace

Result<std::chrono::sys_days> ParseIsoDate(std::string_view text) {
  const Parts p = IsoParts(text);
  return Day(p.year, p.month, p.day, text, "YYYY-MM-DD");
}

Result<std::chrono::sys_days> ParseDate(std::string_view text) {
  const Parts p = text.find('/') == std::string_view::npos ? IsoParts(text) : SlashParts(text);
  return Day(p.year, p.month, p.day, text, kDateForms);
}

std::string FormatDate(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd(day);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

Result<TimePoint> ParseDateOrUtcTime(std::string_view text) {
  if (text.size() > 10 && (text[10] == 'T' || text[10] == ' ')) return ParseUtcTime(text);
  auto day = ParseDate(text);
  if (!day.ok())
    return Status::InvalidArgument("'" + std::string(text) + "' is not a date or a UTC time (give " + kDateForms +
                                   ", or YYYY-MM-DDTHH:MM:SSZ)");
  return TimePoint(day.value());
}

}  // namespace preserve
