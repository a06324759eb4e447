#pragma once
// The bounded queue of asynchronous deliveries (custom events and system events to their
// subscribers), one per event-loop thread. At most `workers` deliveries run at once on a thread; the
// gateway as a whole holds at most `Capacity::limit()` deliveries accepted and not yet finished
// (running or waiting), whichever thread accepted them. An event is accepted only when every one of
// its deliveries fits, so a caller that hears "accepted" knows every subscriber will be called:
// nothing accepted is ever dropped.
//
// A DeliveryQueue is single-threaded: use it only from its io_context's thread. The Capacity is
// shared by the queues of every thread.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "events/event.h"
#include "providers/provider.h"

namespace eg::delivery {

struct Delivery {
  std::shared_ptr<const providers::CompiledFunction> function;  // as it was when the event was accepted
  std::shared_ptr<const events::Event> event;  // shared by every subscriber of one event
  std::shared_ptr<const std::string> payload;  // the event serialized once
};

// The gateway-wide count of deliveries accepted and not finished: one atomic counter, so the limit
// holds across threads without a lock.
class Capacity {
 public:
  explicit Capacity(std::size_t limit) : limit_(limit) {}
  Capacity(const Capacity&) = delete;
  Capacity& operator=(const Capacity&) = delete;

  // All or nothing: takes `count` places, or none when they do not all fit.
  bool try_take(std::size_t count);
  void give_back(std::size_t count) { taken_.fetch_sub(count, std::memory_order_relaxed); }
  std::size_t limit() const { return limit_; }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> taken_{0};
};

class DeliveryQueue {
 public:
  using Deliver = std::function<boost::asio::awaitable<void>(Delivery)>;

  DeliveryQueue(boost::asio::io_context& io, unsigned workers, Capacity& capacity, Deliver deliver);

  // All or nothing: returns false, queuing none, when the capacity cannot take every delivery.
  bool try_enqueue(std::vector<Delivery>&& deliveries);
  // Completes once nothing is queued or running on this queue.
  boost::asio::awaitable<void> drained();

  std::size_t queued() const { return waiting_.size(); }
  unsigned running() const { return running_; }

 private:
  void start_next();
  boost::asio::awaitable<void> run(Delivery delivery);

  boost::asio::io_context& io_;
  unsigned workers_;
  Capacity& capacity_;
  Deliver deliver_;
  std::deque<Delivery> waiting_;
  unsigned running_ = 0;
  boost::asio::steady_timer idle_signal_;  // cancelled whenever the queue becomes idle
};

}  // namespace eg::delivery
