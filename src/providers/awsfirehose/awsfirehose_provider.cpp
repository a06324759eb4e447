#include "providers/awsfirehose/awsfirehose_provider.h"

#include "providers/aws_common.h"

namespace eg::providers {

std::optional<std::string> AwsFirehoseProvider::validate(const boost::json::object& settings) const {
  return validate_aws_settings(settings, "deliveryStreamName");
}

const std::vector<std::string_view>& AwsFirehoseProvider::secret_fields() const { return aws_secret_fields(); }

boost::asio::awaitable<CallResult> AwsFirehoseProvider::call(const model::Function&, const std::string&, CallContext&) const {
  co_return aws_call_not_available(type());
}

}  // namespace eg::providers
