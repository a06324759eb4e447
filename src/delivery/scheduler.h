#pragma once
// Decides which pending delivery is attempted next, on one event-loop thread (docs/delivery.md,
// "Fair to every function"). Deliveries wait in one lane per function; lanes with work take turns
// (round robin), at most `per_function` attempts run at once per function and at most `workers` in
// all. So a hanging or slow function holds up only its own deliveries. A delivery that is not due
// yet (a retry) waits on a timer, then joins its lane.
//
// The scheduler keeps a small index entry per pending delivery; the payload stays in the spool
// unless the caller keeps it at hand (Scheduled::payload). Single-threaded: use it only from its
// io_context's thread.

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "delivery/spool.h"
#include "delivery/target.h"

namespace eg::delivery {

struct Scheduled {
  DeliveryKey key;
  std::shared_ptr<const DeliveryTarget> target;
  EventId event_id;
  AttemptState state;
  std::shared_ptr<const std::string> payload;  // null: claimed from the spool for the attempt
  // When this gateway accepted it (the metrics' processing time); unset for deliveries resumed after
  // a restart.
  std::chrono::steady_clock::time_point accepted_at{};
};

class Scheduler {
 public:
  // Makes one attempt of a delivery, and hands it back with schedule() when it is to be retried.
  using Attempt = std::function<boost::asio::awaitable<void>(Scheduled)>;

  Scheduler(boost::asio::io_context& io, unsigned workers, unsigned per_function, Attempt attempt);

  // Attempts `delivery` once it is due (state.due_ms) and its function's lane has its turn.
  void schedule(Scheduled delivery);
  // No attempt starts from now on; deliveries not started stay where they are (in the spool).
  void stop();
  // Completes once no attempt is running, or at `deadline`: whether none is running.
  boost::asio::awaitable<bool> idle(std::chrono::steady_clock::time_point deadline);

  std::size_t pending() const { return pending_; }  // waiting or running
  unsigned running() const { return running_; }

 private:
  struct Lane {
    std::deque<Scheduled> ready;
    unsigned running = 0;
    bool in_turn = false;  // in turns_
  };
  struct Timed {
    std::int64_t due_ms;
    std::uint64_t order;  // ties keep the order scheduled
    Scheduled delivery;
    bool operator>(const Timed& other) const {
      return due_ms != other.due_ms ? due_ms > other.due_ms : order > other.order;
    }
  };

  void make_ready(Scheduled delivery);
  void take_turn(Lane& lane);
  void start_attempts();
  boost::asio::awaitable<void> run(std::string lane_key, Scheduled delivery);
  void finished(const std::string& lane_key);
  void arm_timer();
  void release_due();

  boost::asio::io_context& io_;
  const unsigned workers_;
  const unsigned per_function_;
  Attempt attempt_;
  std::unordered_map<std::string, Lane>
      lanes_;  // by "<space>\n<functionId>"; node-based: pointers stay valid
  std::deque<std::pair<const std::string*, Lane*>> turns_;  // lanes with ready work below their cap
  std::priority_queue<Timed, std::vector<Timed>, std::greater<>> later_;
  std::uint64_t order_ = 0;
  boost::asio::steady_timer timer_;        // for the earliest of later_
  std::int64_t timer_due_ms_ = 0;          // 0: not armed
  boost::asio::steady_timer idle_signal_;  // cancelled whenever the last running attempt finishes
  std::size_t pending_ = 0;
  unsigned running_ = 0;
  bool stopped_ = false;
};

}  // namespace eg::delivery
