#include "events/dispatcher.h"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/json.h"

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
                         const std::vector<routing::Subscriber>& subscribers) {
  if (subscribers.empty()) return true;
  const bool is_system_event = event->name.starts_with(kSystemEventPrefix);
  auto payload = std::make_shared<const std::string>(event->serialize());
  std::vector<delivery::Delivery> deliveries;
  deliveries.reserve(subscribers.size());
  const auto& routes = snapshot();
  for (const auto& subscriber : subscribers) {
    auto function = routes.share_function(subscriber.space, subscriber.function_id);
    if (!function) {
      spdlog::error("subscriber {}/{} of {} has no function; skipped", subscriber.space,
                    subscriber.function_id, event->name);
      continue;
    }
    deliveries.push_back({std::move(function), event, payload, is_system_event});
  }
  return queue_.try_enqueue(std::move(deliveries));
}

asio::awaitable<providers::CallResult> Dispatcher::call(const model::Function& function, const Event& event) {
  const auto payload = event.serialize();
  co_return co_await call_and_report(function, event, payload, true);
}

asio::awaitable<void> Dispatcher::drain() {
  co_await queue_.drained();
  asio::steady_timer pause(co_await asio::this_coro::executor);
  while (http_.in_flight() > 0) {  // synchronous calls still waiting for their function
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(asio::use_awaitable);
  }
}

bool Dispatcher::wants_system_event(std::string_view name) {
  return !snapshot().system_event_subscribers(name).empty();
}

void Dispatcher::emit_system_event(std::string_view name, boost::json::object data) {
  // Pinned: publish() reads the snapshot again, which may move on to a newer one meanwhile.
  const auto routes = pinned_snapshot();
  const auto& subscribers = routes->system_event_subscribers(name);
  if (subscribers.empty()) return;
  if (!publish(std::make_shared<const Event>(make_json_event(std::string(name), std::move(data))),
               subscribers)) {
    spdlog::warn("delivery backlog full: system event {} not delivered to its {} subscribers", name,
                 subscribers.size());
  }
}

asio::awaitable<void> Dispatcher::deliver(delivery::Delivery delivery) {
  const auto result = co_await call_and_report(*delivery.function, *delivery.event, *delivery.payload,
                                               !delivery.is_system_event);
  if (!result.ok()) {
    spdlog::warn("delivery of {} {} to {}/{} failed: {}", delivery.event->name, delivery.event->id,
                 delivery.function->space, delivery.function->function_id, result.error);
  }
}

asio::awaitable<providers::CallResult> Dispatcher::call_and_report(const model::Function& function,
                                                                   const Event& event,
                                                                   const std::string& payload, bool report) {
  const auto* provider = providers::find_provider(function.type);
  if (provider == nullptr) {
    co_return providers::CallResult{.outcome = providers::CallResult::Outcome::Unreachable,
                                    .error = "unknown function type " + function.type};
  }
  // System event data copies the event: build it only for events someone subscribed to.
  if (report && wants_system_event("gateway.function.invoking")) {
    emit_system_event("gateway.function.invoking",
                      {{"event", event.to_json()}, {"functionId", function.function_id}});
  }
  auto result = co_await provider->call(function, payload, call_context_);
  if (!report) co_return result;
  if (result.ok() && wants_system_event("gateway.function.invoked")) {
    emit_system_event(
        "gateway.function.invoked",
        {{"event", event.to_json()}, {"functionId", function.function_id}, {"result", result_value(result)}});
  } else if (!result.ok() && wants_system_event("gateway.function.invocationFailed")) {
    emit_system_event(
        "gateway.function.invocationFailed",
        {{"event", event.to_json()}, {"functionId", function.function_id}, {"error", result.error}});
  }
  co_return result;
}

}  // namespace eg::events
