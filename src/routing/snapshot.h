#pragma once
// The routing snapshot: everything the Events API needs to route an event, built from the store's
// configuration and never modified once published. Readers on any thread use it without locks;
// configuration changes publish a new snapshot (SnapshotHolder).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "model/function.h"
#include "model/subscription.h"
#include "routing/path_tree.h"
#include "store/store.h"

namespace eg::routing {

struct HttpRoute {
  std::string space;
  std::string subscription_id;
  std::string function_id;
  std::optional<model::Cors> cors;
};

// A function that receives an event: the subscription's space and function.
struct Subscriber {
  std::string space;
  std::string function_id;
};

class RoutingSnapshot {
 public:
  const model::Function* find_function(std::string_view space, std::string_view function_id) const;
  std::optional<PathTree<HttpRoute>::Match> match_http(std::string_view method, std::string_view path) const;
  // Methods that have an http route matching `path` (for CORS preflights).
  std::vector<std::string> http_methods_at(std::string_view path) const;
  // Subscribers of a custom event emitted on `path` (normalized, no trailing slash).
  const std::vector<Subscriber>& subscribers(std::string_view path, std::string_view event) const;
  // Subscribers of a system event, whatever the path of their subscription.
  const std::vector<Subscriber>& system_event_subscribers(std::string_view event) const;
  bool has_invoke_subscription(std::string_view space, std::string_view function_id) const;
  std::int64_t revision() const { return revision_; }

 private:
  friend class ConfigState;
  std::int64_t revision_ = 0;
  std::unordered_map<std::string, model::Function> functions_;       // "<space>/<functionId>"
  std::map<std::string, PathTree<HttpRoute>, std::less<>> http_routes_;  // by method
  std::unordered_map<std::string, std::vector<Subscriber>> custom_;  // "<path>\n<event>"
  std::unordered_map<std::string, std::vector<Subscriber>> by_event_;  // system events
  std::unordered_set<std::string> invokable_;                        // "<space>/<functionId>"
};

// The configuration as the store holds it, kept up to date from the watch stream; builds snapshots.
// Applying the same event twice, or an event older than what is already applied, changes nothing.
class ConfigState {
 public:
  void reset(const store::RangeResult& everything);
  void apply(const std::vector<store::WatchEvent>& events);
  std::shared_ptr<const RoutingSnapshot> build() const;
  std::int64_t revision() const { return revision_; }

 private:
  void apply_one(const store::WatchEvent& event);

  std::int64_t revision_ = 0;
  std::map<std::string, std::int64_t> key_revisions_;  // mod_revision of each key applied
  std::map<std::string, model::Function> functions_;
  std::map<std::string, model::Subscription> subscriptions_;
};

// Publishes snapshots to readers on many threads. A reader pays one atomic load per request while
// nothing changes, and takes the mutex only once per published snapshot.
class SnapshotHolder {
 public:
  SnapshotHolder() : current_(std::make_shared<const RoutingSnapshot>()) {}

  void publish(std::shared_ptr<const RoutingSnapshot> snapshot);

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
  std::shared_ptr<const RoutingSnapshot> current_;
};

}  // namespace eg::routing
