#include "common/log_fields.h"

namespace eg::common {
namespace {

thread_local std::span<const LogField> current_fields;

}  // namespace

std::span<const LogField> fields_being_logged() { return current_fields; }

namespace detail {

void log_line(spdlog::level::level_enum level, LogFields fields, std::string_view message) {
  current_fields = std::span<const LogField>(fields.begin(), fields.size());
  spdlog::log(level, "{}", message);
  current_fields = {};
}

}  // namespace detail
}  // namespace eg::common
