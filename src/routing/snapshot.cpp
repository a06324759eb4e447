#include "routing/snapshot.h"

#include <spdlog/spdlog.h>

#include "store/keys.h"

namespace eg::routing {
namespace {

std::string space_key(std::string_view space, std::string_view function_id) {
  std::string key(space);
  key.append("/").append(function_id);
  return key;
}

std::string custom_key(std::string_view path, std::string_view event) {
  std::string key(path);
  key.append("\n").append(event);
  return key;
}

const std::vector<Subscriber>& no_subscribers() {
  static const std::vector<Subscriber> none;
  return none;
}

}  // namespace

const model::Function* RoutingSnapshot::find_function(std::string_view space, std::string_view function_id) const {
  const auto found = functions_.find(space_key(space, function_id));
  return found == functions_.end() ? nullptr : &found->second;
}

std::optional<PathTree<HttpRoute>::Match> RoutingSnapshot::match_http(std::string_view method,
                                                                      std::string_view path) const {
  const auto tree = http_routes_.find(method);
  if (tree == http_routes_.end()) return std::nullopt;
  return tree->second.match(path);
}

std::vector<std::string> RoutingSnapshot::http_methods_at(std::string_view path) const {
  std::vector<std::string> methods;
  for (const auto& [method, tree] : http_routes_) {
    if (tree.match(path)) methods.push_back(method);
  }
  return methods;
}

const std::vector<Subscriber>& RoutingSnapshot::subscribers(std::string_view path, std::string_view event) const {
  const auto found = custom_.find(custom_key(path, event));
  return found == custom_.end() ? no_subscribers() : found->second;
}

const std::vector<Subscriber>& RoutingSnapshot::system_event_subscribers(std::string_view event) const {
  const auto found = by_event_.find(std::string(event));
  return found == by_event_.end() ? no_subscribers() : found->second;
}

bool RoutingSnapshot::has_invoke_subscription(std::string_view space, std::string_view function_id) const {
  return invokable_.contains(space_key(space, function_id));
}

void ConfigState::reset(const store::RangeResult& everything) {
  revision_ = 0;
  key_revisions_.clear();
  functions_.clear();
  subscriptions_.clear();
  std::vector<store::WatchEvent> puts;
  puts.reserve(everything.kvs.size());
  for (const auto& kv : everything.kvs) puts.push_back({store::WatchEvent::Type::Put, kv});
  apply(puts);
  revision_ = everything.revision;
}

void ConfigState::apply(const std::vector<store::WatchEvent>& events) {
  for (const auto& event : events) apply_one(event);
}

void ConfigState::apply_one(const store::WatchEvent& event) {
  const auto& key = event.kv.key;
  auto& applied = key_revisions_[key];
  if (event.kv.mod_revision != 0 && event.kv.mod_revision <= applied) return;  // replayed or stale
  applied = event.kv.mod_revision;
  revision_ = std::max(revision_, event.kv.mod_revision);
  const auto kind = store::keys::classify(key);
  if (event.type == store::WatchEvent::Type::Delete) {
    functions_.erase(key);
    subscriptions_.erase(key);
    return;
  }
  try {
    const auto json = boost::json::parse(event.kv.value);
    if (kind == store::keys::KeyKind::Function) functions_.insert_or_assign(key, model::Function::from_stored_json(json));
    if (kind == store::keys::KeyKind::Subscription) {
      subscriptions_.insert_or_assign(key, model::Subscription::from_stored_json(json));
    }
  } catch (const std::exception& error) {
    spdlog::error("ignoring unreadable configuration at {}: {}", key, error.what());
  }
}

std::shared_ptr<const RoutingSnapshot> ConfigState::build() const {
  auto snapshot = std::make_shared<RoutingSnapshot>();
  snapshot->revision_ = revision_;
  for (const auto& [key, function] : functions_) {
    snapshot->functions_.emplace(space_key(function.space, function.function_id), function);
  }
  for (const auto& [key, subscription] : subscriptions_) {
    const Subscriber subscriber{subscription.space, subscription.function_id};
    if (subscription.is_http()) {
      auto rejection = snapshot->http_routes_[subscription.method].add(
          subscription.path,
          HttpRoute{subscription.space, subscription.subscription_id, subscription.function_id, subscription.cors});
      if (rejection) spdlog::error("not routing {}: {}", subscription.subscription_id, rejection->message);
    } else if (subscription.is_invoke()) {
      snapshot->invokable_.insert(space_key(subscription.space, subscription.function_id));
    } else {
      snapshot->custom_[custom_key(subscription.path, subscription.event)].push_back(subscriber);
      snapshot->by_event_[subscription.event].push_back(subscriber);
    }
  }
  return snapshot;
}

void SnapshotHolder::publish(std::shared_ptr<const RoutingSnapshot> snapshot) {
  std::lock_guard lock(mutex_);
  current_ = std::move(snapshot);
  generation_.fetch_add(1, std::memory_order_release);
}

const RoutingSnapshot& SnapshotHolder::Reader::current() {
  const auto generation = holder_.generation_.load(std::memory_order_acquire);
  if (generation != seen_generation_ || !cached_) {
    std::lock_guard lock(holder_.mutex_);
    cached_ = holder_.current_;
    seen_generation_ = holder_.generation_.load(std::memory_order_relaxed);
  }
  return *cached_;
}

std::shared_ptr<const RoutingSnapshot> SnapshotHolder::Reader::pin() {
  current();
  return cached_;
}

}  // namespace eg::routing
