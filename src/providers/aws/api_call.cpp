#include "providers/aws/api_call.h"

#include <chrono>

#include "providers/aws/sigv4.h"
#include "providers/outcome.h"

namespace eg::providers::aws {
namespace {

// A call that cannot be made as the function is configured (no credentials): the same call fails
// the same way until someone changes the settings, the gateway's environment or its files.
CallResult failure(std::string error) {
  return CallResult{
      .outcome = CallResult::Outcome::Unreachable, .error = std::move(error), .retryable = false};
}

// Built outside the coroutine: GCC 12 miscompiles brace-initialized lists inside co_await expressions.
net::OutboundRequest signed_request(ApiCall& call, const Destination& destination,
                                    const Credentials& credentials) {
  const auto& target = destination.target;
  SignableRequest request{
      .method = "POST", .path = target.base_path + call.path, .body = std::move(call.body)};
  request.headers.emplace_back("Host", target.authority);
  for (auto& header : call.headers) request.headers.push_back(std::move(header));
  sign(request, credentials, target.region, destination.service->name, std::chrono::system_clock::now());

  net::OutboundRequest outbound;
  outbound.method = request.method;
  outbound.url = target.scheme + "://" + target.authority + request.path;
  outbound.headers = std::move(request.headers);
  outbound.body = std::move(request.body);
  return outbound;
}

ApiErrorContext error_context(const ApiCall& call, const Destination& destination,
                              const ResolvedCredentials& credentials) {
  return ApiErrorContext{.resource = call.resource,
                         .region = destination.target.region,
                         .permission = destination.service->permission,
                         .access_key_id = credentials.credentials.access_key_id,
                         .credentials_source = credentials.source};
}

}  // namespace

std::variant<Destination, std::string> resolve_destination(const Service& service,
                                                           const boost::json::object& settings) {
  auto target = resolve_target(service, settings);
  if (auto* error = std::get_if<std::string>(&target)) return std::move(*error);
  return Destination{.service = &service,
                     .target = std::move(std::get<Target>(target)),
                     .credentials = credentials_source(settings)};
}

boost::asio::awaitable<ApiResult> call_api(const Destination& destination, ApiCall call,
                                           CallContext& context) {
  // Held across the call: the error message below names the credentials it signed with.
  const auto credentials = destination.credentials->current();
  if (const auto* error = std::get_if<std::string>(credentials.get())) co_return failure(*error);
  const auto& resolved = std::get<ResolvedCredentials>(*credentials);

  auto result = co_await context.http.send(signed_request(call, destination, resolved.credentials));
  if (const auto* error = std::get_if<net::OutboundError>(&result)) {
    const auto& target = destination.target;
    co_return transport_error_result(
        *error, "calling " + call.resource + " at " + target.scheme + "://" + target.authority);
  }
  auto& response = std::get<net::OutboundResponse>(result);
  if (response.status < 200 || response.status > 299) {
    co_return api_error_result(response, error_context(call, destination, resolved),
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
