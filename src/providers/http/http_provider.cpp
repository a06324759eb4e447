#include "providers/http/http_provider.h"

#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>

#include "net/trace_context.h"
#include "providers/aws_common.h"
#include "providers/outcome.h"

namespace eg::providers {

std::optional<std::string> HttpProvider::validate(const boost::json::object& settings) const {
  if (auto error = require_string(settings, "url")) return error;
  const auto url = boost::urls::parse_absolute_uri(settings.at("url").get_string());
  if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
    return "provider.url must be an absolute http:// or https:// URL";
  }
  return std::nullopt;
}

}  // namespace eg::providers

namespace eg::providers {
namespace {

std::string content_type_of(const net::OutboundResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (boost::beast::iequals(name, "content-type")) return value;
  }
  return {};
}

// Built outside the coroutine: GCC 12 miscompiles brace-initialized lists inside co_await expressions.
net::OutboundRequest json_post(const std::string& url, const std::string& payload, const CallMarks& marks) {
  net::OutboundRequest request;
  request.url = url;
  request.headers.reserve(7);
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back(kHopsHeader, std::to_string(marks.hops));
  if (!marks.system_event.empty()) request.headers.emplace_back(kSystemEventHeader, marks.system_event);
  if (!marks.traceparent.empty()) request.headers.emplace_back(net::kTraceparentHeader, marks.traceparent);
  if (!marks.tracestate.empty()) request.headers.emplace_back(net::kTracestateHeader, marks.tracestate);
  if (marks.attempt > 0) {  // an asynchronous delivery: what the function deduplicates by
    request.headers.emplace_back(kEventIdHeader, marks.event_id);
    request.headers.emplace_back(kDeliveryAttemptHeader, std::to_string(marks.attempt));
  }
  request.body = payload;
  return request;
}

// An http function: its URL, checked when compiled. (The HTTP client parses it once per thread and
// keeps the parse, net/plain_http_transport.cpp.)
class HttpTarget final : public CallTarget {
 public:
  HttpTarget(std::string url, std::string function_id)
      : url_(std::move(url)), function_id_(std::move(function_id)) {}

  boost::asio::awaitable<CallResult> call(const std::string& payload, const CallMarks& marks,
                                          CallContext& context) const override {
    auto result = co_await context.http.send(json_post(url_, payload, marks));
    co_return http_call_result(std::move(result), url_, function_id_, std::chrono::system_clock::now());
  }

 private:
  const std::string url_;
  const std::string function_id_;
};

}  // namespace

std::optional<std::string> HttpProvider::destination_url(const boost::json::object& settings) const {
  return std::string(settings.at("url").get_string());
}

CallResult http_call_result(net::OutboundResult result, std::string_view url, std::string_view function_id,
                            std::chrono::system_clock::time_point now) {
  if (const auto* error = std::get_if<net::OutboundError>(&result)) {
    using Kind = net::OutboundError::Kind;
    const auto outcome = error->kind == Kind::Timeout ? CallResult::Outcome::Timeout
                         : error->kind == Kind::Connect || error->kind == Kind::Denied
                             ? CallResult::Outcome::Unreachable
                             : CallResult::Outcome::FunctionError;
    return CallResult{.outcome = outcome,
                      .error = "calling " + std::string(url) + " failed: " + error->message,
                      .retryable = is_retryable(error->kind)};
  }
  auto& response = std::get<net::OutboundResponse>(result);
  CallResult call{.body = std::move(response.body),
                  .content_type = content_type_of(response),
                  .status = static_cast<unsigned>(response.status)};
  if (response.status < 200 || response.status > 299) {
    call.outcome = CallResult::Outcome::FunctionError;
    call.error = "function " + std::string(function_id) + " answered with HTTP status " +
                 std::to_string(response.status);
    call.retryable = is_retryable_status(response.status);
    call.retry_after = retry_after_of(response, now);
  }
  return call;
}

std::shared_ptr<const CallTarget> HttpProvider::compile(const model::Function& function) const {
  if (auto error = validate(function.provider)) {
    return failing_target("function " + function.function_id + " cannot be called: " + *error);
  }
  return std::make_shared<const HttpTarget>(std::string(function.provider.at("url").get_string()),
                                            function.function_id);
}

}  // namespace eg::providers
