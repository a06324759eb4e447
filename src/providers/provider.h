#pragma once
// A provider knows one function type: how to validate its settings, which of them are secret, and
// how to compile a function of its type into a call target. Each provider lives in
// src/providers/<name>/ and is listed once in registry.cpp.
//
// A function is compiled once, when the routing snapshot takes it (on the configuration watcher's
// thread): its settings are parsed and resolved then (URL, AWS region, endpoint, where its
// credentials come from), into an immutable CallTarget that every Events API thread shares. A call
// reads no JSON, no environment and no file; it returns a typed outcome that says whether it may be
// retried.

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <memory>
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
    Refused,      // not called: a plugin vetoed it, or could not be asked (docs/plugins.md)
  };
  Outcome outcome = Outcome::Success;
  unsigned refused_status = 0;  // Refused: the status a synchronous caller gets
  std::string body;          // the function's response (Success) or its error response
  std::string content_type;  // of `body`, when the function said
  std::string error;         // what went wrong, for logs, system events and sync callers
  unsigned status = 0;       // the HTTP status the function answered, when it answered over HTTP
  // Whether the same call may succeed later (docs/delivery.md, "What is retried"): connection
  // failures, timeouts, 408, 429, 5xx, a Lambda function error, AWS throttling and AWS 5xx. Any
  // other 4xx is permanent.
  bool retryable = false;
  // How long the function asked to be left alone (Retry-After on a 429 or 503), when it said.
  std::optional<std::chrono::seconds> retry_after;
  // How long the call took, plugins asked included: set by the caller (events::Dispatcher), not the provider.
  std::chrono::duration<double, std::milli> took{0};

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
  // W3C trace context (net/trace_context.h): the caller's, passed on unchanged, or the gateway's own.
  std::string_view traceparent;
  std::string_view tracestate;  // may be empty
};

// What a provider may use to make a call; one per event-loop thread.
struct CallContext {
  net::HttpClient& http;
};

// A function ready to be called: what its settings say, parsed and resolved. Immutable, shared by
// every thread; call() may run on many threads at once.
class CallTarget {
 public:
  virtual ~CallTarget() = default;
  // Calls the function with `payload` (the event as JSON text), passing `marks` on where the function
  // type can carry them, with the calling thread's `context`. Never throws for a failed call. The
  // target, `payload`, `marks` and `context` must outlive the call (hold the CompiledFunction).
  virtual boost::asio::awaitable<CallResult> call(const std::string& payload, const CallMarks& marks,
                                                  CallContext& context) const = 0;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view type() const = 0;
  // Returns a user-facing error message when `settings` are not valid for this provider.
  virtual std::optional<std::string> validate(const boost::json::object& settings) const = 0;
  // Settings that are stored but never returned by the Config API.
  virtual const std::vector<std::string_view>& secret_fields() const;
  // The URL that `settings` (valid ones) send calls to, when they name one (an http function's url, an
  // AWS endpoint): what the egress policy checks at registration. Nothing when the provider picks it.
  virtual std::optional<std::string> destination_url(const boost::json::object& settings) const;
  // The call target of `function`, a function of this provider's type. May read the environment and
  // files: it runs where the routing snapshot takes a function, never on an Events API thread.
  // Settings that validate() refuses (a record written behind the Configuration API's back) or that
  // no call can use (no AWS region anywhere) give a target whose every call fails, permanently,
  // saying why. Never throws.
  virtual std::shared_ptr<const CallTarget> compile(const model::Function& function) const = 0;
};

// A target whose every call fails with `error`, not retryable (Outcome::Unreachable: the caller of
// a sync call gets 502).
std::shared_ptr<const CallTarget> failing_target(std::string error);

// A function as routing holds it: its record and its call target, compiled once. Immutable; shared
// by the routing snapshots that hold it and by the calls and deliveries in flight, which keep it
// alive as long as they need it.
struct CompiledFunction {
  model::Function function;
  std::shared_ptr<const CallTarget> target;  // never null

  boost::asio::awaitable<CallResult> call(const std::string& payload, const CallMarks& marks,
                                          CallContext& context) const {
    return target->call(payload, marks, context);
  }
};

// `function` with its call target, compiled by the provider of its type (a failing target for a type
// no provider knows). Never throws.
std::shared_ptr<const CompiledFunction> compile_function(model::Function function);

// The provider for a function type, or nullptr for an unknown type.
const Provider* find_provider(std::string_view type);
// "awsfirehose, awskinesis, awslambda, http", for error messages.
std::string known_provider_types();

}  // namespace eg::providers
