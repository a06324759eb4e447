#include "config/config_service.h"

#include <spdlog/spdlog.h>

#include <boost/url/parse.hpp>
#include <chrono>

#include "common/json.h"
#include "config/errors.h"
#include "providers/provider.h"
#include "routing/path_tree.h"
#include "routing/snapshot.h"
#include "store/keys.h"

namespace eg::config {
namespace {

using store::Compare;
using store::Operation;
using store::TxnRequest;

// Each retry means another writer changed what this operation depends on; a handful is plenty
// for human-paced configuration and bounds the work under a pathological write storm.
constexpr int kMaxAttempts = 16;

// Not "quoted": std::quoted(const std::string&), found by argument-dependent lookup wherever
// <iomanip> is included (as in a unity build), would be the better match.
std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

Compare key_exists(std::string key) {
  Compare compare;
  compare.key = std::move(key);
  compare.target = Compare::Target::Version;
  compare.result = Compare::Result::Greater;
  compare.number = 0;
  return compare;
}

std::string to_stored_text(const boost::json::object& object) { return boost::json::serialize(object); }

// Lists leave out what they cannot read, so that one bad record does not hide the others; the log
// and /v1/status name it.
template <typename Record>
std::vector<Record> parse_all(const store::RangeResult& range) {
  std::vector<Record> records;
  records.reserve(range.kvs.size());
  for (const auto& kv : range.kvs) {
    try {
      records.push_back(Record::from_stored_text(kv.value));
    } catch (const std::exception& error) {
      spdlog::error("unreadable record at {} left out of a list (GET /v1/status lists it): {}", kv.key,
                    error.what());
    }
  }
  return records;
}

// One record read back from the store; `what` names it for the message of an unreadable one.
template <typename Record>
Record read_record(const store::KeyValue& kv, const std::string& what, std::string_view repair) {
  try {
    return Record::from_stored_text(kv.value);
  } catch (const std::invalid_argument& error) {
    spdlog::error("unreadable record at {}: {}", kv.key, error.what());
    throw unreadable(what + " is stored in a form that cannot be read (" + error.what() + "); " +
                     std::string(repair));
  }
}

ConfigError function_not_found(std::string_view space, std::string_view function_id) {
  return not_found("function " + in_quotes(function_id) + " not found in space " + in_quotes(space));
}

ConfigError too_much_contention() {
  return invalid("the configuration changed concurrently too many times; retry the request");
}

// How long a creation waits for this instance's routing snapshot to show the service's own latest
// write before checking its path against the store instead. The watch delivers a write within
// milliseconds; the wait matters only while the watch is being restored.
constexpr auto kSnapshotWait = std::chrono::milliseconds(500);

// Claims the subscription's endpoint in `txn`, guarded: no endpoint of its method was claimed after
// `checked_revision`, the revision the conflict check saw. Every claim also writes the method's
// claims key, so the guard compares that one key: comparing the whole endpoint range made each
// creation cost a read of every endpoint of the method in the store, O(n²) for n creations.
void add_endpoint_claim(const model::Subscription& subscription, TxnRequest& txn,
                        std::int64_t checked_revision) {
  const boost::json::object owner{{"space", subscription.space},
                                  {"subscriptionId", subscription.subscription_id},
                                  {"path", subscription.path}};
  const auto endpoint_key = store::keys::endpoint(subscription.method, subscription.path);
  const auto claims_key = store::keys::endpoint_claims(subscription.method);
  txn.compares.push_back(Compare::key_unchanged_since(claims_key, checked_revision));
  txn.success.push_back(Operation::put(endpoint_key, to_stored_text(owner)));
  txn.success.push_back(Operation::put(claims_key, endpoint_key));
}

}  // namespace

// A function that calls into a denied network (the cloud's metadata service) would let whoever
// invokes it read what that network answers, such as the instance's credentials.
void ConfigService::check_destination(const model::Function& function) const {
  if (!denied_networks_ || denied_networks_->empty()) return;
  const auto* provider = providers::find_provider(function.type);
  const auto url_text = provider != nullptr ? provider->destination_url(function.provider) : std::nullopt;
  if (!url_text) return;
  const auto url = boost::urls::parse_absolute_uri(*url_text);
  if (!url) return;  // validation refused it already
  const auto host = url->host_type() == boost::urls::host_type::ipv6 ? url->host_address() : url->host();
  if (const auto network = denied_networks_->network_of_host(host)) {
    throw invalid("the function may not call " + *url_text + ": " + net::describe_denial(host, *network));
  }
}

model::Function ConfigService::register_function(const model::Function& function) {
  check_destination(function);
  const auto key = store::keys::function(function.space, function.function_id);
  const auto result =
      commit(TxnRequest{.compares = {Compare::key_absent(key)},
                        .success = {Operation::put(key, to_stored_text(function.to_stored_json()))}});
  if (!result.succeeded) {
    throw already_exists("function " + in_quotes(function.function_id) + " already exists in space " +
                         in_quotes(function.space));
  }
  return function;
}

model::Function ConfigService::update_function(const model::Function& function) {
  check_destination(function);
  const auto key = store::keys::function(function.space, function.function_id);
  const auto result =
      commit(TxnRequest{.compares = {key_exists(key)},
                        .success = {Operation::put(key, to_stored_text(function.to_stored_json()))}});
  if (!result.succeeded) throw function_not_found(function.space, function.function_id);
  return function;
}

void ConfigService::delete_function(std::string_view space, std::string_view function_id) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (try_delete_function(space, function_id)) return;
  }
  throw too_much_contention();
}

bool ConfigService::try_delete_function(std::string_view space, std::string_view function_id) {
  const auto key = store::keys::function(space, function_id);
  const auto subscriptions_prefix = store::keys::subscriptions_prefix(space);
  const auto subscriptions = store_.get_prefix(subscriptions_prefix);
  for (const auto& subscription : parse_all<model::Subscription>(subscriptions)) {
    const bool dead_letters_to_it =
        subscription.delivery && subscription.delivery->dead_letter_function_id == function_id;
    if (subscription.function_id == function_id || dead_letters_to_it) {
      throw invalid("function " + in_quotes(function_id) + " cannot be deleted: subscription " +
                    in_quotes(subscription.subscription_id) + " uses it" +
                    (dead_letters_to_it ? " as its dead-letter function" : ""));
    }
  }
  // Guard: no subscription was added to the space since we looked.
  const auto result =
      commit(TxnRequest{.compares = {key_exists(key), Compare::prefix_unchanged_since(
                                                          subscriptions_prefix, subscriptions.revision)},
                        .success = {Operation::remove(key)}});
  if (result.succeeded) return true;
  if (store_.get(key).kvs.empty()) throw function_not_found(space, function_id);
  return false;
}

model::Function ConfigService::get_function(std::string_view space, std::string_view function_id) {
  const auto found = store_.get(store::keys::function(space, function_id));
  if (found.kvs.empty()) throw function_not_found(space, function_id);
  return read_record<model::Function>(found.kvs.front(),
                                      "function " + in_quotes(function_id) + " in space " + in_quotes(space),
                                      "replace it with PUT or remove it with DELETE");
}

std::vector<model::Function> ConfigService::list_functions(std::string_view space) {
  return parse_all<model::Function>(store_.get_prefix(store::keys::functions_prefix(space)));
}

model::Subscription ConfigService::create_subscription(const model::Subscription& subscription) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    if (try_create_subscription(subscription, attempt == 0)) return subscription;
  }
  throw too_much_contention();
}

bool ConfigService::try_create_subscription(const model::Subscription& subscription, bool first_attempt) {
  const auto key = store::keys::subscription(subscription.space, subscription.subscription_id);
  if (!store_.get(key).kvs.empty()) {
    throw already_exists("subscription " + in_quotes(subscription.subscription_id) +
                         " already exists in space " + in_quotes(subscription.space));
  }
  const auto function_key = store::keys::function(subscription.space, subscription.function_id);
  const auto function = store_.get(function_key);
  if (function.kvs.empty()) {
    throw invalid("function " + in_quotes(subscription.function_id) + " not found in space " +
                  in_quotes(subscription.space));
  }
  TxnRequest txn{.compares = {Compare::key_absent(key),
                              Compare::mod_revision_equals(function_key, function.kvs.front().mod_revision)},
                 .success = {Operation::put(key, to_stored_text(subscription.to_json()))}};
  if (subscription.delivery && subscription.delivery->dead_letter_function_id) {
    require_dead_letter_function(subscription, *subscription.delivery->dead_letter_function_id, txn);
  }
  if (subscription.is_http()) claim_http_endpoint(subscription, txn, first_attempt, function.revision);
  return commit(txn).succeeded;
}

// The dead-letter function must exist, and still exist when the subscription is written: deleting
// it checks for subscriptions that name it, and this guard closes the race between the two.
void ConfigService::require_dead_letter_function(const model::Subscription& subscription,
                                                 const std::string& function_id, TxnRequest& txn) {
  const auto key = store::keys::function(subscription.space, function_id);
  const auto function = store_.get(key);
  if (function.kvs.empty()) {
    throw invalid("delivery.deadLetterFunctionId: function " + in_quotes(function_id) +
                  " not found in space " + in_quotes(subscription.space));
  }
  txn.compares.push_back(Compare::mod_revision_equals(key, function.kvs.front().mod_revision));
}

// The first attempt checks the path against this instance's routing snapshot, in O(depth), and the
// claim is guarded by the snapshot's revision: an endpoint written since (through another
// instance, or not yet applied by the watch) fails the transaction, and the retry reads every
// endpoint from the store. A refusal by the snapshot is confirmed against the store too, where the
// conflicting endpoint may have been deleted since.
void ConfigService::claim_http_endpoint(const model::Subscription& subscription, TxnRequest& txn,
                                        bool first_attempt, std::int64_t store_revision) {
  if (first_attempt && check_endpoint_against_snapshot(subscription, txn, store_revision)) return;
  check_endpoint_against_store(subscription, txn);
}

bool ConfigService::check_endpoint_against_snapshot(const model::Subscription& subscription, TxnRequest& txn,
                                                    std::int64_t store_revision) {
  if (routes_ == nullptr) return false;
  // A snapshot that misses this service's own writes would fail the guard every time: when creating
  // subscriptions one after the other, wait for it.
  const auto routes = routes_->wait_for_revision(last_write_revision_.load(), kSnapshotWait);
  if (!routes || routes->http_route_refusal(subscription.method, subscription.path)) return false;
  // Routes ahead of the store come from a history it no longer has (etcd restored from an older
  // backup, or wiped: docs/store.md), whose revisions the guard cannot compare with the store's.
  if (routes->revision() > store_revision) return false;
  add_endpoint_claim(subscription, txn, routes->revision());
  return true;
}

void ConfigService::check_endpoint_against_store(const model::Subscription& subscription, TxnRequest& txn) {
  const auto endpoints = store_.get_prefix(store::keys::endpoints_prefix(subscription.method));
  routing::PathTree<std::string> tree;
  for (const auto& kv : endpoints.kvs) {
    const auto stored = common::parse_json(kv.value);
    if (!stored.ok())
      throw std::invalid_argument("unreadable endpoint record at " + kv.key + ": it holds " + stored.error);
    const auto& owner = stored.value.as_object();
    tree.add(owner.at("path").as_string(), std::string(owner.at("space").as_string()));
  }
  if (auto rejection = tree.add(subscription.path, subscription.space)) {
    if (rejection->reason == routing::PathRejection::Reason::Duplicate) {
      throw already_exists("http endpoint " + subscription.method + " " + subscription.path +
                           " is already subscribed (endpoints are unique across all spaces)");
    }
    throw invalid(subscription.method + " " + rejection->message);
  }
  add_endpoint_claim(subscription, txn, endpoints.revision);
}

void ConfigService::delete_subscription(std::string_view space, std::string_view subscription_id) {
  const auto key = store::keys::subscription(space, subscription_id);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const auto found = store_.get(key);
    if (found.kvs.empty()) {
      throw not_found("subscription " + in_quotes(subscription_id) + " not found in space " +
                      in_quotes(space));
    }
    const auto& kv = found.kvs.front();
    const auto subscription = model::Subscription::from_stored_text(kv.value);
    TxnRequest txn{.compares = {Compare::mod_revision_equals(key, kv.mod_revision)},
                   .success = {Operation::remove(key)}};
    if (subscription.is_http()) {
      txn.success.push_back(Operation::remove(store::keys::endpoint(subscription.method, subscription.path)));
    }
    if (commit(txn).succeeded) return;
  }
  throw too_much_contention();
}

model::Subscription ConfigService::get_subscription(std::string_view space,
                                                    std::string_view subscription_id) {
  const auto found = store_.get(store::keys::subscription(space, subscription_id));
  if (found.kvs.empty()) {
    throw not_found("subscription " + in_quotes(subscription_id) + " not found in space " + in_quotes(space));
  }
  return read_record<model::Subscription>(
      found.kvs.front(), "subscription " + in_quotes(subscription_id) + " in space " + in_quotes(space),
      "GET /v1/status lists it");
}

std::vector<model::Subscription> ConfigService::list_subscriptions(std::string_view space) {
  return parse_all<model::Subscription>(store_.get_prefix(store::keys::subscriptions_prefix(space)));
}

store::TxnResult ConfigService::commit(const TxnRequest& txn) {
  const auto result = store_.txn(txn);
  if (result.succeeded) last_write_revision_.store(result.revision);
  return result;
}

}  // namespace eg::config
