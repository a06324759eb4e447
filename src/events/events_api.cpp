#include "events/events_api.h"

#include <spdlog/spdlog.h>

#include <boost/url/parse.hpp>
#include <optional>

#include "common/json.h"
#include "events/cors.h"
#include "events/http_event.h"
#include "model/identifiers.h"
#include "model/subscription.h"

namespace eg::events {
namespace {

namespace asio = boost::asio;
namespace http = net::http;
using net::Response;
using providers::CallResult;

constexpr std::string_view kEventHeader = "Event";
constexpr std::string_view kFunctionIdHeader = "Function-ID";
constexpr std::string_view kSpaceHeader = "Space";
// Enough for an http event with a browser's headers and a small body; the arena grows beyond.
constexpr std::size_t kHttpEventArenaBytes = 4096;

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

http::status status_of_failure(CallResult::Outcome outcome) {
  switch (outcome) {
    case CallResult::Outcome::Unreachable: return http::status::bad_gateway;
    case CallResult::Outcome::Timeout: return http::status::gateway_timeout;
    default: return http::status::internal_server_error;
  }
}

Response call_failure(const CallResult& result, std::string_view function_id) {
  return net::error_response(status_of_failure(result.outcome),
                             "function \"" + std::string(function_id) + "\" failed: " + result.error);
}

Response malformed_function_response(std::string_view function_id, std::string_view why) {
  return net::error_response(http::status::internal_server_error,
                             "function \"" + std::string(function_id) +
                                 "\" returned an invalid http response object: " + std::string(why));
}

// The function's answer to an http event: {"statusCode": int (default 200), "headers": {name:
// string}, "body": string}.
Response http_response_from(const CallResult& result, std::string_view function_id) {
  const auto json = common::parse_json(result.body);
  if (!json.ok() || !json.value.is_object())
    return malformed_function_response(function_id, "not a JSON object");
  const auto& object = json.value.get_object();
  int status = 200;
  if (const auto* code = object.if_contains("statusCode")) {
    if (!code->is_int64() || code->get_int64() < 100 || code->get_int64() > 599) {
      return malformed_function_response(function_id, "statusCode must be an integer from 100 to 599");
    }
    status = static_cast<int>(code->get_int64());
  }
  Response response{static_cast<http::status>(status), 11};
  if (const auto* headers = object.if_contains("headers"); headers && !headers->is_null()) {
    if (!headers->is_object()) return malformed_function_response(function_id, "headers must be an object");
    for (const auto& [name, value] : headers->get_object()) {
      if (!value.is_string()) return malformed_function_response(function_id, "header values must be strings");
      response.insert(std::string_view(name), std::string_view(value.get_string()));
    }
  }
  if (const auto* body = object.if_contains("body"); body && !body->is_null()) {
    if (!body->is_string()) return malformed_function_response(function_id, "body must be a string");
    response.body() = body->get_string();
  }
  response.prepare_payload();
  return response;
}

}  // namespace

asio::awaitable<Response> EventsApi::handle(net::Request& request) {
  if (draining_) {
    co_return net::error_response(http::status::service_unavailable, "the event gateway is shutting down");
  }
  auto path = request_path(request);
  if (!path) co_return net::error_response(http::status::bad_request, "malformed request target");
  const std::string_view event_name = request[kEventHeader];
  if (event_name.empty() && is_preflight(request)) co_return preflight(request, *path);
  if (event_name.empty()) co_return co_await http_event(request, std::move(*path));
  if (event_name == model::kInvokeEvent) co_return co_await invoke(request, std::move(*path));
  co_return co_await emit_custom_event(request, normalized(std::move(*path)), std::string(event_name));
}

asio::awaitable<Response> EventsApi::emit_custom_event(net::Request& request, std::string path,
                                                       std::string event_name) {
  if (request.method() != http::verb::post) {
    co_return net::error_response(http::status::bad_request, "custom events must be sent with POST");
  }
  if (!model::is_valid_name(event_name) || event_name == model::kHttpEvent) {
    co_return net::error_response(http::status::bad_request,
                                  "invalid Event header \"" + event_name +
                                      "\": use 1-128 characters of letters, digits, '.', '_' and '-' (and not "
                                      "\"http\": http events are sent without an Event header)");
  }
  if (event_name.starts_with(kSystemEventPrefix)) {
    // Only the gateway may say that a function was invoked: subscribers act on these events.
    co_return net::error_response(http::status::bad_request,
                                  "event names starting with \"gateway.\" are reserved for system events");
  }
  const std::string_view content_type = request[http::field::content_type];
  std::shared_ptr<const Event> event;
  try {
    event = std::make_shared<const Event>(make_event(std::move(event_name), content_type, request.body()));
  } catch (const MalformedJson& error) {
    co_return net::error_response(http::status::bad_request, error.what());
  }
  // Pinned: publish() reads the snapshot again, which may move on to a newer one meanwhile.
  const auto routes = dispatcher_.pinned_snapshot();
  const auto& subscribers = routes->subscribers(path, event->name);
  if (!dispatcher_.publish(event, subscribers)) {
    spdlog::warn("delivery backlog full: refused event {} on {}", event->name, path);
    co_return net::error_response(http::status::too_many_requests,
                                  "the delivery backlog is full; the event was not accepted, retry later");
  }
  report_received(*event, path, request);
  auto response = net::empty_response(http::status::accepted);
  add_cors_headers(response, custom_event_cors(), request[http::field::origin]);
  co_return response;
}

asio::awaitable<Response> EventsApi::invoke(net::Request& request, std::string path) {
  if (request.method() != http::verb::post) {
    co_return net::error_response(http::status::bad_request, "invoke must be sent with POST");
  }
  const std::string function_id(request[kFunctionIdHeader]);
  std::string space(request[kSpaceHeader]);
  if (space.empty()) space = "default";
  if (!model::is_valid_name(function_id)) {
    co_return net::error_response(http::status::bad_request, "invoke needs a valid Function-ID header");
  }
  if (!model::is_valid_name(space)) co_return net::error_response(http::status::bad_request, "invalid Space header");
  const auto routes = dispatcher_.pinned_snapshot();  // alive until the function has answered
  const auto* function = routes->find_function(space, function_id);
  if (function == nullptr || !routes->has_invoke_subscription(space, function_id)) {
    co_return net::error_response(http::status::not_found, "function \"" + function_id + "\" in space \"" + space +
                                                               "\" has no invoke subscription");
  }
  // Constructed in place: assigning would copy the data out of the event's arena.
  std::optional<Event> event;
  try {
    event.emplace(
        make_event(std::string(model::kInvokeEvent), request[http::field::content_type], request.body()));
  } catch (const MalformedJson& error) {
    co_return net::error_response(http::status::bad_request, error.what());
  }
  report_received(*event, path, request);
  const auto result = co_await dispatcher_.call(*function, *event);
  if (!result.ok()) co_return call_failure(result, function_id);
  Response response{http::status::ok, 11};
  if (!result.content_type.empty()) response.set(http::field::content_type, result.content_type);
  response.body() = result.body;
  response.prepare_payload();
  co_return response;
}

asio::awaitable<Response> EventsApi::http_event(net::Request& request, std::string path) {
  const auto routes = dispatcher_.pinned_snapshot();  // alive until the function has answered
  auto match = routes->match_http(request.method_string(), path);
  if (!match) {
    co_return net::error_response(http::status::not_found, "no http subscription for " +
                                                               std::string(request.method_string()) + " " + path);
  }
  const auto& route = *match->value;
  const auto* function = routes->find_function(route.space, route.function_id);
  if (function == nullptr) {
    co_return net::error_response(http::status::not_found, "function \"" + route.function_id + "\" not found");
  }
  // The event's JSON is built in one arena that lives as long as this request: one allocation
  // instead of one per object and string of the event (a dozen or more).
  // (Constructed in place: assigning a JSON value copies it into the target's storage.)
  boost::json::monotonic_resource arena(kHttpEventArenaBytes);
  std::optional<Event> event;
  try {
    event.emplace(make_json_event(std::string(model::kHttpEvent),
                                  http_event_data(request, path, match->params, boost::json::storage_ptr(&arena))));
  } catch (const MalformedJson& error) {
    co_return net::error_response(http::status::bad_request, error.what());
  }
  report_received(*event, path, request);
  const auto result = co_await dispatcher_.call(*function, *event);
  auto response = result.ok() ? http_response_from(result, route.function_id) : call_failure(result, route.function_id);
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

void EventsApi::report_received(const Event& event, std::string_view path,
                                const net::Request& request) {
  if (!dispatcher_.wants_system_event("gateway.event.received")) return;
  dispatcher_.emit_system_event("gateway.event.received",
                                {{"event", event.to_json()}, {"path", path}, {"headers", request_headers(request)}});
}

}  // namespace eg::events
