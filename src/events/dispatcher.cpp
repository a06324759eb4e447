#include "events/dispatcher.h"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/json.h"
#include "common/rate_limited_log.h"

namespace eg::events {
namespace asio = boost::asio;

namespace {

// The function's answer as JSON where it is JSON the gateway may pass on, else as text: what
// system events carry.
boost::json::value result_value(const providers::CallResult& result) {
  auto parsed = common::parse_json(result.body);
  if (parsed.ok()) return std::move(parsed.value);
  return boost::json::string(result.body);
}

}  // namespace

Dispatcher::Dispatcher(asio::io_context& io, routing::SnapshotHolder& snapshots, delivery::Capacity& capacity,
                       const DispatcherOptions& options)
    : reader_(snapshots),
      http_(io, options.http),
      call_context_{http_},
      queue_(io, options.workers, capacity,
             [this](delivery::Delivery delivery) { return deliver(std::move(delivery)); }) {}

bool Dispatcher::publish(std::shared_ptr<const Event> event,
                         const std::vector<routing::Subscriber>& subscribers,
                         std::optional<std::string_view> only_space) {
  if (subscribers.empty()) return true;
  auto payload = std::make_shared<const std::string>(event->serialize());
  std::vector<delivery::Delivery> deliveries;
  deliveries.reserve(subscribers.size());
  const auto& routes = snapshot();
  for (const auto& subscriber : subscribers) {
    if (only_space && subscriber.space != *only_space) continue;
    auto function = routes.share_function(subscriber.space, subscriber.function_id);
    if (!function) {
      spdlog::error("subscriber {}/{} of {} has no function; skipped", subscriber.space,
                    subscriber.function_id, event->name);
      continue;
    }
    deliveries.push_back({std::move(function), event, payload});
  }
  return queue_.try_enqueue(std::move(deliveries));
}

asio::awaitable<providers::CallResult> Dispatcher::call(const providers::CompiledFunction& function,
                                                        const Event& event) {
  const auto payload = event.serialize();
  co_return co_await call_and_report(function, event, payload);
}

asio::awaitable<void> Dispatcher::drain() {
  co_await queue_.drained();
  asio::steady_timer pause(co_await asio::this_coro::executor);
  while (http_.in_flight() > 0) {  // synchronous calls still waiting for their function
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(asio::use_awaitable);
  }
}

bool Dispatcher::wants_system_event(std::string_view space, std::string_view name) {
  return !snapshot().system_event_subscribers(space, name).empty();
}

void Dispatcher::emit_system_event(std::string_view space, std::string_view name, boost::json::object data,
                                   const Provenance& cause) {
  // Pinned: publish() reads the snapshot again, which may move on to a newer one meanwhile.
  const auto routes = pinned_snapshot();
  const auto& subscribers = routes->system_event_subscribers(space, name);
  if (subscribers.empty()) return;
  static common::RateLimitedWarning backlog_full("delivery backlog full: system event not delivered");
  auto event = make_json_event(std::string(name), std::move(data));
  event.provenance = Provenance{.hops = cause.hops, .system_event = std::string(name)};
  if (!publish(std::make_shared<const Event>(std::move(event)), subscribers)) {
    backlog_full.note(fmt::format("{} in space {} to {} subscribers", name, space, subscribers.size()));
  }
}

asio::awaitable<void> Dispatcher::deliver(delivery::Delivery delivery) {
  const auto result = co_await call_and_report(*delivery.function, *delivery.event, *delivery.payload);
  if (!result.ok()) {
    spdlog::warn("delivery of {} {} to {}/{} failed: {}", delivery.event->name, delivery.event->id,
                 delivery.function->function.space, delivery.function->function.function_id, result.error);
  }
}

asio::awaitable<providers::CallResult> Dispatcher::call_and_report(
    const providers::CompiledFunction& compiled, const Event& event, const std::string& payload) {
  const auto& provenance = event.provenance;
  const auto& function = compiled.function;
  const auto& space = function.space;
  const bool report = provenance.reported();
  // System event data copies the event: build it only for events someone subscribed to.
  if (report && wants_system_event(space, "gateway.function.invoking")) {
    emit_system_event(space, "gateway.function.invoking",
                      {{"event", event.to_json()}, {"space", space}, {"functionId", function.function_id}},
                      provenance);
  }
  const providers::CallMarks marks{.hops = provenance.hops + 1, .system_event = provenance.system_event};
  auto result = co_await compiled.call(payload, marks, call_context_);
  if (!report) co_return result;
  if (result.ok() && wants_system_event(space, "gateway.function.invoked")) {
    emit_system_event(space, "gateway.function.invoked",
                      {{"event", event.to_json()},
                       {"space", space},
                       {"functionId", function.function_id},
                       {"result", result_value(result)}},
                      provenance);
  } else if (!result.ok() && wants_system_event(space, "gateway.function.invocationFailed")) {
    emit_system_event(space, "gateway.function.invocationFailed",
                      {{"event", event.to_json()},
                       {"space", space},
                       {"functionId", function.function_id},
                       {"error", result.error}},
                      provenance);
  }
  co_return result;
}

}  // namespace eg::events
