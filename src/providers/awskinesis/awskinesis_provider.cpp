#include "providers/awskinesis/awskinesis_provider.h"

#include "common/base64.h"
#include "common/digest.h"
#include "providers/aws/put_record.h"
#include "providers/aws/sigv4.h"
#include "providers/aws_common.h"

namespace eg::providers {
namespace {

const aws::Service kKinesis{.name = "kinesis", .env_suffix = "KINESIS", .permission = "kinesis:PutRecord"};

// The event's id: unique per event, so events spread evenly over the stream's shards, and the same
// event retried lands on the same shard. Deliveries name it in their marks; for a sync call it is read
// from the payload. A payload without an id (not an event) is keyed by its hash.
std::string partition_key(const std::string& payload, const CallMarks& marks) {
  if (!marks.event_id.empty()) return std::string(marks.event_id);
  boost::system::error_code error;
  const auto event = boost::json::parse(payload, error);
  if (!error && event.is_object()) {
    if (const auto* id = event.get_object().if_contains("id");
        id != nullptr && id->is_string() && !id->get_string().empty()) {
      return std::string(id->get_string());
    }
  }
  return common::sha256_hex(payload);
}

// A Kinesis stream: PutRecord of each event.
class KinesisTarget final : public CallTarget {
 public:
  KinesisTarget(aws::Destination destination, const boost::json::object& settings)
      : destination_(std::move(destination)),
        stream_(settings.at("streamName").get_string()),
        resource_("Kinesis stream " + stream_) {}

  boost::asio::awaitable<CallResult> call(const std::string& payload, const CallMarks& marks,
                                          CallContext& context) const override {
    co_return co_await aws::put_record(destination_, request_of(payload, marks), context);
  }

 private:
  aws::PutRecord request_of(const std::string& payload, const CallMarks& marks) const {
    aws::PutRecord put{.target = "Kinesis_20131202.PutRecord", .resource = resource_};
    put.request["StreamName"] = stream_;
    put.request["Data"] = common::base64_encode(payload);
    put.request["PartitionKey"] = partition_key(payload, marks);
    return put;
  }

  const aws::Destination destination_;
  const std::string stream_;
  const std::string resource_;
};

}  // namespace

std::optional<std::string> AwsKinesisProvider::validate(const boost::json::object& settings) const {
  return validate_aws_settings(settings, "streamName");
}

const std::vector<std::string_view>& AwsKinesisProvider::secret_fields() const { return aws_secret_fields(); }

std::shared_ptr<const CallTarget> AwsKinesisProvider::compile(const model::Function& function) const {
  return compile_aws_function<KinesisTarget>(*this, kKinesis, function);
}

}  // namespace eg::providers
