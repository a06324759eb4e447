#include "net/http_date.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>

namespace eg::net {
namespace {

constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

}  // namespace

std::string format_http_date(std::time_t seconds_since_epoch) {
  std::tm utc{};
  gmtime_r(&seconds_since_epoch, &utc);
  std::array<char, 32> text{};
  const int length = std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                                   kDays[static_cast<std::size_t>(utc.tm_wday)], utc.tm_mday,
                                   kMonths[static_cast<std::size_t>(utc.tm_mon)], utc.tm_year + 1900,
                                   utc.tm_hour, utc.tm_min, utc.tm_sec);
  return std::string(text.data(), static_cast<std::size_t>(length));
}

std::string_view current_http_date() {
  struct Cached {
    std::time_t second = -1;
    std::string text;
  };
  thread_local Cached cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached.second) {
    cached.text = format_http_date(now);
    cached.second = now;
  }
  return cached.text;
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
  // curl_getdate needs a NUL-terminated string; dates are short, longer text is not one.
  constexpr std::size_t kLongestDate = 64;
  if (text.empty() || text.size() > kLongestDate) return std::nullopt;
  std::array<char, kLongestDate + 1> terminated{};
  std::copy(text.begin(), text.end(), terminated.begin());
  // Needs no curl_global_init: it only parses (and initializing libcurl costs RSS, see
  // docs/architecture.md).
  const std::time_t time = curl_getdate(terminated.data(), nullptr);
  if (time == -1) return std::nullopt;
  return time;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  const auto first = value.find_first_not_of(" \t");
  if (first == std::string_view::npos) return std::nullopt;
  value = value.substr(first, value.find_last_not_of(" \t") - first + 1);

  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // delay-seconds, saturated rather than overflowed: "99999999999999999999" is a long wait.
    std::int64_t seconds = 0;
    for (const char digit : value) {
      seconds = seconds * 10 + (digit - '0');
      if (seconds >= kMaxRetryAfter.count()) return kMaxRetryAfter;
    }
    return std::chrono::seconds(seconds);
  }
  const auto date = parse_http_date(value);
  if (!date) return std::nullopt;
  // In whole seconds, rounded up (a client that comes back at the second named is not early), and
  // as plain integers: system_clock counts nanoseconds, which end in 2262, and dates go further.
  const std::int64_t now_seconds = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::int64_t wait = static_cast<std::int64_t>(*date) - now_seconds;
  return std::chrono::seconds(std::clamp<std::int64_t>(wait, 0, kMaxRetryAfter.count()));
}

}  // namespace eg::net
