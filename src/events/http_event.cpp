#include "events/http_event.h"

#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>

#include "common/json.h"
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

// Requests with more headers than this take the JSON object's way in append_request_headers: the
// check for repeated names compares each name with those before it.
constexpr std::size_t kHeadersWrittenStraight = 32;

// Whether the request's headers need the JSON object: a name occurs twice (names compare without
// case, as canonical names do), or there are more than kHeadersWrittenStraight. One pass.
bool needs_header_object(const net::Request& request) {
  std::array<std::string_view, kHeadersWrittenStraight> seen;
  std::size_t count = 0;
  for (const auto& field : request) {
    if (count == seen.size()) return true;
    const std::string_view name = field.name_string();
    for (std::size_t i = 0; i < count; ++i) {
      if (boost::beast::iequals(seen[i], name)) return true;
    }
    seen[count++] = name;
  }
  return false;
}

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
  // ASCII only, as header names are (RFC 9110 tokens), without std::toupper's call into the locale
  // for each character.
  constexpr char kCaseBit = 'a' - 'A';
  std::string canonical(name);
  bool start_of_word = true;
  for (auto& c : canonical) {
    if (start_of_word && c >= 'a' && c <= 'z') c = static_cast<char>(c - kCaseBit);
    if (!start_of_word && c >= 'A' && c <= 'Z') c = static_cast<char>(c + kCaseBit);
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

void append_request_headers(std::string& text, const net::Request& request) {
  if (needs_header_object(request)) {
    text += boost::json::serialize(request_headers(request));  // which joins repeated names' values
    return;
  }
  text += '{';
  bool first = true;
  for (const auto& field : request) {
    if (!first) text += ',';
    first = false;
    common::append_json_string(text, canonical_header_name(field.name_string()));
    text += ':';
    common::append_json_string(text, field.value());
  }
  text += '}';
}

}  // namespace eg::events
