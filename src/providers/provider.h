#pragma once
// A provider knows one function type: how to validate its settings, which of them are secret, and
// how to call such a function. Each provider lives in src/providers/<name>/ and is listed once in
// registry.cpp.

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/function.h"
#include "net/http_client.h"

namespace eg::providers {

// What a call of a function produced.
struct CallResult {
  enum class Outcome {
    Success,      // the function answered
    FunctionError,  // the function ran and reported an error
    Unreachable,  // the function could not be reached
    Timeout,      // the function did not answer in time
  };
  Outcome outcome = Outcome::Success;
  std::string body;          // the function's response (Success) or its error response
  std::string content_type;  // of `body`, when the function said
  std::string error;         // what went wrong, for logs, system events and sync callers
  // Whether the same call may succeed later (docs/delivery.md, "What is retried"): connection
  // failures, timeouts, 408, 429, 5xx, a Lambda function error, AWS throttling and AWS 5xx. Any
  // other 4xx is permanent.
  bool retryable = false;
  // How long the function asked to be left alone (Retry-After on a 429 or 503), when it said.
  std::optional<std::chrono::seconds> retry_after;

  bool ok() const { return outcome == Outcome::Success; }
};

// Headers every call of an http function carries, so that a function whose URL leads back to a
// gateway (directly, or through code that passes them on) cannot start a loop that never ends: the
// gateway refuses requests that passed more than -max-hops gateways, and a request that a system
// event's delivery made emits no system events (docs/events.md, "Loops").
inline constexpr std::string_view kHopsHeader = "Event-Gateway-Hops";
inline constexpr std::string_view kSystemEventHeader = "Event-Gateway-System-Event";
// Headers of every attempt of an asynchronous delivery, so that a function can deduplicate: the
// event's id, and 1 for the first attempt, 2 for the second...
inline constexpr std::string_view kEventIdHeader = "Event-ID";
inline constexpr std::string_view kDeliveryAttemptHeader = "Delivery-Attempt";

// What a call tells the function about where it comes from.
struct CallMarks {
  unsigned hops = 1;              // gateways the call has passed, this one included
  std::string_view system_event;  // the system event whose delivery led to this call, if any
  std::string_view event_id;      // for asynchronous deliveries: the event's id
  unsigned attempt = 0;           // for asynchronous deliveries: 1 for the first attempt; 0 for sync calls
};

// What a provider may use to make a call; one per event-loop thread.
struct CallContext {
  net::HttpClient& http;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view type() const = 0;
  // Returns a user-facing error message when `settings` are not valid for this provider.
  virtual std::optional<std::string> validate(const boost::json::object& settings) const = 0;
  // Settings that are stored but never returned by the Config API.
  virtual const std::vector<std::string_view>& secret_fields() const;
  // Calls `function` with `payload` (the event as JSON text), passing `marks` on where the function
  // type can carry them. Never throws for a failed call.
  virtual boost::asio::awaitable<CallResult> call(const model::Function& function, const std::string& payload,
                                                  const CallMarks& marks, CallContext& context) const = 0;
};

// The provider for a function type, or nullptr for an unknown type.
const Provider* find_provider(std::string_view type);
// "awsfirehose, awskinesis, awslambda, http", for error messages.
std::string known_provider_types();

}  // namespace eg::providers
