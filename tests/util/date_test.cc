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

}  // namespace
}  // namespace preserve
