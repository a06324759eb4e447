#pragma once
// Log lines with fields, so that a log pipeline can search them (docs/logging.md): the JSON log
// writes each field as a member of the line's object, the text log as name=value after the message.
//
//   common::log_with_fields(spdlog::level::warn, {{"space", space}, {"status", 502}}, "call failed: {}", why);
//
// The fields ride beside spdlog's message rather than inside it: while log_with_fields() runs, this
// thread's fields are published for the formatters of app/logging.cpp, which read them when spdlog
// formats the line. That holds because the gateway's logger is synchronous: spdlog formats a line on
// the thread that logs it, inside the call.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <variant>

namespace eg::common {

// A field's value; a field without one (std::monostate) or with empty text is left out of the line.
using LogValue = std::variant<std::monostate, std::string_view, std::int64_t, double>;

struct LogField {
  std::string_view name;  // camelCase, as in the JSON the APIs speak: space, functionId, durationMs...
  LogValue value;
};
using LogFields = std::initializer_list<LogField>;

// A number that means "none" when it is zero (a status that was never received): no value then.
inline LogValue unless_zero(std::int64_t number) { return number == 0 ? LogValue{} : LogValue{number}; }

// Whether `field` is written at all.
inline bool has_value(const LogField& field) {
  if (std::holds_alternative<std::monostate>(field.value)) return false;
  const auto* text = std::get_if<std::string_view>(&field.value);
  return text == nullptr || !text->empty();
}

// The fields of the line this thread is logging; empty outside log_with_fields().
std::span<const LogField> fields_being_logged();

namespace detail {
void log_line(spdlog::level::level_enum level, LogFields fields, std::string_view message);
}

template <typename... Args>
void log_with_fields(spdlog::level::level_enum level, LogFields fields, fmt::format_string<Args...> format,
                     Args&&... args) {
  if (!spdlog::should_log(level)) return;
  detail::log_line(level, fields, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace eg::common
