#pragma once
// Which URL and region an AWS call goes to, resolved the way the AWS SDKs do it:
//   endpoint: the function's `endpoint` setting, else AWS_ENDPOINT_URL_<SERVICE> (LAMBDA, KINESIS,
//             FIREHOSE), else AWS_ENDPOINT_URL, else https://<service>.<region>.amazonaws.com
//             (amazonaws.com.cn in the China regions);
//   region:   the function's `region` setting, else AWS_REGION, else AWS_DEFAULT_REGION, else the
//             `region` of profile AWS_PROFILE in the config file (AWS_CONFIG_FILE, ~/.aws/config).
// An endpoint may carry a path prefix (http://localhost:4566/aws); it is kept in front of API paths.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace eg::providers::aws {

// One AWS service the providers call.
struct Service {
  std::string_view name;        // the signing name and endpoint prefix: "lambda"
  std::string_view env_suffix;  // of AWS_ENDPOINT_URL_<env_suffix>: "LAMBDA"
  std::string_view permission;  // the IAM action a call needs, for error messages: "lambda:InvokeFunction"
};

struct Target {
  std::string region;
  std::string scheme;     // "https"
  std::string authority;  // "lambda.us-east-1.amazonaws.com" or "127.0.0.1:4567": the Host header
  std::string base_path;  // "" or a prefix without a trailing slash: "/aws"
};

struct Region {
  std::string value;  // "" when none is configured
  std::string where;  // the setting, variable or file it came from (or would have come from)
};
// The region of a function with provider `settings`, in the order above. Reads the environment and
// the config file: call it where functions are compiled.
Region resolve_region(const boost::json::object& settings);

// Where a call of a function with provider `settings` goes, or a user-facing error.
std::variant<Target, std::string> resolve_target(const Service& service, const boost::json::object& settings);

// Whether `region` looks like an AWS region name ("us-east-1"): lower-case letters, digits and '-'.
bool is_valid_region(std::string_view region);

// A user-facing error when `url` is not an absolute http:// or https:// URL without query or fragment.
std::optional<std::string> check_endpoint_url(std::string_view url, std::string_view where);

}  // namespace eg::providers::aws
