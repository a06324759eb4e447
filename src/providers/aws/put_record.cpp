#include "providers/aws/put_record.h"

namespace eg::providers::aws {
namespace {

ApiCall json_protocol_call(PutRecord& put) {
  ApiCall call{.resource = std::move(put.resource), .path = "/", .body = boost::json::serialize(put.request)};
  call.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
  call.headers.emplace_back("X-Amz-Target", std::move(put.target));
  return call;
}

}  // namespace

boost::asio::awaitable<CallResult> put_record(const Destination& destination, PutRecord put,
                                              CallContext& context) {
  auto result = co_await call_api(destination, json_protocol_call(put), context);
  if (auto* failed = std::get_if<CallResult>(&result)) co_return std::move(*failed);
  auto& response = std::get<net::OutboundResponse>(result);
  co_return CallResult{.body = std::move(response.body), .content_type = "application/json"};
}

}  // namespace eg::providers::aws
