#include "net/json_response.h"

#include "common/utf8.h"

namespace eg::net {

Response json_response(http::status status, const boost::json::value& body) {
  Response response{status, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = boost::json::serialize(body);
  common::make_valid_utf8(response.body());  // messages may quote a request's bytes
  response.prepare_payload();
  return response;
}

Response error_response(http::status status, std::string_view message) {
  return json_response(status, {{"errors", boost::json::array{boost::json::object{{"message", message}}}}});
}

Response empty_response(http::status status) {
  Response response{status, 11};
  response.prepare_payload();
  return response;
}

}  // namespace eg::net
