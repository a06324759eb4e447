#pragma once
// The response shapes both APIs share: JSON bodies, and errors as {"errors":[{"message":...}]}.

#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace eg::net {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response json_response(http::status status, const boost::json::value& body);
Response error_response(http::status status, std::string_view message);
Response empty_response(http::status status);

// The health probes' answers: alive is always 200 {"status":"ok"}; ready is 200 {"status":"ready"}
// when nothing holds it back, else 503 with one error message per reason.
// Why the gateway is not ready (the store out of reach, a plugin down, draining); empty when it is.
// Called on the API's threads, concurrently.
using Readiness = std::function<std::vector<std::string>()>;

Response liveness_response();
Response readiness_response(const std::vector<std::string>& not_ready_because);

}  // namespace eg::net
