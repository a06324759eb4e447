#include "config/validation.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/json.h"
#include "config/errors.h"
#include "model/identifiers.h"
#include "providers/provider.h"
#include "routing/path_tree.h"

namespace eg::config {
namespace {

constexpr std::array<std::string_view, 7> kHttpMethods{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};

const boost::json::object& require_object(const boost::json::value& body) {
  if (!body.is_object()) throw invalid("request body must be a JSON object");
  return body.get_object();
}

// The string at `field`, or nothing when absent; throws when present with another type.
std::optional<std::string> optional_string(const boost::json::object& body, std::string_view field) {
  const auto* value = body.if_contains(field);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_string()) throw invalid(std::string(field) + " must be a string");
  return std::string(value->get_string());
}

std::string required_string(const boost::json::object& body, std::string_view field) {
  auto value = optional_string(body, field);
  if (!value || value->empty()) throw invalid(std::string(field) + " is required");
  return std::move(*value);
}

void validate_name(std::string_view what, std::string_view name) {
  if (!model::is_valid_name(name)) {
    throw invalid(std::string(what) + " \"" + std::string(name) +
                  "\" is invalid: use 1-128 characters of letters, digits, '.', '_' and '-'");
  }
}

void check_space_field(const boost::json::object& body, std::string_view space) {
  if (auto body_space = optional_string(body, "space"); body_space && *body_space != space) {
    throw invalid("space \"" + *body_space + "\" in the body does not match space \"" + std::string(space) +
                  "\" in the URL");
  }
}

std::string upper_case(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

std::vector<std::string> string_list(const boost::json::object& cors, std::string_view field,
                                     std::vector<std::string> fallback) {
  const auto* value = cors.if_contains(field);
  if (value == nullptr || value->is_null()) return fallback;
  if (!value->is_array()) throw invalid("cors." + std::string(field) + " must be an array of strings");
  std::vector<std::string> list;
  for (const auto& item : value->get_array()) {
    if (!item.is_string() || item.get_string().empty()) {
      throw invalid("cors." + std::string(field) + " must be an array of non-empty strings");
    }
    list.emplace_back(item.get_string());
  }
  return list;
}

model::Cors parse_cors(const boost::json::value& json) {
  if (!json.is_object()) throw invalid("cors must be an object");
  const auto& object = json.get_object();
  model::Cors cors;
  cors.origins = string_list(object, "origins", cors.origins);
  cors.methods = string_list(object, "methods", cors.methods);
  for (auto& method : cors.methods) method = upper_case(std::move(method));
  cors.headers = string_list(object, "headers", cors.headers);
  if (const auto* credentials = object.if_contains("allowCredentials"); credentials && !credentials->is_null()) {
    if (!credentials->is_bool()) throw invalid("cors.allowCredentials must be a boolean");
    cors.allow_credentials = credentials->get_bool();
  }
  return cors;
}

std::string parse_path(const boost::json::object& body) {
  const auto path = optional_string(body, "path").value_or("/");
  if (auto error = routing::validate_subscription_path(path)) throw invalid(*error);
  return routing::normalize_subscription_path(path);
}

std::string parse_http_method(const boost::json::object& body) {
  auto method = optional_string(body, "method");
  if (!method || method->empty()) throw invalid("method is required for http subscriptions");
  auto upper = upper_case(std::move(*method));
  if (std::find(kHttpMethods.begin(), kHttpMethods.end(), upper) == kHttpMethods.end()) {
    throw invalid("method \"" + upper + "\" is not supported: use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS");
  }
  return upper;
}

// Custom and invoke events are only ever emitted with POST; an explicit "POST" is tolerated
// because later SDK versions send it.
void check_non_http_fields(const boost::json::object& body, const model::Subscription& subscription) {
  if (auto method = optional_string(body, "method"); method && upper_case(*method) != "POST") {
    throw invalid("method is only allowed for http subscriptions (\"" + subscription.event +
                  "\" events are always POSTed)");
  }
  if (const auto* cors = body.if_contains("cors"); cors && !cors->is_null()) {
    throw invalid("cors is only allowed for http subscriptions");
  }
  if (const auto* key = body.if_contains("requireApiKey"); key && !key->is_null()) {
    throw invalid(
        "requireApiKey is only allowed for http subscriptions: custom events and invoke need a key "
        "whenever the gateway has -events-api-keys");
  }
}

bool parse_require_api_key(const boost::json::object& body) {
  const auto* value = body.if_contains("requireApiKey");
  if (value == nullptr || value->is_null()) return false;
  if (!value->is_bool()) throw invalid("requireApiKey must be a boolean");
  return value->get_bool();
}

constexpr std::array<std::string_view, 5> kDeliveryFields{"maxAttempts", "initialBackoffMs", "maxBackoffMs",
                                                          "maxAgeSeconds", "deadLetterFunctionId"};
// Far beyond any useful policy, and small enough that no schedule overflows.
constexpr std::uint64_t kMaxDeliveryAttempts = 10'000;
constexpr std::uint64_t kMaxBackoffMs = 7ULL * 24 * 3600 * 1000;
constexpr std::uint64_t kMaxAgeSeconds = 30ULL * 24 * 3600;

// A positive integer at `field` of `delivery`, at most `limit`; nothing when absent.
std::optional<std::uint64_t> positive_integer(const boost::json::object& delivery, std::string_view field,
                                              std::uint64_t limit) {
  const auto* value = delivery.if_contains(field);
  if (value == nullptr || value->is_null()) return std::nullopt;
  const bool integer = value->is_uint64() || (value->is_int64() && value->get_int64() > 0);
  const std::uint64_t number = value->is_uint64() ? value->get_uint64() : integer ? value->get_int64() : 0;
  if (!integer || number == 0 || number > limit) {
    throw invalid("delivery." + std::string(field) + " must be an integer from 1 to " + std::to_string(limit));
  }
  return number;
}

model::DeliveryPolicy parse_delivery(const boost::json::value& json) {
  if (!json.is_object()) throw invalid("delivery must be an object");
  const auto& object = json.get_object();
  for (const auto& field : object) {
    if (std::find(kDeliveryFields.begin(), kDeliveryFields.end(), field.key()) == kDeliveryFields.end()) {
      throw invalid("delivery." + std::string(field.key()) +
                    " is not a delivery setting: use maxAttempts, initialBackoffMs, maxBackoffMs, maxAgeSeconds "
                    "or deadLetterFunctionId");
    }
  }
  model::DeliveryPolicy policy;
  if (auto attempts = positive_integer(object, "maxAttempts", kMaxDeliveryAttempts)) {
    policy.max_attempts = static_cast<std::uint32_t>(*attempts);
  }
  policy.initial_backoff_ms = positive_integer(object, "initialBackoffMs", kMaxBackoffMs);
  policy.max_backoff_ms = positive_integer(object, "maxBackoffMs", kMaxBackoffMs);
  if (policy.initial_backoff_ms && policy.max_backoff_ms && *policy.max_backoff_ms < *policy.initial_backoff_ms) {
    throw invalid("delivery.maxBackoffMs must be at least delivery.initialBackoffMs");
  }
  policy.max_age_seconds = positive_integer(object, "maxAgeSeconds", kMaxAgeSeconds);
  if (auto function = optional_string(object, "deadLetterFunctionId")) {
    validate_name("delivery.deadLetterFunctionId", *function);
    policy.dead_letter_function_id = std::move(*function);
  }
  return policy;
}

}  // namespace

boost::json::value parse_request_body(std::string_view body) {
  auto parsed = common::parse_json(body);
  if (!parsed.ok()) throw invalid("the request body holds " + parsed.error);
  return std::move(parsed.value);
}

void validate_space(std::string_view space) { validate_name("space", space); }

model::Function parse_function(std::string_view space, const boost::json::value& body,
                               std::optional<std::string_view> function_id_from_url) {
  validate_space(space);
  const auto& object = require_object(body);
  check_space_field(object, space);
  model::Function function;
  function.space = space;
  if (function_id_from_url) {
    function.function_id = *function_id_from_url;
    if (auto body_id = optional_string(object, "functionId"); body_id && *body_id != function.function_id) {
      throw invalid("functionId \"" + *body_id + "\" in the body does not match \"" + function.function_id +
                    "\" in the URL");
    }
  } else {
    function.function_id = required_string(object, "functionId");
  }
  validate_name("functionId", function.function_id);

  function.type = required_string(object, "type");
  const auto* provider = providers::find_provider(function.type);
  if (provider == nullptr) {
    throw invalid("type \"" + function.type + "\" is not a known function type; use one of: " +
                  providers::known_provider_types());
  }
  const auto* settings = object.if_contains("provider");
  if (settings == nullptr || settings->is_null()) throw invalid("provider is required");
  if (!settings->is_object()) throw invalid("provider must be an object");
  if (auto error = provider->validate(settings->get_object())) throw invalid(*error);
  function.provider = settings->get_object();
  return function;
}

model::Subscription parse_subscription(std::string_view space, const boost::json::value& body) {
  validate_space(space);
  const auto& object = require_object(body);
  check_space_field(object, space);
  model::Subscription subscription;
  subscription.space = space;
  subscription.event = required_string(object, "event");
  validate_name("event", subscription.event);
  subscription.function_id = required_string(object, "functionId");
  validate_name("functionId", subscription.function_id);
  subscription.path = parse_path(object);
  if (const auto* delivery = object.if_contains("delivery"); delivery && !delivery->is_null()) {
    if (subscription.is_http() || subscription.is_invoke()) {
      throw invalid("delivery is only allowed for asynchronous (custom and system event) subscriptions: \"" +
                    subscription.event + "\" events are synchronous, and their callers retry themselves");
    }
    subscription.delivery = parse_delivery(*delivery);
  }

  if (subscription.is_http()) {
    if (model::is_health_path(subscription.path)) {
      throw invalid("the path \"" + subscription.path +
                    "\" is the gateway's own health probe (GET /healthz, GET /readyz): choose another path");
    }
    subscription.method = parse_http_method(object);
    if (const auto* cors = object.if_contains("cors"); cors && !cors->is_null()) {
      subscription.cors = parse_cors(*cors);
    }
    subscription.require_api_key = parse_require_api_key(object);
    subscription.subscription_id = model::http_subscription_id(subscription.method, subscription.path);
  } else {
    check_non_http_fields(object, subscription);
    subscription.subscription_id =
        model::custom_subscription_id(subscription.event, subscription.function_id, subscription.path);
  }
  return subscription;
}

}  // namespace eg::config
