#pragma once
// PutRecord for the stream connectors (awskinesis, awsfirehose): both speak AWS's JSON protocol, a
// POST of a JSON body to "/" naming the operation in X-Amz-Target, with the event base64-encoded
// in the record's Data. AWS's JSON answer (the record's sequence number or id) is the result.

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <string>

#include "providers/aws/api_call.h"
#include "providers/provider.h"

namespace eg::providers::aws {

struct PutRecord {
  std::string target;           // X-Amz-Target: "Kinesis_20131202.PutRecord"
  std::string resource;         // for messages: "Kinesis stream orders"
  boost::json::object request;  // the operation's JSON input
};

// `destination` must outlive the call.
boost::asio::awaitable<CallResult> put_record(const Destination& destination, PutRecord put,
                                              CallContext& context);

}  // namespace eg::providers::aws
