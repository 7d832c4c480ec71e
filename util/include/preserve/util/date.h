// Calendar dates as people write them: preserve's one date parser, for every
// date option of the command line, record metadata sidecars and the date part
// of ParseUtcTime.
//
//   ParseDate      "2017-11-22" (ISO 8601) or "22/11/2017" (day/month/year, as
//                  Vietnamese documents write dates; "5/3/2017" too)
//   ParseIsoDate   "2017-11-22" only: stored records and sidecars, which are
//                  exchanged between systems and keep one form
//
// Both reject dates that do not exist (2017-02-30, 2017-13-01), two-digit
// years (22/11/17) and anything around the date, with kInvalidArgument whose
// message quotes the text and names the accepted forms.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "preserve/util/clock.h"
#include "preserve/util/status.h"

namespace preserve {

// The forms ParseDate accepts, for messages and help texts.
inline constexpr const char* kDateForms = "YYYY-MM-DD or dd/mm/yyyy";

Result<std::chrono::sys_days> ParseDate(std::string_view text);
Result<std::chrono::sys_days> ParseIsoDate(std::string_view text);

// "2017-11-22".
std::string FormatDate(std::chrono::sys_days day);

// A date as ParseDate reads it (its first second, UTC), or a full UTC time as
// ParseUtcTime reads it ("2017-11-22T10:00:00Z"): --now, report ranges.
Result<TimePoint> ParseDateOrUtcTime(std::string_view text);

}  // namespace preserve
