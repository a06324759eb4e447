#pragma once
// What the AWS providers (awslambda, awskinesis, awsfirehose) share: a resource name field of their
// own, an optional region (else AWS_REGION), an optional `endpoint` (for LocalStack and other
// emulators), and optional static credentials whose secret parts are never returned.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eg::providers {

// Checks that `resource_field` is a non-empty string, that `region` and `endpoint`, when given, are
// well-formed, and that the optional credential fields are strings, the key id and secret given
// together. Returns a user-facing error message.
std::optional<std::string> validate_aws_settings(const boost::json::object& settings,
                                                 std::string_view resource_field);

const std::vector<std::string_view>& aws_secret_fields();

// A user-facing error when `settings[field]` is missing or not a non-empty string.
std::optional<std::string> require_string(const boost::json::object& settings, std::string_view field);

}  // namespace eg::providers
