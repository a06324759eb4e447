#pragma once
// Where the AWS providers get their credentials: the function's own, else the default credential
// provider chain of the AWS SDKs, in their order (docs/aws.md, "Credentials"):
//   1. the function's own `awsAccessKeyId` / `awsSecretAccessKey` / `awsSessionToken`;
//   2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
//   3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (EKS), through STS
//      AssumeRoleWithWebIdentity;
//   4. profile AWS_PROFILE (default "default") of the shared files (profile_file.h), the
//      credentials file over the config file: `role_arn` with `source_profile` (STS AssumeRole
//      signed with the source profile's credentials), else `credential_process`, else the keys;
//   5. the container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI (ECS, EKS Pod
//      Identity), with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE);
//   6. the EC2 instance metadata service (IMDSv2), unless AWS_EC2_METADATA_DISABLED=true.
// A source that is configured (3, 4 with a role or process, 5) and fails is the answer, as in the
// SDKs: the chain does not fall through to a lower source, which would sign as someone else.
//
// Which source a function uses is decided when it is compiled (credentials_source, on the
// configuration watcher's thread): its own keys and the environment's never change while the
// gateway runs. Everything from 3 on is a chain source, shared by every function of the same
// environment: it fetches when created (so a function's first call has credentials), then again on
// a refresher thread of its own, never on an event loop:
//   - credentials that expire are fetched again kRefreshMargin before they do (refresh_time);
//   - the shared files are looked at (one stat each) every kSharedFileCheckInterval and read again
//     when they changed, so rotated keys are used within seconds, without a restart;
//   - a fetch that fails keeps the credentials fetched before until they expire, is tried again
//     after retry_delay, and is logged (at most one line per five minutes and source).
// Calls only load what was fetched last (CredentialsSource::current, an atomic load).

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

// How often the refresher thread looks at the shared files in use.
inline constexpr std::chrono::seconds kSharedFileCheckInterval{5};
// How long before they expire credentials are fetched again. The metadata service and the container
// endpoint hand out new credentials at least five minutes before the old ones expire, and the AWS
// SDK for Java v2 prefetches five minutes ahead; a longer margin (botocore's 15 minutes) would only
// fetch the same credentials again from those sources.
inline constexpr std::chrono::minutes kRefreshMargin{5};

// The credentials source of a function with provider `settings`, chosen in the order above. Reads
// the environment; may block while the chain's first fetch runs (bounded by each source's timeout).
std::shared_ptr<const CredentialsSource> credentials_source(const boost::json::object& settings);

// What the refresher thread does when it wakes: every chain source in use fetches again if its
// files changed or its refresh is due. Tests call it to see a change at once.
void refresh_credentials_in_use();

// The credentials a function with `settings` would sign with now: credentials_source(settings)'s.
CredentialsLookup resolve_credentials(const boost::json::object& settings);

// The credentials of `profile` in the text of a shared credentials file, if it has them.
std::optional<Credentials> parse_shared_credentials(std::string_view text, std::string_view profile);

// When credentials fetched at `now` that expire at `expiration` are fetched again: kRefreshMargin
// before they expire; when that has passed already (short-lived credentials), after a quarter of
// the time they have left, within 1 s to 1 min.
std::chrono::system_clock::time_point refresh_time(std::chrono::system_clock::time_point now,
                                                   std::chrono::system_clock::time_point expiration);
// How long after its `failures`-th failure in a row a fetch is tried again: 1 s, doubling, 1 min at most.
std::chrono::seconds retry_delay(int failures);

}  // namespace eg::providers::aws
