#include "common/rate_limited_log.h"

#include <spdlog/spdlog.h>

namespace eg::common {

RateLimitedWarning::RateLimitedWarning(std::string what, std::chrono::milliseconds interval, Level level)
    : what_(std::move(what)), interval_(interval), level_(level) {}

void RateLimitedWarning::note(std::string_view detail) {
  const auto total = total_.fetch_add(1, std::memory_order_relaxed) + 1;
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  auto next_line_at = next_line_at_.load(std::memory_order_relaxed);
  if (now < next_line_at) return;
  // One thread wins the line; the others count and go on.
  if (!next_line_at_.compare_exchange_strong(next_line_at, now + interval_.count(), std::memory_order_relaxed)) {
    return;
  }
  const auto since_last_line = total - logged_.exchange(total, std::memory_order_relaxed);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(interval_).count();
  const auto level = level_ == Level::Error ? spdlog::level::err : spdlog::level::warn;
  if (since_last_line <= 1) {
    spdlog::log(level, "{}{}{}", what_, detail.empty() ? "" : ": ", detail);
  } else {
    spdlog::log(level, "{}{}{} ({} times since the last such line; logged at most once every {} s)", what_,
                detail.empty() ? "" : ": ", detail, since_last_line, seconds);
  }
}

}  // namespace eg::common
