#pragma once
// Where the AWS providers get their credentials, in the order the AWS SDKs use:
//   1. the function's own `awsAccessKeyId` / `awsSecretAccessKey` / `awsSessionToken`;
//   2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
//   3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials), profile
//      AWS_PROFILE (default "default").
// They are looked up on every call, so rotated credentials are used without a restart.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "providers/aws/sigv4.h"

namespace eg::providers::aws {

struct ResolvedCredentials {
  Credentials credentials;
  std::string source;  // where they came from, for error messages: never holds a secret
};

// The credentials for a function with provider `settings`, or a user-facing error saying how to
// provide them.
std::variant<ResolvedCredentials, std::string> resolve_credentials(const boost::json::object& settings);

// The credentials of `profile` in the text of a shared credentials file (INI: `[profile]` sections
// of `aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`), if it has them.
std::optional<Credentials> parse_shared_credentials(std::string_view text, std::string_view profile);

}  // namespace eg::providers::aws
