#include "config/config_api.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "common/json.h"
#include "config/errors.h"
#include "config/validation.h"
#include "model/identifiers.h"
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
    case ConfigError::Kind::NotFound: return http::status::not_found;
    case ConfigError::Kind::AlreadyExists: return http::status::conflict;
    case ConfigError::Kind::Unreadable:
      return http::status::internal_server_error;
    case ConfigError::Kind::Invalid: break;
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

}  // namespace

net::Response ConfigApi::handle(const net::Request& request) {
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
  if (count == 3 && segments[1] == "v1" && segments[2] == "status") {
    if (request.method() != http::verb::get) return method_not_allowed("GET");
    return net::json_response(http::status::ok, {{"status", "ok"}, {"store", store_status_()}});
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
  }
  return net::error_response(http::status::not_found, "no such Configuration API resource: " +
                                                          std::string(request.target()));
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
    throw not_found("subscription \"" + std::string(raw_id) + "\" not found in space \"" + std::string(space) + "\"");
  }
  if (request.method() == http::verb::get) {
    return net::json_response(http::status::ok, service_.get_subscription(space, *id).to_json());
  }
  service_.delete_subscription(space, *id);
  spdlog::info("subscription deleted: {}/{}", space, *id);
  return net::empty_response(http::status::no_content);
}

}  // namespace eg::config
