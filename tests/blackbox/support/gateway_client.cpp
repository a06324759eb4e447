#include "support/gateway_client.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "support/json_checks.h"
#include "support/upstream_server.h"

namespace blackbox {
namespace {

using namespace std::chrono_literals;

// Probe paths are unique across every client of the test process.
std::atomic<int> sync_counter{0};

}  // namespace

::testing::AssertionResult GatewayClient::add_function(const std::string& space, const std::string& id,
                                                       const std::string& url) const {
  auto r = config().create_function(space, http_function(id, url));
  if (r.status != 201)
    return ::testing::AssertionFailure()
           << "registering function " << space << "/" << id << ": " << r.describe();
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult GatewayClient::subscribe(const std::string& space,
                                                    const boost::json::object& subscription,
                                                    std::string* id) const {
  auto r = config().create_subscription(space, subscription);
  if (r.status != 201)
    return ::testing::AssertionFailure()
           << "subscribing " << to_json(subscription) << " in " << space << ": " << r.describe();
  if (id) {
    const auto json = r.json();
    const auto* subscription_id = json.is_object() ? json.as_object().if_contains("subscriptionId") : nullptr;
    *id = subscription_id && subscription_id->is_string() ? std::string(subscription_id->as_string()) : "";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult GatewayClient::sync() const {
  const std::string space = "syncprobe";
  auto f = config().create_function(
      space, http_function("probe", "http://127.0.0.1:" + std::to_string(closed_port()) + "/probe"));
  if (f.status != 201 && f.status != 409)
    return ::testing::AssertionFailure() << "registering the sync probe: " << f.describe();
  const std::string path = "/__sync/" + std::to_string(sync_counter++);
  if (auto s = subscribe(space, http_subscription("probe", "GET", path)); !s) return s;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  HttpResponse r;
  while (std::chrono::steady_clock::now() < deadline) {
    r = request("GET", events_url(path));
    if (r.status != 0 && r.status != 404) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(10ms);
  }
  return ::testing::AssertionFailure()
         << "configuration not routable after 5 s: GET " << path << " -> " << r.describe();
}

HttpResponse GatewayClient::emit(const std::string& path, const std::string& event, const std::string& body,
                                 const std::string& content_type, Headers extra) const {
  extra.emplace_back("Event", event);
  extra.emplace_back("Content-Type", content_type);
  return request("POST", events_url(path), body, extra);
}

}  // namespace blackbox
