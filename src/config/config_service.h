#pragma once
// The configuration service: the only writer of functions and subscriptions. Every write is one
// compare-and-swap transaction guarded by what it read, so concurrent writers (threads here, or other
// gateway instances on the same etcd) can never both succeed where only one may: a guard that fails
// means someone else wrote first, and the operation is re-planned from a fresh read.
//
// Throws ConfigError for requests that cannot succeed and store::StoreUnavailable when the store
// cannot be reached.

#include <string_view>
#include <vector>

#include "model/function.h"
#include "model/subscription.h"
#include "store/store.h"

namespace eg::config {

class ConfigService {
 public:
  explicit ConfigService(store::Store& store) : store_(store) {}

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
  // One attempt of create_subscription: true when committed, false when a guard failed.
  bool try_create_subscription(const model::Subscription& subscription);
  // Adds the guards and writes that claim the subscription's http endpoint to `txn`.
  void claim_http_endpoint(const model::Subscription& subscription, store::TxnRequest& txn);
  // One attempt of delete_function.
  bool try_delete_function(std::string_view space, std::string_view function_id);

  store::Store& store_;
};

}  // namespace eg::config
