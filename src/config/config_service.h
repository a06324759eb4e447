#pragma once
// The configuration service: the only writer of functions and subscriptions. Every write is one
// compare-and-swap transaction guarded by what it read, so concurrent writers (threads here, or other
// gateway instances on the same etcd) can never both succeed where only one may: a guard that fails
// means someone else wrote first, and the operation is re-planned from a fresh read.
//
// Throws ConfigError for requests that cannot succeed and store::StoreUnavailable when the store
// cannot be reached.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "model/function.h"
#include "model/subscription.h"
#include "net/network_list.h"
#include "store/store.h"

namespace eg::routing {
class SnapshotHolder;
}

namespace eg::config {

class ConfigService {
 public:
  // With `routes` (this instance's routing snapshots), an http subscription's path is checked for
  // conflicts against the snapshot, in O(depth); without, against every endpoint read from the store.
  // Functions whose URL leads to `denied_networks` (-function-deny-networks) are refused.
  explicit ConfigService(store::Store& store, routing::SnapshotHolder* routes = nullptr,
                         std::shared_ptr<const net::NetworkList> denied_networks = nullptr)
      : store_(store), routes_(routes), denied_networks_(std::move(denied_networks)) {}

  // Both refuse a function whose URL (an http url, an AWS endpoint) is on a denied network, its name
  // resolved now.
  model::Function register_function(const model::Function& function);
  model::Function update_function(const model::Function& function);
  // Refused while a subscription of the same space uses the function.
  void delete_function(std::string_view space, std::string_view function_id);
  model::Function get_function(std::string_view space, std::string_view function_id);
  std::vector<model::Function> list_functions(std::string_view space);

  // The function must exist in the subscription's space; an http subscription's method and path must
  // be free across every space and must not conflict with another path of the same method.
  model::Subscription create_subscription(const model::Subscription& subscription);
  void delete_subscription(std::string_view space, std::string_view subscription_id);
  model::Subscription get_subscription(std::string_view space, std::string_view subscription_id);
  std::vector<model::Subscription> list_subscriptions(std::string_view space);

 private:
  void check_destination(const model::Function& function) const;
  // One attempt of create_subscription: true when committed, false when a guard failed.
  bool try_create_subscription(const model::Subscription& subscription, bool first_attempt);
  // Adds the guards and writes that claim the subscription's http endpoint to `txn`; `store_revision`
  // is the store's revision as of the attempt's reads.
  void require_dead_letter_function(const model::Subscription& subscription, const std::string& function_id,
                                    store::TxnRequest& txn);
  void claim_http_endpoint(const model::Subscription& subscription, store::TxnRequest& txn,
                           bool first_attempt, std::int64_t store_revision);
  // The conflict check against the routing snapshot; false when it cannot decide.
  bool check_endpoint_against_snapshot(const model::Subscription& subscription, store::TxnRequest& txn,
                                       std::int64_t store_revision);
  // The conflict check against every endpoint of the method in the store.
  void check_endpoint_against_store(const model::Subscription& subscription, store::TxnRequest& txn);
  // One attempt of delete_function.
  bool try_delete_function(std::string_view space, std::string_view function_id);
  // Runs `txn`, noting the revision of a successful write.
  store::TxnResult commit(const store::TxnRequest& txn);

  store::Store& store_;
  routing::SnapshotHolder* routes_;
  std::shared_ptr<const net::NetworkList> denied_networks_;
  // The revision of this service's latest write: a snapshot older than it misses our own writes.
  // The latest rather than the highest: after etcd went back in history (docs/store.md) the highest
  // would stay ahead of every snapshot to come. Between concurrent writes it may be the lower one;
  // that costs a guard failure at worst, never a wrong answer.
  std::atomic<std::int64_t> last_write_revision_{0};
};

}  // namespace eg::config
