#pragma once
// The routing snapshot: everything the Events API needs to route an event, built from the store's
// configuration and never modified once published. Readers on any thread use it without locks;
// configuration changes publish a new snapshot (SnapshotHolder).
//
// A snapshot shares with the one before it every part that the changes between them did not touch
// (routing/shared_parts.h): applying a change costs what the change touches, not the size of the
// configuration, and consecutive snapshots do not hold two copies of the routing data.
//
// A function is compiled when the snapshot takes it (providers::compile_function, on the thread that
// applies the store's changes): the snapshot holds each function with its call target, so that no
// call reads the function's settings, the environment or a file.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/function.h"
#include "model/subscription.h"
#include "providers/provider.h"
#include "routing/path_tree.h"
#include "routing/shared_parts.h"
#include "store/keys.h"
#include "store/store.h"

namespace eg::routing {

struct HttpRoute {
  std::string space;
  std::string subscription_id;
  std::string function_id;
  std::optional<model::Cors> cors;
  bool require_api_key = false;  // model::Subscription::require_api_key
};

// A function that receives an event asynchronously: the subscription's space, function, id and
// delivery policy.
struct Subscriber {
  std::string space;
  std::string function_id;
  std::string subscription_id;
  std::optional<model::DeliveryPolicy> delivery;
};

// The subscribers of one event, in the order of their subscriptions' store keys.
struct SubscriberList {
  std::vector<std::string> keys;  // the subscriptions' store keys, sorted
  std::vector<Subscriber> subscribers;
  std::uint64_t edit = 0;  // the token of the snapshot copy that created this list
};

// How many functions and subscriptions a space has (the metrics' gateway_functions_total and
// gateway_subscriptions_total).
struct SpaceTally {
  std::size_t functions = 0;
  std::size_t subscriptions = 0;
};
using SpaceTallies = std::map<std::string, SpaceTally, std::less<>>;

class RoutingSnapshot {
 public:
  // The function and its call target; valid while this snapshot is.
  const providers::CompiledFunction* find_function(std::string_view space,
                                                   std::string_view function_id) const;
  // The same, shared with work that may outlive this snapshot (queued deliveries).
  std::shared_ptr<const providers::CompiledFunction> share_function(std::string_view space,
                                                                    std::string_view function_id) const;
  std::optional<PathTree<HttpRoute>::Match> match_http(std::string_view method, std::string_view path) const;
  // Methods that have an http route matching `path` (for CORS preflights).
  std::vector<std::string> http_methods_at(std::string_view path) const;
  // Why an http route for `method` and `path` could not be added to this snapshot's routes, or
  // nothing when it could: the Configuration API's conflict check (config/config_service.cpp).
  std::optional<PathRejection> http_route_refusal(std::string_view method, std::string_view path) const;
  // Subscribers of a custom event emitted on `path` (normalized, no trailing slash).
  const std::vector<Subscriber>& subscribers(std::string_view path, std::string_view event) const;
  // Subscribers in `space` of a system event (named "gateway.*"), whatever the path of their
  // subscription: spaces keep their system events.
  const std::vector<Subscriber>& system_event_subscribers(std::string_view space,
                                                          std::string_view event) const;
  bool has_invoke_subscription(std::string_view space, std::string_view function_id) const;
  // The subscriber of a custom or system event subscription, or nullptr when there is none: what a
  // delivery accepted earlier is made with (the policy and function as they are now).
  const Subscriber* find_subscriber(std::string_view space, std::string_view subscription_id) const;
  // Functions and subscriptions the store holds that could not be read (key -> why), and so are not
  // routed: what /v1/status reports.
  const std::map<std::string, std::string>& unreadable_records() const { return *unreadable_; }
  // The spaces that have functions or subscriptions, with how many of each.
  const SpaceTallies& space_tallies() const { return *tallies_; }
  std::int64_t revision() const { return revision_; }

 private:
  friend class ConfigState;
  using SubscriberLists = ShardedMap<std::shared_ptr<SubscriberList>>;

  std::int64_t revision_ = 0;
  ShardedMap<std::shared_ptr<const providers::CompiledFunction>> functions_;  // "<space>/<functionId>"
  std::map<std::string, PathTree<HttpRoute>, std::less<>> http_routes_;       // by method
  SubscriberLists custom_;                                                    // "<path>\n<event>"
  SubscriberLists system_events_;                                             // "<space>\n<event>"
  ShardedMap<Subscriber> subscribers_;  // "<space>/<subscriptionId>", custom and system events
  ShardedMap<int> invokable_;           // "<space>/<functionId>": how many invoke subscriptions it has
  std::shared_ptr<const std::map<std::string, std::string>> unreadable_ =
      std::make_shared<const std::map<std::string, std::string>>();
  std::shared_ptr<const SpaceTallies> tallies_ = std::make_shared<const SpaceTallies>();
  EditToken edit_;  // owns the parts of the maps above that this copy created
};

// The configuration as the store holds it, kept up to date from the watch stream; builds snapshots.
// Applying the same event twice, or an event older than what is already applied, changes nothing.
//
// Each event is applied to the next snapshot as it arrives, touching only the routes it changes;
// build() hands out a copy of that snapshot, which shares everything with it and never changes.
class ConfigState {
 public:
  void reset(const store::RangeResult& everything);
  void apply(const std::vector<store::WatchEvent>& events);
  // Everything applied so far, as an immutable snapshot that later changes leave as it is.
  std::shared_ptr<const RoutingSnapshot> build();
  std::int64_t revision() const { return revision_; }

 private:
  void apply_one(store::WatchEvent::Type type, const store::KeyValue& kv);
  void put_record(store::keys::KeyKind kind, const store::KeyValue& kv);
  void note_readable(const std::string& key);
  // Rebuilds the http routes of the methods a batch's conflicts involved.
  void finish_batch();
  void put_function(const std::string& key, model::Function function);
  void remove_function(const std::string& key);
  void put_subscription(const std::string& key, model::Subscription subscription);
  void remove_subscription(const std::string& key);
  void route(const std::string& key, const model::Subscription& subscription);
  void unroute(const std::string& key, const model::Subscription& subscription);
  void route_http(const model::Subscription& subscription);
  void unroute_http(const std::string& key, const model::Subscription& subscription);
  void rebuild_http_routes(const std::string& method);
  // Adds `functions` and `subscriptions` (each +1 or -1) to the space's tally.
  void tally(const std::string& space, int functions, int subscriptions);

  std::int64_t revision_ = 0;
  std::map<std::string, std::int64_t> key_revisions_;  // mod_revision of each key applied
  std::map<std::string, std::shared_ptr<const providers::CompiledFunction>> functions_;  // by store key
  std::map<std::string, model::Subscription> subscriptions_;
  // Http subscriptions not routed because their paths conflict with routed ones, by method. Which
  // of two conflicting paths is routed follows the order of the subscriptions' keys, so a change
  // that involves a conflict rebuilds its method's routes in that order (rare: the Configuration
  // API refuses conflicting paths).
  std::map<std::string, std::set<std::string>, std::less<>> unrouted_;
  std::set<std::string> methods_to_rebuild_;       // at the end of the batch being applied
  std::map<std::string, std::string> unreadable_;  // what next_ reports; copied into it by build()
  bool unreadable_changed_ = false;
  SpaceTallies tallies_;  // what next_ reports; copied into it by build()
  bool tallies_changed_ = false;
  RoutingSnapshot next_;
};

// Publishes snapshots to readers on many threads. A reader pays one atomic load per request while
// nothing changes, and takes the mutex only once per published snapshot.
class SnapshotHolder {
 public:
  SnapshotHolder() : current_(std::make_shared<const RoutingSnapshot>()) {}

  void publish(std::shared_ptr<const RoutingSnapshot> snapshot);
  // The current snapshot once its revision is at least `revision`, or null after `timeout`.
  std::shared_ptr<const RoutingSnapshot> wait_for_revision(std::int64_t revision,
                                                           std::chrono::milliseconds timeout);

  class Reader {
   public:
    explicit Reader(SnapshotHolder& holder) : holder_(holder) {}
    const RoutingSnapshot& current();
    // The current snapshot, kept alive by the caller: for a request that uses it across a wait
    // (co_await), during which current() may move on to a newer snapshot.
    std::shared_ptr<const RoutingSnapshot> pin();

   private:
    SnapshotHolder& holder_;
    std::uint64_t seen_generation_ = 0;
    std::shared_ptr<const RoutingSnapshot> cached_;
  };

 private:
  std::atomic<std::uint64_t> generation_{1};
  std::mutex mutex_;
  std::condition_variable published_;
  std::shared_ptr<const RoutingSnapshot> current_;
};

}  // namespace eg::routing
