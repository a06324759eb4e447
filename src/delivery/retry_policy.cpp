#include "delivery/retry_policy.h"

#include <algorithm>

namespace eg::delivery {
using std::chrono::milliseconds;

RetryPolicy resolve(const std::optional<model::DeliveryPolicy>& policy, const RetryPolicy& defaults) {
  if (!policy) return defaults;
  RetryPolicy resolved = defaults;
  if (policy->max_attempts) resolved.max_attempts = *policy->max_attempts;
  if (policy->initial_backoff_ms) resolved.initial_backoff = milliseconds(*policy->initial_backoff_ms);
  if (policy->max_backoff_ms) resolved.max_backoff = milliseconds(*policy->max_backoff_ms);
  if (policy->max_age_seconds) resolved.max_age = std::chrono::seconds(*policy->max_age_seconds);
  // A subscription that sets only a small maximum keeps it: its initial delay is capped by it.
  resolved.initial_backoff = std::min(resolved.initial_backoff, resolved.max_backoff);
  return resolved;
}

std::optional<milliseconds> next_delay(const RetryPolicy& policy, std::uint32_t attempts,
                                       milliseconds since_first_attempt,
                                       std::optional<std::chrono::seconds> retry_after, std::mt19937_64& random) {
  if (attempts >= policy.max_attempts) return std::nullopt;
  // initial × 2^(attempts-1), capped: the doubling stops at the cap, so it cannot overflow.
  std::int64_t ceiling = policy.initial_backoff.count();
  for (std::uint32_t doubled = 1; doubled < attempts && ceiling < policy.max_backoff.count(); ++doubled) ceiling *= 2;
  ceiling = std::min(ceiling, policy.max_backoff.count());
  std::uniform_int_distribution<std::int64_t> jitter(0, ceiling);
  auto delay = milliseconds(jitter(random));
  if (retry_after) delay = std::max(delay, std::min<milliseconds>(*retry_after, policy.max_backoff));
  if (since_first_attempt + delay > policy.max_age) return std::nullopt;
  return delay;
}

}  // namespace eg::delivery
