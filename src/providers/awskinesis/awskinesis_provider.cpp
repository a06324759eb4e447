#include "providers/awskinesis/awskinesis_provider.h"

#include "providers/aws_common.h"

namespace eg::providers {

std::optional<std::string> AwsKinesisProvider::validate(const boost::json::object& settings) const {
  return validate_aws_settings(settings, "streamName");
}

const std::vector<std::string_view>& AwsKinesisProvider::secret_fields() const { return aws_secret_fields(); }

boost::asio::awaitable<CallResult> AwsKinesisProvider::call(const model::Function&, const std::string&, CallContext&) const {
  co_return aws_call_not_available(type());
}

}  // namespace eg::providers
