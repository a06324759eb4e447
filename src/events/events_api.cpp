#include "events/events_api.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <chrono>
#include <iterator>
#include <optional>

#include "auth/refusal.h"
#include "common/json.h"
#include "common/log_fields.h"
#include "common/rate_limited_log.h"
#include "events/console_feed.h"
#include "events/cors.h"
#include "events/function_response.h"
#include "events/http_event.h"
#include "events/plugin_steps.h"
#include "metrics/gateway_metrics.h"
#include "model/identifiers.h"
#include "model/subscription.h"
#include "net/trace_context.h"
#include "observe/event_catalog.h"
#include "observe/traffic_tap.h"

namespace eg::events {
namespace {

namespace asio = boost::asio;
namespace http = net::http;
using net::Response;
using providers::CallResult;

constexpr std::string_view kEventHeader = "Event";
constexpr std::string_view kFunctionIdHeader = "Function-ID";
constexpr std::string_view kSpaceHeader = "Space";
constexpr std::string_view kDefaultSpace = "default";
// Enough for an http event with a browser's headers and a small body; the arena grows beyond.
constexpr std::size_t kHttpEventArenaBytes = 4096;
// More hops than any chain of gateways has; a longer header is not a number of hops.
constexpr std::size_t kMaxHopsDigits = 6;

// The request path, percent-decoded, without the query; nothing when the target is malformed.
std::optional<std::string> request_path(const net::Request& request) {
  const auto url = boost::urls::parse_origin_form(request.target());
  if (!url) return std::nullopt;
  auto path = model::percent_decode(url->encoded_path());
  if (!path || path->empty() || path->front() != '/') return std::nullopt;
  return path;
}

// "/myteam/" and "/myteam" are the same custom event path, as they are for subscriptions.
std::string normalized(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// The Space header, "default" without one; nothing when it is not a valid space name.
std::optional<std::string> space_of(const net::Request& request) {
  const std::string_view space = request[kSpaceHeader];
  if (space.empty()) return std::string(kDefaultSpace);
  if (!model::is_valid_name(space)) return std::nullopt;
  return std::string(space);
}

Response invalid_space() {
  return net::error_response(
      http::status::bad_request,
      "invalid Space header: use 1-128 characters of letters, digits, '.', '_' and '-'");
}

std::optional<unsigned> parse_hops(std::string_view text) {
  unsigned hops = 0;
  if (text.empty() || text.size() > kMaxHopsDigits) return std::nullopt;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), hops);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return hops;
}

// Logs a failed synchronous call with what a search needs (docs/logging.md); `subscription_id` is
// the http subscription's, empty for invoke.
void log_failed_call(const CallResult& result, const model::Function& function, const Event& event,
                     std::string_view subscription_id, http::status status, std::string_view error,
                     std::string_view message) {
  common::log_with_fields(spdlog::level::warn,
                          {{"space", function.space},
                           {"functionId", function.function_id},
                           {"subscriptionId", subscription_id},
                           {"event", event.name},
                           {"eventId", event.id},
                           {"status", static_cast<std::int64_t>(status)},
                           {"durationMs", result.took.count()},
                           {"error", error},
                           {"traceId", event.provenance.trace.trace_id()}},
                          "{}", message);
}

// What the caller of a failed synchronous call hears: what kind of failure, and the request id (the
// event's id) under which the log and gateway.function.invocationFailed tell the rest. Nothing of
// the function's URL, host, ARN or account reaches the caller.
Response call_failure(const CallResult& result, const model::Function& function, const Event& event,
                      std::string_view subscription_id = {}) {
  if (result.outcome == CallResult::Outcome::Refused) {
    // A plugin's veto or its failure (docs/plugins.md): the plugin's own words, or why it could not answer.
    return net::error_response(static_cast<http::status>(result.refused_status), result.error);
  }
  const auto status = result.outcome == CallResult::Outcome::Unreachable ? http::status::bad_gateway
                      : result.outcome == CallResult::Outcome::Timeout   ? http::status::gateway_timeout
                                                                         : http::status::internal_server_error;
  log_failed_call(result, function, event, subscription_id, status, result.error,
                  fmt::format("{} call of function {}/{} failed (request id {}): {}", event.name,
                              function.space, function.function_id, event.id, result.error));
  switch (result.outcome) {
    case CallResult::Outcome::Unreachable:
      return net::error_response(status, "the function could not be reached (request id " + event.id + ")");
    case CallResult::Outcome::Timeout:
      return net::error_response(status, "the function did not answer in time (request id " + event.id + ")");
    default:
      return net::error_response(status, "the function failed (request id " + event.id + ")");
  }
}

Response refused_answer(const RefusedAnswer& refusal, const CallResult& result, const model::Function& function,
                        const Event& event, std::string_view subscription_id) {
  log_failed_call(result, function, event, subscription_id, http::status::internal_server_error,
                  "invalid http response: " + refusal.detail,
                  fmt::format("function {}/{} returned an invalid http response (request id {}): {}",
                              function.space, function.function_id, event.id, refusal.detail));
  return net::error_response(
      http::status::internal_server_error,
      "the function returned an invalid http response: " + refusal.reason + " (request id " + event.id + ")");
}

// What a plugin said about gateway.event.received: its veto, or why it could not say.
Response plugin_refusal(const plugin::Verdict& verdict) {
  return net::error_response(static_cast<http::status>(verdict.status), verdict.message);
}

// The request's trace context (net/trace_context.h). Two traceparent headers make it invalid, and
// several tracestate headers are one list, as W3C Trace Context says.
net::TraceContext trace_context_of_request(const net::Request& request) {
  const auto [parent, parents_end] = request.equal_range(net::kTraceparentHeader);
  if (parent == parents_end || std::next(parent) != parents_end) return net::trace_context_of({}, {});
  std::string tracestate;
  const auto [state, states_end] = request.equal_range(net::kTracestateHeader);
  for (auto field = state; field != states_end; ++field) {
    if (!tracestate.empty()) tracestate += ',';
    tracestate.append(field->value());
  }
  return net::trace_context_of(parent->value(), tracestate);
}

// The `type` label of an Events API request, from its Event header.
std::string_view type_label_of(std::string_view event_name) {
  if (event_name.empty()) return metrics::kHttpEvent;
  if (event_name == model::kInvokeEvent) return metrics::kInvokeEvent;
  return metrics::kCustomEvent;
}

Response response_to_http_event(const CallResult& result, const model::Function& function, const Event& event,
                                std::string_view subscription_id) {
  if (!result.ok()) return call_failure(result, function, event, subscription_id);
  auto checked = http_response_from_answer(result.body);
  if (auto* refusal = std::get_if<RefusedAnswer>(&checked))
    return refused_answer(*refusal, result, function, event, subscription_id);
  return std::move(std::get<Response>(checked));
}

}  // namespace

std::optional<Response> EventsApi::health_probe(const net::Request& request,
                                                std::string_view event_name) const {
  if (request.method() != http::verb::get || !event_name.empty()) return std::nullopt;
  const auto target = request.target();
  const std::string_view path(target.data(), std::min(target.size(), target.find('?')));
  if (path == model::kLivenessPath) return net::liveness_response();
  if (path != model::kReadinessPath) return std::nullopt;
  auto reasons = readiness_ ? readiness_() : std::vector<std::string>{};
  if (draining_) reasons.push_back("the gateway is shutting down");
  return net::readiness_response(reasons);
}

asio::awaitable<Response> EventsApi::handle_and_log(net::Request& request) {
  const auto started = std::chrono::steady_clock::now();
  // Read first: handling may change the request (its key is forgotten, its body moved).
  const std::string method(request.method_string());
  const auto target = request.target();
  const std::string path(target.substr(0, target.find('?')));  // a query may hold secrets
  const std::string event_name(request[kEventHeader]);
  AccessNotes notes;
  auto response = co_await handle(request, &notes);
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
  const auto status = static_cast<std::int64_t>(response.result_int());
  common::log_with_fields(spdlog::level::info,
                          {{"method", method},
                           {"path", path},
                           {"status", status},
                           {"durationMs", took.count()},
                           {"bytes", static_cast<std::int64_t>(response.body().size())},
                           {"event", event_name},
                           {"space", notes.space},
                           {"functionId", notes.function_id},
                           {"traceId", notes.trace_id}},
                          "{} {} {}", method, path, status);
  co_return response;
}

asio::awaitable<Response> EventsApi::handle(net::Request& request, AccessNotes* notes) {
  const std::string_view event_name = request[kEventHeader];
  if (auto probe = health_probe(request, event_name)) co_return std::move(*probe);
  if (draining_) {
    metrics::events_refused.add({"", type_label_of(event_name), "draining"});
    co_return net::error_response(http::status::service_unavailable, "the event gateway is shutting down");
  }
  auto provenance = provenance_of(request);
  if (auto* refusal = std::get_if<Response>(&provenance)) {
    if (refusal->result() == http::status::loop_detected) {
      metrics::events_refused.add({"", type_label_of(event_name), "loop"});
    }
    co_return std::move(*refusal);
  }
  auto& origin = std::get<Provenance>(provenance);
  if (notes != nullptr) notes->trace_id = origin.trace.trace_id();
  auto path = request_path(request);
  if (!path) co_return net::error_response(http::status::bad_request, "malformed request target");
  if (event_name.empty() && is_preflight(request)) co_return preflight(request, *path);
  if (event_name.empty())
    co_return co_await http_event(request, std::move(*path), std::move(origin), notes);
  if (event_name == model::kInvokeEvent)
    co_return co_await invoke(request, std::move(*path), std::move(origin), notes);
  co_return co_await emit_custom_event(request, normalized(std::move(*path)), std::string(event_name),
                                       std::move(origin), notes);
}

std::variant<Provenance, Response> EventsApi::provenance_of(const net::Request& request) const {
  Provenance provenance;
  if (const auto hops_header = request[providers::kHopsHeader]; !hops_header.empty()) {
    const auto hops = parse_hops(hops_header);
    if (!hops) {
      return net::error_response(http::status::bad_request, std::string("invalid ") +
                                                                std::string(providers::kHopsHeader) +
                                                                " header: must be a number of gateway hops");
    }
    provenance.hops = *hops;
  }
  if (provenance.hops > options_.max_hops) {
    static common::RateLimitedWarning loop("request loop: refused a request that passed too many gateways");
    loop.note(fmt::format("{} {} passed {} gateways (-max-hops {})", std::string(request.method_string()),
                          std::string(request.target().substr(0, 200)), provenance.hops, options_.max_hops));
    return net::error_response(
        http::status::loop_detected,
        fmt::format(
            "the request passed more than {} event gateways: a function's URL leads back to a gateway",
            options_.max_hops));
  }
  if (const auto system_event = request[providers::kSystemEventHeader]; !system_event.empty()) {
    if (!model::is_valid_name(system_event)) {
      return net::error_response(
          http::status::bad_request,
          "invalid " + std::string(providers::kSystemEventHeader) + " header: must be a system event name");
    }
    provenance.system_event = system_event;
  }
  provenance.trace = trace_context_of_request(request);
  return provenance;
}

asio::awaitable<Response> EventsApi::emit_custom_event(net::Request& request, std::string path,
                                                       std::string event_name, Provenance provenance,
                                                       AccessNotes* notes) {
  if (request.method() != http::verb::post) {
    co_return net::error_response(http::status::bad_request, "custom events must be sent with POST");
  }
  if (!model::is_valid_name(event_name) || event_name == model::kHttpEvent) {
    co_return net::error_response(
        http::status::bad_request,
        "invalid Event header \"" + event_name +
            "\": use 1-128 characters of letters, digits, '.', '_' and '-' (and not "
            "\"http\": http events are sent without an Event header)");
  }
  if (event_name.starts_with(model::kSystemEventPrefix)) {
    // Only the gateway may say that a function was invoked: subscribers act on these events.
    co_return net::error_response(http::status::bad_request,
                                  "event names starting with \"gateway.\" are reserved for system events");
  }
  const auto space = space_of(request);
  if (!space) co_return invalid_space();
  if (notes != nullptr) notes->space = *space;
  // Across spaces, an event reaches every space: its key must be one for every space.
  const auto reached = options_.cross_space_events ? auth::kEverySpace : std::string_view(*space);
  if (auto refusal = access_refusal(request, reached)) {
    metrics::events_refused.add({*space, metrics::kCustomEvent, "unauthorized"});
    co_return std::move(*refusal);
  }
  forget_key(request);
  const std::string_view content_type = request[http::field::content_type];
  std::optional<Event> made;
  try {
    made.emplace(make_event(std::move(event_name), content_type, request.body()));
  } catch (const MalformedJson& error) {
    co_return net::error_response(http::status::bad_request, error.what());
  }
  made->provenance = std::move(provenance);
  metrics::events_received.add({*space, metrics::kCustomEvent});
  std::optional<Event> asked;  // gateway.event.received, as the sync plugins saw it
  Response refusal;
  bool allowed = true;  // a coroutine frame per request only with plugins
  if (dispatcher_.plugins() != nullptr)
    allowed = co_await ask_plugins(*made, *space, path, request, asked, refusal);
  if (!allowed) {
    metrics::events_refused.add({*space, metrics::kCustomEvent, "plugin"});
    co_return refusal;
  }
  const auto event = std::make_shared<const Event>(std::move(*made));
  // Pinned: publish() reads the snapshot again, which may move on to a newer one meanwhile.
  const auto routes = dispatcher_.pinned_snapshot();
  const auto& subscribers = routes->subscribers(path, event->name);
  const auto only_space =
      options_.cross_space_events ? std::nullopt : std::optional<std::string_view>(*space);
  // Awaited on its own line: GCC 12 miscompiles a co_await inside an if condition.
  const bool accepted = co_await dispatcher_.publish(event, subscribers, only_space);
  if (!accepted) {
    metrics::events_refused.add({*space, metrics::kCustomEvent, "backlog_full"});
    static common::RateLimitedWarning full("delivery spool or backlog full: custom event refused with 429");
    full.note(fmt::format("{} on {} in space {}", event->name, path, *space));
    co_return net::error_response(
        http::status::too_many_requests,
        "the gateway's delivery spool or backlog is full; the event was not accepted, retry later");
  }
  metrics::events_processed.add({*space, metrics::kCustomEvent});
  observe::event_catalog().record(*space, event->name, event->received_at,
                                  [&] { return event->serialize(); });
  if (observe::traffic_tap().watched()) feed_received(*space, *event, metrics::kCustomEvent, path);
  report_custom_event_received(*event, *space, subscribers, path, request, std::move(asked));
  auto response = net::empty_response(http::status::accepted);
  add_cors_headers(response, custom_event_cors(), request[http::field::origin]);
  co_return response;
}

asio::awaitable<Response> EventsApi::invoke(net::Request& request, std::string path,
                                            Provenance provenance, AccessNotes* notes) {
  if (request.method() != http::verb::post) {
    co_return net::error_response(http::status::bad_request, "invoke must be sent with POST");
  }
  const std::string function_id(request[kFunctionIdHeader]);
  if (!model::is_valid_name(function_id)) {
    co_return net::error_response(http::status::bad_request, "invoke needs a valid Function-ID header");
  }
  const auto space = space_of(request);
  if (!space) co_return invalid_space();
  if (notes != nullptr) {
    notes->space = *space;
    notes->function_id = function_id;
  }
  if (auto refusal = access_refusal(request, *space)) {
    metrics::events_refused.add({*space, metrics::kInvokeEvent, "unauthorized"});
    co_return std::move(*refusal);
  }
  forget_key(request);
  const auto routes = dispatcher_.pinned_snapshot();  // alive until the function has answered
  const auto* function = routes->find_function(*space, function_id);
  if (function == nullptr || !routes->has_invoke_subscription(*space, function_id)) {
    co_return net::error_response(http::status::not_found, "function \"" + function_id + "\" in space \"" +
                                                               *space + "\" has no invoke subscription");
  }
  // Constructed in place: assigning would copy the data out of the event's arena.
  std::optional<Event> event;
  try {
    event.emplace(
        make_event(std::string(model::kInvokeEvent), request[http::field::content_type], request.body()));
  } catch (const MalformedJson& error) {
    co_return net::error_response(http::status::bad_request, error.what());
  }
  event->provenance = std::move(provenance);
  metrics::events_received.add({*space, metrics::kInvokeEvent});
  std::optional<Event> asked;
  Response refusal;
  bool allowed = true;  // a coroutine frame per request only with plugins
  if (dispatcher_.plugins() != nullptr)
    allowed = co_await ask_plugins(*event, *space, path, request, asked, refusal);
  if (!allowed) {
    metrics::events_refused.add({*space, metrics::kInvokeEvent, "plugin"});
    co_return refusal;
  }
  const auto payload = event->serialize();  // the function's, and the async plugins' text of the event
  report_received(*space, *event, &payload, path, request, std::move(asked));
  if (observe::traffic_tap().watched()) feed_received(*space, *event, metrics::kInvokeEvent, path);
  const auto result = co_await dispatcher_.call(*function, *event, payload);
  metrics::events_processed.add({*space, metrics::kInvokeEvent});
  if (!result.ok()) co_return call_failure(result, function->function, *event);
  Response response{http::status::ok, 11};
  if (!result.content_type.empty()) response.set(http::field::content_type, result.content_type);
  response.body() = result.body;
  response.prepare_payload();
  co_return response;
}

asio::awaitable<Response> EventsApi::http_event(net::Request& request, std::string path,
                                                Provenance provenance, AccessNotes* notes) {
  const auto routes = dispatcher_.pinned_snapshot();  // alive until the function has answered
  auto match = routes->match_http(request.method_string(), path);
  if (!match) {
    co_return net::error_response(
        http::status::not_found,
        "no http subscription for " + std::string(request.method_string()) + " " + path);
  }
  const auto& route = *match->value;
  if (notes != nullptr) {
    notes->space = route.space;
    notes->function_id = route.function_id;
  }
  const auto* function = routes->find_function(route.space, route.function_id);
  if (function == nullptr) {
    spdlog::error("http subscription {}/{} has no function {}", route.space, route.subscription_id,
                  route.function_id);
    co_return net::error_response(http::status::not_found,
                                  "no function serves " + std::string(request.method_string()) + " " + path);
  }
  if (route.require_api_key && !take_required_key(request, route.space)) {
    metrics::events_refused.add({route.space, metrics::kHttpEvent, "unauthorized"});
    co_return *required_key_refusal(request, route.space);
  }
  // The event's JSON is built in one arena that lives as long as this request: one allocation
  // instead of one per object and string of the event (a dozen or more).
  // (Constructed in place: assigning a JSON value copies it into the target's storage.)
  boost::json::monotonic_resource arena(kHttpEventArenaBytes);
  std::optional<Event> event;
  try {
    event.emplace(
        make_json_event(std::string(model::kHttpEvent),
                        http_event_data(request, path, match->params, boost::json::storage_ptr(&arena))));
  } catch (const MalformedJson& error) {
    co_return net::error_response(http::status::bad_request, error.what());
  }
  event->provenance = std::move(provenance);
  metrics::events_received.add({route.space, metrics::kHttpEvent});
  std::optional<Event> asked;
  Response refusal;
  bool allowed = true;  // a coroutine frame per request only with plugins
  if (dispatcher_.plugins() != nullptr)
    allowed = co_await ask_plugins(*event, route.space, path, request, asked, refusal);
  if (!allowed) {
    metrics::events_refused.add({route.space, metrics::kHttpEvent, "plugin"});
    if (route.cors) add_cors_headers(refusal, *route.cors, request[http::field::origin]);
    co_return refusal;
  }
  const auto payload = event->serialize();  // the function's, and the async plugins' text of the event
  report_received(route.space, *event, &payload, path, request, std::move(asked));
  if (observe::traffic_tap().watched()) feed_received(route.space, *event, metrics::kHttpEvent, path);
  const auto result = co_await dispatcher_.call(*function, *event, payload);
  metrics::events_processed.add({route.space, metrics::kHttpEvent});
  auto response = response_to_http_event(result, function->function, *event, route.subscription_id);
  if (route.cors) add_cors_headers(response, *route.cors, request[http::field::origin]);
  co_return response;
}

Response EventsApi::preflight(const net::Request& request, std::string_view path) {
  const std::string_view method = request[http::field::access_control_request_method];
  if (auto match = dispatcher_.snapshot().match_http(method, path)) {
    if (match->value->cors) return preflight_response(*match->value->cors, request);
    return net::empty_response(http::status::no_content);  // CORS disabled: no headers, the browser refuses
  }
  return preflight_response(custom_event_cors(), request);
}

std::optional<Response> EventsApi::access_refusal(const net::Request& request, std::string_view space) const {
  if (!keys_) return std::nullopt;
  return auth::refusal(keys_->check(request[http::field::authorization], space), "the Events API", space);
}

bool EventsApi::take_required_key(net::Request& request, std::string_view space) const {
  if (required_key_refusal(request, space)) return false;
  request.erase(http::field::authorization);  // the gateway's key: not the function's to see
  return true;
}

void EventsApi::forget_key(net::Request& request) const {
  // The gateway's key, checked: not for the subscribers of gateway.event.received to see.
  if (keys_) request.erase(http::field::authorization);
}

std::optional<Response> EventsApi::required_key_refusal(const net::Request& request,
                                                        std::string_view space) const {
  if (keys_) return access_refusal(request, space);
  return auth::unauthorized(
      "this endpoint needs a key, and this gateway has no -events-api-keys to check it with");
}

Event EventsApi::received_system_event(std::string_view space, const Event& event, std::string_view path,
                                       const net::Request& request) const {
  auto storage = system_event_storage();
  boost::json::object data(storage);
  data.emplace("event", event.to_json(storage));
  data.emplace("space", space);
  data.emplace("path", path);
  data.emplace("headers", request_headers(request, storage));
  return make_system_event(plugin::event_type_of(plugin::Hook::EventReceived), std::move(data),
                           event.provenance);
}

asio::awaitable<bool> EventsApi::ask_plugins(Event& event, std::string_view space, std::string_view path,
                                             const net::Request& request, std::optional<Event>& asked,
                                             Response& refusal) {
  auto* plugins = dispatcher_.plugins();
  if (plugins == nullptr) co_return true;
  const auto table = plugins->pin();  // alive until every sync plugin has answered
  if (!table->has_sync(plugin::Hook::EventReceived)) co_return true;
  asked.emplace(received_system_event(space, event, path, request));
  const auto verdict =
      co_await ask_sync_plugins(*plugins, *table, plugin::Hook::EventReceived, *asked, &event);
  if (!verdict) co_return true;
  refusal = plugin_refusal(*verdict);
  co_return false;
}

std::string EventsApi::received_system_event_text(std::string_view space, const Event& event,
                                                  std::string_view event_text, std::string_view path,
                                                  const net::Request& request) const {
  // The members of received_system_event()'s data after "event", in its order.
  return serialize_system_event(plugin::event_type_of(plugin::Hook::EventReceived), event.provenance,
                                event_text, [&](std::string& text) {
                                  text += R"(,"space":)";
                                  common::append_json_string(text, space);
                                  text += R"(,"path":)";
                                  common::append_json_string(text, path);
                                  text += R"(,"headers":)";
                                  append_request_headers(text, request);
                                });
}

void EventsApi::tell_plugins_received(std::string_view space, const Event& event,
                                      const std::string* event_text, std::string_view path,
                                      const net::Request& request, const std::optional<Event>& asked) {
  constexpr auto hook = plugin::Hook::EventReceived;
  if (asked) return dispatcher_.tell_plugins(hook, *asked);
  std::string made;  // the event's text, unless the caller had it
  if (event_text == nullptr) made = event.serialize();
  const std::string_view about = event_text != nullptr ? std::string_view(*event_text) : made;
  dispatcher_.tell_plugins(hook, received_system_event_text(space, event, about, path, request));
}

void EventsApi::report_received(std::string_view space, const Event& event, const std::string* event_text,
                                std::string_view path, const net::Request& request,
                                std::optional<Event> asked) {
  constexpr auto hook = plugin::Hook::EventReceived;
  const auto& cause = event.provenance;
  if (!cause.reported() || !dispatcher_.wants_system_event(space, plugin::event_type_of(hook))) {
    // Only the plugins hear of it: as text, without the tree a function's delivery is spooled from.
    if (dispatcher_.plugins_want(hook)) tell_plugins_received(space, event, event_text, path, request, asked);
    return;
  }
  dispatcher_.announce(space, hook,
                       asked ? std::move(*asked) : received_system_event(space, event, path, request), cause);
}

void EventsApi::report_custom_event_received(const Event& event, std::string_view space,
                                             const std::vector<routing::Subscriber>& subscribers,
                                             std::string_view path, const net::Request& request,
                                             std::optional<Event> asked) {
  if (!options_.cross_space_events)
    return report_received(space, event, nullptr, path, request, std::move(asked));
  // Across spaces the event reaches every space it has subscribers in; each hears of it once, and
  // the plugins once, in the event's own space.
  constexpr auto hook = plugin::Hook::EventReceived;
  if (dispatcher_.plugins_want(hook)) tell_plugins_received(space, event, nullptr, path, request, asked);
  if (!event.provenance.reported()) return;
  std::vector<std::string_view> reached;
  for (const auto& subscriber : subscribers) {
    if (std::find(reached.begin(), reached.end(), subscriber.space) != reached.end()) continue;
    reached.push_back(subscriber.space);
    if (!dispatcher_.wants_system_event(subscriber.space, plugin::event_type_of(hook))) continue;
    dispatcher_.emit_system_event(
        subscriber.space, received_system_event(subscriber.space, event, path, request), event.provenance);
  }
}

}  // namespace eg::events
