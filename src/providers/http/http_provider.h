#pragma once
#include <chrono>
#include <string_view>

#include "providers/provider.h"

namespace eg::providers {

// Function type "http": any HTTP endpoint, called with POST and the event as JSON.
// Settings: `url`, an absolute http:// or https:// URL. A 2xx answer is the function's result;
// any other status is a function error carrying the answer, retryable for 408, 429 and 5xx, with the
// wait a 429 or 503 asks for in Retry-After (providers/outcome.h). Every call carries the marks
// (kHopsHeader, kSystemEventHeader), and each attempt of an asynchronous delivery the event's id
// (kEventIdHeader) and its attempt number (kDeliveryAttemptHeader).
class HttpProvider : public Provider {
 public:
  std::string_view type() const override { return "http"; }
  std::optional<std::string> validate(const boost::json::object& settings) const override;
  std::optional<std::string> destination_url(const boost::json::object& settings) const override;
  std::shared_ptr<const CallTarget> compile(const model::Function& function) const override;
};

// What the answer (or the failure) of a call of the http function `function_id` at `url` means, as
// of `now` (for a Retry-After date). A plain function, tested in tests/unit/provider_outcomes_test.cpp.
CallResult http_call_result(net::OutboundResult result, std::string_view url, std::string_view function_id,
                            std::chrono::system_clock::time_point now);

}  // namespace eg::providers
