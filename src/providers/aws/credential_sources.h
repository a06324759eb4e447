#pragma once
// The sources of temporary AWS credentials that the chain (credentials.h) asks, one function each,
// and the parsers of their answers (unit-tested without a network):
//   - STS AssumeRoleWithWebIdentity (unsigned) and AssumeRole (SigV4-signed with the source
//     profile's credentials): the Query API, form-encoded, answered in XML;
//   - credential_process: a command whose standard output is a JSON document (Version 1);
//   - the ECS/EKS container endpoint: GET of AWS_CONTAINER_CREDENTIALS_FULL_URI, or of
//     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on http://169.254.170.2, with its Authorization token;
//   - the EC2 instance metadata service, IMDSv2 only: a session token (PUT /latest/api/token), then
//     the role's name and its credentials under /latest/meta-data/iam/security-credentials/.
// Each one blocks for at most its timeout, and must only be called off the event loops.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "providers/aws/sigv4.h"

namespace eg::providers::aws {

struct FetchedCredentials {
  Credentials credentials;
  std::optional<std::chrono::system_clock::time_point> expiration;  // none: they do not expire
};

// Credentials, or why there are none, as a sentence that says what failed and, where it can, what to do.
using FetchResult = std::variant<FetchedCredentials, std::string>;

// Where STS is: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else https://sts.<region>.amazonaws.com.
struct StsEndpoint {
  std::string url;     // without a trailing slash
  std::string region;  // the region requests are signed for
  auto operator<=>(const StsEndpoint&) const = default;
};

struct RoleRequest {
  std::string role_arn;
  std::string session_name;
  std::string external_id;       // AssumeRole only; "" for none
  std::string duration_seconds;  // "" for STS's default (one hour)
};

FetchResult assume_role_with_web_identity(const StsEndpoint& sts, const RoleRequest& role,
                                          const std::string& web_identity_token);
FetchResult assume_role(const StsEndpoint& sts, const RoleRequest& role, const Credentials& source);

// Runs `command` with /bin/sh -c, as the AWS SDKs for Java and Go do, for at most kProcessTimeout.
inline constexpr std::chrono::seconds kProcessTimeout{30};
FetchResult run_credential_process(const std::string& command);

// The URL the container endpoint is asked at, or why the variables do not give one: FULL_URI must be
// https://, or http:// on a loopback address or one of the ECS and EKS container addresses
// (169.254.170.2, 169.254.170.23, fd00:ec2::23), as the SDKs allow; RELATIVE_URI is on
// http://169.254.170.2 and wins over FULL_URI.
std::variant<std::string, std::string> container_credentials_url(std::string_view full_uri,
                                                                 std::string_view relative_uri);
FetchResult fetch_container_credentials(const std::string& url, const std::string& authorization);

inline constexpr std::string_view kDefaultMetadataEndpoint = "http://169.254.169.254";
FetchResult fetch_instance_metadata_credentials(const std::string& endpoint);

// Parsers, public for the unit tests.
// "2019-11-09T13:34:41Z", also with fractional seconds or a numeric offset ("+00:00").
std::optional<std::chrono::system_clock::time_point> parse_aws_time(std::string_view text);
// STS's answer to AssumeRole or AssumeRoleWithWebIdentity: its Credentials element, or the
// ErrorResponse's code and message.
FetchResult parse_sts_answer(long status, std::string_view xml);
// The container endpoint's, the metadata service's and credential_process's JSON: AccessKeyId,
// SecretAccessKey, the session token under `token_key` ("Token" or "SessionToken"), Expiration.
FetchResult parse_credentials_json(std::string_view json, std::string_view token_key);

}  // namespace eg::providers::aws
