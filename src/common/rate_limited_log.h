#pragma once
// A warning that abuse could make fire for every request (refused connections, a full delivery
// backlog, request loops) is logged at most once per interval: the first occurrence at once, then at
// most one line per interval that says how many occurred since the line before. A flood of refused
// work thus costs the log one line per interval, not one per request, and still says how much was
// refused.
//
// Thread-safe: the event-loop threads share one RateLimitedWarning per kind of refusal. Counting an
// occurrence is one relaxed atomic increment, plus a clock read; only the occurrence that logs does
// more.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace eg::common {

class RateLimitedWarning {
 public:
  // Warnings are about refused work; errors about what should never happen (a bug or a broken
  // invariant that something caught before it did harm), which abuse could still make frequent.
  enum class Level { Warning, Error };

  // `what` names the refusal ("delivery backlog full: event refused"); `interval` is the shortest
  // time between two lines.
  explicit RateLimitedWarning(std::string what, std::chrono::milliseconds interval = std::chrono::seconds(10),
                              Level level = Level::Warning);
  RateLimitedWarning(const RateLimitedWarning&) = delete;
  RateLimitedWarning& operator=(const RateLimitedWarning&) = delete;

  // Counts one occurrence. When the interval since the last line has passed, logs a line with
  // `detail` (this occurrence's particulars) and the number of occurrences since the last line.
  // Occurrences after the last line are logged with the next one after the interval.
  void note(std::string_view detail = {});
  // Occurrences counted since the start.
  std::uint64_t total() const { return total_.load(std::memory_order_relaxed); }

 private:
  const std::string what_;
  const std::chrono::steady_clock::duration interval_;
  const Level level_;
  std::atomic<std::uint64_t> total_{0};
  std::atomic<std::uint64_t> logged_{0};  // total_ as of the last line
  std::atomic<std::chrono::steady_clock::rep> next_line_at_{0};
};

}  // namespace eg::common
