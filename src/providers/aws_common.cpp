#include "providers/aws_common.h"

#include "providers/aws/endpoint.h"

namespace eg::providers {
namespace {

bool has_non_empty(const boost::json::object& settings, std::string_view field) {
  const auto* value = settings.if_contains(field);
  return value != nullptr && value->is_string() && !value->get_string().empty();
}

std::optional<std::string> validate_credentials(const boost::json::object& settings) {
  for (std::string_view field : {"awsAccessKeyId", "awsSecretAccessKey", "awsSessionToken"}) {
    const auto* value = settings.if_contains(field);
    if (value != nullptr && !value->is_string())
      return "provider." + std::string(field) + " must be a string";
  }
  if (has_non_empty(settings, "awsAccessKeyId") != has_non_empty(settings, "awsSecretAccessKey")) {
    return "provider.awsAccessKeyId and provider.awsSecretAccessKey must be given together";
  }
  if (has_non_empty(settings, "awsSessionToken") && !has_non_empty(settings, "awsAccessKeyId")) {
    return "provider.awsSessionToken needs provider.awsAccessKeyId and provider.awsSecretAccessKey";
  }
  return std::nullopt;
}

std::optional<std::string> validate_region_and_endpoint(const boost::json::object& settings) {
  if (const auto* region = settings.if_contains("region")) {
    if (!region->is_string() || !aws::is_valid_region(region->get_string())) {
      return "provider.region must be an AWS region name such as us-east-1";
    }
  }
  if (const auto* endpoint = settings.if_contains("endpoint")) {
    if (!endpoint->is_string()) return "provider.endpoint must be a string";
    return aws::check_endpoint_url(endpoint->get_string(), "provider.endpoint");
  }
  return std::nullopt;
}

}  // namespace

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
  if (auto error = require_string(settings, resource_field)) return error;
  if (auto error = validate_region_and_endpoint(settings)) return error;
  return validate_credentials(settings);
}

std::optional<std::string> aws_endpoint_setting(const boost::json::object& settings) {
  const auto* endpoint = settings.if_contains("endpoint");
  if (endpoint == nullptr || !endpoint->is_string()) return std::nullopt;
  return std::string(endpoint->get_string());
}

const std::vector<std::string_view>& aws_secret_fields() {
  static const std::vector<std::string_view> fields{"awsSecretAccessKey", "awsSessionToken"};
  return fields;
}

}  // namespace eg::providers
