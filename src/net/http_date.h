#pragma once
// The Date header every response carries (RFC 9110 §6.6.1), in IMF-fixdate form (§5.6.7):
// "Sun, 06 Nov 1994 08:49:37 GMT".

#include <ctime>
#include <string>
#include <string_view>

namespace eg::net {

std::string format_http_date(std::time_t seconds_since_epoch);

// The current date, formatted at most once a second on each thread (it is written on every
// response); valid until the calling thread's next call.
std::string_view current_http_date();

}  // namespace eg::net
