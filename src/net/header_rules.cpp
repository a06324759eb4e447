#include "net/header_rules.h"

#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>

namespace eg::net {
namespace {

constexpr std::string_view kTokenSymbols = "!#$%&'*+-.^_`|~";

// A table: every header the server writes is checked byte by byte (see http_server.h).
constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> token{};
  for (int c = 'a'; c <= 'z'; ++c) token[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) token[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) token[static_cast<std::size_t>(c)] = true;
  for (const char c : kTokenSymbols) token[static_cast<unsigned char>(c)] = true;
  return token;
}();

bool is_token_char(unsigned char c) { return kTokenChars[c]; }

bool is_forbidden_in_value(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

constexpr std::array<std::string_view, 9> kServerManagedFields{
    "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Proxy-Connection",
    "TE",             "Trailer",           "Upgrade",    "Date"};

}  // namespace

bool is_field_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return is_token_char(static_cast<unsigned char>(c));
  });
}

bool is_field_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return is_forbidden_in_value(static_cast<unsigned char>(c)); });
}

bool is_server_managed_field(std::string_view name) {
  // The server asks this of every field it writes; most names differ in length from all of these.
  return std::any_of(kServerManagedFields.begin(), kServerManagedFields.end(),
                     [name](std::string_view managed) {
                       return name.size() == managed.size() && boost::beast::iequals(name, managed);
                     });
}

std::string printable_for_log(std::string_view text) {
  constexpr std::size_t kShownBytes = 256;
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string shown;
  shown.reserve(std::min(text.size(), kShownBytes) + 16);
  for (const char c : text.substr(0, kShownBytes)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      shown.append("\\x").push_back(kHex[byte >> 4]);
      shown.push_back(kHex[byte & 0xf]);
    } else {
      shown.push_back(c);
    }
  }
  if (text.size() > kShownBytes) shown.append("...");
  return shown;
}

}  // namespace eg::net
