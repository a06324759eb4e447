#pragma once
// The plugins of -plugin (docs/plugins.md): their processes, started in flag order and supervised on
// a thread of their own, and what the Events API's threads read on every request: the published
// table of which plugin reacts to which system event, and how, with a client for each plugin that
// is up. A plugin whose process exits is marked down at once (its sync subscriptions then fail
// closed, 503) and started again with backoff; its subscriptions are read again each time.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/published.h"
#include "plugin/hooks.h"
#include "plugin/reacter_client.h"

namespace eg::plugin {

struct PluginOptions {
  std::vector<std::string> paths;  // -plugin, in flag order
  // A sync call's deadline (-plugin-timeout); async calls have the same one, so that a plugin that
  // does not answer frees its queue.
  std::chrono::milliseconds call_timeout{1000};
  // From the start of a process until it answered Subscriptions (-plugin-start-timeout).
  std::chrono::milliseconds start_timeout{10'000};
  // From SIGTERM until SIGKILL, at shutdown.
  std::chrono::milliseconds stop_timeout{5'000};
  // Async events queued or in flight, per plugin and Events API thread; an event beyond them is
  // dropped, counted and logged.
  std::size_t async_queue = 4096;
  // The Events API threads: each gets a client (a gRPC channel) of each plugin.
  unsigned lanes = 1;
};

// Thrown by PluginHost::start() when a plugin cannot be started: names the plugin and says why.
class PluginStartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Mode : std::uint8_t { None, Async, Sync };

// A plugin's counters, which outlive its processes (the metrics' source).
struct PluginCounters {
  std::atomic<std::uint64_t> async_dropped{0};  // refused: the queue was full or the plugin down
  std::atomic<std::uint64_t> async_lost{0};     // accepted, but a stream or call failed
  std::atomic<std::uint64_t> restarts{0};
};

struct PluginEntry {
  std::string name;
  // One per Events API thread (PluginOptions::lanes); none while the process is down or starting.
  std::vector<std::shared_ptr<ReacterClient>> clients;
  std::array<Mode, kHookCount> modes{};
  PluginCounters* counters = nullptr;  // owned by the host

  Mode mode(Hook hook) const { return modes[static_cast<std::size_t>(hook)]; }
};

struct PluginTable {
  std::vector<PluginEntry> plugins;  // in flag order
  std::array<bool, kHookCount> any_sync{};
  std::array<bool, kHookCount> any_async{};

  bool has_sync(Hook hook) const { return any_sync[static_cast<std::size_t>(hook)]; }
  bool has_async(Hook hook) const { return any_async[static_cast<std::size_t>(hook)]; }
};

class PluginHost {
 public:
  explicit PluginHost(PluginOptions options);
  // Stops what still runs (SIGKILL).
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Starts every plugin, one after the other in flag order, and returns once each has answered
  // Subscriptions; throws PluginStartError for the first that did not, within start_timeout, or before
  // starting any when the plugin client module cannot be loaded.
  void start();
  // Lets the plugins answer the calls and Notify streams in flight (at most call_timeout), so that
  // the async events still queued reach them; then SIGTERM to every plugin, SIGKILL to those still
  // running after stop_timeout; then waits (at most call_timeout) until every call in flight has
  // completed. No plugin is restarted after this.
  void stop();

  const common::Published<PluginTable>& table() const { return table_; }
  const PluginOptions& options() const { return options_; }
  // Every call goes through these, so that stop() can wait for the last completion.
  void call_started() { calls_in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void call_finished() { calls_in_flight_.fetch_sub(1, std::memory_order_release); }

 private:
  struct Runtime;
  PluginOptions options_;
  common::Published<PluginTable> table_;
  std::atomic<std::int64_t> calls_in_flight_{0};
  std::unique_ptr<Runtime> runtime_;
};

// The names plugins are logged and answered under: each path's file name, with "#2", "#3"... for a
// file name that an earlier -plugin has too.
std::vector<std::string> plugin_names(const std::vector<std::string>& paths);

}  // namespace eg::plugin
