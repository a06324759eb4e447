#include "app/logging.h"

#include <fmt/chrono.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <chrono>
#include <iterator>
#include <type_traits>

#include "common/log_fields.h"
#include "common/utf8.h"

namespace eg::app {
namespace {

std::string_view level_name(spdlog::level::level_enum level) {
  const auto name = spdlog::level::to_string_view(level);
  return {name.data(), name.size()};
}

boost::json::value json_of(const common::LogField& field) {
  return std::visit(
      [](const auto& value) {
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::monostate>) {
          return boost::json::value(nullptr);
        } else {
          return boost::json::value(value);
        }
      },
      field.value);
}

// {"time":"2026-11-26T18:03:15.123Z","level":"info","msg":"...", then the line's fields}; every
// string is JSON-escaped.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& destination) override {
    const auto since_epoch = message.time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    const std::time_t time = seconds.count();
    std::tm utc{};
    gmtime_r(&time, &utc);
    boost::json::object line{
        {"time", fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", utc, millis)},
        {"level", level_name(message.level)},
        {"msg", std::string_view(message.payload.data(), message.payload.size())},
    };
    for (const auto& field : common::fields_being_logged()) {
      if (common::has_value(field)) line[field.name] = json_of(field);
    }
    auto text = boost::json::serialize(line);
    common::make_valid_utf8(text);  // a message may quote a request's bytes
    destination.append(text.data(), text.data() + text.size());
    destination.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// A text value as logfmt writes it: bare when it is one word, else quoted with its quotes,
// backslashes and line breaks escaped, so that no value starts a line of its own.
void append_text_value(spdlog::memory_buf_t& destination, std::string_view value) {
  const bool bare = !value.empty() && value.find_first_of(" \t\r\n\"=\\") == std::string_view::npos;
  if (bare) {
    destination.append(value.data(), value.data() + value.size());
    return;
  }
  destination.push_back('"');
  for (const char c : value) {
    if (c == '"' || c == '\\' || c == '\n' || c == '\r') destination.push_back('\\');
    destination.push_back(c == '\n' ? 'n' : c == '\r' ? 'r' : c);
  }
  destination.push_back('"');
}

// The text log's %*: the line's fields, " name=value" each.
class TextFields : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& destination) override {
    for (const auto& field : common::fields_being_logged()) {
      if (!common::has_value(field)) continue;
      destination.push_back(' ');
      destination.append(field.name.data(), field.name.data() + field.name.size());
      destination.push_back('=');
      if (const auto* text = std::get_if<std::string_view>(&field.value)) {
        append_text_value(destination, *text);
      } else if (const auto* integer = std::get_if<std::int64_t>(&field.value)) {
        fmt::format_to(std::back_inserter(destination), "{}", *integer);
      } else {
        fmt::format_to(std::back_inserter(destination), "{:.3f}", std::get<double>(field.value));
      }
    }
  }

  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<TextFields>(); }
};

}  // namespace

void configure_logging(const std::string& level, LogFormat format) {
  auto logger = std::make_shared<spdlog::logger>("event-gateway", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == LogFormat::Json) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    // Local time with its offset from UTC (+01:00), so that a line says when it was written anywhere.
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<TextFields>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %v%*");
    logger->set_formatter(std::move(formatter));
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace eg::app
