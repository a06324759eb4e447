#pragma once
// Names users choose (spaces, function ids, event names) and the subscription ids derived from them.

#include <optional>
#include <string>
#include <string_view>

namespace eg::model {

// Spaces, function ids and event names: 1-128 characters of [A-Za-z0-9._-].
inline constexpr std::size_t kMaxNameLength = 128;
bool is_valid_name(std::string_view name);

// Go's url.PathEscape, which the original gateway used for subscription ids: escapes everything but
// unreserved characters and "$&+:=@" (so '/' becomes %2F, ',' becomes %2C).
std::string path_escape(std::string_view text);

// Percent-decoding; nothing when the input holds a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

// Subscription ids are deterministic (DESIGN.md):
//   custom and invoke events: "<event>,<functionId>,<escaped path>"   e.g. user.created,sendEmail,%2Fmyteam
//   http events:              "http,<METHOD>,<escaped path>"          e.g. http,GET,%2Fusers
std::string custom_subscription_id(std::string_view event, std::string_view function_id, std::string_view path);
std::string http_subscription_id(std::string_view method, std::string_view path);

// Turns the id as a client sent it in a URL (raw "%2F", decoded "/", or encoded again "%252F")
// into the canonical id, so every client form finds the subscription. Nothing when it cannot be one.
std::optional<std::string> canonical_subscription_id(std::string_view id_from_url);

}  // namespace eg::model
