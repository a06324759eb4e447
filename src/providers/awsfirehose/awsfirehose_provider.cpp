#include "providers/awsfirehose/awsfirehose_provider.h"

#include "common/base64.h"
#include "providers/aws/put_record.h"
#include "providers/aws_common.h"

namespace eg::providers {
namespace {

const aws::Service kFirehose{
    .name = "firehose", .env_suffix = "FIREHOSE", .permission = "firehose:PutRecord"};

// A Firehose delivery stream: PutRecord of each event.
class FirehoseTarget final : public CallTarget {
 public:
  FirehoseTarget(aws::Destination destination, const boost::json::object& settings)
      : destination_(std::move(destination)),
        delivery_stream_(settings.at("deliveryStreamName").get_string()),
        resource_("Firehose delivery stream " + delivery_stream_) {}

  boost::asio::awaitable<CallResult> call(const std::string& payload,
                                          const CallMarks& /*marks: a record has no headers*/,
                                          CallContext& context) const override {
    co_return co_await aws::put_record(destination_, request_of(payload), context);
  }

 private:
  aws::PutRecord request_of(const std::string& payload) const {
    aws::PutRecord put{.target = "Firehose_20150804.PutRecord", .resource = resource_};
    put.request["DeliveryStreamName"] = delivery_stream_;
    put.request["Record"] = boost::json::object{{"Data", common::base64_encode(payload)}};
    return put;
  }

  const aws::Destination destination_;
  const std::string delivery_stream_;
  const std::string resource_;
};

}  // namespace

std::optional<std::string> AwsFirehoseProvider::validate(const boost::json::object& settings) const {
  return validate_aws_settings(settings, "deliveryStreamName");
}

const std::vector<std::string_view>& AwsFirehoseProvider::secret_fields() const {
  return aws_secret_fields();
}

std::shared_ptr<const CallTarget> AwsFirehoseProvider::compile(const model::Function& function) const {
  return compile_aws_function<FirehoseTarget>(*this, kFirehose, function);
}

}  // namespace eg::providers
