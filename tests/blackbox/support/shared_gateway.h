// Black-box test harness: a fixture whose tests share one gateway, started once for the suite.
//
//   class MyApiTest : public blackbox::SharedGatewayTest<MyApiTest> {};
//   TEST_F(MyApiTest, Something) {
//     auto r = blackbox::request("GET", gateway().config_url() + "/v1/spaces/" + space_ + "/functions");
//   }
//
// The gateway starts in SetUpTestSuite and is stopped with SIGTERM in TearDownTestSuite, where it must exit
// 0. Tests isolate themselves by naming what they configure after themselves: `space_` is the test's name and
// `prefix_` is "/<test name>", for paths (http endpoints and custom event paths are global to a gateway).
// A test that finds the gateway dead (it died in an earlier test, which was marked failed) restarts it; a
// test during which it dies fails.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/gateway_process.h"

namespace blackbox {

// The name of the running test (without its suite).
inline std::string test_name() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

// `Suite` is the deriving fixture itself: it gives every suite a gateway of its own.
template <typename Suite>
class SharedGatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = std::make_unique<GatewayProcess>();
    if (auto r = gateway_->start(); !r) {
      ADD_FAILURE() << "could not start event-gateway: " << r.message();
      gateway_.reset();
    }
  }

  static void TearDownTestSuite() {
    if (!gateway_) return;
    EXPECT_TRUE(gateway_->stop());
    EXPECT_EQ(gateway_->exit_code(), 0) << "event-gateway exit code after SIGTERM";
    gateway_.reset();
  }

  // A fixture that adds its own SetUp calls this one first:
  // ASSERT_NO_FATAL_FAILURE(SharedGatewayTest::SetUp()).
  void SetUp() override {
    ASSERT_NE(gateway_, nullptr) << "the shared event-gateway did not start";
    if (!gateway_->running()) {
      // It died in an earlier test (which was marked failed); give this test a working gateway.
      ASSERT_TRUE(gateway_->restart());
    }
    space_ = test_name();
    prefix_ = "/" + test_name();
  }

  void TearDown() override {
    if (gateway_ && !gateway_->running())
      ADD_FAILURE() << "event-gateway died during this test, exit code "
                    << gateway_->exit_code().value_or(-1);
  }

  // The shared gateway (running once SetUp has succeeded).
  static GatewayProcess& gateway() { return *gateway_; }

  std::string space_;
  std::string prefix_;

 private:
  static inline std::unique_ptr<GatewayProcess> gateway_;
};

}  // namespace blackbox
