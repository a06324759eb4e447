#pragma once
// Calls functions for the Events API, one per event-loop thread: synchronously for http and invoke
// events, through the bounded delivery queue for custom events, and reports every stage as a
// system event (README "System Events"):
//   gateway.event.received, gateway.function.invoking, gateway.function.invoked,
//   gateway.function.invocationFailed
// A system event reaches only the subscribers in the space of what it is about: the function's space
// for gateway.function.*, the space the event was routed in for gateway.event.received. Deliveries
// of system events never produce system events themselves, so a subscriber of
// gateway.function.invoked is not told about its own invocations, endlessly; every call carries the
// marks of its event's Provenance (providers::CallMarks), which keep that true across HTTP too.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <string_view>

#include "delivery/delivery_queue.h"
#include "events/event.h"
#include "net/http_client.h"
#include "providers/provider.h"
#include "routing/snapshot.h"

namespace eg::events {

struct DispatcherOptions {
  unsigned workers = 200;  // concurrent asynchronous deliveries on this thread
  net::HttpClientOptions http;
};

class Dispatcher {
 public:
  // `capacity` is shared with the dispatchers of the other threads.
  Dispatcher(boost::asio::io_context& io, routing::SnapshotHolder& snapshots, delivery::Capacity& capacity,
             const DispatcherOptions& options);

  // The routing snapshot as of now; valid until the next call on this thread.
  const routing::RoutingSnapshot& snapshot() { return reader_.current(); }
  // The same, kept alive by the caller, for use across a co_await.
  std::shared_ptr<const routing::RoutingSnapshot> pinned_snapshot() { return reader_.pin(); }

  // Queues a delivery of `event` to every subscriber (only to those in `only_space`, when given);
  // false, queuing nothing, when the backlog cannot take them all.
  bool publish(std::shared_ptr<const Event> event, const std::vector<routing::Subscriber>& subscribers,
               std::optional<std::string_view> only_space = std::nullopt);
  // Calls `function` with `event` and waits for its answer.
  boost::asio::awaitable<providers::CallResult> call(const providers::CompiledFunction& function,
                                                     const Event& event);
  // Whether a system event has subscribers in `space`; data for it need not be built otherwise.
  bool wants_system_event(std::string_view space, std::string_view name);
  // Emits a system event to its subscribers in `space`, if it has any; `cause` is the provenance of
  // what the event reports.
  void emit_system_event(std::string_view space, std::string_view name, boost::json::object data,
                         const Provenance& cause);
  // Completes once every accepted delivery has been made and no call is in flight.
  boost::asio::awaitable<void> drain();

 private:
  boost::asio::awaitable<void> deliver(delivery::Delivery delivery);
  boost::asio::awaitable<providers::CallResult> call_and_report(const providers::CompiledFunction& compiled,
                                                                const Event& event,
                                                                const std::string& payload);

  routing::SnapshotHolder::Reader reader_;
  net::HttpClient http_;
  providers::CallContext call_context_;
  delivery::DeliveryQueue queue_;
};

}  // namespace eg::events
