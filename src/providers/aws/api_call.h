#pragma once
// One call of an AWS API on behalf of a function: to the region and endpoint resolved when the
// function was compiled (Destination), signed with SigV4 with the credentials its source holds now,
// and sent with the event loop's HTTP client. Failures come back as a CallResult that says what went
// wrong, what to do, and whether to try again; 2xx answers are left to the provider.

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "net/http_client.h"
#include "providers/aws/api_error.h"
#include "providers/aws/credentials.h"
#include "providers/aws/endpoint.h"
#include "providers/provider.h"

namespace eg::providers::aws {

// Where and as whom the calls of one function go: resolved once, when the function is compiled.
struct Destination {
  const Service* service = nullptr;
  Target target;
  std::shared_ptr<const CredentialsSource> credentials;
};

// The destination of a function of `service` with provider `settings`, or a user-facing error when
// no call can be made (no region, a bad AWS_ENDPOINT_URL*). Reads the environment, and the shared
// credentials file when the function needs it: call it where functions are compiled.
std::variant<Destination, std::string> resolve_destination(const Service& service,
                                                           const boost::json::object& settings);

struct ApiCall {
  std::string resource;       // what is called, for messages: "AWS Lambda function hello"
  std::string path;           // the API path as sent, e.g. "/2015-03-31/functions/hello/invocations"
  net::HeaderFields headers;  // besides Host and the signing headers
  std::string body;
};

// AWS's 2xx answer, or the failed call.
using ApiResult = std::variant<net::OutboundResponse, CallResult>;

// `destination` must outlive the call.
boost::asio::awaitable<ApiResult> call_api(const Destination& destination, ApiCall call,
                                           CallContext& context);

// What a failed call means, as plain functions so that every outcome is tested without AWS
// (tests/unit/provider_outcomes_test.cpp). The outcome is Unreachable (the caller gets 502) and the
// message says what to do (api_error.h).
//
// AWS's non-2xx answer: retryable for throttling, 408 and 5xx, with the wait a 429 or 503 asks for;
// permanent for credential problems, a resource not found and other 4xx (aws::is_retryable).
CallResult api_error_result(const net::OutboundResponse& response, const ApiErrorContext& context,
                            std::chrono::system_clock::time_point now);
// The call did not get an answer (`what`: "calling Kinesis stream s at https://…"): retryable unless
// the answer was too large (providers::is_retryable); Timeout for timeouts, else Unreachable.
CallResult transport_error_result(const net::OutboundError& error, std::string_view what);

}  // namespace eg::providers::aws
