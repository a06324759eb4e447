#pragma once
// A quantity (connections, bytes, pending deliveries) that the threads take from and give back to,
// never more than its limit in all. Thread-safe: taking and giving back is one atomic operation, so
// the limit holds across threads without a lock.

#include <atomic>
#include <cstddef>

namespace eg::common {

class SharedLimit {
 public:
  explicit SharedLimit(std::size_t limit) : limit_(limit) {}
  SharedLimit(const SharedLimit&) = delete;
  SharedLimit& operator=(const SharedLimit&) = delete;

  // All or nothing: takes `amount`, or nothing when it does not fit.
  bool try_take(std::size_t amount) {
    auto taken = taken_.load(std::memory_order_relaxed);
    do {
      if (amount > limit_ || taken > limit_ - amount) return false;
    } while (!taken_.compare_exchange_weak(taken, taken + amount, std::memory_order_relaxed));
    return true;
  }
  // Takes `amount` even beyond the limit: for what was accepted before (deliveries found in the
  // spool at start).
  void take(std::size_t amount) { taken_.fetch_add(amount, std::memory_order_relaxed); }
  void give_back(std::size_t amount) { taken_.fetch_sub(amount, std::memory_order_relaxed); }
  bool exhausted() const { return taken() >= limit_; }
  std::size_t taken() const { return taken_.load(std::memory_order_relaxed); }
  std::size_t limit() const { return limit_; }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> taken_{0};
};

}  // namespace eg::common
