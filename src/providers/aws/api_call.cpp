#include "providers/aws/api_call.h"

#include <chrono>

#include "providers/aws/api_error.h"
#include "providers/aws/credentials.h"
#include "providers/aws/sigv4.h"

namespace eg::providers::aws {
namespace {

CallResult failure(CallResult::Outcome outcome, std::string error) {
  return CallResult{.outcome = outcome, .error = std::move(error)};
}

CallResult from_transport_error(const net::OutboundError& error, const ApiCall& call, const Target& target) {
  using Kind = net::OutboundError::Kind;
  const auto outcome =
      error.kind == Kind::Timeout ? CallResult::Outcome::Timeout : CallResult::Outcome::Unreachable;
  return failure(outcome, "calling " + call.resource + " at " + target.scheme + "://" + target.authority +
                              " failed: " + error.message);
}

// Built outside the coroutine: GCC 12 miscompiles brace-initialized lists inside co_await expressions.
net::OutboundRequest signed_request(ApiCall& call, const Target& target, const Credentials& credentials) {
  SignableRequest request{
      .method = "POST", .path = target.base_path + call.path, .body = std::move(call.body)};
  request.headers.emplace_back("Host", target.authority);
  for (auto& header : call.headers) request.headers.push_back(std::move(header));
  sign(request, credentials, target.region, call.service->name, std::chrono::system_clock::now());

  net::OutboundRequest outbound;
  outbound.method = request.method;
  outbound.url = target.scheme + "://" + target.authority + request.path;
  outbound.headers = std::move(request.headers);
  outbound.body = std::move(request.body);
  return outbound;
}

CallResult from_api_error(const net::OutboundResponse& response, const ApiCall& call, const Target& target,
                          const ResolvedCredentials& credentials) {
  const auto error = parse_api_error(response);
  const ApiErrorContext context{.resource = call.resource,
                                .region = target.region,
                                .permission = call.service->permission,
                                .access_key_id = credentials.credentials.access_key_id,
                                .credentials_source = credentials.source};
  return failure(CallResult::Outcome::Unreachable, describe(error, context));
}

}  // namespace

boost::asio::awaitable<ApiResult> call_api(const model::Function& function, ApiCall call,
                                           CallContext& context) {
  const auto& settings = function.provider;
  auto target = resolve_target(*call.service, settings);
  if (const auto* error = std::get_if<std::string>(&target)) {
    co_return failure(CallResult::Outcome::Unreachable, *error);
  }
  auto credentials = resolve_credentials(settings);
  if (const auto* error = std::get_if<std::string>(&credentials)) {
    co_return failure(CallResult::Outcome::Unreachable, *error);
  }
  const auto& where = std::get<Target>(target);
  const auto& resolved = std::get<ResolvedCredentials>(credentials);

  auto result = co_await context.http.send(signed_request(call, where, resolved.credentials));
  if (const auto* error = std::get_if<net::OutboundError>(&result)) {
    co_return from_transport_error(*error, call, where);
  }
  auto& response = std::get<net::OutboundResponse>(result);
  if (response.status < 200 || response.status > 299)
    co_return from_api_error(response, call, where, resolved);
  co_return std::move(response);
}

}  // namespace eg::providers::aws
