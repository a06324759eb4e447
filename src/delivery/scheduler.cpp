#include "delivery/scheduler.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace eg::delivery {
namespace asio = boost::asio;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string lane_key(const DeliveryTarget& target) { return target.space + '\n' + target.function_id; }

}  // namespace

Scheduler::Scheduler(asio::io_context& io, unsigned workers, unsigned per_function, Attempt attempt)
    : io_(io),
      workers_(workers),
      per_function_(per_function),
      attempt_(std::move(attempt)),
      timer_(io),
      idle_signal_(io) {}

void Scheduler::schedule(Scheduled delivery) {
  ++pending_;
  if (delivery.state.due_ms > now_ms()) {
    const auto due = delivery.state.due_ms;
    later_.push(Timed{due, order_++, std::move(delivery)});
    arm_timer();
    return;
  }
  make_ready(std::move(delivery));
  start_attempts();
}

void Scheduler::make_ready(Scheduled delivery) {
  auto [position, created] = lanes_.try_emplace(lane_key(*delivery.target));
  auto& lane = position->second;
  lane.ready.push_back(std::move(delivery));
  if (!lane.in_turn && lane.running < per_function_) {
    lane.in_turn = true;
    turns_.emplace_back(&position->first, &lane);
  }
}

// Lanes take turns: each start moves the lane to the back of the line, so a function with a
// thousand deliveries waiting and one with a single delivery each get the next free worker in turn.
void Scheduler::start_attempts() {
  while (!stopped_ && running_ < workers_ && !turns_.empty()) {
    auto [key, lane] = turns_.front();
    turns_.pop_front();
    lane->in_turn = false;
    auto delivery = std::move(lane->ready.front());
    lane->ready.pop_front();
    ++lane->running;
    ++running_;
    if (!lane->ready.empty() && lane->running < per_function_) {
      lane->in_turn = true;
      turns_.emplace_back(key, lane);
    }
    asio::co_spawn(io_, run(*key, std::move(delivery)), [](std::exception_ptr error) {
      // run() catches what an attempt throws; this is only for what it cannot (allocation failure).
      if (error) spdlog::error("delivery scheduler: an attempt ended abnormally");
    });
  }
}

asio::awaitable<void> Scheduler::run(std::string key, Scheduled delivery) {
  const auto event_id = delivery.event_id;
  try {
    co_await attempt_(std::move(delivery));
  } catch (const std::exception& error) {
    // The delivery stays in the spool and is attempted again after a restart.
    spdlog::error("delivery of event {} failed unexpectedly: {}", view(event_id), error.what());
  }
  finished(key);
}

void Scheduler::finished(const std::string& key) {
  --running_;
  --pending_;
  auto found = lanes_.find(key);
  auto& lane = found->second;
  --lane.running;
  if (!lane.ready.empty() && !lane.in_turn) {
    lane.in_turn = true;
    turns_.emplace_back(&found->first, &lane);
  } else if (lane.ready.empty() && lane.running == 0) {
    lanes_.erase(found);  // not in turns_: it has nothing ready
  }
  if (running_ == 0) idle_signal_.cancel();
  start_attempts();
}

void Scheduler::arm_timer() {
  if (stopped_ || later_.empty()) return;
  const auto due = later_.top().due_ms;
  if (timer_due_ms_ != 0 && timer_due_ms_ <= due) return;
  timer_due_ms_ = due;
  timer_.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(0, due - now_ms())));
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (error == asio::error::operation_aborted) return;  // re-armed for an earlier delivery, or stopped
    timer_due_ms_ = 0;
    release_due();
    arm_timer();
  });
}

void Scheduler::release_due() {
  const auto now = now_ms();
  while (!later_.empty() && later_.top().due_ms <= now) {
    // priority_queue::top is const: the entry is moved out just before it is popped.
    auto delivery = std::move(const_cast<Timed&>(later_.top()).delivery);
    later_.pop();
    make_ready(std::move(delivery));
  }
  start_attempts();
}

void Scheduler::stop() {
  stopped_ = true;
  timer_.cancel();
}

asio::awaitable<bool> Scheduler::idle(std::chrono::steady_clock::time_point deadline) {
  while (running_ > 0 && std::chrono::steady_clock::now() < deadline) {
    idle_signal_.expires_at(deadline);
    co_await idle_signal_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return running_ == 0;
}

}  // namespace eg::delivery
