#pragma once
// A gRPC client of one plugin's Reacter service (proto/plugin/v1/reacter.proto), behind an interface
// without gRPC types: the implementation lives in the plugin module (libeventgateway_plugin.so,
// cmake/plugin.cmake), which the gateway loads only when -plugin is given, so that a gateway
// without plugins never maps gRPC (as for the etcd store, src/store/etcd/etcd_module.h).
//
// Calls never block: each completes by calling `done` once, on one of gRPC's threads, also when the
// deadline passes or the plugin is gone (but see react()). The client may be destroyed with calls in
// flight; their `done` still runs.
//
// Each Events API thread has a client (and so a channel and a connection) of its own: threads that
// share one HTTP/2 connection contend for it, and gRPC then hands their work to its executor thread.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
  bool notify_stream = false;  // the plugin implements Notify
  bool react_stream = false;   // the plugin implements ReactStream
};

// What a client is made with (eg_connect_reacter).
struct ReacterSettings {
  std::string grpc_target;  // "unix:/tmp/plugin1", "ipv4:127.0.0.1:41235"
  // The deadline of each React call that carries an async event.
  std::chrono::milliseconds call_timeout{1000};
  // Async events queued or being sent, at most; notify() refuses those beyond.
  std::size_t notice_queue = 4096;
  // The plugin implements Notify and ReactStream (its Subscriptions answer said so).
  bool notify_stream = false;
  bool react_stream = false;
  // Counts every call and stream gRPC holds, so that the gateway can wait for the last completion.
  std::atomic<std::int64_t>* calls_in_flight = nullptr;
  // Called on one of gRPC's threads when async events could not be delivered: how many, and why.
  std::function<void(std::size_t lost, const std::string& why)> notices_lost;
};

class ReacterClient {
 public:
  using Deadline = std::chrono::system_clock::time_point;
  virtual ~ReacterClient() = default;

  virtual void subscriptions(Deadline deadline, std::function<void(SubscriptionsResult)> done) = 0;
  // A sync call. With a ReactStream (react_stream), queued until flush_calls(), and `done` may never
  // run for a call past its deadline: the caller keeps the deadline (completion_within). Without,
  // one React call, at once, which gRPC ends at the deadline.
  virtual void react(std::string event_type, std::string event, Deadline deadline,
                     std::function<void(ReactResult)> done) = 0;
  // Writes the sync calls queued, in one message, unless a write is in progress (it then writes them
  // when it is done).
  virtual void flush_calls() = 0;

  // Async events, never waited for. With a Notify stream (notify_stream), queued until a message is
  // full or flush_notices(), then sent in order, many per message; without, one React call each, at once, at most notice_queue in
  // flight. False when the queue is full: the event is not queued.
  virtual bool notify(std::string_view event_type, std::string event) = 0;
  // Starts writing the async events queued, unless a write is in progress; true while events are
  // queued or being written, so that the caller flushes again a little later. Each flush is one
  // message.
  virtual bool flush_notices() = 0;
  // No more async events: notify() refuses them, and the Notify stream ends once what was queued has
  // been written. Also when the client is destroyed; the host calls it when the plugin's process has
  // exited or is stopped, as an Events API thread may hold the client until its next request.
  virtual void close() = 0;
};

}  // namespace eg::plugin
