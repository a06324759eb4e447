#pragma once
#include "providers/provider.h"

namespace eg::providers {

// Function type "awslambda": Lambda Invoke (RequestResponse) of `arn`, a function name or a partial or
// full ARN, with the event as payload. A function error (X-Amz-Function-Error) is a FunctionError
// carrying Lambda's error payload. Other settings: see aws_common.h.
class AwsLambdaProvider : public Provider {
 public:
  std::string_view type() const override { return "awslambda"; }
  std::optional<std::string> validate(const boost::json::object& settings) const override;
  const std::vector<std::string_view>& secret_fields() const override;
  boost::asio::awaitable<CallResult> call(const model::Function& function, const std::string& payload,
                                          const CallMarks& marks, CallContext& context) const override;
};

}  // namespace eg::providers
