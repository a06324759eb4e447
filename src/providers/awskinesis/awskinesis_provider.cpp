#include "providers/awskinesis/awskinesis_provider.h"

#include "events/event.h"
#include "providers/aws/put_record.h"
#include "providers/aws/sigv4.h"
#include "providers/aws_common.h"

namespace eg::providers {
namespace {

const aws::Service kKinesis{.name = "kinesis", .env_suffix = "KINESIS", .permission = "kinesis:PutRecord"};

// The event's id: unique per event, so events spread evenly over the stream's shards, and the same
// event retried lands on the same shard. A payload without an id (not an event) is keyed by its hash.
std::string partition_key(const std::string& payload) {
  boost::system::error_code error;
  const auto event = boost::json::parse(payload, error);
  if (!error && event.is_object()) {
    if (const auto* id = event.get_object().if_contains("id");
        id != nullptr && id->is_string() && !id->get_string().empty()) {
      return std::string(id->get_string());
    }
  }
  return aws::sha256_hex(payload);
}

aws::PutRecord kinesis_put_record(const std::string& stream, const std::string& payload) {
  aws::PutRecord put{
      .service = &kKinesis, .target = "Kinesis_20131202.PutRecord", .resource = "Kinesis stream " + stream};
  put.request["StreamName"] = stream;
  put.request["Data"] = events::base64_encode(payload);
  put.request["PartitionKey"] = partition_key(payload);
  return put;
}

}  // namespace

std::optional<std::string> AwsKinesisProvider::validate(const boost::json::object& settings) const {
  return validate_aws_settings(settings, "streamName");
}

const std::vector<std::string_view>& AwsKinesisProvider::secret_fields() const { return aws_secret_fields(); }

boost::asio::awaitable<CallResult> AwsKinesisProvider::call(
    const model::Function& function, const std::string& payload,
    const CallMarks& /*marks: AWS passes no headers on*/, CallContext& context) const {
  const auto stream = std::string(function.provider.at("streamName").as_string());
  co_return co_await aws::put_record(function, kinesis_put_record(stream, payload), context);
}

}  // namespace eg::providers
