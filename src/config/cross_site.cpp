#include "config/cross_site.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "common/text.h"

namespace eg::config {
namespace {

namespace http = net::http;

bool is_write(const net::Request& request) {
  const auto method = request.method();
  return method != http::verb::get && method != http::verb::head && method != http::verb::options;
}

// application/json, or a JSON-based type such as application/merge-patch+json, with any parameters.
bool is_json_media_type(std::string_view content_type) {
  const auto type = common::ascii_lower(common::trim(content_type.substr(0, content_type.find(';'))));
  const auto slash = type.find('/');
  if (slash == std::string::npos || slash == 0) return false;
  return type == "application/json" || (type.size() > slash + 5 && type.ends_with("+json"));
}

// A body-less write carries nothing a type could describe (curl -d '' and libcurl name a form type
// for it); what refuses such a write from a page is the Origin check.
std::optional<net::Response> content_type_refusal(const net::Request& request) {
  const auto content_type = request[http::field::content_type];
  if (request.body().empty() || is_json_media_type(content_type)) return std::nullopt;
  const auto got = content_type.empty() ? std::string("none") : "\"" + std::string(content_type) + "\"";
  return net::error_response(
      http::status::unsupported_media_type,
      "the Configuration API takes JSON: send Content-Type: application/json (got " + got + ")");
}

// The host of an authority ("127.0.0.1:4001", "[::1]:4001", "localhost"), without its port.
std::string_view host_of(std::string_view authority) {
  if (authority.starts_with('[')) return authority.substr(1, authority.find(']') - 1);
  return authority.substr(0, authority.find(':'));
}

// A name DNS cannot point somewhere else after the page loaded (DNS rebinding): an address or localhost.
bool is_fixed_host(std::string_view host) {
  if (host == "localhost") return true;
  const std::string text(host);
  unsigned char address[16];
  return inet_pton(AF_INET, text.c_str(), address) == 1 || inet_pton(AF_INET6, text.c_str(), address) == 1;
}

// The page was served by the API itself, at a fixed host.
bool is_same_fixed_origin(std::string_view origin, std::string_view host_field) {
  const auto authority = origin.substr(origin.find("://") + 3);
  return authority == common::ascii_lower(host_field) && is_fixed_host(host_of(authority));
}

bool is_host_character(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == ':' || c == '[' ||
         c == ']';
}

}  // namespace

std::optional<std::string> normalize_origin(std::string_view origin) {
  auto text = common::ascii_lower(common::trim(origin));
  if (text.ends_with('/')) text.pop_back();
  const auto separator = text.find("://");
  if (separator == std::string::npos) return std::nullopt;
  const auto scheme = std::string_view(text).substr(0, separator);
  const auto authority = std::string_view(text).substr(separator + 3);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  if (authority.empty() || authority.front() == ':' ||
      !std::all_of(authority.begin(), authority.end(), is_host_character)) {
    return std::nullopt;
  }
  return text;
}

bool CrossSitePolicy::is_allowed(std::string_view origin) const {
  const auto normalized = normalize_origin(origin);
  return normalized &&
         std::find(allowed_origins_.begin(), allowed_origins_.end(), *normalized) != allowed_origins_.end();
}

std::optional<net::Response> CrossSitePolicy::refusal(const net::Request& request) const {
  if (!is_write(request)) return std::nullopt;
  const auto origin = request[http::field::origin];
  if (!origin.empty() && !is_allowed(origin)) {
    const auto normalized = normalize_origin(origin);
    if (!normalized || !is_same_fixed_origin(*normalized, request[http::field::host])) {
      return net::error_response(
          http::status::forbidden,
          "a write from a web page of origin \"" + std::string(origin) +
              "\" is refused: list the origin of a console in -config-allowed-origins");
    }
  }
  return content_type_refusal(request);
}

std::optional<net::Response> CrossSitePolicy::preflight(const net::Request& request) const {
  const auto origin = request[http::field::origin];
  if (request.method() != http::verb::options ||
      request[http::field::access_control_request_method].empty() || !is_allowed(origin)) {
    return std::nullopt;
  }
  auto response = net::empty_response(http::status::no_content);
  response.set(http::field::access_control_allow_origin, origin);
  response.set(http::field::access_control_allow_methods, "GET, POST, PUT, DELETE");
  response.set(http::field::access_control_allow_headers, "Authorization, Content-Type");
  response.set(http::field::access_control_max_age, "600");
  response.set(http::field::vary, "Origin");
  return response;
}

void CrossSitePolicy::allow_reading(const net::Request& request, net::Response& response) const {
  const auto origin = request[http::field::origin];
  if (origin.empty() || !is_allowed(origin)) return;
  response.set(http::field::access_control_allow_origin, origin);
  response.set(http::field::vary, "Origin");
}

}  // namespace eg::config
