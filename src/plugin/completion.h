#pragma once
// Awaiting a call whose completion runs on another thread (gRPC's): the coroutine resumes on its own
// executor, never on the thread that completed the call.

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace eg::plugin {

// Calls `start` with a callback that may run on any thread, once; resumes the awaiting coroutine
// with the callback's argument. The coroutine's executor counts as busy meanwhile, so that its
// io_context does not run out of work while the call is in flight.
//
// Pass a lambda that captures by reference only: GCC 12 destroys the by-value captures of a
// temporary in a co_await expression twice (a shared_ptr captured so freed its object while still
// in use).
template <typename Result, typename Start>
boost::asio::awaitable<Result> completion_of(Start start) {
  namespace asio = boost::asio;
  return asio::async_initiate<decltype(asio::use_awaitable), void(Result)>(
      [start = std::move(start)](auto handler) mutable {
        using Handler = decltype(handler);
        struct Pending {
          Handler handler;
          asio::executor_work_guard<asio::associated_executor_t<Handler>> work;
        };
        auto executor = asio::get_associated_executor(handler);
        auto pending =
            std::make_shared<Pending>(Pending{std::move(handler), asio::make_work_guard(executor)});
        start(std::function<void(Result)>([pending](Result result) {
          auto resume_on = pending->work.get_executor();
          asio::post(resume_on, [pending, result = std::move(result)]() mutable {
            auto handler = std::move(pending->handler);
            pending->work.reset();
            std::move(handler)(std::move(result));
          });
        }));
      },
      asio::use_awaitable);
}

// As completion_of, but resumes with `timed_out` once `timeout` has passed without a completion;
// a completion after that is ignored, and one that never comes is fine (its callback is then destroyed
// without being called). Both ways resume on the coroutine's executor, where `finished` is read and
// written, so the first of the two wins without a lock.
template <typename Result, typename Start>
boost::asio::awaitable<Result> completion_within(std::chrono::steady_clock::duration timeout,
                                                 const Result& timed_out, Start start) {
  namespace asio = boost::asio;
  return asio::async_initiate<decltype(asio::use_awaitable), void(Result)>(
      [timeout, timed_out, start = std::move(start)](auto handler) mutable {
        using Handler = decltype(handler);
        struct Race {
          Handler handler;
          asio::executor_work_guard<asio::associated_executor_t<Handler>> work;
          asio::steady_timer timer;
          bool finished = false;

          void resume(Result result) {
            finished = true;
            timer.cancel();
            auto resumed = std::move(handler);
            work.reset();
            std::move(resumed)(std::move(result));
          }
        };
        auto executor = asio::get_associated_executor(handler);
        auto race = std::make_shared<Race>(
            Race{std::move(handler), asio::make_work_guard(executor), asio::steady_timer(executor, timeout)});
        race->timer.async_wait(
            [race, timed_out = std::move(timed_out)](const boost::system::error_code& error) mutable {
              if (!error && !race->finished) race->resume(std::move(timed_out));
            });
        start(std::function<void(Result)>([race](Result result) {
          auto resume_on = race->work.get_executor();
          asio::post(resume_on, [race, result = std::move(result)]() mutable {
            if (!race->finished) race->resume(std::move(result));
          });
        }));
      },
      asio::use_awaitable);
}

}  // namespace eg::plugin
