#pragma once
// When a failed asynchronous delivery is attempted again (docs/delivery.md, "Retries"): exponential
// backoff with full jitter (each delay drawn uniformly from 0 up to initial × 2^(attempt-1), capped
// at the maximum delay), at least as long as the function's Retry-After asked (capped the same
// way), until the attempts are used up or the next one would come later than the maximum age
// after the first.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

#include "model/subscription.h"

namespace eg::delivery {

struct RetryPolicy {
  std::uint32_t max_attempts = 185;  // the first included
  std::chrono::milliseconds initial_backoff{1'000};
  std::chrono::milliseconds max_backoff{300'000};
  std::chrono::seconds max_age{86'400};
};

// The subscription's policy, each field it leaves out taken from `defaults` (the -delivery-* flags).
RetryPolicy resolve(const std::optional<model::DeliveryPolicy>& policy, const RetryPolicy& defaults);

// The wait before the next attempt of a delivery whose attempt number `attempts` (1 for the first)
// just failed in a retryable way, `since_first_attempt` after its first; nothing when the policy
// gives up. `retry_after` is what the function asked for.
std::optional<std::chrono::milliseconds> next_delay(const RetryPolicy& policy, std::uint32_t attempts,
                                                    std::chrono::milliseconds since_first_attempt,
                                                    std::optional<std::chrono::seconds> retry_after,
                                                    std::mt19937_64& random);

}  // namespace eg::delivery
