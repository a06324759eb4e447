#pragma once
// What may be written as an HTTP header field (RFC 9110 §5): the rules every header that reaches
// the wire must follow, whoever supplied it (a function's answer, a CORS configuration, ourselves).
// A value that broke them could end the header block early and forge headers or a whole second
// response on a keep-alive connection (response splitting).

#include <string>
#include <string_view>

namespace eg::net {

// A field name is a non-empty RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~.
bool is_field_name(std::string_view name);
// A field value holds no control character but horizontal tab: above all no CR, LF or NUL.
// obs-text (bytes 0x80-0xFF) is allowed, as RFC 9110 allows it.
bool is_field_value(std::string_view value);
// Fields that frame the message or describe the connection: the server writes them itself, for the
// connection it serves, so no one else's value is ever passed on (Content-Length,
// Transfer-Encoding, Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade, and Date).
bool is_server_managed_field(std::string_view name);
// A field name or value that broke the rules, fit for a log line: control and non-ASCII bytes as
// \xNN, so that it cannot forge log lines either, and at most its first 256 bytes ("..." after).
std::string printable_for_log(std::string_view text);

}  // namespace eg::net
