#pragma once
// A function's answer to an http event (README "Respond to an HTTP Event"), checked before any of it
// reaches the client:
//   {"statusCode": integer 200-599 (default 200), "headers": {name: string}, "body": string}
// The function is not trusted with the wire: a header name that is not an RFC 9110 token, or a value
// that holds a control character (CR, LF, NUL, ...), refuses the whole answer (it could forge headers
// or a second response on a keep-alive connection); the fields that frame the message or describe
// the connection (Content-Length, Transfer-Encoding, Connection, ...: net::is_server_managed_field)
// are the server's and are dropped; the body of a 204 or 304 is dropped, as those carry none.
// 1xx status codes are refused: an interim answer with nothing after it leaves the client waiting.

#include <string>
#include <string_view>
#include <variant>

#include "net/json_response.h"

namespace eg::events {

// Why an answer cannot go to the client.
struct RefusedAnswer {
  std::string reason;  // for the client: says what is wrong, echoes nothing of the answer
  std::string detail;  // for the log: names the offending part, control characters escaped
};

using CheckedAnswer = std::variant<net::Response, RefusedAnswer>;

CheckedAnswer http_response_from_answer(std::string_view answer);

}  // namespace eg::events
