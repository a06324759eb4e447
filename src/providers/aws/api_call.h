#pragma once
// One call of an AWS API on behalf of a function: region, endpoint and credentials resolved, the
// request signed with SigV4 and sent with the event loop's HTTP client. Failures come back as a
// CallResult that says what went wrong and what to do; 2xx answers are left to the provider.

#include <boost/asio/awaitable.hpp>
#include <string>
#include <variant>

#include "model/function.h"
#include "net/http_client.h"
#include "providers/aws/endpoint.h"
#include "providers/provider.h"

namespace eg::providers::aws {

struct ApiCall {
  const Service* service = nullptr;
  std::string resource;       // what is called, for messages: "AWS Lambda function hello"
  std::string path;           // the API path as sent, e.g. "/2015-03-31/functions/hello/invocations"
  net::HeaderFields headers;  // besides Host and the signing headers
  std::string body;
};

// AWS's 2xx answer, or the failed call.
using ApiResult = std::variant<net::OutboundResponse, CallResult>;

boost::asio::awaitable<ApiResult> call_api(const model::Function& function, ApiCall call,
                                           CallContext& context);

}  // namespace eg::providers::aws
