// Writes a function "f" (an http function at URL) and N http subscriptions GET /r/<i> to it into an
// embedded store directory, for bench/resources.py to measure the gateway with that many routes.
// Usage: preload_store DATA_DIR URL N
//
// It writes what ConfigService writes for each subscription (the subscription record, its endpoint
// and the method's claims key), in large transactions: creating 100k subscriptions one by one
// through the Configuration API takes minutes, each waiting for the instance's snapshot to show the
// one before.

#include <boost/json.hpp>
#include <cstdio>
#include <string>

#include "model/function.h"
#include "model/identifiers.h"
#include "model/subscription.h"
#include "store/keys.h"
#include "store/sqlite_store.h"

namespace {

using eg::store::Operation;
using eg::store::TxnRequest;

Operation put(std::string key, const boost::json::object& value) {
  return Operation::put(std::move(key), boost::json::serialize(value));
}

eg::model::Subscription route(std::size_t i) {
  eg::model::Subscription subscription{.space = "default", .event = "http", .function_id = "f"};
  subscription.path = "/r/" + std::to_string(i);
  subscription.method = "GET";
  subscription.subscription_id = eg::model::http_subscription_id(subscription.method, subscription.path);
  return subscription;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 4) {
    std::fputs("usage: preload_store DATA_DIR URL N\n", stderr);
    return 2;
  }
  eg::store::SqliteStore store(argv[1]);
  const eg::model::Function function{
      .space = "default", .function_id = "f", .type = "http", .provider = {{"url", argv[2]}}};
  store.txn(
      TxnRequest{.success = {put(eg::store::keys::function("default", "f"), function.to_stored_json())}});
  const std::size_t count = std::stoul(argv[3]);
  constexpr std::size_t kPerTransaction = 5000;
  for (std::size_t first = 0; first < count; first += kPerTransaction) {
    TxnRequest batch;
    for (std::size_t i = first; i < std::min(count, first + kPerTransaction); ++i) {
      const auto subscription = route(i);
      batch.success.push_back(
          put(eg::store::keys::subscription(subscription.space, subscription.subscription_id),
              subscription.to_json()));
      const boost::json::object owner{{"space", subscription.space},
                                      {"subscriptionId", subscription.subscription_id},
                                      {"path", subscription.path}};
      batch.success.push_back(put(eg::store::keys::endpoint(subscription.method, subscription.path), owner));
    }
    const auto last = route(std::min(count, first + kPerTransaction) - 1);
    batch.success.push_back(Operation::put(eg::store::keys::endpoint_claims(last.method),
                                           eg::store::keys::endpoint(last.method, last.path)));
    store.txn(batch);
  }
  return 0;
}
