#include "providers/aws/api_error.h"

#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>
#include <initializer_list>

#include "common/json.h"

namespace eg::providers::aws {
namespace {

constexpr std::size_t kMaxQuotedBody = 200;

// "com.amazonaws.kinesis#ResourceNotFoundException:http://…" → "ResourceNotFoundException"
std::string bare_code(std::string_view code) {
  if (const auto hash = code.rfind('#'); hash != std::string_view::npos) code.remove_prefix(hash + 1);
  if (const auto colon = code.find(':'); colon != std::string_view::npos) code = code.substr(0, colon);
  return std::string(code);
}

std::string first_string(const boost::json::object& object, std::initializer_list<std::string_view> names) {
  for (const auto name : names) {
    if (const auto* value = object.if_contains(name); value != nullptr && value->is_string()) {
      return std::string(value->get_string());
    }
  }
  return {};
}

bool is_one_of(std::string_view code, std::initializer_list<std::string_view> codes) {
  for (const auto candidate : codes) {
    if (code == candidate) return true;
  }
  return false;
}

std::string aws_said(const ApiError& error) {
  std::string said = error.code.empty() ? "HTTP " + std::to_string(error.status) : error.code;
  if (!error.message.empty()) said += ": " + error.message;
  return " (" + said + ")";
}

std::string credentials_named(const ApiErrorContext& context) {
  return "the credentials from " + std::string(context.credentials_source) + " (access key " +
         std::string(context.access_key_id) + ")";
}

std::string describe_credentials_error(const ApiError& error, const ApiErrorContext& context) {
  const auto& code = error.code;
  if (code.starts_with("AccessDenied")) {
    return "AWS denied access: " + credentials_named(context) + " may not call " +
           std::string(context.permission) + " on " + std::string(context.resource) +
           "; allow it in their IAM policy" + aws_said(error);
  }
  if (code.starts_with("ExpiredToken") || code == "RequestExpired") {
    return "AWS refused expired credentials: the session token of " + credentials_named(context) +
           " has expired; give the gateway fresh temporary credentials" + aws_said(error);
  }
  if (is_one_of(code, {"InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature"})) {
    return "AWS refused the request signature: check that the secret access key of " +
           credentials_named(context) +
           " is the one that belongs to it, and that this machine's clock is right" + aws_said(error);
  }
  return "AWS does not recognize " + credentials_named(context) +
         ": check the access key id, and that the key " +
         "is active in the account and partition of region " + std::string(context.region) + aws_said(error);
}

}  // namespace

ApiError parse_api_error(const net::OutboundResponse& response) {
  ApiError error{.status = response.status};
  for (const auto& [name, value] : response.headers) {
    if (boost::beast::iequals(name, "x-amzn-ErrorType")) error.code = bare_code(value);
  }
  const auto body = common::parse_json(response.body);
  if (body.ok() && body.value.is_object()) {
    const auto& object = body.value.get_object();
    if (error.code.empty()) error.code = bare_code(first_string(object, {"__type", "code", "Code"}));
    error.message = first_string(object, {"message", "Message", "errorMessage"});
  } else {
    error.message = response.body.substr(0, kMaxQuotedBody);
  }
  return error;
}

ApiErrorKind classify(const ApiError& error) {
  const auto& code = error.code;
  if (code.starts_with("AccessDenied") || code.starts_with("ExpiredToken") ||
      is_one_of(code, {"UnrecognizedClientException", "InvalidClientTokenId", "RequestExpired",
                       "InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature",
                       "MissingAuthenticationToken", "MissingAuthenticationTokenException"})) {
    return ApiErrorKind::Credentials;
  }
  if (error.status == 429 ||
      is_one_of(code,
                {"TooManyRequestsException", "ThrottlingException", "Throttling",
                 "ProvisionedThroughputExceededException", "LimitExceededException", "RequestLimitExceeded",
                 "ServiceUnavailableException", "EC2ThrottledException", "KMSThrottlingException"})) {
    return ApiErrorKind::Throttled;
  }
  if (code == "ResourceNotFoundException") return ApiErrorKind::NotFound;
  return ApiErrorKind::Other;
}

bool is_retryable(const ApiError& error) {
  switch (classify(error)) {
    case ApiErrorKind::Credentials:
    case ApiErrorKind::NotFound:
      return false;
    case ApiErrorKind::Throttled:
      return true;
    case ApiErrorKind::Other:
      break;
  }
  return error.status == 408 || (error.status >= 500 && error.status <= 599);
}

std::string describe(const ApiError& error, const ApiErrorContext& context) {
  switch (classify(error)) {
    case ApiErrorKind::Credentials:
      return describe_credentials_error(error, context);
    case ApiErrorKind::Throttled:
      return "AWS throttled the call to " + std::string(context.resource) +
             ": it is over its rate or concurrency limit; retry later or raise the limit" + aws_said(error);
    case ApiErrorKind::NotFound:
      return std::string(context.resource) + " was not found in region " + std::string(context.region) +
             aws_said(error);
    case ApiErrorKind::Other:
      break;
  }
  return "AWS refused the call to " + std::string(context.resource) + " with HTTP status " +
         std::to_string(error.status) + aws_said(error);
}

}  // namespace eg::providers::aws
