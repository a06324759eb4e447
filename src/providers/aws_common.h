#pragma once
// What the AWS providers (awslambda, awskinesis, awsfirehose) share: a resource name field of their
// own, an optional region (else AWS_REGION), an optional `endpoint` (for LocalStack and other
// emulators), and optional static credentials whose secret parts are never returned.

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "model/function.h"
#include "providers/aws/api_call.h"
#include "providers/provider.h"

namespace eg::providers {

// Checks that `resource_field` is a non-empty string, that `region` and `endpoint`, when given, are
// well-formed, and that the optional credential fields are strings, the key id and secret given
// together. Returns a user-facing error message.
std::optional<std::string> validate_aws_settings(const boost::json::object& settings,
                                                 std::string_view resource_field);
// The `endpoint` of valid settings, when they name one (Provider::destination_url).
std::optional<std::string> aws_endpoint_setting(const boost::json::object& settings);

const std::vector<std::string_view>& aws_secret_fields();

// A user-facing error when `settings[field]` is missing or not a non-empty string.
std::optional<std::string> require_string(const boost::json::object& settings, std::string_view field);

// What each AWS provider's compile() does: checks `function`'s settings with `provider`, resolves
// where its calls go and with which credentials, and makes its target, a `Target(destination,
// settings)`; a target that fails every call, saying why, when the settings are not valid or no call
// can be made (no region).
template <typename Target>
std::shared_ptr<const CallTarget> compile_aws_function(const Provider& provider, const aws::Service& service,
                                                       const model::Function& function) {
  if (auto error = provider.validate(function.provider)) {
    return failing_target("function " + function.function_id + " cannot be called: " + *error);
  }
  auto destination = aws::resolve_destination(service, function.provider);
  if (auto* error = std::get_if<std::string>(&destination)) return failing_target(std::move(*error));
  return std::make_shared<const Target>(std::move(std::get<aws::Destination>(destination)),
                                        function.provider);
}

}  // namespace eg::providers
