// Black-box test harness: a client of one running gateway, for configuration and events.
//
//   blackbox::GatewayClient gw(process);
//   ASSERT_TRUE(gw.add_function("default", "f", upstream.url("/f")));
//   ASSERT_TRUE(gw.subscribe("default", blackbox::http_subscription("f", "GET", "/hello")));
//   ASSERT_TRUE(gw.sync());                       // everything configured so far is routable
//   auto r = gw.emit("/app", "user.created", R"({"a":1})", "application/json", {{"Space", "default"}});
//
// Configuration changes reach the Events API asynchronously (the routing snapshot follows the store),
// so after configuring, a test calls sync(): it creates a probe http subscription (in the space
// "syncprobe", out of the tests' way) and polls until it is routable; snapshots apply the store's
// changes in order, so everything configured before is routable too.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "support/config_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"

namespace blackbox {

class GatewayClient {
 public:
  // With `config_api_key`, every Configuration API request carries it (-config-api-keys).
  explicit GatewayClient(GatewayProcess& process, std::string config_api_key = "")
      : process_(process), config_api_key_(std::move(config_api_key)) {}

  GatewayProcess& process() { return process_; }
  ConfigClient config() const { return ConfigClient(process_.config_url(), config_api_key_); }
  std::string events_url(const std::string& path) const { return process_.events_url() + path; }
  int events_port() const { return process_.events_port(); }

  // Registers an http function; a failure unless it answers 201.
  ::testing::AssertionResult add_function(const std::string& space, const std::string& id,
                                          const std::string& url) const;
  // Creates a subscription; a failure unless it answers 201. `id` receives the subscription id.
  ::testing::AssertionResult subscribe(const std::string& space, const boost::json::object& subscription,
                                       std::string* id = nullptr) const;
  // Waits until everything configured so far is routable (see above).
  ::testing::AssertionResult sync() const;
  // Emits a custom event.
  HttpResponse emit(const std::string& path, const std::string& event, const std::string& body,
                    const std::string& content_type = "application/json", Headers extra = {}) const;

 private:
  GatewayProcess& process_;
  std::string config_api_key_;
};

}  // namespace blackbox
