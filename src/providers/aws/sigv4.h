#pragma once
// AWS Signature Version 4 for the AWS providers, computed with OpenSSL's SHA-256 and HMAC.
//
// Why not curl's CURLOPT_AWS_SIGV4: libcurl 7.88 (Debian bookworm) canonicalizes a path holding `:`
// or `%3A` differently from AWS, so every Lambda invoke by full ARN (cross-account functions need
// them) would be refused. This module follows AWS's rules for every service but S3: the path as sent
// is normalized (`.`, `..` and empty segments removed) and URI-encoded once more, so the ARN's
// `%3A` is signed as `%253A`. tests/unit/sigv4_test.cpp checks it against AWS's published test
// suite; tests/aws checks it against the AWS SDK's own signer.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_client.h"

namespace eg::providers::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term credentials
};

// A request as it will be sent, before it is signed.
struct SignableRequest {
  std::string method = "POST";
  std::string path = "/";  // as sent on the wire: already percent-encoded where it needs to be
  std::vector<std::pair<std::string, std::string>> query;  // decoded names and values, in any order
  net::HeaderFields headers;  // every header here is signed; it must include Host
  std::string body;
};

// What signing produced; the intermediate strings are what AWS's test suite publishes.
struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string authorization;  // the Authorization header's value
};

// Adds X-Amz-Date, X-Amz-Security-Token (for temporary credentials) and Authorization to
// `request.headers`, signed for `service` in `region` as of `now`.
Signature sign(SignableRequest& request, const Credentials& credentials, std::string_view region,
               std::string_view service, std::chrono::system_clock::time_point now);

// RFC 3986 percent-encoding of everything but the unreserved characters `A-Za-z0-9-._~`, in upper-case
// hex; `/` is kept when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash = false);
// The query string to send: `name=value` pairs encoded as AWS canonicalizes them, in sorted order.
std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query);
// The canonical URI of `path` (as sent) for services other than S3: normalized, then encoded again.
std::string canonical_uri(std::string_view path);
// "20150830T123600Z".
std::string amz_date(std::chrono::system_clock::time_point time);

}  // namespace eg::providers::aws
