#pragma once
// What an outbound call's failure or answer means for the call of a function, one rule for every
// provider (docs/delivery.md, "What is retried"; the classification Knative uses):
//   - a transport failure may go right next time (the connection refused or reset, a name that did
//     not resolve, a timeout, a broken answer, a call abandoned on cancellation), except an answer
//     too large, which would be as large again;
//   - of the statuses, 408, 429 and 5xx are worth trying again; any other is the function's final
//     word (410 Gone included);
//   - a 429 or 503 may say how long to wait (Retry-After, in seconds or as an HTTP date).
// Each provider words its own messages; these say only what may be retried.

#include <chrono>
#include <optional>

#include "net/outbound.h"

namespace eg::providers {

bool is_retryable(net::OutboundError::Kind kind);
bool is_retryable_status(long status);

// The wait a 429 or 503 answer asks for, as of `now`; nothing for other statuses, without a
// Retry-After field, or when its value is neither seconds nor a date (net::parse_retry_after).
std::optional<std::chrono::seconds> retry_after_of(const net::OutboundResponse& response,
                                                   std::chrono::system_clock::time_point now);

}  // namespace eg::providers
