#include "model/subscription.h"

#include <stdexcept>

#include "common/json.h"

namespace eg::model {
namespace {

boost::json::array to_json_array(const std::vector<std::string>& values) {
  return boost::json::array(values.begin(), values.end());
}

std::vector<std::string> to_strings(const boost::json::value& json) {
  std::vector<std::string> values;
  for (const auto& item : json.as_array()) values.emplace_back(item.as_string());
  return values;
}

Cors cors_from_stored_json(const boost::json::object& json) {
  return Cors{
      .origins = to_strings(json.at("origins")),
      .methods = to_strings(json.at("methods")),
      .headers = to_strings(json.at("headers")),
      .allow_credentials = json.at("allowCredentials").as_bool(),
  };
}

template <typename Number>
std::optional<Number> optional_number(const boost::json::object& json, std::string_view field) {
  const auto* value = json.if_contains(field);
  if (value == nullptr) return std::nullopt;
  return value->to_number<Number>();
}

DeliveryPolicy delivery_from_stored_json(const boost::json::object& json) {
  DeliveryPolicy policy{.max_attempts = optional_number<std::uint32_t>(json, "maxAttempts"),
                        .initial_backoff_ms = optional_number<std::uint64_t>(json, "initialBackoffMs"),
                        .max_backoff_ms = optional_number<std::uint64_t>(json, "maxBackoffMs"),
                        .max_age_seconds = optional_number<std::uint64_t>(json, "maxAgeSeconds")};
  if (const auto* function = json.if_contains("deadLetterFunctionId")) {
    policy.dead_letter_function_id = std::string(function->as_string());
  }
  return policy;
}

}  // namespace

boost::json::object DeliveryPolicy::to_json() const {
  boost::json::object json;
  if (max_attempts) json["maxAttempts"] = *max_attempts;
  if (initial_backoff_ms) json["initialBackoffMs"] = *initial_backoff_ms;
  if (max_backoff_ms) json["maxBackoffMs"] = *max_backoff_ms;
  if (max_age_seconds) json["maxAgeSeconds"] = *max_age_seconds;
  if (dead_letter_function_id) json["deadLetterFunctionId"] = *dead_letter_function_id;
  return json;
}

boost::json::object Cors::to_json() const {
  return {{"origins", to_json_array(origins)},
          {"methods", to_json_array(methods)},
          {"headers", to_json_array(headers)},
          {"allowCredentials", allow_credentials}};
}

boost::json::object Subscription::to_json() const {
  boost::json::object json{{"space", space},
                           {"subscriptionId", subscription_id},
                           {"event", event},
                           {"functionId", function_id},
                           {"path", path}};
  if (is_http()) json["method"] = method;
  if (cors) json["cors"] = cors->to_json();
  if (require_api_key) json["requireApiKey"] = true;
  if (delivery) json["delivery"] = delivery->to_json();
  return json;
}

Subscription Subscription::from_stored_text(std::string_view text) {
  const auto json = common::parse_json(text);
  if (!json.ok()) throw std::invalid_argument("corrupt subscription record: it holds " + json.error);
  try {
    const auto& object = json.value.as_object();
    Subscription subscription;
    subscription.space = object.at("space").as_string();
    subscription.subscription_id = object.at("subscriptionId").as_string();
    subscription.event = object.at("event").as_string();
    subscription.function_id = object.at("functionId").as_string();
    subscription.path = object.at("path").as_string();
    if (const auto* method = object.if_contains("method")) subscription.method = method->as_string();
    if (const auto* cors = object.if_contains("cors")) subscription.cors = cors_from_stored_json(cors->as_object());
    if (const auto* key = object.if_contains("requireApiKey")) subscription.require_api_key = key->as_bool();
    if (const auto* delivery = object.if_contains("delivery")) {
      subscription.delivery = delivery_from_stored_json(delivery->as_object());
    }
    return subscription;
  } catch (const std::exception& error) {
    throw std::invalid_argument(std::string("corrupt subscription record: ") + error.what());
  }
}

}  // namespace eg::model
