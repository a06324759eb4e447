// CORS origin matching (src/events/cors.h). The input's first line is the Origin a browser sent (as
// the server parses it: a valid field value, no surrounding spaces), the others are the
// subscription's configured origins ('*' stands for any run of characters). Invariants:
//   - origin_allowed agrees with a plain recursive matcher, case-insensitively for ASCII;
//   - an origin equal to one configured, or any origin with "*" configured, is allowed;
//   - the CORS headers added to a response name the origin exactly when it is allowed ("*" when
//     "*" is the only origin configured and credentials are not allowed).

#include <string>
#include <vector>

#include "events/cors.h"
#include "fuzz_check.h"
#include "net/header_rules.h"

namespace {

using eg::fuzz::check;
namespace http = eg::net::http;

constexpr std::size_t kMaxOrigins = 8;

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The plain matcher: exponential at worst, so the harness only asks it about short inputs.
bool plainly_matches(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) return text.empty();
  if (pattern.front() == '*') {
    for (std::size_t skipped = 0; skipped <= text.size(); ++skipped) {
      if (plainly_matches(pattern.substr(1), text.substr(skipped))) return true;
    }
    return false;
  }
  return !text.empty() && ascii_lower(pattern.front()) == ascii_lower(text.front()) &&
         plainly_matches(pattern.substr(1), text.substr(1));
}

bool is_short_enough_for_the_plain_matcher(std::string_view pattern, std::string_view origin) {
  std::size_t stars = 0;
  for (const char c : pattern) stars += c == '*' ? 1 : 0;
  return stars <= 3 && origin.size() <= 64;
}

void check_headers(const eg::model::Cors& cors, std::string_view origin, bool allowed) {
  auto response = eg::net::empty_response(http::status::no_content);
  eg::events::add_cors_headers(response, cors, origin);
  const auto named = response[http::field::access_control_allow_origin];
  if (!allowed || origin.empty()) {
    check(named.empty(), "no CORS headers for an origin that is not allowed", std::string(origin));
    return;
  }
  const bool any_origin = cors.origins.size() == 1 && cors.origins.front() == "*" && !cors.allow_credentials;
  check(named == (any_origin ? std::string_view("*") : origin), "the CORS headers name the allowed origin",
        std::string(origin) + " -> " + std::string(named));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto lines = eg::fuzz::lines_of(eg::fuzz::as_text(data, size));
  if (lines.empty()) return 0;
  // An Origin header as the HTTP server hands it over: a valid value, without surrounding spaces.
  const auto origin = lines.front();
  if (!eg::net::is_field_value(origin) || origin.starts_with(' ') || origin.ends_with(' ') ||
      origin.starts_with('\t') || origin.ends_with('\t')) {
    return 0;
  }
  eg::model::Cors cors;
  cors.origins.assign(lines.begin() + 1,
                      lines.begin() + static_cast<std::ptrdiff_t>(std::min(lines.size(), kMaxOrigins + 1)));
  cors.allow_credentials = size % 2 == 1;  // decided by the input, so that both ways are explored

  bool plainly_allowed = false;
  for (const auto& pattern : cors.origins) {
    const eg::model::Cors one{.origins = {pattern}};
    const bool allowed = eg::events::origin_allowed(one, origin);
    if (pattern == origin || pattern == "*")
      check(allowed, "an origin configured as it is sent is allowed", pattern);
    if (is_short_enough_for_the_plain_matcher(pattern, origin)) {
      check(allowed == plainly_matches(pattern, origin), "origin matching agrees with the plain matcher",
            pattern + " vs " + std::string(origin));
    }
    plainly_allowed = plainly_allowed || allowed;
  }
  const bool allowed = eg::events::origin_allowed(cors, origin);
  check(allowed == plainly_allowed, "an origin is allowed when one of the configured origins allows it",
        std::string(origin));
  check_headers(cors, origin, allowed);
  return 0;
}
