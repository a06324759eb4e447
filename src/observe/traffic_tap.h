#pragma once
// The console's live traffic (docs/console.md): the Events API threads publish what they receive and
// every call they make, as server-sent-event lines, to the browsers that watch the space.
//
// Free when nobody watches: watched() is one relaxed atomic load, and callers build no line unless it
// is true and watching(space) confirms it. Bounded when someone does: each watcher has a queue of at
// most `queue_lines` lines and `queue_bytes` bytes; a line that does not fit is dropped and counted,
// so a slow browser loses lines and never slows the gateway. At most `watchers` watch at once.
//
// Threading: every member function on any thread. A watcher's lock is taken by the publishing thread
// and by the one reading the watcher's queue, and only while someone watches.

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace eg::observe {

struct TapLimits {
  std::size_t watchers = 16;
  std::size_t queue_lines = 512;
  std::size_t queue_bytes = 1024 * 1024;
};

class TrafficTap;

// One browser's stream: the lines published for its space since it last took them.
class Watcher {
 public:
  Watcher(std::string space, const TapLimits& limits) : space_(std::move(space)), limits_(limits) {}

  const std::string& space() const { return space_; }
  // Every line queued, in order, concatenated; empty when none.
  std::string take();
  // Lines dropped because the queue was full, since the watcher began.
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  friend class TrafficTap;
  bool push(std::string line);  // false: dropped

  const std::string space_;
  const TapLimits limits_;
  std::mutex mutex_;
  std::deque<std::string> lines_;
  std::size_t bytes_ = 0;
  std::atomic<std::uint64_t> dropped_{0};
};

class TrafficTap {
 public:
  explicit TrafficTap(TapLimits limits = {}) : limits_(limits) {}

  // Unwatches when destroyed.
  class Watch {
   public:
    Watch(TrafficTap& tap, std::shared_ptr<Watcher> watcher) : tap_(tap), watcher_(std::move(watcher)) {}
    ~Watch() { tap_.unwatch(*watcher_); }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    Watcher& watcher() { return *watcher_; }

   private:
    TrafficTap& tap_;
    std::shared_ptr<Watcher> watcher_;
  };

  // A new watcher of `space`; none when `limits.watchers` watch already.
  std::unique_ptr<Watch> watch(std::string space);

  // Whether anyone watches any space: the one check on the Events API's paths while nobody does.
  bool watched() const { return watchers_.load(std::memory_order_relaxed) != 0; }
  // Whether anyone watches `space`.
  bool watching(std::string_view space) const;
  // Queues `event: <kind>` with `data: <json>` (one line of JSON) for every watcher of `space`, in
  // two steps that never copy the line: start_line(kind), the JSON appended to it, then
  // publish_line(), which ends it.
  static std::string start_line(std::string_view kind);
  void publish_line(std::string_view space, std::string line);

  const TapLimits& limits() const { return limits_; }
  std::size_t watcher_count() const { return watchers_.load(std::memory_order_relaxed); }

 private:
  void unwatch(const Watcher& watcher);

  const TapLimits limits_;
  std::atomic<std::size_t> watchers_{0};
  mutable std::mutex mutex_;  // watchers_list_
  std::vector<std::shared_ptr<Watcher>> watchers_list_;
};

namespace detail {
extern TrafficTap process_tap;
}
// The process's tap, which the Events API publishes to and the Configuration API's streams read. A
// plain global, so that watched() is one load, without the guard of a function's static.
inline TrafficTap& traffic_tap() { return detail::process_tap; }

}  // namespace eg::observe
