#include "events/http_event.h"

#include <boost/url/parse.hpp>
#include <cctype>

#include "events/event.h"

namespace eg::events {

boost::json::object request_headers(const net::Request& request, boost::json::storage_ptr storage) {
  boost::json::object headers(std::move(storage));
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

boost::json::object query_of(std::string_view target, boost::json::storage_ptr storage) {
  boost::json::object query(std::move(storage));
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) return query;
  for (const auto& param : url->params()) {
    auto& values = query[param.key];
    if (values.is_null()) values = boost::json::array(query.storage());
    values.as_array().emplace_back(param.has_value ? param.value : std::string());
  }
  return query;
}

boost::json::object params_of(const routing::PathParams& params, boost::json::storage_ptr storage) {
  boost::json::object object(std::move(storage));
  for (const auto& [name, value] : params) object[name] = value;
  return object;
}

// No body is null whatever the type; otherwise as event data.
boost::json::value body_data(std::string_view content_type, std::string_view body, boost::json::storage_ptr storage) {
  if (body.empty()) return nullptr;
  return encode_data(content_type, body, std::move(storage));
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
                                    const routing::PathParams& params, const boost::json::storage_ptr& storage) {
  const std::string_view content_type = request[net::http::field::content_type];
  boost::json::object data(storage);
  data.reserve(7);
  data.emplace("path", path);
  data.emplace("method", std::string_view(request.method_string()));
  data.emplace("headers", request_headers(request, storage));
  data.emplace("host", std::string_view(request[net::http::field::host]));
  data.emplace("query", query_of(request.target(), storage));
  data.emplace("params", params_of(params, storage));
  data.emplace("body", body_data(content_type, request.body(), storage));
  return data;
}

}  // namespace eg::events
