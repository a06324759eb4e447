#include "events/function_response.h"

#include "common/json.h"
#include "net/header_rules.h"

namespace eg::events {
namespace {

namespace http = net::http;

constexpr int kLowestStatus = 200;
constexpr int kHighestStatus = 599;

RefusedAnswer refused(std::string reason) {
  auto detail = reason;
  return RefusedAnswer{std::move(reason), std::move(detail)};
}

std::variant<int, RefusedAnswer> status_of(const boost::json::object& answer) {
  const auto* code = answer.if_contains("statusCode");
  if (code == nullptr || code->is_null()) return kLowestStatus;
  // Boost.JSON holds every integer that fits in int64 as int64.
  if (!code->is_int64() || code->get_int64() < kLowestStatus || code->get_int64() > kHighestStatus) {
    return refused("statusCode must be an integer from 200 to 599");
  }
  return static_cast<int>(code->get_int64());
}

// Copies the answer's headers onto `response`; the refusal when one may not reach the wire.
std::optional<RefusedAnswer> copy_headers(const boost::json::object& answer, net::Response& response) {
  const auto* headers = answer.if_contains("headers");
  if (headers == nullptr || headers->is_null()) return std::nullopt;
  if (!headers->is_object()) return refused("headers must be an object");
  for (const auto& [key, value] : headers->get_object()) {
    const std::string_view name = key;
    if (!value.is_string()) return refused("header values must be strings");
    const std::string_view text = value.get_string();
    if (!net::is_field_name(name)) {
      return RefusedAnswer{"header names must be tokens (letters, digits and !#$%&'*+-.^_`|~)",
                           "header name \"" + net::printable_for_log(name) + "\" is not a token"};
    }
    if (!net::is_field_value(text)) {
      return RefusedAnswer{"header values must not hold control characters such as CR, LF or NUL",
                           "the value of header \"" + net::printable_for_log(name) + "\" holds a control character: \"" +
                               net::printable_for_log(text) + "\""};
    }
    if (net::is_server_managed_field(name)) continue;
    response.insert(name, text);
  }
  return std::nullopt;
}

bool carries_no_body(int status) { return status == 204 || status == 304; }

}  // namespace

CheckedAnswer http_response_from_answer(std::string_view answer) {
  const auto json = common::parse_json(answer);
  if (!json.ok() || !json.value.is_object()) return refused("not a JSON object");
  const auto& object = json.value.get_object();
  const auto status = status_of(object);
  if (const auto* refusal = std::get_if<RefusedAnswer>(&status)) return *refusal;
  const int code = std::get<int>(status);
  net::Response response{static_cast<http::status>(code), 11};
  if (auto refusal = copy_headers(object, response)) return std::move(*refusal);
  if (const auto* body = object.if_contains("body"); body && !body->is_null()) {
    if (!body->is_string()) return refused("body must be a string");
    if (!carries_no_body(code)) response.body() = body->get_string();
  }
  // Beast would give a 204 or 304 "Content-Length: 0", which RFC 9110 (§8.6) forbids them.
  if (!carries_no_body(code)) response.prepare_payload();
  return response;
}

}  // namespace eg::events
