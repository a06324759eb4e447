// The delivery scheduler: lanes per function take turns, each capped, so a hanging function delays
// only its own deliveries; deliveries not yet due wait for their time.
#include "delivery/scheduler.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <map>

namespace eg::delivery {
namespace {

namespace asio = boost::asio;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Scheduled to(const std::string& function, std::uint64_t event, std::int64_t due_ms = 0) {
  static std::map<std::string, std::shared_ptr<const DeliveryTarget>> targets;
  auto& target = targets[function];
  if (!target) target = std::make_shared<const DeliveryTarget>(DeliveryTarget{.space = "s", .function_id = function});
  return Scheduled{.key = {event, 0}, .target = target, .event_id = to_event_id("id"), .state = {.due_ms = due_ms}};
}

struct Recorder {
  asio::io_context io;
  std::map<std::string, int> started;
  std::map<std::string, int> finished;
  std::vector<std::string> order;
  std::map<std::uint64_t, std::int64_t> started_at_ms;
  asio::steady_timer hang{io, asio::steady_timer::time_point::max()};
  unsigned expected = 0;

  Scheduler::Attempt attempt() {
    return [this](Scheduled delivery) -> asio::awaitable<void> {
      const auto function = delivery.target->function_id;
      ++started[function];
      order.push_back(function);
      started_at_ms[delivery.key.event] = wall_ms();
      if (function == "hanging") {
        co_await hang.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      ++finished[function];
      if (function != "hanging" && --expected == 0) hang.cancel();
    };
  }
};

TEST(DeliveryScheduler, AHangingFunctionDelaysOnlyItsOwnDeliveries) {
  Recorder recorder;
  recorder.expected = 5;
  Scheduler scheduler(recorder.io, 4, 2, recorder.attempt());
  for (std::uint64_t i = 0; i < 10; ++i) scheduler.schedule(to("hanging", i));
  for (std::uint64_t i = 10; i < 15; ++i) scheduler.schedule(to("healthy", i));
  recorder.io.run_for(std::chrono::milliseconds(300));  // the hanging ones never end
  EXPECT_EQ(recorder.finished["healthy"], 5);
  // At most its cap of the hanging function's deliveries ran; the others stayed queued.
  EXPECT_EQ(recorder.started["hanging"], 2 + 2) << "2 at first, 2 more once the first two were released";
}

TEST(DeliveryScheduler, ALateFunctionTakesTheNextTurnRatherThanWaitingBehindABusyOne) {
  Recorder recorder;
  recorder.expected = 11;
  Scheduler scheduler(recorder.io, 1, 10, recorder.attempt());
  for (std::uint64_t i = 0; i < 10; ++i) scheduler.schedule(to("busy", i));
  scheduler.schedule(to("late", 10));
  recorder.io.run_for(std::chrono::seconds(5));
  ASSERT_EQ(recorder.order.size(), 11U);
  const auto late = std::find(recorder.order.begin(), recorder.order.end(), "late") - recorder.order.begin();
  EXPECT_LE(late, 2) << "its lane is second in line after the busy lane's current turn";
}

TEST(DeliveryScheduler, ADeliveryWaitsUntilItIsDue) {
  Recorder recorder;
  recorder.expected = 2;
  Scheduler scheduler(recorder.io, 4, 4, recorder.attempt());
  const auto due = wall_ms() + 150;
  scheduler.schedule(to("later", 1, due));
  scheduler.schedule(to("now", 2));
  EXPECT_EQ(scheduler.pending(), 2U);
  recorder.io.run_for(std::chrono::seconds(5));
  ASSERT_EQ(recorder.finished["later"], 1);
  EXPECT_GE(recorder.started_at_ms[1], due);
  EXPECT_LT(recorder.started_at_ms[2], due);
  EXPECT_EQ(scheduler.pending(), 0U);
}

TEST(DeliveryScheduler, StoppedStartsNothingAndIdleReportsWhatStillRuns) {
  Recorder recorder;
  Scheduler scheduler(recorder.io, 4, 4, recorder.attempt());
  scheduler.schedule(to("hanging", 1));
  bool idle = true;
  asio::co_spawn(
      recorder.io,
      [&]() -> asio::awaitable<void> {
        scheduler.stop();
        scheduler.schedule(to("healthy", 2));
        idle = co_await scheduler.idle(std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
      },
      asio::detached);
  recorder.io.run_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(idle);
  EXPECT_EQ(recorder.started["hanging"], 1);
  EXPECT_EQ(recorder.started["healthy"], 0);
}

}  // namespace
}  // namespace eg::delivery
