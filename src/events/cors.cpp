#include "events/cors.h"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <cctype>

namespace eg::events {
namespace {

namespace http = net::http;

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Glob match with '*' only, case-insensitive; iterative with one backtrack point.
bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && lower(pattern[p]) == lower(text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool contains_ignoring_case(const std::vector<std::string>& list, std::string_view value) {
  return std::any_of(list.begin(), list.end(), [value](const auto& item) { return boost::beast::iequals(item, value); });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Every header the preflight asks for must be allowed ("*" allows any).
bool headers_allowed(const model::Cors& cors, std::string_view requested) {
  if (contains_ignoring_case(cors.headers, "*")) return true;
  while (!requested.empty()) {
    const auto comma = requested.find(',');
    const auto name = trim(requested.substr(0, comma));
    if (!name.empty() && !contains_ignoring_case(cors.headers, name)) return false;
    requested = comma == std::string_view::npos ? std::string_view() : requested.substr(comma + 1);
  }
  return true;
}

}  // namespace

bool origin_allowed(const model::Cors& cors, std::string_view origin) {
  return std::any_of(cors.origins.begin(), cors.origins.end(),
                     [origin](const auto& pattern) { return glob_match(pattern, origin); });
}

void add_cors_headers(net::Response& response, const model::Cors& cors, std::string_view origin) {
  if (origin.empty() || !origin_allowed(cors, origin)) return;
  const bool any_origin = cors.origins.size() == 1 && cors.origins.front() == "*" && !cors.allow_credentials;
  response.set(http::field::access_control_allow_origin, any_origin ? std::string_view("*") : origin);
  if (!any_origin) response.set(http::field::vary, "Origin");
  if (cors.allow_credentials) response.set(http::field::access_control_allow_credentials, "true");
}

net::Response preflight_response(const model::Cors& cors, const net::Request& request) {
  auto response = net::empty_response(http::status::no_content);
  const std::string_view origin = request[http::field::origin];
  const std::string_view method = request[http::field::access_control_request_method];
  const std::string_view headers = request[http::field::access_control_request_headers];
  if (!contains_ignoring_case(cors.methods, method) || !headers_allowed(cors, headers)) return response;
  add_cors_headers(response, cors, origin);
  if (response.count(http::field::access_control_allow_origin) == 0) return response;
  response.set(http::field::access_control_allow_methods, method);
  if (!headers.empty()) response.set(http::field::access_control_allow_headers, headers);
  return response;
}

const model::Cors& custom_event_cors() {
  static const model::Cors cors{.origins = {"*"}, .methods = {"POST"}, .headers = {"*"}, .allow_credentials = false};
  return cors;
}

bool is_preflight(const net::Request& request) {
  return request.method() == http::verb::options && request.count(http::field::origin) != 0 &&
         request.count(http::field::access_control_request_method) != 0;
}

}  // namespace eg::events
