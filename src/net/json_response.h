#pragma once
// The response shapes both APIs share: JSON bodies, and errors as {"errors":[{"message":...}]}.

#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <string_view>

namespace eg::net {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response json_response(http::status status, const boost::json::value& body);
Response error_response(http::status status, std::string_view message);
Response empty_response(http::status status);

}  // namespace eg::net
