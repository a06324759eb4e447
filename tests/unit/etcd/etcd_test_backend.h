#pragma once
// The etcd backend of the store suite (tests/unit/store_test.cpp). Every test gets a fresh keyspace
// of its own on the etcd named by EG_ETCD_ENDPOINTS (a comma-separated host:port list), through a
// unique key prefix, so the suite runs on a shared, long-lived etcd. Without EG_ETCD_ENDPOINTS the
// etcd tests are skipped. Included by store_test.cpp, which defines the Backend interface:
//
//   std::unique_ptr<Backend> make_etcd_backend() { return
//   std::make_unique<etcd_test::EtcdTestBackend<Backend>>(); } INSTANTIATE_TEST_SUITE_P(Etcd, StoreTest,
//   ::testing::Values(&make_etcd_backend));

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "store/etcd/etcd_store.h"

namespace eg::store::etcd_test {

inline constexpr const char* kEndpointsVariable = "EG_ETCD_ENDPOINTS";

// The etcd of the tests, or nothing when EG_ETCD_ENDPOINTS is unset or empty.
inline std::optional<std::string> endpoints_from_environment() {
  const char* endpoints = std::getenv(kEndpointsVariable);
  if (endpoints == nullptr || *endpoints == '\0') return std::nullopt;
  return std::string(endpoints);
}

// A key prefix no other test, and no other run of the tests, uses.
inline std::string unique_key_prefix() {
  static std::atomic<int> counter{0};
  static const auto run = std::random_device()();
  return "/eg-test-" + std::to_string(getpid()) + "-" + std::to_string(run) + "-" +
         std::to_string(++counter) + "/";
}

template <typename Backend>
class EtcdTestBackend final : public Backend {
 public:
  EtcdTestBackend() {
    const auto endpoints = endpoints_from_environment();
    if (!endpoints) {
      skip();
      return;
    }
    options_.emplace();
    options_->endpoints = *endpoints;
    options_->key_prefix = unique_key_prefix();
  }

  // Nothing when skipped: the test body does not run then.
  std::unique_ptr<Store> open() override {
    if (!options_) return nullptr;
    return std::make_unique<EtcdStore>(*options_);
  }

 private:
  // GTEST_SKIP returns from the function it is used in; the test fixture's constructor runs this,
  // and googletest then skips the test body.
  static void skip() {
    GTEST_SKIP()
        << kEndpointsVariable << " is not set: start etcd (e.g. etcd --data-dir $(mktemp -d) "
        << "--listen-client-urls http://127.0.0.1:PORT --advertise-client-urls http://127.0.0.1:PORT "
        << "--listen-peer-urls http://127.0.0.1:PEER_PORT) and set it to 127.0.0.1:PORT";
  }

  std::optional<EtcdOptions> options_;
};

}  // namespace eg::store::etcd_test
