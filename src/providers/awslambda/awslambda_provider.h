#pragma once
#include <string_view>

#include "providers/aws_common.h"
#include "providers/provider.h"

namespace eg::providers {

// Function type "awslambda": Lambda Invoke (RequestResponse) of `arn`, a function name or a partial or
// full ARN, with the event as payload. A function error (X-Amz-Function-Error) is a FunctionError
// carrying Lambda's error payload. Other settings: see aws_common.h. Lambda carries no headers of
// the caller's to the function, so the marks (hops, Event-ID, Delivery-Attempt) do not reach it:
// the event's `id` is what a function deduplicates by.
class AwsLambdaProvider : public Provider {
 public:
  std::string_view type() const override { return "awslambda"; }
  std::optional<std::string> validate(const boost::json::object& settings) const override;
  const std::vector<std::string_view>& secret_fields() const override;
  std::optional<std::string> destination_url(const boost::json::object& settings) const override {
    return aws_endpoint_setting(settings);
  }
  std::shared_ptr<const CallTarget> compile(const model::Function& function) const override;
};

// Lambda's 2xx answer to Invoke of `resource` ("AWS Lambda function hello") as the result of a call:
// the function's payload, or, when Lambda names a function error (X-Amz-Function-Error), a
// retryable FunctionError carrying Lambda's error payload. AWS's other answers: aws/api_call.h.
CallResult lambda_invoke_result(net::OutboundResponse response, std::string_view resource);

}  // namespace eg::providers
