#include "providers/aws/api_call.h"

#include <chrono>

#include "providers/aws/credentials.h"
#include "providers/aws/sigv4.h"
#include "providers/outcome.h"

namespace eg::providers::aws {
namespace {

// A call that cannot be made as the function is configured (no region, no credentials): the same
// call fails the same way until someone changes the settings or the gateway's environment.
CallResult failure(std::string error) {
  return CallResult{
      .outcome = CallResult::Outcome::Unreachable, .error = std::move(error), .retryable = false};
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

ApiErrorContext error_context(const ApiCall& call, const Target& target,
                              const ResolvedCredentials& credentials) {
  return ApiErrorContext{.resource = call.resource,
                         .region = target.region,
                         .permission = call.service->permission,
                         .access_key_id = credentials.credentials.access_key_id,
                         .credentials_source = credentials.source};
}

}  // namespace

boost::asio::awaitable<ApiResult> call_api(const model::Function& function, ApiCall call,
                                           CallContext& context) {
  const auto& settings = function.provider;
  auto target = resolve_target(*call.service, settings);
  if (const auto* error = std::get_if<std::string>(&target)) {
    co_return failure(*error);
  }
  auto credentials = resolve_credentials(settings);
  if (const auto* error = std::get_if<std::string>(&credentials)) {
    co_return failure(*error);
  }
  const auto& where = std::get<Target>(target);
  const auto& resolved = std::get<ResolvedCredentials>(credentials);

  auto result = co_await context.http.send(signed_request(call, where, resolved.credentials));
  if (const auto* error = std::get_if<net::OutboundError>(&result)) {
    co_return transport_error_result(
        *error, "calling " + call.resource + " at " + where.scheme + "://" + where.authority);
  }
  auto& response = std::get<net::OutboundResponse>(result);
  if (response.status < 200 || response.status > 299) {
    co_return api_error_result(response, error_context(call, where, resolved),
                               std::chrono::system_clock::now());
  }
  co_return std::move(response);
}

CallResult api_error_result(const net::OutboundResponse& response, const ApiErrorContext& context,
                            std::chrono::system_clock::time_point now) {
  const auto error = parse_api_error(response);
  return CallResult{.outcome = CallResult::Outcome::Unreachable,
                    .error = describe(error, context),
                    .retryable = is_retryable(error),
                    .retry_after = retry_after_of(response, now)};
}

CallResult transport_error_result(const net::OutboundError& error, std::string_view what) {
  using Kind = net::OutboundError::Kind;
  return CallResult{.outcome = error.kind == Kind::Timeout ? CallResult::Outcome::Timeout
                                                           : CallResult::Outcome::Unreachable,
                    .error = std::string(what) + " failed: " + error.message,
                    .retryable = providers::is_retryable(error.kind)};
}

}  // namespace eg::providers::aws
