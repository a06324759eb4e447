#include "common/json.h"

#include <algorithm>
#include <cmath>

namespace eg::common {
namespace {

// Recursion is bounded by the parser's nesting limit (parse_options::max_depth, 32).
bool all_numbers_finite(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      return std::isfinite(value.get_double());
    case boost::json::kind::array:
      for (const auto& element : value.get_array()) {
        if (!all_numbers_finite(element)) return false;
      }
      return true;
    case boost::json::kind::object:
      for (const auto& member : value.get_object()) {
        if (!all_numbers_finite(member.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

}  // namespace

ParsedJson parse_json(std::string_view text, boost::json::storage_ptr storage) {
  boost::system::error_code error;
  auto value = boost::json::parse(text, error, std::move(storage));
  if (error) return {nullptr, "malformed JSON (" + error.message() + ")"};
  if (!all_numbers_finite(value)) {
    return {
        nullptr,
        "a number out of range (JSON numbers must be finite doubles, at most about 1.8e308 in magnitude)"};
  }
  return {std::move(value), {}};
}

void append_json_string(std::string& out, std::string_view text) {
  // Most strings (names, ids, spaces) need no escape: copied as they are. Boost.JSON escapes the
  // quote, the backslash and the control characters, and copies every other byte.
  const bool plain = std::none_of(text.begin(), text.end(), [](char c) {
    return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
  });
  if (plain) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  out += boost::json::serialize(boost::json::string_view(text.data(), text.size()));
}

}  // namespace eg::common
