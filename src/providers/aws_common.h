#pragma once
// What the AWS providers (awslambda, awskinesis, awsfirehose) share: a region, a resource name
// field of their own, and optional static credentials whose secret parts are never returned.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eg::providers {

// Checks that `resource_field` and `region` are non-empty strings and that the optional credential
// fields, when present, are strings. Returns a user-facing error message.
std::optional<std::string> validate_aws_settings(const boost::json::object& settings, std::string_view resource_field);

const std::vector<std::string_view>& aws_secret_fields();

// A user-facing error when `settings[field]` is missing or not a non-empty string.
std::optional<std::string> require_string(const boost::json::object& settings, std::string_view field);

// Calling AWS is not part of this build yet: every call fails with this clear error.
struct CallResult;
CallResult aws_call_not_available(std::string_view type);

}  // namespace eg::providers
