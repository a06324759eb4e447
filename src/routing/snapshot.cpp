#include "routing/snapshot.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "model/identifiers.h"
#include "store/keys.h"

namespace eg::routing {
namespace {

std::string space_key(std::string_view space, std::string_view function_id) {
  std::string key(space);
  key.append("/").append(function_id);
  return key;
}

// "<path>\n<event>" for custom events, "<space>\n<event>" for system events: no name holds a newline.
std::string event_key(std::string_view scope, std::string_view event) {
  std::string key(scope);
  key.append("\n").append(event);
  return key;
}

const std::vector<Subscriber>& no_subscribers() {
  static const std::vector<Subscriber> none;
  return none;
}

bool is_system_event(std::string_view event) { return event.starts_with(model::kSystemEventPrefix); }

HttpRoute http_route(const model::Subscription& subscription) {
  return HttpRoute{subscription.space, subscription.subscription_id, subscription.function_id,
                   subscription.cors, subscription.require_api_key};
}

// The list at `list_key`, changeable in place by the holder of `edit`: copied unless `edit` created
// it, created when missing.
SubscriberList& writable_list(ShardedMap<std::shared_ptr<SubscriberList>>& lists, std::string_view list_key,
                              std::uint64_t edit) {
  auto* slot = lists.find_for_change(list_key, edit);
  if (slot == nullptr) {
    auto list = std::make_shared<SubscriberList>();
    list->edit = edit;
    auto& created = *list;
    lists.insert_or_assign(list_key, std::move(list), edit);
    return created;
  }
  if ((*slot)->edit != edit) {
    auto copy = std::make_shared<SubscriberList>(**slot);
    copy->edit = edit;
    *slot = std::move(copy);
  }
  return **slot;
}

void add_subscriber(ShardedMap<std::shared_ptr<SubscriberList>>& lists, std::string_view list_key,
                    const std::string& key, Subscriber subscriber, std::uint64_t edit) {
  auto& list = writable_list(lists, list_key, edit);
  const auto position = std::lower_bound(list.keys.begin(), list.keys.end(), key);
  const auto index = position - list.keys.begin();
  list.keys.insert(position, key);
  list.subscribers.insert(list.subscribers.begin() + index, std::move(subscriber));
}

void remove_subscriber(ShardedMap<std::shared_ptr<SubscriberList>>& lists, std::string_view list_key,
                       const std::string& key, std::uint64_t edit) {
  if (lists.find(list_key) == nullptr) return;
  auto& list = writable_list(lists, list_key, edit);
  const auto position = std::lower_bound(list.keys.begin(), list.keys.end(), key);
  if (position == list.keys.end() || *position != key) return;
  list.subscribers.erase(list.subscribers.begin() + (position - list.keys.begin()));
  list.keys.erase(position);
  if (list.keys.empty()) lists.erase(list_key, edit);
}

}  // namespace

const providers::CompiledFunction* RoutingSnapshot::find_function(std::string_view space,
                                                                  std::string_view function_id) const {
  const auto* found = functions_.find(space_key(space, function_id));
  return found == nullptr ? nullptr : found->get();
}

std::shared_ptr<const providers::CompiledFunction> RoutingSnapshot::share_function(
    std::string_view space, std::string_view function_id) const {
  const auto* found = functions_.find(space_key(space, function_id));
  return found == nullptr ? nullptr : *found;
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

std::optional<PathRejection> RoutingSnapshot::http_route_refusal(std::string_view method,
                                                                 std::string_view path) const {
  const auto tree = http_routes_.find(method);
  return tree == http_routes_.end() ? PathTree<HttpRoute>{}.refusal(path) : tree->second.refusal(path);
}

const Subscriber* RoutingSnapshot::find_subscriber(std::string_view space,
                                                   std::string_view subscription_id) const {
  return subscribers_.find(space_key(space, subscription_id));
}

const std::vector<Subscriber>& RoutingSnapshot::subscribers(std::string_view path,
                                                            std::string_view event) const {
  const auto* found = custom_.find(event_key(path, event));
  return found == nullptr ? no_subscribers() : (*found)->subscribers;
}

const std::vector<Subscriber>& RoutingSnapshot::system_event_subscribers(std::string_view space,
                                                                         std::string_view event) const {
  // Asked several times per request, mostly to learn that nobody subscribed: the key is put together
  // on the stack rather than allocated. (A longer key than valid names make is subscribed by nobody.)
  std::array<char, 2 * model::kMaxNameLength + 1> key{};
  if (space.size() + 1 + event.size() > key.size()) return no_subscribers();
  const auto end =
      std::copy(event.begin(), event.end(), std::copy(space.begin(), space.end(), key.begin()) + 1);
  key[space.size()] = '\n';
  const auto* found =
      system_events_.find(std::string_view(key.data(), static_cast<std::size_t>(end - key.begin())));
  return found == nullptr ? no_subscribers() : (*found)->subscribers;
}

bool RoutingSnapshot::has_invoke_subscription(std::string_view space, std::string_view function_id) const {
  return invokable_.find(space_key(space, function_id)) != nullptr;
}

void ConfigState::reset(const store::RangeResult& everything) {
  revision_ = 0;
  key_revisions_.clear();
  functions_.clear();
  subscriptions_.clear();
  unrouted_.clear();
  unreadable_.clear();
  unreadable_changed_ = true;
  tallies_.clear();
  tallies_changed_ = true;
  next_ = RoutingSnapshot();
  // Applied as puts straight from the read: a copy of 100k keys would double the memory a start
  // needs at its peak, which the process keeps as RSS.
  for (const auto& kv : everything.kvs) apply_one(store::WatchEvent::Type::Put, kv);
  finish_batch();
  revision_ = everything.revision;
}

void ConfigState::apply(const std::vector<store::WatchEvent>& events) {
  for (const auto& event : events) apply_one(event.type, event.kv);
  finish_batch();
}

void ConfigState::finish_batch() {
  for (const auto& method : methods_to_rebuild_) rebuild_http_routes(method);
  methods_to_rebuild_.clear();
}

std::shared_ptr<const RoutingSnapshot> ConfigState::build() {
  next_.revision_ = revision_;
  if (unreadable_changed_) {
    next_.unreadable_ = std::make_shared<const std::map<std::string, std::string>>(unreadable_);
    unreadable_changed_ = false;
  }
  if (tallies_changed_) {
    next_.tallies_ = std::make_shared<const SpaceTallies>(tallies_);
    tallies_changed_ = false;
  }
  // The copy shares every part with next_, and copying gives both new edit tokens: changes to
  // next_ from now on copy what they touch, so the published copy never changes.
  return std::make_shared<const RoutingSnapshot>(next_);
}

void ConfigState::apply_one(store::WatchEvent::Type type, const store::KeyValue& kv) {
  const auto& key = kv.key;
  auto& applied = key_revisions_[key];
  if (kv.mod_revision != 0 && kv.mod_revision <= applied) return;  // replayed or stale
  applied = kv.mod_revision;
  revision_ = std::max(revision_, kv.mod_revision);
  const auto kind = store::keys::classify(key);
  if (type == store::WatchEvent::Type::Delete) {
    remove_function(key);
    remove_subscription(key);
    note_readable(key);
    return;
  }
  if (kind != store::keys::KeyKind::Function && kind != store::keys::KeyKind::Subscription) return;
  try {
    put_record(kind, kv);
    note_readable(key);
  } catch (const std::exception& error) {
    // What was read at `key` before, if anything, stays routed (a bad write does not take a working
    // function down), and the record is reported until it is replaced or deleted.
    spdlog::error("unreadable configuration at {} (GET /v1/status lists it): {}", key, error.what());
    unreadable_.insert_or_assign(key, error.what());
    unreadable_changed_ = true;
  }
}

void ConfigState::put_record(store::keys::KeyKind kind, const store::KeyValue& kv) {
  if (kind == store::keys::KeyKind::Function)
    put_function(kv.key, model::Function::from_stored_text(kv.value));
  if (kind == store::keys::KeyKind::Subscription) {
    put_subscription(kv.key, model::Subscription::from_stored_text(kv.value));
  }
}

void ConfigState::note_readable(const std::string& key) {
  if (unreadable_.erase(key) > 0) unreadable_changed_ = true;
}

void ConfigState::put_function(const std::string& key, model::Function function) {
  remove_function(key);
  // Compiled here, once, for every thread's calls (providers/provider.h).
  auto compiled = providers::compile_function(std::move(function));
  next_.functions_.insert_or_assign(space_key(compiled->function.space, compiled->function.function_id),
                                    compiled, next_.edit_.value());
  tally(compiled->function.space, 1, 0);
  functions_.insert_or_assign(key, std::move(compiled));
}

void ConfigState::remove_function(const std::string& key) {
  const auto found = functions_.find(key);
  if (found == functions_.end()) return;
  const auto& function = found->second->function;
  next_.functions_.erase(space_key(function.space, function.function_id), next_.edit_.value());
  tally(function.space, -1, 0);
  functions_.erase(found);
}

void ConfigState::put_subscription(const std::string& key, model::Subscription subscription) {
  remove_subscription(key);
  const auto& added = subscriptions_.insert_or_assign(key, std::move(subscription)).first->second;
  tally(added.space, 0, 1);
  route(key, added);
}

void ConfigState::remove_subscription(const std::string& key) {
  const auto found = subscriptions_.find(key);
  if (found == subscriptions_.end()) return;
  const auto subscription = std::move(found->second);
  subscriptions_.erase(found);
  tally(subscription.space, 0, -1);
  unroute(key, subscription);
}

void ConfigState::tally(const std::string& space, int functions, int subscriptions) {
  auto& counts = tallies_[space];
  counts.functions += functions;
  counts.subscriptions += subscriptions;
  if (counts.functions == 0 && counts.subscriptions == 0) tallies_.erase(space);
  tallies_changed_ = true;
}

void ConfigState::route(const std::string& key, const model::Subscription& subscription) {
  const auto edit = next_.edit_.value();
  if (subscription.is_http()) {
    route_http(subscription);
  } else if (subscription.is_invoke()) {
    const auto function = space_key(subscription.space, subscription.function_id);
    const auto* count = next_.invokable_.find(function);
    next_.invokable_.insert_or_assign(function, count == nullptr ? 1 : *count + 1, edit);
  } else {
    const Subscriber subscriber{subscription.space, subscription.function_id, subscription.subscription_id,
                                subscription.delivery};
    next_.subscribers_.insert_or_assign(space_key(subscription.space, subscription.subscription_id),
                                        subscriber, edit);
    add_subscriber(next_.custom_, event_key(subscription.path, subscription.event), key, subscriber, edit);
    if (is_system_event(subscription.event)) {
      add_subscriber(next_.system_events_, event_key(subscription.space, subscription.event), key, subscriber,
                     edit);
    }
  }
}

void ConfigState::unroute(const std::string& key, const model::Subscription& subscription) {
  const auto edit = next_.edit_.value();
  if (subscription.is_http()) {
    unroute_http(key, subscription);
  } else if (subscription.is_invoke()) {
    const auto function = space_key(subscription.space, subscription.function_id);
    const auto* count = next_.invokable_.find(function);
    if (count == nullptr) return;
    if (*count > 1) {
      next_.invokable_.insert_or_assign(function, *count - 1, edit);
    } else {
      next_.invokable_.erase(function, edit);
    }
  } else {
    next_.subscribers_.erase(space_key(subscription.space, subscription.subscription_id), edit);
    remove_subscriber(next_.custom_, event_key(subscription.path, subscription.event), key, edit);
    if (is_system_event(subscription.event)) {
      remove_subscriber(next_.system_events_, event_key(subscription.space, subscription.event), key, edit);
    }
  }
}

// Adding a path that conflicts with no routed path routes it, exactly as a rebuild in key order
// would; a conflict may route the other path instead, depending on the keys, so it rebuilds.
void ConfigState::route_http(const model::Subscription& subscription) {
  if (methods_to_rebuild_.contains(subscription.method)) return;
  auto rejection = next_.http_routes_[subscription.method].add(subscription.path, http_route(subscription));
  if (!rejection) return;
  if (rejection->reason == PathRejection::Reason::Invalid) {
    // Never routable, and conflicts with nothing.
    spdlog::error("not routing {}: {}", subscription.subscription_id, rejection->message);
    return;
  }
  methods_to_rebuild_.insert(subscription.method);
}

// Removing an unrouted path changes no route. Removing a routed one may let an unrouted path in,
// so it rebuilds when there are any.
void ConfigState::unroute_http(const std::string& key, const model::Subscription& subscription) {
  const auto& method = subscription.method;
  if (methods_to_rebuild_.contains(method)) return;
  const auto unrouted = unrouted_.find(method);
  if (unrouted != unrouted_.end()) {
    if (unrouted->second.erase(key) == 0) methods_to_rebuild_.insert(method);
    if (unrouted->second.empty()) unrouted_.erase(unrouted);
    return;
  }
  const auto tree = next_.http_routes_.find(method);
  if (tree == next_.http_routes_.end()) return;
  tree->second.remove(subscription.path);  // a path never routed (invalid) is not in the tree
  if (tree->second.empty()) next_.http_routes_.erase(tree);
}

// The routes of `method` from scratch, each subscription in key order (what the snapshot holds
// after any sequence of changes, since every other change keeps to that order).
void ConfigState::rebuild_http_routes(const std::string& method) {
  PathTree<HttpRoute> tree;
  std::set<std::string> unrouted;
  for (const auto& [key, subscription] : subscriptions_) {
    if (!subscription.is_http() || subscription.method != method) continue;
    if (auto rejection = tree.add(subscription.path, http_route(subscription))) {
      spdlog::error("not routing {}: {}", subscription.subscription_id, rejection->message);
      if (rejection->reason != PathRejection::Reason::Invalid) unrouted.insert(key);
    }
  }
  if (tree.empty()) {
    next_.http_routes_.erase(method);
  } else {
    next_.http_routes_.insert_or_assign(method, std::move(tree));
  }
  if (unrouted.empty()) {
    unrouted_.erase(method);
  } else {
    unrouted_.insert_or_assign(method, std::move(unrouted));
  }
}

void SnapshotHolder::publish(std::shared_ptr<const RoutingSnapshot> snapshot) {
  {
    std::lock_guard lock(mutex_);
    current_ = std::move(snapshot);
    generation_.fetch_add(1, std::memory_order_release);
  }
  published_.notify_all();
}

std::shared_ptr<const RoutingSnapshot> SnapshotHolder::wait_for_revision(std::int64_t revision,
                                                                         std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!published_.wait_for(lock, timeout, [&] { return current_->revision() >= revision; })) return nullptr;
  return current_;
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
