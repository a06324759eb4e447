#include "observe/traffic_tap.h"

#include <algorithm>

namespace eg::observe {

bool Watcher::push(std::string_view line) {
  const std::lock_guard lock(mutex_);
  if (lines_.size() >= limits_.queue_lines || bytes_ + line.size() > limits_.queue_bytes) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  lines_.emplace_back(line);
  bytes_ += line.size();
  return true;
}

std::string Watcher::take() {
  std::deque<std::string> taken;
  {
    const std::lock_guard lock(mutex_);
    taken.swap(lines_);
    bytes_ = 0;
  }
  std::string text;
  for (const auto& line : taken) text.append(line);
  return text;
}

std::unique_ptr<TrafficTap::Watch> TrafficTap::watch(std::string space) {
  const std::lock_guard lock(mutex_);
  if (watchers_list_.size() >= limits_.watchers) return nullptr;
  auto watcher = std::make_shared<Watcher>(std::move(space), limits_);
  watchers_list_.push_back(watcher);
  watchers_.store(watchers_list_.size(), std::memory_order_relaxed);
  return std::make_unique<Watch>(*this, std::move(watcher));
}

void TrafficTap::unwatch(const Watcher& watcher) {
  const std::lock_guard lock(mutex_);
  std::erase_if(watchers_list_, [&](const auto& each) { return each.get() == &watcher; });
  watchers_.store(watchers_list_.size(), std::memory_order_relaxed);
}

bool TrafficTap::watching(std::string_view space) const {
  if (!watched()) return false;
  const std::lock_guard lock(mutex_);
  return std::any_of(watchers_list_.begin(), watchers_list_.end(),
                     [&](const auto& watcher) { return watcher->space() == space; });
}

void TrafficTap::publish(std::string_view space, std::string_view kind, std::string_view json) {
  if (!watched()) return;
  std::string line;
  line.reserve(kind.size() + json.size() + 16);
  line.append("event: ").append(kind).append("\ndata: ").append(json).append("\n\n");
  const std::lock_guard lock(mutex_);
  for (const auto& watcher : watchers_list_) {
    if (watcher->space() == space) watcher->push(line);
  }
}

// Destroyed after main() returns, when the Events API threads have been joined.
TrafficTap detail::process_tap;

}  // namespace eg::observe
