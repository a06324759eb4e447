#include "common/rate_limited_log.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "common/captured_log.h"

namespace eg::common {
namespace {

using namespace std::chrono_literals;

TEST(RateLimitedWarning, AFloodWithinOneIntervalIsOneLine) {
  testsupport::CapturedLog log;
  RateLimitedWarning warning("backlog full: event refused", 1h);
  for (int i = 0; i < 1000; ++i) warning.note("event user.created on /shop");
  ASSERT_EQ(log.lines().size(), 1U);
  EXPECT_NE(log.lines()[0].find("backlog full: event refused: event user.created on /shop"), std::string::npos)
      << log.lines()[0];
  EXPECT_EQ(warning.total(), 1000U);
}

TEST(RateLimitedWarning, TheNextLineSaysHowManyOccurredSinceTheLast) {
  testsupport::CapturedLog log;
  RateLimitedWarning warning("connection refused", 200ms);
  warning.note();
  for (int i = 0; i < 99; ++i) warning.note();
  std::this_thread::sleep_for(250ms);
  warning.note("limit 10");
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0], "connection refused\n");
  EXPECT_NE(lines[1].find("connection refused: limit 10 (100 times since the last such line"), std::string::npos)
      << lines[1];
}

TEST(RateLimitedWarning, AnErrorIsLoggedAtErrorLevel) {
  testsupport::CapturedLog log;
  spdlog::default_logger()->set_pattern("%l %v");
  RateLimitedWarning error("response header refused", 1h, RateLimitedWarning::Level::Error);
  error.note();
  RateLimitedWarning warning("connection refused", 1h);
  warning.note();
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0], "error response header refused\n");
  EXPECT_EQ(lines[1], "warning connection refused\n");
}

TEST(RateLimitedWarning, ThreadsShareTheLimit) {
  testsupport::CapturedLog log;
  RateLimitedWarning warning("loop detected", 1h);
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) warning.note();
    });
  }
  threads.clear();
  EXPECT_EQ(log.lines().size(), 1U);
  EXPECT_EQ(warning.total(), 40'000U);
}

}  // namespace
}  // namespace eg::common
