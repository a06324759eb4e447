#pragma once
// The Events API (README "Events API"), one instance per event-loop thread:
//   - `Event: <name>` (POST, optional `Space`, default "default"): a custom event, delivered
//     asynchronously to every subscriber of that event on that path in that space (in every space
//     with cross_space_events); 202 once accepted, 429 when the delivery backlog is full.
//   - `Event: invoke` (POST, `Function-ID`, optional `Space`): a synchronous call of a function that
//     has an invoke subscription; 200 with the function's raw answer.
//   - no Event header: an http event, routed by method and path to the http subscription, answered
//     with the function's {statusCode, headers, body} once it passed the checks of
//     function_response.h.
// Failed calls answer 500 (the function failed or answered with something that is not a valid
// response object), 502 (unreachable) or 504 (timed out), always with a JSON error that names the
// request id (the event's id) and nothing of the function's location: the details go to the log and
// to gateway.function.invocationFailed in the function's space.
// A request that passed more than max_hops gateways (providers::kHopsHeader) is refused with 508.
// With API keys (-events-api-keys, docs/security.md), custom events and invoke need a key that may act
// on their space (401, 403); http events stay public unless their subscription has requireApiKey.
// Sync plugins of gateway.event.received (docs/plugins.md) are asked about every event, once it passed
// these checks and before it is routed: a veto answers with the plugin's status and error, a plugin
// that cannot answer with 503, and a plugin may replace the event's data.

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>

#include "auth/api_keys.h"
#include "events/dispatcher.h"
#include "net/json_response.h"

namespace eg::events {

struct EventsApiOptions {
  // Requests that passed more gateways than this are refused (508 Loop Detected).
  unsigned max_hops = 16;
  // Custom events reach the subscribers of every space, as in the original gateway, instead of those
  // in the event's `Space` only.
  bool cross_space_events = false;
};

// What the access log (-access-log, docs/logging.md) says of a request beyond its head and its answer,
// noted by the handler as it learns it.
struct AccessNotes {
  std::string space;
  std::string function_id;  // the function called synchronously, if any
  std::string trace_id;
};

class EventsApi {
 public:
  EventsApi(Dispatcher& dispatcher, EventsApiOptions options) : dispatcher_(dispatcher), options_(options) {}

  // `notes`, when given, learns what the access log says.
  boost::asio::awaitable<net::Response> handle(net::Request& request, AccessNotes* notes = nullptr);
  // handle(), then one access log line: what the Events API's server calls with -access-log.
  boost::asio::awaitable<net::Response> handle_and_log(net::Request& request);
  // From now on every request is answered 503: the gateway is shutting down.
  void start_draining() { draining_ = true; }
  // The keys custom events and invoke need from now on (none: no key); on the API's thread.
  void use_keys(std::shared_ptr<const auth::ApiKeys> keys) { keys_ = std::move(keys); }
  // What GET /readyz asks, besides whether this API drains; until it is set, the API is ready.
  void use_readiness(net::Readiness readiness) { readiness_ = std::move(readiness); }

 private:
  // GET /healthz and GET /readyz (without an Event header), answered before any route and while
  // draining; nothing for any other request.
  std::optional<net::Response> health_probe(const net::Request& request,
                                            std::string_view event_name) const;
  boost::asio::awaitable<net::Response> emit_custom_event(net::Request& request, std::string path,
                                                          std::string event_name, Provenance provenance,
                                                          AccessNotes* notes);
  boost::asio::awaitable<net::Response> invoke(net::Request& request, std::string path,
                                               Provenance provenance, AccessNotes* notes);
  boost::asio::awaitable<net::Response> http_event(net::Request& request, std::string path,
                                                   Provenance provenance, AccessNotes* notes);
  net::Response preflight(const net::Request& request, std::string_view path);
  // The 401 or 403 for a request whose key may not act on `space`; nothing without keys.
  std::optional<net::Response> access_refusal(const net::Request& request, std::string_view space) const;
  // The same for an http subscription that requires a key (requireApiKey), refused also when the
  // gateway has no keys: a route that asks for a key is never served without one.
  std::optional<net::Response> required_key_refusal(const net::Request& request,
                                                    std::string_view space) const;
  // Whether the request carries the key its route requires; if so, the key is taken off the request,
  // so that the function never sees it.
  bool take_required_key(net::Request& request, std::string_view space) const;
  // Takes the key off a request that passed access_refusal, when the gateway checks keys.
  void forget_key(net::Request& request) const;
  // The request's provenance, or the answer that refuses it (malformed marks, a loop).
  std::variant<Provenance, net::Response> provenance_of(const net::Request& request) const;
  Event received_system_event(std::string_view space, const Event& event, std::string_view path,
                              const net::Request& request) const;
  // The same as text, for the plugins alone: cheaper than the tree (serialize_system_event), with
  // `event_text` the event's serialize().
  std::string received_system_event_text(std::string_view space, const Event& event,
                                         std::string_view event_text, std::string_view path,
                                         const net::Request& request) const;
  // Tells the async plugins of gateway.event.received: `asked` when the sync ones saw it, else its
  // text. `event_text`: the event's serialize() when the caller has it (its function call's), else null.
  void tell_plugins_received(std::string_view space, const Event& event, const std::string* event_text,
                             std::string_view path, const net::Request& request,
                             const std::optional<Event>& asked);
  // Asks the sync plugins of gateway.event.received about `event`, which a plugin may transform:
  // whether they all allow it; if not, `refusal` gets the answer that refuses it. `asked` gets the
  // system event they were asked about, for the announcement to pass on. (A bool and an out
  // parameter: GCC 12 warns falsely about a coroutine that returns an optional answer and awaits this.)
  boost::asio::awaitable<bool> ask_plugins(Event& event, std::string_view space, std::string_view path,
                                           const net::Request& request, std::optional<Event>& asked,
                                           net::Response& refusal);
  // Announces gateway.event.received in `space` (`asked`: the system event the sync plugins saw;
  // `event_text` as for tell_plugins_received); builds nothing unless someone hears of it.
  void report_received(std::string_view space, const Event& event, const std::string* event_text,
                       std::string_view path, const net::Request& request,
                       std::optional<Event> asked = std::nullopt);
  // Reports a received custom event in the spaces its routing reaches.
  void report_custom_event_received(const Event& event, std::string_view space,
                                    const std::vector<routing::Subscriber>& subscribers,
                                    std::string_view path, const net::Request& request,
                                    std::optional<Event> asked);

  Dispatcher& dispatcher_;
  EventsApiOptions options_;
  bool draining_ = false;
  std::shared_ptr<const auth::ApiKeys> keys_;
  net::Readiness readiness_;
};

}  // namespace eg::events
