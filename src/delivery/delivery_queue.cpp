#include "delivery/delivery_queue.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace eg::delivery {
namespace asio = boost::asio;

bool Capacity::try_take(std::size_t count) {
  std::size_t taken = taken_.load(std::memory_order_relaxed);
  do {
    if (count > limit_ - taken) return false;
  } while (!taken_.compare_exchange_weak(taken, taken + count, std::memory_order_relaxed));
  return true;
}

DeliveryQueue::DeliveryQueue(asio::io_context& io, unsigned workers, Capacity& capacity, Deliver deliver)
    : io_(io), workers_(workers), capacity_(capacity), deliver_(std::move(deliver)), idle_signal_(io) {}

bool DeliveryQueue::try_enqueue(std::vector<Delivery>&& deliveries) {
  if (!capacity_.try_take(deliveries.size())) return false;
  for (auto& delivery : deliveries) waiting_.push_back(std::move(delivery));
  while (running_ < workers_ && !waiting_.empty()) start_next();
  return true;
}

void DeliveryQueue::start_next() {
  auto delivery = std::move(waiting_.front());
  waiting_.pop_front();
  ++running_;
  asio::co_spawn(io_, run(std::move(delivery)), asio::detached);
}

asio::awaitable<void> DeliveryQueue::run(Delivery delivery) {
  try {
    co_await deliver_(std::move(delivery));
  } catch (const std::exception& error) {
    spdlog::error("delivery failed unexpectedly: {}", error.what());
  }
  --running_;
  capacity_.give_back(1);
  if (!waiting_.empty()) {
    start_next();
  } else if (running_ == 0) {
    idle_signal_.cancel();
  }
}

asio::awaitable<void> DeliveryQueue::drained() {
  while (running_ > 0 || !waiting_.empty()) {
    idle_signal_.expires_at(asio::steady_timer::time_point::max());
    co_await idle_signal_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace eg::delivery
