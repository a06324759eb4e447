#pragma once
// Where the AWS providers get their credentials, in the order the AWS SDKs use:
//   1. the function's own `awsAccessKeyId` / `awsSecretAccessKey` / `awsSessionToken`;
//   2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
//   3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials), profile
//      AWS_PROFILE (default "default").
//
// Which one a function uses is decided once, when it is compiled (credentials_source, on the
// configuration watcher's thread). The function's settings and the gateway's environment do not
// change while it runs. The shared credentials file may: tools that rotate temporary credentials
// rewrite it. So it is read when the first function that needs it is compiled, and then watched by
// a thread of its own, which looks at the file (one stat) every kSharedFileCheckInterval and reads
// it again when it changed. Calls only load what was read last (an atomic load): an Events API
// thread never opens the file, so a slow disk or a network home directory never holds up a call,
// and rotated credentials are used within seconds, without a restart.

#include <boost/json.hpp>
#include <chrono>
#include <memory>
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

// What a call signs with: credentials, or a user-facing error saying how to provide them.
using CredentialsLookup = std::variant<ResolvedCredentials, std::string>;

class CredentialsSource {
 public:
  virtual ~CredentialsSource() = default;
  // The credentials as of now. Reads no file and no environment: cheap, and safe on any thread.
  virtual std::shared_ptr<const CredentialsLookup> current() const = 0;
};

// How often the watching thread looks at each shared credentials file in use.
inline constexpr std::chrono::seconds kSharedFileCheckInterval{5};

// The credentials source of a function with provider `settings`, chosen in the order above. A
// function with no credentials of its own and none in the environment uses the shared file, also
// when it holds none yet: its calls fail saying how to provide them until it does. Every function
// that uses the same file and profile shares one source, which reads the file once.
std::shared_ptr<const CredentialsSource> credentials_source(const boost::json::object& settings);

// Reads every shared credentials file in use again if it changed since it was last read: what the
// watching thread does every kSharedFileCheckInterval. Tests call it to see a change at once.
void refresh_shared_credentials_files();

// The credentials a function with `settings` would sign with now: credentials_source(settings)'s.
CredentialsLookup resolve_credentials(const boost::json::object& settings);

// The credentials of `profile` in the text of a shared credentials file (INI: `[profile]` sections
// of `aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`), if it has them.
std::optional<Credentials> parse_shared_credentials(std::string_view text, std::string_view profile);

}  // namespace eg::providers::aws
