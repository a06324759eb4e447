#pragma once
// Calls functions for the Events API, one per event-loop thread: synchronously for http and invoke
// events, and through the durable spool and the delivery scheduler for custom events and system
// events (docs/delivery.md): every asynchronous delivery is recorded in the spool before it counts
// as accepted, attempted with the headers Event-ID and Delivery-Attempt, retried with backoff while
// it fails in a retryable way, and kept as a dead letter when its policy gives up.
//
// Every stage is reported as a system event (README "System Events"):
//   gateway.event.received, gateway.function.invoking, gateway.function.invoked,
//   gateway.function.invocationFailed (with `attempt` and `willRetry`)
// A system event reaches only the subscribers in the space of what it is about: the function's space
// for gateway.function.*, the space the event was routed in for gateway.event.received. Deliveries
// of system events never produce system events themselves, so a subscriber of
// gateway.function.invoked is not told about its own invocations, endlessly; every call carries the
// marks of its event's Provenance (providers::CallMarks), which keep that true across HTTP too.
//
// Plugins (docs/plugins.md) hear of every system event they subscribed to, whatever its space and
// provenance, since they are the operator's and cannot loop through a subscription. A sync plugin
// of gateway.function.invoking is asked before each call, synchronous or not: a veto is the call's
// failure (Outcome::Refused, not retried: a dead letter for a delivery), and a plugin that cannot
// answer fails the call in a way that is retried.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <random>
#include <string_view>
#include <unordered_map>

#include "delivery/capacity.h"
#include "delivery/dead_letters.h"
#include "delivery/retry_policy.h"
#include "delivery/scheduler.h"
#include "delivery/spool.h"
#include "events/event.h"
#include "net/http_client.h"
#include "plugin/plugin_caller.h"
#include "providers/provider.h"
#include "routing/snapshot.h"

namespace eg::events {

struct DispatcherOptions {
  unsigned workers = 200;       // concurrent asynchronous attempts on this thread
  unsigned per_function = 50;   // of which at most this many to one function
  delivery::RetryPolicy retry;  // for what a subscription's policy leaves out
  // Payloads of deliveries about to be attempted are kept in memory up to this many bytes; beyond
  // it they are read back from the spool, so memory does not grow with the backlog.
  std::size_t payload_cache_bytes = 32 * 1024 * 1024;
  net::HttpClientOptions http;
};

// Where asynchronous deliveries are kept: shared by the dispatchers of every thread, except the
// spool, which is this thread's.
struct DeliveryStores {
  delivery::Spool& spool;
  delivery::DeadLetters& dead_letters;
  delivery::Capacity& capacity;  // pending deliveries of the whole gateway
};

enum class Redelivery { Accepted, LetterGone, SubscriptionGone, SpoolFull, Draining };

class Dispatcher {
 public:
  // The plugins (none when the gateway has no -plugin) and this thread's lane among them, which picks
  // its client of each (plugin::PluginCaller).
  struct Plugins {
    plugin::PluginHost* host = nullptr;
    unsigned lane = 0;
  };
  Dispatcher(boost::asio::io_context& io, routing::SnapshotHolder& snapshots, DeliveryStores stores,
             const DispatcherOptions& options, Plugins plugins);

  // This thread's access to the plugins; none without plugins.
  plugin::PluginCaller* plugins() { return plugins_ ? &*plugins_ : nullptr; }

  // The routing snapshot as of now; valid until the next call on this thread.
  const routing::RoutingSnapshot& snapshot() { return reader_.current(); }
  // The same, kept alive by the caller, for use across a co_await.
  std::shared_ptr<const routing::RoutingSnapshot> pinned_snapshot() { return reader_.pin(); }

  // Records a delivery of `event` to every subscriber (only to those in `only_space`, when given)
  // in the spool and completes once that record is durable; false, recording nothing, when the
  // spool or the backlog cannot take them all.
  boost::asio::awaitable<bool> publish(std::shared_ptr<const Event> event,
                                       const std::vector<routing::Subscriber>& subscribers,
                                       std::optional<std::string_view> only_space = std::nullopt);
  // Calls `function` with `event`, whose serialize() is `payload`, and waits for its answer.
  boost::asio::awaitable<providers::CallResult> call(const providers::CompiledFunction& function,
                                                     const Event& event, const std::string& payload);
  // Whether anyone hears of the system event of `hook` in `space`: an async plugin, or a subscriber
  // there unless `cause` is a system event's delivery.
  bool wants_announcement(std::string_view space, plugin::Hook hook, const Provenance& cause);
  // Tells the async plugins of `hook`, and the subscribers in `space` unless `cause` is a system
  // event's delivery.
  void announce(std::string_view space, plugin::Hook hook, Event system_event, const Provenance& cause);
  // Whether a system event has subscribers in `space`; data for it need not be built otherwise.
  bool wants_system_event(std::string_view space, std::string_view name);
  // Emits a system event to its subscribers in `space`, if it has any; `cause` is the provenance of
  // what the event reports.
  void emit_system_event(std::string_view space, Event system_event, const Provenance& cause);
  // Whether an async plugin subscribed to the system event of `hook`.
  bool plugins_want(plugin::Hook hook);
  // Passes `system_event` to the async plugins of `hook`, never waiting.
  void tell_plugins(plugin::Hook hook, const Event& system_event);
  // The same, with the system event already serialized (serialize_system_event).
  void tell_plugins(plugin::Hook hook, std::string serialized_system_event);
  // Delivers a dead letter again, to its subscription's function as it is now, with its policy;
  // completes once that delivery is durable in the spool.
  boost::asio::awaitable<Redelivery> redeliver(delivery::DeadLetter letter);
  // Schedules the deliveries the spool held when it was opened (accepted before a restart).
  void resume();
  // Starts no more attempts and lets those in flight, and synchronous calls, finish until
  // `deadline`; what is left stays in the spool for the next start.
  boost::asio::awaitable<void> drain(std::chrono::steady_clock::time_point deadline);

 private:
  // The event a call is about: for system events' data, built only when someone subscribed.
  struct EventSource {
    const Event* event = nullptr;  // sync calls
    // The event as its call sends it: its serialize() for sync calls, the spool's record for deliveries.
    std::string_view payload;
    boost::json::value to_json(const boost::json::storage_ptr& storage) const;
  };
  // The data every gateway.function.* system event starts with, in a system_event_storage() arena:
  // the event, then `more` (function_members() and what the hook adds).
  static boost::json::object system_event_data(const EventSource& event, const boost::json::object& more);
  // Announces `hook`'s system event about `event`, whose data is {"event", then the members of
  // `more`}. When only the plugins hear of it and the call is sync, as text, with the event's own
  // text in it: the tree would copy the event and serialize it again (wants_announcement first).
  void announce_about(std::string_view space, plugin::Hook hook, const EventSource& event,
                      const boost::json::object& more, const Provenance& cause);
  struct AttemptReport {
    std::uint32_t attempt = 1;
    bool will_retry = false;
  };

  bool spool_and_schedule(const Event& event, const std::vector<delivery::DeliveryTarget>& targets);
  std::optional<delivery::DeliveryKey> spool_one(std::string_view payload, delivery::DeliveryTarget target,
                                                 std::string_view event_id);
  void schedule(delivery::DeliveryKey key, const delivery::DeliveryTarget& target, std::string_view event_id,
                std::shared_ptr<const std::string> payload);
  std::shared_ptr<const delivery::DeliveryTarget> intern(const delivery::DeliveryTarget& target);
  // Calls the function unless a sync plugin refuses, and announces gateway.function.invoking first.
  boost::asio::awaitable<providers::CallResult> invoke(const providers::CompiledFunction& function,
                                                       const EventSource& event, const Provenance& provenance,
                                                       const std::string& payload,
                                                       const providers::CallMarks& marks);
  boost::asio::awaitable<void> attempt(delivery::Scheduled delivery);
  void count_attempt(const delivery::Scheduled& delivery);
  void log_failed_attempt(const delivery::Scheduled& delivery, std::string_view payload,
                          const Provenance& provenance, const providers::CallResult& result,
                          std::optional<std::chrono::milliseconds> retry_in);
  void delivered(const delivery::Scheduled& delivery);
  void give_up(const delivery::Scheduled& delivery, const std::string& payload, const std::string& error,
               const routing::Subscriber* subscriber);
  void notify_dead_letter_function(const delivery::DeadLetter& letter, const delivery::DeliveryTarget& target,
                                   const std::string& function_id);
  void report_result(const model::Function& function, const EventSource& event, const Provenance& provenance,
                     const providers::CallResult& result, AttemptReport attempt);

  routing::SnapshotHolder::Reader reader_;
  net::HttpClient http_;
  providers::CallContext call_context_;
  DeliveryStores stores_;
  DispatcherOptions options_;
  delivery::Scheduler scheduler_;
  std::unordered_map<std::string, std::shared_ptr<const delivery::DeliveryTarget>> targets_;  // interned
  std::size_t targets_purged_at_ = 0;
  std::size_t cached_payload_bytes_ = 0;
  std::optional<plugin::PluginCaller> plugins_;
  std::mt19937_64 random_;
  unsigned sync_calls_ = 0;
  boost::asio::steady_timer sync_calls_done_;  // cancelled whenever the last synchronous call ends
  bool draining_ = false;
};

}  // namespace eg::events
