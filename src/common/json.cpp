#include "common/json.h"

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

}  // namespace eg::common
