// HTTP dates both ways (net/http_date.h): the Date the servers write, and the Retry-After a
// function answers with, in seconds or as a date (RFC 9110 §10.2.3).

#include "net/http_date.h"

#include <gtest/gtest.h>

#include <chrono>

namespace eg::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

// Sun, 06 Nov 1994 08:49:37 GMT: the example date of RFC 9110.
constexpr std::time_t kRfcExample = 784111777;

Clock::time_point at(std::time_t seconds) { return Clock::from_time_t(seconds); }

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(format_http_date(kRfcExample), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(HttpDate, ParsesTheThreeFormsARecipientMustAccept) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), kRfcExample);   // IMF-fixdate
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), kRfcExample);  // obsolete RFC 850
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), kRfcExample);        // asctime
}

TEST(HttpDate, ReadsBackWhatItWrites) {
  for (const std::time_t time :
       {std::time_t{1}, kRfcExample, std::time_t{1767225600}, std::time_t{4102444799}}) {
    EXPECT_EQ(parse_http_date(format_http_date(time)), time) << format_http_date(time);
  }
}

TEST(HttpDate, RefusesWhatIsNotADate) {
  for (const char* text :
       {"", " ", "garbage", "tomorrow", "120", "1994-11-06", "Mon, 32 Nov 1994 08:49:37 GMT"}) {
    EXPECT_EQ(parse_http_date(text), std::nullopt) << '"' << text << '"';
  }
  EXPECT_EQ(parse_http_date(std::string(200, 'x') + "Sun, 06 Nov 1994 08:49:37 GMT"), std::nullopt);
}

TEST(RetryAfter, DelaySeconds) {
  const auto now = at(kRfcExample);
  EXPECT_EQ(parse_retry_after("0", now), 0s);
  EXPECT_EQ(parse_retry_after("1", now), 1s);
  EXPECT_EQ(parse_retry_after("120", now), 120s);
  EXPECT_EQ(parse_retry_after("007", now), 7s);
  EXPECT_EQ(parse_retry_after(" 30\t", now), 30s) << "surrounding whitespace is not part of the value";
}

TEST(RetryAfter, AHugeDelayIsCappedRatherThanOverflowed) {
  const auto now = at(kRfcExample);
  EXPECT_EQ(parse_retry_after("31536000", now), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("99999999999999999999999999", now), kMaxRetryAfter);
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), kMaxRetryAfter);
}

TEST(RetryAfter, AnImfFixdateAheadIsTheTimeUntilThen) {
  const auto now = at(kRfcExample);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now), 60s);
  EXPECT_EQ(parse_retry_after("Mon, 07 Nov 1994 08:49:37 GMT", now), 24h);
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now), 10s);
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:40 1994", now), 3s);
  // Part of a second still to go is a second: the client must not come back early.
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:38 GMT", now + 500ms), 1s);
}

TEST(RetryAfter, ADateInThePastIsNoWait) {
  const auto now = at(kRfcExample);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), 0s);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 500ms), 0s);
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 1970 00:00:01 GMT", now), 0s);
  EXPECT_EQ(parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now), 0s);
}

TEST(RetryAfter, GarbageIsIgnored) {
  const auto now = at(kRfcExample);
  for (const char* value : {"", "   ", "-1", "+5", "1.5", "5s", "soon", "0x10", "1e3", "Sun, 32 Nov 1994"}) {
    EXPECT_EQ(parse_retry_after(value, now), std::nullopt) << '"' << value << '"';
  }
}

}  // namespace
}  // namespace eg::net
