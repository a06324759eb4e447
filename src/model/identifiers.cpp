#include "model/identifiers.h"

#include <algorithm>
#include <array>

namespace eg::model {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// Go's shouldEscape(c, encodePathSegment): unreserved characters and "$&+:=@" stay as they are.
bool kept_by_path_escape(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '_': case '.': case '~':
    case '$': case '&': case '+': case ':': case '=': case '@':
      return true;
    default:
      return false;
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool is_valid_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength && std::all_of(name.begin(), name.end(), is_name_char);
}

std::string path_escape(std::string_view text) {
  static constexpr std::array<char, 16> kHex{'0', '1', '2', '3', '4', '5', '6', '7',
                                             '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};
  std::string escaped;
  escaped.reserve(text.size() + 8);
  for (char c : text) {
    if (kept_by_path_escape(c)) {
      escaped.push_back(c);
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    escaped.push_back('%');
    escaped.push_back(kHex[byte >> 4]);
    escaped.push_back(kHex[byte & 0x0f]);
  }
  return escaped;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    decoded.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return decoded;
}

std::string custom_subscription_id(std::string_view event, std::string_view function_id, std::string_view path) {
  std::string id;
  id.append(event).append(",").append(function_id).append(",").append(path_escape(path));
  return id;
}

std::string http_subscription_id(std::string_view method, std::string_view path) {
  return custom_subscription_id("http", method, path);
}

std::optional<std::string> canonical_subscription_id(std::string_view id_from_url) {
  // The first two fields are names (no '%' or ','), so only the path part varies between client
  // encodings. Decode the whole id until it holds a literal path, then escape that path once.
  std::string id(id_from_url);
  for (int round = 0; round < 3 && id.find('/') == std::string::npos; ++round) {
    auto decoded = percent_decode(id);
    if (!decoded || *decoded == id) break;
    id = std::move(*decoded);
  }
  const auto first_comma = id.find(',');
  if (first_comma == std::string::npos) return std::nullopt;
  const auto second_comma = id.find(',', first_comma + 1);
  if (second_comma == std::string::npos) return std::nullopt;
  const std::string_view path = std::string_view(id).substr(second_comma + 1);
  if (path.empty() || path.front() != '/') return std::nullopt;
  const std::string_view head = std::string_view(id).substr(0, second_comma + 1);
  return std::string(head) + path_escape(path);
}

}  // namespace eg::model
