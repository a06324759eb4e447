#pragma once
// An immutable value that one thread publishes now and then and many threads read on every request:
// a reader pays one atomic load per read, and takes the lock only after a publication.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace eg::common {

template <typename T>
class Published {
 public:
  explicit Published(std::shared_ptr<const T> initial = std::make_shared<const T>())
      : current_(std::move(initial)) {}

  void publish(std::shared_ptr<const T> value) {
    std::lock_guard lock(mutex_);
    current_ = std::move(value);
    generation_.fetch_add(1, std::memory_order_release);
  }
  std::shared_ptr<const T> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

  // One per reading thread.
  class Reader {
   public:
    explicit Reader(const Published& published) : published_(published) {}
    // The value as of now; valid until the next call on this reader.
    const T& current() {
      const auto generation = published_.generation_.load(std::memory_order_acquire);
      if (generation != seen_generation_ || !cached_) {
        std::lock_guard lock(published_.mutex_);
        cached_ = published_.current_;
        seen_generation_ = published_.generation_.load(std::memory_order_relaxed);
      }
      return *cached_;
    }
    // The same, kept alive by the caller across a wait.
    std::shared_ptr<const T> pin() {
      current();
      return cached_;
    }

   private:
    const Published& published_;
    std::uint64_t seen_generation_ = 0;
    std::shared_ptr<const T> cached_;
  };

 private:
  std::atomic<std::uint64_t> generation_{1};
  mutable std::mutex mutex_;
  std::shared_ptr<const T> current_;
};

}  // namespace eg::common
