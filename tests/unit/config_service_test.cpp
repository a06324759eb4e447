// The configuration service's conflict check of http endpoints: against this instance's routing
// snapshot when it can, against every endpoint in the store when the snapshot cannot be trusted.
// The races between two instances on one etcd are in tests/blackbox/cluster_test.cpp.

#include "config/config_service.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <system_error>

#include "common/temporary_directory.h"
#include "config/errors.h"
#include "model/identifiers.h"
#include "routing/config_watcher.h"
#include "store/keys.h"
#include "store/sqlite_store.h"

namespace eg::config {
namespace {

using namespace std::chrono_literals;

using testsupport::TemporaryDirectory;

// Forwards to a store and counts the reads of every endpoint of a method: the O(n) conflict check. A
// test may point it at another store under a live service, as etcd restored from an older backup.
class CountingStore : public store::Store {
 public:
  explicit CountingStore(store::Store& inner) : inner_(&inner) {}
  void point_at(store::Store& inner) { inner_ = &inner; }

  store::RangeResult get(const std::string& key) override { return inner_->get(key); }
  store::RangeResult get_prefix(const std::string& prefix) override {
    if (prefix.starts_with(std::string(store::keys::kRoot) + "endpoints/")) ++endpoint_reads;
    return inner_->get_prefix(prefix);
  }
  store::TxnResult txn(const store::TxnRequest& request) override { return inner_->txn(request); }
  std::unique_ptr<store::WatchHandle> watch_prefix(const std::string& prefix, std::int64_t start_revision,
                                                   store::WatchCallback on_events,
                                                   store::WatchErrorCallback on_error) override {
    return inner_->watch_prefix(prefix, start_revision, std::move(on_events), std::move(on_error));
  }
  void compact(std::int64_t revision) override { inner_->compact(revision); }
  std::string describe() const override { return inner_->describe(); }

  std::atomic<int> endpoint_reads{0};

 private:
  store::Store* inner_;
};

model::Function http_function(const std::string& space) {
  return {.space = space, .function_id = "f", .type = "http", .provider = {{"url", "http://127.0.0.1/"}}};
}

model::Subscription http_subscription(const std::string& path, const std::string& space = "default") {
  model::Subscription subscription{.space = space, .event = "http", .function_id = "f"};
  subscription.path = path;
  subscription.method = "GET";
  subscription.subscription_id = model::http_subscription_id(subscription.method, path);
  return subscription;
}

// The kind of ConfigError `call` throws, or nothing.
std::optional<ConfigError::Kind> error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const ConfigError& error) {
    return error.kind();
  }
  return std::nullopt;
}

class ConfigServiceEndpoints : public testing::Test {
 protected:
  // Routes every write once the store's watch delivers it, as the gateway does.
  void follow_the_store() {
    watcher_ = std::make_unique<routing::ConfigWatcher>(store_, routes_);
    watcher_->start();
  }

  // Waits until the routes show everything written so far, so that a test does not depend on how
  // fast the watch is (the service waits only for its own writes, and for a bounded time).
  void wait_for_routes() {
    const auto written = store_.get(std::string(store::keys::kRoot)).revision;
    ASSERT_NE(routes_.wait_for_revision(written, 30s), nullptr);
  }

  // Routes as of now, whatever is written afterwards: a watch lagging behind the store.
  void freeze_routes_now() { freeze_routes_of(store_); }

  // Routes as of now in `store`.
  void freeze_routes_of(store::Store& store) {
    routing::ConfigState state;
    state.reset(store.get_prefix(std::string(store::keys::kRoot)));
    routes_.publish(state.build());
  }

  // Eleven revisions in `store`: more than a test then writes to store_, which stands for the same
  // etcd restored from an older backup.
  static void write_a_longer_history(store::Store& store) {
    ConfigService writer(store);
    writer.register_function(http_function("default"));
    for (int i = 0; i < 10; ++i)
      writer.create_subscription(http_subscription("/before/" + std::to_string(i)));
  }

  std::string endpoint_owner(const std::string& path) {
    const auto found = store_.get(store::keys::endpoint("GET", path));
    return found.kvs.empty() ? "<none>" : found.kvs.front().value;
  }

  TemporaryDirectory directory_;
  store::SqliteStore store_{directory_.path()};
  CountingStore counted_{store_};
  routing::SnapshotHolder routes_;
  std::unique_ptr<routing::ConfigWatcher> watcher_;
};

TEST_F(ConfigServiceEndpoints, NewPathsAreCheckedAgainstTheRoutesWithoutReadingEveryEndpoint) {
  follow_the_store();
  ConfigService service(counted_, &routes_);
  service.register_function(http_function("default"));
  service.register_function(http_function("other"));
  for (int i = 0; i < 50; ++i) {
    wait_for_routes();
    service.create_subscription(http_subscription("/r/" + std::to_string(i)));
  }
  EXPECT_EQ(counted_.endpoint_reads, 0);

  // Refusals are confirmed against the store, where the conflicting endpoint may be gone.
  wait_for_routes();
  EXPECT_EQ(error_of([&] { service.create_subscription(http_subscription("/r/:id")); }), ConfigError::Kind::Invalid);
  EXPECT_EQ(error_of([&] { service.create_subscription(http_subscription("/r/7", "other")); }),
            ConfigError::Kind::AlreadyExists);
  EXPECT_EQ(counted_.endpoint_reads, 2);
  EXPECT_EQ(endpoint_owner("/r/:id"), "<none>");
}

TEST_F(ConfigServiceEndpoints, AnEndpointTheRoutesHaveNotSeenFailsTheGuardAndIsFoundInTheStore) {
  ConfigService other_instance(store_);
  other_instance.register_function(http_function("default"));
  freeze_routes_now();
  other_instance.create_subscription(http_subscription("/users/:id"));

  ConfigService service(counted_, &routes_);
  EXPECT_EQ(error_of([&] { service.create_subscription(http_subscription("/users/:name")); }),
            ConfigError::Kind::Invalid);
  EXPECT_EQ(endpoint_owner("/users/:name"), "<none>");
  // A path that conflicts with nothing still fails the guard once, then succeeds from the store.
  EXPECT_EQ(error_of([&] { service.create_subscription(http_subscription("/other")); }), std::nullopt);
  EXPECT_NE(endpoint_owner("/other"), "<none>");
  EXPECT_EQ(counted_.endpoint_reads, 2);
}

TEST_F(ConfigServiceEndpoints, ARefusalByRoutesThatMissADeleteIsOverruledByTheStore) {
  ConfigService other_instance(store_);
  other_instance.register_function(http_function("default"));
  other_instance.create_subscription(http_subscription("/users/:id"));
  freeze_routes_now();
  other_instance.delete_subscription("default", model::http_subscription_id("GET", "/users/:id"));

  ConfigService service(counted_, &routes_);
  EXPECT_EQ(error_of([&] { service.create_subscription(http_subscription("/users/:name")); }), std::nullopt);
  EXPECT_NE(endpoint_owner("/users/:name"), "<none>");
  EXPECT_EQ(counted_.endpoint_reads, 1);
}

TEST_F(ConfigServiceEndpoints, WithoutRoutesEveryCreationReadsTheEndpoints) {
  ConfigService service(counted_);
  service.register_function(http_function("default"));
  for (const char* path : {"/a", "/b/:id", "/c/*rest"}) service.create_subscription(http_subscription(path));
  EXPECT_EQ(error_of([&] { service.create_subscription(http_subscription("/b/:name")); }),
            ConfigError::Kind::Invalid);
  EXPECT_EQ(counted_.endpoint_reads, 4);
}

// Routes from before a rewind are ahead of the store: their revision says nothing about what the store
// claimed since, so the guard built on it would let a conflicting endpoint in.
TEST_F(ConfigServiceEndpoints, RoutesAheadOfARewoundStoreAreNotTrusted) {
  TemporaryDirectory before_directory;
  store::SqliteStore before(before_directory.path());
  write_a_longer_history(before);
  freeze_routes_of(before);
  ConfigService other_instance(store_);
  other_instance.register_function(http_function("default"));
  other_instance.create_subscription(http_subscription("/users/:id"));

  ConfigService service(counted_, &routes_);
  EXPECT_EQ(error_of([&] { service.create_subscription(http_subscription("/users/:name")); }),
            ConfigError::Kind::Invalid);
  EXPECT_EQ(endpoint_owner("/users/:name"), "<none>");
}

// The revision of a write before the rewind is one the store will not reach for a while: waiting for
// routes to show it would hold every creation for the whole wait and then read every endpoint.
TEST_F(ConfigServiceEndpoints, AfterARewindCreationsWaitForTheirOwnWritesOnly) {
  TemporaryDirectory before_directory;
  store::SqliteStore before(before_directory.path());
  write_a_longer_history(before);
  counted_.point_at(before);
  ConfigService service(counted_, &routes_);
  service.register_function(http_function("other"));  // the service's last write before the rewind

  counted_.point_at(store_);
  follow_the_store();
  service.register_function(http_function("default"));
  wait_for_routes();
  EXPECT_EQ(error_of([&] { service.create_subscription(http_subscription("/after")); }), std::nullopt);
  EXPECT_EQ(counted_.endpoint_reads, 0);
}

}  // namespace
}  // namespace eg::config
