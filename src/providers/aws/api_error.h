#pragma once
// What an AWS API's error answer means for the user, in words that say what to do about it.
// AWS reports errors as an HTTP status with a code (in the x-amzn-ErrorType header, or as `__type`,
// `code` or `Code` in a JSON body) and a message. Credential problems (AccessDenied,
// UnrecognizedClient, ExpiredToken, InvalidSignature) and throttling get messages of their own.

#include <string>
#include <string_view>

#include "net/http_client.h"

namespace eg::providers::aws {

struct ApiError {
  long status = 0;
  std::string code;     // "AccessDeniedException"; empty when AWS gave none
  std::string message;  // AWS's own message; may be empty
};

ApiError parse_api_error(const net::OutboundResponse& response);

// What the call was about, for the message.
struct ApiErrorContext {
  std::string_view resource;  // "AWS Lambda function arn:aws:lambda:…:function:hello"
  std::string_view region;
  std::string_view permission;          // "lambda:InvokeFunction"
  std::string_view access_key_id;       // not a secret: AWS logs it in CloudTrail
  std::string_view credentials_source;  // "AWS_ACCESS_KEY_ID", "provider.awsAccessKeyId", …
};

enum class ApiErrorKind { Credentials, Throttled, NotFound, Other };
ApiErrorKind classify(const ApiError& error);

// Whether the same call may succeed later: throttling (whatever its status: Kinesis throttles with
// 400), 408 and AWS's 5xx are worth trying again; a credential problem, a resource not found and
// any other 4xx are not, until someone changes the function's settings or AWS's.
bool is_retryable(const ApiError& error);

// A user-facing description of `error`; never contains a secret.
std::string describe(const ApiError& error, const ApiErrorContext& context);

}  // namespace eg::providers::aws
