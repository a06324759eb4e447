#include "providers/awsfirehose/awsfirehose_provider.h"

#include "events/event.h"
#include "providers/aws/put_record.h"
#include "providers/aws_common.h"

namespace eg::providers {
namespace {

const aws::Service kFirehose{
    .name = "firehose", .env_suffix = "FIREHOSE", .permission = "firehose:PutRecord"};

aws::PutRecord firehose_put_record(const std::string& delivery_stream, const std::string& payload) {
  aws::PutRecord put{.service = &kFirehose,
                     .target = "Firehose_20150804.PutRecord",
                     .resource = "Firehose delivery stream " + delivery_stream};
  put.request["DeliveryStreamName"] = delivery_stream;
  put.request["Record"] = boost::json::object{{"Data", events::base64_encode(payload)}};
  return put;
}

}  // namespace

std::optional<std::string> AwsFirehoseProvider::validate(const boost::json::object& settings) const {
  return validate_aws_settings(settings, "deliveryStreamName");
}

const std::vector<std::string_view>& AwsFirehoseProvider::secret_fields() const {
  return aws_secret_fields();
}

boost::asio::awaitable<CallResult> AwsFirehoseProvider::call(
    const model::Function& function, const std::string& payload,
    const CallMarks& /*marks: AWS passes no headers on*/, CallContext& context) const {
  const auto delivery_stream = std::string(function.provider.at("deliveryStreamName").as_string());
  co_return co_await aws::put_record(function, firehose_put_record(delivery_stream, payload), context);
}

}  // namespace eg::providers
