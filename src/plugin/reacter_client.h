#pragma once
// A gRPC client of one plugin's Reacter service (proto/plugin/v1/reacter.proto), behind an interface
// without gRPC types: the implementation lives in the plugin module (libeventgateway_plugin.so,
// cmake/plugin.cmake), which the gateway loads only when -plugin is given, so that a gateway
// without plugins never maps gRPC (as for the etcd store, src/store/etcd/etcd_module.h).
//
// Calls never block: each completes by calling `done` once, on one of gRPC's threads, also when the
// deadline passes or the plugin is gone. The client may be destroyed with calls in flight; their
// `done` still runs.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace eg::plugin {

struct RpcFailure {
  std::string message;  // gRPC's status code and message
  bool deadline_exceeded = false;
};

struct ReactReply {
  std::string error;
  std::int32_t status_code = 0;
  std::string data;
};
struct ReactResult {
  std::optional<RpcFailure> failure;
  ReactReply reply;  // when it did not fail
};

struct Subscription {
  std::string event_type;
  bool sync = false;
};
struct SubscriptionsResult {
  std::optional<RpcFailure> failure;
  std::vector<Subscription> subscriptions;
};

class ReacterClient {
 public:
  using Deadline = std::chrono::system_clock::time_point;
  virtual ~ReacterClient() = default;

  virtual void subscriptions(Deadline deadline, std::function<void(SubscriptionsResult)> done) = 0;
  virtual void react(std::string event_type, std::string event, Deadline deadline,
                     std::function<void(ReactResult)> done) = 0;
};

}  // namespace eg::plugin
