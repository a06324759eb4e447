#pragma once
// HTTP dates (RFC 9110 §5.6.7): the Date header every response carries (§6.6.1), written in
// IMF-fixdate form ("Sun, 06 Nov 1994 08:49:37 GMT"), and the dates and delays functions send
// back in Retry-After (§10.2.3).

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace eg::net {

std::string format_http_date(std::time_t seconds_since_epoch);

// The current date, formatted at most once a second on each thread (it is written on every
// response); valid until the calling thread's next call.
std::string_view current_http_date();

// The time an HTTP date names, in any of the three forms a recipient must accept (IMF-fixdate, the
// obsolete RFC 850 and asctime forms), or nothing when `text` is not a date. Parsed by libcurl's
// curl_getdate, which is lenient: it also takes a date without its time of day, other zones than
// GMT, and ignores what follows a complete date. (It reports one second before the epoch as its
// error value, so "Wed, 31 Dec 1969 23:59:59 GMT" reads as no date.)
std::optional<std::time_t> parse_http_date(std::string_view text);

// The longest delay parse_retry_after reports: a longer one, or a date further ahead, is taken as
// this, so that adding it to a time point can never overflow. Retry policies cap it far lower.
inline constexpr std::chrono::seconds kMaxRetryAfter{365LL * 24 * 60 * 60};

// How long a Retry-After value asks the client to wait, as of `now`: delay-seconds (a run of
// digits) or an HTTP date. A date in the past is zero seconds; anything else (a negative or
// fractional number, text that is not a date, an empty value) is nothing: the header is ignored.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

}  // namespace eg::net
