#pragma once
// The gateway-wide count of asynchronous deliveries accepted and not finished (waiting, running or
// waiting to be retried), whichever thread accepted them: one atomic counter, so the limit
// (-workers-backlog) holds across threads without a lock. It bounds the scheduler's index in
// memory, as -spool-max-bytes bounds the spool on disk.

#include <atomic>
#include <cstddef>

namespace eg::delivery {

class Capacity {
 public:
  explicit Capacity(std::size_t limit) : limit_(limit) {}
  Capacity(const Capacity&) = delete;
  Capacity& operator=(const Capacity&) = delete;

  // All or nothing: takes `count` places, or none when they do not all fit.
  bool try_take(std::size_t count) {
    std::size_t taken = taken_.load(std::memory_order_relaxed);
    do {
      if (count > limit_ || taken > limit_ - count) return false;
    } while (!taken_.compare_exchange_weak(taken, taken + count, std::memory_order_relaxed));
    return true;
  }
  // Takes `count` places even beyond the limit: for deliveries accepted before a restart.
  void take(std::size_t count) { taken_.fetch_add(count, std::memory_order_relaxed); }
  void give_back(std::size_t count) { taken_.fetch_sub(count, std::memory_order_relaxed); }
  std::size_t limit() const { return limit_; }
  std::size_t taken() const { return taken_.load(std::memory_order_relaxed); }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> taken_{0};
};

}  // namespace eg::delivery
