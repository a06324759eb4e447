// The retry schedule of asynchronous deliveries: exponential backoff with full jitter, Retry-After,
// and the limits of attempts and age. In process, no clock: next_delay takes the time elapsed.
#include "delivery/retry_policy.h"

#include <gtest/gtest.h>

namespace eg::delivery {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const RetryPolicy kPolicy{.max_attempts = 10,
                          .initial_backoff = milliseconds(100),
                          .max_backoff = milliseconds(1'000),
                          .max_age = seconds(3600)};

TEST(RetryPolicy, DelaysAreJitteredBelowADoublingCeilingThatStopsAtTheMaximum) {
  std::mt19937_64 random(7);
  const std::int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000};
  for (std::uint32_t attempts = 1; attempts < kPolicy.max_attempts; ++attempts) {
    std::int64_t smallest = 1'000'000, largest = 0;
    for (int draw = 0; draw < 2000; ++draw) {
      const auto delay = next_delay(kPolicy, attempts, milliseconds(0), std::nullopt, random);
      ASSERT_TRUE(delay) << "attempt " << attempts;
      smallest = std::min<std::int64_t>(smallest, delay->count());
      largest = std::max<std::int64_t>(largest, delay->count());
    }
    const auto ceiling = ceilings[attempts - 1];
    EXPECT_GE(smallest, 0);
    EXPECT_LE(largest, ceiling) << "attempt " << attempts;
    // Full jitter spreads the delays over the whole range, not around its middle.
    EXPECT_LT(smallest, ceiling / 10) << "attempt " << attempts;
    EXPECT_GT(largest, ceiling * 9 / 10) << "attempt " << attempts;
  }
}

TEST(RetryPolicy, GivesUpWhenTheAttemptsAreUsedUp) {
  std::mt19937_64 random(1);
  EXPECT_TRUE(next_delay(kPolicy, 9, milliseconds(0), std::nullopt, random));
  EXPECT_FALSE(next_delay(kPolicy, 10, milliseconds(0), std::nullopt, random));
  const RetryPolicy once{.max_attempts = 1};
  EXPECT_FALSE(next_delay(once, 1, milliseconds(0), std::nullopt, random));
}

TEST(RetryPolicy, GivesUpWhenTheNextAttemptWouldComePastTheMaximumAge) {
  std::mt19937_64 random(1);
  const RetryPolicy short_lived{.max_attempts = 100,
                                .initial_backoff = milliseconds(1'000),
                                .max_backoff = milliseconds(1'000),
                                .max_age = seconds(10)};
  EXPECT_TRUE(next_delay(short_lived, 3, milliseconds(8'999), std::nullopt, random));
  EXPECT_FALSE(next_delay(short_lived, 3, milliseconds(10'001), std::nullopt, random));
}

TEST(RetryPolicy, RetryAfterIsAMinimumCappedByTheMaximumDelay) {
  std::mt19937_64 random(3);
  for (int draw = 0; draw < 200; ++draw) {
    const auto delay = next_delay(kPolicy, 1, milliseconds(0), seconds(0), random);
    EXPECT_LE(delay->count(), 100);
    EXPECT_EQ(next_delay(kPolicy, 1, milliseconds(0), seconds(5), random), milliseconds(1'000));
  }
  const RetryPolicy patient{.max_attempts = 5, .initial_backoff = milliseconds(10), .max_backoff = seconds(60)};
  for (int draw = 0; draw < 200; ++draw) {
    const auto delay = next_delay(patient, 1, milliseconds(0), seconds(2), random);
    EXPECT_GE(delay->count(), 2'000);
    EXPECT_LE(delay->count(), 2'000);  // the jittered delay (at most 10 ms) is shorter
  }
}

TEST(RetryPolicy, ASubscriptionOverridesOnlyWhatItSets) {
  const RetryPolicy defaults{};
  EXPECT_EQ(resolve(std::nullopt, defaults).max_attempts, defaults.max_attempts);
  const auto resolved = resolve(model::DeliveryPolicy{.max_attempts = 3, .max_backoff_ms = 50}, defaults);
  EXPECT_EQ(resolved.max_attempts, 3U);
  EXPECT_EQ(resolved.max_backoff, milliseconds(50));
  // The default initial delay (1 s) would exceed the subscription's maximum: the maximum wins.
  EXPECT_EQ(resolved.initial_backoff, milliseconds(50));
  EXPECT_EQ(resolved.max_age, defaults.max_age);
}

}  // namespace
}  // namespace eg::delivery
