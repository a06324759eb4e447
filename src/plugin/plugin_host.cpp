#include "plugin/plugin_host.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <future>
#include <map>
#include <optional>
#include <thread>

#include "common/rate_limited_log.h"
#include "plugin/completion.h"
#include "plugin/handshake.h"
#include "plugin/plugin_process.h"
#include "plugin/reacter_module.h"

namespace eg::plugin {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Restarts back off from the first to the longest delay, doubling; a process that ran for the reset
// period before it exited starts again from the first.
constexpr milliseconds kFirstRestartDelay{100};
constexpr milliseconds kLongestRestartDelay{30'000};
constexpr std::chrono::seconds kBackoffResetAfter{60};
// How long a plugin whose stdout closed before its handshake may take to exit, for the start error
// to say how it ended.
constexpr milliseconds kExitAfterStdoutCloses{2'000};

std::string join_hooks(const std::array<Mode, kHookCount>& modes, Mode wanted) {
  std::string joined;
  for (std::size_t i = 0; i < kHookCount; ++i) {
    if (modes[i] != wanted) continue;
    if (!joined.empty()) joined += ", ";
    joined += kHookEventTypes[i];
  }
  return joined.empty() ? "none" : joined;
}

// What a plugin asked for, as the gateway can serve it: unknown event types are ignored and sync
// subscriptions to what cannot be vetoed are served async, each with a warning; of a sync and an
// async subscription to one event, sync wins.
std::array<Mode, kHookCount> modes_of(const std::string& name,
                                      const std::vector<Subscription>& subscriptions) {
  std::array<Mode, kHookCount> modes{};
  for (const auto& subscription : subscriptions) {
    const auto hook = hook_of(subscription.event_type);
    if (!hook) {
      spdlog::warn(
          "plugin {} subscribed to \"{}\", which is not a system event a plugin can react to: ignored", name,
          subscription.event_type);
      continue;
    }
    auto mode = subscription.sync ? Mode::Sync : Mode::Async;
    if (mode == Mode::Sync && !can_veto(*hook)) {
      spdlog::warn(
          "plugin {} subscribed sync to {}, which reports what happened and cannot be vetoed: served async",
          name, subscription.event_type);
      mode = Mode::Async;
    }
    auto& slot = modes[static_cast<std::size_t>(*hook)];
    slot = std::max(slot, mode);
  }
  if (std::all_of(modes.begin(), modes.end(), [](Mode mode) { return mode == Mode::None; })) {
    spdlog::warn("plugin {} subscribed to no system event: it is never called", name);
  }
  return modes;
}

std::chrono::system_clock::time_point system_deadline(Clock::time_point deadline) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline - Clock::now());
}

}  // namespace

std::vector<std::string> plugin_names(const std::vector<std::string>& paths) {
  std::vector<std::string> names;
  std::map<std::string, unsigned> seen;
  for (const auto& path : paths) {
    auto name = std::filesystem::path(path).filename().string();
    if (name.empty()) name = path;
    const auto count = ++seen[name];
    names.push_back(count == 1 ? name : name + "#" + std::to_string(count));
  }
  return names;
}

struct PluginHost::Runtime {
  struct Slot {
    std::string path;
    std::string name;
    std::unique_ptr<PluginCounters> counters = std::make_unique<PluginCounters>();
    std::unique_ptr<PluginProcess> process;
    std::vector<std::shared_ptr<ReacterClient>> clients;  // while the process is up, one per lane
    std::array<Mode, kHookCount> modes{};  // as of the last start: kept while down, so sync fails closed
    std::unique_ptr<asio::steady_timer> backoff;
  };

  PluginHost& host;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::vector<Slot> slots;
  bool stopping = false;
  std::thread thread;

  Runtime(PluginHost& owner, const std::vector<std::string>& paths) : host(owner) {
    const auto names = plugin_names(paths);
    for (std::size_t i = 0; i < paths.size(); ++i) {
      slots.push_back(
          Slot{.path = paths[i], .name = names[i], .backoff = std::make_unique<asio::steady_timer>(io)});
    }
  }
  ~Runtime() {
    if (thread.joinable()) {
      work.reset();
      io.stop();
      thread.join();
    }
  }

  void publish() {
    auto table = std::make_shared<PluginTable>();
    for (const auto& slot : slots) {
      table->plugins.push_back(PluginEntry{
          .name = slot.name, .clients = slot.clients, .modes = slot.modes, .counters = slot.counters.get()});
      for (std::size_t i = 0; i < kHookCount; ++i) {
        table->any_sync[i] = table->any_sync[i] || slot.modes[i] == Mode::Sync;
        table->any_async[i] = table->any_async[i] || slot.modes[i] == Mode::Async;
      }
    }
    host.table_.publish(std::move(table));
  }

  // Starts the slot's process and waits for its handshake and its subscriptions; nothing when it is
  // up, else why not.
  asio::awaitable<std::optional<std::string>> start_once(Slot& slot) {
    try {
      slot.process = std::make_unique<PluginProcess>(io, slot.path, slot.name);
    } catch (const std::exception& error) {
      co_return error.what();
    }
    auto failure = co_await connect(slot, Clock::now() + host.options_.start_timeout);
    if (failure) {
      slot.process.reset();  // killed
      close_clients(slot);
      co_return failure;
    }
    publish();
    spdlog::info("plugin {} is up (pid {}): sync on {}; async on {}", slot.name, slot.process->pid(),
                 join_hooks(slot.modes, Mode::Sync), join_hooks(slot.modes, Mode::Async));
    co_return std::nullopt;
  }

  asio::awaitable<std::optional<std::string>> connect(Slot& slot, Clock::time_point deadline) {
    const auto line = co_await slot.process->handshake_line(deadline);
    if (!line) co_return co_await no_handshake(slot, deadline);
    const auto address = parse_handshake(*line);
    if (const auto* refusal = std::get_if<std::string>(&address)) {
      co_return "its handshake line \"" + line->substr(0, 200) + "\" is refused: " + *refusal;
    }
    auto settings = client_settings(slot, std::get<PluginAddress>(address).grpc_target);
    std::shared_ptr<ReacterClient> asker;
    try {
      asker = load_reacter_module()(settings);
    } catch (const std::exception& error) {
      co_return error.what();
    }
    // By reference only (see completion.h).
    const auto answer = co_await completion_of<SubscriptionsResult>(
        [&asker, deadline](std::function<void(SubscriptionsResult)> done) {
          asker->subscriptions(system_deadline(deadline), std::move(done));
        });
    if (answer.failure) {
      co_return "it did not answer Subscriptions at " + settings.grpc_target + " within " +
          std::to_string(host.options_.start_timeout.count()) +
          " ms of its start: " + answer.failure->message;
    }
    slot.modes = modes_of(slot.name, answer.subscriptions);
    settings.notify_stream = answer.notify_stream;
    settings.react_stream = answer.react_stream;
    for (unsigned lane = 0; lane < std::max(1u, host.options_.lanes); ++lane) {
      slot.clients.push_back(load_reacter_module()(settings));
    }
    co_return std::nullopt;
  }

  ReacterSettings client_settings(Slot& slot, const std::string& target) {
    return ReacterSettings{.grpc_target = target,
                           .call_timeout = host.options_.call_timeout,
                           .notice_queue = host.options_.async_queue,
                           .calls_in_flight = &host.calls_in_flight_,
                           .notices_lost = [name = slot.name, counters = slot.counters.get()](
                                               std::size_t lost, const std::string& why) {
                             static common::RateLimitedWarning losing("an async plugin lost system events");
                             counters->async_lost.fetch_add(lost, std::memory_order_relaxed);
                             losing.note(fmt::format("plugin {}: {} lost: {}", name, lost, why));
                           }};
  }

  // Ends the slot's Notify streams, even while an Events API thread still holds a client.
  static void close_clients(Slot& slot) {
    for (const auto& client : slot.clients) client->close();
    slot.clients.clear();
  }

  asio::awaitable<std::string> no_handshake(Slot& slot, Clock::time_point deadline) {
    if (Clock::now() >= deadline) {
      co_return "it printed no handshake line within " + std::to_string(host.options_.start_timeout.count()) +
          " ms (-plugin-start-timeout); is it a go-plugin plugin in gRPC mode?";
    }
    const auto ended = co_await slot.process->exited(Clock::now() + kExitAfterStdoutCloses);
    const auto said = co_await slot.process->last_stderr(Clock::now() + kExitAfterStdoutCloses);
    co_return "it " + ended.value_or("closed its stdout") + " before printing its handshake line" +
        (said.empty() ? std::string() : "; its stderr said: " + said);
  }

  // Waits for the slot's process to exit, then starts it again, with backoff, until stop().
  asio::awaitable<void> supervise(Slot& slot) {
    auto delay = kFirstRestartDelay;
    while (true) {
      const auto up_since = Clock::now();
      const auto how = co_await slot.process->exited();
      close_clients(slot);
      publish();
      slot.process.reset();
      if (stopping) co_return;
      slot.counters->restarts.fetch_add(1, std::memory_order_relaxed);
      if (Clock::now() - up_since >= kBackoffResetAfter) delay = kFirstRestartDelay;
      spdlog::error("plugin {} {}; starting it again in {} ms (until then its sync subscriptions answer 503)",
                    slot.name, how.value_or("exited"), delay.count());
      while (true) {
        slot.backoff->expires_after(delay);
        co_await slot.backoff->async_wait(asio::as_tuple(asio::use_awaitable));
        delay = std::min(delay * 2, kLongestRestartDelay);
        if (stopping) co_return;
        const auto failure = co_await start_once(slot);
        if (stopping) {
          slot.process.reset();
          co_return;
        }
        if (!failure) break;
        spdlog::error("plugin {} could not be started again: {}; next try in {} ms", slot.name, *failure,
                      delay.count());
      }
    }
  }

  // Closes every client, so that each Notify stream ends once the events the drained Events API left
  // queued are written, then waits until the plugins have answered every stream and call, or until
  // `deadline`.
  asio::awaitable<void> finish_calls(Clock::time_point deadline) {
    for (auto& slot : slots) close_clients(slot);
    publish();
    asio::steady_timer poll(io);
    while (Clock::now() < deadline && host.calls_in_flight_.load(std::memory_order_acquire) > 0) {
      poll.expires_after(milliseconds(5));
      co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }

  // In flag order; the first plugin that cannot be started ends the start.
  asio::awaitable<std::optional<std::string>> start_all() {
    for (auto& slot : slots) {
      const auto failure = co_await start_once(slot);
      if (failure) co_return "plugin " + slot.name + " (" + slot.path + ") could not be started: " + *failure;
    }
    for (auto& slot : slots) asio::co_spawn(io, supervise(slot), asio::detached);
    co_return std::nullopt;
  }

  asio::awaitable<void> stop_all() {
    stopping = true;
    for (auto& slot : slots) slot.backoff->cancel();
    co_await finish_calls(Clock::now() + host.options_.call_timeout);
    const auto deadline = Clock::now() + host.options_.stop_timeout;
    std::vector<PluginProcess*> running;
    for (auto& slot : slots) {
      if (slot.process) running.push_back(slot.process.get());
    }
    // SIGTERM to all first, so that they stop in parallel within one deadline.
    for (auto* process : running) asio::co_spawn(io, process->stop(deadline), asio::detached);
    for (auto& slot : slots) {
      if (slot.process) co_await slot.process->exited(deadline + milliseconds(500));
    }
  }
};

PluginHost::PluginHost(PluginOptions options)
    : options_(std::move(options)), runtime_(std::make_unique<Runtime>(*this, options_.paths)) {}

PluginHost::~PluginHost() { stop(); }

void PluginHost::start() {
  if (options_.paths.empty()) return;
  // The client module first: without it no plugin could be spoken to, and none is started for nothing.
  try {
    load_reacter_module();
  } catch (const std::runtime_error& error) {
    throw PluginStartError(error.what());
  }
  runtime_->publish();  // every plugin down, with no subscriptions yet
  runtime_->thread = std::thread([this] { runtime_->io.run(); });
  std::promise<std::optional<std::string>> started;
  asio::co_spawn(runtime_->io, runtime_->start_all(),
                 [&started](std::exception_ptr error, std::optional<std::string> failure) {
                   if (error) {
                     started.set_exception(error);
                   } else {
                     started.set_value(std::move(failure));
                   }
                 });
  const auto failure = started.get_future().get();
  if (failure) {
    stop();
    throw PluginStartError(*failure);
  }
}

void PluginHost::stop() {
  if (!runtime_->thread.joinable()) return;
  std::promise<void> stopped;
  asio::co_spawn(runtime_->io, runtime_->stop_all(), [&stopped](std::exception_ptr) { stopped.set_value(); });
  stopped.get_future().wait();
  // Completions of calls in flight post to the Events API's event loops: they must have run before
  // those loops are destroyed. gRPC ends every call by its deadline.
  const auto calls_deadline = Clock::now() + options_.call_timeout + milliseconds(500);
  while (calls_in_flight_.load(std::memory_order_acquire) > 0 && Clock::now() < calls_deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  runtime_->work.reset();
  runtime_->io.stop();
  runtime_->thread.join();
}

}  // namespace eg::plugin
