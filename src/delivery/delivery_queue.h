#pragma once
// The bounded queue of asynchronous deliveries (custom events and system events to their
// subscribers). At most `workers` deliveries run at once; at most `backlog` wait. An event is
// accepted only when every one of its deliveries fits, so a caller that hears "accepted" knows
// every subscriber will be called: nothing accepted is ever dropped.
//
// Single-threaded: use it only from its io_context's thread.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "model/function.h"

namespace eg::delivery {

struct Delivery {
  model::Function function;
  std::shared_ptr<const boost::json::object> event;  // shared by every subscriber of one event
  std::shared_ptr<const std::string> payload;        // the event serialized once
  bool is_system_event = false;
};

class DeliveryQueue {
 public:
  using Deliver = std::function<boost::asio::awaitable<void>(Delivery)>;

  DeliveryQueue(boost::asio::io_context& io, unsigned workers, std::size_t backlog, Deliver deliver);

  // All or nothing: returns false, queuing none, when the backlog cannot take every delivery.
  bool try_enqueue(std::vector<Delivery>&& deliveries);
  // Completes once nothing is queued or running.
  boost::asio::awaitable<void> drained();

  std::size_t queued() const { return waiting_.size(); }
  unsigned running() const { return running_; }

 private:
  void start_next();
  boost::asio::awaitable<void> run(Delivery delivery);

  boost::asio::io_context& io_;
  unsigned workers_;
  std::size_t backlog_;
  Deliver deliver_;
  std::deque<Delivery> waiting_;
  unsigned running_ = 0;
  boost::asio::steady_timer idle_signal_;  // cancelled whenever the queue becomes idle
};

}  // namespace eg::delivery
