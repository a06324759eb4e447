#include "observe/traffic_tap.h"

#include <algorithm>
#include <utility>

namespace eg::observe {

bool Watcher::push(std::string line) {
  const std::lock_guard lock(mutex_);
  if (lines_.size() >= limits_.queue_lines || bytes_ + line.size() > limits_.queue_bytes) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  bytes_ += line.size();
  lines_.push_back(std::move(line));
  return true;
}

std::string Watcher::take() {
  std::deque<std::string> taken;
  std::size_t bytes = 0;
  {
    const std::lock_guard lock(mutex_);
    taken.swap(lines_);
    bytes = std::exchange(bytes_, 0);
  }
  std::string text;
  text.reserve(bytes);
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

std::string TrafficTap::start_line(std::string_view kind) {
  std::string line;
  line.reserve(320);  // what a line of the Events API's usually needs
  line.append("event: ").append(kind).append("\ndata: ");
  return line;
}

void TrafficTap::publish_line(std::string_view space, std::string line) {
  if (!watched()) return;
  line.append("\n\n");
  const std::lock_guard lock(mutex_);
  // A copy for each watcher of the space but the last, which takes the line itself.
  Watcher* last = nullptr;
  for (const auto& watcher : watchers_list_) {
    if (watcher->space() != space) continue;
    if (last != nullptr) last->push(line);
    last = watcher.get();
  }
  if (last != nullptr) last->push(std::move(line));
}

// Destroyed after main() returns, when the Events API threads have been joined.
TrafficTap detail::process_tap;

}  // namespace eg::observe
