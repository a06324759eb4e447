#include "routing/path_tree.h"

#include <algorithm>
#include <cstdio>

namespace eg::routing {
namespace {

constexpr std::size_t kMaxPathLength = 1024;

// ASCII only: std::isalnum would depend on the locale.
bool is_ascii_alphanumeric(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_valid_parameter_name(std::string_view name) {
  return !name.empty() &&
         std::all_of(name.begin(), name.end(), [](char c) { return is_ascii_alphanumeric(c) || c == '_'; });
}

// RFC 3986 pchar (unreserved, sub-delims, ':' and '@') without percent-encoding: request paths are
// matched after decoding, so an encoded segment could never match.
bool is_static_segment_char(char c) {
  constexpr std::string_view kAllowedPunctuation = "-._~!$&'()*+,;=:@";
  return is_ascii_alphanumeric(c) || kAllowedPunctuation.find(c) != std::string_view::npos;
}

// Control characters and non-ASCII bytes are shown as hex, so the message stays readable.
std::string describe_character(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte > 0x20 && byte < 0x7f) return "\"" + std::string(1, c) + "\"";
  char hex[5];
  std::snprintf(hex, sizeof hex, "0x%02X", byte);
  return hex;
}

std::optional<std::string> validate_named_segment(std::string_view segment, std::string_view kind) {
  if (is_valid_parameter_name(segment.substr(1))) return std::nullopt;
  return std::string(kind) + " \"" + std::string(segment) +
         "\" must have a name made of letters, digits and \"_\"";
}

std::optional<std::string> validate_segment(std::string_view segment, bool is_last) {
  if (segment.empty()) return "path must not contain an empty segment (\"//\")";
  if (segment.front() == ':') return validate_named_segment(segment, "parameter");
  if (segment.front() == '*') {
    if (!is_last) {
      return "wildcard parameter \"" + std::string(segment) + "\" must be the last segment of the path";
    }
    return validate_named_segment(segment, "wildcard parameter");
  }
  const auto invalid = std::find_if_not(segment.begin(), segment.end(), is_static_segment_char);
  if (invalid == segment.end()) return std::nullopt;
  return "path contains a character that is not allowed: " + describe_character(*invalid);
}

}  // namespace

namespace {

// A function gets parameters as an object, so two with one name would lose a value.
std::optional<std::string> check_unique_parameter(std::string_view segment, std::vector<std::string_view>& names) {
  if (segment.empty() || (segment.front() != ':' && segment.front() != '*')) return std::nullopt;
  const auto name = segment.substr(1);
  if (std::find(names.begin(), names.end(), name) != names.end()) {
    return "parameter name \"" + std::string(name) + "\" is used twice in the path";
  }
  names.push_back(name);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> validate_subscription_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return "path must start with \"/\"";
  if (path.size() > kMaxPathLength) {
    return "path must be at most " + std::to_string(kMaxPathLength) + " characters long";
  }
  if (path == "/") return std::nullopt;
  std::string_view segments = path.substr(1);
  // A single trailing slash is allowed; "//" then leaves "", which is one empty segment.
  if (segments.back() == '/') segments.remove_suffix(1);
  std::size_t start = 0;
  std::vector<std::string_view> parameter_names;
  while (true) {
    const std::size_t end = segments.find('/', start);
    const bool is_last = end == std::string_view::npos;
    const auto segment = segments.substr(start, end - start);
    if (auto error = validate_segment(segment, is_last)) return error;
    if (auto error = check_unique_parameter(segment, parameter_names)) return error;
    if (is_last) return std::nullopt;
    start = end + 1;
  }
}

std::string normalize_subscription_path(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

}  // namespace eg::routing
