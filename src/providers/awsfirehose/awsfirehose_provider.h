#pragma once
#include "providers/aws_common.h"
#include "providers/provider.h"

namespace eg::providers {

// Function type "awsfirehose": Firehose PutRecord of each event on `deliveryStreamName`. Other settings:
// see aws_common.h.
// A record carries no headers, so the marks (hops, Event-ID, Delivery-Attempt) do not travel with it:
// consumers deduplicate by the event's `id`, which is in the record.
class AwsFirehoseProvider : public Provider {
 public:
  std::string_view type() const override { return "awsfirehose"; }
  std::optional<std::string> validate(const boost::json::object& settings) const override;
  const std::vector<std::string_view>& secret_fields() const override;
  std::optional<std::string> destination_url(const boost::json::object& settings) const override {
    return aws_endpoint_setting(settings);
  }
  std::shared_ptr<const CallTarget> compile(const model::Function& function) const override;
};

}  // namespace eg::providers
