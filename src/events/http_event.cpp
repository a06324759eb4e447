#include "events/http_event.h"

#include <boost/url/parse.hpp>
#include <cctype>

#include "events/event.h"

namespace eg::events {
namespace {

}  // namespace

boost::json::object request_headers(const net::Request& request) {
  boost::json::object headers;
  for (const auto& field : request) {
    auto name = canonical_header_name(field.name_string());
    const std::string_view value = field.value();
    auto [slot, inserted] = headers.emplace(name, value);
    if (!inserted) {
      // Repeated headers are joined with ", " as HTTP allows.
      auto& joined = slot->value().as_string();
      joined.append(", ");
      joined.append(value);
    }
  }
  return headers;
}

namespace {

boost::json::object query_of(std::string_view target) {
  boost::json::object query;
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) return query;
  for (const auto& param : url->params()) {
    auto& values = query[param.key];
    if (values.is_null()) values = boost::json::array();
    values.as_array().emplace_back(param.has_value ? param.value : std::string());
  }
  return query;
}

boost::json::object params_of(const routing::PathParams& params) {
  boost::json::object object;
  for (const auto& [name, value] : params) object[name] = value;
  return object;
}

// No body is null whatever the type; otherwise as event data.
boost::json::value body_data(std::string_view content_type, std::string_view body) {
  if (body.empty()) return nullptr;
  return encode_data(content_type, body);
}

}  // namespace

std::string canonical_header_name(std::string_view name) {
  std::string canonical(name);
  bool start_of_word = true;
  for (auto& c : canonical) {
    c = static_cast<char>(start_of_word ? std::toupper(static_cast<unsigned char>(c))
                                        : std::tolower(static_cast<unsigned char>(c)));
    start_of_word = c == '-';
  }
  return canonical;
}

boost::json::object http_event_data(const net::Request& request, std::string_view path,
                                    const routing::PathParams& params) {
  const std::string_view content_type = request[net::http::field::content_type];
  return {{"path", path},
          {"method", std::string_view(request.method_string())},
          {"headers", request_headers(request)},
          {"host", std::string_view(request[net::http::field::host])},
          {"query", query_of(request.target())},
          {"params", params_of(params)},
          {"body", body_data(content_type, request.body())}};
}

}  // namespace eg::events
