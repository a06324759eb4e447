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

Response liveness_response() { return json_response(http::status::ok, {{"status", "ok"}}); }

Response readiness_response(const std::vector<std::string>& not_ready_because) {
  if (not_ready_because.empty()) return json_response(http::status::ok, {{"status", "ready"}});
  boost::json::array errors;
  for (const auto& reason : not_ready_because)
    errors.push_back(boost::json::object{{"message", "not ready: " + reason}});
  return json_response(http::status::service_unavailable, {{"errors", std::move(errors)}});
}

}  // namespace eg::net
