#include "providers/awslambda/awslambda_provider.h"

#include <boost/beast/core/string.hpp>

#include "common/json.h"
#include "providers/aws/api_call.h"
#include "providers/aws/sigv4.h"
#include "providers/aws_common.h"

namespace eg::providers {
namespace {

const aws::Service kLambda{.name = "lambda", .env_suffix = "LAMBDA", .permission = "lambda:InvokeFunction"};

std::string header_value(const net::OutboundResponse& response, std::string_view name) {
  for (const auto& [field, value] : response.headers) {
    if (boost::beast::iequals(field, name)) return value;
  }
  return {};
}

// "Error: boom" from Lambda's error payload {"errorType": "Error", "errorMessage": "boom", …}.
std::string function_error_summary(std::string_view body) {
  const auto json = common::parse_json(body);
  if (!json.ok() || !json.value.is_object()) return std::string(body.substr(0, 200));
  const auto& object = json.value.get_object();
  std::string summary;
  for (std::string_view field : {"errorType", "errorMessage"}) {
    if (const auto* value = object.if_contains(field); value != nullptr && value->is_string()) {
      if (!summary.empty()) summary += ": ";
      summary += value->get_string();
    }
  }
  return summary;
}

// A Lambda function: Invoke, RequestResponse, of its name, partial ARN or full ARN, which goes into
// the path percent-encoded (an ARN's `:` is sent as `%3A`).
class LambdaTarget final : public CallTarget {
 public:
  LambdaTarget(aws::Destination destination, const boost::json::object& settings)
      : destination_(std::move(destination)),
        function_name_(settings.at("arn").get_string()),
        resource_("AWS Lambda function " + function_name_),
        path_("/2015-03-31/functions/" + aws::uri_encode(function_name_) + "/invocations") {}

  boost::asio::awaitable<CallResult> call(const std::string& payload,
                                          const CallMarks& /*marks: AWS passes no headers on*/,
                                          CallContext& context) const override {
    auto result = co_await aws::call_api(destination_, invoke_call(payload), context);
    if (auto* failed = std::get_if<CallResult>(&result)) co_return std::move(*failed);
    co_return lambda_invoke_result(std::move(std::get<net::OutboundResponse>(result)), resource_);
  }

 private:
  // Built outside the coroutine: GCC 12 miscompiles brace-initialized lists inside co_await expressions.
  aws::ApiCall invoke_call(const std::string& payload) const {
    aws::ApiCall call{.resource = resource_, .path = path_, .body = payload};
    call.headers.reserve(2);
    call.headers.emplace_back("Content-Type", "application/json");
    call.headers.emplace_back("X-Amz-Invocation-Type", "RequestResponse");
    return call;
  }

  const aws::Destination destination_;
  const std::string function_name_;
  const std::string resource_;
  const std::string path_;
};

}  // namespace

std::optional<std::string> AwsLambdaProvider::validate(const boost::json::object& settings) const {
  return validate_aws_settings(settings, "arn");
}

const std::vector<std::string_view>& AwsLambdaProvider::secret_fields() const { return aws_secret_fields(); }

CallResult lambda_invoke_result(net::OutboundResponse response, std::string_view resource) {
  CallResult result{.body = std::move(response.body), .content_type = header_value(response, "Content-Type")};
  // The function ran and failed: Lambda answers 200 and names the failure in this header. It may
  // succeed next time (a dependency was down, the function timed out), as Lambda's own
  // asynchronous invocations assume: they retry function errors too.
  if (const auto kind = header_value(response, "X-Amz-Function-Error"); !kind.empty()) {
    result.outcome = CallResult::Outcome::FunctionError;
    result.retryable = true;
    result.error = std::string(resource) + " failed (" + kind + ")";
    if (const auto summary = function_error_summary(result.body); !summary.empty())
      result.error += ": " + summary;
  }
  return result;
}

std::shared_ptr<const CallTarget> AwsLambdaProvider::compile(const model::Function& function) const {
  return compile_aws_function<LambdaTarget>(*this, kLambda, function);
}

}  // namespace eg::providers
