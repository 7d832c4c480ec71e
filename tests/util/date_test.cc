// The one date parser (util/src/date.cc): the forms people write, and the dates that do not exist.
#include "preserve/util/date.h"

#include <gtest/gtest.h>

namespace preserve {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

TEST(Date, ParsesIsoAndDayMonthYear) {
  const sys_days day = 2017y / 11 / 22;
  EXPECT_EQ(ParseDate("2017-11-22").value(), day);
  EXPECT_EQ(ParseDate("22/11/2017").value(), day);
  EXPECT_EQ(ParseDate("5/3/2017").value(), sys_days(2017y / 3 / 5));
  EXPECT_EQ(ParseDate("29/02/2020").value(), sys_days(2020y / 2 / 29));
  EXPECT_EQ(FormatDate(day), "2017-11-22");
}

TEST(Date, RefusesDatesThatDoNotExistAndShortYears) {
  for (const char* bad : {"2017-13-01", "2017-02-30", "2019-02-29", "22/11/17", "31/04/2017", "2017-1-5", "",
                          "2017-11-22T00:00:00Z", " 2017-11-22", "22/11/2017/1", "22-11-2017", "+017-11-22"}) {
    auto parsed = ParseDate(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("dd/mm/yyyy"), std::string::npos) << parsed.status().message();
  }
}

TEST(Date, IsoOnlyRefusesTheDayMonthYearForm) {
  EXPECT_TRUE(ParseIsoDate("2017-11-22").ok());
  EXPECT_FALSE(ParseIsoDate("22/11/2017").ok());
  EXPECT_FALSE(ParseIsoDate("2017-02-30").ok());
}

TEST(Date, DateOrUtcTime) {
  EXPECT_EQ(ParseDateOrUtcTime("22/11/2017").value(), TimePoint(sys_days(2017y / 11 / 22)));
  EXPECT_EQ(ParseDateOrUtcTime("2017-11-22T10:00:00Z").value(), TimePoint(sys_days(2017y / 11 / 22)) + 10h);
  EXPECT_FALSE(ParseDateOrUtcTime("2017-11-22T25:00:00Z").ok());
  EXPECT_FALSE(ParseDateOrUtcTime("2017-02-30").ok());
  // ParseUtcTime keeps its forms, with the same calendar.
  EXPECT_FALSE(ParseUtcTime("2017-02-30T00:00:00Z").ok());
  EXPECT_TRUE(ParseUtcTime("2017-11-22 10:00:00").ok());
}

// Exactly "YYYY-MM-DD", or that with "THH:MM:SS" (or a space for the T) and an optional Z.
TEST(Date, UtcTimeForms) {
  const TimePoint day = TimePoint(sys_days(2026y / 11 / 27));
  EXPECT_EQ(ParseUtcTime("2026-11-27").value(), day);
  EXPECT_EQ(ParseUtcTime("2026-11-27T10:09:08Z").value(), day + 10h + 9min + 8s);
  EXPECT_EQ(ParseUtcTime("2026-11-27T23:59:60").value(), day + 23h + 59min + 60s);  // a leap second
  for (const char* refused : {"", "2026-11-2", "2026-1-27", "2026-11-27T10:00", "2026-11-27T10:00:00ZZ",
                              "2026-11-27T+1:00:00Z", "2026-11-27T1a:00:00Z", "2026-11-27X10:00:00Z",
                              "2026-11-27T10-00-00Z", "2026-11-27T10:00:00+", "2026-11-27T24:00:00Z",
                              "2026-11-27T10:60:00Z", "2026-13-27T10:00:00Z"})
    EXPECT_FALSE(ParseUtcTime(refused).ok()) << refused;
  EXPECT_NE(ParseUtcTime("2026-11-27T10:00").status().message().find("not a UTC time"), std::string::npos);
  EXPECT_NE(ParseUtcTime("2026-11-27T24:00:00Z").status().message().find("not a valid date and time"),
            std::string::npos);
}

}  // namespace
}  // namespace preserve
