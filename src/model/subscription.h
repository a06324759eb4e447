#pragma once
// A subscription binds an event to a function in one space. Three kinds:
//   custom events (async, routed by path and event name), `invoke` (sync calls of one function),
//   and `http` (sync, routed by method and path, optionally with CORS).

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eg::model {

inline constexpr std::string_view kHttpEvent = "http";
inline constexpr std::string_view kInvokeEvent = "invoke";
// System events (gateway.event.received, gateway.function.invoked, ...) are named under this prefix,
// which custom events may not use.
inline constexpr std::string_view kSystemEventPrefix = "gateway.";
// The health probes both APIs answer themselves (GET /healthz: alive; GET /readyz: ready), before any
// http subscription is looked up; no http subscription may have these paths (docs/api.md).
inline constexpr std::string_view kLivenessPath = "/healthz";
inline constexpr std::string_view kReadinessPath = "/readyz";
inline bool is_health_path(std::string_view path) { return path == kLivenessPath || path == kReadinessPath; }

struct Cors {
  std::vector<std::string> origins{"*"};
  std::vector<std::string> methods{"HEAD", "GET", "POST"};
  std::vector<std::string> headers{"Origin", "Accept", "Content-Type"};
  bool allow_credentials = false;

  boost::json::object to_json() const;
};

// How the asynchronous deliveries of a subscription are retried (docs/delivery.md). A field left
// out falls back to the gateway's -delivery-* flag of the same name.
struct DeliveryPolicy {
  std::optional<std::uint32_t> max_attempts;  // the first attempt included: 1 never retries
  std::optional<std::uint64_t> initial_backoff_ms;
  std::optional<std::uint64_t> max_backoff_ms;
  std::optional<std::uint64_t> max_age_seconds;
  std::optional<std::string> dead_letter_function_id;  // also called with each dead letter

  // {"maxAttempts", "initialBackoffMs", "maxBackoffMs", "maxAgeSeconds", "deadLetterFunctionId"},
  // the fields that are set.
  boost::json::object to_json() const;
};

struct Subscription {
  std::string space;
  std::string subscription_id;
  std::string event;
  std::string function_id;
  std::string path = "/";
  std::string method;        // http only, upper case
  std::optional<Cors> cors;  // http only
  // http only: with -events-api-keys, a request needs a key of the subscription's space
  // (docs/security.md); http events are public otherwise.
  bool require_api_key = false;
  std::optional<DeliveryPolicy> delivery;  // custom and system events only

  bool is_http() const { return event == kHttpEvent; }
  bool is_invoke() const { return event == kInvokeEvent; }

  boost::json::object to_json() const;
  // Reads the stored form back; throws std::invalid_argument saying why a record cannot be read.
  static Subscription from_stored_text(std::string_view text);
};

}  // namespace eg::model
