#include "config/config_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "auth/refusal.h"
#include "common/json.h"
#include "config/console_files.h"
#include "config/errors.h"
#include "config/openapi_documents.h"
#include "config/validation.h"
#include "metrics/gateway_metrics.h"
#include "model/identifiers.h"
#include "model/subscription.h"
#include "observe/event_catalog.h"
#include "observe/traffic_tap.h"
#include "providers/provider.h"
#include "store/store.h"

namespace eg::config {
namespace {

namespace http = net::http;
using net::Response;

boost::json::value parse_body(const net::Request& request) { return parse_request_body(request.body()); }

Response method_not_allowed(std::string_view allowed) {
  auto response = net::error_response(http::status::method_not_allowed,
                                      "method not allowed; this resource accepts " + std::string(allowed));
  response.set(http::field::allow, allowed);
  return response;
}

http::status status_of(ConfigError::Kind kind) {
  switch (kind) {
    case ConfigError::Kind::NotFound:
      return http::status::not_found;
    case ConfigError::Kind::AlreadyExists:
      return http::status::conflict;
    case ConfigError::Kind::Unreadable:
      return http::status::internal_server_error;
    case ConfigError::Kind::Invalid:
      break;
  }
  return http::status::bad_request;
}

// The raw (still percent-encoded) path of the target, split at '/'; the first element is the
// empty string before the leading slash.
std::vector<std::string_view> split_path(std::string_view target) {
  const auto path = target.substr(0, target.find('?'));
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (true) {
    const auto slash = path.find('/', start);
    segments.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

std::string decode_name(std::string_view segment) {
  auto decoded = model::percent_decode(segment);
  if (!decoded) throw invalid("malformed percent-encoding in URL segment \"" + std::string(segment) + "\"");
  return std::move(*decoded);
}

// A function as the Configuration API shows it: without the settings its provider keeps secret.
boost::json::object public_json(const model::Function& function) {
  static const std::vector<std::string_view> none;
  const auto* provider = providers::find_provider(function.type);
  return function.to_public_json(provider != nullptr ? provider->secret_fields() : none);
}

template <typename Record>
boost::json::array to_public_array(const std::vector<Record>& records) {
  boost::json::array array;
  array.reserve(records.size());
  for (const auto& record : records) {
    if constexpr (std::is_same_v<Record, model::Function>) {
      array.push_back(public_json(record));
    } else {
      array.push_back(record.to_json());
    }
  }
  return array;
}

constexpr std::size_t kDefaultDeadLetterPage = 100;
constexpr std::size_t kMaxDeadLetterPage = 1000;

// ?limit= and ?cursor= of a listing of dead letters; other parameters are ignored, as unknown body
// fields are.
struct PageRequest {
  std::size_t limit = kDefaultDeadLetterPage;
  std::optional<std::string> cursor;
};

PageRequest page_request(std::string_view target) {
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) throw invalid("malformed query string in \"" + std::string(target) + "\"");
  PageRequest page;
  bool seen_limit = false;
  for (const auto& param : url->params()) {
    if (param.key != "limit" && param.key != "cursor") continue;
    const bool repeated = param.key == "limit" ? std::exchange(seen_limit, true) : page.cursor.has_value();
    if (repeated) throw invalid("the query parameter \"" + param.key + "\" is given more than once");
    if (param.key == "cursor") {
      page.cursor = param.value;
      continue;
    }
    const auto& text = param.value;
    std::size_t limit = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || limit < 1 ||
        limit > kMaxDeadLetterPage) {
      throw invalid("invalid limit \"" + text + "\": use a whole number from 1 to " +
                    std::to_string(kMaxDeadLetterPage) + " (default " +
                    std::to_string(kDefaultDeadLetterPage) + ")");
    }
    page.limit = limit;
  }
  return page;
}

ConfigError dead_letter_not_found(std::string_view space, std::string_view id) {
  return not_found("dead letter \"" + std::string(id) + "\" not found in space \"" + std::string(space) +
                   "\"");
}

// The space a request acts on: the one its path names, decoded; nothing for any other path (and for a
// malformed name, which the route refuses).
std::optional<std::string> space_of(const std::vector<std::string_view>& segments) {
  if (segments.size() < 4 || segments[1] != "v1" || segments[2] != "spaces") return std::nullopt;
  auto space = model::percent_decode(segments[3]);
  if (!space || !model::is_valid_name(*space)) return std::nullopt;
  return space;
}

bool is_status(const std::vector<std::string_view>& segments) {
  return segments.size() == 3 && segments[1] == "v1" && segments[2] == "status";
}

// GET /healthz and GET /readyz (model::is_health_path).
bool is_health(const std::vector<std::string_view>& segments) {
  return segments.size() == 2 && model::is_health_path("/" + std::string(segments[1]));
}

// GET /metrics, the seed's path, and GET /v1/metrics, the original's later one.
bool is_metrics(const std::vector<std::string_view>& segments) {
  return (segments.size() == 2 && segments[1] == "metrics") ||
         (segments.size() == 3 && segments[1] == "v1" && segments[2] == "metrics");
}

// GET /v1/openapi.json, this API's OpenAPI document, and GET /v1/openapi/events-api.json, the Events
// API's: served here because every path of the Events API may be a user's http subscription. Nothing
// for any other path.
std::optional<std::string_view> openapi_document_of(const std::vector<std::string_view>& segments) {
  if (segments.size() == 3 && segments[1] == "v1" && segments[2] == "openapi.json") {
    return configuration_api_document();
  }
  if (segments.size() == 4 && segments[1] == "v1" && segments[2] == "openapi" &&
      segments[3] == "events-api.json") {
    return events_api_document();
  }
  return std::nullopt;
}

Response document_response(std::string_view document) {
  Response response{http::status::ok, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = document;  // the file of docs/openapi/, as it is (UTF-8, checked by its test)
  response.prepare_payload();
  return response;
}

// GET /console and its two files (docs/console.md): the page holds no data (it asks the API for it,
// with the key the user types), so no key is needed to load it.
std::optional<std::string_view> console_file_of(const std::vector<std::string_view>& segments) {
  if (segments.size() < 2 || segments[1] != "console") return std::nullopt;
  if (segments.size() == 2) return "index.html";
  if (segments.size() == 3 && (segments[2] == "app.js" || segments[2] == "style.css")) return segments[2];
  return std::nullopt;
}

// The console's pages run only their own script and style, load nothing from elsewhere, and may not
// be framed: everything they show comes from strangers (event names, payloads, URLs).
constexpr std::string_view kConsolePolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

Response console_response(std::string_view file) {
  Response response{http::status::ok, 11};
  if (file == "app.js") {
    response.set(http::field::content_type, "text/javascript; charset=utf-8");
    response.body() = console_script();
  } else if (file == "style.css") {
    response.set(http::field::content_type, "text/css; charset=utf-8");
    response.body() = console_style();
  } else {
    response.set(http::field::content_type, "text/html; charset=utf-8");
    response.body() = console_page();
  }
  response.set("Content-Security-Policy", kConsolePolicy);
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.set(http::field::cache_control, "no-cache");
  response.prepare_payload();
  return response;
}

// /v1/spaces/<space>/events/catalog and /v1/spaces/<space>/events/stream.
bool is_events_resource(const std::vector<std::string_view>& segments, std::string_view name) {
  return segments.size() == 6 && segments[1] == "v1" && segments[2] == "spaces" && segments[4] == "events" &&
         segments[5] == name;
}

Response metrics_response() {
  Response response{http::status::ok, 11};
  response.set(http::field::content_type, metrics::kContentType);
  response.body() = metrics::render();
  response.prepare_payload();
  return response;
}

// The labels of gateway_config_requests_total: the resource a request addresses and what it does to
// it, in the original's words (function/subscription; get, list, create, update, delete).
struct RequestKind {
  std::string_view resource = "unknown";
  std::string_view operation = "other";
};

std::string_view operation_of(http::verb method, bool one) {
  switch (method) {
    case http::verb::get:
      return one ? "get" : "list";
    case http::verb::post:
      return one ? "other" : "create";
    case http::verb::put:
      return one ? "update" : "other";
    case http::verb::delete_:
      return one ? "delete" : "other";
    default:
      return "other";
  }
}

RequestKind kind_of(const std::vector<std::string_view>& segments, http::verb method) {
  if (is_status(segments)) return {"status", "get"};
  if (is_health(segments)) return {"health", "get"};
  if (is_metrics(segments)) return {"metrics", "get"};
  if (openapi_document_of(segments)) return {"openapi", "get"};
  if (console_file_of(segments)) return {"console", "get"};
  if (is_events_resource(segments, "catalog")) return {"catalog", "get"};
  if (is_events_resource(segments, "stream")) return {"stream", "get"};
  if (segments.size() < 5 || segments[1] != "v1" || segments[2] != "spaces") return {};
  const auto collection = segments[4];
  const bool one = segments.size() >= 6;
  if (collection == "functions") return {"function", operation_of(method, one)};
  if (collection == "subscriptions") return {"subscription", operation_of(method, one)};
  if (collection == "deadletters") {
    if (segments.size() == 7 && segments[6] == "redeliver") return {"deadletter", "redeliver"};
    return {"deadletter", operation_of(method, one)};
  }
  return {};
}

void count_request(const net::Request& request, std::chrono::steady_clock::time_point start) {
  const auto segments = split_path(request.target());
  const auto kind = kind_of(segments, request.method());
  const auto space = space_of(segments);
  metrics::config_requests.add({space.value_or(""), kind.resource, kind.operation});
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  metrics::config_request_duration_seconds.observe({}, took.count());
}

}  // namespace

net::Response ConfigApi::handle(const net::Request& request) {
  const auto start = std::chrono::steady_clock::now();
  auto response = answer(request);
  count_request(request, start);
  return response;
}

net::Response ConfigApi::answer(const net::Request& request) {
  if (auto answer = security_.cross_site.preflight(request)) return std::move(*answer);
  auto response = guarded(request);
  security_.cross_site.allow_reading(request, response);
  return response;
}

std::optional<net::Response> ConfigApi::access_refusal(const net::Request& request) const {
  if (!security_.keys) return std::nullopt;
  const auto segments = split_path(request.target());
  // Probes carry no key; the documents describe the API, not its data; the console's files hold none.
  if (is_status(segments) || is_health(segments) || openapi_document_of(segments) ||
      console_file_of(segments))
    return std::nullopt;
  // The metrics name every space: only a key that may act on all of them reads them.
  const auto space =
      is_metrics(segments) ? std::optional<std::string>(auth::kEverySpace) : space_of(segments);
  const auto access = security_.keys->check(request[http::field::authorization], space);
  return auth::refusal(access, "the Configuration API", space.value_or(""));
}

net::Response ConfigApi::guarded(const net::Request& request) {
  if (auto refusal = access_refusal(request)) return std::move(*refusal);
  if (auto refusal = security_.cross_site.refusal(request)) return std::move(*refusal);
  try {
    return route(request);
  } catch (const ConfigError& error) {
    return net::error_response(status_of(error.kind()), error.what());
  } catch (const store::StoreUnavailable& error) {
    spdlog::warn("config API: store unavailable: {}", error.what());
    return net::error_response(http::status::service_unavailable,
                               std::string("configuration store unavailable: ") + error.what());
  } catch (const std::exception& error) {
    spdlog::error("config API: {} {} failed: {}", std::string(request.method_string()),
                  std::string(request.target()), error.what());
    return net::error_response(http::status::internal_server_error, "internal error");
  }
}

net::Response ConfigApi::route(const net::Request& request) {
  const auto segments = split_path(request.target());
  const auto count = segments.size();
  if (is_status(segments)) {
    if (request.method() != http::verb::get) return method_not_allowed("GET");
    boost::json::object status{{"status", "ok"}, {"store", store_status_()}};
    if (!security_.warnings.empty()) {
      status["warnings"] = boost::json::array(security_.warnings.begin(), security_.warnings.end());
    }
    return net::json_response(http::status::ok, status);
  }
  if (is_metrics(segments)) {
    if (request.method() != http::verb::get) return method_not_allowed("GET");
    return metrics_response();
  }
  if (const auto document = openapi_document_of(segments)) {
    if (request.method() != http::verb::get) return method_not_allowed("GET");
    return document_response(*document);
  }
  if (const auto file = console_file_of(segments)) {
    if (request.method() != http::verb::get) return method_not_allowed("GET");
    return console_response(*file);
  }
  if (is_health(segments)) {
    if (request.method() != http::verb::get) return method_not_allowed("GET");
    if ("/" + std::string(segments[1]) == model::kLivenessPath) return net::liveness_response();
    return net::readiness_response(readiness_ ? readiness_() : std::vector<std::string>{});
  }
  if (count >= 5 && segments[1] == "v1" && segments[2] == "spaces") {
    const auto space = decode_name(segments[3]);
    validate_space(space);
    const auto collection = segments[4];
    if (collection == "functions" && count == 5) return functions(request, space);
    if (collection == "functions" && count == 6) return function(request, space, decode_name(segments[5]));
    if (collection == "subscriptions" && count == 5) return subscriptions(request, space);
    if (collection == "subscriptions" && count >= 6 && !segments[5].empty()) {
      // The id may hold '/' when a client decoded its %2F: take the whole remainder.
      const auto target = request.target();
      const auto id_start = static_cast<std::size_t>(segments[5].data() - target.data());
      const auto raw_id = target.substr(id_start, target.find('?') - id_start);
      return subscription(request, space, std::string_view(raw_id.data(), raw_id.size()));
    }
    if (is_events_resource(segments, "catalog")) return catalog(request, space);
    if (collection == "deadletters" && count == 5) return dead_letters(request, space);
    if (collection == "deadletters" && count >= 6 && !segments[5].empty()) {
      if (count == 6) return dead_letter(request, space, decode_name(segments[5]));
      if (count == 7 && segments[6] == "redeliver")
        return redeliver(request, space, decode_name(segments[5]));
    }
  }
  return net::error_response(http::status::not_found,
                             "no such Configuration API resource: " + std::string(request.target()));
}

net::Response ConfigApi::functions(const net::Request& request, std::string_view space) {
  switch (request.method()) {
    case http::verb::get:
      return net::json_response(http::status::ok,
                                {{"functions", to_public_array(service_.list_functions(space))}});
    case http::verb::post: {
      const auto created = service_.register_function(parse_function(space, parse_body(request)));
      spdlog::info("function registered: {}/{} ({})", space, created.function_id, created.type);
      return net::json_response(http::status::created, public_json(created));
    }
    default:
      return method_not_allowed("GET, POST");
  }
}

net::Response ConfigApi::function(const net::Request& request, std::string_view space,
                                  std::string_view function_id) {
  switch (request.method()) {
    case http::verb::get:
      return net::json_response(http::status::ok, public_json(service_.get_function(space, function_id)));
    case http::verb::put: {
      const auto updated = service_.update_function(parse_function(space, parse_body(request), function_id));
      spdlog::info("function updated: {}/{} ({})", space, function_id, updated.type);
      return net::json_response(http::status::ok, public_json(updated));
    }
    case http::verb::delete_:
      service_.delete_function(space, function_id);
      spdlog::info("function deleted: {}/{}", space, function_id);
      return net::empty_response(http::status::no_content);
    default:
      return method_not_allowed("GET, PUT, DELETE");
  }
}

net::Response ConfigApi::subscriptions(const net::Request& request, std::string_view space) {
  switch (request.method()) {
    case http::verb::get:
      return net::json_response(http::status::ok,
                                {{"subscriptions", to_public_array(service_.list_subscriptions(space))}});
    case http::verb::post: {
      const auto created = service_.create_subscription(parse_subscription(space, parse_body(request)));
      spdlog::info("subscription created: {}/{}", space, created.subscription_id);
      return net::json_response(http::status::created, created.to_json());
    }
    default:
      return method_not_allowed("GET, POST");
  }
}

net::Response ConfigApi::subscription(const net::Request& request, std::string_view space,
                                      std::string_view raw_id) {
  const bool known_method = request.method() == http::verb::get || request.method() == http::verb::delete_;
  if (!known_method) return method_not_allowed("GET, DELETE");
  const auto id = model::canonical_subscription_id(raw_id);
  if (!id) {
    throw not_found("subscription \"" + std::string(raw_id) + "\" not found in space \"" +
                    std::string(space) + "\"");
  }
  if (request.method() == http::verb::get) {
    return net::json_response(http::status::ok, service_.get_subscription(space, *id).to_json());
  }
  service_.delete_subscription(space, *id);
  spdlog::info("subscription deleted: {}/{}", space, *id);
  return net::empty_response(http::status::no_content);
}

net::Response ConfigApi::dead_letters(const net::Request& request, std::string_view space) {
  if (request.method() != http::verb::get) return method_not_allowed("GET");
  const auto wanted = page_request(request.target());
  delivery::DeadLetterPage page;
  try {
    page = dead_letters_.list(space, wanted.limit, wanted.cursor);
  } catch (const std::invalid_argument& error) {
    throw invalid(std::string(error.what()) + "; start again without a cursor");
  }
  boost::json::array letters;
  letters.reserve(page.letters.size());
  for (const auto& letter : page.letters) letters.push_back(letter.to_json());
  boost::json::object body{{"deadLetters", std::move(letters)}};
  if (page.next) body["next"] = *page.next;
  return net::json_response(http::status::ok, body);
}

net::Response ConfigApi::dead_letter(const net::Request& request, std::string_view space,
                                     std::string_view id) {
  switch (request.method()) {
    case http::verb::get: {
      const auto letter = dead_letters_.get(space, id);
      if (!letter) throw dead_letter_not_found(space, id);
      return net::json_response(http::status::ok, letter->to_json());
    }
    case http::verb::delete_:
      if (!dead_letters_.remove(space, id)) throw dead_letter_not_found(space, id);
      spdlog::info("dead letter deleted: {}/{}", space, id);
      return net::empty_response(http::status::no_content);
    default:
      return method_not_allowed("GET, DELETE");
  }
}

net::Response ConfigApi::redeliver(const net::Request& request, std::string_view space, std::string_view id) {
  if (request.method() != http::verb::post) return method_not_allowed("POST");
  auto letter = dead_letters_.get(space, id);
  if (!letter) throw dead_letter_not_found(space, id);
  const auto outcome = redeliver_(*letter);
  if (outcome.kind == RedeliveryOutcome::Kind::Refused) {
    spdlog::info("dead letter {}/{} not redelivered: {}", space, id, outcome.message);
    return net::error_response(outcome.status, outcome.message);
  }
  letter->redelivering = true;  // marked by the scheduler before the delivery could finish
  spdlog::info("dead letter {}/{} redelivering (subscription {}, function {})", space, id,
               letter->subscription_id, letter->function_id);
  return net::json_response(http::status::accepted, letter->to_json());
}

namespace {

boost::json::value catalog_entry_json(const observe::CatalogEntry& entry) {
  boost::json::object json{{"name", entry.name}, {"count", entry.count}};
  if (entry.count == 0) {
    json["lastSeen"] = nullptr;
    json["sample"] = nullptr;
  } else {
    json["lastSeen"] = entry.last_seen_ms;
    json["sample"] = entry.sample;
    if (entry.sample_truncated) json["sampleTruncated"] = true;
  }
  return json;
}

// The custom events a subscription listens to, by name: system events, http and invoke are no
// catalog's (http routes have a table of their own in the console).
bool is_catalog_subscription(const model::Subscription& subscription) {
  return !subscription.is_http() && !subscription.is_invoke() &&
         !subscription.event.starts_with(model::kSystemEventPrefix);
}

}  // namespace

net::Response ConfigApi::catalog(const net::Request& request, std::string_view space) {
  if (request.method() != http::verb::get) return method_not_allowed("GET");
  auto seen = observe::event_catalog().read(space);
  std::map<std::string, boost::json::array, std::less<>> subscribers;
  for (const auto& subscription : service_.list_subscriptions(space)) {
    if (!is_catalog_subscription(subscription)) continue;
    subscribers[subscription.event].push_back(
        {{"subscriptionId", subscription.subscription_id}, {"functionId", subscription.function_id}});
  }
  // Subscribed to and never seen: listed too, so that a teammate finds what others listen for.
  // (Not a structured binding: clang 14, which builds the fuzzers, cannot capture one.)
  for (const auto& subscribed : subscribers) {
    const auto& name = subscribed.first;
    const auto known = std::any_of(seen.events.begin(), seen.events.end(),
                                   [&name](const observe::CatalogEntry& entry) { return entry.name == name; });
    if (!known) seen.events.push_back(observe::CatalogEntry{.name = name});
  }
  std::sort(seen.events.begin(), seen.events.end(),
            [](const auto& left, const auto& right) { return left.name < right.name; });
  boost::json::array events;
  events.reserve(seen.events.size());
  for (const auto& entry : seen.events) {
    auto json = catalog_entry_json(entry);
    const auto found = subscribers.find(entry.name);
    json.as_object()["subscribers"] = found != subscribers.end() ? found->second : boost::json::array{};
    events.push_back(std::move(json));
  }
  return net::json_response(
      http::status::ok,
      {{"events", std::move(events)}, {"overflow", seen.overflow}, {"unlistedSpaces", seen.unlisted_spaces}});
}

namespace {

namespace asio = boost::asio;

constexpr auto kStreamPoll = std::chrono::milliseconds(200);
constexpr auto kStreamKeepalive = std::chrono::seconds(15);

// One browser's live traffic: its watch of the tap, and what it was told so far.
struct ConsoleStream {
  std::unique_ptr<observe::TrafficTap::Watch> watch;
  std::string greeting;  // the first piece; empty once sent
  std::uint64_t dropped_reported = 0;
  std::chrono::steady_clock::time_point last_sent = std::chrono::steady_clock::now();
};

// The lines queued since the last piece, with a `dropped` line when the queue overflowed since.
std::string queued_lines(ConsoleStream& stream) {
  auto& watcher = stream.watch->watcher();
  auto text = watcher.take();
  const auto dropped = watcher.dropped();
  if (dropped != stream.dropped_reported) {
    metrics::console_stream_dropped.add({}, dropped - stream.dropped_reported);
    stream.dropped_reported = dropped;
    text.append("event: dropped\ndata: {\"dropped\":").append(std::to_string(dropped)).append("}\n\n");
  }
  return text;
}

// The next piece of the stream: what was queued, polled every kStreamPoll on the Configuration API's
// thread (a wait, never a block), or a keepalive comment after kStreamKeepalive of silence. Nothing
// once the wait is cancelled: the client hung up, or the server closes its connections.
asio::awaitable<std::optional<std::string>> next_piece(std::shared_ptr<ConsoleStream> stream) {
  if (!stream->greeting.empty()) co_return std::exchange(stream->greeting, {});
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (true) {
    auto text = queued_lines(*stream);
    const auto now = std::chrono::steady_clock::now();
    if (!text.empty() || now - stream->last_sent >= kStreamKeepalive) {
      stream->last_sent = now;
      co_return text.empty() ? std::string(": keepalive\n\n") : std::move(text);
    }
    timer.expires_after(kStreamPoll);
    const auto [error] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (error) co_return std::nullopt;
    const auto cancelled = (co_await asio::this_coro::cancellation_state).cancelled();
    if (cancelled != asio::cancellation_type::none) co_return std::nullopt;
  }
}

}  // namespace

std::optional<net::StreamedResponse> ConfigApi::stream(net::Request& request) {
  const auto segments = split_path(request.target());
  if (!is_events_resource(segments, "stream")) return std::nullopt;
  const auto start = std::chrono::steady_clock::now();
  auto streamed = open_stream(request, segments);
  security_.cross_site.allow_reading(request, streamed.head);
  count_request(request, start);
  return streamed;
}

net::StreamedResponse ConfigApi::open_stream(const net::Request& request,
                                             const std::vector<std::string_view>& segments) {
  if (auto refusal = access_refusal(request)) return {.head = std::move(*refusal)};
  if (auto refusal = security_.cross_site.refusal(request)) return {.head = std::move(*refusal)};
  if (request.method() != http::verb::get) return {.head = method_not_allowed("GET")};
  std::string space;
  try {
    space = decode_name(segments[3]);
    validate_space(space);
  } catch (const ConfigError& error) {
    return {.head = net::error_response(status_of(error.kind()), error.what())};
  }
  auto watch = observe::traffic_tap().watch(space);
  if (!watch) {
    return {.head = net::error_response(http::status::service_unavailable,
                                        "as many browsers watch the live traffic as may (" +
                                            std::to_string(observe::traffic_tap().limits().watchers) +
                                            "); close one and retry")};
  }
  auto stream = std::make_shared<ConsoleStream>();
  stream->watch = std::move(watch);
  // A comment first, so that the browser sees the stream open at once; `retry` for EventSource users.
  stream->greeting =
      "retry: 2000\nevent: open\ndata: " + boost::json::serialize(boost::json::object{{"space", space}}) +
      "\n\n";
  Response head{http::status::ok, 11};
  head.set(http::field::content_type, "text/event-stream; charset=utf-8");
  head.set(http::field::cache_control, "no-store");
  head.set("X-Content-Type-Options", "nosniff");
  return {.head = std::move(head), .next = [stream] { return next_piece(stream); }};
}

}  // namespace eg::config
