#include "app/logging.h"

#include <fmt/chrono.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <chrono>

#include "common/utf8.h"

namespace eg::app {
namespace {

std::string_view level_name(spdlog::level::level_enum level) {
  const auto name = spdlog::level::to_string_view(level);
  return {name.data(), name.size()};
}

// {"time":"2026-11-26T18:03:15.123Z","level":"info","msg":"..."}; the message is JSON-escaped.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& destination) override {
    const auto since_epoch = message.time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    const std::time_t time = seconds.count();
    std::tm utc{};
    gmtime_r(&time, &utc);
    const boost::json::object line{
        {"time", fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", utc, millis)},
        {"level", level_name(message.level)},
        {"msg", std::string_view(message.payload.data(), message.payload.size())},
    };
    auto text = boost::json::serialize(line);
    common::make_valid_utf8(text);  // a message may quote a request's bytes
    destination.append(text.data(), text.data() + text.size());
    destination.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

void configure_logging(const std::string& level, LogFormat format) {
  auto logger = std::make_shared<spdlog::logger>("event-gateway", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == LogFormat::Json) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace eg::app
