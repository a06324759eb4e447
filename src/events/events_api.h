#pragma once
// The Events API (README "Events API"), one instance per event-loop thread:
//   - `Event: <name>` (POST): a custom event, delivered asynchronously to every subscriber of that
//     event on that path; 202 once accepted, 429 when the delivery backlog is full.
//   - `Event: invoke` (POST, `Function-ID`, optional `Space`): a synchronous call of a function that
//     has an invoke subscription; 200 with the function's raw answer.
//   - no Event header: an http event, routed by method and path to the http subscription, answered
//     with the function's {statusCode, headers, body}.
// Failed calls answer 500 (the function failed or answered with something that is not a response
// object), 502 (unreachable) or 504 (timed out), always with a JSON error.

#include <boost/asio/awaitable.hpp>

#include "events/dispatcher.h"
#include "net/json_response.h"

namespace eg::events {

class EventsApi {
 public:
  explicit EventsApi(Dispatcher& dispatcher) : dispatcher_(dispatcher) {}

  boost::asio::awaitable<net::Response> handle(net::Request& request);
  // From now on every request is answered 503: the gateway is shutting down.
  void start_draining() { draining_ = true; }

 private:
  boost::asio::awaitable<net::Response> emit_custom_event(net::Request& request, std::string path,
                                                          std::string event_name);
  boost::asio::awaitable<net::Response> invoke(net::Request& request, std::string path);
  boost::asio::awaitable<net::Response> http_event(net::Request& request, std::string path);
  net::Response preflight(const net::Request& request, std::string_view path);
  // Emits gateway.event.received; builds nothing unless someone subscribed to it.
  void report_received(const Event& event, std::string_view path, const net::Request& request);

  Dispatcher& dispatcher_;
  bool draining_ = false;
};

}  // namespace eg::events
