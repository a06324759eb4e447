#include "providers/aws_common.h"

#include "providers/provider.h"

namespace eg::providers {

std::optional<std::string> require_string(const boost::json::object& settings, std::string_view field) {
  const auto* value = settings.if_contains(field);
  if (value == nullptr) return "provider." + std::string(field) + " is required";
  if (!value->is_string() || value->get_string().empty()) {
    return "provider." + std::string(field) + " must be a non-empty string";
  }
  return std::nullopt;
}

std::optional<std::string> validate_aws_settings(const boost::json::object& settings,
                                                 std::string_view resource_field) {
  for (auto field : {resource_field, std::string_view("region")}) {
    if (auto error = require_string(settings, field)) return error;
  }
  for (std::string_view optional_field : {"awsAccessKeyId", "awsSecretAccessKey", "awsSessionToken"}) {
    const auto* value = settings.if_contains(optional_field);
    if (value != nullptr && !value->is_string()) {
      return "provider." + std::string(optional_field) + " must be a string";
    }
  }
  return std::nullopt;
}

const std::vector<std::string_view>& aws_secret_fields() {
  static const std::vector<std::string_view> fields{"awsSecretAccessKey", "awsSessionToken"};
  return fields;
}

CallResult aws_call_not_available(std::string_view type) {
  return CallResult{.outcome = CallResult::Outcome::Unreachable,
                    .error = "calling " + std::string(type) + " functions is not available in this build yet"};
}

}  // namespace eg::providers
